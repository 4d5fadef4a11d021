#include "core/authz.h"

#include <stddef.h>

#define R(x) TP_ROLE_BIT(TP_ROLE_##x)
#define STAFF (R(OPERATOR) | R(SECURITY))

/* The authorisation table. A designated initializer per operation: an operation added to the
 * enum without a line here has roles == 0 and public_op == 0, which test_authz rejects. */
static const struct tp_authz_rule rules[TP_OP_COUNT] = {
    [TP_OP_HEALTH] = {.public_op = 1},
    [TP_OP_METRICS] = {.public_op = 1},
    [TP_OP_LOGIN] = {.public_op = 1},
    [TP_OP_LOGOUT] = {.roles = TP_ROLES_ALL},
    [TP_OP_ME] = {.roles = TP_ROLES_ALL},
    [TP_OP_STEP_UP] = {.roles = TP_ROLES_ALL},
    [TP_OP_PASSWORD_CHANGE] = {.roles = TP_ROLES_ALL},
    [TP_OP_SESSIONS_REVOKE_ALL] = {.roles = TP_ROLES_ALL},
    [TP_OP_RIGHTS_CHECK] = {.roles = R(PS),
                            .token_ok = 1,
                            .token_scope = TP_SCOPE_RIGHTS_CHECK,
                            .disclose = TP_DISCLOSE_RIGHTS},
    /* Kill switches: the security team (and operators) see them; changing one needs a fresh
     * TOTP. */
    [TP_OP_SWITCH_LIST] = {.roles = STAFF | R(DPO)},
    [TP_OP_SWITCH_SET] = {.roles = STAFF, .stepup = 1},
    /* The security console: alerts of inline detection; lifting a suspension. */
    [TP_OP_SECURITY_ALERTS] = {.roles = STAFF},
    [TP_OP_SECURITY_REINSTATE] = {.roles = R(SECURITY), .stepup = 1},
    /* A member sees who accessed their data, from the access log. */
    [TP_OP_ME_ACCESSES] = {.roles = R(MEMBER), .disclose = TP_DISCLOSE_MEMBER_SELF},
    /* Counts of an incident for the security officer and the DPO (no personal data). */
    [TP_OP_SECURITY_ASSESS] = {.roles = R(SECURITY) | R(DPO)},
    /* Creating a token hands out a long-lived credential: fresh TOTP required. */
    [TP_OP_TOKEN_CREATE] = {.roles = R(PS), .stepup = 1, .owner = TP_OWNER_PS},
    [TP_OP_TOKEN_LIST] = {.roles = R(PS), .owner = TP_OWNER_PS},
    [TP_OP_TOKEN_REVOKE] = {.roles = R(PS), .owner = TP_OWNER_PS},
    /* Insurer staff create accounts of their AMC; operators any. */
    [TP_OP_ACCOUNT_CREATE] = {.roles = R(INSURER) | R(OPERATOR),
                              .stepup = 1,
                              .owner = TP_OWNER_TENANT},
    [TP_OP_ACCOUNT_FORCE_RESET] = {.roles = R(INSURER) | STAFF,
                                   .stepup = 1,
                                   .owner = TP_OWNER_TENANT},
    /* Optional TOTP for members (other roles are enrolled when their account is created). */
    [TP_OP_TOTP_ENROLL] = {.roles = R(MEMBER)},
    [TP_OP_TOTP_ACTIVATE] = {.roles = R(MEMBER)},
    /* Payments move money: operators only, and a fresh TOTP to start a run or grant an
     * advance (docs/PAYMENTS.md). */
    [TP_OP_PAY_RUN] = {.roles = R(OPERATOR), .stepup = 1},
    [TP_OP_PAY_LIST] = {.roles = R(OPERATOR)},
    [TP_OP_ADVANCE_GRANT] = {.roles = R(OPERATOR), .stepup = 1},
    /* Claims and PECs: the PS's users and its practice software (scope claims); operators
     * read any PS's (support). Whose object it is is checked on the object itself. */
    [TP_OP_CLAIM_SUBMIT] = {.roles = R(PS), .token_ok = 1, .token_scope = TP_SCOPE_CLAIMS},
    [TP_OP_CLAIM_GET] = {.roles = R(PS) | R(OPERATOR),
                         .token_ok = 1,
                         .token_scope = TP_SCOPE_CLAIMS},
    [TP_OP_CLAIM_LIST] = {.roles = R(PS), .token_ok = 1, .token_scope = TP_SCOPE_CLAIMS},
    [TP_OP_CLAIM_CANCEL] = {.roles = R(PS), .token_ok = 1, .token_scope = TP_SCOPE_CLAIMS},
    [TP_OP_PEC_SUBMIT] = {.roles = R(PS), .token_ok = 1, .token_scope = TP_SCOPE_CLAIMS},
    [TP_OP_PEC_GET] = {.roles = R(PS) | R(OPERATOR), .token_ok = 1, .token_scope = TP_SCOPE_CLAIMS},
    [TP_OP_PEC_CANCEL] = {.roles = R(PS), .token_ok = 1, .token_scope = TP_SCOPE_CLAIMS},
};

