#!/usr/bin/env bash
# Claims throughput and latency through the API, end to end and durable, against a reference:
# nginx serving a static file of the size of a claim's response, with the same wrk settings,
# in the same run.
#   bench/claims.sh path/to/opentp [BENEFICIARIES] [DURATION] [ROUNDS]
# Default: 100,000 beneficiaries, 20 s per run, 3 rounds alternating opentp and nginx,
# wrk -t1 -c64. Every claim is a new invoice (one pharmacy line, card data drawn at random):
# card lookup by blind index, then in the group-commit writer the idempotency check, the
# contract's guarantees, the beneficiary's counters, the benefits engine, the claim, its line,
# the counters and the access event, committed and fsynced before the response (docs/CLAIMS.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$(realpath "$1"); n=${2:-100000}; dur=${3:-20}; rounds=${4:-3}
out="$here/out/claims"; mkdir -p "$out"
plat="$out/platform-$n"
if [ ! -f "$plat/demo.json" ]; then
  rm -rf "$plat"
  echo "== creating a platform with $n beneficiaries"
  /usr/bin/time -f "demo: %e s, peak RSS %M KB" "$bin" demo --data "$plat" --beneficiaries "$n"
fi
token=$(awk '$1=="PHARMACIE"{print $3; exit}' "$plat/demo.txt")
"$bin" cards --data "$plat" --count 100000 --out "$out/cards.jsonl"
# Claim bodies without their invoice: 2 boxes of a 65 % medicine, 3.50 EUR each.
jq -c '{date, card: ({amc, member, nir, birth_date, birth_rank} | with_entries(select(.value != null))),
        lines: [{code: "PH7", quantity: 2, unit_price_cents: 350, br_cents: 350}], total_cents: 700}' \
  "$out/cards.jsonl" >"$out/claims.jsonl"
port=$(free_port)
# Detection off: one token billing random patients as fast as it can is not a pharmacy.
"$bin" serve --data "$plat" --detection off --listen "127.0.0.1:$port" --threads 2 --access-log "$out/access.log" \
  --exit-after $((dur * rounds * 2 + 120)) &
spid=$!
trap 'kill $spid 2>/dev/null || true; stop_nginx "$out/nginx"' EXIT
wait_port "$port"

# A response of the real size, for the reference.
sample=$(head -1 "$out/claims.jsonl")
curl -s -o "$out/response.json" -H "Authorization: Bearer $token" \
  -d "{\"invoice\":\"SAMPLE-$(date +%s%N)\",${sample:1}" "http://127.0.0.1:$port/api/v1/claims"
size=$(stat -c %s "$out/response.json")
mkdir -p "$out/nginx/www"; cp "$out/response.json" "$out/nginx/www/response.json"
nport=$(free_port)
start_nginx "$out/nginx" "$nport"
wait_port "$nport"

export OPENTP_TOKEN=$token OPENTP_CLAIMS="$out/claims.jsonl"
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v k="$1" '$1==k{print $2}'; }
echo "== warm-up"
wrk -t1 -c64 -d3s -s "$here/claims.lua" "http://127.0.0.1:$port" >/dev/null
: >"$out/rounds.txt"
for r in $(seq "$rounds"); do
  s0=$(metric opentp_store_syncs_total); t0=$(metric opentp_store_sync_seconds_total)
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/claims.lua" "http://127.0.0.1:$port" >"$out/wrk-opentp-$r.txt"
  s1=$(metric opentp_store_syncs_total); t1=$(metric opentp_store_sync_seconds_total)
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/static.lua" "http://127.0.0.1:$nport" >"$out/wrk-nginx-$r.txt"
  o=$(wrk_rps "$out/wrk-opentp-$r.txt"); x=$(wrk_rps "$out/wrk-nginx-$r.txt")
  fs=$(python3 -c "print(round(($t1-$t0)/max(1,$s1-$s0)*1e6))")
  bad=$(awk '/Non-2xx/{print $5}' "$out/wrk-opentp-$r.txt"); bad=${bad:-0}
  echo "$r $o $(wrk_p "$out/wrk-opentp-$r.txt" p50_us) $(wrk_p "$out/wrk-opentp-$r.txt" p99_us) $x $(wrk_p "$out/wrk-nginx-$r.txt" p50_us) $(wrk_p "$out/wrk-nginx-$r.txt" p99_us) $fs $bad" >>"$out/rounds.txt"
done
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^opentp_store_' >"$out/metrics.txt" || true
claims=$(sqlite3 -cmd '.timeout 5000' "$plat/opentp.db" "SELECT count(*) FROM claim")

echo
bench_machine
echo "response size: $size bytes; wrk -t1 -c64 -d${dur}s; $n beneficiaries; $claims claims in the database"
printf "%-6s %10s %9s %9s %10s %9s %9s %7s %9s %8s\n" round "claims/s" "p50 us" "p99 us" "nginx/s" "p50 us" "p99 us" ratio "fsync us" "non-2xx"
while read -r r o op50 op99 x xp50 xp99 fs bad; do
  printf "%-6s %10s %9s %9s %10s %9s %9s %7s %9s %8s\n" "$r" "$o" "$op50" "$op99" "$x" "$xp50" "$xp99" \
    "$(python3 -c "print(round($o/$x,3))")" "$fs" "$bad"
done <"$out/rounds.txt"
python3 - "$out/rounds.txt" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print("median claims/s: %.0f (target >= 5000); median ratio opentp/nginx: %.3f; median p99: %s us"
      % (statistics.median(float(r[1]) for r in rows),
         statistics.median(float(r[1]) / float(r[4]) for r in rows),
         statistics.median(int(r[3]) for r in rows)))
PY
echo "(non-2xx: card data of the sample that matches no single beneficiary, or a beneficiary whose"
echo " contract does not open tiers payant for pharmacy)"
cat "$out/metrics.txt"
