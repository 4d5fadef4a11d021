/* Process metrics in Prometheus text format (GET /metrics). Lock-free counters. */
#ifndef TP_HTTP_METRICS_H
#define TP_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/authz.h"
#include "store/store.h"

/* Requests are counted per operation (core/authz.h); TP_OP_COUNT stands for "no route". */

enum tp_rights_metric {
    TP_RM_COVERED = 0,
    TP_RM_NOT_COVERED,
    TP_RM_NOT_FOUND,
    TP_RM_CLOSED,
    TP_RM_REJECTED,
    TP_RM_COUNT
};

/* Records one finished request. */
void tp_metrics_request(int op, unsigned status, uint64_t duration_us);
void tp_metrics_rights(enum tp_rights_metric m);

/* Renders all metrics (and the store's group-commit statistics) into a malloc'd string. */
char *tp_metrics_render(struct tp_store *store, size_t *len);

#endif
