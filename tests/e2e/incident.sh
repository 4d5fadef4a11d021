#!/usr/bin/env bash
# Incident assessment end to end (docs/INCIDENT.md): a token and a web session look people up;
# `opentp incident assess` names exactly the people each disclosed (against the access log),
# writes the per-AMC CSV, the art. 33 drafts and one art. 34 notice per person (text and PDF
# with accents and names intact), and contains the subject (token revoked; password reset and
# sessions revoked for an account). Bad subjects are refused with a clear message.
# shellcheck disable=SC2016
set -u
bin=${1:?usage: incident.sh /path/to/opentp}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

data=$tmp/p
db=$data/opentp.db
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
pw=Demo-Tiers-Payant-2026
"$bin" demo --data "$data" --beneficiaries 1500 >/dev/null 2>"$tmp/demo.err" || die "demo: $(cat "$tmp/demo.err")"
"$bin" cards --data "$data" --count 200 >"$tmp/cards" 2>/dev/null || die "cards failed"
jq -c 'select(.domain == "PHARMACIE")' "$tmp/cards" >"$tmp/pharma"
token=$(awk '$1 == "PHARMACIE" { print $3 }' "$data/demo.txt")
totp=$(awk '$2 == "login" { cur = $3 } cur == "pharmacie@demo.opentp" && $1 == "TOTP" && $2 == "secret" { print $3; exit }' "$data/demo.txt")
serve_platform "$data"
check_card() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" -H 'Content-Type: application/json' --data-binary "$2" "$base/api/v1/rights/check"; }

# The token looks up 12 people (one of them twice), the web session 3 others.
n200=0
for i in $(seq 1 12) 5; do [ "$(check_card "$token" "$(sed -n "${i}p" "$tmp/pharma")")" = 200 ] && n200=$((n200 + 1)); done
check "the token's 13 lookups answered (12 people)" test "$n200" = 13
session=$(curl -s -H 'Content-Type: application/json' --data-binary \
  "$(jq -nc --arg t "$("$bin" totp-code "$totp")" --arg p "$pw" '{login: "pharmacie@demo.opentp", password: $p, totp: $t}')" \
  "$base/api/v1/auth/login" | jq -r '.session // empty')
[ -n "$session" ] || die "sign-in failed"
for i in 20 21 22; do check_card "$session" "$(sed -n "${i}p" "$tmp/pharma")" >/dev/null; done
# The member whose card the token read first sees that access in their space.
card1=$(sed -n 1p "$tmp/pharma")
seen=none
for r in 1 2 3 4 5; do
  login=adh-$r@incident.example
  printf '%s\n' "Tiers-Payant-Espace-2026" | "$bin" user add --data "$data" --login "$login" --role member \
    --member "$(jq -r .amc <<<"$card1"):$(jq -r .member <<<"$card1"):$r" --password-stdin >/dev/null 2>&1 || continue
  ms=$(curl -s -H 'Content-Type: application/json' --data-binary \
    "$(jq -nc --arg l "$login" '{login: $l, password: "Tiers-Payant-Espace-2026"}')" "$base/api/v1/auth/login" | jq -r '.session // empty')
  [ -n "$ms" ] || continue
  curl -s -H "Authorization: Bearer $ms" "$base/api/v1/me/accesses" >"$tmp/acc.json"
  if jq -e '.total >= 1 and (.accesses[0].by.profession == "PHARMACIE") and (.accesses[0].data | index("coverage"))' "$tmp/acc.json" >/dev/null 2>&1; then
    seen=$r
  fi
done
check "a member sees who accessed their data (the pharmacy, coverage, when) in GET /api/v1/me/accesses" test "$seen" != none
stop_server

token_id=$("$bin" audit events --data "$data" | jq -r 'select(.actor | startswith("token:")) | .actor' | head -1 | cut -d: -f2)
acct_id=$(sql "SELECT id FROM account WHERE login = 'pharmacie@demo.opentp'")
refs_expected=$("$bin" audit events --data "$data" | jq -r --arg a "token:$token_id" 'select(.actor == $a and .outcome == "covered") | .beneficiary_ref' | sort -u)

