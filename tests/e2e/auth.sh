#!/usr/bin/env bash
# Sign-in, sessions, step-up, password change, forced reset and PS API tokens end to end
# (PRODUCT §5, docs/SECURITY.md): the real server on 127.0.0.1, real curl, a demo platform
# with an account of every role (DIR/demo.txt) and a few more made with `opentp user add`.
#
# TOTP codes are single use: a code (and any code of an earlier 30 s step) is accepted once
# per account. The test never waits for the next step: each account proves TOTP at most once
# per step, and second sign-ins use recovery codes (or a member's password alone).
#
# The server throttles sign-ins per source address (GCRA, bursts of 10, then one per 2 s):
# every sign-in here comes from its own loopback address (curl --interface 127.0.0.N; Linux
# routes all of 127/8 to lo), so that the test is not slowed down by the limit it is not
# testing. Failures per (login, /24) are kept under the free 5 except where that is the test.
#
# A second server on the same platform checks --cookie-secure, --session-max-hours and
# --session-idle-minutes. At the end, every secret used (passwords, TOTP and recovery codes,
# session and API tokens) is looked for in auth_event, the access logs, the servers' output
# and the database files.
# shellcheck disable=SC2015,SC2016,SC2034 # `check NAME eval '...'` expands when the check runs
set -u
bin=${1:?usage: auth.sh /path/to/opentp}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

data=$tmp/platform
db=$data/opentp.db
demo_pw=Demo-Tiers-Payant-2026
"$bin" demo --data "$data" --beneficiaries 300 >/dev/null 2>"$tmp/demo.err" || die "opentp demo failed: $(cat "$tmp/demo.err")"
"$bin" cards --data "$data" --count 1 >"$tmp/card" 2>/dev/null && [ -s "$tmp/card" ] || die "opentp cards failed"
card=$(head -1 "$tmp/card")
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }

# Secrets, to look for in the logs at the end: long ones (grep -F) and 6-digit codes (grep -wF).
: >"$tmp/secrets"
: >"$tmp/codes"
secret() { printf '%s\n' "$@" >>"$tmp/secrets"; }
secret "$demo_pw"

# Accounts of demo.txt: LOGIN -> role, TOTP secret, recovery codes (one file per login).
mkdir "$tmp/acct"
# parse_accounts FILE: reads "  ROLE login LOGIN" blocks (demo.txt, opentp user add output).
parse_accounts() {
  awk -v dir="$tmp/acct" '
    $2 == "login" { cur = $3; print $1 > (dir "/" cur ".role"); close(dir "/" cur ".role"); next }
    cur != "" && $1 == "TOTP" && $2 == "secret" { print $3 > (dir "/" cur ".totp"); close(dir "/" cur ".totp"); next }
    cur != "" && $1 == "recovery" { for (i = 3; i <= NF; i++) print $i > (dir "/" cur ".rec"); close(dir "/" cur ".rec"); next }
  ' "$1"
}
parse_accounts "$data/demo.txt"
P=pharmacie@demo.opentp I=assureur@demo.opentp M=adherent@demo.opentp
O=operateur@demo.opentp S=securite@demo.opentp D=dpo@demo.opentp
for a in "$P" "$I" "$O" "$S" "$D"; do
  [ -s "$tmp/acct/$a.totp" ] && [ "$(wc -l <"$tmp/acct/$a.rec")" = 10 ] || die "demo.txt: no TOTP secret or recovery codes for $a"
done
[ -f "$tmp/acct/$M.role" ] && [ ! -f "$tmp/acct/$M.totp" ] || die "demo.txt: member account missing (or enrolled in TOTP)"
pharmacy_ident=$(awk '$1 == "PHARMACIE" { print $2 }' "$data/demo.txt")
ps_id=$(sql "SELECT ps_id FROM account WHERE login = '$P'")
[ -n "$pharmacy_ident" ] && [ -n "$ps_id" ] || die "no demo pharmacy"

