#!/usr/bin/env bash
# Payment runs with the real binary (docs/PAYMENTS.md "Payment runs"):
#   1. `opentp pay` over claims of many PS and AMCs: the pain.001 file validates against the
#      ISO 20022 XSD (xmllint), its NbOfTxs / CtrlSum match the transfers and the database,
#      every invoice is in exactly one remittance advice, the AMC statements add up to the AMC
#      parts, folder 0700 and files 0600, every claim 'paid';
#   2. exactly once under SIGKILL: runs killed at set points (--slow-for-test sleeps between
#      the phases) and at random times over a larger run, each followed by a restart; then
#      every accepted claim is in exactly one advice of one completed run, every transfer's
#      EndToEndId is unique, and the transfers add up to the AMC parts, PS by PS;
#   3. advances: granted from the PS's volume, paid by the next run as a transfer of its own,
#      deducted by the following one (advice and statement show it);
#   4. the operator API: a PS user and insurer staff get 403, an operator without a fresh TOTP
#      403 step_up_required, with one the run starts (202) and completes; advance grant (201,
#      integer cents only); every decision in auth_event.
# The claim table belongs to the claims module; it is created here when the schema has none.
#   tests/e2e/pay.sh /path/to/opentp
# shellcheck disable=SC2015
set -u
bin=${1:?usage: pay.sh /path/to/opentp}
src=${TP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
# The published ISO 20022 schema lives beside the project (../shared/data, PRODUCT §7: not
# copied into the tree).
xsd=${TP_SHARED:-$src/../shared}/data/iso20022/pain.001.001.03.xsd
tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
  fi
  [ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
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
for t in sqlite3 jq curl; do command -v $t >/dev/null || die "$t is not installed (scripts/deps.sh test)"; done
have_xsd=1
if ! command -v xmllint >/dev/null || [ ! -f "$xsd" ]; then
  have_xsd=0
  echo "# SKIP schema checks: xmllint or $xsd missing"
fi

data=$tmp/p
db=$data/opentp.db
out=$data/payments
sql() { sqlite3 -cmd '.timeout 10000' "$db" "$@"; }
"$bin" demo --data "$data" --beneficiaries 300 >/dev/null 2>"$tmp/demo.err" || die "opentp demo: $(cat "$tmp/demo.err")"
sql "CREATE TABLE IF NOT EXISTS claim(id INTEGER PRIMARY KEY, ps_id INTEGER NOT NULL,
  invoice TEXT NOT NULL, content_digest BLOB NOT NULL, beneficiary_id INTEGER NOT NULL,
  amc_number TEXT NOT NULL, engagement TEXT, pec TEXT, date_of_care INTEGER NOT NULL,
  submitted_ms INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('accepted','rejected',
  'cancelled','paid')), total_cents INTEGER, amo_cents INTEGER, amc_cents INTEGER,
  patient_cents INTEGER NOT NULL, reasons TEXT NOT NULL, payment_run INTEGER,
  UNIQUE(ps_id, invoice))" || die "cannot create the claim table"
batch=0
# add_claims N NPS: N claims over the first NPS PS (by id) and the first 3 AMCs; one in ten
# rejected; amounts vary.
add_claims() {
  batch=$((batch + 1))
  sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1),
      a(k, num) AS (SELECT row_number() OVER (ORDER BY id) - 1, number FROM amc)
    INSERT INTO claim(ps_id, invoice, content_digest, beneficiary_id, amc_number, date_of_care,
      submitted_ms, status, total_cents, amo_cents, amc_cents, patient_cents, reasons)
    SELECT 1 + i % $2, 'B$batch-' || i, x'00', 1,
      (SELECT num FROM a WHERE k = i % 3), 20400, 0,
      CASE WHEN i % 10 = 0 THEN 'rejected' ELSE 'accepted' END, 9000, 6000,
      100 + (i * 7919) % 25000, 0, '' FROM n" || die "cannot insert claims"
}

# --- 1. one run -----------------------------------------------------------------------------

add_claims 3000 60
"$bin" pay --data "$data" >"$tmp/nopay.out" 2>&1
check "without a paying account the run is refused and nothing is assigned" \
  eval '[ "$(sql "SELECT count(*) FROM claim WHERE payment_run IS NOT NULL")" = 0 ] && grep -q "no paying account" "$tmp/nopay.out"'
