/* Scraping detection: defaults, the configuration parser and the scoring (detect.h).
 * The rationale of every default is in data/detect.conf and docs/DETECTION.md. */
#include "core/detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Defaults */

/* One row per profession: rate/min, burst, distinct/hour, distinct/day, unclaimed step-up,
 * unclaimed suspend (short window), unclaimed suspend (long window), usual hours,
 * settlement credit (permille, max; none but for hospitals). Every field written out: clang's
 * -Wmissing-field-initializers (make fuzz) refuses a short row. */
static const struct tp_detect_baseline default_baselines[TP_PROF_COUNT] = {
    [TP_PROF_PHARMACIE] = {20, 30, 90, 500, 30, 45, 120, 8, 21, 0, 0},
    [TP_PROF_OPTICIEN] = {6, 10, 20, 60, 30, 45, 60, 9, 20, 0, 0},
    [TP_PROF_AUDIOPROTHESISTE] = {6, 10, 15, 45, 30, 45, 45, 9, 19, 0, 0},
    [TP_PROF_DENTISTE] = {6, 10, 25, 80, 30, 45, 60, 8, 20, 0, 0},
    [TP_PROF_HOPITAL] = {30, 60, 150, 1000, 30, 45, 150, 0, 24, 500, 20},
    [TP_PROF_LABORATOIRE] = {20, 30, 120, 600, 30, 45, 120, 7, 20, 0, 0},
    [TP_PROF_MEDECIN] = {6, 10, 30, 120, 30, 45, 90, 8, 21, 0, 0},
    [TP_PROF_RADIOLOGUE] = {10, 20, 60, 300, 30, 45, 120, 7, 21, 0, 0},
    [TP_PROF_INFIRMIER] = {6, 10, 20, 80, 30, 45, 60, 6, 22, 0, 0},
    [TP_PROF_KINE] = {6, 10, 20, 80, 30, 45, 60, 7, 21, 0, 0},
    [TP_PROF_TRANSPORTEUR] = {6, 10, 20, 60, 30, 45, 60, 0, 24, 0, 0},
};

void tp_detect_config_defaults(struct tp_detect_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_accounts = 100000;
    c->max_beneficiaries = 256;
    c->shards = 64;
    c->max_alerts = 4096;
    c->short_window_min = 90;
    c->long_window_min = 24 * 60;
    c->claim_grace_min = 120;
    c->utc_offset_min = 60;
    c->step_up_increment = 8;
    c->step_up_cooldown_min = 60;
    c->slow_delay_ms = 10000;
    c->slow_duration_min = 60;
    c->unclaimed_share_min_checks = 20;
    c->unclaimed_share_permille = 800;
    c->unclaimed_long_share_suspend = 50;
    c->unclaimed_long_share_permille = 900;
    c->not_found_step_up_hour = 10;
    c->not_found_suspend_hour = 25;
    c->not_found_suspend_long = 60;
    c->not_found_share_permille = 500;
    c->timing_min_gaps = 20;
    c->timing_cv_permille = 250;
    c->own_baseline_factor = 4;
    c->own_baseline_floor = 60;
    c->own_baseline_min_days = 5;
    c->off_hours_alert = 30;
    memcpy(c->prof, default_baselines, sizeof c->prof);
}

/* ---------------------------------------------------------------------------------------
 * Configuration parser */

struct field {
    const char *name;
    size_t off;
    int64_t min, max;
    int is_signed; /* int32_t rather than uint32_t */
};

#define G(name, lo, hi)                                                                            \
    {                                                                                              \
#name, offsetof(struct tp_detect_config, name), lo, hi, 0                                  \
    }
