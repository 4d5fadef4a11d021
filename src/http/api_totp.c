/* Optional TOTP for members (CNIL 2025-019: the second factor is mandatory for professionals,
 * offered to members).
 *
 * Stateless two-step enrolment: /enroll draws a seed and returns it (base32, otpauth:// URI,
 * QR code as SVG) together with an opaque enrolment ticket — the seed sealed to this account
 * with an expiry. /activate takes the ticket back with a first code from the authenticator:
 * only a working authenticator turns TOTP on, and nothing is stored before that. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "security/recovery.h"
#include "security/totp.h"

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

void tp_api_totp_activate(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"ticket", "totp", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *ticket = tp_http_str_field(o, "ticket", 1, 2 * TP_SECRET_SEALED_MAX, resp, &bad);
    const char *code = bad ? NULL : tp_http_str_field(o, "totp", 1, 12, resp, &bad);
    struct tp_account_row a;
    if (bad || !ticket || !code) {
        if (!bad)
            tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                                  "\"ticket\" and \"totp\" are required");
        json_decref(o);
        return;
    }
    if (load_account(req, &a, resp) != 0) {
        json_decref(o);
        return;
    }
    uint8_t sealed[TP_SECRET_SEALED_MAX], plain[TP_SECRET_MAX];
    size_t sealed_len = 0, plain_len = 0;
    char ad[TP_LOGIN_MAX + 16];
    ticket_ad(a.login, ad, sizeof ad);
    enum tp_err e = TP_ERR_INVALID;
    if (sodium_base642bin(sealed, sizeof sealed, ticket, strlen(ticket), NULL, &sealed_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
        tp_secret_open(req->app->keys, sealed, sealed_len, (const uint8_t *)ad, strlen(ad), plain,
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
        e = tp_totp_verify(plain + 8, TP_TOTP_SECRET_LEN, code, strlen(code), req->now_ms / 1000,
                           -1, &step) == TP_OK
                ? TP_OK
                : TP_ERR_AUTH;
    json_decref(o);
    struct tp_store *st = req->app->store;
    const struct tp_store_ops *ops = tp_store_ops(st);
    void *impl = tp_store_impl(st);
    uint8_t seed_sealed[TP_SECRET_SEALED_MAX];
    size_t seed_len = 0;
    if (e == TP_OK)
        e = tp_secret_seal(req->app->keys, plain + 8, TP_TOTP_SECRET_LEN, (const uint8_t *)a.login,
                           strlen(a.login), seed_sealed, &seed_len);
    sodium_memzero(plain, sizeof plain);
    if (e == TP_OK)
        e = ops->account_set_totp(impl, a.id, seed_sealed, seed_len);
    if (e == TP_OK)
        (void)ops->account_use_totp_step(impl, a.id, step); /* the first code is spent */
    char codes[TP_RECOVERY_COUNT][TP_RECOVERY_CODE_SIZE];
    uint8_t hashes[TP_RECOVERY_COUNT][TP_RECOVERY_HASH_LEN];
    if (e == TP_OK) {
        tp_recovery_generate(tp_keys_recovery_key(req->app->keys), TP_RECOVERY_COUNT, codes,
                             hashes);
        e = ops->recovery_codes_set(impl, a.id, (const uint8_t(*)[32])hashes, TP_RECOVERY_COUNT);
    }
    tp_http_auth_event(req->app, req, a.id, NULL, "totp_activate",
                       e == TP_OK ? "ok" : tp_err_name(e), "");
    if (e == TP_ERR_INVALID) {
        tp_http_respond_error(resp, e, "invalid_ticket",
                              "the enrolment ticket is invalid or expired");
        return;
    }
    if (e == TP_ERR_AUTH) {
        tp_http_respond_error(resp, e, "invalid_code", "the code does not match the new secret");
        return;
    }
    if (e != TP_OK) {
        tp_http_respond_error(resp, e,
                              e == TP_ERR_CONFLICT ? "totp_already_enrolled" : "storage_error",
                              "TOTP could not be enabled");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < TP_RECOVERY_COUNT; i++)
        json_array_append_new(arr, json_string(codes[i]));
    sodium_memzero(codes, sizeof codes);
    tp_http_respond_json(resp, 200, json_pack("{s:b, s:o}", "totp", 1, "recovery_codes", arr));
}
