/* Pieces shared by the endpoints: bounded JSON bodies, field readers, auth events, and the
 * two public operational endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "http/json.h"
#include "http/metrics.h"

json_t *tp_http_body_object(const struct tp_http_request *req, struct tp_http_response *resp,
                            const char *const *allowed)
{
    char msg[160];
    const char *code = NULL;
    json_t *o = NULL;
    enum tp_err e =
        tp_json_parse_object(req->body, req->body_len, req->body_max, &o, &code, msg, sizeof msg);
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, code, msg);
        return NULL;
    }
    if (tp_json_only_keys(o, allowed, msg, sizeof msg) != TP_OK) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_INVALID, "unknown_field", msg);
        return NULL;
    }
    return o;
}

const char *tp_http_str_field(json_t *o, const char *key, size_t min, size_t max,
                              struct tp_http_response *resp, int *bad)
{
    json_t *v = json_object_get(o, key);
    char msg[120];
    if (!v)
        return NULL;
    if (!json_is_string(v)) {
        snprintf(msg, sizeof msg, "field \"%s\" must be a string", key);
        tp_http_respond_error(resp, TP_ERR_INVALID, "wrong_type", msg);
        *bad = 1;
        return NULL;
    }
    size_t n = json_string_length(v);
    if (n < min || n > max || strlen(json_string_value(v)) != n) {
        snprintf(msg, sizeof msg, "field \"%s\" must be %zu to %zu bytes", key, min, max);
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_length", msg);
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

static void free_intent(struct tp_write_intent *wi, enum tp_err rc)
{
    if (rc != TP_OK)
        fprintf(stderr, "opentp: http: an auth event could not be stored (%s)\n", tp_err_name(rc));
    free(wi);
}

void tp_http_auth_event(struct tp_app *app, const struct tp_http_request *req, int64_t account_id,
                        const char *login, const char *kind, const char *outcome,
                        const char *detail)
{
    struct tp_write_intent *wi = calloc(1, sizeof *wi);
    if (!wi)
        return;
    struct tp_auth_event *e = &wi->auth_event;
    wi->has_auth_event = 1;
    e->at_ms = req->now_ms;
    e->account_id = account_id;
    if (login) {
        /* The login tried, as a keyed hash: attempts on one name can be followed without the
         * name (which may be someone's e-mail address, or a password typed in the wrong box)
         * being stored. */
        uint8_t h[TP_TOKEN_HASH_LEN];
        tp_token_hash(app->keys, login, strlen(login), h);
        tp_hex(h, 16, e->login_ref);
    }
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    snprintf(e->outcome, sizeof e->outcome, "%s", outcome);
    snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
    snprintf(e->source, sizeof e->source, "%s", req->source);
    snprintf(e->request_id, sizeof e->request_id, "%s", req->request_id);
    wi->done = free_intent;
    if (tp_store_submit(app->store, wi) != TP_OK) {
        /* Queue full: write it directly rather than lose the record. */
        struct tp_store *st = app->store;
        (void)tp_store_ops(st)->auth_event_insert(tp_store_impl(st), e);
        free(wi);
    }
}

void tp_api_health(const struct tp_http_request *req, struct tp_http_response *resp)
{
    int64_t n = 0;
    struct tp_store *st = req->app->store;
    enum tp_err e = tp_store_ops(st)->count(tp_store_impl(st), "amc", &n);
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "store_unavailable", "the store cannot be read");
        return;
    }
    tp_http_respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void tp_api_metrics(const struct tp_http_request *req, struct tp_http_response *resp)
{
    size_t n = 0;
    char *text = tp_metrics_render(req->app->store, &n);
    if (!text) {
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "metrics unavailable");
        return;
    }
    resp->body = text;
    resp->body_len = n;
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
}
