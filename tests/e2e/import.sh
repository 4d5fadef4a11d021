#!/usr/bin/env bash
# The insurer's bulk load end to end (PRODUCT §3.6, docs/IMPORT.md): `opentp import
# beneficiaries` on files written by `opentp import gen-csv`, checked against the database
# with the sqlite3 shell.
#
# Counts and exit codes, the report (every deliberately bad row, at its line, with its
# column and reason, and no personal data, in file order), idempotence (a second import changes
# nothing, ciphertexts included), duplicates found in the database (in the same batch as the
# first occurrence or a later one, in first imports and re-imports, the first occurrence kept),
# CRLF files, a SIGKILL in the middle of an import (whole batches only, an intact database,
# and a re-run that completes), file-level failures (missing or unknown columns, no such file,
# no such AMC) and usage errors.
# shellcheck disable=SC2016,SC2034 # `check NAME eval '...'` expands (and uses variables) when the check runs
set -u
bin=${1:?usage: import.sh /path/to/opentp}
tmp=$(mktemp -d)
importer=
cleanup() {
  if [ -n "$importer" ] && kill -0 "$importer" 2>/dev/null; then
    kill -9 "$importer" 2>/dev/null
    wait "$importer" 2>/dev/null
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
command -v sqlite3 >/dev/null || die "sqlite3 (the shell) is needed"

data=$tmp/platform
db=$data/opentp.db
"$bin" demo --data "$data" --beneficiaries 1000 >/dev/null 2>"$tmp/demo.err" || die "opentp demo failed: $(cat "$tmp/demo.err")"
amc=$(sqlite3 "$db" "SELECT a.number FROM amc a JOIN contract c ON c.amc_id = a.id GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1")
[ -n "$amc" ] || die "the demo platform has no AMC with contracts"
ncontracts=$(sqlite3 "$db" "SELECT count(*) FROM contract c JOIN amc a ON a.id = c.amc_id WHERE a.number = '$amc'")
count_amc() { sqlite3 "$db" "SELECT count(*) FROM beneficiary b JOIN amc a ON a.id = b.amc_id WHERE a.number = '$amc'"; }
count_all() { sqlite3 "$db" "SELECT count(*) FROM beneficiary"; }
# Value of a line of the summary: "imported    19800  (new or changed)" -> 19800.
stat_of() { awk -v k="$1" '$1 == k { print $2 } $1 == "rows" && k == "read" { print $3 }' "$2"; }
echo "# platform with 1000 demo beneficiaries; importing into AMC $amc ($ncontracts contracts)"

# ---- 20,000 rows, one in 100 deliberately bad --------------------------------------------------
csv=$tmp/members.csv
"$bin" import gen-csv --data "$data" --amc "$amc" --rows 20000 --bad-every 100 "$csv" 2>"$tmp/gen.err" ||
  die "gen-csv failed: $(cat "$tmp/gen.err")"
# The checks below cut the file with awk and cut: gen-csv's names need no quoting.
grep -q '"' "$csv" && die "gen-csv wrote quoted fields: the awk-based checks below would misread them"
check "gen-csv wrote a header and 20000 rows" eval '[ "$(wc -l <"$csv")" = 20001 ]'
check "gen-csv's header is the documented one" eval '[ "$(head -1 "$csv")" = "member_number,rank,quality,last_name,first_name,birth_date,birth_rank,nir,nir_own,contract,coverage_start,coverage_end,tp_domains" ]'

all_before=$(count_all)
amc_before=$(count_amc)
"$bin" import beneficiaries --data "$data" --amc "$amc" "$csv" >"$tmp/out1" 2>"$tmp/err1"
rc=$?
check "exit status 3 when rows were rejected (got $rc)" eval '[ $rc = 3 ]'
check "20000 rows read" eval '[ "$(stat_of read "$tmp/out1")" = 20000 ]'
check "19800 imported" eval '[ "$(stat_of imported "$tmp/out1")" = 19800 ]'
check "0 unchanged" eval '[ "$(stat_of unchanged "$tmp/out1")" = 0 ]'
check "200 rejected" eval '[ "$(stat_of rejected "$tmp/out1")" = 200 ]'
check "nothing on stderr (no progress bar when stderr is not a terminal)" eval '[ ! -s "$tmp/err1" ]'
check "the database holds 19800 more beneficiaries of AMC $amc" eval '[ "$(count_amc)" = $((amc_before + 19800)) ]'
check "and no other AMC's changed" eval '[ "$(count_all)" = $((all_before + 19800)) ]'

report=$csv.report.csv
check "the report is next to the input by default" test -s "$report"
check "report header is line,column,reason" eval '[ "$(head -1 "$report")" = "line,column,reason" ]'
check "report lists 200 rows" eval '[ "$(tail -n +2 "$report" | wc -l)" = 200 ]'
# Bad row k (k = 1, 2, ...) is data row 100k, on line 100k + 1; the kinds rotate.
expected_report() {
  echo "line,column,reason"
  for k in $(seq 1 200); do
    line=$((100 * k + 1))
    case $(((k - 1) % 4)) in
    0) echo "$line,nir,\"NIR key does not match\"" ;;
    1) echo "$line,birth_date,\"must be a date YYYY-MM-DD between 1900 and 2099\"" ;;
    2) echo "$line,contract,\"is not a contract of this AMC\"" ;;
    3) echo "$line,member_number,\"duplicate of line $((line - 1))\"" ;;
    esac
  done
}
expected_report >"$tmp/expected_report"
check "every bad row is reported at its line, with its column and reason" diff -u "$tmp/expected_report" "$report"

