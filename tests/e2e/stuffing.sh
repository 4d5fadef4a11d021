#!/usr/bin/env bash
# Credential stuffing (OWASP OAT-008; PRODUCT §5, CNIL 2022-100): 10,000 sign-in attempts on
# 1,000 accounts from one address, as fast as curl can send them, must open no session; most
# attempts must be refused by the per-source rate limit before any password is hashed; and
# the owner of an attacked account must still sign in from their own network.
#
# Accounts. `opentp user add` hashes with argon2id (~0.1 s each), too slow for 1,000: one
# operator account is made with it (the "victim", who has a TOTP secret and recovery codes),
# then cloned 999 times in SQL with the same password hash and the same sealed TOTP secret.
# A TOTP secret is sealed with its login as associated data, so no clone can ever pass TOTP:
# the clones are accounts whose password is right and whose second factor cannot be given,
# which is what the attacker faces anyway (their list has passwords, no TOTP codes).
#
# The attack: attempt k names account k mod 1000 (10 attempts per account, the victim
# included); 1 % of attempts carry the right password (a leaked list), the others a wrong
# one; none has a TOTP code. 8 curl processes each send 1,250 requests over one keep-alive
# connection (curl -K with "next"), from 127.0.0.1. The run is capped at 120 s: past that the
# senders are stopped and what was counted so far is reported.
#
# Throttling as built (src/core/throttle.h, src/http/api_auth.c): per source address, a GCRA
# of one attempt per 2 s with bursts of 10 (IP_INTERVAL_MS, IP_BURST); per (login, source
# network, /24 for IPv4), a growing delay from the 5th failure and a lock at 25. So at most
# 10 + elapsed/2 attempts of the flood may reach argon2id.
#
# The owner signs in from 127.0.1.1, another /24 (Linux routes all of 127/8 to lo, and curl
# --interface picks the source address): neither the flood's address budget nor its failures
# on (victim, 127.0.0.0/24) apply there.
# shellcheck disable=SC2015,SC2016 # `check NAME eval '...'` expands when the check runs
set -u
bin=${1:?usage: stuffing.sh /path/to/opentp}
tmp=$(mktemp -d)
server=
senders=()
cleanup() {
  for p in "${senders[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else notok "$name"; fi
}
die() {
  echo "not ok - $1"
  echo "$pass passed, $((fail + 1)) failed"
  exit 1
}

ACCOUNTS=1000
ATTEMPTS=10000
SENDERS=8
CAP_S=120
IP_INTERVAL_MS=2000 # src/http/api_auth.c defaults
IP_BURST=10

data=$tmp/platform
db=$data/opentp.db
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
"$bin" init --data "$data" >/dev/null 2>"$tmp/init.err" || die "opentp init failed: $(cat "$tmp/init.err")"
victim=victim@stuffing.example
password=Leaked-But-Still-Strong-2026
printf '%s\n' "$password" | "$bin" user add --data "$data" --login "$victim" --role operator --password-stdin >"$tmp/user" 2>&1 ||
  die "opentp user add failed: $(cat "$tmp/user")"
secret=$(awk '$1 == "TOTP" && $2 == "secret" { print $3 }' "$tmp/user")
read -r -a rec <<<"$(awk '$1 == "recovery" { $1 = $2 = ""; print }' "$tmp/user")"
[ -n "$secret" ] && [ "${#rec[@]}" = 10 ] || die "no TOTP secret or recovery codes in: $(cat "$tmp/user")"

sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $((ACCOUNTS - 1)))
     INSERT INTO account (login, role, password_hash, must_reset, totp_sealed, created_ms)
     SELECT printf('user%04d@stuffing.example', i), a.role, a.password_hash, 0, a.totp_sealed, a.created_ms
     FROM n, account a WHERE a.login = '$victim'"
check "$ACCOUNTS accounts with the same password hash (1 made by opentp user add, $((ACCOUNTS - 1)) cloned)" \
  test "$(sql "SELECT count(*) FROM account WHERE password_hash = (SELECT password_hash FROM account WHERE login = '$victim')")" = "$ACCOUNTS"

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
login_url=$base/api/v1/auth/login

