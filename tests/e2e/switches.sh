#!/usr/bin/env bash
# Kill switches end to end (docs/SECURITY.md "Kill switches"): the security officer signs in
# (password + TOTP), switches the PS API, rights checks, one PS and one AMC off and on again
# through the API; lookups stop with 503 switched_off while the rest goes on; each change is
# recorded; the state survives a restart; a switch set from the database (another process)
# reaches the running server within a second.
# shellcheck disable=SC2016
set -u
bin=${1:?usage: switches.sh /path/to/opentp}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

data=$tmp/p
db=$data/opentp.db
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
"$bin" demo --data "$data" --beneficiaries 1500 >/dev/null 2>"$tmp/demo.err" || die "demo: $(cat "$tmp/demo.err")"
"$bin" cards --data "$data" --count 60 >"$tmp/cards" 2>/dev/null || die "cards failed"
token=$(awk '$1 == "PHARMACIE" { print $3 }' "$data/demo.txt")
ps_id=$(sql "SELECT id FROM ps WHERE identifier = '$(awk '$1 == "PHARMACIE" { print $2 }' "$data/demo.txt")'")
sec_totp=$(awk '$2 == "login" { cur = $3 } cur == "securite@demo.opentp" && $1 == "TOTP" && $2 == "secret" { print $3; exit }' "$data/demo.txt")
[ -n "$token" ] && [ -n "$sec_totp" ] && [ -n "$ps_id" ] || die "demo platform incomplete"
# Two cards of different AMCs (pharmacy domain).
card_a=$(jq -c 'select(.domain == "PHARMACIE")' "$tmp/cards" | head -1)
amc_a=$(jq -r .amc <<<"$card_a")
card_b=$(jq -c --arg a "$amc_a" 'select(.domain == "PHARMACIE" and .amc != $a)' "$tmp/cards" | head -1)
[ -n "$card_a" ] && [ -n "$card_b" ] || die "no pharmacy cards of two AMCs"

start() { serve_platform "$data"; }
stop() { stop_server; }
# call METHOD PATH BEARER [BODY]: sets $status, body in $tmp/body.
call() {
  local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  status=$(curl "${args[@]}" "$base$2")
}
code() { jq -r '.error.code // "-"' "$tmp/body"; }
rights() { call POST /api/v1/rights/check "$token" "$1"; }

start
curl -s -o "$tmp/body" -H 'Content-Type: application/json' \
  --data-binary "$(jq -nc --arg t "$("$bin" totp-code "$sec_totp")" '{login: "securite@demo.opentp", password: "Demo-Tiers-Payant-2026", totp: $t}')" \
  "$base/api/v1/auth/login"
session=$(jq -r '.session // empty' "$tmp/body")
[ -n "$session" ] || die "security officer sign-in failed: $(cat "$tmp/body")"
switch() { # switch SCOPE KEY on|off
  call POST /api/v1/switches "$session" "$(jq -nc --arg s "$1" --arg k "$2" --argjson o "$([ "$3" = off ] && echo true || echo false)" \
    '{scope: $s, key: $k, off: $o, reason: "e2e: suspected scraping"}')"
}

rights "$card_a"
check "before any switch: rights check 200" test "$status" = 200
call POST /api/v1/switches "$token" '{"scope":"channel","key":"ps_api","off":true,"reason":"x"}'
check "a PS API token cannot touch the switches: 403" test "$status" = 403
call POST /api/v1/switches "$session" '{"scope":"channel","key":"fax","off":true,"reason":"bad channel"}'
check "unknown channel: 400 invalid_key" test "$status $(code)" = "400 invalid_key"
call POST /api/v1/switches "$session" '{"scope":"channel","key":"ps_api","off":"yes","reason":"x y z"}'
check "\"off\" not a boolean: 400 missing_field" test "$status $(code)" = "400 missing_field"

rights "$card_a"
engagement=$(jq -r '.engagement.number // empty' "$tmp/body")
care_date=$(jq -r .date <<<"$card_a")
[ -n "$engagement" ] || die "no engagement from the rights check"
claim() { # INVOICE IDENTIFICATION-JSON
  call POST /api/v1/claims "$token" "$(jq -nc --arg i "$1" --arg d "$care_date" --argjson who "$2" \
    '{invoice: $i, date: $d, age: 40, lines: [{code: "PH7", quantity: 1, unit_price_cents: 350, br_cents: 350}], total_cents: 350} + $who')"
}
switch channel ps_api off
check "security officer switches the PS API off: 200" test "$status" = 200
claim SW-1 "$(jq -nc --arg e "$engagement" '{engagement: $e}')"
check "PS API off: a claim quoting an engagement still goes through: 201" test "$status" = 201
claim SW-2 "$(jq -c '{card: {amc, member, nir, birth_date, birth_rank} | with_entries(select(.value != null))}' <<<"$card_a")"
check "PS API off: a claim identified by card data is a lookup: 503 switched_off" test "$status $(code)" = "503 switched_off"
switch channel portal off
switch channel rights off
# The 2024 outage stopped payments too; here a payment run goes on with every lookup cut.
"$bin" pay account --data "$data" --name "Plateforme de test" --iban FR7630006000011234567890189 --bic AGRIFRPP >"$tmp/pa" 2>&1 ||
  die "pay account: $(cat "$tmp/pa")"
"$bin" pay --data "$data" >"$tmp/pay.out" 2>&1
check "PS API, portal and rights checks off: a payment run pays the guaranteed claim" \
  test "$(sql "SELECT status FROM claim WHERE invoice = 'SW-1'")" = paid
switch channel portal on
switch channel rights on
rights "$card_a"
check "PS API off: rights check 503 switched_off" test "$status $(code)" = "503 switched_off"
check "the refusal says that guaranteed care still works" grep -q 'claims for care already guaranteed' "$tmp/body"
call GET /api/v1/switches "$session"
check "GET /api/v1/switches shows ps_api off" jq -e '.channels.ps_api == "off" and .channels.portal == "on"' "$tmp/body"
call GET /api/v1/me "$session"
check "the officer's session still works (login, me are never cut): 200" test "$status" = 200
switch channel ps_api on
rights "$card_a"
check "PS API back on: rights check 200" test "$status" = 200

switch channel rights off
rights "$card_a"
check "rights checks off (every channel): 503 switched_off" test "$status $(code)" = "503 switched_off"
switch channel rights on

switch amc "$amc_a" off
rights "$card_a"
check "AMC $amc_a off: its member's check 503 switched_off" test "$status $(code)" = "503 switched_off"
rights "$card_b"
check "AMC $amc_a off: another AMC's member is checked: 200" test "$status" = 200

switch ps "$ps_id" off
rights "$card_b"
check "PS $ps_id off: its checks 503 switched_off" test "$status $(code)" = "503 switched_off"

n_events=$(sql "SELECT count(*) FROM auth_event WHERE kind = 'kill_switch'")
check "every change is recorded (auth_event kill_switch: $n_events = 10)" test "$n_events" = 10
check "the record names the switch and the officer's account" \
  test "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'kill_switch' AND detail = 'ps:$ps_id off' AND account_id IS NOT NULL")" = 1

stop
start
rights "$card_b"
check "after a restart, PS $ps_id is still off: 503" test "$status $(code)" = "503 switched_off"
# Another process switches the PS back on in the database: the server follows within a second.
sql "UPDATE kill_switch SET off = 0 WHERE scope = 'ps'"
sleep 1.3
rights "$card_b"
check "a change made in the database reaches the running server within a second: 200" test "$status" = 200
stop

finish
