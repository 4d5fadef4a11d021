#!/usr/bin/env bash
# The authorisation matrix, generated from the route table (PRODUCT §5; src/core/authz.c).
#
# The routes are read from the source, src/http/server.c's `routes[]` (method, path,
# operation, resolver), not from a list kept here. Every route's operation must have a line
# in the EXPECTATIONS table below: a route added without one makes this test fail (as does a
# route with a {id} or a body this script cannot build a request for). For every route, every
# caller (no credential, a PS API token, a session of each of the six roles) and, for routes
# that act on a tenant's object (routes with a resolver), an object of the caller's own
# tenant and one of another tenant, a well-formed request is sent and its status and error
# code compared with the table. Then:
#   - the operations marked step-up are sent again, by each role allowed to, from a session
#     that has not proven TOTP: 403 step_up_required;
#   - an object that does not exist answers like another tenant's (same 404 body);
#   - every decision is in auth_event, under the request's X-Request-Id, with the outcome the
#     table implies and the operation's name (kind 'authz', detail = name).
#
# Tenants: the demo pharmacy (PS1) and its PS user; another PS (PS2) with a user made here
# and an API token; the demo insurer's AMC (AMC1) and another AMC (AMC2) with an insurer
# account made here. The platform (operator, security officer, DPO) is one tenant. For the
# accounts operations "own" means: for insurer staff an account of their AMC, for the
# platform roles a platform account, for a PS user an account of its PS; "other" is an
# insurer account of AMC2. Every session proves TOTP first (POST /auth/step-up): the sessions
# are opened with recovery codes, so the step-up route is the first one exercised.
# shellcheck disable=SC2015,SC2016,SC2034
set -u
bin=${1:?usage: authz_matrix.sh /path/to/opentp}
src=${TP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/e2e/lib/harness.bash
. "$(dirname "$0")/lib/harness.bash"

# --- the expectations ---------------------------------------------------------------------
#
# One line per operation: its name (auth_event detail, access log route=), whether it needs
# a fresh TOTP (step-up), then the answer to each caller. A cell is STATUS[:code] for both
# tenants, or OWN/OTHER for routes acting on a tenant's object. The error code defaults to
# unauthenticated for 401, forbidden for 403, not_found for 404, none for 2xx.
#
# operation                 name                     stepup anon token   ps       member   insurer  operator security dpo
EXPECTATIONS='
TP_OP_HEALTH                health                   n      200  200     200      200      200      200      200      200
TP_OP_METRICS               metrics                  n      200  200     200      200      200      200      200      200
TP_OP_LOGIN                 auth.login               n      200  200     200      200      200      200      200      200
TP_OP_LOGOUT                auth.logout              n      401  403     200      200      200      200      200      200
TP_OP_ME                    me                       n      401  403     200      200      200      200      200      200
TP_OP_STEP_UP               auth.step_up             n      401  403     200      401:invalid_code 200 200    200      200
TP_OP_PASSWORD_CHANGE       auth.password_change     n      401  403     200      200      200      200      200      200
TP_OP_SESSIONS_REVOKE_ALL   auth.sessions_revoke_all n      401  403     200      200      200      200      200      200
TP_OP_RIGHTS_CHECK          rights.check             n      401  200     200      403      403      403      403      403
TP_OP_TOKEN_CREATE          tokens.create            y      401  403     201/404  403      403      403      403      403
TP_OP_TOKEN_LIST            tokens.list              n      401  403     200/404  403      403      403      403      403
TP_OP_TOKEN_REVOKE          tokens.revoke            n      401  403     200/404  403      403      403      403      403
TP_OP_ACCOUNT_CREATE        accounts.create          y      401  403     403      403      201/404  201/201  403      403
TP_OP_ACCOUNT_FORCE_RESET   accounts.force_reset     y      401  403     403      403      200/404  200/200  200/200  403
TP_OP_TOTP_ENROLL           auth.totp_enroll         n      401  403     403      200      403      403      403      403
TP_OP_TOTP_ACTIVATE         auth.totp_activate       n      401  403     403      200      403      403      403      403
TP_OP_SWITCH_LIST           switches.list            n      401  403     403      403      403      200      200      200
TP_OP_SWITCH_SET            switches.set             y      401  403     403      403      403      200      200      403
TP_OP_PAY_RUN               payments.run             y      401  403     403      403      403      202      403      403
TP_OP_PAY_LIST              payments.list            n      401  403     403      403      403      200      403      403
TP_OP_ADVANCE_GRANT         payments.advance_grant   y      401  403     403      403      403      201      403      403
TP_OP_SECURITY_ALERTS       security.alerts          n      401  403     403      403      403      200      200      403
TP_OP_SECURITY_REINSTATE    security.reinstate       y      401  403     403      403      403      403      200      403
TP_OP_ME_ACCESSES           me.accesses              n      401  403     403      200      403      403      403      403
TP_OP_SECURITY_ASSESS       security.assess          n      401  403     403      403      403      403      200      200
TP_OP_CLAIM_SUBMIT          claims.submit            n      401  400:missing_field 400:missing_field 403 403 403 403 403
TP_OP_CLAIM_LIST            claims.list              n      401  200     200      403      403      403      403      403
TP_OP_CLAIM_GET             claims.get               n      401  404     404      403      403      404      403      403
TP_OP_CLAIM_CANCEL          claims.cancel            n      401  404     404      403      403      403      403      403
TP_OP_PEC_SUBMIT            pec.submit               n      401  400:missing_field 400:missing_field 403 403 403 403 403
TP_OP_PEC_GET               pec.get                  n      401  404     404      403      403      404      403      403
TP_OP_PEC_CANCEL            pec.cancel               n      401  404     404      403      403      403      403      403
'
cols=(anon token ps member insurer operator security dpo)
roles=(ps member insurer operator security dpo)
declare -A exp_name exp_stepup exp_cell
while read -r op name stepup rest; do
  [ -n "$op" ] || continue
  read -r -a cells <<<"$rest"
  [ "${#cells[@]}" = "${#cols[@]}" ] || die "expectation line for $op has ${#cells[@]} cells, want ${#cols[@]}"
  exp_name[$op]=$name
  exp_stepup[$op]=$stepup
  for i in "${!cols[@]}"; do exp_cell[$op/${cols[$i]}]=${cells[$i]}; done
done <<<"$EXPECTATIONS"

# --- the routes, from the source ----------------------------------------------------------

# parse_routes FILE: "METHOD PATH OPERATION RESOLVER" per route of routes[].
routes_block() { awk '/^static const struct route routes\[\] = \{/ { on = 1; next } on && /^\};/ { exit } on' "$1"; }
parse_routes() {
  routes_block "$1" | tr '\n' ' ' |
    grep -oE '\{"[A-Z]+",[[:space:]]*"[^"]+",[[:space:]]*TP_OP_[A-Z0-9_]+,[[:space:]]*[A-Za-z0-9_]+,[[:space:]]*[A-Za-z0-9_]+[[:space:]]*\}' |
    sed -E 's/^\{"([A-Z]+)",[[:space:]]*"([^"]+)",[[:space:]]*(TP_OP_[A-Z0-9_]+),[[:space:]]*[A-Za-z0-9_]+,[[:space:]]*([A-Za-z0-9_]+)[[:space:]]*\}$/\1 \2 \3 \4/'
}
# missing_entries FILE: the operations of FILE's routes that have no expectation line.
missing_entries() {
  parse_routes "$1" | while read -r _ _ op _; do [ -n "${exp_name[$op]:-}" ] || echo "$op"; done | sort -u
}

server_c=$src/src/http/server.c
[ -r "$server_c" ] || die "cannot read $server_c (TP_SRC=$src)"
parse_routes "$server_c" >"$tmp/routes"
n_routes=$(wc -l <"$tmp/routes")
n_entries=$(routes_block "$server_c" | grep -o '{"' | wc -l)
check "routes[] of src/http/server.c: $n_routes routes parsed, as many as entries in the table ($n_entries)" \
  eval '[ "$n_routes" -ge 10 ] && [ "$n_routes" = "$n_entries" ]'
missing=$(missing_entries "$server_c" | paste -sd' ')
check "every route's operation has a line in the expectation table${missing:+ (missing: $missing)}" test -z "$missing"
# The check above must catch a new route: try it on a copy of server.c with one more route.
sed '/^static const struct route routes\[\] = {/a\    {"GET", "/api/v1/new-thing/{id}", TP_OP_NEW_THING, tp_api_new_thing,\n     tp_resolve_new_thing},' \
  "$server_c" >"$tmp/server_plus.c"
check "self-test: a route added to routes[] without an expectation line is reported (TP_OP_NEW_THING)" \
  test "$(missing_entries "$tmp/server_plus.c" | paste -sd' ')" = "$({ missing_entries "$server_c"; echo TP_OP_NEW_THING; } | sort -u | paste -sd' ')"
authz_h=$src/src/core/authz.h
sed -n '/^enum tp_op {/,/^};/p' "$authz_h" | grep -oE 'TP_OP_[A-Z0-9_]+' | grep -v '^TP_OP_COUNT$' |
  while read -r op; do
    grep -q " $op " "$tmp/routes" || echo "# note: $op (src/core/authz.h) has no route"
  done
for op in "${!exp_name[@]}"; do
  grep -q " $op " "$tmp/routes" || echo "# note: expectation line for $op, which no route names"
done

# --- the platform -------------------------------------------------------------------------

data=$tmp/platform
db=$data/opentp.db
sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
demo_pw=Demo-Tiers-Payant-2026
"$bin" demo --data "$data" --beneficiaries 300 >/dev/null 2>"$tmp/demo.err" || die "opentp demo failed: $(cat "$tmp/demo.err")"
card=$("$bin" cards --data "$data" --count 1 2>/dev/null | head -1)
[ -n "$card" ] || die "opentp cards failed"
api_token=$(awk '$1 == "PHARMACIE" { print $3 }' "$data/demo.txt")
ps1_ident=$(awk '$1 == "PHARMACIE" { print $2 }' "$data/demo.txt")

mkdir "$tmp/acct"
parse_accounts() {
  awk -v dir="$tmp/acct" '
    $2 == "login" { cur = $3; next }
    cur != "" && $1 == "TOTP" && $2 == "secret" { print $3 > (dir "/" cur ".totp"); close(dir "/" cur ".totp"); next }
    cur != "" && $1 == "recovery" { for (i = 3; i <= NF; i++) print $i > (dir "/" cur ".rec"); close(dir "/" cur ".rec"); next }
  ' "$1"
}
parse_accounts "$data/demo.txt"
declare -A login_of pw_of main tw
login_of=([ps]=pharmacie@demo.opentp [member]=adherent@demo.opentp [insurer]=assureur@demo.opentp
  [operator]=operateur@demo.opentp [security]=securite@demo.opentp [dpo]=dpo@demo.opentp)
for r in "${roles[@]}"; do pw_of[$r]=$demo_pw; done

ps1_id=$(sql "SELECT ps_id FROM account WHERE login = '${login_of[ps]}'")
amc1_id=$(sql "SELECT amc_id FROM account WHERE login = '${login_of[insurer]}'")
amc1_number=$(sql "SELECT number FROM amc WHERE id = ${amc1_id:-0}")
ps2_ident=$(sql "SELECT identifier FROM ps WHERE id != ${ps1_id:-0} ORDER BY id LIMIT 1")
ps2_id=$(sql "SELECT id FROM ps WHERE identifier = '$ps2_ident'")
amc2_number=$(sql "SELECT number FROM amc WHERE id != ${amc1_id:-0} ORDER BY id LIMIT 1")
amc2_id=$(sql "SELECT id FROM amc WHERE number = '$amc2_number'")
[ -n "$ps1_id" ] && [ -n "$ps2_id" ] && [ -n "$amc1_id" ] && [ -n "$amc2_id" ] && [ -n "$api_token" ] || die "demo platform incomplete"

# Other tenants' objects, and targets for the accounts operations.
add_user() { # LOGIN ROLE [OPTION VALUE]
  printf '%s\n' "Matrix-Account-Password-90" | "$bin" user add --data "$data" --login "$1" --role "$2" ${3:+"$3" "$4"} --password-stdin >"$tmp/user.out" 2>&1 ||
    die "user add $1: $(cat "$tmp/user.out")"
  sql "SELECT id FROM account WHERE login = '$1'"
}
ps2_user=$(add_user ps-other@matrix.example ps --ps "$ps2_ident")
ps1_target=$(add_user ps-target@matrix.example ps --ps "$ps1_ident")
ins_own_target=$(add_user insurer-own@matrix.example insurer --amc "$amc1_number")
ins_other_target=$(add_user insurer-other@matrix.example insurer --amc "$amc2_number")
platform_target=$(add_user dpo-target@matrix.example dpo)
# Member accounts belong to the AMC of their beneficiary: an insurer of the AMC of one card
# (rank 1 of a family is its member), and a card of another AMC.
"$bin" cards --data "$data" --count 100 >"$tmp/cards" 2>/dev/null
card_a=$(head -1 "$tmp/cards")
card_b=$(jq -c --arg a "$(jq -r .amc <<<"$card_a")" 'select(.amc != $a)' "$tmp/cards" | head -1)
[ -n "$card_a" ] && [ -n "$card_b" ] || die "opentp cards: no two cards of different AMCs"
printf '%s\n' "Matrix-Account-Password-90" | "$bin" user add --data "$data" --login insurer-cards@matrix.example \
  --role insurer --amc "$(jq -r .amc <<<"$card_a")" --password-stdin >"$tmp/user.cards" 2>&1 || die "user add insurer-cards: $(cat "$tmp/user.cards")"
cards_totp=$(awk '$1 == "TOTP" && $2 == "secret" { print $3 }' "$tmp/user.cards")
token_id_of() { sed -n 's/^token id \([0-9]*\) .*/\1/p' "$1"; }
"$bin" ps token create --data "$data" --ps "$ps1_ident" --label matrix-own >"$tmp/t1" 2>&1
"$bin" ps token create --data "$data" --ps "$ps2_ident" --label matrix-other >"$tmp/t2" 2>&1
tok_own=$(token_id_of "$tmp/t1")
tok_other=$(token_id_of "$tmp/t2")
[ -n "$tok_own" ] && [ -n "$tok_other" ] || die "opentp ps token create failed: $(cat "$tmp/t1" "$tmp/t2")"
echo "# PS1 id $ps1_id, PS2 id $ps2_id ($ps2_ident, user $ps2_user), AMC1 id $amc1_id, AMC2 id $amc2_id; tokens $tok_own (PS1), $tok_other (PS2)"

"$bin" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" --exit-after 600 \
  --access-log "$tmp/access.log" >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -s "$tmp/port" ] || die "server did not start: $(cat "$tmp/server.err")"
base=http://127.0.0.1:$(cat "$tmp/port")

# --- helpers ------------------------------------------------------------------------------

# send METHOD PATH CRED BODY [SOURCE]: sets $status, $code (error code or -), $rid.
send() {
  local args=(-s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$1")
  [ "$1" = HEAD ] && args=(-s -I -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}')
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "$4" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  [ -n "${5:-}" ] && args+=(--interface "$5")
  status=$(curl "${args[@]}" "$base$2") || status=000
  code=$(jq -r 'if type == "object" then .error.code // "-" else "-" end' "$tmp/body" 2>/dev/null || echo -)
  [ -n "$code" ] || code=-
  rid=$(grep -i '^X-Request-Id:' "$tmp/headers" | head -1 | cut -d: -f2 | tr -d ' \r')
}
src_n=10
next_source() { src_n=$((src_n + 1)) && source_addr=127.0.$((src_n / 250)).$((src_n % 250 + 1)); }
recovery() { # ROLE: the next unused recovery code of the role's demo account
  local f=$tmp/acct/${login_of[$1]}.rec c
  c=$(head -1 "$f")
  sed -i 1d "$f"
  echo "$c"
}
login_body() { # ROLE: a valid sign-in body (recovery code for roles with TOTP)
  if [ "$1" = member ]; then
    jq -nc --arg l "${login_of[$1]}" --arg p "${pw_of[$1]}" '{login: $l, password: $p}'
  else
    jq -nc --arg l "${login_of[$1]}" --arg p "${pw_of[$1]}" --arg c "$(recovery "$1")" '{login: $l, password: $p, recovery_code: $c}'
  fi
}
sign_in() { # ROLE: sets $session (sign-in from a fresh source address); fails unless 200
  next_source
  send POST /api/v1/auth/login "" "$(login_body "$1")" "$source_addr"
  session=
  [ "$status" = 200 ] && session=$(jq -r .session "$tmp/body")
}
totp_of() { "$bin" totp-code "$(cat "$tmp/acct/${login_of[$1]}.totp")"; }

for r in "${roles[@]}"; do
  sign_in "$r" || die "sign-in of ${login_of[$r]}: $status $code"
  main[$r]=$session
  sign_in "$r" || die "second sign-in of ${login_of[$r]}: $status $code"
  tw[$r]=$session
done
ok "sessions opened for the six roles (two each; with recovery codes: no step-up yet)"

# --- the requests -------------------------------------------------------------------------

n_made=0
# build OP VARIANT COL METHOD PATH: sets $path, $cred, $body, $src for the request; returns 1
# when this script does not know how to call OP.
build() {
  local op=$1 v=$2 c=$3 m=$4 id=
  cred='' body='' src=''
  case $c in
  anon) ;;
  token) cred=$api_token ;;
  *) cred=${main[$c]} ;;
  esac
  [ "$m" = POST ] && body='{}'
  case $op in
  TP_OP_HEALTH | TP_OP_METRICS | TP_OP_ME | TP_OP_SESSIONS_REVOKE_ALL | TP_OP_TOTP_ENROLL) ;;
  TP_OP_LOGIN)
    local who=$c
    case $c in anon | token) who=member ;; esac
    body=$(login_body "$who")
    next_source
    src=$source_addr
    ;;
  TP_OP_LOGOUT) [ -n "${tw[$c]:-}" ] && cred=${tw[$c]} ;;
  TP_OP_STEP_UP)
    local t=123456
    case $c in anon | token | member) ;; *) t=$(totp_of "$c") ;; esac
    body="{\"totp\":\"$t\"}"
    ;;
  TP_OP_PASSWORD_CHANGE)
    n_made=$((n_made + 1))
    local cur=$demo_pw
    case $c in anon | token) ;; *) cur=${pw_of[$c]} ;; esac
    new_pw="Rotated-By-The-Matrix-$n_made!"
    body=$(jq -nc --arg c "$cur" --arg n "$new_pw" '{current_password: $c, new_password: $n}')
    ;;
  TP_OP_RIGHTS_CHECK) body=$card ;;
  # Payments: a run of whatever the demo holds (202, it goes on in its own thread); an
  # advance of 10.00 EUR to PS1, whose demo IBAN is valid.
  TP_OP_PAY_RUN | TP_OP_PAY_LIST) ;;
  TP_OP_ADVANCE_GRANT)
    id=$ps1_id
    body='{"amount_cents":1000}'
    ;;
  TP_OP_TOKEN_CREATE | TP_OP_TOKEN_LIST)
    [ "$v" = own ] && id=$ps1_id || id=$ps2_id
    [ "$m" = POST ] && body='{"label":"matrix","expires_days":1}'
    ;;
  TP_OP_TOKEN_REVOKE) [ "$v" = own ] && id=$tok_own || id=$tok_other ;;
  TP_OP_ACCOUNT_CREATE)
    n_made=$((n_made + 1))
    local l=made-$n_made-$c-$v@matrix.example
    if [ "$v" = other ]; then
      body="{\"login\":\"$l\",\"role\":\"insurer\",\"amc_id\":$amc2_id}"
    elif [ "$c" = insurer ]; then
      body="{\"login\":\"$l\",\"role\":\"insurer\",\"amc_id\":$amc1_id}"
    elif [ "$c" = ps ]; then
      body="{\"login\":\"$l\",\"role\":\"ps\",\"ps_id\":$ps1_id}"
    else
      body="{\"login\":\"$l\",\"role\":\"dpo\"}"
    fi
    ;;
  TP_OP_ACCOUNT_FORCE_RESET)
    if [ "$v" = other ]; then
      id=$ins_other_target
    else
      case $c in insurer) id=$ins_own_target ;; ps) id=$ps1_target ;; *) id=$platform_target ;; esac
    fi
    ;;
  TP_OP_SWITCH_LIST | TP_OP_SECURITY_ALERTS | TP_OP_ME_ACCESSES) ;;
  TP_OP_SECURITY_ASSESS) body='{"network":"10.0.0.0/8"}' ;;
  TP_OP_SECURITY_REINSTATE) id=$platform_target ;; # reinstating an active account changes nothing
  # Claims and PECs: an empty body, or an id no claim or PEC has (ownership is checked on the
  # object, in the store: another PS's answers the same 404, see tests/e2e/claims.sh).
  TP_OP_CLAIM_SUBMIT | TP_OP_PEC_SUBMIT) ;;
  TP_OP_CLAIM_LIST | TP_OP_CLAIM_GET | TP_OP_CLAIM_CANCEL | TP_OP_PEC_GET | TP_OP_PEC_CANCEL) id=999999 ;;
  TP_OP_SWITCH_SET) # switches an AMC back on (it was on): the matrix's other checks go on
    body=$(jq -nc --arg a "$amc2_number" '{scope: "amc", key: $a, off: false, reason: "authorisation matrix"}')
    ;;
  TP_OP_TOTP_ACTIVATE)
    local t=123456
    [ -n "${enrol_secret:-}" ] && t=$("$bin" totp-code "$enrol_secret")
    local pw=$demo_pw
    case $c in anon | token) ;; *) pw=${pw_of[$c]} ;; esac
    body=$(jq -nc --arg k "${enrol_ticket:-AAAA}" --arg t "$t" --arg p "$pw" \
      '{ticket: $k, totp: $t, password: $p}')
    ;;
  *) return 1 ;;
  esac
  path=$5
  if [[ $path == *"{id}"* ]]; then
    [ -n "$id" ] || return 1
    path=${path//\{id\}/$id}
  fi
  return 0
}