# The personal data of the rejected rows (names, NIR, birth date, member number) appear
# nowhere in the report or the command's output.
awk -F, 'NR > 1 && (NR - 1) % 100 == 0 { print $1; print $4; print $5; print $6; print $8 }' "$csv" |
  awk 'length($0) >= 5' | sort -u >"$tmp/personal"
check "control: $(wc -l <"$tmp/personal") personal values of rejected rows, found in the input" \
  eval '[ "$(wc -l <"$tmp/personal")" -gt 400 ] && grep -qF -f "$tmp/personal" "$csv"'
check "the report holds none of them" eval '! grep -qF -f "$tmp/personal" "$report"'
check "the output holds none of them" eval '! grep -qF -f "$tmp/personal" "$tmp/out1" "$tmp/err1"'

sealed_digest() { sqlite3 "$db" "SELECT hex(identity), hex(digest), coverage_end FROM beneficiary ORDER BY id" | md5sum; }
sealed1=$(sealed_digest)

# ---- Idempotence -------------------------------------------------------------------------------
"$bin" import beneficiaries --data "$data" --amc "$amc" "$csv" >"$tmp/out2" 2>&1
rc=$?
check "re-import: exit status 3 again (the same 200 rows rejected) (got $rc)" eval '[ $rc = 3 ]'
check "re-import: 0 imported" eval '[ "$(stat_of imported "$tmp/out2")" = 0 ]'
check "re-import: 19800 unchanged" eval '[ "$(stat_of unchanged "$tmp/out2")" = 19800 ]'
check "re-import: 200 rejected" eval '[ "$(stat_of rejected "$tmp/out2")" = 200 ]'
check "re-import: same row count" eval '[ "$(count_all)" = $((all_before + 19800)) ]'
check "re-import: every stored row byte-identical (ciphertexts not even re-sealed)" eval '[ "$(sealed_digest)" = "$sealed1" ]'
check "re-import: the same report" diff -q "$tmp/expected_report" "$report"

# CRLF line endings and a byte order mark: the same rows.
{ printf '\xef\xbb\xbf'; sed 's/$/\r/' "$csv"; } >"$tmp/crlf.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" --report "$tmp/crlf.report" "$tmp/crlf.csv" >"$tmp/out3" 2>&1
check "CRLF + BOM file: 19800 unchanged, 0 imported" eval '[ "$(stat_of unchanged "$tmp/out3")" = 19800 ] && [ "$(stat_of imported "$tmp/out3")" = 0 ]'
check "--report writes the report where asked, same content" diff -q "$tmp/expected_report" "$tmp/crlf.report"

# Ten rows changed (a later coverage end): ten updates, the rest untouched.
awk -F, 'BEGIN { OFS = "," } NR > 1 && NR <= 11 { $12 = "2028-12-31" } { print }' "$csv" >"$tmp/changed.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" --report "$tmp/changed.report" "$tmp/changed.csv" >"$tmp/out4" 2>&1
check "10 changed rows: 10 imported, 19790 unchanged" eval '[ "$(stat_of imported "$tmp/out4")" = 10 ] && [ "$(stat_of unchanged "$tmp/out4")" = 19790 ]'
check "the changed rows are stored" eval '[ "$(sqlite3 "$db" "SELECT count(*) FROM beneficiary WHERE coverage_end = 21549")" -ge 10 ]'

