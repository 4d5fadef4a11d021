#!/usr/bin/env bash
# opentp simulate in small (docs/DETECTION.md "Simulation"): 100 legitimate PS of every
# profession work from 07:00 to 13:00 (simulated, 600 times real time) against the real server
# while a phished web session scrapes as fast as it is answered and a stolen API token looks
# up one beneficiary every 30 s. Targets: each attack contained with at most 50 beneficiaries
# disclosed, no legitimate account suspended. Also: the scaled clock is refused on a platform
# that is not a simulation.
set -u
bin=${1:?usage: simulate.sh /path/to/opentp}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else notok "$name"; fi
}

# --- a production platform never runs on a fake clock ------------------------------------
"$bin" init --data "$tmp/prod" >/dev/null 2>&1 || { echo "not ok - init"; exit 1; }
"$bin" serve --data "$tmp/prod" --listen 127.0.0.1:0 --clock-speed 600 --exit-after 5 \
  >"$tmp/prod.out" 2>&1
rc=$?
check "serve --clock-speed on a platform without the simulation marker: refused (exit $rc)" test "$rc" = 2
check "the refusal names the missing marker" grep -q "not a simulation platform" "$tmp/prod.out"
echo "a note, not the marker line" >"$tmp/prod/SIMULATION"
"$bin" serve --data "$tmp/prod" --listen 127.0.0.1:0 --clock-speed 600 --exit-after 5 \
  >"$tmp/prod2.out" 2>&1
check "a SIMULATION file without the marker line is not enough (exit $?)" grep -q "not a simulation platform" "$tmp/prod2.out"
"$bin" simulate --data "$tmp/prod" >"$tmp/exists.out" 2>&1
check "simulate refuses an existing directory (exit $?)" grep -q "exists" "$tmp/exists.out"

# --- the small day -------------------------------------------------------------------------
"$bin" simulate --data "$tmp/sim" --beneficiaries 10000 --ps 100 --from 7 --hours 6 \
  --clock-speed 600 --connections 16 --attacks session:fast,token:30 \
  --report "$tmp/report.md" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
check "simulate exits 0: targets met (exit $rc)" test "$rc" = 0
check "the platform is marked as a simulation" grep -q "^opentp simulation platform" "$tmp/sim/SIMULATION"
check "the server ran on the scaled clock" grep -q "scaled clock, 600x" "$tmp/sim/server.log"

attack() { grep -E "^  $1 +$2 " "$tmp/out"; }
disclosed() { attack "$1" "$2" | sed -E 's/.*disclosed +([0-9]+).*/\1/'; }
for a in "phished web session|fast" "stolen API token|1 every 30 s"; do
  mode=${a%%|*} pace=${a#*|}
  line=$(attack "$mode" "$pace")
  n=$(disclosed "$mode" "$pace")
  check "$mode at $pace: reported" test -n "$line"
  check "$mode at $pace: $n beneficiaries disclosed (<= 50, > 0)" eval '[ -n "$n" ] && [ "$n" -le 50 ] && [ "$n" -gt 0 ]'
  check "$mode at $pace: contained by suspension" eval 'echo "$line" | grep -q "403 account_suspended after"'
done
check "the phished session answered step-ups before its suspension" \
  eval 'attack "phished web session" fast | grep -Eq "step-ups +[1-9]"'

all=$(grep -E '^  all +PS' "$tmp/out")
num() { echo "$all" | sed -E "s/.* $1 +([0-9]+).*/\1/"; }
check "no legitimate account suspended ($(num suspended))" test "$(num suspended)" = 0
check "the legitimate population did its day: $(num checks) checks (> 2000)" test "$(num checks)" -gt 2000
check "most checks were followed by a claim or PEC ($(num claims) + $(num PEC))" \
  test $(($(num claims) + $(num PEC))) -gt $(($(num checks) / 2))
check "every one of the 11 professions took part" test "$(grep -cE '^  [A-Z]+ +PS +[1-9]' "$tmp/out")" = 11
check "some legitimate PS worked through web sessions" eval '[ "$(echo "$all" | sed -E "s/.*web +([0-9]+)\).*/\1/")" -gt 0 ]'
check "mistyped cards were answered not found ($(num found))" test "$(num found)" -gt 0
check "the simulation kept up with its clock" eval '! grep -q "fell behind" "$tmp/out"'
check "the markdown report has the attack and legitimate tables" \
  eval 'grep -q "^| phished web session | fast" "$tmp/report.md" && grep -q "^| all | 100" "$tmp/report.md"'
check "the report says the targets are met" grep -q "^result: targets met" "$tmp/out"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