# login FROM LOGIN PASSWORD [EXTRA_JSON]: one sign-in from source address FROM; sets $status,
# body in $tmp/body, headers in $tmp/headers.
login() {
  local body extra=${4:-}
  [ -n "$extra" ] || extra='{}'
  body=$(jq -nc --arg l "$2" --arg p "$3" --argjson x "$extra" '{login: $l, password: $p} + $x')
  status=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --interface "$1" \
    -H 'Content-Type: application/json' --data-binary "$body" "$login_url") || status=000
}
errcode() { jq -r '.error.code // "-"' "$tmp/body" 2>/dev/null || echo "(not JSON)"; }
header() { grep -i "^$1:" "$tmp/headers" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }

# Controls, from addresses of their own: a clone has the right password and no usable TOTP.
login 127.0.2.1 user0001@stuffing.example "$password"
check "control: a clone with the right password and no TOTP: 401 invalid_credentials" test "$status $(errcode)" = "401 invalid_credentials"
code=$("$bin" totp-code "$secret")
login 127.0.2.2 user0002@stuffing.example "$password" "{\"totp\":\"$code\"}"
check "control: a clone with the right password and the victim's TOTP code: 401 (the seed is sealed to the login)" \
  test "$status $(errcode)" = "401 invalid_credentials"
sessions0=$(sql "SELECT count(*) FROM session")
check "no session before the attack" test "$sessions0" = 0

# --- the attack ---------------------------------------------------------------------------

mkdir "$tmp/atk"
awk -v n="$ATTEMPTS" -v accounts="$ACCOUNTS" -v senders="$SENDERS" -v url="$login_url" \
  -v pw="$password" -v victim="$victim" -v dir="$tmp/atk" '
  BEGIN {
    for (k = 0; k < n; k++) {
      a = k % accounts
      login = a == 0 ? victim : sprintf("user%04d@stuffing.example", a)
      p = k % 100 == 37 ? pw : sprintf("Guess-%05d-Password!", k)
      f = dir "/" (k % senders) ".cfg"
      if (seen[f]++) print "next" > f
      printf "url = \"%s\"\nheader = \"Content-Type: application/json\"\n", url > f
      printf "data-binary = \"{\\\"login\\\":\\\"%s\\\",\\\"password\\\":\\\"%s\\\"}\"\n", login, p > f
      printf "output = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\nsilent\n" > f
    }
  }'
check "$ATTEMPTS attempts written for $SENDERS senders ($(grep -c '^url' "$tmp"/atk/*.cfg | awk -F: '{ s += $2 } END { print s }') urls; $(grep -c "$password" "$tmp"/atk/*.cfg | awk -F: '{ s += $2 } END { print s }') with the right password)" \
  test "$(cat "$tmp"/atk/*.cfg | grep -c '^url')" = "$ATTEMPTS"

t0=$(date +%s%N)
for i in $(seq 0 $((SENDERS - 1))); do
  curl -K "$tmp/atk/$i.cfg" >"$tmp/atk/$i.out" 2>"$tmp/atk/$i.err" &
  senders+=($!)
done
capped=0
while :; do
  alive=0
  for p in "${senders[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  if [ $((($(date +%s%N) - t0) / 1000000000)) -ge "$CAP_S" ]; then
    capped=1
    for p in "${senders[@]}"; do kill "$p" 2>/dev/null; done
    break
  fi
  sleep 0.2
