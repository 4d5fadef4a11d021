/* Shared by the claim and PEC endpoints (api_claims.c, api_pec.c): the request body's parts
 * common to both (beneficiary, date, lines, totals), the access event, and the JSON of a
 * stored claim or PEC. docs/CLAIMS.md lists every error code. */
#ifndef TP_HTTP_API_CLAIMS_H
#define TP_HTTP_API_CLAIMS_H

#include <jansson.h>

#include "http/handlers.h"
#include "store/claims.h"

/* Parses the beneficiary ("engagement" or "card"), "age", "pf_exempt", "lines" and
 * "total_cents" of body o into op; finds a card's beneficiary (op->beneficiary_id). Returns
 * 0, or -1 with resp filled: an error response, or (card data matching nobody) a 404 whose
 * access event is already prepared in resp->wi. `today` bounds the dates. */
int tp_claims_parse_common(const struct tp_http_request *req, struct tp_http_response *resp,
                           json_t *o, struct tp_claim_op *op);

/* Reads the "date" field into op->date, within [today - past_days, today + future_days]. */
int tp_claims_parse_date(const struct tp_http_request *req, struct tp_http_response *resp,
                         json_t *o, int past_days, int future_days, struct tp_claim_op *op);

/* The access event's fixed part (who, where, operation). */
void tp_claims_event(const struct tp_http_request *req, struct tp_access_event *ev,
                     const char *operation);

/* Hands op (heap, owned by resp from now on) to the writer: has_write, claim_op, event. */
void tp_claims_submit(const struct tp_http_request *req, struct tp_http_response *resp,
                      struct tp_claim_op *op, const char *operation);

/* A new operation for the caller (ps_id, any_ps for operators, times), or NULL with resp set
 * to a 500. */
struct tp_claim_op *tp_claims_op_new(const struct tp_http_request *req,
                                     struct tp_http_response *resp, enum tp_claim_op_kind kind);

/* JSON of a stored claim or PEC (lines, totals, reasons). */
json_t *tp_claims_record_json(const struct tp_claim_record *r);

#endif
