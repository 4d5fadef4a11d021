/* The benefits engine (benefits.h). Reading of the rules: docs/BENEFITS.md. */
#include "core/benefits.h"

#include <assert.h>
#include <string.h>

_Static_assert(TP_P_COUNT <= 32, "the parameter cache uses a 32-bit mask");

/* The one rounding rule: half-up at the cent, applied once per line. */
int64_t tp_round_bp(int64_t amount_cents, int32_t bp)
{
    assert(amount_cents >= 0 && amount_cents <= 1000000000000LL && bp >= 0 && bp <= 1000000);
    return (amount_cents * bp + 5000) / 10000;
}

static const char *const reason_names[TP_REASON_COUNT_] = {
    "not_covered",         "unknown_act",      "no_version_in_force",
    "ceiling_reached",     "renewal_too_soon", "pf_not_paid_responsable",
    "basket_100ps",        "price_above_cap",  "responsable_ceiling",
    "responsable_minimum", "reference_amount", "pf_paid",
};

const char *tp_reason_name(uint32_t bit)
{
    for (int i = 0; i < TP_REASON_COUNT_; i++)
        if (bit == 1u << i)
            return reason_names[i];
    return "?";
}

size_t tp_reasons_format(uint32_t mask, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    for (int i = 0; i < TP_REASON_COUNT_; i++) {
        if (!(mask & (1u << i)))
            continue;
        const size_t n = strlen(reason_names[i]) + (len > 0);
        if (len + n >= cap)
            break;
        if (len > 0)
            buf[len++] = ',';
        memcpy(buf + len, reason_names[i], strlen(reason_names[i]));
        len += strlen(reason_names[i]);
        buf[len] = '\0';
    }
    return len;
}

void tp_history_empty(struct tp_history *h)
{
    memset(h, 0, sizeof *h);
    h->last_frame = h->last_lenses = TP_DAY_NONE;
    h->last_aid[0] = h->last_aid[1] = TP_DAY_NONE;
}

/* ---- per-claim state --------------------------------------------------------------------- */

struct state {
    const struct tp_refdata *rd;
    const struct tp_history *h;
    const struct tp_claim *claim;
    const struct tp_gl_version *v;
    struct tp_benefit_result *out;
    char *msg;
    size_t msglen;
    uint32_t have; /* parameter cache */
    int64_t param[TP_P_COUNT];
    /* PF and franchises charged by this claim (one PS, one day). */
    int64_t pf_day, para_day, transport_day;
    /* Responsable optical equipment: ceiling (0 = none) and AMO + AMC already given to it. */
    int64_t eq_max, eq_used;
};

static enum tp_err param(struct state *s, enum tp_param p, int64_t *v)
{
    *v = 0; /* defined on every path, errors included */
    if (!(s->have & (1u << p))) {
        const struct tp_param_ref *r = tp_refdata_param(s->rd, p, s->claim->date);
        if (!r) {
            char day[11];
            tp_date_format(s->claim->date, day);
            return tp_fail(s->msg, s->msglen, TP_ERR_INVALID,
                           "reference data: no value of %s in force on %s", tp_param_name(p), day);
        }
        s->param[p] = r->value;
        s->have |= 1u << p;
    }
    *v = s->param[p];
    return TP_OK;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}
static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* PF or franchise the AMO deducts for this line (CSS L160-13 II-III), within the daily caps
 * (this claim is one PS on one day) and the yearly caps (history + this claim), never more
 * than the AMO pays on the line. */
