#!/usr/bin/env bash
# Benefits engine throughput on one core: claim lines per second of tp_benefits_compute
# against a floor loop that only sums the same lines' prices, in the same invocation, and
# their ratio (target: >= 1,000,000 lines/s). Builds the release core library, then
# bench/engine.c against it with the release flags (a bench tool, not part of the product).
#   bench/engine.sh [BUILD_DIR] [CLAIMS] [ROUNDS]     default build/release 200000 5
# Pinned to one CPU with taskset when available. Run it 3 times and keep the median.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
build=${1:-$root/build/release}
claims=${2:-200000}
rounds=${3:-5}
out="$here/out"
mkdir -p "$out"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -j2 -C "$build" tp_core >/dev/null
cc -std=c11 -O2 -DNDEBUG -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_FORTIFY_SOURCE=2 \
  -Wall -Wextra -Werror -fstack-protector-strong -I"$root/src" \
  -o "$out/engine_bench" "$here/engine.c" "$build/libtp_core.a"

bench_machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$out/engine_bench" -c "$claims" -r "$rounds" "$root/data/reference"
