#!/usr/bin/env bash
# The access log at scale (issue: verify 10,000,000 events <= 20 s; assess an incident over
# them <= 10 s). Fills a log with N synthetic events (bench/audit_fill.c, the server's append
# path), then times, in the same invocation:
#   reference   sha256sum over the same segment files (hashing every byte once)
#   verify      opentp audit verify (tags + every signed head + every root)
#   verify-pub  opentp audit verify --public-key (what an outside auditor runs)
#   assess      opentp incident assess for one PS over the whole log (when available)
#   bench/audit.sh [OPENTP] [N]          defaults: build/release/opentp 10000000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=$(realpath "${1:-$root/build/release/opentp}")
n=${2:-10000000}
out="$here/out"
mkdir -p "$out"
lib="$(dirname "$bin")"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
  -I"$root/src" -o "$out/audit_fill" "$here/audit_fill.c" "$lib/libtp_shell.a" "$lib/libtp_core.a" \
  $(pkg-config --cflags --libs libsodium libcrypto) -lpthread
data="$out/audit-$n"
if [ ! -f "$data/.filled" ]; then
  rm -rf "$data"
  "$bin" init --data "$data" >/dev/null
  start=$(date +%s.%N)
  "$out/audit_fill" "$data" "$n"
  end=$(date +%s.%N)
  touch "$data/.filled"
  echo "filled $n events in $(echo "$end - $start" | bc) s ($(echo "$n / ($end - $start)" | bc) appends/s, fdatasync per 256)"
fi
bench_machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); log size: $(du -sh "$data/audit" | cut -f1)"
pub=$(cat "$data/audit/sth.pub")
cmds=("cat $data/audit/leaves-* | sha256sum"
  "$bin audit verify --data $data"
  "$bin audit verify --data $data --public-key $pub")
if "$bin" incident --help >/dev/null 2>&1; then
  cmds+=("$bin incident assess --data $data --ps 17 --from-ms 0 --to-ms 99999999999999 --dry-run --out $out/assess-out")
fi
hyperfine --warmup 1 --runs 3 --export-json "$out/audit.json" "${cmds[@]}" >/dev/null
jq -r '.results as $r | $r[0].median as $ref | $r[] |
  "\(.command[0:90])\n    median \(.median * 100 | round / 100) s  (min \(.min * 100 | round / 100), max \(.max * 100 | round / 100))  ratio to sha256sum \(.median / $ref * 100 | round / 100)"' "$out/audit.json"
