#include "http/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NROUTES (TP_OP_COUNT + 1) /* every operation, and "unknown" */

/* Latency buckets in microseconds (upper bounds), Prometheus-style cumulative on output. */
static const uint64_t buckets_us[] = {250, 500, 1000, 2000, 5000, 10000, 50000, 250000, 1000000};
#define N_BUCKETS (sizeof buckets_us / sizeof buckets_us[0])

enum { CLASS_2XX, CLASS_4XX, CLASS_5XX, CLASS_OTHER, CLASS_COUNT };

static atomic_uint_fast64_t requests[NROUTES][CLASS_COUNT];
static atomic_uint_fast64_t latency[NROUTES][N_BUCKETS + 1];
static atomic_uint_fast64_t latency_sum_us[NROUTES];
static atomic_uint_fast64_t rights[TP_RM_COUNT];

static const char *route_name(int r)
{
    return r < TP_OP_COUNT ? tp_op_name((enum tp_op)r) : "unknown";
}
static const char *const class_names[CLASS_COUNT] = {"2xx", "4xx", "5xx", "other"};
static const char *const rights_names[TP_RM_COUNT] = {"covered", "not_covered", "not_found",
                                                      "rights_closed", "rejected"};

void tp_metrics_request(int r, unsigned status, uint64_t duration_us)
{
    if (r < 0 || r >= NROUTES)
        r = TP_OP_COUNT;
    int cls = status >= 200 && status < 300   ? CLASS_2XX
              : status >= 400 && status < 500 ? CLASS_4XX
              : status >= 500                 ? CLASS_5XX
                                              : CLASS_OTHER;
    atomic_fetch_add_explicit(&requests[r][cls], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < N_BUCKETS && duration_us > buckets_us[b])
        b++;
    atomic_fetch_add_explicit(&latency[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us[r], duration_us, memory_order_relaxed);
}

void tp_metrics_rights(enum tp_rights_metric m)
{
    if ((unsigned)m < TP_RM_COUNT)
        atomic_fetch_add_explicit(&rights[m], 1, memory_order_relaxed);
}

char *tp_metrics_render(struct tp_store *store, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    FILE *f = open_memstream(&buf, &cap);
    if (!f)
        return NULL;
    fputs("# HELP opentp_http_requests_total HTTP requests by route and status class.\n"
          "# TYPE opentp_http_requests_total counter\n",
          f);
    for (int r = 0; r < NROUTES; r++)
        for (int c = 0; c < CLASS_COUNT; c++)
            fprintf(f, "opentp_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                    route_name(r), class_names[c],
                    (unsigned long long)atomic_load(&requests[r][c]));
    fputs("# HELP opentp_http_request_duration_seconds Time from first byte to response.\n"
          "# TYPE opentp_http_request_duration_seconds histogram\n",
          f);
    for (int r = 0; r < NROUTES; r++) {
        uint64_t cum = 0;
        for (size_t b = 0; b <= N_BUCKETS; b++) {
            cum += atomic_load(&latency[r][b]);
            if (b < N_BUCKETS)
                fprintf(f,
                        "opentp_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                        "%llu\n",
                        route_name(r), (double)buckets_us[b] / 1e6, (unsigned long long)cum);
            else
                fprintf(f,
                        "opentp_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                        "%llu\n",
                        route_name(r), (unsigned long long)cum);
        }
        fprintf(f, "opentp_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_name(r),
                (double)atomic_load(&latency_sum_us[r]) / 1e6);
        fprintf(f, "opentp_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_name(r),
                (unsigned long long)cum);
    }
    fputs("# HELP opentp_rights_checks_total Rights checks by outcome.\n"
          "# TYPE opentp_rights_checks_total counter\n",
          f);
    for (int m = 0; m < TP_RM_COUNT; m++)
        fprintf(f, "opentp_rights_checks_total{outcome=\"%s\"} %llu\n", rights_names[m],
                (unsigned long long)atomic_load(&rights[m]));
    struct tp_store_stats st;
    tp_store_get_stats(store, &st);
    fprintf(f,
            "# HELP opentp_store_batches_total Group-commit transactions.\n"
            "# TYPE opentp_store_batches_total counter\n"
            "opentp_store_batches_total %llu\n"
            "# HELP opentp_store_batch_failures_total Group-commit transactions that failed.\n"
            "# TYPE opentp_store_batch_failures_total counter\n"
            "opentp_store_batch_failures_total %llu\n"
            "# HELP opentp_store_intents_total Durable writes committed through group commit.\n"
            "# TYPE opentp_store_intents_total counter\n"
            "opentp_store_intents_total %llu\n"
            "# HELP opentp_store_batch_max Largest group-commit batch so far.\n"
            "# TYPE opentp_store_batch_max gauge\n"
            "opentp_store_batch_max %llu\n"
            "# HELP opentp_store_commit_seconds_total Time spent committing batches.\n"
            "# TYPE opentp_store_commit_seconds_total counter\n"
            "opentp_store_commit_seconds_total %.6f\n"
            "# HELP opentp_store_commit_seconds_max Longest batch commit so far.\n"
            "# TYPE opentp_store_commit_seconds_max gauge\n"
            "opentp_store_commit_seconds_max %.6f\n"
            "# HELP opentp_store_syncs_total fsyncs that made group-committed batches durable.\n"
            "# TYPE opentp_store_syncs_total counter\n"
            "opentp_store_syncs_total %llu\n"
            "# HELP opentp_store_sync_seconds_total Time spent in those fsyncs.\n"
            "# TYPE opentp_store_sync_seconds_total counter\n"
            "opentp_store_sync_seconds_total %.6f\n",
            (unsigned long long)st.batches, (unsigned long long)st.failed_batches,
            (unsigned long long)st.intents, (unsigned long long)st.max_batch,
            (double)st.commit_us_total / 1e6, (double)st.commit_us_max / 1e6,
            (unsigned long long)st.syncs, (double)st.sync_us_total / 1e6);
    fclose(f);
    *len = cap;
    return buf;
}