# More accounts, before the server starts (argon2id makes each take ~0.1 s):
#   PS2   a second user of the pharmacy: the step-up scenario (signs in with a recovery code)
#   SEC2  a second security officer: forced reset after a step-up
#   CIBLE a user of the pharmacy whose password is reset by SEC2, then changed
PS2=ps2@e2e.example SEC2=sec2@e2e.example CIBLE=cible@e2e.example
pw_ps2=Second-Pharmacy-User-77 pw_sec2=Second-Security-Officer-78 pw_cible=Target-Of-The-Reset-79
secret "$pw_ps2" "$pw_sec2" "$pw_cible"
printf '%s\n' "$pw_ps2" | "$bin" user add --data "$data" --login "$PS2" --role ps --ps "$pharmacy_ident" --password-stdin >"$tmp/u1" 2>&1 || die "user add $PS2: $(cat "$tmp/u1")"
printf '%s\n' "$pw_sec2" | "$bin" user add --data "$data" --login "$SEC2" --role security --password-stdin >"$tmp/u2" 2>&1 || die "user add $SEC2: $(cat "$tmp/u2")"
printf '%s\n' "$pw_cible" | "$bin" user add --data "$data" --login "$CIBLE" --role ps --ps "$pharmacy_ident" --password-stdin >"$tmp/u3" 2>&1 || die "user add $CIBLE: $(cat "$tmp/u3")"
for f in u1 u2 u3; do parse_accounts "$tmp/$f"; done
check "opentp user add --password-stdin prints no password" eval '! grep -qF -e "$pw_ps2" -e "$pw_sec2" -e "$pw_cible" "$tmp/u1" "$tmp/u2" "$tmp/u3"'
cible_id=$(sql "SELECT id FROM account WHERE login = '$CIBLE'")

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

# --- helpers ------------------------------------------------------------------------------

src_n=10
# call METHOD PATH CRED [BODY]: CRED is "" (none), "cookie=VALUE" or a bearer token. Sets
# $status; body in $tmp/body, headers in $tmp/headers. $iface, when set, is the source.
iface=
call() {
  local args=(-s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$1")
  case $3 in
  "") ;;
  cookie=*) args+=(-b "opentp_session=${3#cookie=}") ;;
  *) args+=(-H "Authorization: Bearer $3") ;;
  esac
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  [ -n "$iface" ] && args+=(--interface "$iface")
  status=$(curl "${args[@]}" "$base$2") || status=000
}
errcode() { jq -r '.error.code // "-"' "$tmp/body" 2>/dev/null || echo "(not JSON)"; }
field() { jq -r "$1" "$tmp/body" 2>/dev/null; }
header() { grep -i "^$1:" "$tmp/headers" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
totp() {
  local c
  c=$("$bin" totp-code "$(cat "$tmp/acct/$1.totp")")
  echo "$c" >>"$tmp/codes"
  echo "$c"
}
# recovery LOGIN: the next unused recovery code of LOGIN (removed from the list).
recovery() {
  local f=$tmp/acct/$1.rec c
  c=$(head -1 "$f")
  sed -i 1d "$f"
  secret "$c"
  echo "$c"
}
# login LOGIN PASSWORD [totp CODE | recovery CODE]: a sign-in from a fresh source address.
# Sets $status and $session (empty unless 200); the body stays in $tmp/body.
login() {
  local body
  body=$(jq -nc --arg l "$1" --arg p "$2" '{login: $l, password: $p}')
  case ${3:-} in
  totp) body=$(jq -c --arg c "$4" '. + {totp: $c}' <<<"$body") ;;
  recovery) body=$(jq -c --arg c "$4" '. + {recovery_code: $c}' <<<"$body") ;;
  esac
  src_n=$((src_n + 1))
  iface=127.0.0.$src_n call POST /api/v1/auth/login "" "$body"
  session=
  if [ "$status" = 200 ]; then
    session=$(field .session)
    secret "$session"
  fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# A code that is not the current one (nor, but for a 1e-6 chance, of the steps around it).
