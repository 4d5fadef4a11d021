/* Claims (PRODUCT §3.3, docs/CLAIMS.md):
 *
 *   POST /api/v1/claims                 submit (idempotent on the PS's invoice number)
 *   GET  /api/v1/claims[/before/{id}]   the caller's claims, newest first, 50 a page
 *   GET  /api/v1/claims/{id}            one claim
 *   POST /api/v1/claims/{id}/cancel     cancel before payment
 *
 * The handler checks everything that needs no stored state (syntax, amounts, totals, act
 * codes, the profession's domains) and finds a card's beneficiary by blind index; the rest —
 * engagement, coverage, PEC, idempotency, the benefits engine against the current counters —
 * runs in the group-commit writer (store/claims.h), and the response is built from what it
 * computed, once it is durable. Whose claim it is is checked there: another PS's claim
 * answers like a missing one. */
#include "http/api_claims.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "http/json.h"
#include "http/switches.h"
#include "security/detect_state.h"

static int fail(struct tp_http_response *resp, enum tp_err e, const char *code, const char *msg)
{
    tp_http_respond_error(resp, e, code, msg);
    return -1;
}

/* An integer field in [min, max]; absent: *v = dflt (or an error when required). */
static int int_field(struct tp_http_response *resp, json_t *o, const char *key, int required,
                     int64_t min, int64_t max, int64_t dflt, int64_t *v, const char *bad_code,
                     const char *where)
{
    char msg[160];
    json_t *x = json_object_get(o, key);
    if (!x) {
        if (required) {
            snprintf(msg, sizeof msg, "%sfield \"%s\" is required", where, key);
            return fail(resp, TP_ERR_INVALID, "missing_field", msg);
        }
        *v = dflt;
        return 0;
    }
    if (!json_is_integer(x)) {
        snprintf(msg, sizeof msg, "%s\"%s\" must be an integer (amounts are in cents)", where, key);
        return fail(resp, TP_ERR_INVALID, bad_code, msg);
    }
    json_int_t n = json_integer_value(x);
    if (n < min || n > max) {
        snprintf(msg, sizeof msg, "%s\"%s\" must be %lld to %lld", where, key, (long long)min,
                 (long long)max);
        return fail(resp, TP_ERR_INVALID, bad_code, msg);
    }
    *v = n;
    return 0;
}

static const char *const line_keys[] = {"code",     "quantity",       "unit_price_cents",
                                        "br_cents", "amo_rate_bp",    "amo_cents",
                                        "side",     "vision_changed", NULL};