static enum tp_err deduction(struct state *s, const struct tp_act_ref *a, int32_t qty, int64_t amo,
                             int64_t *out)
{
    *out = 0;
    if (a->charge == TP_CHARGE_NONE || s->claim->pf_exempt)
        return TP_OK;
    int64_t min_age, unit, day_max = -1, year_max, *day_used = NULL;
    enum tp_err rc = param(s, TP_P_CHARGES_MIN_AGE, &min_age);
    if (rc != TP_OK || s->claim->age < min_age)
        return rc;
    enum tp_param pu, pd = TP_P_COUNT, py;
    switch ((enum tp_charge)a->charge) {
    case TP_CHARGE_PF:
        pu = TP_P_PF, pd = TP_P_PF_DAY_MAX, py = TP_P_PF_YEAR_MAX, day_used = &s->pf_day;
        break;
    case TP_CHARGE_FR_MED:
        pu = TP_P_FR_MED, py = TP_P_FR_YEAR_MAX;
        break;
    case TP_CHARGE_FR_PARA:
        pu = TP_P_FR_PARA, pd = TP_P_FR_PARA_DAY_MAX, py = TP_P_FR_YEAR_MAX;
        day_used = &s->para_day;
        break;
    case TP_CHARGE_FR_TRANSPORT:
    default:
        pu = TP_P_FR_TRANSPORT, pd = TP_P_FR_TRANSPORT_DAY_MAX, py = TP_P_FR_YEAR_MAX;
        day_used = &s->transport_day;
        break;
    }
    if ((rc = param(s, pu, &unit)) != TP_OK || (rc = param(s, py, &year_max)) != TP_OK)
        return rc;
    if (pd != TP_P_COUNT && (rc = param(s, pd, &day_max)) != TP_OK)
        return rc;
    const int is_pf = a->charge == TP_CHARGE_PF;
    int64_t *year_used = is_pf ? &s->out->pf_year_cents : &s->out->franchise_year_cents;
    int64_t d = unit * qty;
    d = min64(d, max64(0, year_max - *year_used));
    if (day_used)
        d = min64(d, max64(0, day_max - *day_used));
    d = min64(d, amo);
    if (day_used)
        *day_used += d;
    *year_used += d;
    *out = d;
    return TP_OK;
}

/* The most specific rule of v for act a: exact family beats '*', then exact basket beats
 * '*'. -1 when none. */
