#!/usr/bin/env bash
# The rights check API end to end (PRODUCT §3.1 and §5, docs/API.md): the real server on
# 127.0.0.1, real curl, a demo platform of ~3000 synthetic beneficiaries.
#
# Every refusal is checked three ways: its HTTP status, its error code, and what it left in
# the database. Syntax and validation errors store nothing at all; a "not found" stores an
# access event (outcome not_found) and no engagement; closed rights store no engagement.
# The no-oracle rule is checked byte for byte, and the logs are grepped for every NIR, member
# number and birth date the test sent.
# shellcheck disable=SC2015,SC2016 # `check NAME eval '...'` expands when the check runs
set -u
bin=${1:?usage: rights.sh /path/to/opentp}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

data=$tmp/platform
db=$data/opentp.db
"$bin" demo --data "$data" --beneficiaries 3000 >/dev/null 2>"$tmp/demo.err" || die "opentp demo failed: $(cat "$tmp/demo.err")"
token=$(awk '$1 == "PHARMACIE" { print $3 }' "$data/demo.txt")
ps_ident=$(awk '$1 == "PHARMACIE" { print $2 }' "$data/demo.txt")
[ -n "$token" ] && [ -n "$ps_ident" ] || die "no PHARMACIE token in demo.txt"
"$bin" cards --data "$data" --count 200 >"$tmp/cards" 2>/dev/null || die "opentp cards failed"
"$bin" cards --data "$data" --count 20 --expired >"$tmp/expired" 2>/dev/null || die "opentp cards --expired failed"
[ "$(wc -l <"$tmp/cards")" = 200 ] || die "opentp cards gave $(wc -l <"$tmp/cards") lines, want 200"

# The card used throughout (one with a NIR), a child identified by birth data from another
# family, and an AMC number that exists but is not this card's.
card=$(grep -m1 -E '"nir":"[0-9]{15}"' "$tmp/cards") # digits only: no 2A/2B, for nir_with_key
[ -n "$card" ] || die "no card line with a NIR"
amc=$(jq -r .amc <<<"$card")
member=$(jq -r .member <<<"$card")
nir=$(jq -r .nir <<<"$card")
date_of_care=$(jq -r .date <<<"$card")
birth_card=$(jq -c --arg m "$member" 'select(.birth_date and .member != $m)' "$tmp/cards" | head -1)
other_amc=$(jq -r --arg a "$amc" 'select(.amc != $a) | .amc' "$tmp/cards" | head -1)
expired_card=$(head -1 "$tmp/expired")
[ -n "$birth_card" ] && [ -n "$other_amc" ] && [ -n "$expired_card" ] || die "card sample incomplete"

# Detection off: this test checks hundreds of cards with one token and no claim, which is
# exactly what inline detection contains (tests/e2e/detection.sh covers that).
"$bin" serve --data "$data" --detection off --listen 127.0.0.1:0 --port-file "$tmp/port" --exit-after 600 \
  --access-log "$tmp/access.log" >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -s "$tmp/port" ] || die "server did not start: $(cat "$tmp/server.err")"
base=http://127.0.0.1:$(cat "$tmp/port")
rights=$base/api/v1/rights/check

# --- helpers ------------------------------------------------------------------------------