"$bin" pay account --data "$data" --name "Plateforme opentp" --iban FR7630006000011234567890189 --bic AGRI >/dev/null 2>&1
check "a paying account with a bad BIC is refused" test $? -ne 0
"$bin" pay account --data "$data" --name "Plateforme opentp" --iban FR7630006000011234567890189 --bic AGRIFRPP >/dev/null ||
  die "pay account failed"
"$bin" pay --data "$data" --date 2026-12-01 >"$tmp/run1.out" 2>&1 || die "opentp pay: $(cat "$tmp/run1.out")"
run=OPENTP-PAY-000001
dir=$out/$run
check "the run's folder is named by the run id" test -d "$dir"
check "folder mode 0700" test "$(stat -c %a "$dir")" = 700
check "every file mode 0600" test -z "$(find "$dir" -type f ! -perm 600)"
if [ "$have_xsd" = 1 ]; then
  check "$run.xml validates against pain.001.001.03.xsd" xmllint --noout --schema "$xsd" "$dir/$run.xml" 2>/dev/null
fi
want_n=$(sql "SELECT count(DISTINCT ps_id) FROM claim WHERE status = 'paid' AND payment_run = 1")
want_sum=$(sql "SELECT sum(amc_cents) FROM claim WHERE status = 'paid' AND payment_run = 1")
n=$(grep -c '<CdtTrfTxInf>' "$dir/$run.xml")
sum=$(sed -n 's/.*<InstdAmt Ccy="EUR">\([0-9]*\)\.\([0-9][0-9]\)<.*/\1\2/p' "$dir/$run.xml" | awk '{s += $1} END {printf "%.0f", s}')
hdr_n=$(sed -n 's/.*<NbOfTxs>\([0-9]*\)<.*/\1/p' "$dir/$run.xml" | sort -u)
hdr_sum=$(sed -n 's/.*<CtrlSum>\([0-9]*\)\.\([0-9][0-9]\)<.*/\1\2/p' "$dir/$run.xml" | sort -u | sed 's/^0*//')
check "one transfer per PS ($n, database: $want_n), NbOfTxs agrees" eval '[ "$n" = "$want_n" ] && [ "$hdr_n" = "$n" ]'
check "CtrlSum = sum of the transfers = sum of the AMC parts ($sum cents)" eval '[ "$hdr_sum" = "$sum" ] && [ "$sum" = "$want_sum" ]'
check "every accepted claim paid, no rejected one" \
  eval '[ "$(sql "SELECT count(*) FROM claim WHERE status = '"'accepted'"'")" = 0 ] && [ "$(sql "SELECT count(*) FROM claim WHERE status = '"'rejected'"' AND payment_run IS NOT NULL")" = 0 ]'
cat "$dir"/advice-*.csv | grep '^invoice,' | cut -d, -f2 | sort >"$tmp/advised"
sql "SELECT invoice FROM claim WHERE payment_run = 1 AND amc_cents > 0" | sort >"$tmp/paid"
check "every invoice paid is in exactly one remittance advice ($(wc -l <"$tmp/paid"))" \
  eval 'cmp -s "$tmp/advised" "$tmp/paid" && [ -z "$(uniq -d "$tmp/advised")" ]'
st_sum=$(cat "$dir"/statement-*.csv | grep '^TOTAL,' | cut -d, -f4 | tr -d . | awk '{s += $1} END {printf "%.0f", s}')
check "the AMC statements add up to the AMC parts" test "$st_sum" = "$want_sum"
check "one statement per AMC with claims (csv and text)" \
  test "$(find "$dir" -name 'statement-*' | wc -l)" = "$((2 * $(sql "SELECT count(DISTINCT amc_number) FROM claim WHERE payment_run = 1")))"
"$bin" pay --data "$data" >"$tmp/again.out" 2>&1
check "a second run finds nothing to pay" grep -q "nothing to pay" "$tmp/again.out"
check "the run is recorded (auth_event kind cli, payments.run)" \
  test "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'cli' AND detail = 'payments.run' AND outcome = 'ok'")" -ge 1

# --- 2. exactly once under SIGKILL ----------------------------------------------------------