# A clean file: exit status 0. Read from a pipe (no file size, no seek).
"$bin" import gen-csv --data "$data" --amc "$amc" --rows 500 --seed 77 "$tmp/clean.csv" 2>/dev/null
# shellcheck disable=SC2002 # a pipe on purpose: no file size, no seek
cat "$tmp/clean.csv" | "$bin" import beneficiaries --data "$data" --amc "$amc" --report "$tmp/clean.report" /dev/stdin >"$tmp/out5" 2>&1
rc=$?
check "clean file through a pipe: exit status 0, 500 imported (got $rc)" eval '[ $rc = 0 ] && [ "$(stat_of imported "$tmp/out5")" = 500 ]'
check "clean file: the report has its header only" eval '[ "$(cat "$tmp/clean.report")" = "line,column,reason" ]'

# ---- Duplicates: found in the database, at any distance, in any batch ---------------------------
# The (member, rank) pairs seen are not kept in memory: every row an import writes or finds
# unchanged carries the run and its line, and a later row with the same key, in the same batch
# or any later one, is a duplicate of that line. --batch 7 puts most first occurrences in
# another transaction than their duplicates; --batch 1 all of them; --batch 1000 none.
ddata=$tmp/dups
"$bin" demo --data "$ddata" --beneficiaries 1 >/dev/null 2>&1 || die "demo for the duplicate tests failed"
ddb=$ddata/opentp.db
dcount() { sqlite3 "$ddb" "SELECT count(*) FROM beneficiary b JOIN amc a ON a.id = b.amc_id WHERE a.number = '$amc'"; }
d0=$(dcount)
"$bin" import gen-csv --data "$ddata" --amc "$amc" --rows 60 --seed 91 "$tmp/d60.csv" 2>/dev/null ||
  die "gen-csv for the duplicate tests failed"
# Data row k is on line k + 1. Appended: row 5 again with another coverage end (a duplicate
# that differs from the first), row 10 with an impossible birth date (rejected for that, not as
# a duplicate), rows 40, 1, 40 and 60 again, unchanged.
row() { sed -n "$(($1 + 1))p" "$tmp/d60.csv"; }
{
  cat "$tmp/d60.csv"
  row 5 | awk -F, 'BEGIN { OFS = "," } { $12 = "2029-12-31"; print }'
  row 10 | awk -F, 'BEGIN { OFS = "," } { $6 = "2001-02-30"; print }'
  row 40
  row 1
  row 40
  row 60
} >"$tmp/dups.csv"
printf '%s\n' 'line,column,reason' \
  '62,member_number,"duplicate of line 6"' \
  '63,birth_date,"must be a date YYYY-MM-DD between 1900 and 2099"' \
  '64,member_number,"duplicate of line 41"' \
  '65,member_number,"duplicate of line 2"' \
  '66,member_number,"duplicate of line 41"' \
  '67,member_number,"duplicate of line 61"' >"$tmp/dups.expected"
day_2029_12_31=$(($(date -ud 2029-12-31 +%s) / 86400))
n2029() { sqlite3 "$ddb" "SELECT count(*) FROM beneficiary WHERE coverage_end = $day_2029_12_31"; }
# dimport BATCH OUT: imports dups.csv in transactions of BATCH rows.
dimport() {
  "$bin" import beneficiaries --data "$ddata" --amc "$amc" --batch "$1" --report "$tmp/dups.report" "$tmp/dups.csv" >"$2" 2>&1
}
dimport 7 "$tmp/dout1"
rc=$?
check "duplicates, --batch 7: exit 3, 66 read, 60 imported, 0 unchanged, 6 rejected (got $rc)" \
  eval '[ $rc = 3 ] && [ "$(stat_of read "$tmp/dout1")" = 66 ] && [ "$(stat_of imported "$tmp/dout1")" = 60 ] && [ "$(stat_of unchanged "$tmp/dout1")" = 0 ] && [ "$(stat_of rejected "$tmp/dout1")" = 6 ]'
check "duplicates, --batch 7: each at its line, with the line of the first occurrence, in file order" \
  diff -u "$tmp/dups.expected" "$tmp/dups.report"
check "duplicates: 60 rows stored" eval '[ "$(dcount)" = $((d0 + 60)) ]'
check "duplicates: the first occurrence is stored, not the later, different row" eval '[ "$(n2029)" = 0 ]'
for b in 7 1 1000; do
  dimport "$b" "$tmp/dout2"
  rc=$?
  check "re-import, --batch $b: exit 3, 0 imported, 60 unchanged, the same 6 rejected (got $rc)" \
    eval '[ $rc = 3 ] && [ "$(stat_of imported "$tmp/dout2")" = 0 ] && [ "$(stat_of unchanged "$tmp/dout2")" = 60 ] && [ "$(stat_of rejected "$tmp/dout2")" = 6 ]'
  check "re-import, --batch $b: unchanged rows given twice are still duplicates, same report" \
    diff -u "$tmp/dups.expected" "$tmp/dups.report"
