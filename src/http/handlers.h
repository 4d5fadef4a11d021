/* What the server hands to an endpoint handler, and what the handler hands back.
 *
 * Handlers run on MHD poll threads: they must not block on anything slower than an indexed
 * read. A handler that needs durable writes fills resp->wi and sets resp->has_write; the
 * server sends the response only after those writes are committed. */
#ifndef TP_HTTP_HANDLERS_H
#define TP_HTTP_HANDLERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "http/http.h"
#include "store/store.h"

struct tp_http_request {
    struct tp_app *app;
    const char *body;
    size_t body_len;
    size_t body_max;
    const struct tp_token_info *auth; /* authenticated caller; NULL on public routes */
    const char *request_id;
    const char *source; /* client address, for the access event */
    int64_t now_ms;
    tp_day today;
};

struct tp_http_response {
    unsigned status;
    char *body; /* malloc'd, owned by the response */
    size_t body_len;
    const char *content_type;
    const char *error_code; /* for the access log; NULL on success */
    int has_write;
    struct tp_write_intent wi;
};

/* Fills resp with the JSON error shape. */
void tp_http_respond_error(struct tp_http_response *resp, enum tp_err err, const char *code,
                           const char *message);

/* Serialises obj (reference stolen) as the response body with the given status. */
void tp_http_respond_json(struct tp_http_response *resp, unsigned status, json_t *obj);

/* POST /api/v1/rights/check (api_rights.c). */
void tp_api_rights_check(const struct tp_http_request *req, struct tp_http_response *resp);

#endif
