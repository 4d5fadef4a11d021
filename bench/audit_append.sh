#!/usr/bin/env bash
# The access log under load: rights checks with the log (every check's event durable in the
# log before its answer) and without it (a benchmark copy of the same platform whose events
# are dropped: `serve --bench-without-access-log`, refused on a platform without the
# BENCHMARK marker), in the same run, alternating rounds; nginx's static file as the usual
# reference. Every rights check appends exactly one event, so the rate with the log is the
# sustained append rate.
#   bench/audit_append.sh path/to/opentp [BENEFICIARIES] [DURATION] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$(realpath "$1"); n=${2:-1000000}; dur=${3:-20}; rounds=${4:-3}
out="$here/out"; mkdir -p "$out"
plat="$out/platform-$n"
if [ ! -f "$plat/demo.json" ]; then
  rm -rf "$plat"
  "$bin" demo --data "$plat" --beneficiaries "$n"
fi
nolog="$out/platform-$n-nolog"
rm -rf "$nolog" && cp -a "$plat" "$nolog" && rm -rf "$nolog/audit" && touch "$nolog/BENCHMARK"
token=$(awk '$1=="PHARMACIE"{print $3; exit}' "$plat/demo.txt")
[ -f "$out/cards.jsonl" ] || "$bin" cards --data "$plat" --count 100000 --out "$out/cards.jsonl"
pa=$(free_port)
"$bin" serve --data "$plat" --detection off --listen "127.0.0.1:$pa" --threads 2 --access-log off \
  --exit-after $((dur * rounds * 3 + 120)) 2>"$out/serve-log.err" &
sa=$!
pb=$(free_port)
"$bin" serve --data "$nolog" --detection off --bench-without-access-log --listen "127.0.0.1:$pb" \
  --threads 2 --access-log off --exit-after $((dur * rounds * 3 + 120)) 2>"$out/serve-nolog.err" &
sb=$!
trap 'kill $sa $sb 2>/dev/null || true; stop_nginx "$out/nginx"' EXIT
wait_port "$pa"; wait_port "$pb"
mkdir -p "$out/nginx/www"
curl -s -o "$out/nginx/www/response.json" -H "Authorization: Bearer $token" -d "$(head -1 "$out/cards.jsonl")" \
  "http://127.0.0.1:$pa/api/v1/rights/check"
np=$(free_port); start_nginx "$out/nginx" "$np"; wait_port "$np"
export OPENTP_TOKEN=$token OPENTP_CARDS="$out/cards.jsonl"
wrk -t1 -c64 -d3s -s "$here/rights.lua" "http://127.0.0.1:$pa" >/dev/null
wrk -t1 -c64 -d3s -s "$here/rights.lua" "http://127.0.0.1:$pb" >/dev/null
: >"$out/append-rounds.txt"
for r in $(seq "$rounds"); do
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/rights.lua" "http://127.0.0.1:$pa" >"$out/wrk-log-$r.txt"
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/rights.lua" "http://127.0.0.1:$pb" >"$out/wrk-nolog-$r.txt"
  wrk -t1 -c64 -d"${dur}s" --latency -s "$here/static.lua" "http://127.0.0.1:$np" >"$out/wrk-nginx-a-$r.txt"
  echo "$r $(wrk_rps "$out/wrk-log-$r.txt") $(wrk_p "$out/wrk-log-$r.txt" p99_us) $(wrk_rps "$out/wrk-nolog-$r.txt") $(wrk_p "$out/wrk-nolog-$r.txt" p99_us) $(wrk_rps "$out/wrk-nginx-a-$r.txt")" >>"$out/append-rounds.txt"
done
echo
bench_machine
echo "wrk -t1 -c64 -d${dur}s; $n beneficiaries; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-6s %12s %9s %12s %9s %10s %12s\n" round "with log/s" "p99 us" "without/s" "p99 us" "nginx/s" "with/without"
while read -r r a ap b bp x; do
  printf "%-6s %12s %9s %12s %9s %10s %12s\n" "$r" "$a" "$ap" "$b" "$bp" "$x" "$(python3 -c "print(round($a/$b,3))")"
done <"$out/append-rounds.txt"
python3 - "$out/append-rounds.txt" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
a = statistics.median(float(r[1]) for r in rows); b = statistics.median(float(r[3]) for r in rows)
print("median: %.0f checks/s with the log (= events appended/s, each durable before its answer), "
      "%.0f without; ratio %.3f" % (a, b, a / b))
PY
"$bin" audit verify --data "$plat" | tail -1
