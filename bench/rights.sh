#!/usr/bin/env bash
# Rights-check throughput and latency against a reference (nginx serving a static file of the
# same size as a rights-check response), same wrk settings, same run.
#   bench/rights.sh path/to/opentp [BENEFICIARIES] [DURATION]
# Default: 1,000,000 beneficiaries, 20 s per run, wrk -t1 -c64.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$(realpath "$1"); n=${2:-1000000}; dur=${3:-20}
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
"$bin" serve --data "$plat" --listen "127.0.0.1:$port" --threads 2 --access-log "$out/access.log" \
  --exit-after $((dur * 3 + 60)) &
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
echo "== warm-up"
wrk -t1 -c64 -d3s -s "$here/rights.lua" "http://127.0.0.1:$port" >/dev/null
echo "== opentp: POST /api/v1/rights/check, wrk -t1 -c64 -d${dur}s"
wrk -t1 -c64 -d"${dur}s" --latency -s "$here/rights.lua" "http://127.0.0.1:$port" | tee "$out/wrk-opentp.txt"
echo "== nginx: GET static ${size}-byte file, wrk -t1 -c64 -d${dur}s"
wrk -t1 -c64 -d"${dur}s" --latency -s "$here/static.lua" "http://127.0.0.1:$nport" | tee "$out/wrk-nginx.txt"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^opentp_(rights_checks_total|store_batch)' >"$out/metrics.txt" || true

o=$(wrk_rps "$out/wrk-opentp.txt"); r=$(wrk_rps "$out/wrk-nginx.txt")
echo
bench_machine
printf "%-8s %12s %10s %10s\n" "server" "req/s" "p50 (us)" "p99 (us)"
printf "%-8s %12s %10s %10s\n" opentp "$o" "$(wrk_p "$out/wrk-opentp.txt" p50_us)" "$(wrk_p "$out/wrk-opentp.txt" p99_us)"
printf "%-8s %12s %10s %10s\n" nginx "$r" "$(wrk_p "$out/wrk-nginx.txt" p50_us)" "$(wrk_p "$out/wrk-nginx.txt" p99_us)"
echo "ratio opentp/nginx: $(python3 -c "print(round($o/$r, 3))")  (target >= 0.5; p99 target <= 5000 us)"
echo "response size: $size bytes; non-2xx: $(grep -c . /dev/null; awk '/Non-2xx/{print $5}' "$out/wrk-opentp.txt")"
cat "$out/metrics.txt"
