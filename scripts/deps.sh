#!/usr/bin/env bash
# Installs the Debian packages opentp needs to build, test and benchmark.
# As root: apt-get install what is missing. Otherwise: print the exact command and stop.
set -eu
want="${1:-build}"
pkgs="build-essential cmake ninja-build pkg-config libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libssl-dev libpq-dev libqrencode-dev libpango1.0-dev libcairo2-dev fonts-dejavu-core"
case "$want" in
  build) ;;
  test) pkgs="$pkgs libcmocka-dev curl sqlite3 jq clang libclang-rt-14-dev oathtool poppler-utils fonts-dejavu-core libxml2-utils" ;;
  bench) pkgs="$pkgs libcmocka-dev curl sqlite3 jq bc wrk nginx-light hyperfine time" ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run: sudo apt-get install -y$missing" >&2
  exit 1
fi
