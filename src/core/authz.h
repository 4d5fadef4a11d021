/* Authorisation: one table says, for every operation of the API, which roles may call it,
 * whether it needs a fresh second factor (step-up), and which tenant owns its object. One
 * function decides; handlers never check roles themselves (OWASP ASVS 8, no IDOR/BOLA).
 *
 * Every route of the HTTP layer names an operation; tests/unit/test_authz.c fails when an
 * operation has no rule, and the end-to-end matrix test walks every operation x role x
 * (own tenant, other tenant). */
#ifndef TP_CORE_AUTHZ_H
#define TP_CORE_AUTHZ_H

#include <stdint.h>

#include "core/identity.h"
#include "core/switches.h"

enum tp_op {
    TP_OP_HEALTH = 0,
    TP_OP_METRICS,
    TP_OP_LOGIN,
    TP_OP_LOGOUT,
    TP_OP_ME,
    TP_OP_STEP_UP,
    TP_OP_PASSWORD_CHANGE,
    TP_OP_SESSIONS_REVOKE_ALL,
    TP_OP_RIGHTS_CHECK,
    TP_OP_TOKEN_CREATE,
    TP_OP_TOKEN_LIST,
    TP_OP_TOKEN_REVOKE,
    TP_OP_ACCOUNT_CREATE,
    TP_OP_ACCOUNT_FORCE_RESET,
    TP_OP_TOTP_ENROLL,
    TP_OP_TOTP_ACTIVATE,
    TP_OP_PAY_RUN,
    TP_OP_PAY_LIST,
    TP_OP_ADVANCE_GRANT,
    TP_OP_SWITCH_LIST,
    TP_OP_SWITCH_SET,
    TP_OP_SECURITY_ALERTS,
    TP_OP_SECURITY_REINSTATE,
    TP_OP_ME_ACCESSES,
    TP_OP_SECURITY_ASSESS,
    /* Claims and PECs (docs/CLAIMS.md): object ownership (a PS's own claims and PECs) is
     * checked where the object is read, in the group-commit writer (store/claims.h). */
    TP_OP_CLAIM_SUBMIT,
    TP_OP_CLAIM_GET,
    TP_OP_CLAIM_LIST,
    TP_OP_CLAIM_CANCEL,
    TP_OP_PEC_SUBMIT,
    TP_OP_PEC_GET,
    TP_OP_PEC_CANCEL,
    TP_OP_COUNT
};

/* Who owns the object an operation acts on. */
enum tp_owner_kind {
    TP_OWNER_NONE = 0,    /* no object (or the caller's own account/session) */
    TP_OWNER_PS,          /* a PS's object: only that PS's users */
    TP_OWNER_AMC,         /* an insurer's object: only that AMC's staff */
    TP_OWNER_BENEFICIARY, /* a member's object */
    TP_OWNER_TENANT,      /* an account: the platform, or the tenant it is attached to */
};

struct tp_authz_rule {
    uint32_t roles; /* TP_ROLE_BIT mask; 0 with public = 1 means no authentication */
    int public_op;  /* no authentication at all */
    int stepup;     /* requires a TOTP proven within TP_STEPUP_MS */
    int token_ok;   /* may be called with a PS API token (practice software) */
    uint32_t token_scope;
    enum tp_owner_kind owner;
    enum tp_disclosure disclose; /* what the kill switches cut (core/switches.h); NONE default */
};

#define TP_STEPUP_MS (5 * 60 * 1000) /* a step-up is good for 5 minutes */

/* Scopes of PS API tokens. */
#define TP_SCOPE_RIGHTS_CHECK 1u
#define TP_SCOPE_CLAIMS 2u /* claims and PECs */

/* The object an operation targets, as the shell found it. */
struct tp_object {
    enum tp_owner_kind kind;
    int64_t ps_id, amc_id, beneficiary_id; /* the owner, per kind */
    int platform;                          /* TP_OWNER_TENANT: a platform account */
};

enum tp_authz_result {
    TP_AUTHZ_ALLOW = 0,
    TP_AUTHZ_UNAUTHENTICATED, /* 401 */
    TP_AUTHZ_FORBIDDEN,       /* 403: the role may not do this at all */
    TP_AUTHZ_NOT_FOUND,       /* 404: another tenant's object: not even its existence */
    TP_AUTHZ_STEP_UP,         /* 403 step_up_required: prove TOTP again first */
};

const struct tp_authz_rule *tp_authz_rule(enum tp_op op);
const char *tp_op_name(enum tp_op op);

/* Decides. `who` is NULL for an unauthenticated request; `obj` NULL when the operation has
 * no object. Pure. */
enum tp_authz_result tp_authz_decide(enum tp_op op, const struct tp_principal *who,
                                     const struct tp_object *obj, int64_t now_ms);

const char *tp_authz_result_name(enum tp_authz_result r);

#endif
