#!/usr/bin/env bash
# The SEPA credit transfer files opentp writes are valid ISO 20022 pain.001.001.03: sample
# files produced by the real writer (`test_sepa --samples DIR`, built beside the opentp
# binary) are validated against the published XSD with xmllint, their NbOfTxs and CtrlSum
# are recomputed from the transfers, and xmllint must reject altered copies (so a schema
# check that accepts anything would fail here).
#   tests/e2e/sepa_schema.sh /path/to/opentp
set -u
bin=${1:?usage: sepa_schema.sh /path/to/opentp}
gen=$(dirname "$bin")/test_sepa
src=${TP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
# The published ISO 20022 schema lives beside the project (../shared/data, PRODUCT §7: not
# copied into the tree).
xsd=${TP_SHARED:-$src/../shared}/data/iso20022/pain.001.001.03.xsd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v xmllint >/dev/null; then
  echo "SKIP: xmllint is not installed (Debian package libxml2-utils, scripts/deps.sh test)"
  exit 0
fi
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }

if [ ! -f "$xsd" ]; then
  echo "SKIP: the ISO 20022 schema is not beside the project ($xsd absent); the files' control sums are still checked by unit_test_sepa"
  exit 0
fi
[ -x "$gen" ] || { echo "not ok - $gen not built"; exit 1; }
"$gen" --samples "$tmp" || { echo "not ok - sample writer failed"; exit 1; }

for f in "$tmp"/*.xml; do
  name=$(basename "$f")
  if xmllint --noout --schema "$xsd" "$f" 2>"$tmp/err"; then
    ok "$name validates against pain.001.001.03.xsd"
  else
    notok "$name: $(head -3 "$tmp/err")"
  fi
  # Control sums recomputed from the transfers, in cents (awk's doubles are exact here).
  n=$(grep -c '<CdtTrfTxInf>' "$f")
  sum=$(sed -n 's/.*<InstdAmt Ccy="EUR">\([0-9]*\)\.\([0-9][0-9]\)<.*/\1\2/p' "$f" |
    awk '{s += $1} END {printf "%.0f", s}')
  hdr_n=$(sed -n 's/.*<NbOfTxs>\([0-9]*\)<.*/\1/p' "$f" | sort -u)
  hdr_sum=$(sed -n 's/.*<CtrlSum>\([0-9]*\)\.\([0-9][0-9]\)<.*/\1\2/p' "$f" | sort -u | sed 's/^0*//')
  if [ "$hdr_n" = "$n" ] && [ "$hdr_sum" = "$sum" ]; then
    ok "$name: NbOfTxs $n and CtrlSum match the transfers"
  else
    notok "$name: header says $hdr_n / $hdr_sum, transfers give $n / $sum"
  fi
done

# Altered copies must be refused by the schema check.
reject() {
  local what=$1 expr=$2
  sed "$expr" "$tmp/many.xml" >"$tmp/bad.xml"
  if cmp -s "$tmp/many.xml" "$tmp/bad.xml"; then
    notok "alteration '$what' changed nothing"
  elif xmllint --noout --schema "$xsd" "$tmp/bad.xml" 2>/dev/null; then
    notok "xmllint accepted $what"
  else
    ok "xmllint rejects $what"
  fi
}
reject "a 36-character MsgId" 's|<MsgId>\([^<]*\)</MsgId>|<MsgId>\1X</MsgId>|'
reject "a negative amount" '0,/<InstdAmt Ccy="EUR">/s|<InstdAmt Ccy="EUR">|<InstdAmt Ccy="EUR">-|'
long=$(printf 'X%.0s' $(seq 141))
reject "a creditor name over 140 characters" "0,/<Cdtr><Nm>/s|<Cdtr><Nm>[^<]*|<Cdtr><Nm>$long|"
reject "a lower-case BIC" '0,/<BIC>BNPAFRPPXXX/s|<BIC>BNPAFRPPXXX|<BIC>bnpafrppxxx|'
reject "a missing ReqdExctnDt" '/<ReqdExctnDt>/d'
reject "an unknown payment method" 's|<PmtMtd>TRF|<PmtMtd>SCT|'

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