done
check "re-imports: still 60 rows, the first occurrences" eval '[ "$(dcount)" = $((d0 + 60)) ] && [ "$(n2029)" = 0 ]'
# The first occurrence of row 40 changed (a later coverage end), its two copies not: the first
# is written, the copies are still duplicates of its line.
awk -F, 'BEGIN { OFS = "," } NR == 41 { $12 = "2029-12-31" } { print }' "$tmp/dups.csv" >"$tmp/dups2.csv"
"$bin" import beneficiaries --data "$ddata" --amc "$amc" --batch 7 --report "$tmp/dups2.report" "$tmp/dups2.csv" >"$tmp/dout3" 2>&1
check "first occurrence changed: 1 imported, 59 unchanged, the same report" \
  eval '[ "$(stat_of imported "$tmp/dout3")" = 1 ] && [ "$(stat_of unchanged "$tmp/dout3")" = 59 ] && diff -q "$tmp/dups.expected" "$tmp/dups2.report"'
check "first occurrence changed: it is stored" eval '[ "$(n2029)" = 1 ]'

# Many rejected rows: a batch goes to the writer once it carries 8192 rejections, and the
# report stays in file order across those early hand-overs. Every row of the 20,000-row file
# made bad (a birth date in 1899) but one in 1000.
awk -F, 'BEGIN { OFS = "," } NR > 1 && (NR - 1) % 1000 != 1 { $6 = "1899-06-15" } { print }' "$csv" >"$tmp/mostly_bad.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" --report "$tmp/mostly_bad.report" "$tmp/mostly_bad.csv" >"$tmp/out_bad" 2>&1
rc=$?
check "mostly bad file: exit 3, 19980 rejected, 20 imported or unchanged (got $rc)" \
  eval '[ $rc = 3 ] && [ "$(stat_of rejected "$tmp/out_bad")" = 19980 ] && [ $(($(stat_of imported "$tmp/out_bad") + $(stat_of unchanged "$tmp/out_bad"))) = 20 ]'
check "mostly bad file: the report lists them all, in line order" \
  eval '[ "$(tail -n +2 "$tmp/mostly_bad.report" | wc -l)" = 19980 ] && tail -n +2 "$tmp/mostly_bad.report" | cut -d, -f1 | sort -n -c'

# ---- SIGKILL in the middle of an import ----------------------------------------------------------
kdata=$tmp/killed
"$bin" demo --data "$kdata" --beneficiaries 1 >/dev/null 2>&1 || die "demo for the kill test failed"
kdb=$kdata/opentp.db
kcount() { sqlite3 "$kdb" "PRAGMA busy_timeout = 5000; SELECT count(*) FROM beneficiary b JOIN amc a ON a.id = b.amc_id WHERE a.number = '$amc'" | tail -1; }
k0=$(kcount)
rows=200000
"$bin" import gen-csv --data "$kdata" --amc "$amc" --rows $rows --seed 5 "$tmp/big.csv" 2>/dev/null ||
  die "gen-csv of the big file failed"
"$bin" import beneficiaries --data "$kdata" --amc "$amc" --batch 5000 --report "$tmp/big.report" "$tmp/big.csv" >"$tmp/kout" 2>&1 &
importer=$!
# Wait for the first committed batch, then kill without warning.
for _ in $(seq 1 600); do
  n=$(kcount 2>/dev/null)
  [ "${n:-0}" -gt "$k0" ] && break
  kill -0 "$importer" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$importer" 2>/dev/null
wait "$importer" 2>/dev/null
importer=
k1=$(kcount)
done_rows=$((k1 - k0))
echo "# killed after $done_rows of $rows rows were committed"
check "after SIGKILL: whole batches only ($done_rows rows committed, a multiple of 5000, or all)" \
  eval '[ $done_rows -gt 0 ] && { [ $((done_rows % 5000)) = 0 ] || [ $done_rows = $rows ]; }'
