#!/usr/bin/env bash
# Claims end to end (PRODUCT §3.3, docs/CLAIMS.md): the real server on 127.0.0.1, real curl,
# a demo platform whose contracts all pay contact lenses a forfait of 100 EUR a year.
#
# Idempotency (same invoice: one claim, same answer) and conflict (same invoice, other
# content: 409); 20 parallel claims against one beneficiary's last 100 EUR never spend more;
# cancellation gives the ceiling back; paging; another PS sees none of it (the same 404 as a
# claim that does not exist); every bad input gets its error code, and leaves the claims,
# their lines and the counters exactly as they were.
# shellcheck disable=SC2015,SC2016
set -u
bin=${1:?usage: claims.sh /path/to/opentp}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

data=$tmp/platform
db=$data/opentp.db
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
"$bin" demo --data "$data" --beneficiaries 1000 >/dev/null 2>"$tmp/demo.err" || die "opentp demo failed: $(cat "$tmp/demo.err")"
# One guarantee text for every contract, so that the amounts below are known; tiers payant
# open in every domain.
sql "UPDATE contract_version SET text = 'version from 2020-01-01
responsable=no
OPTIQUE.LENTILLE kind=forfait amount=100.00 per=year
PHARMACIE.MEDICAMENT kind=pct_br rate=100% base=incl_amo
'; UPDATE beneficiary SET tp_domains = 1023;"
token=$(awk '$1 == "OPTICIEN" { print $3 }' "$data/demo.txt")
opt_ident=$(awk '$1 == "OPTICIEN" { print $2 }' "$data/demo.txt")
other_ident=$(sql "SELECT identifier FROM ps WHERE profession = 'OPTICIEN' AND identifier != '$opt_ident' ORDER BY id LIMIT 1")
[ -n "$token" ] && [ -n "$other_ident" ] || die "demo platform without two opticians"
"$bin" ps token create --data "$data" --ps "$other_ident" --label other >"$tmp/t2" 2>&1 || die "token create: $(cat "$tmp/t2")"
other=$(grep -oE 'otp_[A-Za-z0-9_-]+' "$tmp/t2" | head -1)
[ -n "$other" ] || die "no token for the second optician: $(cat "$tmp/t2")"
"$bin" cards --data "$data" --count 50 >"$tmp/cards" 2>/dev/null || die "opentp cards failed"
"$bin" cards --data "$data" --count 5 --expired >"$tmp/expired" 2>/dev/null || die "opentp cards --expired failed"
card_a=$(sed -n 1p "$tmp/cards" | jq -c 'del(.date, .domain)')
card_b=$(jq -c --arg m "$(jq -r .member <<<"$card_a")" 'select(.member != $m) | del(.date, .domain)' "$tmp/cards" | head -1)
date=$(sed -n 1p "$tmp/cards" | jq -r .date)
expired=$(head -1 "$tmp/expired")
[ -n "$card_b" ] && [ -n "$expired" ] || die "card sample incomplete"

"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" --exit-after 600 \
  --access-log "$tmp/access.log" >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -s "$tmp/port" ] || die "server did not start: $(cat "$tmp/server.err")"
base=http://127.0.0.1:$(cat "$tmp/port")

# call METHOD PATH TOKEN [BODY]: $status, body in $tmp/body.
call() {
  local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  status=$(curl "${args[@]}" "$base$2") || status=000
}
errcode() { jq -r '.error.code // "-"' "$tmp/body" 2>/dev/null || echo "(not JSON)"; }
# claim INVOICE CARD PRICE [EXTRA-JQ]: the JSON of a one-line contact-lens claim.
claim() {
  jq -nc --arg i "$1" --argjson c "$2" --argjson p "$3" --arg d "$date" \
    "{invoice: \$i, date: \$d, card: \$c, lines: [{code: \"OPT_LENT\", quantity: 1,
      unit_price_cents: \$p, br_cents: \$p, amo_rate_bp: 6000}], total_cents: \$p} ${4:-}"
}
counters() { sql "SELECT coalesce(sum(used_cents), 0) FROM benefit_counter"; }
state() { echo "$(sql "SELECT count(*) FROM claim")/$(sql "SELECT count(*) FROM claim_line")/$(counters)"; }

# --- submit, idempotency, conflict ----------------------------------------------------------

call POST /api/v1/claims "$token" "$(claim INV-1 "$card_a" 3000)"
id1=$(jq -r .id "$tmp/body")
check "a claim: 201, accepted, AMO 18.00 and AMC 12.00 (the rest of 30.00)" \
  eval '[ "$status" = 201 ] && [ "$(jq -r ".status, .totals.amc_cents, .lines[0].amo_cents, .replayed" "$tmp/body" | paste -sd,)" = "accepted,1200,1800,false" ]'