static int parse_line(const struct tp_http_request *req, struct tp_http_response *resp, json_t *l,
                      int i, struct tp_claim_op *op)
{
    char where[32], msg[200];
    snprintf(where, sizeof where, "line %d: ", i + 1);
    if (!json_is_object(l)) {
        snprintf(msg, sizeof msg, "%sa line is an object", where);
        return fail(resp, TP_ERR_INVALID, "wrong_type", msg);
    }
    if (tp_json_only_keys(l, line_keys, msg, sizeof msg) != TP_OK)
        return fail(resp, TP_ERR_INVALID, "unknown_field", msg);
    struct tp_claim_line *x = &op->lines[i];
    memset(x, 0, sizeof *x);
    json_t *c = json_object_get(l, "code");
    if (!c) {
        snprintf(msg, sizeof msg, "%sfield \"code\" is required", where);
        return fail(resp, TP_ERR_INVALID, "missing_field", msg);
    }
    const char *s = json_is_string(c) ? json_string_value(c) : NULL;
    size_t n = s ? json_string_length(c) : 0;
    int good = s && n >= 1 && n < TP_ACT_CODE_MAX;
    for (size_t k = 0; good && k < n; k++)
        good = (s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9') || s[k] == '_';
    if (!good) {
        snprintf(msg, sizeof msg, "%s\"code\" must be an act code: 1 to 15 of A-Z 0-9 _", where);
        return fail(resp, TP_ERR_INVALID, "invalid_code", msg);
    }
    memcpy(x->code, s, n);
    int64_t v;
    if (int_field(resp, l, "quantity", 1, 1, TP_LINE_QTY_MAX, 0, &v, "invalid_quantity", where))
        return -1;
    x->quantity = (int32_t)v;
    if (int_field(resp, l, "unit_price_cents", 1, 0, TP_LINE_PRICE_MAX, 0, &v, "invalid_amount",
                  where))
        return -1;
    x->unit_price_cents = v;
    if (int_field(resp, l, "br_cents", 0, 0, TP_LINE_PRICE_MAX, -1, &v, "invalid_amount", where))
        return -1;
    x->br_cents = v;
    if (int_field(resp, l, "amo_rate_bp", 0, 0, 10000, -1, &v, "invalid_rate", where))
        return -1;
    x->amo_rate_bp = (int32_t)v;
    if (int_field(resp, l, "amo_cents", 0, 0, TP_LINE_PRICE_MAX * (int64_t)TP_LINE_QTY_MAX, -1, &v,
                  "invalid_amount", where))
        return -1;
    x->amo_cents = v;
    json_t *side = json_object_get(l, "side");
    if (side) {
        const char *sv = json_is_string(side) ? json_string_value(side) : "";
        if (strcmp(sv, "L") != 0 && strcmp(sv, "R") != 0) {
            snprintf(msg, sizeof msg, "%s\"side\" must be \"L\" or \"R\"", where);
            return fail(resp, TP_ERR_INVALID, "invalid_side", msg);
        }
        x->side = sv[0];
    }
    json_t *vc = json_object_get(l, "vision_changed");
    if (vc) {
        if (!json_is_boolean(vc)) {
            snprintf(msg, sizeof msg, "%s\"vision_changed\" must be true or false", where);
            return fail(resp, TP_ERR_INVALID, "wrong_type", msg);
        }
        x->vision_changed = json_is_true(vc) ? 1 : 0;
    }
    /* The reference data must know the act on the date of care, and the act must be of the
     * PS's profession (data minimisation, as for rights checks). */
    const struct tp_refdata *rd = tp_claims_refdata();
    const struct tp_act_ref *a = rd ? tp_refdata_act(rd, x->code, n, op->date) : NULL;
    if (!a) {
        snprintf(msg, sizeof msg, "%sact code %s is not in the reference data on the date of care",
                 where, x->code);
        return fail(resp, TP_ERR_INVALID, "unknown_act", msg);
    }
    if (req->who->role == TP_ROLE_PS &&
        !(tp_profession_domains((enum tp_profession)req->who->profession) & (1u << a->domain))) {
        snprintf(msg, sizeof msg, "%sthis act is outside the profession of the PS", where);
        return fail(resp, TP_ERR_FORBIDDEN, "domain_not_allowed", msg);
    }
    return 0;
}

int tp_claims_parse_date(const struct tp_http_request *req, struct tp_http_response *resp,
                         json_t *o, int past_days, int future_days, struct tp_claim_op *op)
{
    json_t *d = json_object_get(o, "date");
    if (!d)
        return fail(resp, TP_ERR_INVALID, "missing_field", "field \"date\" is required");
    if (!json_is_string(d) ||
        tp_date_parse(json_string_value(d), json_string_length(d), &op->date) != TP_OK)
        return fail(resp, TP_ERR_INVALID, "invalid_date",
                    "\"date\" must be a date written YYYY-MM-DD");
    if (op->date < req->today - past_days || op->date > req->today + future_days) {
        char msg[120];
        snprintf(msg, sizeof msg, "\"date\" must be within %d days before and %d days after today",
                 past_days, future_days);
        return fail(resp, TP_ERR_INVALID, "date_out_of_range", msg);
    }
    return 0;
}

static const char *const card_keys[] = {"amc", "member", "nir", "birth_date", "birth_rank", NULL};

/* The card's beneficiary by blind index (no decryption); -1 with resp set otherwise. */
static int find_card(const struct tp_http_request *req, struct tp_http_response *resp, json_t *c,
                     struct tp_claim_op *op)
{
    char msg[160];
    if (!json_is_object(c))
        return fail(resp, TP_ERR_INVALID, "wrong_type", "\"card\" must be an object");
    if (tp_json_only_keys(c, card_keys, msg, sizeof msg) != TP_OK)
        return fail(resp, TP_ERR_INVALID, "unknown_field", msg);
    json_t *amc = json_object_get(c, "amc"), *member = json_object_get(c, "member");
    json_t *nir = json_object_get(c, "nir"), *bd = json_object_get(c, "birth_date"),
           *br = json_object_get(c, "birth_rank");
    if (!json_is_string(amc) || !json_is_string(member))
        return fail(resp, TP_ERR_INVALID, "missing_field",
                    "\"card\" needs \"amc\" and \"member\" (strings)");
    if (tp_amc_check(json_string_value(amc), json_string_length(amc), msg, sizeof msg) != TP_OK)
        return fail(resp, TP_ERR_INVALID, "invalid_amc", msg);
    if (tp_member_check(json_string_value(member), json_string_length(member), msg, sizeof msg) !=
        TP_OK)
        return fail(resp, TP_ERR_INVALID, "invalid_member", msg);
    if (nir &&
        (!json_is_string(nir) ||
         tp_nir_check(json_string_value(nir), json_string_length(nir), msg, sizeof msg) != TP_OK))
        return fail(resp, TP_ERR_INVALID, "invalid_nir",
                    json_is_string(nir) ? msg : "\"nir\" must be a string");
    tp_day birth = 0;
    json_int_t rank = 0;
    if (bd || br) {
        if (!json_is_string(bd) || !json_is_integer(br) ||
            tp_date_parse(json_string_value(bd), json_string_length(bd), &birth) != TP_OK ||
            birth > req->today || (rank = json_integer_value(br)) < 1 || rank > 9)
            return fail(resp, TP_ERR_INVALID, "invalid_birth_data",
                        "\"birth_date\" (YYYY-MM-DD, past) and \"birth_rank\" (1-9) go together");
    }
    if (!nir && !bd)
        return fail(resp, TP_ERR_INVALID, "missing_field",
                    "identify the beneficiary with \"nir\", or \"birth_date\" and \"birth_rank\"");
    const struct tp_keys *k = req->app->keys;
    uint8_t bidx[TP_BIDX_LEN], nir_bidx[TP_BIDX_LEN];
    static __thread struct tp_beneficiary_found f;
    enum tp_err e;
    if (nir)
        tp_bidx_card_nir(k, json_string_value(amc), json_string_value(member),
                         json_string_value(nir), nir_bidx);
    if (bd) {
        tp_bidx_card_birth(k, json_string_value(amc), json_string_value(member), birth, (int)rank,
                           bidx);
        e = tp_store_beneficiary_find_by_birth(req->app->store, bidx, &f);
        if (e == TP_OK && nir && sodium_memcmp(f.bidx_nir, nir_bidx, TP_BIDX_LEN) != 0)
            e = TP_ERR_NOT_FOUND;
        if (e == TP_OK && op->age < 0)
            op->age = tp_date_age(birth, op->date);
    } else {
        e = tp_store_beneficiary_find_by_nir(req->app->store, nir_bidx, &f);
    }
    if (e == TP_ERR_CONFLICT)
        e = TP_ERR_NOT_FOUND; /* ambiguous card data: refuse to pick a person */
    if (e == TP_ERR_NOT_FOUND) {
        /* Recorded like a rights check that found nobody: enumeration shows in the log. */
        resp->has_write = 1;
        resp->wi.has_event = 1;
        snprintf(resp->wi.event.outcome, sizeof resp->wi.event.outcome, "not_found");
        return fail(resp, TP_ERR_NOT_FOUND, "not_found", "no beneficiary matches this card data");
    }
    if (e != TP_OK)
        return fail(resp, e, "storage_error", "the beneficiary could not be looked up");
    op->beneficiary_id = f.id;
    return 0;
}

int tp_claims_parse_common(const struct tp_http_request *req, struct tp_http_response *resp,
                           json_t *o, struct tp_claim_op *op)
{
    int64_t v;
    if (int_field(resp, o, "age", 0, 0, 130, -1, &v, "invalid_age", ""))
        return -1;
    op->age = (int)v;
    json_t *pf = json_object_get(o, "pf_exempt");
    if (pf && !json_is_boolean(pf))
        return fail(resp, TP_ERR_INVALID, "wrong_type", "\"pf_exempt\" must be true or false");
    op->pf_exempt = pf && json_is_true(pf);
    json_t *lines = json_object_get(o, "lines");
    if (!lines)
        return fail(resp, TP_ERR_INVALID, "missing_field", "field \"lines\" is required");
    if (!json_is_array(lines) || json_array_size(lines) < 1 ||
        json_array_size(lines) > TP_CLAIM_LINES_MAX)
        return fail(resp, TP_ERR_INVALID, "invalid_lines", "\"lines\" must be 1 to 64 lines");
    op->n_lines = (int)json_array_size(lines);
    int64_t total = 0, amo = 0;
    int all_amo = 1;
    for (int i = 0; i < op->n_lines; i++) {
        if (parse_line(req, resp, json_array_get(lines, (size_t)i), i, op))
            return -1;
        total += op->lines[i].unit_price_cents * op->lines[i].quantity;
        if (op->lines[i].amo_cents < 0)
            all_amo = 0;
        else
            amo += op->lines[i].amo_cents;
    }
    /* The totals the PS's software computed must be ours: a mismatch is a bug on one side. */
    if (int_field(resp, o, "total_cents", 1, 0, TP_MONEY_MAX, 0, &v, "invalid_amount", ""))
        return -1;
    if (v != total) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "\"total_cents\" is %lld but the lines add up to %lld (quantity x unit price)",
                 (long long)v, (long long)total);
        return fail(resp, TP_ERR_INVALID, "totals_mismatch", msg);
    }
    if (int_field(resp, o, "amo_total_cents", 0, 0, TP_MONEY_MAX, -1, &v, "invalid_amount", ""))
        return -1;
    if (v >= 0 && (!all_amo || v != amo))
        return fail(resp, TP_ERR_INVALID, "totals_mismatch",
                    "\"amo_total_cents\" must be the sum of the lines' \"amo_cents\"");
    json_t *eng = json_object_get(o, "engagement"), *card = json_object_get(o, "card");
    if (eng) {
        if (!json_is_string(eng) || json_string_length(eng) != TP_ENGAGEMENT_LEN)
            return fail(resp, TP_ERR_INVALID, "invalid_engagement",
                        "\"engagement\" must be an engagement number (17 characters)");
        memcpy(op->engagement, json_string_value(eng), TP_ENGAGEMENT_LEN);
    }
    if (!eng && !card)
        return fail(resp, TP_ERR_INVALID, "missing_field",
                    "identify the beneficiary with \"engagement\" or \"card\"");
    /* Kill switches: a claim found by card data is a lookup (cut with its channel, PS or
     * AMC); one quoting an engagement or a PEC is care already guaranteed, and goes on. */
    if (card && req->app->switches) {
        json_t *a = json_is_object(card) ? json_object_get(card, "amc") : NULL;
        const char *off =
            tp_switches_check(req->app->switches, req->who, TP_DISCLOSE_LOOKUP,
                              a && json_is_string(a) ? json_string_value(a) : NULL, req->now_ms);
        if (off)
            return fail(resp, TP_ERR_BUSY, "switched_off", off);
    }
    if (card && find_card(req, resp, card, op))
        return -1;
    return 0;
}

