#!/usr/bin/env bash
# Sign-in cost and its effect on rights checks.
#   bench/login.sh path/to/opentp [BENEFICIARIES] [DURATION]
# 1. sign-ins alone (argon2id with the shipped parameters, one hashing thread): rate, p50/p99;
# 2. rights checks alone (wrk -t1 -c64), then the same with a concurrent flood of sign-ins
#    (wrk -t1 -c16), in the same run: the flood must not more than double the rights p99.
# The per-address login rate limit is lifted for the run (--login-ip-interval-ms 1) so that
# every sign-in really hashes: the worst case for the rights checks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$(realpath "$1"); n=${2:-100000}; dur=${3:-15}
out="$here/out"; mkdir -p "$out"
plat="$out/platform-$n"
if [ ! -f "$plat/demo.json" ]; then
  rm -rf "$plat"
  "$bin" demo --data "$plat" --beneficiaries "$n" >/dev/null
fi
token=$(awk '$1=="PHARMACIE"{print $3; exit}' "$plat/demo.txt")
login=$(awk '$1=="member" && $2=="login"{print $3; exit}' "$plat/demo.txt")
"$bin" cards --data "$plat" --count 20000 --out "$out/cards-login.jsonl"
port=$(free_port)
"$bin" serve --data "$plat" --listen "127.0.0.1:$port" --threads 2 --access-log off \
  --login-ip-interval-ms 1 --login-ip-burst 1000000 --exit-after $((dur * 4 + 60)) &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT
wait_port "$port"
export OPENTP_TOKEN=$token OPENTP_CARDS="$out/cards-login.jsonl"
export OPENTP_LOGIN=$login OPENTP_PASSWORD=Demo-Tiers-Payant-2026
url="http://127.0.0.1:$port"

wrk -t1 -c16 -d"${dur}s" --latency -s "$here/login.lua" "$url" >"$out/wrk-login-alone.txt"
wrk -t1 -c64 -d"${dur}s" --latency -s "$here/rights.lua" "$url" >"$out/wrk-rights-alone.txt"
wrk -t1 -c16 -d"${dur}s" --latency -s "$here/login.lua" "$url" >"$out/wrk-login-flood.txt" &
fpid=$!
wrk -t1 -c64 -d"${dur}s" --latency -s "$here/rights.lua" "$url" >"$out/wrk-rights-flood.txt"
wait $fpid

echo
bench_machine
printf "%-32s %10s %10s %10s %8s\n" run "req/s" "p50 us" "p99 us" "non-2xx"
row() {
  local bad; bad=$(awk '/Non-2xx/{print $5}' "$2"); bad=${bad:-0}
  printf "%-32s %10s %10s %10s %8s\n" "$1" "$(wrk_rps "$2")" "$(wrk_p "$2" p50_us)" "$(wrk_p "$2" p99_us)" "$bad"
}
row "sign-ins alone (c16)" "$out/wrk-login-alone.txt"
row "rights checks alone (c64)" "$out/wrk-rights-alone.txt"
row "rights checks + sign-in flood" "$out/wrk-rights-flood.txt"
row "the flood (c16, concurrent)" "$out/wrk-login-flood.txt"
a=$(wrk_p "$out/wrk-rights-alone.txt" p99_us); b=$(wrk_p "$out/wrk-rights-flood.txt" p99_us)
echo "rights p99 with flood / without: $(python3 -c "print(round($b/$a, 2))") (target <= 2)"
echo "(non-2xx in the flood: 503 overloaded = the hashing queue's back-pressure)"
