#!/usr/bin/env bash
# Rights-check throughput and latency against a reference: nginx serving a static file of the
# same size as a rights-check response, with the same wrk settings, in the same run.
#   bench/rights.sh path/to/opentp [BENEFICIARIES] [DURATION] [ROUNDS]
# Default: 1,000,000 beneficiaries, 20 s per run, 3 rounds alternating opentp and nginx,
# wrk -t1 -c64. Every rights check is durable before its response (engagement + access event
# committed and fsynced), so the figure depends on the disk's fsync latency: the script
# reports the fsync latency observed by the server in each round.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$(realpath "$1"); n=${2:-1000000}; dur=${3:-20}; rounds=${4:-3}
out="$here/out"; mkdir -p "$out"
plat="$out/platform-$n"
if [ ! -f "$plat/demo.json" ]; then
  rm -rf "$plat"
  echo "== creating a platform with $n beneficiaries"
  /usr/bin/time -f "demo: %e s, peak RSS %M KB" "$bin" demo --data "$plat" --beneficiaries "$n"
fi
token=$(awk '$1=="PHARMACIE"{print $3; exit}' "$plat/demo.txt")
"$bin" cards --data "$plat" --count 100000 --out "$out/cards.jsonl"
port=$(free_port)
# Detection off: one token drawing random cards as fast as it can is a scraper by design.
"$bin" serve --data "$plat" --detection off --listen "127.0.0.1:$port" --threads 2 --access-log "$out/access.log" \
  --exit-after $((dur * rounds * 2 + 120)) &
spid=$!
trap 'kill $spid 2>/dev/null || true; stop_nginx "$out/nginx"' EXIT
wait_port "$port"

# A response of the real size, for the reference.
sample=$(head -1 "$out/cards.jsonl")
curl -s -o "$out/response.json" -H "Authorization: Bearer $token" -d "$sample" \
  "http://127.0.0.1:$port/api/v1/rights/check"
size=$(stat -c %s "$out/response.json")
mkdir -p "$out/nginx/www"; cp "$out/response.json" "$out/nginx/www/response.json"
nport=$(free_port)
start_nginx "$out/nginx" "$nport"
wait_port "$nport"

export OPENTP_TOKEN=$token OPENTP_CARDS="$out/cards.jsonl"
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v k="$1" '$1==k{print $2}'; }
echo "== warm-up"
wrk -t1 -c64 -d3s -s "$here/rights.lua" "http://127.0.0.1:$port" >/dev/null
: >"$out/rounds.txt"
for r in $(seq "$rounds"); do
  s0=$(metric opentp_store_syncs_total); t0=$(metric opentp_store_sync_seconds_total)
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/rights.lua" "http://127.0.0.1:$port" >"$out/wrk-opentp-$r.txt"
  s1=$(metric opentp_store_syncs_total); t1=$(metric opentp_store_sync_seconds_total)
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/static.lua" "http://127.0.0.1:$nport" >"$out/wrk-nginx-$r.txt"
  o=$(wrk_rps "$out/wrk-opentp-$r.txt"); x=$(wrk_rps "$out/wrk-nginx-$r.txt")
  fs=$(python3 -c "print(round(($t1-$t0)/max(1,$s1-$s0)*1e6))")
  bad=$(awk '/Non-2xx/{print $5}' "$out/wrk-opentp-$r.txt"); bad=${bad:-0}
  echo "$r $o $(wrk_p "$out/wrk-opentp-$r.txt" p50_us) $(wrk_p "$out/wrk-opentp-$r.txt" p99_us) $x $(wrk_p "$out/wrk-nginx-$r.txt" p50_us) $(wrk_p "$out/wrk-nginx-$r.txt" p99_us) $fs $bad" >>"$out/rounds.txt"
done
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^opentp_(rights_checks_total|store_)' >"$out/metrics.txt" || true

echo
bench_machine
echo "response size: $size bytes; wrk -t1 -c64 -d${dur}s; $n beneficiaries"
printf "%-6s %10s %9s %9s %10s %9s %9s %7s %9s %8s\n" round "opentp/s" "p50 us" "p99 us" "nginx/s" "p50 us" "p99 us" ratio "fsync us" "non-2xx"
while read -r r o op50 op99 x xp50 xp99 fs bad; do
  printf "%-6s %10s %9s %9s %10s %9s %9s %7s %9s %8s\n" "$r" "$o" "$op50" "$op99" "$x" "$xp50" "$xp99" \
    "$(python3 -c "print(round($o/$x,3))")" "$fs" "$bad"
done <"$out/rounds.txt"
python3 - "$out/rounds.txt" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ratios = [float(r[1]) / float(r[4]) for r in rows]
print("median ratio opentp/nginx: %.3f (target >= 0.5); median opentp p99: %s us (target <= 5000)"
      % (statistics.median(ratios), statistics.median(int(r[3]) for r in rows)))
PY
echo "(non-2xx: card data of the sample that matches no single beneficiary; see docs/BENCHMARKS.md)"
cat "$out/metrics.txt"
