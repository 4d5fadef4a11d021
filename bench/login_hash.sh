#!/usr/bin/env bash
# argon2id cost of a login with the parameters in src/security/password.h: milliseconds per
# hash and hashes per second on 1 and 2 threads (the worker pool's sizes on this class of
# machine). Builds bench/argon2_bench.c with cc against libsodium (a bench tool, not part of
# the product build).
#   bench/login_hash.sh [HASHES_PER_THREAD]     default 20
#   SWEEP=1 bench/login_hash.sh                 also opslimit 1..4 x 64/128 MiB, 1 thread
# Run it on a quiet machine: argon2id is memory-bound, so other load shows in the figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
n=${1:-20}
out="$here/out"
mkdir -p "$out"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
  -I"$root/src" -o "$out/argon2_bench" "$here/argon2_bench.c" \
  $(pkg-config --cflags --libs libsodium) -lpthread

bench_machine
echo "libsodium $(pkg-config --modversion libsodium); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/argon2_bench" -t 1 -n "$n"
"$out/argon2_bench" -t 2 -n "$n"
if [ "${SWEEP:-0}" = 1 ]; then
  echo "sweep (1 thread):"
  "$out/argon2_bench" -s -n "$((n / 2 > 0 ? n / 2 : 1))"
fi
