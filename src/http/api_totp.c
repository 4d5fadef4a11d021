/* Optional TOTP for members (CNIL 2025-019: the second factor is mandatory for professionals,
 * offered to members).
 *
 * Stateless two-step enrolment: /enroll draws a seed and returns it (base32, otpauth:// URI,
 * QR code as SVG) together with an opaque enrolment ticket — the seed sealed to this account
 * with an expiry. /activate takes the ticket back with a first code from the authenticator
 * and the account's password (a stolen session alone must not bind an attacker's
 * authenticator): only a working authenticator turns TOTP on, nothing is stored before. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "security/recovery.h"
#include "security/password.h"
#include "security/totp.h"
#include "core/password_policy.h"

#define TICKET_TTL_MS (10 * 60 * 1000)
/* Ticket plaintext: expiry (8 bytes BE) | seed (20). */
#define TICKET_PLAIN (8 + TP_TOTP_SECRET_LEN)

static void ticket_ad(const char *login, char *ad, size_t cap)
{
    snprintf(ad, cap, "totp-enrol|%s", login);
}

static int load_account(const struct tp_http_request *req, struct tp_account_row *a,
                        struct tp_http_response *resp)
{
    struct tp_store *st = req->app->store;
    if (!req->who->account_id ||
        tp_store_ops(st)->account_get(tp_store_impl(st), req->who->account_id, a) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INTERNAL, "storage_error", "account unreadable");
        return -1;
    }
    if (a->totp_sealed_len) {
        tp_http_respond_error(resp, TP_ERR_CONFLICT, "totp_already_enrolled",
                              "this account already has a TOTP authenticator");
        return -1;
    }
    return 0;
}

void tp_api_totp_enroll(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_account_row a;
    if (load_account(req, &a, resp) != 0)
        return;
    uint8_t plain[TICKET_PLAIN], sealed[TP_SECRET_SEALED_MAX];
    size_t sealed_len = 0;
    uint64_t expires = (uint64_t)(req->now_ms + TICKET_TTL_MS);
    for (int i = 0; i < 8; i++)
        plain[i] = (uint8_t)(expires >> (56 - 8 * i));
    tp_totp_secret_new(plain + 8);
    char ad[TP_LOGIN_MAX + 16], b32[TP_TOTP_BASE32_MAX], uri[TP_TOTP_URI_MAX];
    char ticket[2 * TP_SECRET_SEALED_MAX];
    char *svg = NULL;
    size_t svg_len = 0;
    ticket_ad(a.login, ad, sizeof ad);
    enum tp_err e = tp_secret_seal(req->app->keys, plain, sizeof plain, (const uint8_t *)ad,
                                   strlen(ad), sealed, &sealed_len);
    if (e == TP_OK)
        e = tp_base32_encode(plain + 8, TP_TOTP_SECRET_LEN, b32, sizeof b32);
    if (e == TP_OK)
        e = tp_totp_uri("opentp", a.login, plain + 8, TP_TOTP_SECRET_LEN, uri, sizeof uri);
    if (e == TP_OK)
        e = tp_totp_qr_svg(uri, &svg, &svg_len);
    sodium_memzero(plain, sizeof plain);
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "internal", "enrolment could not be prepared");
        return;
    }
    sodium_bin2base64(ticket, sizeof ticket, sealed, sealed_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    tp_http_respond_json(resp, 200,
                         json_pack("{s:s, s:s, s:s, s:s, s:I}", "secret", b32, "otpauth_uri", uri,
                                   "qr_svg", svg, "ticket", ticket, "expires_at_ms",
                                   (json_int_t)expires));
    sodium_memzero(b32, sizeof b32);
    sodium_memzero(uri, sizeof uri);
    sodium_memzero(svg, svg_len);
    free(svg);
}

struct activate_job {
    struct tp_app *app;
    struct tp_http_request req;
    char request_id[33], source[48];
    char ticket[2 * TP_SECRET_SEALED_MAX + 1];
    char code[16];
    char password[TP_PASSWORD_MAX_BYTES + 1];
    size_t password_len;
    struct tp_account_row account;
};

static void activate_free(void *arg)
{
    sodium_memzero(arg, sizeof(struct activate_job));
    free(arg);
}

/* Worker thread: the password proves it is the member (not a stolen session) before a new
 * authenticator is bound to the account. */
