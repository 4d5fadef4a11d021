/* Creating an account: the shared path of `opentp user add`, the demo and the insurer/operator
 * API. The account gets an argon2id password hash, and — for every role but members — a TOTP
 * seed (sealed at rest) and single-use recovery codes, all handed to the caller once, so that
 * the first sign-in already needs the second factor: there is no window in which a phished
 * password alone could enrol the attacker's authenticator. */
#ifndef TP_SECURITY_ACCOUNT_NEW_H
#define TP_SECURITY_ACCOUNT_NEW_H

#include <stdint.h>

#include "core/password_policy.h"
#include "security/recovery.h"
#include "security/totp.h"
#include "store/store.h"

struct tp_new_account {
    const char *login;
    enum tp_role role;
    int64_t ps_id, amc_id, beneficiary_id; /* per role */
    const char *password;                  /* NULL: generate one, to be changed at first sign-in */
    int totp;                              /* members: enrol TOTP too (always on for other roles) */
};

/* What is shown once to the new account's holder. Wipe with sodium_memzero after use. */
struct tp_new_account_secrets {
    char password[40]; /* the generated password, "" when one was given */
    char totp_base32[TP_TOTP_BASE32_MAX];
    char totp_uri[TP_TOTP_URI_MAX];
    char recovery[TP_RECOVERY_COUNT][TP_RECOVERY_CODE_SIZE];
    int has_totp;
};

/* Creates the account (hashing runs here: call it off the HTTP poll threads). TP_ERR_CONFLICT
 * when the login exists; TP_ERR_INVALID (reason in msg) for a bad login, role attachment or a
 * given password the policy refuses. */
enum tp_err tp_account_new(struct tp_store *store, const struct tp_keys *keys,
                           const struct tp_new_account *in, const struct tp_password_words *common,
                           int64_t now_ms, struct tp_new_account_secrets *out, int64_t *id,
                           char *msg, size_t msglen) TP_MUST_USE;

#endif
