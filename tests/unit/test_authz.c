/* The authorisation table and decision (OWASP ASVS 8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/authz.h"

static void every_operation_has_a_rule(void **state)
{
    (void)state;
    for (int op = 0; op < TP_OP_COUNT; op++) {
        const struct tp_authz_rule *r = tp_authz_rule((enum tp_op)op);
        assert_non_null(r);
        /* Either public, or at least one role: an operation added without a rule fails here. */
        assert_true(r->public_op || r->roles != 0);
        assert_string_not_equal(tp_op_name((enum tp_op)op), "unknown");
    }
}

static struct tp_principal ps_user(int64_t ps)
{
    struct tp_principal p;
    memset(&p, 0, sizeof p);
    p.account_id = 7;
    p.session_id = 9;
    p.role = TP_ROLE_PS;
    p.ps_id = ps;
    return p;
}

static void roles_objects_and_step_up(void **state)
{
    (void)state;
    int64_t now = 10000000;
    struct tp_principal p = ps_user(3);
    struct tp_object mine = {.kind = TP_OWNER_PS, .ps_id = 3};
    struct tp_object theirs = {.kind = TP_OWNER_PS, .ps_id = 4};
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_LIST, &p, &mine, now), TP_AUTHZ_ALLOW);
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_LIST, &p, &theirs, now), TP_AUTHZ_NOT_FOUND);
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_LIST, NULL, &mine, now), TP_AUTHZ_UNAUTHENTICATED);
    /* Token creation needs a fresh TOTP. */
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_CREATE, &p, &mine, now), TP_AUTHZ_STEP_UP);
    p.stepup_ms = now - 1000;
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_CREATE, &p, &mine, now), TP_AUTHZ_ALLOW);
    p.stepup_ms = now - TP_STEPUP_MS - 1;
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_CREATE, &p, &mine, now), TP_AUTHZ_STEP_UP);
    /* A member may not check rights or manage PS tokens. */
    struct tp_principal m = {.account_id = 1, .session_id = 1, .role = TP_ROLE_MEMBER};
    assert_int_equal(tp_authz_decide(TP_OP_RIGHTS_CHECK, &m, NULL, now), TP_AUTHZ_FORBIDDEN);
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_LIST, &m, &mine, now), TP_AUTHZ_FORBIDDEN);
    assert_int_equal(tp_authz_decide(TP_OP_HEALTH, NULL, NULL, now), TP_AUTHZ_ALLOW);
}

static void api_tokens_only_for_their_scopes(void **state)
{
    (void)state;
    struct tp_principal t = {
        .token_id = 5, .role = TP_ROLE_PS, .ps_id = 3, .scopes = TP_SCOPE_RIGHTS_CHECK};
    struct tp_object mine = {.kind = TP_OWNER_PS, .ps_id = 3};
    assert_int_equal(tp_authz_decide(TP_OP_RIGHTS_CHECK, &t, NULL, 1), TP_AUTHZ_ALLOW);
    /* A stolen token cannot mint more tokens, list them or change a password. */
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_CREATE, &t, &mine, 1), TP_AUTHZ_FORBIDDEN);
    assert_int_equal(tp_authz_decide(TP_OP_TOKEN_LIST, &t, &mine, 1), TP_AUTHZ_FORBIDDEN);
    assert_int_equal(tp_authz_decide(TP_OP_PASSWORD_CHANGE, &t, NULL, 1), TP_AUTHZ_FORBIDDEN);
    t.scopes = 0;
    assert_int_equal(tp_authz_decide(TP_OP_RIGHTS_CHECK, &t, NULL, 1), TP_AUTHZ_FORBIDDEN);
}

static void insurer_accounts_stay_in_their_amc(void **state)
{
    (void)state;
    struct tp_principal i = {
        .account_id = 2, .session_id = 2, .role = TP_ROLE_INSURER, .amc_id = 11, .stepup_ms = 100};
    struct tp_object own = {.kind = TP_OWNER_TENANT, .amc_id = 11};
    struct tp_object other = {.kind = TP_OWNER_TENANT, .amc_id = 12};
    struct tp_object platform = {.kind = TP_OWNER_TENANT, .platform = 1};
    assert_int_equal(tp_authz_decide(TP_OP_ACCOUNT_FORCE_RESET, &i, &own, 200), TP_AUTHZ_ALLOW);
    assert_int_equal(tp_authz_decide(TP_OP_ACCOUNT_FORCE_RESET, &i, &other, 200),
                     TP_AUTHZ_NOT_FOUND);
    assert_int_equal(tp_authz_decide(TP_OP_ACCOUNT_FORCE_RESET, &i, &platform, 200),
                     TP_AUTHZ_NOT_FOUND);
    struct tp_principal s = {
        .account_id = 3, .session_id = 3, .role = TP_ROLE_SECURITY, .stepup_ms = 100};
    assert_int_equal(tp_authz_decide(TP_OP_ACCOUNT_FORCE_RESET, &s, &other, 200), TP_AUTHZ_ALLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_operation_has_a_rule),
        cmocka_unit_test(roles_objects_and_step_up),
        cmocka_unit_test(api_tokens_only_for_their_scopes),
        cmocka_unit_test(insurer_accounts_stay_in_their_amc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