# Every killed attempt must leave either nothing assigned, or one unfinished run that the
# next `opentp pay` completes.
kill_at() { # DELAY_S [SLOW_MS]
  "$bin" pay --data "$data" ${2:+--slow-for-test "$2"} >/dev/null 2>&1 &
  local pid=$!
  sleep "$1"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
finish() { # runs `opentp pay` until nothing is left
  local i
  for i in 1 2 3; do
    "$bin" pay --data "$data" >"$tmp/finish.out" 2>&1 || { cat "$tmp/finish.out"; return 1; }
    grep -q "nothing to pay" "$tmp/finish.out" && return 0
  done
  return 1
}
phases_seen=""
for point in 0.3 1.3 2.6 3.8; do
  add_claims 1500 40
  kill_at "$point" 1000
  state=$(sql "SELECT coalesce((SELECT status FROM payment_run ORDER BY id DESC LIMIT 1), '-')")
  tmpdirs=$(find "$out" -maxdepth 1 -name '*.tmp' | wc -l)
  phases_seen="$phases_seen $point:$state/tmp=$tmpdirs"
  finish || notok "restart after a kill at ${point}s"
done
echo "# kill points (seconds into the run: last run's status/leftover .tmp folders):$phases_seen"
check "the kills landed in different phases (a run left building, one already done)" \
  eval 'echo "$phases_seen" | grep -q building && echo "$phases_seen" | grep -q done'
add_claims 20000 120
for i in 1 2 3 4 5 6 7 8; do kill_at "0.$((RANDOM % 9 + 1))"; done
finish || notok "restart after random kills"

check "no run left unfinished" test "$(sql "SELECT count(*) FROM payment_run WHERE status != 'done'")" = 0
check "no .tmp folder left" test -z "$(find "$out" -maxdepth 1 -name '*.tmp')"
check "every accepted claim is paid and in a run" \
  test "$(sql "SELECT count(*) FROM claim WHERE status != 'rejected' AND (status != 'paid' OR payment_run IS NULL)")" = 0
runs=$(sql "SELECT msg_id FROM payment_run ORDER BY id")
for r in $runs; do cat "$out/$r"/advice-*.csv; done | grep '^invoice,' | awk -F, '{print $2}' | sort >"$tmp/advised"
sql "SELECT invoice FROM claim WHERE status = 'paid'" | sort >"$tmp/paid"
check "every paid claim in exactly one advice of one completed run ($(wc -l <"$tmp/paid") claims, $(echo "$runs" | wc -w) runs)" \
  eval 'cmp -s "$tmp/advised" "$tmp/paid"'
for r in $runs; do
  [ -f "$out/$r/$r.xml" ] && sed -n 's/.*<EndToEndId>\(.*\)<\/EndToEndId>.*/\1/p' "$out/$r/$r.xml"
done | sort >"$tmp/e2e"
check "every EndToEndId appears once ($(wc -l <"$tmp/e2e") transfers)" test -z "$(uniq -d "$tmp/e2e")"
# Per PS: what its transfers carry = the AMC parts of its paid claims.
for r in $runs; do
  [ -f "$out/$r/$r.xml" ] && awk '/<EndToEndId>/ { split($0, a, /[<>]/); id = a[5] } /<InstdAmt/ { split($0, b, /[<>]/); print id, b[5] }' "$out/$r/$r.xml"
done | awk '{ n = split($1, p, "-"); s[p[2]] += $2 * 100 } END { for (k in s) printf "%s %.0f\n", k, s[k] }' | sort >"$tmp/by_ps_files"
sql "SELECT p.identifier || ' ' || sum(c.amc_cents) FROM claim c JOIN ps p ON p.id = c.ps_id WHERE c.status = 'paid' GROUP BY p.identifier" | sort >"$tmp/by_ps_db"
check "per PS, the transfers of all runs add up to its AMC parts ($(wc -l <"$tmp/by_ps_db") PS)" cmp -s "$tmp/by_ps_files" "$tmp/by_ps_db"
if [ "$have_xsd" = 1 ]; then
  bad=0
  for r in $runs; do xmllint --noout --schema "$xsd" "$out/$r/$r.xml" 2>/dev/null || bad=$((bad + 1)); done
  check "every run's file validates against the XSD" test "$bad" = 0
fi

# --- 3. advances ---------------------------------------------------------------------------

ps=$(sql "SELECT identifier FROM ps WHERE id = 2")
"$bin" advance propose --data "$data" --ps "$ps" >"$tmp/propose.out" 2>&1
check "advance propose reports the volume and a proposal" grep -q "proposed" "$tmp/propose.out"
"$bin" advance grant --data "$data" --ps "$ps" --amount 12.345 >/dev/null 2>&1
check "an amount with more than 2 decimals is refused" test $? = 2
"$bin" advance grant --data "$data" --ps "$ps" --amount 400 >"$tmp/grant.out" 2>&1 || notok "advance grant: $(cat "$tmp/grant.out")"
"$bin" pay --data "$data" >"$tmp/adv1.out" 2>&1
r=$(sql "SELECT msg_id FROM payment_run ORDER BY id DESC LIMIT 1")
check "the next run pays the advance as its own transfer" \
  eval 'grep -q "advances paid 400.00 EUR" "$tmp/adv1.out" && grep -q "<EndToEndId>OTP[0-9]*-$ps-A</EndToEndId>" "$out/$r/$r.xml"'
check "an advance notice for the PS" grep -q "^advance_paid,OTP[0-9]*-$ps-A,400.00" "$out/$r/advance-$ps.csv"
if [ "$have_xsd" = 1 ]; then check "$r.xml (advance) validates" xmllint --noout --schema "$xsd" "$out/$r/$r.xml" 2>/dev/null; fi
sql "INSERT INTO claim(ps_id, invoice, content_digest, beneficiary_id, amc_number, date_of_care, submitted_ms, status, total_cents, amo_cents, amc_cents, patient_cents, reasons)
  VALUES (2, 'ADV-1', x'00', 1, (SELECT number FROM amc ORDER BY id LIMIT 1), 20400, 0, 'accepted', 0, 0, 15000, 0, ''),
         (2, 'ADV-2', x'00', 1, (SELECT number FROM amc ORDER BY id LIMIT 1), 20400, 0, 'accepted', 0, 0, 5000, 0, '')"
"$bin" pay --data "$data" >"$tmp/adv2.out" 2>&1
r=$(sql "SELECT msg_id FROM payment_run ORDER BY id DESC LIMIT 1")
check "the following run deducts it: advice shows -200.00 and 200.00 still outstanding" \
  eval 'grep -q "^advance_deducted,,,,-200.00" "$out/$r/advice-$ps.csv" && grep -q "^advance_balance,,,,200.00" "$out/$r/advice-$ps.csv"'
check "no transfer when the advance takes the whole run" eval '! grep -q "<EndToEndId>OTP[0-9]*-$ps</EndToEndId>" "$out/$r/$r.xml" 2>/dev/null'
check "the AMC statement shows the part settled by the advance" \
  eval 'grep -h "^$ps," "$out/$r"/statement-*.csv | tr -d "\\r" | grep -q ",200.00,200.00,0.00$"'

# --- 4. the operator API --------------------------------------------------------------------

"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" --exit-after 300 \
  --access-log off >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 300); do
  [ -s "$tmp/port" ] && break
  sleep 0.1
