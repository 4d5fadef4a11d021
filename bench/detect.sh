#!/usr/bin/env bash
# Cost of scraping detection per request (docs/DETECTION.md "Cost"): precheck + observe of a
# rights check with 10,000 accounts active, on one thread, against the GCRA check of
# src/core/throttle.h on the same keys (the reference, in the same run); median of 3 runs.
# Builds bench/detect.c with the release flags of the product build (a bench tool, not part
# of it).
#   bench/detect.sh [ACCOUNTS] [REQUESTS]      default 10000 2000000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
out="$here/out"
mkdir -p "$out"
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_FORTIFY_SOURCE=2 \
  -fstack-protector-strong -Wall -Wextra -Werror -Wshadow -Wvla -I"$root/src" \
  -o "$out/detect_bench" "$here/detect.c" "$root/src/security/detect_state.c" \
  "$root/src/core/detect.c" "$root/src/core/throttle.c" "$root/src/core/domain.c" \
  "$root/src/core/err.c" -lpthread -lm
bench_machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# One core: pinned when taskset is there (util-linux), so the figure is one core's.
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$out/detect_bench" -a "${1:-10000}" -n "${2:-2000000}" -r 3