static const char *const op_names[TP_OP_COUNT] = {
    [TP_OP_HEALTH] = "health",
    [TP_OP_METRICS] = "metrics",
    [TP_OP_LOGIN] = "auth.login",
    [TP_OP_LOGOUT] = "auth.logout",
    [TP_OP_ME] = "me",
    [TP_OP_STEP_UP] = "auth.step_up",
    [TP_OP_PASSWORD_CHANGE] = "auth.password_change",
    [TP_OP_SESSIONS_REVOKE_ALL] = "auth.sessions_revoke_all",
    [TP_OP_RIGHTS_CHECK] = "rights.check",
    [TP_OP_TOKEN_CREATE] = "tokens.create",
    [TP_OP_TOKEN_LIST] = "tokens.list",
    [TP_OP_TOKEN_REVOKE] = "tokens.revoke",
    [TP_OP_ACCOUNT_CREATE] = "accounts.create",
    [TP_OP_ACCOUNT_FORCE_RESET] = "accounts.force_reset",
    [TP_OP_TOTP_ENROLL] = "auth.totp_enroll",
    [TP_OP_TOTP_ACTIVATE] = "auth.totp_activate",
    [TP_OP_PAY_RUN] = "payments.run",
    [TP_OP_PAY_LIST] = "payments.list",
    [TP_OP_ADVANCE_GRANT] = "payments.advance_grant",
    [TP_OP_CLAIM_SUBMIT] = "claims.submit",
    [TP_OP_CLAIM_GET] = "claims.get",
    [TP_OP_CLAIM_LIST] = "claims.list",
    [TP_OP_CLAIM_CANCEL] = "claims.cancel",
    [TP_OP_PEC_SUBMIT] = "pec.submit",
    [TP_OP_PEC_GET] = "pec.get",
    [TP_OP_PEC_CANCEL] = "pec.cancel",
    [TP_OP_SWITCH_LIST] = "switches.list",
    [TP_OP_SWITCH_SET] = "switches.set",
    [TP_OP_SECURITY_ALERTS] = "security.alerts",
    [TP_OP_SECURITY_REINSTATE] = "security.reinstate",
    [TP_OP_ME_ACCESSES] = "me.accesses",
    [TP_OP_SECURITY_ASSESS] = "security.assess",
};

const struct tp_authz_rule *tp_authz_rule(enum tp_op op)
{
    return (unsigned)op < TP_OP_COUNT ? &rules[op] : NULL;
}

const char *tp_op_name(enum tp_op op)
{
    return (unsigned)op < TP_OP_COUNT && op_names[op] ? op_names[op] : "unknown";
}

/* Does the principal's tenant own the object? */
static int owns(const struct tp_principal *who, const struct tp_object *obj)
{
    switch (obj->kind) {
    case TP_OWNER_NONE:
        return 1;
    case TP_OWNER_PS:
        return who->role == TP_ROLE_PS && who->ps_id == obj->ps_id;
    case TP_OWNER_AMC:
        return who->role == TP_ROLE_INSURER && who->amc_id == obj->amc_id;
    case TP_OWNER_BENEFICIARY:
        return who->role == TP_ROLE_MEMBER && who->beneficiary_id == obj->beneficiary_id;
    case TP_OWNER_TENANT:
        /* Platform staff manage platform and tenant accounts; insurer staff only accounts
         * attached to their own AMC. */
        if (who->role == TP_ROLE_OPERATOR || who->role == TP_ROLE_SECURITY)
            return 1;
        return who->role == TP_ROLE_INSURER && !obj->platform && obj->amc_id == who->amc_id;
    }
    return 0;
}

enum tp_authz_result tp_authz_decide(enum tp_op op, const struct tp_principal *who,
                                     const struct tp_object *obj, int64_t now_ms)
{
    const struct tp_authz_rule *rule = tp_authz_rule(op);
    if (!rule)
        return TP_AUTHZ_FORBIDDEN;
    if (rule->public_op)
        return TP_AUTHZ_ALLOW;
    if (!who)
        return TP_AUTHZ_UNAUTHENTICATED;
    if (!(rule->roles & TP_ROLE_BIT(who->role)))
        return TP_AUTHZ_FORBIDDEN;
    if (who->token_id) {
        /* API tokens: only operations meant for practice software, within their scopes. */
        if (!rule->token_ok || !(who->scopes & rule->token_scope))
            return TP_AUTHZ_FORBIDDEN;
    }
    if (obj && !owns(who, obj))
        return TP_AUTHZ_NOT_FOUND;
    if (rule->stepup && (who->token_id || who->stepup_ms == 0 ||
                         now_ms - who->stepup_ms > TP_STEPUP_MS || now_ms < who->stepup_ms))
        return TP_AUTHZ_STEP_UP;
    return TP_AUTHZ_ALLOW;
}

const char *tp_authz_result_name(enum tp_authz_result r)
{
    switch (r) {
    case TP_AUTHZ_ALLOW:
        return "allow";
    case TP_AUTHZ_UNAUTHENTICATED:
        return "unauthenticated";
    case TP_AUTHZ_FORBIDDEN:
        return "forbidden";
    case TP_AUTHZ_NOT_FOUND:
        return "not_found";
    case TP_AUTHZ_STEP_UP:
        return "step_up_required";
    }
    return "forbidden";
}