done
[ -s "$tmp/port" ] || die "server did not start: $(cat "$tmp/server.err")"
base=http://127.0.0.1:$(cat "$tmp/port")
secret_of() { awk -v l="$1" '$2 == "login" && $3 == l { on = 1; next } on && $1 == "TOTP" { print $3; exit }' "$data/demo.txt"; }
recovery_of() { awk -v l="$1" '$2 == "login" && $3 == l { on = 1; next } on && $1 == "recovery" { print $3; exit }' "$data/demo.txt"; }
pw=Demo-Tiers-Payant-2026
# login LOGIN: a session opened with a recovery code (no step-up yet)
login() {
  curl -s "$base/api/v1/auth/login" -d "$(jq -nc --arg l "$1" --arg p "$pw" --arg c "$(recovery_of "$1")" '{login: $l, password: $p, recovery_code: $c}')" | jq -r '.session // empty'
}
req() { # METHOD PATH SESSION [BODY]: prints "STATUS CODE"
  local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  local s
  s=$(curl "${args[@]}" "$base$2")
  echo "$s $(jq -r '.error.code // "-"' "$tmp/body" 2>/dev/null)"
}
op=$(login operateur@demo.opentp)
pss=$(login pharmacie@demo.opentp)
ins=$(login assureur@demo.opentp)
[ -n "$op" ] && [ -n "$pss" ] && [ -n "$ins" ] || die "sign-in of the demo accounts failed"
add_claims 500 30
check "PS user: POST /payments/runs 403" test "$(req POST /api/v1/payments/runs "$pss" '{}')" = "403 forbidden"
check "insurer staff: POST /payments/runs 403" test "$(req POST /api/v1/payments/runs "$ins" '{}')" = "403 forbidden"
check "PS user: GET /payments/runs 403" test "$(req GET /api/v1/payments/runs "$pss")" = "403 forbidden"
check "PS user: POST /ps/2/advances 403" test "$(req POST /api/v1/ps/2/advances "$pss" '{}')" = "403 forbidden"
check "operator without a fresh TOTP: 403 step_up_required" \
  test "$(req POST /api/v1/payments/runs "$op" '{}')" = "403 step_up_required"