wrong_code() { printf '%06d' $(((10#$1 + 500000) % 1000000)); }

# --- every role signs in ------------------------------------------------------------------

declare -A sess
for a in "$P" "$I" "$O" "$S" "$D"; do
  role=$(cat "$tmp/acct/$a.role")
  t0=$(now_ms)
  login "$a" "$demo_pw" totp "$(totp "$a")"
  exp=$(field .expires_at_ms)
  check "$role ($a) signs in with password + TOTP: 200, role $role, must_reset false" \
    eval '[ "$status" = 200 ] && jq -e --arg r "$role" ".role == \$r and .must_reset == false" "$tmp/body" >/dev/null'
  sess[$a]=$session
done
check "the session token is ots_ + 43 base64url characters (256 bits)" eval 'grep -qE "^ots_[A-Za-z0-9_-]{43}\$" <<<"${sess[$P]}"'
check "expires_at_ms is 12 h after the sign-in (absolute timeout; got $(((exp - t0) / 1000)) s)" \
  eval '[ $((exp - t0 - 12 * 3600 * 1000)) -gt -60000 ] && [ $((exp - t0 - 12 * 3600 * 1000)) -lt 60000 ]'
cookie=$(header Set-Cookie)
check "Set-Cookie: opentp_session=<the session>; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200" \
  test "$cookie" = "opentp_session=${sess[$D]}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200"
login "$M" "$demo_pw"
check "the member signs in with the password alone: 200, role member" \
  eval '[ "$status" = 200 ] && jq -e ".role == \"member\"" "$tmp/body" >/dev/null'
sess[$M]=$session

for a in "$P" "$I" "$M" "$O" "$S" "$D"; do
  role=$(cat "$tmp/acct/$a.role")
  call GET /api/v1/me "${sess[$a]}"
  check "GET /api/v1/me as $role: 200, role $role, login $a" \
    eval '[ "$status" = 200 ] && jq -e --arg r "$role" --arg l "$a" ".role == \$r and .login == \$l and .api_token == false" "$tmp/body" >/dev/null'
done
call GET /api/v1/me "${sess[$P]}"
check "/me of the PS shows its ps_id and a step-up window (TOTP sign-in counts as step-up)" \
  eval 'jq -e --argjson p "$ps_id" ".ps_id == \$p and (.step_up_until_ms | type) == \"number\" and .totp == true" "$tmp/body" >/dev/null'
call GET /api/v1/me "${sess[$M]}"
check "/me of the member: no TOTP, no step-up window" eval 'jq -e ".totp == false and (has(\"step_up_until_ms\") | not)" "$tmp/body" >/dev/null'
call GET /api/v1/me ""
check "GET /api/v1/me without credentials: 401 unauthenticated, WWW-Authenticate: Bearer" \
  eval '[ "$status $(errcode) $(header WWW-Authenticate)" = "401 unauthenticated Bearer" ]'

# --- failures all look the same -----------------------------------------------------------

code_p=$("$bin" totp-code "$(cat "$tmp/acct/$P.totp")")
login "$P" "Wrong-Password-1234" totp "$(wrong_code "$code_p")"
cp "$tmp/body" "$tmp/f.wrongpw"
st_wrongpw=$status
login "$P" "$demo_pw" totp "$(wrong_code "$code_p")"
cp "$tmp/body" "$tmp/f.wrongtotp"
st_wrongtotp=$status
login "$P" "$demo_pw"
cp "$tmp/body" "$tmp/f.nototp"
st_nototp=$status
login "nobody@e2e.example" "$demo_pw" totp "$(wrong_code "$code_p")"
cp "$tmp/body" "$tmp/f.unknown"
st_unknown=$status
login "$M" "Wrong-Password-1234"
cp "$tmp/body" "$tmp/f.member"
st_member=$status
secret "Wrong-Password-1234"
check "wrong password, wrong TOTP, PS without TOTP, unknown login, member's wrong password: all 401" \
  test "$st_wrongpw $st_wrongtotp $st_nototp $st_unknown $st_member" = "401 401 401 401 401"
check "... with byte-identical bodies (invalid_credentials)" \
  eval 'for f in wrongtotp nototp unknown member; do cmp -s "$tmp/f.wrongpw" "$tmp/f.$f" || exit 1; done; jq -e ".error.code == \"invalid_credentials\"" "$tmp/f.wrongpw" >/dev/null'
login "$P" "$demo_pw" recovery "NOT-A-CODE"
check "a malformed recovery code: the same 401 body" eval '[ "$status" = 401 ] && cmp -s "$tmp/f.wrongpw" "$tmp/body"'

# Replay: the operator's code was used at sign-in.
used_o=$(sed -n 3p "$tmp/codes") # codes file: P, I, O, S, D in that order
login "$O" "$demo_pw" totp "$used_o"
check "replaying the TOTP code the operator signed in with: 401 invalid_credentials" \
  test "$status $(errcode)" = "401 invalid_credentials"
rc_o=$(recovery "$O")
login "$O" "$demo_pw" recovery "$rc_o"
check "the operator signs in with a recovery code: 200" test "$status" = 200
o_rec_session=$session
login "$O" "$demo_pw" recovery "$rc_o"
check "the same recovery code a second time: 401 invalid_credentials" test "$status $(errcode)" = "401 invalid_credentials"
call GET /api/v1/me "$o_rec_session"
check "a recovery-code session is not a step-up (no step_up_until_ms)" \
  eval '[ "$status" = 200 ] && jq -e "has(\"step_up_until_ms\") | not" "$tmp/body" >/dev/null'

# Per (login, network) throttling: from the 5th failure on, a growing delay. Unknown logins
# are counted like existing ones.
ghost=ghost@e2e.example
for _ in 1 2 3 4 5; do login "$ghost" "Not-The-Password-42"; done
check "5 failures on an unknown login: each 401" test "$status" = 401
login "$ghost" "Not-The-Password-42"
check "6th attempt at once, from another address of the same /24: 429 too_many_attempts, Retry-After" \
  eval '[ "$status $(errcode)" = "429 too_many_attempts" ] && [ "$(header Retry-After)" -ge 1 ]'
st429=$status
iface=127.0.1.77 call POST /api/v1/auth/login "" '{"login":"'$ghost'","password":"Not-The-Password-42"}'
check "the same login from another /24 (127.0.1.77) is not delayed: 401" test "$st429 $status" = "429 401"
iface=
secret "Not-The-Password-42"

# --- cookie, logout, revoke-all -----------------------------------------------------------

call GET /api/v1/me "cookie=${sess[$P]}"
check "the session cookie authenticates (curl -b opentp_session=...): 200 role ps" \
  eval '[ "$status" = 200 ] && jq -e ".role == \"ps\"" "$tmp/body" >/dev/null'
src_n=$((src_n + 1))
curl -s -o /dev/null -c "$tmp/jar" --interface "127.0.0.$src_n" -H 'Content-Type: application/json' \
  --data-binary "$(jq -nc --arg l "$M" --arg p "$demo_pw" '{login: $l, password: $p}')" "$base/api/v1/auth/login"
status=$(curl -s -o "$tmp/body" -w '%{http_code}' -b "$tmp/jar" "$base/api/v1/me")
check "a cookie jar from the sign-in response works (curl -c then -b): 200 role member" \
  eval '[ "$status" = 200 ] && jq -e ".role == \"member\"" "$tmp/body" >/dev/null'
grep -o 'ots_[A-Za-z0-9_-]*' "$tmp/jar" >>"$tmp/secrets"
check "the cookie jar marks the cookie HttpOnly" grep -q '^#HttpOnly_' "$tmp/jar"
call GET /api/v1/me "cookie=ots_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check "an unknown session in the cookie: 401 unauthenticated" test "$status $(errcode)" = "401 unauthenticated"

call POST /api/v1/auth/logout "cookie=${sess[$D]}"
check "logout (with the cookie): 200, Set-Cookie clears it (Max-Age=0)" \
  eval '[ "$status" = 200 ] && header Set-Cookie | grep -q "^opentp_session=; .*Max-Age=0"'
call GET /api/v1/me "${sess[$D]}"
check "after logout the session is refused (as bearer too): 401 unauthenticated" test "$status $(errcode)" = "401 unauthenticated"
check "logout recorded revoked_ms on the session row" \
  test "$(sql "SELECT count(*) FROM session WHERE revoked_ms > 0 AND account_id = (SELECT id FROM account WHERE login = '$D')")" = 1

login "$S" "$demo_pw" recovery "$(recovery "$S")"
s_other=$session
call GET /api/v1/me "$s_other"
s_other_ok=$status
call POST /api/v1/auth/sessions/revoke-all "${sess[$S]}" '{}'
check "revoke-all: 200, revoked 1 (the other session)" \
  eval '[ "$s_other_ok $status" = "200 200" ] && jq -e ".revoked == 1" "$tmp/body" >/dev/null'
call GET /api/v1/me "$s_other"
check "the other session is refused after revoke-all: 401" test "$status" = 401
call GET /api/v1/me "${sess[$S]}"
check "the session that asked is kept: 200" test "$status" = 200

# --- idle and absolute timeouts -----------------------------------------------------------

m=${sess[$M]}
m_id=$(sql "SELECT id FROM session WHERE account_id = (SELECT id FROM account WHERE login = '$M') AND revoked_ms = 0 ORDER BY id LIMIT 1")
sql "UPDATE session SET last_seen_ms = $(($(now_ms) - 14 * 60 * 1000)) WHERE id = $m_id"
call GET /api/v1/me "$m"
seen=$(sql "SELECT last_seen_ms FROM session WHERE id = $m_id")
check "a session idle for 14 min (default idle timeout 15 min) still works: 200" test "$status" = 200
check "... and its use moved last_seen_ms to now" eval '[ $(($(now_ms) - seen)) -lt 60000 ]'
sql "UPDATE session SET last_seen_ms = $(($(now_ms) - 16 * 60 * 1000)) WHERE id = $m_id"
call GET /api/v1/me "$m"
check "a session idle for 16 min: 401 unauthenticated" test "$status $(errcode)" = "401 unauthenticated"
login "$M" "$demo_pw"
m2=$session
sql "UPDATE session SET expires_ms = $(($(now_ms) - 1000)) WHERE id = (SELECT max(id) FROM session)"
call GET /api/v1/me "$m2"
check "a session past its absolute expiry (expires_ms in the past): 401" test "$status" = 401

# --- PS API tokens ------------------------------------------------------------------------

pt=${sess[$P]}
call POST "/api/v1/ps/$ps_id/tokens" "$pt" '{"label":"e2e software","expires_days":30}'
tok=$(field '.token // ""')
tok_id=$(field '.id // 0')
secret "$tok"
check "POST /ps/$ps_id/tokens (PS, fresh TOTP sign-in): 201, otp_ token, scopes [rights.check], 30 days" \
  eval '[ "$status" = 201 ] && grep -qE "^otp_[A-Za-z0-9_-]{43}\$" <<<"$tok" &&
        jq -e "(.expires_at - now | floor) > 29*86400 and (.expires_at - now) < 31*86400 and .scopes == [\"rights.check\"]" "$tmp/body" >/dev/null'
call POST "/api/v1/ps/$ps_id/tokens" "$pt" '{"label":"x","expires_days":0}'
check "expires_days 0: 400 invalid_field" test "$status $(errcode)" = "400 invalid_field"
call POST /api/v1/rights/check "$tok" "$card"
check "the new token checks rights: 200" test "$status" = 200
call POST /api/v1/rights/check "$pt" "$card"
check "the PS session checks rights too: 200" test "$status" = 200
call GET "/api/v1/ps/$ps_id/tokens" "$pt"
check "GET /ps/$ps_id/tokens lists it (label, not revoked), without its text" \
  eval '[ "$status" = 200 ] && jq -e --argjson id "$tok_id" "any(.tokens[]; .id == \$id and .label == \"e2e software\" and .revoked == false)" "$tmp/body" >/dev/null && ! grep -qF "$tok" "$tmp/body"'
call GET /api/v1/me "$tok"
check "the API token cannot call /api/v1/me: 403 forbidden" test "$status $(errcode)" = "403 forbidden"
call POST "/api/v1/ps/$ps_id/tokens" "$tok" '{"label":"from a token","expires_days":1}'
check "the API token cannot create tokens: 403 forbidden" test "$status $(errcode)" = "403 forbidden"
call GET "/api/v1/ps/$ps_id/tokens" "$tok"
check "the API token cannot list tokens: 403 forbidden" test "$status $(errcode)" = "403 forbidden"
call POST /api/v1/auth/logout "$tok" '{}'
check "the API token cannot log out: 403 forbidden" test "$status $(errcode)" = "403 forbidden"
call DELETE "/api/v1/tokens/$tok_id" "$pt"
check "DELETE /tokens/$tok_id: 200 revoked" eval '[ "$status" = 200 ] && jq -e ".revoked == true" "$tmp/body" >/dev/null'
call DELETE "/api/v1/tokens/$tok_id" "$pt"
check "revoking it again: 404 not_found" test "$status $(errcode)" = "404 not_found"
sleep 1.2 # token state may be cached for up to 1 s (TP_TOKEN_CACHE_MS)
call POST /api/v1/rights/check "$tok" "$card"
check "the revoked token, 1.2 s later: 401 unauthenticated" test "$status $(errcode)" = "401 unauthenticated"
call GET "/api/v1/ps/$ps_id/tokens" "$pt"
check "the list shows it revoked" eval 'jq -e --argjson id "$tok_id" "any(.tokens[]; .id == \$id and .revoked == true)" "$tmp/body" >/dev/null'

# Step-up: a sign-in with a recovery code proves no TOTP.
login "$PS2" "$pw_ps2" recovery "$(recovery "$PS2")"
p2=$session
call POST "/api/v1/ps/$ps_id/tokens" "$p2" '{"label":"needs step-up","expires_days":1}'
check "PS signed in with a recovery code creates a token: 403 step_up_required" test "$status $(errcode)" = "403 step_up_required"
code_ps2=$(totp "$PS2")
call POST /api/v1/auth/step-up "$p2" "{\"totp\":\"$(wrong_code "$code_ps2")\"}"
check "step-up with a wrong code: 401 invalid_code" test "$status $(errcode)" = "401 invalid_code"
call POST /api/v1/auth/step-up "$p2" "{\"totp\":\"$code_ps2\"}"
check "step-up with a fresh TOTP: 200, step_up_until_ms 5 min ahead" \
  eval '[ "$status" = 200 ] && [ $(( $(field .step_up_until_ms) - $(now_ms) )) -gt 290000 ] && [ $(( $(field .step_up_until_ms) - $(now_ms) )) -le 300000 ]'
call POST /api/v1/auth/step-up "$p2" "{\"totp\":\"$code_ps2\"}"
check "step-up replaying the same code: 401 invalid_code" test "$status $(errcode)" = "401 invalid_code"
call POST "/api/v1/ps/$ps_id/tokens" "$p2" '{"label":"after step-up","expires_days":1}'
check "after the step-up the token is created: 201" test "$status" = 201
secret "$(field '.token // ""')"
login "$M" "$demo_pw"
call POST /api/v1/auth/step-up "$session" '{"totp":"123456"}'
check "step-up for a member (no TOTP enrolled): 401 invalid_code" test "$status $(errcode)" = "401 invalid_code"
# Failed step-ups share the sign-in failure window (per account and network): a session's
# holder cannot guess TOTP codes at the server's speed.
: >"$tmp/stepup.statuses"
t_loop=$(date +%s.%N)
for i in $(seq 30); do
  call POST /api/v1/auth/step-up "${sess[$O]}" "{\"totp\":\"$(printf '%06d' $((i * 7919 % 1000000)))\"}"
  echo "$status" >>"$tmp/stepup.statuses"
done
n429=$(grep -c '^429$' "$tmp/stepup.statuses"); n401=$(grep -c '^401$' "$tmp/stepup.statuses")
# Past 5 failures each attempt waits 1, 2, 4... s: a slow machine (sanitizers, load) may see
# one more evaluated per doubling of the loop's duration, never more.
allowed=$(python3 -c "import math; e = $(date +%s.%N) - $t_loop; print(5 + int(math.log2(e + 1)))")
check "30 wrong step-up codes: at most $allowed evaluated in the time taken ($n401 x 401), the rest throttled ($n429 x 429)" \
  eval '[ "$n401" -le "$allowed" ] && [ $((n401 + n429)) = 30 ] && [ "$n429" -ge 20 ]'

# --- forced reset and password change -----------------------------------------------------

login "$CIBLE" "$pw_cible" totp "$(totp "$CIBLE")"
c1=$session
login "$SEC2" "$pw_sec2" recovery "$(recovery "$SEC2")"
sec2=$session
call POST "/api/v1/accounts/$cible_id/force-reset" "$sec2" '{}'
check "security officer without step-up forces a reset: 403 step_up_required" test "$status $(errcode)" = "403 step_up_required"
call POST /api/v1/auth/step-up "$sec2" "{\"totp\":\"$(totp "$SEC2")\"}"
check "the security officer steps up: 200" test "$status" = 200
call POST "/api/v1/accounts/$cible_id/force-reset" "$sec2" '{}'
check "then the forced reset: 200, must_reset, 1 session revoked" \
  eval '[ "$status" = 200 ] && jq -e ".must_reset == true and .sessions_revoked == 1" "$tmp/body" >/dev/null'
call POST "/api/v1/accounts/999999/force-reset" "$sec2" '{}'
check "forced reset of an account that does not exist: 404 not_found" test "$status $(errcode)" = "404 not_found"
call GET /api/v1/me "$c1"
check "the reset account's session is refused: 401" test "$status" = 401
login "$CIBLE" "$pw_cible" recovery "$(recovery "$CIBLE")"
check "its next sign-in: 200 with must_reset true" eval '[ "$status" = 200 ] && jq -e ".must_reset == true" "$tmp/body" >/dev/null'
r1=$session
login "$CIBLE" "$pw_cible" recovery "$(recovery "$CIBLE")"
r2=$session
call GET /api/v1/me "$r1"
check "must_reset: GET /me still answers 200 (must_reset true)" \
  eval '[ "$status" = 200 ] && jq -e ".must_reset == true" "$tmp/body" >/dev/null'
call GET "/api/v1/ps/$ps_id/tokens" "$r1"
check "must_reset: listing its PS's tokens: 403 password_reset_required" test "$status $(errcode)" = "403 password_reset_required"
call POST /api/v1/rights/check "$r1" "$card"
check "must_reset: a rights check: 403 password_reset_required" test "$status $(errcode)" = "403 password_reset_required"
call POST /api/v1/auth/sessions/revoke-all "$r1" '{}'
check "must_reset: revoke-all: 403 password_reset_required" test "$status $(errcode)" = "403 password_reset_required"
call POST /api/v1/auth/step-up "$r1" '{"totp":"123456"}'
check "must_reset: step-up: 403 password_reset_required" test "$status $(errcode)" = "403 password_reset_required"

pwchange() { call POST /api/v1/auth/password "$1" "$(jq -nc --arg c "$2" --arg n "$3" '{current_password: $c, new_password: $n}')"; secret "$3"; }
pwchange "$r1" "$pw_cible" "Short-1a!"
check "new password of 9 characters: 400 too_short" test "$status $(errcode)" = "400 too_short"
pwchange "$r1" "$pw_cible" "alllowercaseandlong"
check "19 lower-case letters only: 400 missing_classes" test "$status $(errcode)" = "400 missing_classes"
pwchange "$r1" "$pw_cible" "Azerty123456!"
check "a common password dressed up (Azerty123456!): 400 common_password" test "$status $(errcode)" = "400 common_password"
pwchange "$r1" "$pw_cible" "Cible-E2e-Example-2026"
check "a password containing the login: 400 contains_login" test "$status $(errcode)" = "400 contains_login"
pwchange "$r1" "Not-The-Current-Pw-1" "Brand-New-Password-2026"
check "a good new password with a wrong current password: 401 invalid_credentials" test "$status $(errcode)" = "401 invalid_credentials"
new_pw="Brand-New-Password-2026"
pwchange "$r1" "$pw_cible" "$new_pw"
check "a good new password: 200 changed, 1 other session revoked" \
  eval '[ "$status" = 200 ] && jq -e ".changed == true and .other_sessions_revoked == 1" "$tmp/body" >/dev/null'
call GET /api/v1/me "$r2"
check "the other session is refused after the change: 401" test "$status" = 401
call GET "/api/v1/ps/$ps_id/tokens" "$r1"
check "the session that changed the password now works fully (token list): 200" test "$status" = 200
rc_c=$(recovery "$CIBLE")
login "$CIBLE" "$pw_cible" recovery "$rc_c"
check "the old password no longer works: 401 invalid_credentials" test "$status $(errcode)" = "401 invalid_credentials"
login "$CIBLE" "$new_pw" recovery "$rc_c"
check "the new password works (and the recovery code was not spent by the failure): 200, must_reset false" \
  eval '[ "$status" = 200 ] && jq -e ".must_reset == false" "$tmp/body" >/dev/null'

# --- what was recorded --------------------------------------------------------------------

sleep 0.5 # auth events are written by the group-commit writer
ev() { sql "SELECT count(*) FROM auth_event WHERE $1"; }
check "auth_event: logins ok ($(ev "kind = 'login' AND outcome = 'ok'")), with the role as detail" \
  eval '[ "$(ev "kind = '\''login'\'' AND outcome = '\''ok'\'' AND detail IN ('\''ps'\'','\''member'\'','\''insurer'\'','\''operator'\'','\''security'\'','\''dpo'\'')")" -ge 9 ]'
check "auth_event: logins with a recovery code (ok_recovery_code)" eval '[ "$(ev "outcome = '\''ok_recovery_code'\''")" -ge 6 ]'
check "auth_event: failed logins ($(ev "kind = 'login' AND outcome = 'invalid_credentials'") invalid_credentials)" \
  eval '[ "$(ev "kind = '\''login'\'' AND outcome = '\''invalid_credentials'\''")" -ge 14 ]'
check "auth_event: the unknown login's failure has no account_id, a 32-hex login_ref" \
  eval '[ "$(ev "kind = '\''login'\'' AND outcome = '\''invalid_credentials'\'' AND account_id IS NULL AND length(login_ref) = 32")" -ge 7 ]'