static void activate_run(void *arg, struct tp_http_response *resp)
{
    struct activate_job *j = arg;
    const struct tp_http_request *req = &j->req;
    struct tp_account_row *a = &j->account;
    j->req.request_id = j->request_id;
    j->req.source = j->source;
    char key[48];
    snprintf(key, sizeof key, "totp-activate#%lld", (long long)a->id);
    enum tp_err pw = tp_password_verify(a->password_hash, j->password, j->password_len);
    tp_auth_throttle_record(j->app, key, j->source, req->now_ms, pw == TP_OK);
    if (pw != TP_OK) {
        tp_http_auth_event(j->app, req, a->id, NULL, "totp_activate", "invalid_credentials", "");
        tp_http_respond_error(resp, TP_ERR_AUTH, "invalid_credentials", "the password is wrong");
        activate_free(j);
        return;
    }
    uint8_t sealed[TP_SECRET_SEALED_MAX], plain[TP_SECRET_MAX];
    size_t sealed_len = 0, plain_len = 0;
    char ad[TP_LOGIN_MAX + 16];
    ticket_ad(a->login, ad, sizeof ad);
    enum tp_err e = TP_ERR_INVALID;
    if (sodium_base642bin(sealed, sizeof sealed, j->ticket, strlen(j->ticket), NULL, &sealed_len,
                          NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
        tp_secret_open(j->app->keys, sealed, sealed_len, (const uint8_t *)ad, strlen(ad), plain,
                       &plain_len) == TP_OK &&
        plain_len == TICKET_PLAIN)
        e = TP_OK;
    uint64_t expires = 0;
    for (int i = 0; e == TP_OK && i < 8; i++)
        expires = expires << 8 | plain[i];
    if (e == TP_OK && (int64_t)expires < req->now_ms)
        e = TP_ERR_INVALID;
    int64_t step = 0;
    if (e == TP_OK)
        e = tp_totp_verify(plain + 8, TP_TOTP_SECRET_LEN, j->code, strlen(j->code),
                           req->now_ms / 1000, -1, &step) == TP_OK
                ? TP_OK
                : TP_ERR_AUTH;
    struct tp_store *st = j->app->store;
    const struct tp_store_ops *ops = tp_store_ops(st);
    void *impl = tp_store_impl(st);
    uint8_t seed_sealed[TP_SECRET_SEALED_MAX];
    size_t seed_len = 0;
    if (e == TP_OK)
        e = tp_secret_seal(j->app->keys, plain + 8, TP_TOTP_SECRET_LEN, (const uint8_t *)a->login,
                           strlen(a->login), seed_sealed, &seed_len);
    sodium_memzero(plain, sizeof plain);
    if (e == TP_OK)
        e = ops->account_set_totp(impl, a->id, seed_sealed, seed_len);
    if (e == TP_OK)
        (void)ops->account_use_totp_step(impl, a->id, step); /* the first code is spent */
    char codes[TP_RECOVERY_COUNT][TP_RECOVERY_CODE_SIZE];
    uint8_t hashes[TP_RECOVERY_COUNT][TP_RECOVERY_HASH_LEN];
    if (e == TP_OK) {
        tp_recovery_generate(tp_keys_recovery_key(j->app->keys), TP_RECOVERY_COUNT, codes, hashes);
        e = ops->recovery_codes_set(impl, a->id, (const uint8_t(*)[32])hashes, TP_RECOVERY_COUNT);
        sodium_memzero(hashes, sizeof hashes);
    }
    tp_http_auth_event(j->app, req, a->id, NULL, "totp_activate",
                       e == TP_OK ? "ok" : tp_err_name(e), "");
    if (e == TP_ERR_INVALID)
        tp_http_respond_error(resp, e, "invalid_ticket",
                              "the enrolment ticket is invalid or expired");
    else if (e == TP_ERR_AUTH)
        tp_http_respond_error(resp, e, "invalid_code", "the code does not match the new secret");
    else if (e != TP_OK)
        tp_http_respond_error(resp, e,
                              e == TP_ERR_CONFLICT ? "totp_already_enrolled" : "storage_error",
                              "TOTP could not be enabled");
    else {
        json_t *arr = json_array();
        for (int i = 0; i < TP_RECOVERY_COUNT; i++)
            json_array_append_new(arr, json_string(codes[i]));
        sodium_memzero(codes, sizeof codes);
        tp_http_respond_json(resp, 200, json_pack("{s:b, s:o}", "totp", 1, "recovery_codes", arr));
    }
    activate_free(j);
}

void tp_api_totp_activate(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"ticket", "totp", "password", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *ticket = tp_http_str_field(o, "ticket", 1, 2 * TP_SECRET_SEALED_MAX, resp, &bad);
    const char *code = bad ? NULL : tp_http_str_field(o, "totp", 1, 12, resp, &bad);
    const char *pw =
        bad ? NULL : tp_http_str_field(o, "password", 1, TP_PASSWORD_MAX_BYTES, resp, &bad);
    if (bad || !ticket || !code || !pw) {
        if (!bad)
            tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                                  "\"ticket\", \"totp\" and \"password\" are required");
        json_decref(o);
        return;
    }
    struct activate_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "out of memory");
        return;
    }
    if (load_account(req, &j->account, resp) != 0) {
        json_decref(o);
        activate_free(j);
        return;
    }
    char key[48];
    snprintf(key, sizeof key, "totp-activate#%lld", (long long)j->account.id);
    int64_t wait = tp_auth_throttle_wait(req->app, key, req->source, req->now_ms);
    if (wait > 0) {
        json_decref(o);
        activate_free(j);
        tp_http_respond_throttled(resp, wait);
        return;
    }
    j->app = req->app;
    j->req = *req;
    j->req.body = NULL;
    snprintf(j->request_id, sizeof j->request_id, "%s", req->request_id);
    snprintf(j->source, sizeof j->source, "%s", req->source);
    snprintf(j->ticket, sizeof j->ticket, "%s", ticket);
    snprintf(j->code, sizeof j->code, "%s", code);
    j->password_len = strlen(pw);
    memcpy(j->password, pw, j->password_len);
    json_decref(o);
    resp->job = activate_run;
    resp->job_arg = j;
    resp->job_free = activate_free;
}
