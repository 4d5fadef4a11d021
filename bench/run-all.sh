#!/usr/bin/env bash
# Every benchmark, one after the other (about 15 minutes on 2 cores). Results are printed;
# docs/BENCHMARKS.md records them with the machine they ran on.
#   bench/run-all.sh path/to/opentp
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
echo "### rights checks vs nginx";            "$here/rights.sh" "$bin"
echo "### sign-ins and rights under a flood";  "$here/login.sh" "$bin"
echo "### beneficiary import";                 "$here/import.sh" "$bin"
echo "### argon2id cost";                      "$here/login_hash.sh"