check "after SIGKILL: PRAGMA integrity_check is ok" eval '[ "$(sqlite3 "$kdb" "PRAGMA integrity_check")" = ok ]'
check "after SIGKILL: every stored row is complete" \
  eval '[ "$(sqlite3 "$kdb" "SELECT count(*) FROM beneficiary WHERE length(identity) < 60 OR length(digest) != 16 OR length(bidx_member) != 16 OR length(bidx_nir) != 16 OR length(bidx_birth) != 16")" = 0 ]'
"$bin" import beneficiaries --data "$kdata" --amc "$amc" --report "$tmp/big.report" "$tmp/big.csv" >"$tmp/kout2" 2>&1
rc=$?
check "the re-run completes (exit $rc): $((rows - done_rows)) imported, $done_rows unchanged" \
  eval '[ $rc = 0 ] && [ "$(stat_of imported "$tmp/kout2")" = $((rows - done_rows)) ] && [ "$(stat_of unchanged "$tmp/kout2")" = $done_rows ]'
check "and the database holds all $rows rows" eval '[ "$(kcount)" = $((k0 + rows)) ]'

# ---- File-level failures: exit status 1, a clear message, nothing written ---------------------
before=$(count_all)
cut -d, -f1-7,9- "$csv" | head -100 >"$tmp/no_nir.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" "$tmp/no_nir.csv" >/dev/null 2>"$tmp/err6"
rc=$?
check "missing column: exit status 1 (got $rc)" eval '[ $rc = 1 ]'
check "missing column: the message names it" grep -q "missing column: nir" "$tmp/err6"

sed '1s/$/,email/; 2,$s/$/,x/' "$csv" | head -100 >"$tmp/extra.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" "$tmp/extra.csv" >/dev/null 2>"$tmp/err7"
rc=$?
check "unknown column: exit status 1 (got $rc)" eval '[ $rc = 1 ]'
check "unknown column: the message names it" grep -q 'unknown column: "email" (column 14)' "$tmp/err7"

tail -n +2 "$csv" | head -50 >"$tmp/headless.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" "$tmp/headless.csv" >/dev/null 2>"$tmp/err8"
rc=$?
check "no header line: exit status 1, 'not a header' (got $rc)" eval '[ $rc = 1 ] && grep -q "not a header" "$tmp/err8"'
check "no header line: the message echoes no value of the file" eval '! grep -qF -f <(tail -n +2 "$csv" | head -1 | tr , "\n" | awk "length >= 5") "$tmp/err8"'

: >"$tmp/empty.csv"
"$bin" import beneficiaries --data "$data" --amc "$amc" "$tmp/empty.csv" >/dev/null 2>"$tmp/err9"
rc=$?
check "empty file: exit status 1 (got $rc), 'expected a header line'" eval '[ $rc = 1 ] && grep -q "expected a header line" "$tmp/err9"'

"$bin" import beneficiaries --data "$data" --amc "$amc" "$tmp/does-not-exist.csv" >/dev/null 2>"$tmp/err10"
rc=$?
check "nonexistent file: exit status 1 (got $rc)" eval '[ $rc = 1 ]'
check "nonexistent file: 'cannot open ... No such file or directory'" grep -q "cannot open .*does-not-exist.csv: No such file or directory" "$tmp/err10"

"$bin" import beneficiaries --data "$data" --amc 999999999 "$csv" >/dev/null 2>"$tmp/err11"
rc=$?
check "unknown AMC: exit status 1 (got $rc) and 'no AMC numbered 999999999'" eval '[ $rc = 1 ] && grep -q "no AMC numbered 999999999" "$tmp/err11"'
check "no failed import wrote anything" eval '[ "$(count_all)" = "$before" ]'

# ---- Usage errors: exit status 2 -------------------------------------------------------------
usage() {
  "$bin" "$@" >/dev/null 2>&1
  [ $? = 2 ]
}
check "usage: --amc missing" usage import beneficiaries --data "$data" "$csv"
check "usage: --amc not 9 digits" usage import beneficiaries --data "$data" --amc 12345 "$csv"
check "usage: no file" usage import beneficiaries --data "$data" --amc "$amc"
check "usage: two files" usage import beneficiaries --data "$data" --amc "$amc" "$csv" "$csv"
check "usage: unknown option" usage import beneficiaries --data "$data" --amc "$amc" --fast "$csv"
check "usage: --batch 0" usage import beneficiaries --data "$data" --amc "$amc" --batch 0 "$csv"
check "usage: unknown import kind" usage import contracts --data "$data" --amc "$amc" "$csv"
check "--help exits 0 and documents the exit statuses" eval '"$bin" import --help | grep -q "3 some rows rejected"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
