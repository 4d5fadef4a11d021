/* The security console's API (docs/DETECTION.md "Security console", docs/API.md):
 *   GET  /api/v1/security/alerts                    what detection raised, newest last
 *   POST /api/v1/security/accounts/{id}/reinstate   lift a suspension (fresh TOTP required)
 * Alerts carry the account or token and a reason with counts and thresholds only: no personal
 * data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/domain.h"
#include "incident/assess.h"
#include "incident/notice.h"
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

/* POST /api/v1/security/incidents/assess — the exact counts of an incident (who was exposed,
 * per AMC and category) from the access log, for the officer on call. The documents and the
 * containment are `opentp incident assess` (a folder of letters is not an HTTP answer). */
struct assess_job {
    char dir[1100];
    struct tp_assess_filter f;
};

static void assess_free(void *arg)
{
    free(arg);
}

static void assess_run(void *arg, struct tp_http_response *resp)
{
    struct assess_job *j = arg;
    struct tp_assessment a;
    char msg[256];
    if (tp_assess(j->dir, &j->f, &a, msg, sizeof msg) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INTERNAL, "log_unavailable", msg);
        free(j);
        return;
    }
    json_t *per_amc = json_array(), *cats = json_object();
    for (size_t i = 0; i < a.n_people;) {
        size_t k = i;
        json_int_t records = 0;
        while (k < a.n_people && strcmp(a.people[k].amc, a.people[i].amc) == 0)
            records += a.people[k++].accesses;
        json_array_append_new(per_amc,
                              json_pack("{s:s, s:I, s:I}", "amc", a.people[i].amc, "people",
                                        (json_int_t)(k - i), "records", records));
        i = k;
    }
    for (int b = 0; b < TP_CAT_COUNT; b++) {
        json_int_t c = 0;
        for (size_t k = 0; k < a.n_people; k++)
            c += (a.people[k].categories >> b) & 1u;
        json_object_set_new(cats, tp_data_category_name(1u << b), json_integer(c));
    }
    tp_http_respond_json(
        resp, 200,
        json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "events_read", (json_int_t)a.events_read,
                  "events_matched", (json_int_t)a.events_matched, "events_disclosing",
                  (json_int_t)a.events_disclosing, "people", (json_int_t)a.n_people, "per_amc",
                  per_amc, "people_by_category", cats));
    tp_assessment_free(&a);
    free(j);
}

void tp_api_security_assess(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"account", "token", "ps", "network",
                                       "from_ms", "to_ms", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    struct assess_job *j = calloc(1, sizeof *j);
    if (!j || !req->app->data_dir) {
        free(j);
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "the assessment cannot run");
        return;
    }
    j->f.to_ms = INT64_MAX;
    int bad = 0;
    const char *ints[] = {"account", "token", "ps", "from_ms", "to_ms"};
    int64_t *dst[] = {&j->f.account_id, &j->f.token_id, &j->f.ps_id, &j->f.from_ms, &j->f.to_ms};
    for (int i = 0; i < 5; i++) {
        json_t *v = json_object_get(o, ints[i]);
        if (!v)
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            bad = 1;
        else
            *dst[i] = json_integer_value(v);
    }
    json_t *net = json_object_get(o, "network");
    if (net &&
        (!json_is_string(net) || tp_assess_network_parse(json_string_value(net), &j->f) != TP_OK))
        bad = 1;
    json_decref(o);
    if (bad || (!j->f.account_id && !j->f.token_id && !j->f.ps_id && !j->f.has_network)) {
        free(j);
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_subject",
                              "name the subject: \"account\", \"token\", \"ps\" (ids) or "
                              "\"network\" (CIDR); \"from_ms\"/\"to_ms\" are Unix milliseconds");
        return;
    }
    snprintf(j->dir, sizeof j->dir, "%s/audit", req->app->data_dir);
    resp->job = assess_run;
    resp->job_arg = j;
    resp->job_free = assess_free;
}
