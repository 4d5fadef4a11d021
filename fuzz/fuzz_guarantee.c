/* Fuzz target for the guarantee language (src/core/guarantee_lang.h), the reference data
 * parser (src/core/refdata.h) and, through them, the benefits engine (src/core/benefits.h).
 *
 * The input is parsed as a guarantee text. Rejected: the error is INVALID or TOO_BIG and the
 * message starts with "line ". Accepted: every field is within its documented bounds, the
 * canonical print parses back to an equal set and prints identically, and a claim touching
 * every act family of the committed reference data is computed on each version's first day,
 * for a child and an adult, with empty and with saturated history: the per-line identity
 * price = AMO + AMC + patient - deduction holds, nothing is negative, the AMC never pays
 * beyond what is left after the AMO (plus the deduction when the contract covers it).
 * The same input is also handed to the reference data parser, which must fail cleanly or
 * produce rows within bounds. A violated invariant aborts like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/benefits.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static struct tp_refdata rd;
static int rd_ready;

/* The committed reference files, found from this file's path. */
static void load_reference(void)
{
    static const char *const files[] = {"params.txt", "acts.txt"};
    static char buf[1 << 20];
    char path[1024], msg[256];
    tp_refdata_init(&rd);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s", __FILE__);
        char *cut = strstr(path, "fuzz/fuzz_guarantee.c");
        CHECK(cut != NULL);
        snprintf(cut, sizeof path - (size_t)(cut - path), "data/reference/%s", files[i]);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        const size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CHECK(tp_refdata_load(&rd, buf, n, msg, sizeof msg) == TP_OK);
    }
    CHECK(tp_refdata_finish(&rd, msg, sizeof msg) == TP_OK);
    rd_ready = 1;
}

static void check_rules(const struct tp_guarantee_set *g)
{
    CHECK(g->n_versions >= 1 && g->n_versions <= TP_GL_VERSIONS_MAX);
    CHECK(memchr(g->name, '\0', sizeof g->name) != NULL);
    for (int i = 0; i < g->n_versions; i++) {
        const struct tp_gl_version *v = &g->versions[i];
        CHECK(i == 0 || v->from > g->versions[i - 1].from);
        CHECK(!(v->responsable && v->covers_pf));
        CHECK(v->n_rules >= 0 && v->n_rules <= TP_GL_RULES_MAX);
        for (int j = 0; j < v->n_rules; j++) {
            const struct tp_gl_rule *r = &v->rules[j];
            CHECK(r->domain < TP_DOM_COUNT);
            CHECK(r->basket == TP_GL_ANY || r->basket < TP_BASKET_COUNT);
            CHECK(r->kind < TP_GL_KIND_COUNT);
            CHECK(r->rate_bp >= 0 && r->rate_bp <= 1000000);
            CHECK(r->amount_cents >= 0 && r->amount_cents <= 100000000);
            CHECK(r->ceiling_cents >= 0 && r->ceiling_cents <= 100000000);
            CHECK(r->period_months >= 0 && r->period_months <= TP_GL_PERIOD_MAX);
            CHECK(r->renewal_months >= 0 && r->renewal_months <= TP_GL_PERIOD_MAX);
            CHECK(memchr(r->key, '\0', sizeof r->key) != NULL);
            CHECK(memchr(r->family, '\0', sizeof r->family) != NULL);
        }
    }
}

static void check_round_trip(const struct tp_guarantee_set *g)
{
    static char out1[TP_GL_TEXT_MAX * 2], out2[TP_GL_TEXT_MAX * 2];
    static struct tp_guarantee_set g2;
    char msg[256];
    size_t n1, n2;
    CHECK(tp_gl_print(g, out1, sizeof out1, &n1) == TP_OK);
    CHECK(n1 == strlen(out1));
    /* The canonical text can be longer than the input (defaults written out): parse it only
     * when it fits the language's own cap. */
    if (n1 > TP_GL_TEXT_MAX)
        return;
    CHECK(tp_gl_parse(out1, n1, &g2, msg, sizeof msg) == TP_OK);
    CHECK(strcmp(g->name, g2.name) == 0 && g->n_versions == g2.n_versions);
    for (int i = 0; i < g->n_versions; i++) {
        const struct tp_gl_version *a = &g->versions[i], *b = &g2.versions[i];
        CHECK(a->from == b->from && a->responsable == b->responsable &&
              a->covers_pf == b->covers_pf && a->n_rules == b->n_rules);
        for (int j = 0; j < a->n_rules; j++) {
            struct tp_gl_rule x = a->rules[j], y = b->rules[j];
            x.line = y.line = 0;
            CHECK(memcmp(&x, &y, sizeof x) == 0);
        }
    }
    CHECK(tp_gl_print(&g2, out2, sizeof out2, &n2) == TP_OK);
    CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
}