static const struct field global_fields[] = {
    G(max_accounts, 1, TP_DETECT_MAX_ACCOUNTS_CAP),
    G(max_beneficiaries, 16, TP_DETECT_MAX_BENEFICIARIES_CAP),
    G(shards, 1, TP_DETECT_SHARDS_CAP),
    G(max_alerts, 1, TP_DETECT_MAX_ALERTS_CAP),
    G(short_window_min, 1, TP_DETECT_WINDOW_CAP_MIN),
    G(long_window_min, 60, TP_DETECT_WINDOW_CAP_MIN),
    G(claim_grace_min, 1, TP_DETECT_WINDOW_CAP_MIN),
    {"utc_offset_min", offsetof(struct tp_detect_config, utc_offset_min), -14 * 60, 14 * 60, 1},
    G(step_up_increment, 1, 1000),
    G(step_up_cooldown_min, 0, TP_DETECT_WINDOW_CAP_MIN),
    G(slow_delay_ms, 1, 3600 * 1000),
    G(slow_duration_min, 1, TP_DETECT_WINDOW_CAP_MIN),
    G(unclaimed_share_min_checks, 1, 100000),
    G(unclaimed_share_permille, 1, 1000),
    G(unclaimed_long_share_suspend, 1, TP_DETECT_MAX_BENEFICIARIES_CAP),
    G(unclaimed_long_share_permille, 1, 1000),
    G(not_found_step_up_hour, 1, 100000),
    G(not_found_suspend_hour, 1, 100000),
    G(not_found_suspend_long, 1, 100000),
    G(not_found_share_permille, 0, 1000),
    G(timing_min_gaps, 2, TP_DETECT_GAPS_MAX),
    G(timing_cv_permille, 0, 10000),
    G(own_baseline_factor, 1, 1000),
    G(own_baseline_floor, 1, 1000000),
    G(own_baseline_min_days, 1, 365),
    G(off_hours_alert, 1, 1000000),
};
#undef G
#define N_GLOBAL (sizeof global_fields / sizeof global_fields[0])

#define B(name, lo, hi)                                                                            \
    {                                                                                              \
#name, offsetof(struct tp_detect_baseline, name), lo, hi, 0                                \
    }
static const struct field prof_fields[] = {
    B(rate_per_min, 1, 60000),
    B(burst, 1, 100000),
    B(max_distinct_hour, 1, 1000000),
    B(max_distinct_day, 1, 1000000),
    B(unclaimed_step_up, 1, TP_DETECT_MAX_BENEFICIARIES_CAP),
    B(unclaimed_suspend, 1, TP_DETECT_MAX_BENEFICIARIES_CAP),
    B(unclaimed_long_suspend, 1, TP_DETECT_MAX_BENEFICIARIES_CAP),
    B(open_hour, 0, 23),
    B(close_hour, 1, 24),
    B(credit_permille, 0, 1000),
    B(credit_max, 0, TP_DETECT_MAX_BENEFICIARIES_CAP),
};
#undef B
#define N_PROF_FIELDS (sizeof prof_fields / sizeof prof_fields[0])

#define LINE_MAX_LEN 256

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Decimal integer, optional leading '-', at most 10 digits: no overflow possible. */
static int parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 10)
        return -1;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static const struct field *find_field(const struct field *t, size_t n, const char *s, size_t len,
                                      size_t *index)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(t[i].name) == len && memcmp(t[i].name, s, len) == 0) {
            *index = i;
            return &t[i];
        }
    }
    return NULL;
}

static void store_field(void *base, const struct field *f, int64_t v)
{
    char *p = (char *)base + f->off;
    if (f->is_signed) {
        int32_t x = (int32_t)v;
        memcpy(p, &x, sizeof x);
    } else {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
    }
}

/* Scope of a key: -2 global, -1 "default.", else a profession. */
struct parsed_line {
    int scope;
    const struct field *f;
    size_t index;
    int64_t value;
};

/* Parses one trimmed, non-empty, non-comment line. */
static enum tp_err parse_line(const char *s, size_t n, unsigned lineno, struct parsed_line *out,
                              char *msg, size_t msglen)
{
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: expected key = value", lineno);
    size_t klen = (size_t)(eq - s);
    while (klen > 0 && is_space(s[klen - 1]))
        klen--;
    const char *v = eq + 1;
    size_t vlen = n - (size_t)(v - s);
    while (vlen > 0 && is_space(*v)) {
        v++;
        vlen--;
    }
    if (klen == 0 || vlen == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: expected key = value", lineno);
    const char *dot = memchr(s, '.', klen);
    const struct field *f;
    if (!dot) {
        out->scope = -2;
        f = find_field(global_fields, N_GLOBAL, s, klen, &out->index);
    } else {
        size_t plen = (size_t)(dot - s);
        if (plen == 7 && memcmp(s, "default", 7) == 0) {
            out->scope = -1;
        } else {
            int p = tp_profession_parse(s, plen);
            if (p < 0)
                return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: unknown profession", lineno);
            out->scope = p;
        }
        f = find_field(prof_fields, N_PROF_FIELDS, dot + 1, klen - plen - 1, &out->index);
    }
    if (!f)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: unknown key", lineno);
    if (parse_int(v, vlen, &out->value) != 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: %s: not a decimal integer", lineno,
                       f->name);
    if (out->value < f->min || out->value > f->max)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: %s: out of range [%lld, %lld]",
                       lineno, f->name, (long long)f->min, (long long)f->max);
    out->f = f;
    return TP_OK;
}