check "operator without a fresh TOTP: advance grant 403 step_up_required" \
  test "$(req POST /api/v1/ps/2/advances "$op" '{"amount_cents":1000}')" = "403 step_up_required"
check "nothing assigned by the refused calls" test "$(sql "SELECT count(*) FROM claim WHERE status = 'accepted' AND payment_run IS NOT NULL")" = 0
code=$("$bin" totp-code "$(secret_of operateur@demo.opentp)")
check "operator step-up" test "$(req POST /api/v1/auth/step-up "$op" "{\"totp\":\"$code\"}" | cut -d' ' -f1)" = 200
check "a past execution date: 400 invalid_field" \
  test "$(req POST /api/v1/payments/runs "$op" '{"execution_date":"2020-01-01"}')" = "400 invalid_field"
if command -v flock >/dev/null; then
  flock "$out/.lock" sleep 2 &
  locker=$!
  sleep 0.3
  check "a run already holding the lock: 409 run_in_progress" \
    test "$(req POST /api/v1/payments/runs "$op" '{}')" = "409 run_in_progress"
  wait "$locker"
fi
last_run=$(sql "SELECT max(id) FROM payment_run")
check "operator with step-up: POST /payments/runs 202" test "$(req POST /api/v1/payments/runs "$op" '{}')" = "202 -"
done_run=
for _ in $(seq 100); do
  req GET /api/v1/payments/runs "$op" >/dev/null
  done_run=$(jq -r --argjson last "$last_run" '.runs[0] | select(.status == "done" and .id > $last) | .msg_id' "$tmp/body")
  [ -n "$done_run" ] && [ "$(sql "SELECT count(*) FROM claim WHERE status = 'accepted'")" = 0 ] && break
  sleep 0.2
done
check "the run started by the API completes ($done_run) and pays every claim" \
  eval '[ -n "$done_run" ] && [ "$(sql "SELECT count(*) FROM claim WHERE status = '"'accepted'"'")" = 0 ]'
check "its account is recorded on the run" \
  test "$(sql "SELECT account_id FROM payment_run WHERE msg_id = '$done_run'")" = "$(sql "SELECT id FROM account WHERE login = 'operateur@demo.opentp'")"
check "advance: amount as a decimal is refused (integer cents)" \
  test "$(req POST /api/v1/ps/2/advances "$op" '{"amount_cents":10.5}')" = "400 invalid_field"
check "advance: unknown PS 404" test "$(req POST /api/v1/ps/999999/advances "$op" '{"amount_cents":1000}')" = "404 not_found"
check "advance granted by the operator with step-up: 201" \
  test "$(req POST /api/v1/ps/3/advances "$op" '{"amount_cents":12345}')" = "201 -"
check "the advance answer carries the amount and the rule's proposal" \
  eval '[ "$(jq -r .amount_cents "$tmp/body")" = 12345 ] && jq -e ".proposed_cents >= 0" "$tmp/body" >/dev/null'
for d in payments.run payments.advance_grant; do
  for o in allow forbidden step_up_required; do
    check "auth_event records $d $o" test "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'authz' AND detail = '$d' AND outcome = '$o'")" -ge 1
  done
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