void tp_claims_event(const struct tp_http_request *req, struct tp_access_event *ev,
                     const char *operation)
{
    ev->at_ms = req->now_ms;
    snprintf(ev->request_id, sizeof ev->request_id, "%s", req->request_id);
    if (req->who->token_id)
        snprintf(ev->actor, sizeof ev->actor, "token:%lld", (long long)req->who->token_id);
    else
        snprintf(ev->actor, sizeof ev->actor, "account:%lld", (long long)req->who->account_id);
    snprintf(ev->role, sizeof ev->role, "%s", tp_role_name(req->who->role));
    ev->ps_id = req->who->ps_id;
    snprintf(ev->operation, sizeof ev->operation, "%s", operation);
    snprintf(ev->source, sizeof ev->source, "%s", req->source);
}

/* What detection needs once a claim or PEC is durable (docs/DETECTION.md: a claim settles
 * the check of the same beneficiary by the same key). The op comes first, so that the
 * server's free(after_arg) frees the whole. */
struct claim_ctx {
    struct tp_claim_op op;
    struct tp_detect_state *detect; /* NULL: the caller is not tracked */
    uint64_t key;                   /* the session's account or the API token */
    enum tp_profession profession;
};

struct tp_claim_op *tp_claims_op_new(const struct tp_http_request *req,
                                     struct tp_http_response *resp, enum tp_claim_op_kind kind)
{
    struct claim_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "out of memory");
        return NULL;
    }
    struct tp_claim_op *op = &x->op;
    if (req->app->detect && req->who && req->who->role == TP_ROLE_PS) {
        x->detect = req->app->detect;
        x->key = req->who->token_id ? tp_detect_key_token(req->who->token_id)
                                    : tp_detect_key_account(req->who->account_id);
        x->profession = (enum tp_profession)req->who->profession;
    }
    op->kind = kind;
    op->ps_id = req->who->role == TP_ROLE_PS ? req->who->ps_id : 0;
    op->any_ps = req->who->role == TP_ROLE_OPERATOR;
    op->now_ms = req->now_ms;
    op->today = req->today;
    op->age = -1;
    op->id = req->path_id;
    resp->after_arg = op; /* freed by the server when the request ends */
    return op;
}

