/* PS API tokens for practice software: created by a PS user (fresh TOTP required), scoped to
 * rights checks, expiring, listed to their PS, revocable. The token text is shown once; only
 * its keyed hash is stored. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "http/handlers.h"

#define TOKEN_MAX_DAYS 365

enum tp_err tp_resolve_ps_path(const struct tp_http_request *req, struct tp_object *obj)
{
    /* The PS named in the path: its existence is not checked here, so that an unknown PS
     * and another tenant's PS get the same 404 from the ownership rule. */
    obj->kind = TP_OWNER_PS;
    obj->ps_id = req->path_id;
    return TP_OK;
}

enum tp_err tp_resolve_token(const struct tp_http_request *req, struct tp_object *obj)
{
    struct tp_token_row t;
    struct tp_store *st = req->app->store;
    enum tp_err e = tp_store_ops(st)->token_get(tp_store_impl(st), req->path_id, &t);
    if (e != TP_OK)
        return e;
    obj->kind = TP_OWNER_PS;
    obj->ps_id = t.ps_id;
    return TP_OK;
}

void tp_api_token_create(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"label", "expires_days", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *label = tp_http_str_field(o, "label", 1, TP_TEXT_MAX - 1, resp, &bad);
    json_t *days = json_object_get(o, "expires_days");
    if (!bad && (!label || !days || !json_is_integer(days) || json_integer_value(days) < 1 ||
                 json_integer_value(days) > TOKEN_MAX_DAYS)) {
        bad = 1;
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_field",
                              "\"label\" (text) and \"expires_days\" (1 to 365) are required");
    }
    if (bad) {
        json_decref(o);
        return;
    }
    uint8_t raw[32], hash[TP_TOKEN_HASH_LEN];
    char token[64] = "otp_";
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token + 4, sizeof token - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    tp_token_hash(req->app->keys, token, strlen(token), hash);
    int64_t now = req->now_ms / 1000, id = 0;
    int64_t expires = now + (int64_t)json_integer_value(days) * 86400;
    struct tp_store *st = req->app->store;
    enum tp_err e = tp_store_ops(st)->token_insert(tp_store_impl(st), req->path_id, hash, label,
                                                   TP_SCOPE_RIGHTS, expires, now, &id);
    json_decref(o);
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "storage_error", "the token could not be stored");
        return;
    }
    tp_http_respond_json(resp, 201,
                         json_pack("{s:I, s:s, s:I, s:[s]}", "id", (json_int_t)id, "token", token,
                                   "expires_at", (json_int_t)expires, "scopes", "rights.check"));
    sodium_memzero(token, sizeof token);
}

void tp_api_token_list(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_token_row rows[256];
    size_t n = 0;
    struct tp_store *st = req->app->store;
    if (tp_store_ops(st)->token_list(tp_store_impl(st), req->path_id, rows, 256, &n) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_IO, "storage_error", "tokens could not be listed");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:I, s:b}", "id",
                                             (json_int_t)rows[i].id, "label", rows[i].label,
                                             "created_at", (json_int_t)rows[i].created_at,
                                             "expires_at", (json_int_t)rows[i].expires_at,
                                             "revoked", rows[i].revoked_at != 0));
    tp_http_respond_json(resp, 200, json_pack("{s:o}", "tokens", arr));
}

void tp_api_token_revoke(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_store *st = req->app->store;
    enum tp_err e =
        tp_store_ops(st)->token_revoke(tp_store_impl(st), req->path_id, req->now_ms / 1000);
    if (e == TP_ERR_NOT_FOUND) {
        tp_http_respond_error(resp, e, "not_found", "no such active token");
        return;
    }
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "storage_error", "the token could not be revoked");
        return;
    }
    tp_http_respond_json(resp, 200, json_pack("{s:b}", "revoked", 1));
}