cp "$tmp/body" "$tmp/first"
call POST /api/v1/claims "$token" "$(claim INV-1 "$card_a" 3000)"
check "the same invoice again: 200, the same claim (replayed), nothing consumed twice" \
  eval '[ "$status" = 200 ] && [ "$(jq -c "del(.replayed)" "$tmp/body")" = "$(jq -c "del(.replayed)" "$tmp/first")" ] && [ "$(jq -r .replayed "$tmp/body")" = true ] && [ "$(state)" = 1/1/1200 ]'
call POST /api/v1/claims "$token" "$(claim INV-1 "$card_a" 3100)"
check "the same invoice with another price: 409 invoice_conflict, nothing stored" \
  eval '[ "$status" = 409 ] && [ "$(errcode)" = invoice_conflict ] && [ "$(state)" = 1/1/1200 ]'
call GET "/api/v1/claims/$id1" "$token"
check "GET the claim: 200, as submitted" eval '[ "$status" = 200 ] && [ "$(jq -r .invoice "$tmp/body")" = INV-1 ]'

# --- a ceiling under concurrent claims ------------------------------------------------------

for i in $(seq 20); do
  curl -s -o "$tmp/par$i" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "$(claim "PAR-$i" "$card_b" 3000)" "$base/api/v1/claims" &
done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null
sum=0 acc=0
for i in $(seq 20); do
  a=$(jq -r '.totals.amc_cents // 0' "$tmp/par$i")
  sum=$((sum + a))
  [ "$(jq -r .status "$tmp/par$i")" = accepted ] && acc=$((acc + 1))
done
check "20 parallel claims of 12.00 against one beneficiary's 100.00: together exactly 100.00 ($sum cents, $acc accepted)" \
  eval '[ "$sum" = 10000 ] && [ "$acc" = 9 ]'
check "the database agrees: 20 claims, AMC parts 100.00, counter 100.00" \
  eval '[ "$(sql "SELECT count(*), sum(amc_cents) FROM claim WHERE invoice LIKE '"'PAR-%'"'")" = "20|10000" ] && [ "$(counters)" = 11200 ]'

# --- cancel ---------------------------------------------------------------------------------

full=$(jq -r 'select(.totals.amc_cents == 1200) | .id' "$tmp"/par* | head -1)
call POST "/api/v1/claims/$full/cancel" "$other"
check "another PS cancels it: 404 not_found, nothing changed" \
  eval '[ "$status" = 404 ] && [ "$(errcode)" = not_found ] && [ "$(counters)" = 11200 ]'
call POST "/api/v1/claims/$full/cancel" "$token"
check "its PS cancels it: 200 cancelled, the 12.00 given back to the ceiling" \
  eval '[ "$status" = 200 ] && [ "$(jq -r .status "$tmp/body")" = cancelled ] && [ "$(counters)" = 10000 ]'
call POST "/api/v1/claims/$full/cancel" "$token"
check "cancelled twice: 200, nothing given back twice" eval '[ "$status" = 200 ] && [ "$(counters)" = 10000 ]'
call POST /api/v1/claims "$token" "$(claim PAR-21 "$card_b" 3000)"
check "the next claim gets the 12.00 back" eval '[ "$status" = 201 ] && [ "$(jq -r .totals.amc_cents "$tmp/body")" = 1200 ]'
sql "UPDATE claim SET status = 'paid', payment_run = 1 WHERE invoice = 'PAR-21'"
call POST "/api/v1/claims/$(sql "SELECT id FROM claim WHERE invoice = 'PAR-21'")/cancel" "$token"
check "a paid claim: 409 already_paid" eval '[ "$status" = 409 ] && [ "$(errcode)" = already_paid ]'

# --- another PS ------------------------------------------------------------------------------

call GET "/api/v1/claims/$id1" "$other"
cp "$tmp/body" "$tmp/other_get"
call GET /api/v1/claims/987654 "$other"
check "another PS's claim answers exactly like a claim that does not exist (404)" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/body" "$tmp/other_get"'
call GET /api/v1/claims "$other"
check "another PS's list is empty" eval '[ "$status" = 200 ] && [ "$(jq ".claims | length" "$tmp/body")" = 0 ]'

# --- paging -----------------------------------------------------------------------------------