enum tp_err tp_detect_config_parse(const char *text, size_t len, struct tp_detect_config *out,
                                   char *msg, size_t msglen)
{
    if (len > TP_DETECT_CONFIG_TEXT_MAX)
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "configuration exceeds %u bytes",
                       TP_DETECT_CONFIG_TEXT_MAX);
    if (len > 0 && !text)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "no text");
    struct tp_detect_config c;
    tp_detect_config_defaults(&c);
    /* Duplicate detection: one flag per (scope, field). */
    unsigned char seen_global[N_GLOBAL] = {0};
    unsigned char seen_prof[TP_PROF_COUNT + 1][N_PROF_FIELDS];
    memset(seen_prof, 0, sizeof seen_prof);
    /* Pass 0: global and default.* keys; pass 1: per-profession keys, so that a profession's
     * own value wins over default.* wherever each line stands. */
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = 0;
        unsigned lineno = 0;
        while (pos < len) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - text) : len;
            const char *s = text + pos;
            size_t n = end - pos;
            pos = end + 1;
            lineno++;
            if (n > LINE_MAX_LEN)
                return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: longer than %d bytes", lineno,
                               LINE_MAX_LEN);
            if (memchr(s, '\0', n))
                return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: NUL byte", lineno);
            const char *hash = memchr(s, '#', n);
            if (hash)
                n = (size_t)(hash - s);
            while (n > 0 && is_space(*s)) {
                s++;
                n--;
            }
            while (n > 0 && is_space(s[n - 1]))
                n--;
            if (n == 0)
                continue;
            struct parsed_line pl = {.scope = -2, .f = NULL, .index = 0, .value = 0};
            enum tp_err e = parse_line(s, n, lineno, &pl, msg, msglen);
            if (e != TP_OK)
                return e;
            int profession_line = pl.scope >= 0;
            if (profession_line != pass)
                continue;
            unsigned char *seen =
                pl.scope == -2 ? &seen_global[pl.index] : &seen_prof[pl.scope + 1][pl.index];
            if (*seen)
                return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: %s given twice", lineno,
                               pl.f->name);
            *seen = 1;
            if (pl.scope == -2) {
                store_field(&c, pl.f, pl.value);
            } else if (pl.scope == -1) {
                for (int p = 0; p < TP_PROF_COUNT; p++)
                    store_field(&c.prof[p], pl.f, pl.value);
            } else {
                store_field(&c.prof[pl.scope], pl.f, pl.value);
            }
        }
    }
    enum tp_err e = tp_detect_config_check(&c, msg, msglen);
    if (e != TP_OK)
        return e;
    *out = c;
    return TP_OK;
}

