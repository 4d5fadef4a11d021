/* GET /api/v1/me/accesses — a member sees who accessed their data and when, from the
 * tamper-evident access log (PRODUCT §5; docs/API.md). The answer names the health
 * professional (name and profession), the operation, the categories of data and the time; the
 * log is read on the worker pool (a pass over it), never on a poll thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/log.h"
#include "core/date.h"
#include "core/domain.h"
#include "http/handlers.h"

#define ACCESSES_MAX 200 /* the most recent ones */

struct job {
    char dir[1100];
    uint8_t ref[TP_BIDX_LEN];
    struct tp_store *store;
    struct tp_access_event *ring; /* the last ACCESSES_MAX matching events */
    size_t n;                     /* matching events seen */
};

static enum tp_err on_leaf(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                           const struct tp_merkle_hash *lh)
{
    (void)index, (void)lh;
    struct job *j = ctx;
    struct tp_access_event ev;
    if (len < 18 + TP_EVENT_REF_LEN || leaf[17] != 1 ||
        memcmp(leaf + 18, j->ref, TP_EVENT_REF_LEN) != 0) /* cheap test on the encoding */
        return TP_OK;
    if (tp_event_decode(leaf, len, &ev) != TP_OK || !ev.fields[0])
        return TP_OK;
    j->ring[j->n % ACCESSES_MAX] = ev;
    j->n++;
    return TP_OK;
}

static void job_free(void *arg)
{
    struct job *j = arg;
    free(j->ring);
    free(j);
}

static void run(void *arg, struct tp_http_response *resp)
{
    struct job *j = arg;
    char msg[256];
    uint64_t bad;
    if (tp_audit_read(j->dir, on_leaf, j, &bad, msg, sizeof msg) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INTERNAL, "log_unavailable",
                              "the access log cannot be read right now");
        job_free(j);
        return;
    }
    json_t *arr = json_array();
    size_t shown = j->n < ACCESSES_MAX ? j->n : ACCESSES_MAX;
    const struct tp_store_ops *ops = tp_store_ops(j->store);
    for (size_t k = 0; k < shown; k++) { /* newest first */
        const struct tp_access_event *ev = &j->ring[(j->n - 1 - k) % ACCESSES_MAX];
        struct tp_ps ps;
        int has_ps = ev->ps_id && ops->ps_get(tp_store_impl(j->store), ev->ps_id, &ps) == TP_OK;
        char when[32];
        time_t secs = (time_t)(ev->at_ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *data = json_array();
        char f[sizeof ev->fields];
        snprintf(f, sizeof f, "%s", ev->fields);
        for (char *save = NULL, *t = strtok_r(f, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(data, json_string(t));
        json_array_append_new(
            arr, json_pack("{s:s, s:o, s:s, s:s, s:o}", "at", when, "by",
                           has_ps ? json_pack("{s:s, s:s}", "name", ps.name, "profession",
                                              tp_profession_name(ps.profession))
                                  : json_pack("{s:s}", "name", "la plateforme"),
                           "operation", ev->operation, "outcome", ev->outcome, "data", data));
    }
    tp_http_respond_json(resp, 200,
                         json_pack("{s:I, s:o}", "total", (json_int_t)j->n, "accesses", arr));
    job_free(j);
}

void tp_api_me_accesses(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct job *j = calloc(1, sizeof *j);
    if (j)
        j->ring = calloc(ACCESSES_MAX, sizeof *j->ring);
    if (!j || !j->ring || !req->app->data_dir) {
        if (j)
            job_free(j);
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "the accesses cannot be listed");
        return;
    }
    struct tp_store *st = req->app->store;
    enum tp_err e =
        tp_store_ops(st)->beneficiary_ref_of(tp_store_impl(st), req->who->beneficiary_id, j->ref);
    if (e != TP_OK) {
        job_free(j);
        tp_http_respond_error(resp, e == TP_ERR_NOT_FOUND ? TP_ERR_NOT_FOUND : e, "not_found",
                              "no beneficiary is attached to this account");
        return;
    }
    snprintf(j->dir, sizeof j->dir, "%s/audit", req->app->data_dir);
    j->store = st;
    resp->job = run;
    resp->job_arg = j;
    resp->job_free = job_free;
}
