#!/usr/bin/env bash
# The full simulation of issue 5 (docs/DETECTION.md "Simulation"): a working day, 00:00-24:00
# simulated at 150 times real time (about 10 minutes), of 1,091 legitimate PS of every
# profession (110,000 beneficiaries, tokens and web accounts) against the real server, with
# the 2024 attack at every pace in accounts of its own: a phished web session and a stolen API
# token at "as fast as answered", 1/s, 1 every 30 s and 1 every 5 min, and an enumerator.
#
# Reference, in the same invocation: the same attacks on a platform served with detection off
# (50 legitimate PS, a day at 600x), i.e. what each attack would have obtained without
# containment; the report gives the ratio. Release build.
#   bench/simulate.sh [extra opentp simulate options]     e.g. --clock-speed 120
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
build=${TP_BUILD:-$root/build/release}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" opentp >/dev/null
out="$here/out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench_machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
rc=0
"$build/opentp" simulate --data "$tmp/day" --report "$out/simulate.md" "$@" | tee "$tmp/day.out" ||
  rc=$?
echo
echo "reference: the same attacks, detection off (what they get without containment)"
"$build/opentp" simulate --data "$tmp/ref" --ps 50 --beneficiaries 110000 --clock-speed 600 \
  --detection off --report "$out/simulate-reference.md" >"$tmp/ref.out" 2>/dev/null || true
echo
printf '%-20s %-28s %10s %12s %8s\n' attack pace disclosed "without det." ratio
# Attack lines: "  <mode>  <pace>  disclosed N ...": same order in both runs.
paste -d'|' <(grep -E '^  (phished|stolen|enumerator)' "$tmp/day.out") \
  <(grep -E '^  (phished|stolen|enumerator)' "$tmp/ref.out") |
  awk -F'|' '{
    split($1, a, "disclosed"); split($2, b, "disclosed");
    mode = substr(a[1], 3, 20); pace = substr(a[1], 24); gsub(/ +$/, "", pace);
    n = a[2] + 0; r = b[2] + 0;
    printf "%-20s %-28s %10d %12d %8s\n", mode, pace, n, r, (r > 0 ? sprintf("%.3f", n / r) : "-")
  }'
echo
echo "full report: $out/simulate.md (reference: $out/simulate-reference.md)"
exit "$rc"
