#!/usr/bin/env bash
# Bulk import of beneficiaries: time and peak memory for 100k, 500k and 1M-row files, each
# imported into a fresh platform, then the 1M file imported again (every row unchanged), as it
# is and with its rows in another order (into a copy of the platform as the first import left
# it: each unchanged row is then noted in a random place of import_seen).
#   bench/import.sh path/to/opentp [ROWS...]
# Targets (docs/IMPORT.md): 1M rows in <= 20 s, peak RSS <= 256 MB and flat (the same at 500k
# and 1M rows: nothing grows with the file).
# Builds nothing: give it a release binary. HYPERFINE=1 adds a 3-run hyperfine of the 1M case.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=$(realpath "${1:?usage: bench/import.sh path/to/opentp [ROWS...]}")
shift
sizes=${*:-100000 500000 1000000}
out="$here/out/import"
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"/platform-* "$out"/*.csv' EXIT

# A platform with the demo's AMCs and contracts and (nearly) no beneficiaries.
fresh() {
  rm -rf "$1"
  "$bin" demo --data "$1" --beneficiaries 1 >/dev/null 2>&1
}
fresh "$out/platform-gen"
amc=$(sqlite3 "$out/platform-gen/opentp.db" "SELECT a.number FROM amc a JOIN contract c ON c.amc_id = a.id GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1")

bench_machine
echo "AMC $amc; each import into a fresh platform; /usr/bin/time -v for wall time and peak RSS"
printf "%-30s %10s %9s %10s %14s\n" "case" "rows" "seconds" "rows/s" "peak RSS (MB)"
line() { printf "%-30s %10s %9s %10s %14s\n" "$@"; }
# run LABEL ROWS PLATFORM FILE: imports and prints one line; checks the counts.
run() {
  local label=$1 rows=$2 plat=$3 file=$4 log="$out/time-$1.txt"
  /usr/bin/time -v "$bin" import beneficiaries --data "$plat" --amc "$amc" --no-progress \
    --report "$out/report-$1.csv" "$file" >"$out/out-$1.txt" 2>"$log" || {
    echo "import failed:" >&2
    cat "$out/out-$1.txt" "$log" >&2
    exit 1
  }
  local secs rss
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
  line "$label" "$rows" "$secs" "$(awk -v r="$rows" -v s="$secs" 'BEGIN { printf "%.0f", r / s }')" "$rss"
}

for n in $sizes; do
  "$bin" import gen-csv --data "$out/platform-gen" --amc "$amc" --rows "$n" "$out/rows-$n.csv" 2>/dev/null
  fresh "$out/platform-$n"
  run "import $n" "$n" "$out/platform-$n" "$out/rows-$n.csv"
  imported=$(awk '$1 == "imported" { print $2 }' "$out/out-import $n.txt")
  [ "$imported" = "$n" ] || { echo "expected $n imported, got $imported" >&2; exit 1; }
done
last=${sizes##* }
cp -a "$out/platform-$last" "$out/platform-$last-shuffled"
{
  head -1 "$out/rows-$last.csv"
  tail -n +2 "$out/rows-$last.csv" | shuf --random-source=<(yes)
} >"$out/shuffled-$last.csv"
run "re-import $last (unchanged)" "$last" "$out/platform-$last" "$out/rows-$last.csv"
run "re-import $last (shuffled)" "$last" "$out/platform-$last-shuffled" "$out/shuffled-$last.csv"
for label in unchanged shuffled; do
  unchanged=$(awk '$1 == "unchanged" { print $2 }' "$out/out-re-import $last ($label).txt")
  [ "$unchanged" = "$last" ] || { echo "re-import ($label): expected $last unchanged, got $unchanged" >&2; exit 1; }
done
echo "database: $(du -m "$out/platform-$last/opentp.db" | cut -f1) MB for $last rows"

if [ "${HYPERFINE:-0}" = 1 ] && command -v hyperfine >/dev/null; then
  hyperfine --runs 3 --prepare "rm -rf '$out/platform-hf' && '$bin' demo --data '$out/platform-hf' --beneficiaries 1 >/dev/null 2>&1" \
    "'$bin' import beneficiaries --data '$out/platform-hf' --amc $amc --no-progress --report /dev/null '$out/rows-$last.csv'"
fi
