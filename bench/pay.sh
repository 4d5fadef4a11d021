#!/usr/bin/env bash
# A payment run over N accepted claims (default 1,000,000) spread over P PS (default 20,000)
# and every AMC of the demo: `opentp pay` end to end (assignment, one pain.001 file, one
# remittance advice per PS in CSV and text, one statement per AMC, claims marked paid), wall
# time and peak RSS from /usr/bin/time -v, median of 3 runs, each on a fresh copy of the same
# database. Reference in the same invocation: `sqlite3` reading the same claims grouped per PS
# (SELECT ps_id, count(*), sum(amc_cents) ... GROUP BY ps_id), the least any run must do; the
# ratio says what the rest (writes, files, syncs) costs. Target (docs/PAYMENTS.md): <= 30 s.
#   bench/pay.sh [N] [P]            (BIN=path/to/opentp, default build/release/opentp)
# The claims are generated straight into the database with SQL (recursive CTE), not through the
# API: this measures the run, not claim submission.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
n=${1:-1000000}
nps=${2:-20000}
bin=${BIN:-$root/build/release/opentp}
out="$here/out/pay"
[ -x "$bin" ] || { echo "no opentp binary at $bin (make, or BIN=...)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 missing (scripts/deps.sh bench)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"/run? "$out/template"' EXIT

bench_machine
tpl=$out/template
"$bin" demo --data "$tpl" --beneficiaries 1000 >/dev/null
db=$tpl/opentp.db
# Claims belong to the claims module; older schemas without the table get the columns it
# guarantees.
sqlite3 "$db" "CREATE TABLE IF NOT EXISTS claim(id INTEGER PRIMARY KEY, ps_id INTEGER NOT NULL,
  invoice TEXT NOT NULL, content_digest BLOB NOT NULL, beneficiary_id INTEGER NOT NULL,
  amc_number TEXT NOT NULL, engagement TEXT, pec TEXT, date_of_care INTEGER NOT NULL,
  submitted_ms INTEGER NOT NULL, status TEXT NOT NULL, total_cents INTEGER NOT NULL,
  amo_cents INTEGER NOT NULL, amc_cents INTEGER NOT NULL, patient_cents INTEGER NOT NULL,
  reasons TEXT NOT NULL, payment_run INTEGER, UNIQUE(ps_id, invoice))"
t0=$(date +%s%N)
# PS beyond the demo's: names and bank details of the demo's PS (valid IBANs), new identifiers.
sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $nps
    - (SELECT count(*) FROM ps)),
  src(k, profession, name, address, iban, bic) AS (SELECT row_number() OVER (ORDER BY id) - 1,
    profession, name, address, iban, bic FROM ps)
  INSERT INTO ps(identifier, profession, finess, rpps, am_number, name, address, iban, bic)
  SELECT printf('9%08d', i), s.profession, '', '', '', s.name, s.address, s.iban, s.bic
  FROM n JOIN src s ON s.k = i % (SELECT count(*) FROM src)"
sqlite3 "$db" "PRAGMA foreign_keys = OFF;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n),
  a(k, num) AS (SELECT row_number() OVER (ORDER BY id) - 1, number FROM amc)
  INSERT INTO claim(ps_id, invoice, content_digest, beneficiary_id, amc_number, date_of_care,
    submitted_ms, status, total_cents, amo_cents, amc_cents, patient_cents, reasons)
  SELECT (SELECT min(id) FROM ps) + (i * 7) % $nps, 'F' || i, x'00', 1, a.num, 20400, 0,
    'accepted', 3000 + i % 5000, 2000, 100 + (i * 7919) % 25000, 0, ''
  FROM n JOIN a ON a.k = i % (SELECT count(*) FROM amc);
  PRAGMA wal_checkpoint(TRUNCATE);"
"$bin" pay account --data "$tpl" --name "Plateforme opentp" --iban FR7630006000011234567890189 \
  --bic AGRIFRPP >/dev/null
printf "generated %d claims over %d PS in %.1f s; database %d MB\n" "$n" "$nps" \
  "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')" "$(($(stat -c %s "$db") / 1000000))"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); median of 3 runs"

# timed LABEL CMD...: runs CMD under /usr/bin/time -v, appends "seconds rss_mb" to $out/LABEL.
timed() {
  local label=$1 log="$out/time-$1.txt"
  shift
  /usr/bin/time -v "$@" >"$out/stdout-$label.txt" 2>"$log" || {
    cat "$log" >&2
    exit 1
  }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%s ", s }
              /Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$log" >>"$out/$label"
}
median() { sort -n -k"$2" "$out/$1" | awk -v k="$2" 'NR == 2 { print $k }'; }

# Each repetition on its own copy, all removed at the end: deleting a run's 40,000 files just
# before the next run makes ext4 skip the recently freed inodes when it allocates the new ones
# (a third of phase 2's time in `recently_deleted`), which no production run sees.
for i in 1 2 3; do
  cp -r "$tpl" "$out/run$i"
  sync
  timed reference sqlite3 "$out/run$i/opentp.db" \
    "SELECT ps_id, count(*), sum(amc_cents) FROM claim WHERE status = 'accepted' AND payment_run IS NULL GROUP BY ps_id"
  timed pay "$bin" pay --data "$out/run$i"
  # What the run paid must be what the reference read.
  run=$(ls "$out/run$i/payments" | grep OPENTP | head -1)
  want=$(sqlite3 "$out/run$i/opentp.db" "SELECT sum(amc_cents) FROM claim WHERE status = 'paid'")
  got=$(sed -n 's/.*<CtrlSum>\([0-9]*\)\.\([0-9][0-9]\)<.*/\1\2/p' "$out/run$i/payments/$run/$run.xml" | head -1)
  [ "$got" = "$want" ] || { echo "CtrlSum $got != paid AMC parts $want" >&2; exit 1; }
done
files=$(find "$out/run1/payments/$run" -type f | wc -l)
xml=$(($(stat -c %s "$out/run1/payments/$run/$run.xml") / 1000000))

ref=$(median reference 1)
printf "%-46s %9s %14s %8s\n" "case ($n claims, $nps PS)" "seconds" "peak RSS (MB)" "vs ref"
for c in pay reference; do
  s=$(median "$c" 1)
  printf "%-46s %9s %14s %8s\n" "$c" "$s" "$(median "$c" 2)" \
    "$(awk -v a="$s" -v b="$ref" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')"
done
echo "opentp pay: $(tail -2 "$out/stdout-pay.txt" | head -1)"
echo "files: $files in the run's folder, pain.001 $xml MB"
