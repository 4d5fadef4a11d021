/* Process metrics in Prometheus text format (GET /metrics). Lock-free counters. */
#ifndef TP_HTTP_METRICS_H
#define TP_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum tp_route {
    TP_ROUTE_HEALTHZ = 0,
    TP_ROUTE_METRICS,
    TP_ROUTE_RIGHTS_CHECK,
    TP_ROUTE_UNKNOWN,
    TP_ROUTE_COUNT
};

enum tp_rights_metric {
    TP_RM_COVERED = 0,
    TP_RM_NOT_COVERED,
    TP_RM_NOT_FOUND,
    TP_RM_CLOSED,
    TP_RM_REJECTED,
    TP_RM_COUNT
};

const char *tp_route_name(enum tp_route r);

/* Records one finished request. */
void tp_metrics_request(enum tp_route r, unsigned status, uint64_t duration_us);
void tp_metrics_rights(enum tp_rights_metric m);

/* Renders all metrics (and the store's group-commit statistics) into a malloc'd string. */
char *tp_metrics_render(struct tp_store *store, size_t *len);

#endif
