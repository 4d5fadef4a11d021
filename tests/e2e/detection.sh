#!/usr/bin/env bash
# Inline detection end to end (docs/DETECTION.md), the 2024 attack in small: a PS API token
# and a PS web session (password + TOTP, as phished) look up valid card data one after the
# other with no claim. Each is contained before 50 beneficiaries are disclosed: the answer is
# withheld, the token revoked / the account disabled and its sessions revoked, the security
# console shows the alert, and a security officer (fresh TOTP) reinstates the account. A
# pharmacy that checks a handful of patients is not disturbed.
# shellcheck disable=SC2016
set -u
bin=${1:?usage: detection.sh /path/to/opentp}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

data=$tmp/p
db=$data/opentp.db
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
pw=Demo-Tiers-Payant-2026
"$bin" demo --data "$data" --beneficiaries 4000 >/dev/null 2>"$tmp/demo.err" || die "demo: $(cat "$tmp/demo.err")"
"$bin" cards --data "$data" --count 400 >"$tmp/cards" 2>/dev/null || die "cards failed"
jq -c 'select(.domain == "PHARMACIE")' "$tmp/cards" >"$tmp/pharma"
[ "$(wc -l <"$tmp/pharma")" -ge 120 ] || die "not enough pharmacy cards"
token=$(awk '$1 == "PHARMACIE" { print $3 }' "$data/demo.txt")
totp_of() { awk -v l="$1" '$2 == "login" { cur = $3 } cur == l && $1 == "TOTP" && $2 == "secret" { print $3; exit }' "$data/demo.txt"; }
# The shipped thresholds, but a 1-second slow-down (instead of 10) to keep the test short.
sed 's/^slow_delay_ms = .*/slow_delay_ms = 1000/' "${TP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/data/detect.conf" >"$tmp/detect.conf"
grep -q '^slow_delay_ms = 1000' "$tmp/detect.conf" || die "cannot derive the test's detection thresholds"
serve_platform "$data" --detect-config "$tmp/detect.conf"
call() { # METHOD PATH BEARER [BODY]
  local args=(-s -o "$tmp/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  status=$(curl "${args[@]}" "$base$2")
}
code() { jq -r '.error.code // "-"' "$tmp/body"; }
login() { # LOGIN -> $session
  curl -s -o "$tmp/body" -H 'Content-Type: application/json' \
    --data-binary "$(jq -nc --arg l "$1" --arg p "$pw" --arg t "$("$bin" totp-code "$(totp_of "$1")")" '{login: $l, password: $p, totp: $t}')" \
    "$base/api/v1/auth/login"
  session=$(jq -r '.session // empty' "$tmp/body")
}
# scrape BEARER FROM: looks up cards FROM..FROM+119 until refused; sets $disclosed, $refusal.
scrape() {
  disclosed=0 refusal=none
  while read -r card; do
    call POST /api/v1/rights/check "$1" "$card"
    # A patient bot honours a slow-down and asks again.
    while [ "$status" = 429 ]; do
      sleep "$(jq -r '(.error.retry_after_s // 1)' "$tmp/body" 2>/dev/null || echo 1)"
      call POST /api/v1/rights/check "$1" "$card"
    done
    if [ "$status" = 200 ]; then
      disclosed=$((disclosed + 1))
    else
      refusal="$status $(code)"
      break
    fi
  done < <(sed -n "$2,$(($2 + 119))p" "$tmp/pharma")
}

# --- a pharmacy's ordinary morning: 12 patients, not disturbed ------------------------------
login pharmacie@demo.opentp
[ -n "$session" ] || die "pharmacy sign-in failed: $(cat "$tmp/body")"
legit=$session
ok_n=0
for i in $(seq 200 211); do
  call POST /api/v1/rights/check "$legit" "$(sed -n "${i}p" "$tmp/pharma" 2>/dev/null || true)"
  [ "$status" = 200 ] && ok_n=$((ok_n + 1))
done
check "a pharmacy checking 12 patients through the portal: 12 answers, no refusal" test "$ok_n" = 12

# --- a stolen API token -------------------------------------------------------------------
scrape "$token" 1
check "scraper with the PS API token: contained ($refusal) after $disclosed beneficiaries (<= 50)" \
  eval '[ "$disclosed" -le 50 ] && [ "$refusal" != none ]'
call POST /api/v1/rights/check "$token" "$(sed -n 150p "$tmp/pharma")"
check "the token no longer works (401/403: $status)" eval '[ "$status" = 401 ] || [ "$status" = 403 ]'
check "the token is revoked in the database" test "$(sql "SELECT count(*) FROM api_token WHERE revoked_at IS NOT NULL AND revoked_at > 0")" -ge 1
withheld=$("$bin" audit events --data "$data" | jq -s 'map(select(.outcome == "withheld_by_detection")) | length')
check "the withheld answer is in the access log (outcome withheld_by_detection: $withheld)" test "$withheld" -ge 1

# --- the pharmacy's web session, phished (password + TOTP) --------------------------------
# The demo has one PS account: the attacker now works in the session whose morning was above.
scrape "$legit" 121
total=$disclosed
# Step-ups may come first; the attacker holds the TOTP too, so go on answering them until the
# suspension.
phished=$legit
# step_up: what the phisher does when asked for a fresh TOTP (codes are single use, so it may
# have to wait for the next 30-second step).
step_up() {
  local secret t
  secret=$(totp_of pharmacie@demo.opentp)
  for _ in $(seq 10); do
    for at in now "now + 30 seconds"; do
      t=$(oathtool --totp -b "$secret" -N "$at")
      call POST /api/v1/auth/step-up "$phished" "{\"totp\":\"$t\"}"
      [ "$status" = 200 ] && return 0
    done
    sleep 5
  done
  return 1
}
from=$((121 + disclosed + 1))
stepups=0
for _ in $(seq 20); do
  case $refusal in "403 account_suspended" | "401 "*) break ;; esac
  if [ "$refusal" = "403 step_up_required" ]; then
    step_up && stepups=$((stepups + 1))
    from=$((from - 1)) # the withheld card is asked again
  fi
  scrape "$phished" "$from"
  total=$((total + disclosed))
  from=$((from + disclosed + 1))
done
check "scraper with the phished web session ($stepups step-ups answered): suspended ($refusal) after $total beneficiaries (<= 50)" \
  eval '[ "$total" -le 50 ]'
disabled_n=$(sql "SELECT count(*) FROM account WHERE role = 'ps' AND disabled = 1")
check "the phished account is disabled ($disabled_n)" test "$disabled_n" -ge 1
call GET /api/v1/me "$phished"
check "its session is revoked: 401" test "$status" = 401
check "the suspension is recorded (auth_event detection/suspended)" \
  test "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'detection' AND outcome = 'suspended'")" -ge 1

# --- the security console ----------------------------------------------------------------
login securite@demo.opentp
sec=$session
[ -n "$sec" ] || die "security sign-in failed"
call GET /api/v1/security/alerts "$sec"
check "the console lists the suspensions with a reason and no personal data" \
  jq -e '[.alerts[] | select(.action == "suspend")] | length >= 1 and all(.reason | length > 10)' "$tmp/body"
sus=$(sql "SELECT id FROM account WHERE role = 'ps' AND disabled = 1 LIMIT 1")
call POST "/api/v1/security/accounts/$sus/reinstate" "$sec"
check "the officer reinstates the account: 200" test "$status" = 200
check "the account is enabled again" test "$(sql "SELECT disabled FROM account WHERE id = $sus")" = 0

finish
