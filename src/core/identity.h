/* Who is calling: roles, accounts and the authenticated principal (PRODUCT §1, §5).
 *
 * Every account has exactly one role and, depending on it, one tenant attachment: a PS user
 * belongs to one PS, insurer staff to one AMC, a member to one beneficiary. Operator, security
 * officer and DPO accounts belong to the platform. */
#ifndef TP_CORE_IDENTITY_H
#define TP_CORE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

enum tp_role {
    TP_ROLE_PS = 0,   /* health professional's staff, attached to one PS */
    TP_ROLE_MEMBER,   /* a member, attached to one beneficiary (and sees their dependants) */
    TP_ROLE_INSURER,  /* insurer staff, attached to one AMC */
    TP_ROLE_OPERATOR, /* platform operator */
    TP_ROLE_SECURITY, /* security officer */
    TP_ROLE_DPO,      /* data protection officer */
    TP_ROLE_COUNT
};
#define TP_ROLE_BIT(r) (1u << (r))
#define TP_ROLES_ALL ((1u << TP_ROLE_COUNT) - 1u)

const char *tp_role_name(enum tp_role r);
int tp_role_parse(const char *s, size_t len); /* -1 when unknown */

/* TOTP is mandatory for every role but members (CNIL 2025-019, ANS PGSSI-S EXI 22). */
int tp_role_requires_totp(enum tp_role r);

#define TP_LOGIN_MAX 65 /* 1-64 bytes + NUL: an e-mail address or an identifier */

/* The authenticated caller of a request. */
struct tp_principal {
    int64_t account_id; /* 0 for an API token */
    int64_t session_id; /* 0 for an API token */
    int64_t token_id;   /* 0 for a session */
    enum tp_role role;
    int64_t ps_id;          /* TP_ROLE_PS */
    int64_t amc_id;         /* TP_ROLE_INSURER */
    int64_t beneficiary_id; /* TP_ROLE_MEMBER */
    int64_t stepup_ms;      /* when TOTP was last proven in this session (0 = never) */
    uint32_t scopes;        /* API tokens: operations allowed */
    int profession;         /* TP_ROLE_PS: enum tp_profession of the PS */
    int must_reset;         /* the password must be changed before anything else */
};

#endif