check "auth_event: throttled attempts recorded" eval '[ "$(ev "kind = '\''login'\'' AND outcome = '\''throttled'\''")" -ge 1 ]'
for row in "allow|tokens.create" "step_up_required|tokens.create" "forbidden|me" "unauthenticated|me" \
  "password_reset_required|tokens.list" "allow|accounts.force_reset" "step_up_required|accounts.force_reset" \
  "allow|auth.logout" "allow|auth.sessions_revoke_all" "not_found|accounts.force_reset"; do
  check "auth_event: authz decision ${row%|*} for ${row#*|}" \
    eval '[ "$(ev "kind = '\''authz'\'' AND outcome = '\''${row%|*}'\'' AND detail = '\''${row#*|}'\''")" -ge 1 ]'
done
check "auth_event: step-ups ok and invalid_code" eval '[ "$(ev "kind = '\''step_up'\'' AND outcome = '\''ok'\''")" -ge 2 ] && [ "$(ev "kind = '\''step_up'\'' AND outcome = '\''invalid_code'\''")" -ge 2 ]'
check "auth_event: the password change (ok)" eval '[ "$(ev "kind = '\''password_change'\'' AND outcome = '\''ok'\''")" = 1 ]'
check "auth_event: every row has a source address and a request id" \
  eval '[ "$(ev "source NOT LIKE '\''127.%'\'' OR length(request_id) != 32")" = 0 ]'
