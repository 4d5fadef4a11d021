/* The operator's payment endpoints (docs/API.md "Payments"; docs/PAYMENTS.md):
 *
 *   POST /api/v1/payments/runs        start (or complete) a run: 202, the run goes on in a
 *                                     thread of its own; 409 when one is already going
 *   GET  /api/v1/payments/runs        the last runs, with their status and totals
 *   POST /api/v1/ps/{id}/advances     grant an advance (acompte) to a PS: 201
 *
 * Operators only, with a fresh TOTP for the two POSTs (core/authz.c); server.c records every
 * decision. A run takes seconds to tens of seconds: it never runs on a poll thread nor on the
 * sign-in worker pool (logins would queue behind it), but on a detached thread that holds the
 * run lock; its outcome is in the runs listing and on stderr (no personal data). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sepa.h"
#include "http/handlers.h"
#include "store/pay.h"

#define RUNS_LISTED 20

struct run_job {
    int lock_fd;
    char db[1100];
    struct tp_pay_options o;
    char out_dir[1100];
};

static enum tp_err pay_open(const struct tp_app *app, struct tp_pay **p, char *msg, size_t msglen)
{
    char db[1100];
    if (!app->data_dir)
        return tp_fail(msg, msglen, TP_ERR_INTERNAL, "payments are not configured");
    snprintf(db, sizeof db, "%s/opentp.db", app->data_dir);
    return tp_pay_open(db, p, msg, msglen);
}

static void *run_thread(void *arg)
{
    struct run_job *j = arg;
    char msg[256];
    struct tp_pay *p = NULL;
    struct tp_pay_run_info r;
    int resumed = 0;
    enum tp_err rc = tp_pay_open(j->db, &p, msg, sizeof msg);
    if (rc == TP_OK)
        rc = tp_pay_run_locked(p, &j->o, &r, &resumed, msg, sizeof msg);
    if (rc == TP_OK)
        fprintf(stderr, "opentp: payments: run %s done (%lld claims, %lld transfers)%s\n", r.msg_id,
                (long long)r.claims, (long long)r.transfers,
                resumed ? ", an interrupted run completed" : "");
    else if (rc == TP_ERR_NOT_FOUND)
        fprintf(stderr, "opentp: payments: %s\n", msg);
    else
        fprintf(stderr, "opentp: payments: the run failed (%s): %s\n", tp_err_name(rc), msg);
    tp_pay_close(p);
    tp_pay_unlock(j->lock_fd);
    free(j);
    return NULL;
}

void tp_api_pay_run(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"execution_date", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *date = tp_http_str_field(o, "execution_date", 10, 10, resp, &bad);
    tp_day exec = req->today;
    if (!bad && date && tp_date_parse(date, 10, &exec) != TP_OK) {
        bad = 1;
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_field",
                              "\"execution_date\" must be YYYY-MM-DD");
    }
    json_decref(o);
    if (bad)
        return;
    if (exec < req->today) {
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_field",
                              "\"execution_date\" cannot be in the past");
        return;
    }
    struct run_job *j = calloc(1, sizeof *j);
    char msg[256];
    if (!j || !req->app->data_dir) {
        free(j);
        tp_http_respond_error(resp, TP_ERR_INTERNAL, "internal", "payments are not configured");
        return;
    }
    snprintf(j->db, sizeof j->db, "%s/opentp.db", req->app->data_dir);
    snprintf(j->out_dir, sizeof j->out_dir, "%s/payments", req->app->data_dir);
    j->o = (struct tp_pay_options){.out_dir = j->out_dir,
                                   .now_ms = req->now_ms,
                                   .execution_date = exec,
                                   .account_id = req->who->account_id};
    enum tp_err rc = tp_pay_lock(j->out_dir, &j->lock_fd, msg, sizeof msg);
    if (rc != TP_OK) {
        free(j);
        tp_http_respond_error(resp, rc == TP_ERR_BUSY ? TP_ERR_CONFLICT : rc,
                              rc == TP_ERR_BUSY ? "run_in_progress" : "storage_error", msg);
        return;
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int started = pthread_create(&t, &attr, run_thread, j) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {
        tp_pay_unlock(j->lock_fd);
        free(j);
        tp_http_respond_error(resp, TP_ERR_BUSY, "overloaded", "the run could not be started");
        return;
    }
    tp_http_respond_json(
        resp, 202, json_pack("{s:s, s:s}", "status", "started", "follow", "/api/v1/payments/runs"));
}

void tp_api_pay_list(const struct tp_http_request *req, struct tp_http_response *resp)
{
    char msg[256];
    struct tp_pay *p = NULL;
    struct tp_pay_run_info runs[RUNS_LISTED];
    size_t n = 0;
    enum tp_err rc = pay_open(req->app, &p, msg, sizeof msg);
    if (rc == TP_OK)
        rc = tp_pay_run_list(p, runs, RUNS_LISTED, &n);
    tp_pay_close(p);
    if (rc != TP_OK) {
        tp_http_respond_error(resp, rc, "storage_error", "the runs could not be read");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char day[11];
        tp_date_format(runs[i].execution_date, day);
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                           "id", (json_int_t)runs[i].id, "msg_id", runs[i].msg_id, "status",
                           runs[i].done ? "done" : "building", "execution_date", day, "created_ms",
                           (json_int_t)runs[i].created_ms, "claims", (json_int_t)runs[i].claims,
                           "claims_cents", (json_int_t)runs[i].claims_cents, "ps",
                           (json_int_t)runs[i].ps, "held_ps", (json_int_t)runs[i].held_ps,
                           "transfers", (json_int_t)runs[i].transfers, "transfer_cents",
                           (json_int_t)runs[i].transfer_cents, "advances_cents",
                           (json_int_t)runs[i].advances_cents, "deducted_cents",
                           (json_int_t)runs[i].deducted_cents));
    }
    tp_http_respond_json(resp, 200, json_pack("{s:o}", "runs", arr));
}

/* The grant is one short transaction; it runs on the worker pool all the same, since it
 * waits for the database's write lock. */