static void check_engine(const struct tp_guarantee_set *g)
{
    if (!rd_ready)
        load_reference();
    /* One line per act row, deduplicated by code: every family, kind and basket. */
    static struct tp_claim_line lines[TP_CLAIM_LINES_MAX];
    int n = 0;
    for (int i = 0; i < rd.n_acts && n < TP_CLAIM_LINES_MAX; i++) {
        if (i > 0 && strcmp(rd.acts[i].code, rd.acts[i - 1].code) == 0)
            continue;
        struct tp_claim_line *l = &lines[n++];
        memset(l, 0, sizeof *l);
        memcpy(l->code, rd.acts[i].code, sizeof l->code);
        l->quantity = 1 + n % 3;
        /* Never below the reference BR: the AMO part must fit in the price. */
        l->unit_price_cents =
            (rd.acts[i].br_cents > 0 ? rd.acts[i].br_cents : 0) + 1000 + 7919 * n % 200000;
        l->br_cents = rd.acts[i].br_cents >= 0 ? -1 : l->unit_price_cents / 2;
        l->amo_rate_bp = -1;
        l->amo_cents = -1;
        l->side = (n & 1) ? 'L' : 'R';
        l->vision_changed = (uint8_t)(n & 1);
    }
    static struct tp_counter full[TP_HISTORY_COUNTERS_MAX];
    static struct tp_benefit_result res;
    char msg[256];
    for (int v = 0; v < g->n_versions; v++) {
        const struct tp_gl_version *ver = &g->versions[v];
        const tp_day recent = tp_date_from_ymd(2026, 6, 15);
        for (int variant = 0; variant < 8; variant++) {
            struct tp_history h;
            tp_history_empty(&h);
            if (variant & 2) {
                /* Saturated: every rule's counter used up, equipment just renewed, PF and
                 * franchises at their yearly ceilings. */
                for (int j = 0; j < ver->n_rules; j++) {
                    memcpy(full[j].key, ver->rules[j].key, sizeof full[j].key);
                    full[j].scope = ver->rules[j].scope;
                    full[j].side = 0;
                    full[j].period_start = ver->from;
                    full[j].used_cents = 100000000;
                }
                h.counters = full;
                h.n_counters = ver->n_rules;
                h.last_frame = h.last_lenses = h.last_aid[0] = h.last_aid[1] = ver->from;
                h.pf_year_cents = h.franchise_year_cents = 5000;
            }
            const tp_day date = (variant & 4) && recent > ver->from ? recent : ver->from;
            if ((variant & 4) && date == ver->from)
                continue;
            struct tp_claim c = {
                .date = date, .age = (variant & 1) ? 40 : 10, .n_lines = n, .lines = lines};
            enum tp_err rc = tp_benefits_compute(g, &rd, &h, &c, &res, msg, sizeof msg);
            /* Dates before a regulated amount's first row are legitimate errors. */
            if (rc != TP_OK) {
                CHECK(rc == TP_ERR_INVALID);
                continue;
            }
            CHECK(res.version == (int)(tp_gl_version_at(g, date) - g->versions));
            CHECK(res.n_lines == n);
            int64_t total = 0;
            for (int i = 0; i < n; i++) {
                const struct tp_line_result *r = &res.lines[i];
                CHECK(r->amo_cents >= 0 && r->amc_cents >= 0 && r->deduction_cents >= 0);
                CHECK(r->patient_cents >= 0);
                CHECK(r->deduction_cents <= r->amo_cents);
                CHECK(r->price_cents ==
                      r->amo_cents + r->amc_cents + r->patient_cents - r->deduction_cents);
                CHECK(r->amc_cents <=
                      r->price_cents - r->amo_cents + (ver->covers_pf ? r->deduction_cents : 0));
                if (ver->responsable)
                    CHECK(!(r->reasons & TP_REASON_PF_PAID));
                CHECK((r->status == TP_LINE_REFUSED) <= (r->amc_cents == 0));
                total += r->amc_cents;
            }
            CHECK(total == res.amc_cents);
            CHECK(res.n_counters >= 0 && res.n_counters <= n);
            for (int i = 0; i < res.n_counters; i++)
                CHECK(res.counters[i].delta_cents >= 0);
            CHECK(res.pf_year_cents >= h.pf_year_cents);
        }
    }
}

static void check_refdata(const uint8_t *data, size_t size)
{
    static struct tp_refdata r;
    char msg[256];
    tp_refdata_init(&r);
    enum tp_err rc = tp_refdata_load(&r, (const char *)data, size, msg, sizeof msg);
    if (rc != TP_OK) {
        CHECK(rc == TP_ERR_INVALID || rc == TP_ERR_TOO_BIG);
        CHECK(strncmp(msg, "line ", 5) == 0 || strncmp(msg, "reference file", 14) == 0);
        CHECK(r.n_acts == 0 && r.n_params == 0);
        return;
    }
    for (int i = 0; i < r.n_acts; i++) {
        CHECK(r.acts[i].kind < TP_ACT_KIND_COUNT && r.acts[i].amo_bp <= 10000);
        CHECK(r.acts[i].valid_to == TP_DAY_NONE || r.acts[i].valid_to >= r.acts[i].valid_from);
        CHECK(memchr(r.acts[i].source, '\0', sizeof r.acts[i].source) != NULL);
    }
    if (tp_refdata_finish(&r, msg, sizeof msg) == TP_OK)
        for (int i = 0; i < r.n_acts; i++)
            CHECK(tp_refdata_act(&r, r.acts[i].code, strlen(r.acts[i].code),
                                 r.acts[i].valid_from) == &r.acts[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tp_guarantee_set g;
    char msg[256] = "";
    enum tp_err rc = tp_gl_parse((const char *)data, size, &g, msg, sizeof msg);
    if (rc != TP_OK) {
        CHECK(rc == TP_ERR_INVALID || rc == TP_ERR_TOO_BIG);
        CHECK(strncmp(msg, "line ", 5) == 0 || strncmp(msg, "guarantee text", 14) == 0);
    } else {
        check_rules(&g);
        check_round_trip(&g);
        check_engine(&g);
    }
    check_refdata(data, size);
    return 0;
}
