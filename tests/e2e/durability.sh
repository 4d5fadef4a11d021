#!/usr/bin/env bash
# Every engagement a client was given is stored: the server is killed (SIGKILL) in the middle
# of a stream of concurrent rights checks, then each engagement number received in a 200 must
# be in the database, and the database must pass its integrity check.
set -u
bin=$1
tmp=$(mktemp -d)
spid=
cleanup() { [ -n "$spid" ] && kill -9 "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }

"$bin" demo --data "$tmp/p" --beneficiaries 2000 >/dev/null 2>&1 || { echo "demo failed"; exit 1; }
token=$(awk '$1 == "PHARMACIE" { print $3 }' "$tmp/p/demo.txt")
"$bin" cards --data "$tmp/p" --count 300 >"$tmp/cards" 2>/dev/null
# Detection off: one token checking cards as fast as it can is what detection contains.
"$bin" serve --data "$tmp/p" --detection off --listen 127.0.0.1:0 --port-file "$tmp/port" --access-log off \
  --exit-after 300 2>"$tmp/stderr" &
spid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$tmp/port")"

# 8 clients, each posting cards in a loop and appending "status number" lines.
client() {
  while read -r body; do
    out=$(curl -s -m 5 -w ' %{http_code}' -H "Authorization: Bearer $token" -d "$body" \
      "$base/api/v1/rights/check") || continue
    code=${out##* }
    num=$(grep -o '"number":"E[0-9A-Z]*"' <<<"$out" | cut -d'"' -f4)
    [ "$code" = 200 ] && [ -n "$num" ] && echo "$num" >>"$tmp/acked.$1"
  done <"$tmp/cards"
}
for i in $(seq 8); do client "$i" & done
sleep 2
kill -9 "$spid"
wait "$spid" 2>/dev/null
spid=
wait
cat "$tmp"/acked.* 2>/dev/null | sort -u >"$tmp/acked"
n=$(wc -l <"$tmp/acked")
[ "$n" -gt 20 ] && ok "$n engagements acknowledged before the kill" || notok "only $n engagements acknowledged"

sqlite3 "$tmp/p/opentp.db" "SELECT number FROM engagement" | sort -u >"$tmp/stored"
missing=$(comm -23 "$tmp/acked" "$tmp/stored" | wc -l)
[ "$missing" = 0 ] && ok "every acknowledged engagement is in the database" \
  || notok "$missing acknowledged engagements are missing"
ic=$(sqlite3 "$tmp/p/opentp.db" "PRAGMA integrity_check")
[ "$ic" = ok ] && ok "integrity_check: ok" || notok "integrity_check: $ic"
# Each acknowledged engagement has its access event in the access log (an intent is
# acknowledged only once both the database and the log are durable), and the log verifies.
"$bin" audit events --data "$tmp/p" | jq -r 'select(.outcome == "covered") | .at_ms' | sort -u >"$tmp/event_ms"
sqlite3 "$tmp/p/opentp.db" "SELECT number || ' ' || created_ms FROM engagement" | sort >"$tmp/eng_ms"
orphans=0
while read -r number; do
  ms=$(grep "^$number " "$tmp/eng_ms" | cut -d' ' -f2)
  grep -qx "$ms" "$tmp/event_ms" || orphans=$((orphans + 1))
done <"$tmp/acked"
[ "$orphans" = 0 ] && ok "every acknowledged engagement has its access event in the log" \
  || notok "$orphans acknowledged engagements without access event"
"$bin" audit verify --data "$tmp/p" >"$tmp/verify" 2>&1 && ok "audit verify after the kill: $(cat "$tmp/verify")" \
  || notok "audit verify after the kill: $(cat "$tmp/verify")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