struct grant_job {
    char db[1100];
    int64_t ps_id, amount_cents, now_ms, account_id;
};

static void grant_run(void *arg, struct tp_http_response *resp)
{
    struct grant_job *g = arg;
    char msg[256];
    struct tp_pay *p = NULL;
    struct tp_pay_advance_view v;
    int64_t id = 0, granted = 0;
    const struct tp_advance_policy pol = TP_ADVANCE_POLICY_DEFAULT;
    enum tp_err rc = tp_pay_open(g->db, &p, msg, sizeof msg);
    if (rc == TP_OK)
        rc = tp_pay_advance_grant(p, g->ps_id, g->amount_cents, &pol, g->now_ms, g->account_id, &id,
                                  &v, &granted, msg, sizeof msg);
    tp_pay_close(p);
    free(g);
    if (rc == TP_ERR_NOT_FOUND)
        tp_http_respond_error(resp, rc, "not_found", "no such PS");
    else if (rc == TP_ERR_CONFLICT)
        tp_http_respond_error(resp, rc, "nothing_to_advance", msg);
    else if (rc == TP_ERR_INVALID)
        tp_http_respond_error(resp, rc, "not_payable", msg);
    else if (rc != TP_OK)
        tp_http_respond_error(resp, rc, "storage_error", "the advance could not be stored");
    else
        tp_http_respond_json(
            resp, 201,
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "id", (json_int_t)id, "ps_id",
                      (json_int_t)v.ps_id, "amount_cents", (json_int_t)granted, "proposed_cents",
                      (json_int_t)v.proposed_cents, "paid_in_window_cents",
                      (json_int_t)v.paid_in_window_cents, "outstanding_before_cents",
                      (json_int_t)v.outstanding_cents));
}

void tp_api_advance_grant(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"amount_cents", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    json_t *a = json_object_get(o, "amount_cents");
    /* Money is integer cents (STYLE 5): a JSON real or a string is refused. */
    if (a && (!json_is_integer(a) || json_integer_value(a) < 1 ||
              json_integer_value(a) > TP_SEPA_AMOUNT_MAX)) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_field",
                              "\"amount_cents\" must be an integer, 1 to 99999999999");
        return;
    }
    struct grant_job *g = calloc(1, sizeof *g);
    if (!g || !req->app->data_dir) {
        free(g);
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_INTERNAL, "internal", "payments are not configured");
        return;
    }
    snprintf(g->db, sizeof g->db, "%s/opentp.db", req->app->data_dir);
    g->ps_id = req->path_id;
    g->amount_cents = a ? (int64_t)json_integer_value(a) : 0;
    g->now_ms = req->now_ms;
    g->account_id = req->who->account_id;
    json_decref(o);
    resp->job = grant_run;
    resp->job_arg = g;
    resp->job_free = free;
}
