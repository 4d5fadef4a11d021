#!/usr/bin/env bash
# PECs end to end (PRODUCT §3.2, docs/CLAIMS.md): the real server on 127.0.0.1, real curl,
# a demo platform whose contracts all pay contact lenses a forfait of 100 EUR a year and no
# frames.
#
# A quote's decision (accepted / partially accepted / refused) with per-line amounts and a
# PEC number valid 3 months; the amount agreed is held on the beneficiary's counter, paid as
# agreed to the claim that references the PEC, and given back when the PEC is cancelled;
# another PS can neither read nor use it (the same 404 as a PEC that does not exist).
# shellcheck disable=SC2015,SC2016
set -u
bin=${1:?usage: pec.sh /path/to/opentp}
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
card_a=$(sed -n 1p "$tmp/cards" | jq -c 'del(.date, .domain)')
card_b=$(jq -c --arg m "$(jq -r .member <<<"$card_a")" 'select(.member != $m) | del(.date, .domain)' "$tmp/cards" | head -1)
date=$(sed -n 1p "$tmp/cards" | jq -r .date)
[ -n "$card_b" ] || die "card sample incomplete"

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

# quote CARD PRICE [EXTRA-JQ]: a one-line contact-lens quote.
quote() {
  jq -nc --argjson c "$1" --argjson p "$2" --arg d "$date" \
    "{date: \$d, domain: \"OPTIQUE\", card: \$c, lines: [{code: \"OPT_LENT\", quantity: 1,
      unit_price_cents: \$p, br_cents: \$p, amo_rate_bp: 6000}], total_cents: \$p} ${3:-}"
}
until3=$(date -d "$date +3 months" +%F)

# --- decision, number, validity -----------------------------------------------------------------

call POST /api/v1/pec "$token" "$(quote "$card_a" 10000)"
pec_id=$(jq -r .id "$tmp/body")
pec_no=$(jq -r .number "$tmp/body")
check "a quote: 201 accepted, AMC 40.00 (100.00 less the AMO's 60.00), a PEC number valid 3 months" \
  eval '[ "$status" = 201 ] && [ "$(jq -r ".decision, .totals.amc_cents, .valid_until" "$tmp/body" | paste -sd,)" = "accepted,4000,$until3" ] && [ ${#pec_no} = 17 ]'
check "the amount agreed is held on the counter" eval '[ "$(counters)" = 4000 ]'
call GET "/api/v1/pec/$pec_id" "$token"
check "GET the PEC: 200, the same decision" eval '[ "$status" = 200 ] && [ "$(jq -r .number "$tmp/body")" = "$pec_no" ]'
call POST /api/v1/pec "$token" "$(quote "$card_a" 30000)"
check "a second quote beyond what is left: 201 partially_accepted, AMC 60.00, reason ceiling_reached" \
  eval '[ "$status" = 201 ] && [ "$(jq -r ".decision, .totals.amc_cents" "$tmp/body" | paste -sd,)" = "partially_accepted,6000" ] && jq -e ".lines[0].reasons | index(\"ceiling_reached\")" "$tmp/body" >/dev/null'
second=$(jq -r .id "$tmp/body")
call POST /api/v1/pec "$token" "$(quote "$card_a" 20000)"
check "a third one, nothing left: 201 refused, no hold" \
  eval '[ "$status" = 201 ] && [ "$(jq -r .decision "$tmp/body")" = refused ] && [ "$(counters)" = 10000 ]'
call POST "/api/v1/pec/$second/cancel" "$token"
check "cancelling the second gives its 60.00 back" \
  eval '[ "$status" = 200 ] && [ "$(jq -r .decision "$tmp/body")" = cancelled ] && [ "$(counters)" = 4000 ]'
call POST /api/v1/pec "$token" "$(quote "$card_a" 10000 '| .lines[0].code = "OPT_MON_B"')"
check "a frame the contract does not cover: refused, reason not_covered" \
  eval '[ "$status" = 201 ] && [ "$(jq -r .decision "$tmp/body")" = refused ] && jq -e ".reasons | index(\"not_covered\")" "$tmp/body" >/dev/null'

# --- another PS ----------------------------------------------------------------------------------

call GET "/api/v1/pec/$pec_id" "$other"
cp "$tmp/body" "$tmp/other_get"
call GET /api/v1/pec/987654 "$other"
check "another PS's PEC answers exactly like a PEC that does not exist (404)" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/body" "$tmp/other_get"'
call POST "/api/v1/pec/$pec_id/cancel" "$other"
check "another PS cannot cancel it: 404, the hold stays" eval '[ "$status" = 404 ] && [ "$(counters)" = 4000 ]'
claim_json() {
  jq -nc --arg i "$1" --argjson c "$2" --arg d "$date" --arg n "$pec_no" --argjson p "$3" \
    '{invoice: $i, date: $d, card: $c, pec: $n, lines: [{code: "OPT_LENT", quantity: 1,
      unit_price_cents: $p, br_cents: $p, amo_rate_bp: 6000}], total_cents: $p}'
}
call POST /api/v1/claims "$other" "$(claim_json X-1 "$card_a" 10000)"
check "another PS's claim naming the PEC: 404 unknown_pec, nothing stored" \
  eval '[ "$status" = 404 ] && [ "$(errcode)" = unknown_pec ] && [ "$(sql "SELECT count(*) FROM claim")" = 0 ]'

# --- the claim that uses it ------------------------------------------------------------------------

call POST /api/v1/claims "$token" "$(claim_json P-1 "$card_b" 10000)"
check "the PEC with another beneficiary: 400 pec_mismatch" eval '[ "$status" = 400 ] && [ "$(errcode)" = pec_mismatch ]'
call POST /api/v1/claims "$token" "$(claim_json P-2 "$card_a" 10000)"
check "its claim: 201, paid as agreed (40.00), the hold becomes the claim's" \
  eval '[ "$status" = 201 ] && [ "$(jq -r ".totals.amc_cents, .pec" "$tmp/body" | paste -sd,)" = "4000,$pec_no" ] && [ "$(counters)" = 4000 ]'
call GET "/api/v1/pec/$pec_id" "$token"
check "the PEC is now used" eval '[ "$(jq -r .decision "$tmp/body")" = used ]'
call POST /api/v1/claims "$token" "$(claim_json P-3 "$card_a" 10000)"
check "a second claim with the same PEC: 409 pec_used" eval '[ "$status" = 409 ] && [ "$(errcode)" = pec_used ]'

# --- bad quotes -------------------------------------------------------------------------------------

call POST /api/v1/pec "$token" "$(quote "$card_a" 1000 '| .domain = "PHARMACIE"')"
check "a quote outside optique, dentaire, audio, hospitalisation: 400 invalid_domain" eval '[ "$status" = 400 ] && [ "$(errcode)" = invalid_domain ]'
call POST /api/v1/pec "$token" "$(quote "$card_a" 1000 '| .total_cents = 999')"
check "totals that do not add up: 400 totals_mismatch" eval '[ "$status" = 400 ] && [ "$(errcode)" = totals_mismatch ]'
check "no bad quote was stored" eval '[ "$(sql "SELECT count(*) FROM pec")" = 4 ]'
events=$("$bin" audit events --data "$data" 2>/dev/null)
check "PEC submits, reads and cancels are in the access log" \
  eval '[ "$(jq -s "map(select(.operation == \"pec.submit\" and .beneficiary_ref != null)) | length" <<<"$events")" -ge 4 ] && [ "$(jq -s "map(select(.operation == \"pec.get\" or .operation == \"pec.cancel\")) | length" <<<"$events")" -ge 3 ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