done
for p in "${senders[@]}"; do wait "$p" 2>/dev/null; done
senders=()
t1=$(date +%s%N)
elapsed_ms=$(((t1 - t0) / 1000000))
cat "$tmp"/atk/*.out >"$tmp/statuses"
sent=$(wc -l <"$tmp/statuses")
count() { grep -c "^$1\$" "$tmp/statuses"; }
n200=$(count 200) n401=$(count 401) n429=$(count 429) n503=$(count 503)
other=$((sent - n200 - n401 - n429 - n503))
echo "# $sent attempts in $((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100)) s ($((sent * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1))) per s): 200: $n200, 401: $n401, 429: $n429, 503: $n503, other: $other"
[ "$capped" = 0 ] && ok "the attack ran to the end within ${CAP_S} s" ||
  notok "the attack was stopped at the ${CAP_S} s cap after $sent attempts"
check "at least 90 % of the $ATTEMPTS attempts were sent and answered ($sent)" test "$sent" -ge $((ATTEMPTS * 9 / 10))
check "no attempt succeeded (no 200)" test "$n200" = 0
check "every answer is 401 or 429 (503 overloaded: $n503, other: $other)" test $((n503 + other)) = 0
check "most attempts were throttled: $n429 of $sent answered 429 (at least 90 %)" test "$((n429 * 10))" -ge "$((sent * 9))"
budget=$((IP_BURST + elapsed_ms / IP_INTERVAL_MS + 1))
check "only $n401 attempts reached the password check, within the per-address budget (burst $IP_BURST + 1 per 2 s = $budget)" \
  test "$n401" -le "$budget"
check "no session was created (session rows: $sessions0 before, $(sql "SELECT count(*) FROM session") after)" \
  test "$(sql "SELECT count(*) FROM session")" = "$sessions0"
# Auth events are written by the group-commit writer: wait until the last are in.
for _ in $(seq 50); do
  [ "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'login' AND source = '127.0.0.1'")" -ge "$sent" ] && break
  sleep 0.2
done
check "auth_event: one 'throttled' login event per 429 ($(sql "SELECT count(*) FROM auth_event WHERE outcome = 'throttled' AND source = '127.0.0.1'"))" \
  test "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'login' AND outcome = 'throttled' AND source = '127.0.0.1'")" = "$n429"
check "auth_event: one 'invalid_credentials' event per 401 from the attacker" \
  test "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'login' AND outcome = 'invalid_credentials' AND source = '127.0.0.1'")" = "$n401"

login 127.0.0.1 "$victim" "$password" "{\"recovery_code\":\"${rec[0]}\"}"
check "right after the attack, even the right credentials from 127.0.0.1 get 429 too_many_attempts with Retry-After ($(header Retry-After) s)" \
  eval '[ "$status $(errcode)" = "429 too_many_attempts" ] && [ "$(header Retry-After)" -ge 1 ]'
retry=$(header Retry-After)

# --- the owner ----------------------------------------------------------------------------

code=$("$bin" totp-code "$secret")
login 127.0.1.1 "$victim" "$password" "{\"totp\":\"$code\"}"
check "the owner (password + TOTP) signs in from 127.0.1.1, another /24: 200, role operator" \
  eval '[ "$status" = 200 ] && jq -e ".role == \"operator\" and (.session | startswith(\"ots_\"))" "$tmp/body" >/dev/null'
check "one session exists now, the owner's, from 127.0.1.1" \
  test "$(sql "SELECT count(*) || ' ' || group_concat(source) FROM session")" = "1 127.0.1.1"

# From the attacked address itself, once its budget has refilled: the owner's account is
# delayed there only if the flood's evaluated attempts made >= 5 failures on it from that
# /24 (throttle.h: the pair is throttled, not the account).
sleep "${retry:-2}.2"
ref=$(sql "SELECT login_ref FROM auth_event WHERE kind = 'login' AND outcome = 'ok' LIMIT 1")
victim_fails=$(sql "SELECT count(*) FROM auth_event WHERE kind = 'login' AND outcome = 'invalid_credentials' AND login_ref = '$ref' AND source = '127.0.0.1'")
login 127.0.0.1 "$victim" "$password" "{\"recovery_code\":\"${rec[1]}\"}"
if [ "$victim_fails" -lt 5 ]; then
  check "from 127.0.0.1, ${retry:-2} s later ($victim_fails failures on the owner's account from there): the owner signs in with a recovery code: 200" \
    test "$status" = 200
else
  check "from 127.0.0.1, ${retry:-2} s later ($victim_fails failures on the owner's account from there): still delayed for that network: 429" \
    test "$status" = 429
fi

# --- shutdown -----------------------------------------------------------------------------

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
check "access log: a line per attempt ($(grep -c ' route=auth.login ' "$tmp/access.log") auth.login lines)" \
  eval '[ "$(grep -c " route=auth.login " "$tmp/access.log")" -ge "$sent" ]'
check "the password appears in no log (access log, server output)" \
  eval '! grep -qF "$password" "$tmp/access.log" "$tmp/server.err" "$tmp/server.out"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
