/* Pre-authorisations (PEC) for quotes (PRODUCT §3.2, docs/CLAIMS.md):
 *
 *   POST /api/v1/pec               submit a quote: decision, per-line amounts, PEC number
 *   GET  /api/v1/pec/{id}          the PEC
 *   POST /api/v1/pec/{id}/cancel   cancel it (gives back what it held)
 *
 * A quote is computed like a claim, by the same engine against the same counters, in the
 * group-commit writer; an accepted (or partially accepted) PEC holds the amount agreed on
 * the beneficiary's counters until the claim that references it, its cancellation or the
 * end of its validity (3 months by default). */
#include <stdio.h>
#include <string.h>

#include "http/api_claims.h"
#include "http/json.h"

/* PEC numbers: 80 random bits in the engagement number's alphabet, unguessable. */
static void pec_number(char out[TP_PEC_NUMBER_LEN + 1])
{
    uint8_t b[10];
    tp_random(b, sizeof b);
    tp_engagement_format(b, out);
}

static const char *const pec_keys[] = {
    "date",        "domain",          "engagement",      "card", "age", "pf_exempt", "lines",
    "total_cents", "amo_total_cents", "validity_months", NULL};

void tp_api_pec_submit(const struct tp_http_request *req, struct tp_http_response *resp)
{
    char msg[160];
    const char *code = NULL;
    json_t *o = NULL;
    if (tp_json_parse_object(req->body, req->body_len, req->body_max, &o, &code, msg, sizeof msg) !=
        TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INVALID, code, msg);
        return;
    }
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_PEC_SUBMIT);
    if (!op)
        goto out;
    tp_claims_event(req, &resp->wi.event, "pec.submit");
    if (tp_json_only_keys(o, pec_keys, msg, sizeof msg) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INVALID, "unknown_field", msg);
        goto out;
    }
    /* The care domains that take quotes (PRODUCT §3.2). */
    json_t *d = json_object_get(o, "domain");
    int dom = json_is_string(d) ? tp_domain_parse(json_string_value(d), json_string_length(d)) : -1;
    if (dom != TP_DOM_OPTIQUE && dom != TP_DOM_DENTAIRE && dom != TP_DOM_AUDIO &&
        dom != TP_DOM_HOSPITALISATION) {
        tp_http_respond_error(resp, TP_ERR_INVALID, d ? "invalid_domain" : "missing_field",
                              "\"domain\" must be OPTIQUE, DENTAIRE, AUDIO or HOSPITALISATION");
        goto out;
    }
    op->domain = dom;
    json_t *vm = json_object_get(o, "validity_months");
    if (vm) {
        if (!json_is_integer(vm) || json_integer_value(vm) < 1 || json_integer_value(vm) > 12) {
            tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_validity",
                                  "\"validity_months\" must be 1 to 12");
            goto out;
        }
        op->validity_months = (int)json_integer_value(vm);
    }
    /* A quote is for care to come: dated from a month ago to three months ahead. */
    if (tp_claims_parse_date(req, resp, o, 31, 92, op))
        goto out;
    if (tp_claims_parse_common(req, resp, o, op))
        goto out;
    pec_number(op->pec);
    tp_claims_submit(req, resp, op, "pec.submit");
out:
    json_decref(o);
}

void tp_api_pec_get(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_PEC_GET);
    if (op)
        tp_claims_submit(req, resp, op, "pec.get");
}

void tp_api_pec_cancel(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_PEC_CANCEL);
    if (op)
        tp_claims_submit(req, resp, op, "pec.cancel");
}