static void reasons_json(json_t *o, uint32_t mask)
{
    json_t *a = json_array();
    for (int b = 0; b < TP_REASON_COUNT_; b++)
        if (mask & (1u << b))
            json_array_append_new(a, json_string(tp_reason_name(1u << b)));
    json_object_set_new(o, "reasons", a);
}

json_t *tp_claims_record_json(const struct tp_claim_record *r)
{
    char date[11];
    tp_date_format(r->date, date);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    if (r->is_pec) {
        char until[11];
        tp_date_format(r->valid_until, until);
        json_object_set_new(o, "number", json_string(r->number));
        json_object_set_new(o, "decision", json_string(r->status));
        json_object_set_new(o, "domain", json_string(tp_domain_name((enum tp_domain)r->domain)));
        json_object_set_new(o, "date", json_string(date));
        json_object_set_new(o, "valid_until", json_string(until));
    } else {
        json_object_set_new(o, "invoice", json_string(r->invoice));
        json_object_set_new(o, "status", json_string(r->status));
        json_object_set_new(o, "date", json_string(date));
        if (r->pec[0])
            json_object_set_new(o, "pec", json_string(r->pec));
    }
    json_object_set_new(o, "amc", json_string(r->amc));
    if (r->engagement[0])
        json_object_set_new(o, "engagement", json_string(r->engagement));
    json_object_set_new(o, "totals",
                        json_pack("{s:I, s:I, s:I, s:I}", "price_cents", (json_int_t)r->total_cents,
                                  "amo_cents", (json_int_t)r->amo_cents, "amc_cents",
                                  (json_int_t)r->amc_cents, "patient_cents",
                                  (json_int_t)r->patient_cents));
    reasons_json(o, r->reasons);
    json_t *lines = json_array();
    for (int i = 0; i < r->n_lines; i++) {
        const struct tp_line_result *x = &r->results[i];
        json_t *l =
            json_pack("{s:i, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "line", i + 1, "code",
                      r->lines[i].code, "quantity", r->lines[i].quantity, "price_cents",
                      (json_int_t)x->price_cents, "br_cents", (json_int_t)x->br_cents, "amo_cents",
                      (json_int_t)x->amo_cents, "deduction_cents", (json_int_t)x->deduction_cents,
                      "amc_cents", (json_int_t)x->amc_cents, "patient_cents",
                      (json_int_t)x->patient_cents, "status", tp_line_status_name(x->status));
        reasons_json(l, x->reasons);
        json_array_append_new(lines, l);
    }
    json_object_set_new(o, "lines", lines);
    return o;
}

