#!/usr/bin/env bash
# Payment file of a run over 1,000,000 accepted claims: one pain.001.001.03 file of N credit
# transfers (default 1,000,000), written by the pure-core writer (src/core/sepa.c) to disk.
# Reports wall time and peak RSS (/usr/bin/time -v), median of 3 runs, for the streaming
# writer and for the in-memory array variant, and as a reference `cp` of a file of the same
# size on the same disk, in the same invocation: the ratio says how far the writer is from
# the cost of just moving those bytes. Target (docs/PAYMENTS.md): <= 30 s for 1M transfers,
# memory flat in streaming mode.
#   bench/sepa.sh [N]
# Builds bench/sepa.c with the writer's core files and the flags of the Release build (a bench
# tool, not part of the product build; it does not depend on the rest of tp_core).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
n=${1:-1000000}
out="$here/out/sepa"
mkdir -p "$out"
trap 'rm -f "$out"/*.xml' EXIT

core="$root/src/core"
cc -std=c11 -O3 -DNDEBUG -D_FORTIFY_SOURCE=2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
  -Wall -Wextra -Werror -fstack-protector-strong -I"$root/src" -o "$out/sepa_bench" \
  "$here/sepa.c" "$core/sepa.c" "$core/validate.c" "$core/date.c" "$core/err.c"

bench_machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $n transfers; median of 3 runs"

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

rm -f "$out/stream" "$out/array" "$out/cp"
for _ in 1 2 3; do
  timed stream "$out/sepa_bench" -n "$n" "$out/stream.xml"
  timed array "$out/sepa_bench" -n "$n" --array "$out/array.xml"
  sync "$out/stream.xml"
  timed cp cp "$out/stream.xml" "$out/copy.xml"
  rm -f "$out/copy.xml"
done
cmp -s "$out/stream.xml" "$out/array.xml" || { echo "stream and array files differ" >&2; exit 1; }
size=$(stat -c %s "$out/stream.xml")
txs=$(grep -c '<CdtTrfTxInf>' "$out/stream.xml")
[ "$txs" = "$n" ] || { echo "expected $n transfers, found $txs" >&2; exit 1; }
if command -v xmllint >/dev/null && [ "$n" -le 100000 ]; then
  xmllint --noout --schema "${TP_SHARED:-$root/../shared}/data/iso20022/pain.001.001.03.xsd" \
    "$out/stream.xml" 2>&1 | tail -1
fi

ref=$(median cp 1)
printf "%-34s %9s %14s %8s\n" "case" "seconds" "peak RSS (MB)" "vs cp"
for c in stream array cp; do
  s=$(median "$c" 1)
  printf "%-34s %9s %14s %8s\n" "$c ($((size / 1000000)) MB file)" "$s" "$(median "$c" 2)" \
    "$(awk -v a="$s" -v b="$ref" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')"
done
echo "streaming writer: $(tail -1 "$out/stdout-stream.txt")"
