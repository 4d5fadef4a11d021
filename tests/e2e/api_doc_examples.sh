#!/usr/bin/env bash
# docs/API.md does what it says: every ```sh example block is run with curl against a real
# server on 127.0.0.1 (a fresh demo platform), and must answer the status written on the
# "Expected status: NNN" line just before it. When the ```json sample that follows shows an
# error code or a "covered" value, the real answer must show the same.
#
# Examples may use only $BASE, $TOKEN, $AMC, $MEMBER, $NIR, $DATE, $BIRTH_DATE and
# $BIRTH_RANK; this script sets them from one family's card (a line of `opentp cards` with a
# NIR and one with birth data, same AMC and member number).
# shellcheck disable=SC2015,SC2016,SC2034,SC2317 # the examples use the variables via eval
set -u
bin=${1:?usage: api_doc_examples.sh /path/to/opentp}
doc=${TP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/docs/API.md
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"
[ -r "$doc" ] || die "cannot read $doc"

# --- the examples -------------------------------------------------------------------------

# Splits the document into ex/N.sh (the command), ex/N.status (the expected status, when the
# line before the block says it), ex/N.json (the sample answer, when it follows at once),
# ex/N.line (where the block starts).
mkdir "$tmp/ex"
awk -v dir="$tmp/ex" '
  state == "sh" { if ($0 == "```") { state = "after"; next } print > (dir "/" n ".sh"); next }
  state == "after" { state = ""; if ($0 == "```json") { state = "json"; next } }
  state == "json" { if ($0 == "```") { state = ""; next } print > (dir "/" n ".json"); next }
  $0 == "```sh example" {
    n++; state = "sh"; print NR > (dir "/" n ".line")
    if (prev ~ /^Expected status: [0-9][0-9][0-9]$/) print substr(prev, 18) > (dir "/" n ".status")
    next
  }
  { prev = $0 }
  END { print n + 0 > (dir "/count") }
' "$doc"
count=$(cat "$tmp/ex/count")
[ "$count" -ge 6 ] && ok "docs/API.md has $count examples (at least 6)" || notok "docs/API.md has $count examples, want at least 6"

# --- a platform and a family's card -------------------------------------------------------

data=$tmp/platform
"$bin" demo --data "$data" --beneficiaries 2000 >/dev/null 2>"$tmp/demo.err" || die "opentp demo failed: $(cat "$tmp/demo.err")"
"$bin" cards --data "$data" --count 2000 >"$tmp/cards" 2>/dev/null || die "opentp cards failed"
family=$(jq -sc 'group_by(.amc + " " + .member)
                 | map(select(any(.[]; (.nir // "") | test("^[0-9]{15}$")) and any(.[]; .birth_date)))
                 | first // empty' "$tmp/cards")
[ -n "$family" ] || die "no family with both a NIR line and a birth-date line in opentp cards"
TOKEN=$(awk '$1 == "PHARMACIE" { print $3 }' "$data/demo.txt")
AMC=$(jq -r '.[0].amc' <<<"$family")
MEMBER=$(jq -r '.[0].member' <<<"$family")
DATE=$(jq -r '.[0].date' <<<"$family")
NIR=$(jq -r 'map(select(.nir)) | .[0].nir' <<<"$family")
BIRTH_DATE=$(jq -r 'map(select(.birth_date)) | .[0].birth_date' <<<"$family")
BIRTH_RANK=$(jq -r 'map(select(.birth_date)) | .[0].birth_rank' <<<"$family")

"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" --exit-after 600 \
  --access-log off >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -s "$tmp/port" ] || die "server did not start: $(cat "$tmp/server.err")"
BASE=http://127.0.0.1:$(cat "$tmp/port")

# --- run them -----------------------------------------------------------------------------

allowed='BASE|TOKEN|AMC|MEMBER|NIR|DATE|BIRTH_DATE|BIRTH_RANK'
# Runs the command of an example with curl writing the body to $tmp/resp and printing only
# the status; prints the status.
run() {
  (
    curl() { command curl "$@" -o "$tmp/resp" -s -w '%{http_code}'; }
    eval "$(cat "$1")"
  )
}
: >"$tmp/seen"
for i in $(seq "$count"); do
  f=$tmp/ex/$i
  where="API.md:$(cat "$f.line")"
  want=$(cat "$f.status" 2>/dev/null)
  problems=
  [ -n "$want" ] || problems="$problems; no 'Expected status: NNN' line just before the block"
  [ -s "$f.json" ] || problems="$problems; no \`\`\`json block right after"
  [ -s "$f.json" ] && ! jq -e . "$f.json" >/dev/null 2>&1 && problems="$problems; the json sample is not JSON"
  [ "$(grep -cE '^curl ' "$f.sh" 2>/dev/null)" = 1 ] || problems="$problems; not exactly one curl command"
  grep -qE -- '(^| )(-o|--output|-w|--write-out|-O)( |$)' "$f.sh" && problems="$problems; uses -o/-w (the test sets them)"
  others=$(grep -oE '\$\{?[A-Za-z_][A-Za-z0-9_]*' "$f.sh" | tr -d '${' | grep -vxE "$allowed" | sort -u | paste -sd' ')
  [ -z "$others" ] || problems="$problems; uses other variables: $others"
  rm -f "$tmp/resp"
  got=$(run "$f.sh" 2>/dev/null)
  [ "$got" = "$want" ] || problems="$problems; status $got, documented $want"
  code=-
  if [ -s "$f.json" ]; then
    want_code=$(jq -r '.error.code // "-"' "$f.json" 2>/dev/null)
    code=$(jq -r '.error.code // "-"' "$tmp/resp" 2>/dev/null)
    [ "$code" = "$want_code" ] || problems="$problems; error code $code, documented $want_code"
    want_cov=$(jq -r 'if type == "object" and has("covered") then .covered else "-" end' "$f.json" 2>/dev/null)
    cov=$(jq -r 'if type == "object" and has("covered") then .covered else "-" end' "$tmp/resp" 2>/dev/null)
    [ "$cov" = "$want_cov" ] || problems="$problems; covered $cov, documented $want_cov"
  fi
  # What this example shows, for the coverage checks below.
  tags=$got:$code
  grep -q '/healthz' "$f.sh" && tags="$tags healthz"
  grep -q 'Authorization' "$f.sh" || tags="$tags notoken"
  grep -q '\\"nir\\"' "$f.sh" && tags="$tags nir"
  grep -q '\\"birth_date\\"' "$f.sh" && tags="$tags birth"
  [ "${cov:-}" = true ] && tags="$tags covered"
  echo "$tags" >>"$tmp/seen"
  path=$(grep -oE '\$BASE[^" ]*' "$f.sh" | head -1)
  shows=$code
  [ "$code" = - ] && [ "${cov:--}" != - ] && shows="covered:$cov"
  [ "$shows" = - ] && shows=
  if [ -z "$problems" ]; then
    ok "example $i ($where): ${path#\$BASE} -> $got${shows:+ $shows}"
  else
    notok "example $i ($where): ${path#\$BASE}${problems}"
  fi
  cov=
done

# --- the examples a reader needs are there ------------------------------------------------

has() { grep -qE "$1" "$tmp/seen"; }
has '^200:- .*healthz' && ok "there is a healthz example" || notok "no healthz example answering 200"
has '^200:- .*nir.* covered' && ok "there is a covered check by NIR" || notok "no covered check by NIR"
has '^200:- .*birth.* covered' && ok "there is a covered check by birth date" || notok "no covered check by birth date"
has '^404:not_found' && ok "there is a not-found example" || notok "no 404 not_found example"
has '^400:invalid_nir' && ok "there is an invalid-NIR example" || notok "no 400 invalid_nir example"
has '^401:unauthenticated .*notoken' && ok "there is a no-token example" || notok "no 401 example without a token"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