/* A durable claim or PEC settles its beneficiary's checks for detection. Only one the engine
 * did not refuse outright: a refused one pays the PS nothing, and would let a scraper clear
 * its count by filing junk. */
static void settle(const struct tp_http_response *resp, const struct claim_ctx *x)
{
    const struct tp_claim_op *op = &x->op;
    int pec = op->kind == TP_COP_PEC_SUBMIT;
    if (!x->detect || !resp->wi.has_event || !resp->wi.event.has_beneficiary ||
        (op->kind != TP_COP_CLAIM_SUBMIT && !pec) || strcmp(op->rec.status, "rejected") == 0 ||
        strcmp(op->rec.status, "refused") == 0)
        return;
    struct tp_detect_decision d; /* never a refusal for a claim */
    tp_detect_observe_request(x->detect, x->key, x->profession, op->now_ms, 0,
                              pec ? TP_DETECT_PEC : TP_DETECT_CLAIM, resp->wi.event.beneficiary_ref,
                              TP_BIDX_LEN, TP_DETECT_FOUND, &d);
}

/* On the store's thread, once the operation is durable: the answer from what it computed. */
static void after_write(struct tp_http_response *resp)
{
    struct tp_claim_op *op = resp->after_arg;
    if (op->err != TP_OK) {
        tp_http_respond_error(resp, op->err, op->code, op->msg);
        return;
    }
    settle(resp, (const struct claim_ctx *)resp->after_arg);
    if (op->kind == TP_COP_CLAIM_LIST) {
        json_t *a = json_array();
        for (int i = 0; i < op->n_list; i++) {
            const struct tp_claim_summary *c = &op->list[i];
            char date[11];
            tp_date_format(c->date, date);
            json_array_append_new(
                a, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}", "id", (json_int_t)c->id, "invoice",
                             c->invoice, "status", c->status, "date", date, "total_cents",
                             (json_int_t)c->total_cents, "amc_cents", (json_int_t)c->amc_cents));
        }
        json_t *o = json_pack("{s:o}", "claims", a);
        if (op->next_before)
            json_object_set_new(o, "next", json_integer(op->next_before));
        tp_http_respond_json(resp, 200, o);
        return;
    }
    json_t *o = tp_claims_record_json(&op->rec);
    if (op->kind == TP_COP_CLAIM_SUBMIT)
        json_object_set_new(o, "replayed", json_boolean(op->replayed));
    int created =
        (op->kind == TP_COP_CLAIM_SUBMIT && !op->replayed) || op->kind == TP_COP_PEC_SUBMIT;
    tp_http_respond_json(resp, created ? 201 : 200, o);
}