for i in $(seq 30); do call POST /api/v1/claims "$token" "$(claim "PG-$i" "$card_a" 100)"; done
total=$(sql "SELECT count(*) FROM claim c JOIN ps p ON p.id = c.ps_id WHERE p.identifier = '$opt_ident'")
call GET /api/v1/claims "$token"
n1=$(jq '.claims | length' "$tmp/body")
next=$(jq -r '.next // empty' "$tmp/body")
first_ids=$(jq -r '.claims[].id' "$tmp/body")
call GET "/api/v1/claims/before/$next" "$token"
n2=$(jq '.claims | length' "$tmp/body")
check "paging: 50 then the other $((total - 50)) of $total, newest first, no claim twice" \
  eval '[ "$n1" = 50 ] && [ -n "$next" ] && [ "$((n1 + n2))" = "$total" ] && [ "$(jq -r ".next // empty" "$tmp/body")" = "" ] && [ -z "$(comm -12 <(sort <<<"$first_ids") <(jq -r ".claims[].id" "$tmp/body" | sort))" ]'

# --- bad input: its code, and nothing stored ----------------------------------------------------

# expect NAME STATUS CODE BODY
expect() {
  local before
  before=$(state)
  call POST /api/v1/claims "$token" "$4"
  if [ "$status" = "$2" ] && [ "$(errcode)" = "$3" ] && [ "$(state)" = "$before" ]; then
    ok "$1: $status $3, nothing stored, counters untouched"
  else
    notok "$1: got $status $(errcode) (state $before -> $(state)), want $2 $3"
  fi
}
expect "invalid act code" 400 invalid_code "$(claim BAD-1 "$card_a" 3000 '| .lines[0].code = "opt-lent"')"
expect "unknown act code" 400 unknown_act "$(claim BAD-2 "$card_a" 3000 '| .lines[0].code = "ZZZ9"')"
expect "negative amount" 400 invalid_amount "$(claim BAD-3 "$card_a" 3000 '| .lines[0].unit_price_cents = -3000')"
expect "non-integer amount" 400 invalid_amount "$(claim BAD-4 "$card_a" 3000 '| .lines[0].unit_price_cents = 30.5')"
expect "amount as a string" 400 invalid_amount "$(claim BAD-5 "$card_a" 3000 '| .lines[0].unit_price_cents = "3000"')"
expect "totals that do not add up" 400 totals_mismatch "$(claim BAD-6 "$card_a" 3000 '| .total_cents = 3001')"
expect "AMO above the BR" 400 invalid_line "$(claim BAD-7 "$card_a" 3000 '| .lines[0].amo_cents = 3500')"
expect "a date in the future" 400 date_out_of_range "$(claim BAD-8 "$card_a" 3000 '| .date = "2099-01-01"')"
expect "a date out of the beneficiary's coverage" 422 out_of_coverage \
  "$(claim BAD-9 "$(jq -c 'del(.date, .domain)' <<<"$expired")" 3000 "| .date = \"$(jq -r .date <<<"$expired")\"")"
expect "an unknown engagement" 404 unknown_engagement "$(claim BAD-10 "$card_a" 3000 '| del(.card) | .engagement = "ABCDEFGHJKMNPQRST"')"
expect "an unknown PEC" 404 unknown_pec "$(claim BAD-11 "$card_a" 3000 '| .pec = "ABCDEFGHJKMNPQRST"')"
expect "card data of nobody" 404 not_found "$(claim BAD-12 "$card_a" 3000 '| .card.member = "0000000001"')"
expect "an unknown field" 400 unknown_field "$(claim BAD-13 "$card_a" 3000 '| .discount = 1')"
expect "no lines" 400 invalid_lines "$(claim BAD-14 "$card_a" 3000 '| .lines = []')"
expect "an act outside the profession" 403 domain_not_allowed "$(claim BAD-15 "$card_a" 700 '| .lines[0].code = "PH7"')"

# --- the access log -----------------------------------------------------------------------------

events=$("$bin" audit events --data "$data" 2>/dev/null)
check "every claim submit is in the access log, with its beneficiary reference and the fields disclosed" \
  eval '[ "$(jq -s "map(select(.operation == \"claim.submit\" and .outcome == \"accepted\" and .beneficiary_ref != null and .fields == \"claim,care_lines,amounts\")) | length" <<<"$events")" -ge 30 ]'
check "reads and cancellations too (claim.get, claim.cancel, claim.list)" \
  eval '[ "$(jq -s "map(select(.operation == \"claim.get\" or .operation == \"claim.cancel\" or .operation == \"claim.list\")) | length" <<<"$events")" -ge 6 ]'
check "no card data in the server's logs" eval '! grep -qF "$(jq -r .member <<<"$card_a")" "$tmp/access.log" "$tmp/server.err" "$tmp/server.out"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
