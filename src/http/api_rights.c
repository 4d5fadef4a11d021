/* POST /api/v1/rights/check — the rights check of PRODUCT §3.1.
 *
 * No enumeration oracle: whatever is wrong with well-formed card data (unknown AMC, unknown
 * member, NIR or birth data of someone else, a member of another AMC) the answer is one and
 * the same 404 "not_found". Syntax errors are reported precisely, since they reveal nothing
 * about anybody. The NIR is never echoed, and identity fields are never decrypted here: the
 * response carries coverage, not civil status. */
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/rights.h"
#include "core/validate.h"
#include "http/handlers.h"
#include "http/defence.h"
#include "http/json.h"
#include "http/switches.h"
#include "http/metrics.h"

static const char *const allowed_keys[] = {"amc",        "member", "nir",    "birth_date",
                                           "birth_rank", "date",   "domain", NULL};

struct card {
    char amc[10];
    char member[TP_MEMBER_MAX];
    int has_nir;
    char nir[16];
    int has_birth;
    tp_day birth_date;
    int birth_rank;
    tp_day date;
    enum tp_domain domain;
};

/* Reads a string field; TP_ERR_NOT_FOUND when absent, TP_ERR_INVALID when not a string. */
static enum tp_err get_str(json_t *o, const char *key, const char **s, size_t *len)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return TP_ERR_NOT_FOUND;
    if (!json_is_string(v))
        return TP_ERR_INVALID;
    *s = json_string_value(v);
    *len = json_string_length(v);
    return TP_OK;
}

static int reject(struct tp_http_response *resp, enum tp_err e, const char *code, const char *m)
{
    tp_http_respond_error(resp, e, code, m);
    tp_metrics_rights(TP_RM_REJECTED);
    return -1;
}

