/* The security console's API (docs/DETECTION.md "Security console", docs/API.md):
 *   GET  /api/v1/security/alerts                    what detection raised, newest last
 *   POST /api/v1/security/accounts/{id}/reinstate   lift a suspension (fresh TOTP required)
 * Alerts carry the account or token and a reason with counts and thresholds only: no personal
 * data. */
#include <stdio.h>
#include <stdlib.h>

#include "core/domain.h"
#include "http/handlers.h"
#include "security/detect_state.h"

#define ALERTS_MAX 256

void tp_api_security_alerts(const struct tp_http_request *req, struct tp_http_response *resp)
{
    json_t *arr = json_array();
    if (req->app->detect) {
        struct tp_detect_alert *a = calloc(ALERTS_MAX, sizeof *a);
        if (!a) {
            json_decref(arr);
            tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "out of memory");
            return;
        }
        size_t n = tp_detect_alerts(req->app->detect, 0, a, ALERTS_MAX);
        for (size_t i = 0; i < n; i++) {
            char subject[40];
            snprintf(subject, sizeof subject, "%s:%llu",
                     tp_detect_key_is_token(a[i].key) ? "token" : "account",
                     (unsigned long long)(a[i].key >> 1));
            json_array_append_new(
                arr, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)a[i].seq,
                               "at_ms", (json_int_t)a[i].at_ms, "subject", subject, "profession",
                               tp_profession_name(a[i].profession), "action",
                               tp_detect_action_name(a[i].action), "rule",
                               tp_detect_rule_name(a[i].rule), "reason", a[i].reason));
        }
        free(a);
    }
    tp_http_respond_json(
        resp, 200, json_pack("{s:b, s:o}", "detection", req->app->detect != NULL, "alerts", arr));
}

void tp_api_security_reinstate(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_store *st = req->app->store;
    enum tp_err e = tp_store_ops(st)->account_set_disabled(tp_store_impl(st), req->path_id, 0);
    if (e == TP_ERR_NOT_FOUND) {
        tp_http_respond_error(resp, e, "not_found", "no such account");
        return;
    }
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "storage_error", "the account could not be reinstated");
        return;
    }
    if (req->app->detect)
        tp_detect_reset(req->app->detect, tp_detect_key_account(req->path_id));
    char detail[32];
    snprintf(detail, sizeof detail, "account:%lld", (long long)req->path_id);
    tp_http_auth_event(req->app, req, req->who->account_id, NULL, "detection", "reinstated",
                       detail);
    tp_http_respond_json(
        resp, 200, json_pack("{s:I, s:b}", "account", (json_int_t)req->path_id, "reinstated", 1));
}