enum tp_err tp_detect_config_check(const struct tp_detect_config *c, char *msg, size_t msglen)
{
    if (c->shards == 0 || c->shards > TP_DETECT_SHARDS_CAP || (c->shards & (c->shards - 1)))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "shards must be a power of two <= %u",
                       TP_DETECT_SHARDS_CAP);
    if (c->max_accounts < c->shards || c->max_accounts > TP_DETECT_MAX_ACCOUNTS_CAP)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "max_accounts must be in [shards, %u]",
                       TP_DETECT_MAX_ACCOUNTS_CAP);
    if (c->max_beneficiaries < 16 || c->max_beneficiaries > TP_DETECT_MAX_BENEFICIARIES_CAP)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "max_beneficiaries must be in [16, %u]",
                       TP_DETECT_MAX_BENEFICIARIES_CAP);
    if (c->max_alerts == 0 || c->max_alerts > TP_DETECT_MAX_ALERTS_CAP)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "max_alerts out of range");
    if (c->long_window_min > TP_DETECT_WINDOW_CAP_MIN || c->long_window_min < 60 ||
        c->short_window_min == 0 || c->short_window_min > c->long_window_min)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "windows: need 0 < short_window_min <= long_window_min <= %u, long >= 60",
                       TP_DETECT_WINDOW_CAP_MIN);
    /* Counts saturate at the per-account set size: a threshold above it never fires. */
    if (c->unclaimed_long_share_suspend >= c->max_beneficiaries)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "unclaimed_long_share_suspend must be below max_beneficiaries");
    if (c->claim_grace_min == 0 || c->claim_grace_min > c->long_window_min)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "claim_grace_min must be in [1, long_window_min]");
    if (c->utc_offset_min < -14 * 60 || c->utc_offset_min > 14 * 60)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "utc_offset_min out of range");
    if (c->not_found_step_up_hour > c->not_found_suspend_hour)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "not_found_step_up_hour must not exceed not_found_suspend_hour");
    if (c->timing_min_gaps < 2 || c->timing_min_gaps > TP_DETECT_GAPS_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "timing_min_gaps must be in [2, %u]",
                       TP_DETECT_GAPS_MAX);
    for (int p = 0; p < TP_PROF_COUNT; p++) {
        const struct tp_detect_baseline *b = &c->prof[p];
        const char *name = tp_profession_name((enum tp_profession)p);
        if (b->rate_per_min == 0 || b->rate_per_min > 60000 || b->burst == 0)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "%s: rate_per_min and burst must be > 0",
                           name);
        if (b->max_distinct_hour == 0 || b->max_distinct_day == 0)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "%s: max_distinct_* must be > 0", name);
        if (b->unclaimed_step_up == 0 || b->unclaimed_step_up > b->unclaimed_suspend)
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "%s: need 0 < unclaimed_step_up <= unclaimed_suspend", name);
        if (b->unclaimed_suspend > b->unclaimed_long_suspend)
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "%s: unclaimed_suspend must not exceed unclaimed_long_suspend", name);
        /* Counts saturate at the per-account set size: a threshold above it never fires. */
        if (b->unclaimed_long_suspend >= c->max_beneficiaries ||
            b->unclaimed_suspend + b->credit_max >= c->max_beneficiaries)
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "%s: unclaimed_long_suspend and unclaimed_suspend + credit_max must "
                           "be below max_beneficiaries",
                           name);
        if (b->credit_permille > 1000)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "%s: credit_permille above 1000", name);
        if (b->open_hour >= b->close_hour || b->close_hour > 24)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "%s: need open_hour < close_hour <= 24",
                           name);
    }
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Scoring */