"$bin" incident assess --data "$data" --token "$token_id" --dry-run >"$tmp/dry.json" 2>"$tmp/dry.err"
check "dry run: 12 people, 13 disclosing records, per AMC, nothing written" \
  jq -e '.people == 12 and .events_disclosing == 13 and ([.per_amc[].people] | add) == 12 and ([.per_amc[].records] | add) == 13 and .dry_run' "$tmp/dry.json"
check "dry run contains nothing: the token still valid" test "$(sql "SELECT count(*) FROM api_token WHERE id = $token_id AND revoked_at = 0")" = 1

"$bin" incident assess --data "$data" --token "$token_id" --out "$tmp/inc" --id INC-TEST-1 >"$tmp/run.json" 2>"$tmp/run.err" ||
  die "assess failed: $(cat "$tmp/run.err")"
check "the CSVs name exactly the references the log holds for that token" \
  test "$(tail -q -n +2 "$tmp"/inc/amc-*.csv | cut -d, -f4 | sort -u)" = "$refs_expected"
n_pdf=$(find "$tmp/inc/notices" -name '*.pdf' | wc -l)
n_txt=$(find "$tmp/inc/notices" -name '*.txt' | wc -l)
check "one notice per person, text and PDF (12, 12): $n_txt, $n_pdf" test "$n_pdf $n_txt" = "12 12"
check "an art. 33 draft per AMC in the CSVs" test "$(ls "$tmp"/inc/art33-*.txt | wc -l)" = "$(ls "$tmp"/inc/amc-*.csv | wc -l)"
pdf=$(find "$tmp/inc/notices" -name '*.pdf' | head -1)
pdftotext "$pdf" "$tmp/notice.txt" 2>/dev/null
check "a PDF notice reads in French with accents (données, sécurité)" eval 'grep -q "données" "$tmp/notice.txt" && grep -q "sécurité" "$tmp/notice.txt"'
check "the notice is addressed by name (decrypted for the letter only)" eval '! grep -q "^Madame, Monsieur" "${pdf%.pdf}.txt"'
check "files are private (0600)" test "$(stat -c %a "$pdf")" = 600
check "the manifest checks" eval '(cd "$tmp/inc" && sha256sum -c --quiet MANIFEST.sha256)'
check "the token is revoked" test "$(sql "SELECT count(*) FROM api_token WHERE id = $token_id AND revoked_at > 0")" = 1
check "no NIR in the per-AMC CSVs (no cell of 13 digits and a key)" \
  eval '! tail -q -n +2 "$tmp"/inc/amc-*.csv | tr "," "\n" | grep -qE "^[12][0-9]{12}[0-9]{2}$"'

"$bin" incident assess --data "$data" --account "$acct_id" --out "$tmp/inc2" >"$tmp/run2.json" 2>"$tmp/run2.err" ||
  die "assess (account) failed: $(cat "$tmp/run2.err")"
check "the web session's account: 3 people" jq -e '.people == 3' "$tmp/run2.json"
check "its password must be changed, its sessions are revoked" \
  test "$(sql "SELECT must_reset FROM account WHERE id = $acct_id") $(sql "SELECT count(*) FROM session WHERE account_id = $acct_id AND revoked_ms = 0")" = "1 0"
"$bin" incident assess --data "$data" --network 127.0.0.0/8 --dry-run >"$tmp/net.json" 2>/dev/null
check "by source network (127.0.0.0/8): the 15 people of both" jq -e '.people == 15' "$tmp/net.json"
"$bin" incident assess --data "$data" --network 10.0.0.0/8 --dry-run >"$tmp/none.json" 2>/dev/null
check "another network: nobody" jq -e '.people == 0' "$tmp/none.json"

"$bin" incident assess --data "$data" --network 300.1.2.0/24 --dry-run >/dev/null 2>"$tmp/bad.err"
check "a malformed network is refused (exit 2, message)" eval '[ $? = 2 ] || grep -q malformed "$tmp/bad.err"'
"$bin" incident assess --data "$data" --dry-run >/dev/null 2>"$tmp/bad2.err"
check "no subject: refused with a clear message" grep -q 'name the subject' "$tmp/bad2.err"
"$bin" incident assess --data "$data" --token "$token_id" --out "$tmp/inc" >/dev/null 2>"$tmp/bad3.err"
check "an existing non-empty output folder is never overwritten" eval '[ -n "$(cat "$tmp/bad3.err")" ] && [ "$(find "$tmp/inc/notices" -name "*.pdf" | wc -l)" = 12 ]'

finish
