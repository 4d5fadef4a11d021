#!/usr/bin/env bash
# A stolen database alone reveals no NIR, name or birth date (PRODUCT §2, §5).
# Imports beneficiaries whose plaintext we know, then greps every file of the platform except
# the master key (database, WAL, shared memory) for each known value.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }

"$bin" demo --data "$tmp/p" --beneficiaries 200 >/dev/null 2>&1 || { echo "demo failed"; exit 1; }
amc=$(sqlite3 "$tmp/p/opentp.db" "SELECT number FROM amc ORDER BY id LIMIT 1")
"$bin" import gen-csv --data "$tmp/p" --amc "$amc" --rows 3000 --seed 7 "$tmp/people.csv" >/dev/null 2>&1 \
  || { echo "gen-csv failed"; exit 1; }
"$bin" import beneficiaries --data "$tmp/p" --amc "$amc" --no-progress "$tmp/people.csv" >/dev/null 2>&1
rc=$?
[ "$rc" = 0 ] && ok "3000 known beneficiaries imported" || notok "import exit $rc"

# The files an attacker would copy: everything but the key.
files=$(ls "$tmp"/p/opentp.db*)
cat $files >"$tmp/stolen.bin"
[ -s "$tmp/stolen.bin" ] && ok "database files present ($(stat -c %s "$tmp/stolen.bin") bytes)" || notok "no database"

# Column positions from the header.
col() { head -1 "$tmp/people.csv" | tr ',' '\n' | grep -n -x "$1" | cut -d: -f1; }
c_nir=$(col nir); c_last=$(col last_name); c_first=$(col first_name); c_birth=$(col birth_date); c_member=$(col member_number)
tail -n +2 "$tmp/people.csv" | cut -d, -f"$c_nir" | sort -u >"$tmp/nirs"
tail -n +2 "$tmp/people.csv" | cut -d, -f"$c_birth" | sort -u >"$tmp/births"
tail -n +2 "$tmp/people.csv" | cut -d, -f"$c_member" | sort -u >"$tmp/members"
tail -n +2 "$tmp/people.csv" | awk -F, -v f="$c_first" -v l="$c_last" '{print $f " " $l}' | sort -u >"$tmp/fullnames"
tail -n +2 "$tmp/people.csv" | cut -d, -f"$c_last" | sort -u >"$tmp/lasts"

# Names that also appear in non-personal plaintext (PS and AMC names such as "Dr Hélène Martin",
# street names) cannot be told apart in a grep; everything else must be absent.
sqlite3 "$tmp/p/opentp.db" "SELECT name || ' ' || address FROM ps UNION ALL SELECT name || ' ' || dpo_name || ' ' || dpo_address FROM amc" >"$tmp/public.txt"

count_found() { grep -a -o -F -f "$1" "$tmp/stolen.bin" | sort -u | wc -l; }
n=$(wc -l <"$tmp/nirs"); f=$(count_found "$tmp/nirs")
[ "$f" = 0 ] && ok "none of $n NIRs appears in the files" || notok "$f of $n NIRs found in clear"
# NIR without its key (13 characters) too.
cut -c1-13 "$tmp/nirs" >"$tmp/nir13"; f=$(count_found "$tmp/nir13")
[ "$f" = 0 ] && ok "no 13-character NIR body appears" || notok "$f NIR bodies found"
n=$(wc -l <"$tmp/births"); f=$(count_found "$tmp/births")
[ "$f" = 0 ] && ok "none of $n birth dates (YYYY-MM-DD) appears" || notok "$f birth dates found"
tr -d '-' <"$tmp/births" >"$tmp/births8"; f=$(count_found "$tmp/births8")
[ "$f" = 0 ] && ok "no birth date as YYYYMMDD appears" || notok "$f compact birth dates found"
awk -F- '{print $3 "/" $2 "/" $1}' "$tmp/births" >"$tmp/birthsfr"; f=$(count_found "$tmp/birthsfr")
[ "$f" = 0 ] && ok "no birth date as DD/MM/YYYY appears" || notok "$f French-format birth dates found"
grep -v -F -f <(grep -o -F -f "$tmp/fullnames" "$tmp/public.txt" | sort -u) "$tmp/fullnames" >"$tmp/fullnames_private" || true
n=$(wc -l <"$tmp/fullnames_private"); f=$(count_found "$tmp/fullnames_private")
[ "$n" -gt 100 ] && [ "$f" = 0 ] && ok "none of $n 'first last' names (absent from PS records) appears" \
  || notok "$f of $n full names found in clear"
# Names of at least 5 bytes only: a 3-letter name turns up in a megabyte of ciphertext by
# chance (probability ~ size / 2^24), a 5-byte one practically never (~ size / 2^40).
grep -v -F -f <(grep -o -F -f "$tmp/lasts" "$tmp/public.txt" | sort -u) "$tmp/lasts" |
  awk 'length($0) >= 5' >"$tmp/lasts_private" || true
n=$(wc -l <"$tmp/lasts_private"); f=$(count_found "$tmp/lasts_private")
[ "$n" -gt 10 ] && [ "$f" = 0 ] && ok "none of $n family names (5+ bytes, absent from PS/AMC records) appears" \
  || notok "$f of $n family names found in clear"
n=$(wc -l <"$tmp/members"); f=$(count_found "$tmp/members")
[ "$f" = 0 ] && ok "none of $n member numbers appears" || notok "$f member numbers found"

# The test can fail: the same values are found in the CSV file itself.
f=$(grep -a -o -F -f "$tmp/nirs" "$tmp/people.csv" | sort -u | wc -l)
[ "$f" -gt 0 ] && ok "control: the grep finds NIRs where they are in clear" || notok "control grep found nothing"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