static void set(struct tp_detect_decision *d, enum tp_detect_action a, enum tp_detect_rule r,
                int alert, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records a candidate decision when it is more severe than the current one. Alert-only
 * signals (ALLOW + alert) replace a plain ALLOW. */
static void set(struct tp_detect_decision *d, enum tp_detect_action a, enum tp_detect_rule r,
                int alert, const char *fmt, ...)
{
    int better = a > d->action || (a == d->action && alert && !d->alert);
    if (!better)
        return;
    d->action = a;
    d->rule = r;
    d->alert = alert;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
}

static uint32_t permille(uint32_t part, uint32_t whole)
{
    return whole ? (uint32_t)((uint64_t)part * 1000u / whole) : 0;
}

struct tp_detect_decision tp_detect_score(const struct tp_detect_features *f,
                                          const struct tp_detect_config *c,
                                          const struct tp_detect_baseline *b)
{
    struct tp_detect_decision d;
    memset(&d, 0, sizeof d);
    d.action = TP_DETECT_ALLOW;
    d.rule = TP_RULE_NONE;
    const char *prof = tp_profession_name(f->profession);
    int stepped_up = f->since_step_up_ms >= 0;
    int cooling = stepped_up && f->since_step_up_ms < (int64_t)c->step_up_cooldown_min * 60000;
    /* A step-up cannot be asked of an API token (no person, no TOTP): the token is slowed
     * down instead and the console alerted; its suspension thresholds are the same. */
    enum tp_detect_action step_up = f->is_token ? TP_DETECT_DELAY : TP_DETECT_STEP_UP;

    /* Settlement credit (per profession, bounded): see struct tp_detect_baseline. */
    uint32_t credit = (uint32_t)((uint64_t)f->settled_short * b->credit_permille / 1000);
    if (credit > b->credit_max)
        credit = b->credit_max;
    uint32_t suspend_at = b->unclaimed_suspend + credit, step_up_at = b->unclaimed_step_up + credit;

    /* Suspension: a bound on what a scraper obtains, whatever its pace. */
    if (f->unclaimed_short >= suspend_at)
        set(&d, TP_DETECT_SUSPEND, TP_RULE_UNCLAIMED_SHORT, 1,
            "%u beneficiaries looked up in the last %u min with no claim or PEC following "
            "(suspension at %u for %s)",
            f->unclaimed_short, c->short_window_min, suspend_at, prof);
    if (f->unclaimed_long >= b->unclaimed_long_suspend)
        set(&d, TP_DETECT_SUSPEND, TP_RULE_UNCLAIMED_LONG, 1,
            "%u beneficiaries looked up in the last %u h with no claim or PEC following "
            "(suspension at %u for %s)",
            f->unclaimed_long, c->long_window_min / 60, b->unclaimed_long_suspend, prof);
    /* The same, earlier, when almost nothing looked up was billed: what a slow scraper does
     * (one lookup every 5 min stays under the short window's count) and no PS does over a
     * day. Measured by opentp simulate (docs/DETECTION.md "Simulation"). */
    if (f->unclaimed_long >= c->unclaimed_long_share_suspend &&
        permille(f->unclaimed_long, f->distinct_long) >= c->unclaimed_long_share_permille)
        set(&d, TP_DETECT_SUSPEND, TP_RULE_UNCLAIMED_LONG, 1,
            "%u of the %u beneficiaries looked up in the last %u h with no claim or PEC "
            "following (suspension at %u when %u%% or more are unsettled)",
            f->unclaimed_long, f->distinct_long, c->long_window_min / 60,
            c->unclaimed_long_share_suspend, c->unclaimed_long_share_permille / 10);
    uint32_t nf_share_hour = permille(f->not_found_hour, f->checks_hour);
    uint32_t nf_share_long = permille(f->not_found_long, f->checks_long);
    if ((f->not_found_hour >= c->not_found_suspend_hour &&
         nf_share_hour >= c->not_found_share_permille) ||
        (f->not_found_long >= c->not_found_suspend_long &&
         nf_share_long >= c->not_found_share_permille))
        set(&d, TP_DETECT_SUSPEND, TP_RULE_ENUMERATION, 1,
            "%u card lookups matched no beneficiary in the last hour, %u in the last %u h "
            "(%u%% of lookups): card numbers are being enumerated",
            f->not_found_hour, f->not_found_long, c->long_window_min / 60, nf_share_long / 10);
    if (d.action == TP_DETECT_SUSPEND)
        return d;

    /* Step-up: a person must prove their second factor again. Growth of the unclaimed count
     * asks again every step_up_increment beneficiaries (a phished session's holder may have a
     * TOTP too: what counts is that the count keeps growing, up to the suspension). */
    if (f->unclaimed_short >= step_up_at &&
        (!stepped_up || f->unclaimed_short >= f->unclaimed_at_step_up + c->step_up_increment))
        set(&d, step_up, TP_RULE_UNCLAIMED_SHORT, 1,
            "%u beneficiaries looked up in the last %u min with no claim or PEC following "
            "(confirmation asked from %u, suspension at %u for %s)",
            f->unclaimed_short, c->short_window_min, step_up_at, suspend_at, prof);
    if (f->new_network && !f->is_token)
        set(&d, TP_DETECT_STEP_UP, TP_RULE_NEW_NETWORK, 1,
            "request from a network never used by this account before");
    if (!cooling) {
        if (f->not_found_hour >= c->not_found_step_up_hour)
            set(&d, step_up, TP_RULE_ENUMERATION, 1,
                "%u card lookups matched no beneficiary in the last hour (confirmation asked "
                "from %u, suspension at %u)",
                f->not_found_hour, c->not_found_step_up_hour, c->not_found_suspend_hour);
        if (f->settled_checks >= c->unclaimed_share_min_checks &&
            permille(f->settled_unclaimed, f->settled_checks) >= c->unclaimed_share_permille)
            set(&d, step_up, TP_RULE_UNCLAIMED_SHARE, 1,
                "%u of the %u beneficiaries looked up more than %u min ago had no claim or PEC "
                "since (confirmation asked from %u%%)",
                f->settled_unclaimed, f->settled_checks, c->claim_grace_min,
                c->unclaimed_share_permille / 10);
        /* Sessions only: practice software behind an API token is a machine by nature. */
        if (!f->is_token && f->gaps >= c->timing_min_gaps &&
            f->gap_cv_permille <= c->timing_cv_permille)
            set(&d, step_up, TP_RULE_TIMING, 1,
                "the last %u requests came at machine-regular intervals (variation %u.%02u, "
                "a person's is above %u.%02u)",
                f->gaps, f->gap_cv_permille / 1000, f->gap_cv_permille % 1000 / 10,
                c->timing_cv_permille / 1000, c->timing_cv_permille % 1000 / 10);
        if (f->distinct_long > b->max_distinct_day)
            set(&d, step_up, TP_RULE_VOLUME_DAY, 1,
                "%u distinct beneficiaries looked up in the last %u h (usual maximum for %s: "
                "%u)",
                f->distinct_long, c->long_window_min / 60, prof, b->max_distinct_day);
    }
    if (d.action == TP_DETECT_STEP_UP)
        return d;

    /* Slow down. */
    if (f->distinct_hour > b->max_distinct_hour)
        set(&d, TP_DETECT_DELAY, TP_RULE_VOLUME_HOUR, 1,
            "%u distinct beneficiaries looked up in the last hour (usual maximum for %s: %u): "
            "slowed to one request every %u s",
            f->distinct_hour, prof, b->max_distinct_hour, (c->slow_delay_ms + 999) / 1000);
    if (d.action == TP_DETECT_DELAY) {
        d.delay_ms = c->slow_delay_ms;
        return d;
    }

    /* Alert only: unusual, but nothing a legitimate PS never does. */
    if (f->own_days >= c->own_baseline_min_days && f->distinct_long >= c->own_baseline_floor &&
        f->distinct_long > (uint64_t)f->own_daily_distinct * c->own_baseline_factor)
        set(&d, TP_DETECT_ALLOW, TP_RULE_OWN_BASELINE, 1,
            "%u distinct beneficiaries in the last %u h, more than %u times this account's "
            "usual %u a day",
            f->distinct_long, c->long_window_min / 60, c->own_baseline_factor,
            f->own_daily_distinct);
    if (f->off_hours_long >= c->off_hours_alert)
        set(&d, TP_DETECT_ALLOW, TP_RULE_OFF_HOURS, 1,
            "%u lookups outside the usual hours of %s (%02u:00-%02u:00) in the last %u h",
            f->off_hours_long, prof, b->open_hour, b->close_hour, c->long_window_min / 60);
    if (f->new_network && f->is_token)
        set(&d, TP_DETECT_ALLOW, TP_RULE_NEW_NETWORK, 1,
            "API token used from a network never seen for it before");
    d.delay_ms = 0;
    return d;
}

/* ---------------------------------------------------------------------------------------
 * Names */

const char *tp_detect_action_name(enum tp_detect_action a)
{
    static const char *const names[] = {"allow", "delay", "step_up", "suspend"};
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "unknown";
}

const char *tp_detect_rule_name(enum tp_detect_rule r)
{
    static const char *const names[TP_RULE_COUNT] = {
        "none",        "rate",        "unclaimed_short", "unclaimed_long",  "unclaimed_share",
        "enumeration", "volume_hour", "volume_day",      "own_baseline",    "timing",
        "new_network", "off_hours",   "suspended",       "step_up_pending",
    };
    return (unsigned)r < TP_RULE_COUNT ? names[r] : "unknown";
}

const char *tp_detect_kind_name(enum tp_detect_kind k)
{
    static const char *const names[TP_DETECT_KIND_COUNT] = {"rights_check", "claim", "pec",
                                                            "other_personal_read", "other"};
    return (unsigned)k < TP_DETECT_KIND_COUNT ? names[k] : "unknown";
}