# want OP COL VARIANT: "STATUS:code" expected.
want() {
  local cell=${exp_cell[$1/$2]:-?} s c
  if [ "$3" = other ] && [[ $cell == */* ]]; then cell=${cell#*/}; else cell=${cell%%/*}; fi
  s=${cell%%:*}
  c=${cell#*:}
  if [ "$c" = "$cell" ]; then
    case $s in 401) c=unauthenticated ;; 403) c=forbidden ;; 404) c=not_found ;; *) c=- ;; esac
  fi
  echo "$s:$c"
}

declare -A got
: >"$tmp/decisions" # request id, expected authz outcome, operation name
# run_route METHOD PATH OP RESOLVER: every caller, every variant.
run_route() {
  local m=$1 p=$2 op=$3 res=$4 variants=(own) c v
  [ "$res" != NULL ] && variants=(own other)
  if [ -z "${exp_name[$op]:-}" ]; then
    notok "$m $p ($op): no expectation line: not tested"
    return
  fi
  for c in "${cols[@]}"; do
    for v in "${variants[@]}"; do
      if ! build "$op" "$v" "$c" "$m" "$p"; then
        notok "$m $p ($op): this script cannot build a request for it (add a case to build())"
        return
      fi
      send "$m" "$path" "$cred" "$body" "$src"
      local w what="as $c"
      [ "$res" != NULL ] && what="as $c ($v tenant)"
      w=$(want "$op" "$c" "$v")
      got[$m $p/$c/$v]=$status:$code
      if [ "$status:$code" = "$w" ]; then
        ok "$m $path $what: $status$([ "$code" = - ] || echo " $code")"
      else
        notok "$m $path $what: got $status $code, want ${w/:/ }"
      fi
      # What the authorisation layer should have recorded.
      local public=0 outcome
      case ${exp_cell[$op/anon]} in 2*) public=1 ;; esac
      if [ "$public" = 0 ] && [ -n "$rid" ]; then
        case ${w#*:} in
        unauthenticated | forbidden | not_found | step_up_required) outcome=${w#*:} ;;
        *) outcome=allow ;;
        esac
        # Rights checks, claims and PECs record an access event instead of an authz "allow";
        # their 404s come from the object lookup, after the authorisation layer.
        local access_op=0
        case $op in TP_OP_RIGHTS_CHECK | TP_OP_CLAIM_* | TP_OP_PEC_*) access_op=1 ;; esac
        if [ "$access_op" = 1 ] && { [ "$outcome" = allow ] || [ "$outcome" = not_found ]; }; then
          :
        else
          echo "$rid $outcome ${exp_name[$op]}" >>"$tmp/decisions"
        fi
      fi
      # Side effects the next requests depend on.
      if [ "$op" = TP_OP_PASSWORD_CHANGE ] && [ "$status" = 200 ]; then pw_of[$c]=$new_pw; fi
      if [ "$op" = TP_OP_TOTP_ENROLL ] && [ "$c" = member ] && [ "$status" = 200 ]; then
        enrol_secret=$(jq -r .secret "$tmp/body")
        enrol_ticket=$(jq -r .ticket "$tmp/body")
      fi
    done
  done
}

# The step-up route first (it gives every session its step-up), the member's TOTP
# activation last (afterwards the member needs a code to sign in); the rest in table order.
{
  grep ' TP_OP_STEP_UP ' "$tmp/routes"
  grep -v -e ' TP_OP_STEP_UP ' -e ' TP_OP_TOTP_ACTIVATE ' "$tmp/routes"
  grep ' TP_OP_TOTP_ACTIVATE ' "$tmp/routes"
} >"$tmp/order"
while read -r m p op res; do
  run_route "$m" "$p" "$op" "$res"
done <"$tmp/order"

# --- step-up ------------------------------------------------------------------------------

while read -r m p op res; do
  [ "${exp_stepup[$op]:-n}" = y ] || continue
  for c in "${roles[@]}"; do
    w=$(want "$op" "$c" own)
    case $w in 2*) ;; *) continue ;; esac
    sign_in "$c" || {
      notok "sign-in of $c for the step-up check: $status $code"
      continue
    }
    main_saved=${main[$c]}
    main[$c]=$session
    build "$op" own "$c" "$m" "$p"
    send "$m" "$path" "$cred" "$body"
    main[$c]=$main_saved
    check "$m $path as $c without step-up: 403 step_up_required" test "$status $code" = "403 step_up_required"
    echo "$rid step_up_required ${exp_name[$op]}" >>"$tmp/decisions"
  done
done <"$tmp/routes"

# --- no object vs another tenant's object -------------------------------------------------

send POST "/api/v1/ps/$ps2_id/tokens" "${main[ps]}" '{"label":"x","expires_days":1}'
cp "$tmp/body" "$tmp/nf.other"
send POST "/api/v1/ps/999999/tokens" "${main[ps]}" '{"label":"x","expires_days":1}'
check "PS creating tokens for a PS that does not exist: 404, same body as for another PS" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/nf.other" "$tmp/body"'
send DELETE /api/v1/tokens/999999 "${main[ps]}" ""
check "PS revoking a token that does not exist: 404, same body as another PS's token" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/nf.other" "$tmp/body"'
send POST "/api/v1/accounts/999999/force-reset" "${main[insurer]}" '{}'
check "insurer resetting an account that does not exist: 404, same body as another AMC's account" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/nf.other" "$tmp/body"'
# Insurer staff create accounts of their own AMC only: a PS account belongs to another tenant.
send POST /api/v1/accounts "${main[insurer]}" "{\"login\":\"ps-by-insurer@matrix.example\",\"role\":\"ps\",\"ps_id\":$ps1_id}"
check "insurer creating a PS account: 404, same body as for another AMC" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/nf.other" "$tmp/body"'
member_body() { # LOGIN CARD
  jq -nc --arg l "$1" --argjson c "$2" '{login: $l, role: "member", amc: $c.amc, member: $c.member, rank: 1}'
}
next_source
send POST /api/v1/auth/login "" "$(jq -nc --arg t "$("$bin" totp-code "$cards_totp")" \
  '{login: "insurer-cards@matrix.example", password: "Matrix-Account-Password-90", totp: $t}')" "$source_addr"
ins_cards=$(jq -r '.session // ""' "$tmp/body")
send POST /api/v1/accounts "$ins_cards" "$(member_body member-a@matrix.example "$card_a")"
check "insurer creating a member account for a card of its AMC: 201, must_reset, no TOTP" \
  eval '[ "$status" = 201 ] && jq -e ".role == \"member\" and .must_reset == true and (has(\"totp_secret\") | not)" "$tmp/body" >/dev/null'
send POST /api/v1/accounts "$ins_cards" "$(member_body member-b@matrix.example "$card_b")"
check "insurer creating a member account for a card of another AMC: 404, same body as another tenant's object" \
  eval '[ "$status" = 404 ] && cmp -s "$tmp/nf.other" "$tmp/body"'
send POST /api/v1/accounts "${main[operator]}" "$(member_body member-b@matrix.example "$card_b")"
check "operator creating a member account for any card: 201" test "$status" = 201
# A role that may not call an operation at all gets 403 before any object is looked up:
# the same answer for a missing and an existing id, so ids cannot be probed.
send DELETE /api/v1/tokens/999999 "${main[member]}" ""
m404=$status
send DELETE "/api/v1/tokens/$tok_other" "${main[member]}" ""
check "member revoking a missing token and an existing one: 403 both ($m404, $status)" \
  test "$m404 $status" = "403 403"

# --- the matrix ---------------------------------------------------------------------------

echo "#"
printf '# %-42s' "route"
for c in "${cols[@]}"; do printf ' %-9s' "$c"; done
echo
while read -r m p op res; do
  printf '# %-42s' "$m $p"
  for c in "${cols[@]}"; do
    cell=${got[$m $p/$c/own]:-?}
    cell=${cell%%:*}
    if [ "$res" != NULL ]; then
      o=${got[$m $p/$c/other]:-?}
      cell=$cell/${o%%:*}
    fi
    w=$(want "$op" "$c" own)
    bad=
    [ "${got[$m $p/$c/own]:-}" = "$w" ] || bad='!'
    if [ "$res" != NULL ]; then
      w=$(want "$op" "$c" other)
      [ "${got[$m $p/$c/other]:-}" = "$w" ] || bad='!'
    fi
    printf ' %-9s' "$cell$bad"
  done
  echo
done <"$tmp/routes"
echo "# (own/other tenant; ! = not as expected)"

# --- the record ---------------------------------------------------------------------------

n_dec=$(wc -l <"$tmp/decisions")
for _ in $(seq 50); do
  [ "$(sql "SELECT count(*) FROM auth_event WHERE kind = 'authz'")" -ge "$n_dec" ] && break
  sleep 0.1
done
sql "SELECT request_id || ' ' || outcome || ' ' || detail FROM auth_event WHERE kind = 'authz'" | sort >"$tmp/recorded"
sort "$tmp/decisions" >"$tmp/expected"
wrong=$(comm -23 "$tmp/expected" "$tmp/recorded" | head -5 | paste -sd';')
check "auth_event: each of the $n_dec decisions is recorded under its request id with the expected outcome and operation${wrong:+ (not found: $wrong)}" \
  test -z "$wrong"

kill -TERM "$server"
for _ in $(seq 300); do
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
wait "$server" 2>/dev/null
server=
check "server stderr has no sanitizer report" eval '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$tmp/server.err"'
names=$(while read -r _ _ op _; do echo "${exp_name[$op]:-}"; done <"$tmp/routes" | sort -u)
absent=$(for n in $names; do grep -q " route=$n " "$tmp/access.log" || echo "$n"; done | paste -sd' ')
check "the access log names every operation as in the table (route=NAME)${absent:+ (absent: $absent)}" test -z "$absent"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