sql "SELECT * FROM auth_event" >"$tmp/auth_event.txt"
check "auth_event holds no login in clear (keyed hash only)" \
  eval '! grep -qF -e "$P" -e "$M" -e "$CIBLE" -e "$ghost" -e "nobody@e2e" "$tmp/auth_event.txt"'

# --- shutdown, then no secret anywhere ----------------------------------------------------

kill -TERM "$server"
for _ in $(seq 300); do
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server" 2>/dev/null; then
  notok "server still running 30 s after SIGTERM"
  kill -KILL "$server"
fi
wait "$server" 2>/dev/null
server=
check "server stderr has no sanitizer report" eval '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$tmp/server.err"'
check "access log has a line per sign-in (route=auth.login)" eval '[ "$(grep -c " route=auth.login " "$tmp/access.log")" -ge 25 ]'

# --- a second server on the same platform: other timeouts, Secure cookie -------------------

"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port2" --exit-after 600 \
  --access-log "$tmp/access2.log" --cookie-secure --session-max-hours 1 --session-idle-minutes 1 \
  >"$tmp/server2.out" 2>"$tmp/server2.err" &
server=$!
for _ in $(seq 300); do
  [ -s "$tmp/port2" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -s "$tmp/port2" ]; then
  base=http://127.0.0.1:$(cat "$tmp/port2")
  t0=$(now_ms)
  login "$M" "$demo_pw"
  exp=$(field .expires_at_ms)
  check "serve --cookie-secure --session-max-hours 1: Set-Cookie ...; Max-Age=3600; Secure" \
    eval '[ "$status" = 200 ] && [ "$(header Set-Cookie)" = "opentp_session=$session; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure" ]'
  check "... and expires_at_ms 1 h after the sign-in" \
    eval '[ $((exp - t0 - 3600 * 1000)) -gt -60000 ] && [ $((exp - t0 - 3600 * 1000)) -lt 60000 ]'
  sql "UPDATE session SET last_seen_ms = $(($(now_ms) - 2 * 60 * 1000)) WHERE id = (SELECT max(id) FROM session)"
  call GET /api/v1/me "$session"
  check "serve --session-idle-minutes 1: a session idle for 2 min is refused: 401" test "$status" = 401
  kill -TERM "$server"
  wait "$server" 2>/dev/null