# call METHOD PATH TOKEN [BODYFILE]: sets $status; body in $tmp/body, headers in $tmp/headers.
# Every body sent is kept in $tmp/sent, to grep the logs for what was sent.
call() {
  local args=(-s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$1")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  if [ -n "${4:-}" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "@$4")
    cat "$4" >>"$tmp/sent"
    echo >>"$tmp/sent"
  fi
  status=$(curl "${args[@]}" "$base$2") || status=000
}
# post BODY [TOKEN]: a rights check with this body, as the pharmacy unless TOKEN is given.
post() {
  printf '%s' "$1" >"$tmp/req.json"
  call POST /api/v1/rights/check "${2-$token}" "$tmp/req.json"
}
errcode() { jq -r '.error.code // "-"' "$tmp/body" 2>/dev/null || echo "(not JSON)"; }
header() { grep -i "^$1:" "$tmp/headers" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
# Access events live in the tamper-evident access log (docs/AUDIT-LOG.md), read with the CLI.
events() { "$bin" audit events --data "$data" "$@"; }
events_with() { events | jq -s --arg o "$1" 'map(select(.outcome == $o)) | length'; }
snapshot() {
  eng0=$(sql "SELECT count(*) FROM engagement")
  ev0=$(events | wc -l)
}
# stored: sets $deng and $dev, the engagements and access events added since snapshot.
stored() {
  deng=$(($(sql "SELECT count(*) FROM engagement") - eng0))
  dev=$(($(events | wc -l) - ev0))
}

# expect NAME STATUS CODE STORES BODY [TOKEN]: posts BODY and checks the status, the error
# code and what was stored. STORES is "nothing", "not_found" (one access event with that
# outcome, no engagement) or "rights_closed" (likewise).
expect() {
  local name=$1 want_status=$2 want_code=$3 stores=$4 body=$5
  local out0=0
  [ "$stores" = nothing ] || out0=$(events_with "$stores")
  snapshot
  post "$body" "${6-$token}"
  stored
  local code
  code=$(errcode)
  local what="nothing stored"
  local stored_ok=1
  if [ "$stores" = nothing ]; then
    [ "$deng" = 0 ] && [ "$dev" = 0 ] || stored_ok=0
  else
    what="one $stores access event, no engagement"
    [ "$deng" = 0 ] && [ "$dev" = 1 ] && [ "$(events_with "$stores")" = $((out0 + 1)) ] || stored_ok=0
  fi
  if [ "$status" = "$want_status" ] && [ "$code" = "$want_code" ] && [ "$stored_ok" = 1 ]; then
    ok "$name: $status $code, $what"
  else
    notok "$name: got $status $code (+$deng engagements, +$dev events), want $want_status $want_code, $what"
  fi
}

# A NIR with a valid key, computed the INSEE way: 97 - (13 digits mod 97).
nir_with_key() { printf '%s%02d' "$1" $((97 - 10#$1 % 97)); }

# --- service endpoints --------------------------------------------------------------------

call GET /healthz ""
check "GET /healthz: 200 {\"status\":\"ok\"}" test "$status $(cat "$tmp/body")" = '200 {"status":"ok"}'
call GET /metrics ""
check "GET /metrics: 200 text/plain with opentp_http_requests_total" \
  eval '[ "$status" = 200 ] && header Content-Type | grep -q "^text/plain" && grep -q "^opentp_http_requests_total{" "$tmp/body"'
call GET /api/v1/nothing-here ""
check "unknown path: 404 no_such_endpoint" test "$status $(errcode)" = "404 no_such_endpoint"
call GET /api/v1/rights/check "$token"
check "GET on the rights endpoint: 405 method_not_allowed" test "$status $(errcode)" = "405 method_not_allowed"
check "405 names the allowed method (Allow: POST)" test "$(header Allow)" = "POST"

# --- authentication -----------------------------------------------------------------------

expect "no Authorization header" 401 unauthenticated nothing "$card" ""
# RFC 9110 §11.1: the scheme name is case-insensitive.
printf '%s' "$card" >"$tmp/req.json"
status=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: bearer $token" \
  --data-binary "@$tmp/req.json" "$base/api/v1/rights/check")
check "lower-case 'bearer' scheme accepted: 200" test "$status" = 200
check "401 carries WWW-Authenticate: Bearer" test "$(header WWW-Authenticate)" = Bearer
expect "garbage token" 401 unauthenticated nothing "$card" "otp_this-is-not-a-token-at-all-0000000000"
expect "token of the wrong shape (too short)" 401 unauthenticated nothing "$card" "x"

created=$("$bin" ps token create --data "$data" --ps "$ps_ident" --label e2e-revoked 2>&1)
revoked_id=$(sed -n 's/^token id \([0-9]*\) .*/\1/p' <<<"$created")
revoked_token=$(tail -1 <<<"$created")
post "$card" "$revoked_token"
check "a freshly created token works: 200" test "$status" = 200
"$bin" ps token revoke --data "$data" --id "$revoked_id" >/dev/null 2>&1
check "opentp ps token revoke exits 0" test $? = 0
# A server may keep a token's state for up to a second (store.h TP_TOKEN_CACHE_MS): a
# revocation made by another process must take effect within that delay, not at once.
sleep 1.5
expect "revoked token, 1.5 s after opentp ps token revoke" 401 unauthenticated nothing "$card" "$revoked_token"
# The CLI cannot make a token that is already expired: make one, then age it in the database.
created=$("$bin" ps token create --data "$data" --ps "$ps_ident" --label e2e-expired --expires-days 1 2>&1)
expired_id=$(sed -n 's/^token id \([0-9]*\) .*/\1/p' <<<"$created")
expired_token=$(tail -1 <<<"$created")
sql "UPDATE api_token SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) - 1 WHERE id = ${expired_id:-0}"
expect "expired token (expires_at moved into the past)" 401 unauthenticated nothing "$card" "$expired_token"

# --- a valid check ------------------------------------------------------------------------

snapshot
covered0=$(events_with covered)
post "$card"
stored
cp "$tmp/body" "$tmp/covered.json"
request_id=$(header X-Request-Id)
number=$(jq -r '.engagement.number // ""' "$tmp/covered.json")
check "check by NIR: 200 covered:true" eval '[ "$status" = 200 ] && jq -e ".covered == true" "$tmp/covered.json" >/dev/null'
check "check by NIR: response has date, domain, beneficiary, contract, coverage, engagement" \
  jq -e --arg d "$date_of_care" --arg a "$amc" --arg u "$(date -d "$date_of_care + 90 days" +%F)" '
    .date == $d and .domain == "PHARMACIE"
    and (.beneficiary.quality | type) == "string" and (.beneficiary.rank | type) == "number"
    and .contract.amc == $a and (.contract.code | type) == "string"
    and (.contract.name | type) == "string" and (.contract.responsable | type) == "boolean"
    and (.coverage | type) == "array" and (.coverage | length) >= 1
    and all(.coverage[]; (.act | type) == "string" and (.kind | IN("pct_br", "forfait", "frais_reels"))
                         and (.per | IN("beneficiary", "family")))
    and .engagement.valid_until == $u' "$tmp/covered.json" >/dev/null
check "engagement number matches ^E[0-9A-HJKMNP-TV-Z]{16}\$ ($number)" \
  eval 'grep -Eq "^E[0-9A-HJKMNP-TV-Z]{16}\$" <<<"$number"'
check "the response does not contain the NIR" eval '! grep -qF "$nir" "$tmp/covered.json"'
check "the engagement is stored with that number" \
  test "$(sql "SELECT count(*) FROM engagement WHERE number = '$number'")" = 1
check "one engagement and one access event stored (outcome covered)" \
  test "$deng $dev $(events_with covered)" = "1 1 $((covered0 + 1))"
check "the access event is found by the X-Request-Id of the response (rights.check, covered)" \
  test "$(events --request-id "$request_id" | jq -r '.outcome + " " + .operation')" = "covered rights.check"

post "$birth_card"
check "check by birth_date + birth_rank: 200 covered:true" \
  eval '[ "$status" = 200 ] && jq -e ".covered == true and (.engagement.number | test(\"^E[0-9A-HJKMNP-TV-Z]{16}$\"))" "$tmp/body" >/dev/null'

# --- syntax and validation: 400/413, nothing stored ---------------------------------------

expect "malformed JSON" 400 malformed_json nothing '{"amc":"'"$amc"'","member":'
# An unterminated string: the error message must not quote the NIR it contains.
post '{"amc":"'"$amc"'","member":"'"$member"'","nir":"'"$nir"'}'
check "malformed JSON with a NIR inside: 400 malformed_json, NIR not echoed" \
  eval '[ "$status $(errcode)" = "400 malformed_json" ] && ! grep -q -F "$nir" "$tmp/body"'
expect "empty body" 400 malformed_json nothing ''
expect "duplicate keys" 400 malformed_json nothing "$(jq -c . <<<"$card" | sed 's/^{/{"amc":"'"$amc"'",/')"
expect "JSON nested 9 deep" 400 malformed_json nothing '{"amc":[[[[[[[["x"]]]]]]]]}'
expect "a JSON array instead of an object" 400 malformed_json nothing "[$card]"
expect "trailing garbage after the object" 400 malformed_json nothing "$card {}"
expect "amc as a number" 400 wrong_type nothing "$(jq -c '.amc |= tonumber' <<<"$card")"
expect "birth_rank as a string" 400 wrong_type nothing "$(jq -c '.birth_rank |= tostring' <<<"$birth_card")"
expect "missing field (date)" 400 missing_field nothing "$(jq -c 'del(.date)' <<<"$card")"
expect "no identity (neither nir nor birth data)" 400 missing_field nothing "$(jq -c 'del(.nir)' <<<"$card")"
expect "birth_date without birth_rank" 400 missing_field nothing "$(jq -c 'del(.birth_rank)' <<<"$birth_card")"
expect "unknown field" 400 unknown_field nothing "$(jq -c '. + {"name":"x"}' <<<"$card")"
head -c 17000 /dev/zero | tr '\0' 7 >"$tmp/big"
expect "body over 16 KiB" 413 body_too_large nothing "{\"amc\":\"$(cat "$tmp/big")\"}"
bad_key=${nir:0:14}$(((${nir:14:1} + 1) % 10))
expect "NIR with a wrong key (last digit changed)" 400 invalid_nir nothing "$(jq -c --arg n "$bad_key" '.nir = $n' <<<"$card")"
expect "AMC number of 8 digits" 400 invalid_amc nothing "$(jq -c '.amc |= .[0:8]' <<<"$card")"
expect "member number in lower case" 400 invalid_member nothing "$(jq -c '.member = "ab12"' <<<"$card")"
expect "date 2026-02-30" 400 invalid_date nothing "$(jq -c '.date = "2026-02-30"' <<<"$card")"
expect "date of care 400 days ahead" 400 date_out_of_range nothing "$(jq -c --arg d "$(date -d '+400 days' +%F)" '.date = $d' <<<"$card")"
expect "date of care 400 days ago" 400 date_out_of_range nothing "$(jq -c --arg d "$(date -d '-400 days' +%F)" '.date = $d' <<<"$card")"
expect "birth date in the future" 400 invalid_birth_date nothing "$(jq -c --arg d "$(date -d '+10 days' +%F)" '.birth_date = $d' <<<"$birth_card")"
expect "birth rank 0" 400 invalid_birth_rank nothing "$(jq -c '.birth_rank = 0' <<<"$birth_card")"
expect "unknown domain" 400 invalid_domain nothing "$(jq -c '.domain = "COSMETIQUE"' <<<"$card")"

# --- authorisation and rights -------------------------------------------------------------

expect "pharmacy asking OPTIQUE: refused before any lookup" 403 domain_not_allowed nothing "$(jq -c '.domain = "OPTIQUE"' <<<"$card")"
expect "coverage ended (opentp cards --expired)" 422 rights_closed rights_closed "$expired_card"

# --- no enumeration oracle: one 404, byte for byte ----------------------------------------

other_member=${member:0:$((${#member} - 1))}$(((${member: -1} + 1) % 10))
body13=${nir:0:12}$(((${nir:12:1} + 1) % 10))
nobody_nir=$(nir_with_key "$body13")
expect "oracle (a): member number changed" 404 not_found not_found "$(jq -c --arg m "$other_member" '.member = $m' <<<"$card")"
cp "$tmp/body" "$tmp/nf.a"
expect "oracle (b): another existing AMC" 404 not_found not_found "$(jq -c --arg a "$other_amc" '.amc = $a' <<<"$card")"
cp "$tmp/body" "$tmp/nf.b"
expect "oracle (c): a valid-key NIR of nobody ($nobody_nir)" 404 not_found not_found "$(jq -c --arg n "$nobody_nir" '.nir = $n' <<<"$card")"
cp "$tmp/body" "$tmp/nf.c"
expect "oracle (d): the member's NIR with another person's birth data" 404 not_found not_found \
  "$(jq -c --argjson b "$birth_card" '.birth_date = $b.birth_date | .birth_rank = $b.birth_rank' <<<"$card")"
cp "$tmp/body" "$tmp/nf.d"
check "the four not-found bodies are byte-identical" \
  eval 'cmp -s "$tmp/nf.a" "$tmp/nf.b" && cmp -s "$tmp/nf.a" "$tmp/nf.c" && cmp -s "$tmp/nf.a" "$tmp/nf.d"'
check "the not-found body says nothing but not_found" \
  jq -e '(keys == ["error"]) and (.error | keys == ["code", "message"]) and .error.code == "not_found"' "$tmp/nf.a" >/dev/null

# --- HTTP behaviour -----------------------------------------------------------------------

printf '%s' "$card" >"$tmp/keepalive.json"
cat "$tmp/keepalive.json" >>"$tmp/sent"
echo >>"$tmp/sent"
codes=$(curl -sv -o /dev/null -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary "@$tmp/keepalive.json" "$rights" "$rights" 2>"$tmp/keepalive.err")
check "keep-alive: two checks in one curl reuse the connection ($codes)" \
  eval '[ "$codes" = "200 200 " ] && grep -q "Re-using existing connection" "$tmp/keepalive.err"'
printf '{}' >"$tmp/empty.json"
codes=$(curl -sv -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $token" --data-binary "@$tmp/empty.json" "$rights" \
  --next -o /dev/null -w '%{http_code} ' "$base/healthz" 2>"$tmp/keepalive2.err")
check "keep-alive survives a 400 answer ($codes)" \
  eval '[ "$codes" = "400 200 " ] && grep -q "Re-using existing connection" "$tmp/keepalive2.err"'

hdrs=()
for i in $(seq 65); do hdrs+=(-H "X-Filler-$i: $i"); done
status=$(curl -s -o "$tmp/body" -w '%{http_code}' "${hdrs[@]}" "$base/healthz")
check "65 request headers: 431 too_many_headers" test "$status $(errcode)" = "431 too_many_headers"

: >"$tmp/ids"
for path in /healthz /metrics /nope /healthz /healthz; do
  call GET "$path" ""
  header X-Request-Id >>"$tmp/ids"
done
for i in 1 2 3; do
  post "$card"
  header X-Request-Id >>"$tmp/ids"
done
check "X-Request-Id is present and unique on 8 responses" \
  eval '[ "$(grep -cE "^[0-9a-f]{32}\$" "$tmp/ids")" = 8 ] && [ "$(sort -u "$tmp/ids" | wc -l)" = 8 ]'

# --- concurrency --------------------------------------------------------------------------

mkdir "$tmp/par"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  printf '%s' "$line" >"$tmp/par/$n.json"
done <"$tmp/cards"
cat "$tmp/cards" >>"$tmp/sent"
snapshot
seq 1 200 | xargs -P 16 -I{} curl -s -o "$tmp/par/{}.out" -w '%{http_code}\n' \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary "@$tmp/par/{}.json" "$rights" >"$tmp/par/status"
stored
check "200 parallel checks (16 at a time): all 200" test "$(grep -c '^200$' "$tmp/par/status")" = 200
for i in $(seq 200); do jq -r '.engagement.number // empty' "$tmp/par/$i.out"; done | sort -u >"$tmp/par/numbers"
in_db=$(sql "SELECT count(*) FROM engagement WHERE number IN ($(sed "s/.*/'&'/" "$tmp/par/numbers" | paste -sd,))")
check "200 distinct engagement numbers returned, 200 stored (+$deng engagements, +$dev events)" \
  test "$(wc -l <"$tmp/par/numbers") $in_db $deng $dev" = "200 200 200 200"

# --- shutdown and logs --------------------------------------------------------------------

kill -TERM "$server"
for _ in $(seq 300); do
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server" 2>/dev/null; then
  notok "server still running 30 s after SIGTERM"
  kill -KILL "$server"
  wait "$server" 2>/dev/null
else
  wait "$server"
  rc=$?
  check "server exits 0 on SIGTERM" test "$rc" = 0
fi
server=
check "server stderr has no sanitizer report" eval '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$tmp/server.err"'
check "access log written: a line per request ($(wc -l <"$tmp/access.log") lines)" \
  eval '[ "$(grep -c " route=rights.check status=200 " "$tmp/access.log")" -ge 200 ]'

# Every NIR, member number and birth date sent, in any request (today's date excluded: it is
# also the date of care and the access log's own timestamp).
today=$(date +%F)
grep -oE '"(nir|member|birth_date)":"[^"]{6,}"' "$tmp/sent" | cut -d'"' -f4 | grep -vx "$today" | sort -u >"$tmp/personal"
n_personal=$(wc -l <"$tmp/personal")
check "control: $n_personal NIRs, member numbers and birth dates were sent, and the grep finds them" \
  eval '[ "$n_personal" -gt 300 ] && grep -qF -f "$tmp/personal" "$tmp/sent"'
check "the access log contains none of them" eval '! grep -qF -f "$tmp/personal" "$tmp/access.log"'
check "the server's stderr contains none of them" eval '! grep -qF -f "$tmp/personal" "$tmp/server.err"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
