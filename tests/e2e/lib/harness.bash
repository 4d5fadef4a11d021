# Shared scaffolding of the end-to-end tests (sourced by tests/e2e/*.sh, not a test itself).
#
# Gives: $tmp, a scratch folder removed at exit; $server, a server pid stopped at exit;
# ok / notok / check NAME COMMAND... / die MESSAGE, which count results in TAP-like lines;
# finish, which prints the tally and returns non-zero when anything failed; and
# serve_platform DATA [SERVE OPTIONS...], which starts `$bin serve` on a free port of
# 127.0.0.1 and sets $server and $base. The sourcing script sets $bin first.
# shellcheck shell=bash
tmp=$(mktemp -d)
server=
_harness_cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap _harness_cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else notok "$name"; fi
}
die() {
  echo "not ok - $1"
  echo "$pass passed, $((fail + 1)) failed"
  exit 1
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}

# serve_platform DATA [OPTIONS...]: the real server on 127.0.0.1 (port chosen by the kernel),
# stopped at exit after 300 s at the latest. Sets $server and $base.
serve_platform() {
  local data=$1
  shift
  rm -f "$tmp/port"
  "$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" --access-log off \
    --exit-after 300 "$@" >"$tmp/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  [ -s "$tmp/port" ] || die "server did not start: $(cat "$tmp/server.log")"
  base=http://127.0.0.1:$(cat "$tmp/port")
}
stop_server() {
  kill "$server" && wait "$server" 2>/dev/null
  server=
}
