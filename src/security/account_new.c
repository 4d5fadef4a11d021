#include "security/account_new.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/password_policy.h"
#include "security/password.h"

/* A generated first password: 20 characters over letters and digits with a '-' in the middle
 * (about 113 bits), retried until the policy accepts it (all classes present). */
static void generate_password(char out[40], const struct tp_password_user *user)
{
    static const char alpha[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    do {
        for (int i = 0; i < 21; i++)
            out[i] = i == 10 ? '-' : alpha[randombytes_uniform(sizeof alpha - 1)];
        out[21] = '\0';
    } while (tp_password_policy_check(out, 21, user, NULL) != TP_PASSWORD_OK);
}

static int login_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n >= TP_LOGIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_' || c == '@' || c == '+'))
            return 0;
    }
    return 1;
}

enum tp_err tp_account_new(struct tp_store *store, const struct tp_keys *keys,
                           const struct tp_new_account *in, const struct tp_password_words *common,
                           int64_t now_ms, struct tp_new_account_secrets *out, int64_t *id,
                           char *msg, size_t msglen)
{
    struct tp_account_row a;
    memset(&a, 0, sizeof a);
    memset(out, 0, sizeof *out);
    if (!login_ok(in->login))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "a login is 3-64 characters among a-z 0-9 . - _ @ +");
    if ((in->role == TP_ROLE_PS) != (in->ps_id != 0) ||
        (in->role == TP_ROLE_INSURER) != (in->amc_id != 0) ||
        (in->role == TP_ROLE_MEMBER) != (in->beneficiary_id != 0))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "a PS account needs its PS, an insurer account its AMC, a member account "
                       "its beneficiary, and no other account any of them");
    snprintf(a.login, sizeof a.login, "%s", in->login);
    a.role = in->role;
    a.ps_id = in->ps_id;
    a.amc_id = in->amc_id;
    a.beneficiary_id = in->beneficiary_id;
    a.created_ms = now_ms;

    struct tp_password_user user = {.login = in->login, .login_len = strlen(in->login)};
    if (strchr(in->login, '@')) {
        user.email = in->login;
        user.email_len = strlen(in->login);
    }
    const char *pw = in->password;
    if (pw) {
        enum tp_password_reason why = tp_password_policy_check(pw, strlen(pw), &user, common);
        if (why != TP_PASSWORD_OK)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "%s", tp_password_reason_message(why));
    } else {
        generate_password(out->password, &user);
        pw = out->password;
        a.must_reset = 1; /* someone else saw it: the holder chooses their own */
    }
    enum tp_err e = tp_password_hash(pw, strlen(pw), a.password_hash);
    if (e != TP_OK)
        return tp_fail(msg, msglen, e, "password hashing failed");

    uint8_t secret[TP_TOTP_SECRET_LEN];
    uint8_t hashes[TP_RECOVERY_COUNT][TP_RECOVERY_HASH_LEN];
    out->has_totp = tp_role_requires_totp(in->role) || in->totp;
    if (out->has_totp) {
        tp_totp_secret_new(secret);
        e = tp_secret_seal(keys, secret, sizeof secret, (const uint8_t *)a.login, strlen(a.login),
                           a.totp_sealed, &a.totp_sealed_len);
        if (e == TP_OK)
            e = tp_base32_encode(secret, sizeof secret, out->totp_base32, sizeof out->totp_base32);
        if (e == TP_OK)
            e = tp_totp_uri("opentp", a.login, secret, sizeof secret, out->totp_uri,
                            sizeof out->totp_uri);
        sodium_memzero(secret, sizeof secret);
        if (e != TP_OK)
            return tp_fail(msg, msglen, e, "TOTP enrolment failed");
        tp_recovery_generate(tp_keys_recovery_key(keys), TP_RECOVERY_COUNT, out->recovery, hashes);
    }
    const struct tp_store_ops *ops = tp_store_ops(store);
    void *impl = tp_store_impl(store);
    e = ops->account_insert(impl, &a, id);
    if (e == TP_ERR_CONFLICT)
        return tp_fail(msg, msglen, e, "this login is taken");
    if (e == TP_OK && out->has_totp)
        e = ops->recovery_codes_set(impl, *id, (const uint8_t(*)[32])hashes, TP_RECOVERY_COUNT);
    sodium_memzero(hashes, sizeof hashes);
    if (e != TP_OK)
        return tp_fail(msg, msglen, e, "the account could not be stored");
    return TP_OK;
}