void tp_claims_submit(const struct tp_http_request *req, struct tp_http_response *resp,
                      struct tp_claim_op *op, const char *operation)
{
    tp_claims_event(req, &resp->wi.event, operation);
    resp->has_write = 1;
    resp->wi.has_event = 1;
    resp->wi.claim_op = op;
    resp->after_write = after_write;
    /* Replaced by after_write once durable; sent as is only if it never runs. */
    tp_http_respond_error(resp, TP_ERR_BUSY, "storage_unavailable",
                          "the claim could not be stored; nothing was recorded, try again");
}

static const char *const submit_keys[] = {
    "invoice", "date",        "engagement",      "card", "age", "pf_exempt", "pec",
    "lines",   "total_cents", "amo_total_cents", NULL};

void tp_api_claim_submit(const struct tp_http_request *req, struct tp_http_response *resp)
{
    char msg[160];
    const char *code = NULL;
    json_t *o = NULL;
    if (tp_json_parse_object(req->body, req->body_len, req->body_max, &o, &code, msg, sizeof msg) !=
        TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INVALID, code, msg);
        return;
    }
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_CLAIM_SUBMIT);
    if (!op)
        goto out;
    tp_claims_event(req, &resp->wi.event, "claim.submit");
    if (tp_json_only_keys(o, submit_keys, msg, sizeof msg) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_INVALID, "unknown_field", msg);
        goto out;
    }
    json_t *inv = json_object_get(o, "invoice");
    if (!inv) {
        tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                              "field \"invoice\" is required");
        goto out;
    }
    const char *s = json_is_string(inv) ? json_string_value(inv) : NULL;
    size_t n = s ? json_string_length(inv) : 0;
    int good = s && n >= 1 && n < TP_INVOICE_MAX;
    for (size_t i = 0; good && i < n; i++)
        good = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
               (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '/' ||
               s[i] == '.';
    if (!good) {
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_invoice",
                              "\"invoice\" must be 1 to 32 of A-Z a-z 0-9 - _ / .");
        goto out;
    }
    memcpy(op->invoice, s, n);
    /* Claims come after the care: up to two years later (CSS L332-1), never before. */
    if (tp_claims_parse_date(req, resp, o, 730, 0, op))
        goto out;
    json_t *pec = json_object_get(o, "pec");
    if (pec) {
        if (!json_is_string(pec) || json_string_length(pec) != TP_PEC_NUMBER_LEN) {
            tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_pec",
                                  "\"pec\" must be a PEC number (17 characters)");
            goto out;
        }
        memcpy(op->pec, json_string_value(pec), TP_PEC_NUMBER_LEN);
    }
    if (tp_claims_parse_common(req, resp, o, op))
        goto out;
    tp_claims_submit(req, resp, op, "claim.submit");
out:
    json_decref(o);
}

void tp_api_claim_get(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_CLAIM_GET);
    if (op)
        tp_claims_submit(req, resp, op, "claim.get");
}

void tp_api_claim_cancel(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_CLAIM_CANCEL);
    if (op)
        tp_claims_submit(req, resp, op, "claim.cancel");
}

void tp_api_claim_list(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_claim_op *op = tp_claims_op_new(req, resp, TP_COP_CLAIM_LIST);
    if (!op)
        return;
    op->before = req->path_id; /* /claims/before/{id}: the cursor; 0 on /claims */
    op->id = 0;
    op->limit = 50;
    tp_claims_submit(req, resp, op, "claim.list");
}