/* Validates the request body into *c. Returns 0, or -1 with resp filled. */
static int parse_card(const struct tp_http_request *req, struct tp_http_response *resp,
                      struct card *c)
{
    char msg[160];
    const char *code = NULL;
    json_t *o = NULL;
    const char *s;
    size_t n;
    enum tp_err e;
    memset(c, 0, sizeof *c);
    e = tp_json_parse_object(req->body, req->body_len, req->body_max, &o, &code, msg, sizeof msg);
    if (e != TP_OK)
        return reject(resp, e, code, msg);
    int rc = -1;
    if (tp_json_only_keys(o, allowed_keys, msg, sizeof msg) != TP_OK) {
        reject(resp, TP_ERR_INVALID, "unknown_field", msg);
        goto out;
    }
    /* amc */
    e = get_str(o, "amc", &s, &n);
    if (e != TP_OK) {
        reject(resp, TP_ERR_INVALID, e == TP_ERR_NOT_FOUND ? "missing_field" : "wrong_type",
               e == TP_ERR_NOT_FOUND ? "field \"amc\" is required"
                                     : "field \"amc\" must be a string");
        goto out;
    }
    if (tp_amc_check(s, n, msg, sizeof msg) != TP_OK) {
        reject(resp, TP_ERR_INVALID, "invalid_amc", msg);
        goto out;
    }
    memcpy(c->amc, s, n);
    /* member */
    e = get_str(o, "member", &s, &n);
    if (e != TP_OK) {
        reject(resp, TP_ERR_INVALID, e == TP_ERR_NOT_FOUND ? "missing_field" : "wrong_type",
               e == TP_ERR_NOT_FOUND ? "field \"member\" is required"
                                     : "field \"member\" must be a string");
        goto out;
    }
    if (tp_member_check(s, n, msg, sizeof msg) != TP_OK) {
        reject(resp, TP_ERR_INVALID, "invalid_member", msg);
        goto out;
    }
    memcpy(c->member, s, n);
    /* nir */
    e = get_str(o, "nir", &s, &n);
    if (e == TP_ERR_INVALID) {
        reject(resp, TP_ERR_INVALID, "wrong_type", "field \"nir\" must be a string");
        goto out;
    }
    if (e == TP_OK) {
        if (tp_nir_check(s, n, msg, sizeof msg) != TP_OK) {
            reject(resp, TP_ERR_INVALID, "invalid_nir", msg);
            goto out;
        }
        memcpy(c->nir, s, n);
        c->has_nir = 1;
    }
    /* birth_date + birth_rank */
    json_t *bd = json_object_get(o, "birth_date"), *br = json_object_get(o, "birth_rank");
    if (bd || br) {
        if (!bd || !br) {
            reject(resp, TP_ERR_INVALID, "missing_field",
                   "\"birth_date\" and \"birth_rank\" go together");
            goto out;
        }
        if (!json_is_string(bd)) {
            reject(resp, TP_ERR_INVALID, "wrong_type", "field \"birth_date\" must be a string");
            goto out;
        }
        if (!json_is_integer(br)) {
            reject(resp, TP_ERR_INVALID, "wrong_type", "field \"birth_rank\" must be an integer");
            goto out;
        }
        if (tp_date_parse(json_string_value(bd), json_string_length(bd), &c->birth_date) != TP_OK ||
            c->birth_date > req->today) {
            reject(resp, TP_ERR_INVALID, "invalid_birth_date",
                   "\"birth_date\" must be a past date written YYYY-MM-DD");
            goto out;
        }
        json_int_t r = json_integer_value(br);
        if (r < 1 || r > 9) {
            reject(resp, TP_ERR_INVALID, "invalid_birth_rank", "\"birth_rank\" must be 1 to 9");
            goto out;
        }
        c->birth_rank = (int)r;
        c->has_birth = 1;
    }
    if (!c->has_nir && !c->has_birth) {
        reject(resp, TP_ERR_INVALID, "missing_field",
               "identify the beneficiary with \"nir\", or \"birth_date\" and \"birth_rank\"");
        goto out;
    }
    /* date */
    e = get_str(o, "date", &s, &n);
    if (e != TP_OK) {
        reject(resp, TP_ERR_INVALID, e == TP_ERR_NOT_FOUND ? "missing_field" : "wrong_type",
               e == TP_ERR_NOT_FOUND ? "field \"date\" is required"
                                     : "field \"date\" must be a string");
        goto out;
    }
    if (tp_date_parse(s, n, &c->date) != TP_OK) {
        reject(resp, TP_ERR_INVALID, "invalid_date", "\"date\" must be a date written YYYY-MM-DD");
        goto out;
    }
    if (!tp_rights_date_acceptable(c->date, req->today)) {
        snprintf(msg, sizeof msg, "\"date\" must be within %d days before and %d days after today",
                 TP_RIGHTS_PAST_DAYS, TP_RIGHTS_FUTURE_DAYS);
        reject(resp, TP_ERR_INVALID, "date_out_of_range", msg);
        goto out;
    }
    /* domain */
    e = get_str(o, "domain", &s, &n);
    if (e != TP_OK) {
        reject(resp, TP_ERR_INVALID, e == TP_ERR_NOT_FOUND ? "missing_field" : "wrong_type",
               e == TP_ERR_NOT_FOUND ? "field \"domain\" is required"
                                     : "field \"domain\" must be a string");
        goto out;
    }
    int d = tp_domain_parse(s, n);
    if (d < 0) {
        reject(resp, TP_ERR_INVALID, "invalid_domain",
               "\"domain\" must be one of PHARMACIE, OPTIQUE, AUDIO, DENTAIRE, HOSPITALISATION, "
               "CONSULTATION, LABORATOIRE, RADIOLOGIE, AUXILIAIRE, TRANSPORT");
        goto out;
    }
    c->domain = (enum tp_domain)d;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static void fill_event(const struct tp_http_request *req, struct tp_access_event *ev,
                       const char *outcome, const char *fields)
{
    ev->at_ms = req->now_ms;
    snprintf(ev->request_id, sizeof ev->request_id, "%s", req->request_id);
    if (req->who->token_id)
        snprintf(ev->actor, sizeof ev->actor, "token:%lld", (long long)req->who->token_id);
    else
        snprintf(ev->actor, sizeof ev->actor, "account:%lld", (long long)req->who->account_id);
    snprintf(ev->role, sizeof ev->role, "%s", tp_role_name(req->who->role));
    ev->ps_id = req->who->ps_id;
    snprintf(ev->operation, sizeof ev->operation, "rights.check");
    snprintf(ev->outcome, sizeof ev->outcome, "%s", outcome);
    snprintf(ev->fields, sizeof ev->fields, "%s", fields);
    snprintf(ev->source, sizeof ev->source, "%s", req->source);
}

static const char *kind_name(enum tp_guarantee_kind k)
{
    return k == TP_GUAR_FORFAIT ? "forfait" : k == TP_GUAR_FRAIS_REELS ? "frais_reels" : "pct_br";
}

static json_t *coverage_json(const struct tp_contract *c, enum tp_domain domain)
{
    const struct tp_guarantee *g[TP_GUARANTEES_MAX];
    int n = tp_rights_coverage(c, domain, g, TP_GUARANTEES_MAX);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s}", "act", g[i]->act, "kind", kind_name(g[i]->kind));
        if (g[i]->kind == TP_GUAR_PCT_BR) {
            json_object_set_new(o, "rate_bp", json_integer(g[i]->rate_bp));
            json_object_set_new(o, "includes_amo", json_boolean(g[i]->includes_amo));
        }
        if (g[i]->amount_cents)
            json_object_set_new(o, "amount_cents", json_integer(g[i]->amount_cents));
        if (g[i]->period_months)
            json_object_set_new(o, "period_months", json_integer(g[i]->period_months));
        json_object_set_new(o, "per", json_string(g[i]->per_family ? "family" : "beneficiary"));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Engagement numbers: 50 bits of a process-wide sequence that starts at the clock (ms since
 * 2024-01-01, times 1024) and only grows, then 30 random bits. The sequence makes numbers
 * unique and time-ordered, so the unique index receives appends at its right edge instead of
 * one random leaf page per insert; the random part keeps them unguessable. */
static void engagement_number(int64_t now_ms, char out[TP_ENGAGEMENT_LEN + 1])
{
    static _Atomic uint64_t seq;
    const int64_t epoch_ms = 1704067200000LL; /* 2024-01-01T00:00:00Z */
    uint64_t floor = (uint64_t)(now_ms - epoch_ms) << 10;
    uint64_t cur = atomic_load(&seq), next;
    do {
        next = cur + 1 > floor ? cur + 1 : floor;
    } while (!atomic_compare_exchange_weak(&seq, &cur, next));
    uint32_t rnd;
    tp_random(&rnd, sizeof rnd);
    /* 80 bits, big-endian: seq (50) | rnd (30). */
    uint8_t b[10];
    uint64_t hi = (next & ((1ULL << 50) - 1)) << 14 | (rnd >> 16 & 0x3fffu); /* 64 bits */
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(hi >> (56 - 8 * i));
    b[8] = (uint8_t)(rnd >> 8);
    b[9] = (uint8_t)rnd;
    tp_engagement_format(b, out);
}

void tp_api_rights_check(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct card c;
    struct tp_beneficiary_found f;
    uint8_t bidx[TP_BIDX_LEN], nir_bidx[TP_BIDX_LEN];
    const struct tp_keys *k = req->app->keys;

    if (parse_card(req, resp, &c) != 0)
        return;
    /* The AMC's kill switch: its members cannot be looked up while it is off (the AMC's list
     * is public, so saying so reveals nothing about anybody). */
    const char *off = req->app->switches ? tp_switches_check(req->app->switches, req->who,
                                                             TP_DISCLOSE_RIGHTS, c.amc, req->now_ms)
                                         : NULL;
    if (off) {
        reject(resp, TP_ERR_BUSY, "switched_off", off);
        return;
    }
    /* Data minimisation before any lookup: a profession only sees its own domains. */
    if (!(tp_profession_domains((enum tp_profession)req->who->profession) & (1u << c.domain))) {
        reject(resp, TP_ERR_FORBIDDEN, "domain_not_allowed",
               "this care domain is outside the profession of the checking PS");
        return;
    }

    enum tp_err e;
    if (c.has_nir)
        tp_bidx_card_nir(k, c.amc, c.member, c.nir, nir_bidx);
    if (c.has_birth) {
        tp_bidx_card_birth(k, c.amc, c.member, c.birth_date, c.birth_rank, bidx);
        e = tp_store_beneficiary_find_by_birth(req->app->store, bidx, &f);
        /* Both given: the NIR on the card must be the one on record (own or a parent's). */
        if (e == TP_OK && c.has_nir && sodium_memcmp(f.bidx_nir, nir_bidx, TP_BIDX_LEN) != 0)
            e = TP_ERR_NOT_FOUND;
    } else {
        e = tp_store_beneficiary_find_by_nir(req->app->store, nir_bidx, &f);
    }
    if (e == TP_ERR_CONFLICT)
        e = TP_ERR_NOT_FOUND; /* ambiguous card data: refuse to pick a person */
    if (e != TP_OK && e != TP_ERR_NOT_FOUND) {
        tp_http_respond_error(resp, e, "storage_error", "the rights check could not be made");
        return;
    }

    resp->has_write = 1;
    resp->wi.has_event = 1;
    if (e == TP_ERR_NOT_FOUND) {
        fill_event(req, &resp->wi.event, "not_found", "");
        tp_http_respond_error(resp, TP_ERR_NOT_FOUND, "not_found",
                              "no beneficiary matches this card data");
        tp_metrics_rights(TP_RM_NOT_FOUND);
        tp_defence_observe(req, TP_DETECT_RIGHTS_CHECK, NULL, TP_DETECT_NOT_FOUND, resp);
        return;
    }
    resp->wi.event.has_beneficiary = 1;
    memcpy(resp->wi.event.beneficiary_ref, f.ref, TP_BIDX_LEN);
    snprintf(resp->wi.event.amc, sizeof resp->wi.event.amc, "%s", f.b.amc);

    struct tp_rights_decision d =
        tp_rights_decide(&f.b, c.domain, (enum tp_profession)req->who->profession, c.date);
    char date[11], until[11];
    tp_date_format(c.date, date);
    switch (d.outcome) {
    case TP_RIGHTS_DOMAIN_FORBIDDEN: /* checked above; kept for completeness */
    case TP_RIGHTS_CLOSED:
        fill_event(req, &resp->wi.event, "rights_closed", "rights_status");
        tp_http_respond_error(resp, TP_ERR_CLOSED, "rights_closed",
                              "the beneficiary's rights are not open on that date");
        tp_metrics_rights(TP_RM_CLOSED);
        tp_defence_observe(req, TP_DETECT_RIGHTS_CHECK, f.ref, TP_DETECT_REJECTED, resp);
        return;
    case TP_RIGHTS_DOMAIN_NOT_OPEN:
        fill_event(req, &resp->wi.event, "not_covered", "rights_status");
        tp_http_respond_json(
            resp, 200,
            json_pack("{s:b, s:s, s:s, s:s}", "covered", 0, "date", date, "domain",
                      tp_domain_name(c.domain), "reason",
                      "tiers payant is not open for this domain in the beneficiary's contract"));
        tp_metrics_rights(TP_RM_NOT_COVERED);
        tp_defence_observe(req, TP_DETECT_RIGHTS_CHECK, f.ref, TP_DETECT_FOUND, resp);
        return;
    case TP_RIGHTS_OPEN:
        break;
    }

    static __thread struct tp_contract contract; /* large: keep it off the poll thread stack */
    e = tp_store_contract_get(req->app->store, f.contract_id, &contract);
    if (e != TP_OK) {
        resp->has_write = 0;
        tp_http_respond_error(resp, e == TP_ERR_NOT_FOUND ? TP_ERR_INTERNAL : e, "storage_error",
                              "the beneficiary's contract could not be read");
        return;
    }
    struct tp_engagement *eng = &resp->wi.engagement;
    engagement_number(req->now_ms, eng->number);
    eng->beneficiary_id = f.id;
    eng->ps_id = req->who->ps_id;
    eng->domain = c.domain;
    eng->date_of_care = c.date;
    eng->valid_until = d.valid_until;
    eng->created_ms = req->now_ms;
    resp->wi.has_engagement = 1;
    fill_event(req, &resp->wi.event, "covered", "rights_status,coverage,engagement");
    tp_date_format(d.valid_until, until);

    json_t *body =
        json_pack("{s:b, s:s, s:s, s:{s:s, s:i}, s:{s:s, s:s, s:s, s:b}, s:o, s:{s:s, s:s}}",
                  "covered", 1, "date", date, "domain", tp_domain_name(c.domain), "beneficiary",
                  "quality", tp_quality_name(f.b.quality), "rank", f.b.rank, "contract", "amc",
                  contract.amc, "code", contract.code, "name", contract.name, "responsable",
                  contract.responsable, "coverage", coverage_json(&contract, c.domain),
                  "engagement", "number", eng->number, "valid_until", until);
    tp_http_respond_json(resp, 200, body);
    tp_metrics_rights(TP_RM_COVERED);
    tp_defence_observe(req, TP_DETECT_RIGHTS_CHECK, f.ref, TP_DETECT_FOUND, resp);
}