static int match_rule(const struct tp_gl_version *v, const struct tp_act_ref *a)
{
    int best = -1, best_score = -1;
    for (int i = 0; i < v->n_rules; i++) {
        const struct tp_gl_rule *r = &v->rules[i];
        if (r->domain != a->domain)
            continue;
        const int fam = r->family[0] != '*';
        if (fam && strcmp(r->family, a->family) != 0)
            continue;
        const int bask = r->basket != TP_GL_ANY;
        if (bask && r->basket != a->basket)
            continue;
        const int score = fam * 2 + bask;
        if (score > best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

static int in_window(const struct tp_gl_rule *r, tp_day start, tp_day day)
{
    if (r->civil_year) {
        int y, m, d;
        tp_date_to_ymd(day, &y, &m, &d);
        return start == tp_date_from_ymd(y, 1, 1);
    }
    return start <= day && day < tp_date_add_months(start, r->period_months);
}

/* The counter of rule r (side) whose period contains the date of care: from this claim's
 * working set, else from the history, else a new one opened on the date (civil year: on
 * 1 January). Never NULL: at most one counter per line. */
static struct tp_counter_use *counter_for(struct state *s, const struct tp_gl_rule *r, char side)
{
    struct tp_benefit_result *out = s->out;
    const tp_day day = s->claim->date;
    for (int i = 0; i < out->n_counters; i++) {
        struct tp_counter_use *u = &out->counters[i];
        if (u->counter.scope == r->scope && u->counter.side == side &&
            strcmp(u->counter.key, r->key) == 0 && in_window(r, u->counter.period_start, day))
            return u;
    }
    const struct tp_counter *found = NULL;
    for (int i = 0; i < s->h->n_counters; i++) {
        const struct tp_counter *c = &s->h->counters[i];
        if (c->scope == r->scope && c->side == side && strcmp(c->key, r->key) == 0 &&
            in_window(r, c->period_start, day) && (!found || c->period_start > found->period_start))
            found = c;
    }
    assert(out->n_counters < TP_CLAIM_LINES_MAX);
    struct tp_counter_use *u = &out->counters[out->n_counters++];
    memcpy(u->counter.key, r->key, sizeof u->counter.key);
    u->counter.scope = r->scope;
    u->counter.side = side;
    if (found) {
        u->counter.period_start = found->period_start;
        u->counter.used_cents = found->used_cents;
    } else {
        int y, m, d;
        tp_date_to_ymd(day, &y, &m, &d);
        u->counter.period_start = r->civil_year ? tp_date_from_ymd(y, 1, 1) : day;
        u->counter.used_cents = 0;
    }
    u->delta_cents = 0;
    return u;
}

/* CSS R871-2 II 3°: the equipment maximum for the grades of its two lenses (a missing lens
 * counts as simple: docs/BENEFITS.md). */
static enum tp_param equipment_param(int g1, int g2)
{
    if (g1 > g2) {
        const int t = g1;
        g1 = g2;
        g2 = t;
    }
    if (g1 < TP_GRADE_SIMPLE)
        g1 = TP_GRADE_SIMPLE;
    if (g2 < TP_GRADE_SIMPLE)
        g2 = TP_GRADE_SIMPLE;
    if (g2 == TP_GRADE_SIMPLE)
        return TP_P_OPT_MAX_A;
    if (g2 == TP_GRADE_COMPLEX)
        return g1 == TP_GRADE_SIMPLE ? TP_P_OPT_MAX_B : TP_P_OPT_MAX_C;
    return g1 == TP_GRADE_SIMPLE    ? TP_P_OPT_MAX_D
           : g1 == TP_GRADE_COMPLEX ? TP_P_OPT_MAX_E
                                    : TP_P_OPT_MAX_F;
}

static int is_equipment(const struct tp_act_ref *a)
{
    return a->kind == TP_ACT_FRAME || a->kind == TP_ACT_LENS || a->kind == TP_ACT_HEARING_AID;
}

static int side_index(char side)
{
    return side == 'R';
}

/* Months before this equipment may be paid again (0: no limit). */
static enum tp_err renewal_months(struct state *s, const struct tp_act_ref *a,
                                  const struct tp_claim_line *l, const struct tp_gl_rule *rule,
                                  int64_t *months)
{
    *months = 0;
    enum tp_err rc = TP_OK;
    if (s->v->responsable) {
        if (a->kind == TP_ACT_HEARING_AID) {
            rc = param(s, TP_P_AUDIO_RENEW, months);
        } else {
            int64_t child_age, vision;
            if ((rc = param(s, TP_P_OPT_CHILD_AGE, &child_age)) != TP_OK)
                return rc;
            rc = param(s, s->claim->age < child_age ? TP_P_OPT_RENEW_CHILD : TP_P_OPT_RENEW_ADULT,
                       months);
            /* Early renewal on a change of vision: the lenses only (LPP titre II ch. 2). */
            if (rc == TP_OK && a->kind == TP_ACT_LENS && l->vision_changed) {
                if ((rc = param(s, TP_P_OPT_RENEW_VISION, &vision)) != TP_OK)
                    return rc;
                *months = min64(*months, vision);
            }
        }
    }
    if (rule && rule->renewal_months > *months)
        *months = rule->renewal_months;
    return rc;
}

static tp_day last_equipment(const struct tp_history *h, const struct tp_act_ref *a, char side)
{
    switch ((enum tp_act_kind)a->kind) {
    case TP_ACT_FRAME:
        return h->last_frame;
    case TP_ACT_LENS:
        return h->last_lenses;
    case TP_ACT_HEARING_AID:
        return h->last_aid[side_index(side)];
    default:
        return TP_DAY_NONE;
    }
}

static enum tp_err line_error(struct state *s, int i, const char *what)
{
    return tp_fail(s->msg, s->msglen, TP_ERR_INVALID, "line %d: %s", i + 1, what);
}

#define REFUSING                                                                                   \
    (TP_REASON_NOT_COVERED | TP_REASON_UNKNOWN_ACT | TP_REASON_NO_VERSION |                        \
     TP_REASON_CEILING_REACHED | TP_REASON_RENEWAL_TOO_SOON)
#define LIMITING                                                                                   \
    (TP_REASON_CEILING_REACHED | TP_REASON_RESPONSABLE_CEILING | TP_REASON_PRICE_ABOVE_CAP)

static enum tp_err compute_line(struct state *s, int i, const struct tp_act_ref *a)
{
    const struct tp_claim_line *l = &s->claim->lines[i];
    struct tp_line_result *r = &s->out->lines[i];
    const struct tp_gl_version *v = s->v;
    enum tp_err rc;
    memset(r, 0, sizeof *r);
    r->rule = -1;
    if (l->quantity < 1 || l->quantity > TP_LINE_QTY_MAX)
        return line_error(s, i, "quantity must be 1 to 999");
    if (l->unit_price_cents < 0 || l->unit_price_cents > TP_LINE_PRICE_MAX)
        return line_error(s, i, "unit price out of range");
    if (l->br_cents < -1 || l->br_cents > TP_LINE_PRICE_MAX)
        return line_error(s, i, "BR out of range");
    if (l->amo_rate_bp < -1 || l->amo_rate_bp > 10000)
        return line_error(s, i, "AMO rate must be 0 to 10000 basis points");
    if (l->amo_cents < -1 || l->amo_cents > (int64_t)TP_LINE_PRICE_MAX * TP_LINE_QTY_MAX)
        return line_error(s, i, "AMO amount out of range");
    const int64_t qty = l->quantity;
    int64_t price = l->unit_price_cents * qty, amo = 0, br = 0;

    if (!a) {
        amo = l->amo_cents > 0 ? l->amo_cents : 0;
        if (amo > price)
            return line_error(s, i, "AMO part above the price");
        r->reasons = TP_REASON_UNKNOWN_ACT;
        goto finish;
    }
    if (a->kind == TP_ACT_REF_FORFAIT) {
        int64_t unit;
        if ((rc = param(s, (enum tp_param)a->param, &unit)) != TP_OK)
            return rc;
        if (l->unit_price_cents != 0 && l->unit_price_cents != unit)
            r->reasons |= TP_REASON_REFERENCE_AMOUNT;
        if (l->amo_cents > 0)
            return line_error(s, i, "the AMO pays no part of this forfait");
        price = unit * qty;
    } else {
        const int64_t br_unit = l->br_cents >= 0 ? l->br_cents : a->br_cents;
        if (br_unit < 0)
            return line_error(s, i, "this act needs its BR on the line");
        if (br_unit > TP_LINE_PRICE_MAX) /* a reference BR beyond what a line may carry */
            return line_error(s, i, "BR out of range");
        br = br_unit * qty;
        const int32_t rate = l->amo_rate_bp >= 0 ? l->amo_rate_bp : a->amo_bp;
        amo = l->amo_cents >= 0 ? l->amo_cents : tp_round_bp(br, rate);
        if (amo > br)
            return line_error(s, i, "AMO part above the BR");
        if (amo > price)
            return line_error(s, i, "AMO part above the price");
    }
    if (a->kind == TP_ACT_HEARING_AID && l->side != 'L' && l->side != 'R')
        return line_error(s, i, "a hearing aid needs side L or R");

    int64_t ded;
    if ((rc = deduction(s, a, l->quantity, amo, &ded)) != TP_OK)
        return rc;
    r->deduction_cents = ded;
    if (!v) {
        r->reasons |= TP_REASON_NO_VERSION;
        goto finish;
    }
    const int ri = match_rule(v, a);
    const struct tp_gl_rule *rule = ri >= 0 ? &v->rules[ri] : NULL;
    r->rule = (int16_t)ri;
    const int64_t room = price - amo;
    /* The TM: what is left of the BR after the AMO; a forfait replacing the TM is all TM. */
    const int64_t tm = a->kind == TP_ACT_REF_FORFAIT ? price : max64(0, min64(br, price) - amo);
    const char side = a->kind == TP_ACT_HEARING_AID ? l->side : 0;

    if (is_equipment(a)) {
        int64_t months;
        if ((rc = renewal_months(s, a, l, rule, &months)) != TP_OK)
            return rc;
        const tp_day last = last_equipment(s->h, a, side);
        if (months > 0 && last != TP_DAY_NONE &&
            s->claim->date < tp_date_add_months(last, (int)months)) {
            r->reasons |= TP_REASON_RENEWAL_TOO_SOON;
            goto finish;
        }
    }

    int64_t amc = 0;
    struct tp_counter_use *counter = NULL;
    if (!rule || rule->kind == TP_GL_NONE) {
        r->reasons |= TP_REASON_NOT_COVERED;
    } else {
        switch ((enum tp_gl_kind)rule->kind) {
        case TP_GL_PCT_BR: {
            const int64_t x = tp_round_bp(br, rule->rate_bp);
            amc = rule->incl_amo ? x - amo : x;
            break;
        }
        case TP_GL_FORFAIT:
            amc = rule->period_months == 0 ? rule->amount_cents * qty : rule->amount_cents;
            break;
        case TP_GL_FRAIS_REELS:
        default:
            amc = room;
            break;
        }
        if (rule->period_months == 0 && rule->ceiling_cents > 0)
            amc = min64(amc, rule->ceiling_cents);
        amc = max64(0, min64(amc, room));
        const int64_t limit =
            rule->kind == TP_GL_FORFAIT ? rule->amount_cents : rule->ceiling_cents;
        if (rule->period_months != 0 && (rule->kind == TP_GL_FORFAIT || limit > 0)) {
            counter = counter_for(s, rule, side);
            const int64_t left = max64(0, limit - counter->counter.used_cents);
            if (amc > left) {
                amc = left;
                r->reasons |= TP_REASON_CEILING_REACHED;
            }
        }
    }
    /* 100 % Santé: never beyond the price cap, in any contract. */
    if (a->basket == TP_BASKET_RAC0 && a->cap_cents > 0 && price > a->cap_cents * qty) {
        r->reasons |= TP_REASON_PRICE_ABOVE_CAP;
        amc = min64(amc, max64(0, a->cap_cents * qty - amo));
    }
    if (v->responsable) {
        /* CSS R871-2 I-II: the baskets in full up to the caps, the TM, the forfait journalier. */
        if (a->basket == TP_BASKET_RAC0) {
            const int64_t capped = a->cap_cents > 0 ? min64(price, a->cap_cents * qty) : price;
            amc = max64(amc, capped - amo);
            r->reasons |= TP_REASON_BASKET_100PS;
        }
        if (!a->tm_optional && amc < tm) {
            amc = tm;
            r->reasons |= TP_REASON_RESPONSABLE_MINIMUM;
        }
        /* CSS R871-2 II 3° and 5°: maxima, AMO part included. */
        if (a->basket == TP_BASKET_LIBRE) {
            int64_t max = -1;
            if (a->kind == TP_ACT_FRAME) {
                if ((rc = param(s, TP_P_OPT_FRAME_MAX, &max)) != TP_OK)
                    return rc;
                max *= qty;
            } else if (a->kind == TP_ACT_HEARING_AID) {
                if ((rc = param(s, TP_P_AUDIO_MAX, &max)) != TP_OK)
                    return rc;
                max *= qty;
            }
            if (max >= 0 && amo + amc > max) {
                amc = max64(0, max - amo);
                r->reasons |= TP_REASON_RESPONSABLE_CEILING;
            }
            if ((a->kind == TP_ACT_FRAME || a->kind == TP_ACT_LENS) && s->eq_max > 0) {
                const int64_t left = max64(0, s->eq_max - s->eq_used - amo);
                if (amc > left) {
                    amc = left;
                    r->reasons |= TP_REASON_RESPONSABLE_CEILING;
                }
                s->eq_used += amo + amc;
            }
        }
        if (ded > 0)
            r->reasons |= TP_REASON_PF_NOT_PAID_RESPONSABLE;
    }
    if (counter) {
        counter->delta_cents += amc;
        counter->counter.used_cents += amc;
    }
    if (ded > 0 && v->covers_pf && !v->responsable) {
        amc += ded;
        r->reasons |= TP_REASON_PF_PAID;
    }
    r->amc_cents = amc;

finish:
    r->price_cents = price;
    r->br_cents = br;
    r->amo_cents = amo;
    r->patient_cents = price - amo - r->amc_cents + r->deduction_cents;
    if (r->amc_cents == 0 && (r->reasons & REFUSING))
        r->status = TP_LINE_REFUSED;
    else if (r->reasons & LIMITING)
        r->status = TP_LINE_LIMITED;
    else
        r->status = TP_LINE_ACCEPTED;
    if (a && is_equipment(a) && r->status != TP_LINE_REFUSED) {
        struct tp_benefit_result *o = s->out;
        if (a->kind == TP_ACT_FRAME)
            o->last_frame = s->claim->date;
        else if (a->kind == TP_ACT_LENS)
            o->last_lenses = s->claim->date;
        else
            o->last_aid[side_index(l->side)] = s->claim->date;
    }
    return TP_OK;
}

enum tp_err tp_benefits_compute(const struct tp_guarantee_set *g, const struct tp_refdata *rd,
                                const struct tp_history *h, const struct tp_claim *claim,
                                struct tp_benefit_result *out, char *msg, size_t msglen)
{
    assert(rd->finished);
    if (!claim->lines || claim->n_lines < 1 || claim->n_lines > TP_CLAIM_LINES_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "a claim has 1 to %d lines",
                       TP_CLAIM_LINES_MAX);
    if (claim->date < TP_DAY_MIN || claim->date > TP_DAY_MAX || claim->age < 0 || claim->age > 150)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "date of care or age out of range");
    if (h->n_counters < 0 || h->n_counters > TP_HISTORY_COUNTERS_MAX ||
        (h->n_counters > 0 && !h->counters) || h->pf_year_cents < 0 ||
        h->franchise_year_cents < 0 || h->pf_year_cents > TP_MONEY_MAX ||
        h->franchise_year_cents > TP_MONEY_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "history out of bounds");
    for (int i = 0; i < h->n_counters; i++) {
        const struct tp_counter *c = &h->counters[i];
        if (!memchr(c->key, '\0', sizeof c->key) || c->used_cents < 0 ||
            c->used_cents > TP_MONEY_MAX)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "history counter %d malformed", i + 1);
    }

    struct state s = {.rd = rd, .h = h, .claim = claim, .out = out, .msg = msg, .msglen = msglen};
    s.v = tp_gl_version_at(g, claim->date);
    out->version = s.v ? (int)(s.v - g->versions) : -1;
    out->n_lines = claim->n_lines;
    out->n_counters = 0;
    out->last_frame = h->last_frame;
    out->last_lenses = h->last_lenses;
    out->last_aid[0] = h->last_aid[0];
    out->last_aid[1] = h->last_aid[1];
    out->pf_year_cents = h->pf_year_cents;
    out->franchise_year_cents = h->franchise_year_cents;

    /* First pass: act lookups (binary search, once per line) and the grades of the class B
     * lenses, which set the equipment maximum before any optical line is paid. */
    const struct tp_act_ref *acts[TP_CLAIM_LINES_MAX];
    int g1 = TP_GRADE_NONE, g2 = TP_GRADE_NONE, optical_b = 0;
    for (int i = 0; i < claim->n_lines; i++) {
        const struct tp_claim_line *l = &claim->lines[i];
        const size_t n = strnlen(l->code, sizeof l->code);
        acts[i] = n < sizeof l->code ? tp_refdata_act(rd, l->code, n, claim->date) : NULL;
        const struct tp_act_ref *a = acts[i];
        if (a && a->basket == TP_BASKET_LIBRE &&
            (a->kind == TP_ACT_LENS || a->kind == TP_ACT_FRAME)) {
            optical_b = 1;
            /* Keep the two highest grades. */
            if (a->grade > g1) {
                if (g1 > g2)
                    g2 = g1;
                g1 = a->grade;
            } else if (a->grade > g2) {
                g2 = a->grade;
            }
        }
    }
    if (optical_b && s.v && s.v->responsable && (g1 != TP_GRADE_NONE)) {
        enum tp_err rc = param(&s, equipment_param(g1, g2), &s.eq_max);
        if (rc != TP_OK)
            return rc;
    }
    out->price_cents = out->amo_cents = out->amc_cents = out->patient_cents = 0;
    for (int i = 0; i < claim->n_lines; i++) {
        enum tp_err rc = compute_line(&s, i, acts[i]);
        if (rc != TP_OK)
            return rc;
        const struct tp_line_result *r = &out->lines[i];
        out->price_cents += r->price_cents;
        out->amo_cents += r->amo_cents;
        out->amc_cents += r->amc_cents;
        out->patient_cents += r->patient_cents;
    }
    return TP_OK;
}