else
  notok "second server (--cookie-secure --session-max-hours 1 --session-idle-minutes 1) did not start: $(head -3 "$tmp/server2.err")"
fi
server=

sort -u "$tmp/secrets" | grep -v '^$' >"$tmp/secrets.u"
sort -u "$tmp/codes" | grep -v '^$' >"$tmp/codes.u"
n_sec=$(wc -l <"$tmp/secrets.u")
n_codes=$(wc -l <"$tmp/codes.u")
check "control: $n_sec secrets (passwords, recovery codes, session and API tokens) and $n_codes TOTP codes were used" \
  eval '[ "$n_sec" -ge 25 ] && [ "$n_codes" -ge 8 ] && grep -qF -f "$tmp/secrets.u" "$tmp/secrets"'
for f in auth_event.txt access.log server.err server.out access2.log server2.err; do
  check "no secret in $f" eval '! grep -qF -f "$tmp/secrets.u" "$tmp/$f"'
  check "no TOTP code used in $f (as a word)" eval '! grep -qwF -f "$tmp/codes.u" "$tmp/$f"'
done
cat "$db" "$db-wal" 2>/dev/null >"$tmp/dbbytes"
check "no password, recovery code or token text in the database files" eval '! grep -aqF -f "$tmp/secrets.u" "$tmp/dbbytes"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
