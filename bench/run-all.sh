#!/usr/bin/env bash
# Every benchmark, one after the other (about an hour on 2 cores: the 10M-event access log and
# the simulated day are the long ones). Results are printed; docs/BENCHMARKS.md records them
# with the machine they ran on.
#   bench/run-all.sh path/to/opentp          (a release build: build/release/opentp)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
build=$(dirname "$bin")
echo "### rights checks vs nginx";                 "$here/rights.sh" "$bin"
echo "### sign-ins and rights under a flood";       "$here/login.sh" "$bin"
echo "### beneficiary import";                      "$here/import.sh" "$bin"
echo "### argon2id cost";                           "$here/login_hash.sh"
echo "### benefits engine";                         "$here/engine.sh" "$build"
echo "### claims through the API";                  "$here/claims.sh" "$bin"
echo "### pain.001 writer";                         "$here/sepa.sh"
echo "### payment run over 1,000,000 claims";       BIN=$bin "$here/pay.sh"
echo "### detection cost";                          "$here/detect.sh"
echo "### rights checks with / without the access log"; "$here/audit_append.sh" "$bin"
echo "### access log: verify and assess 10M events"; "$here/audit.sh" "$bin"
echo "### a simulated day and the 2024 attack";     TP_BUILD=$build "$here/simulate.sh"
