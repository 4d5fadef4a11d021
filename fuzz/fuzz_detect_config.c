/* Fuzz target for the detection configuration parser (src/core/detect.h).
 *
 * The input is taken as a configuration text. Invariants: the parser never crashes and
 * NUL-terminates its message on failure; an accepted configuration passes
 * tp_detect_config_check and parses to the same result twice; a refused one leaves the
 * output untouched. With an accepted configuration, the scoring is run on features drawn
 * from the input bytes: the decision is a valid action with a NUL-terminated reason, a
 * suspension or step-up always alerts and names its rule, a delay has a positive delay. A
 * violated invariant aborts like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detect.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint32_t take32(const uint8_t *data, size_t size, size_t *pos)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | (size ? data[(*pos)++ % size] : 0);
    return v;
}

static void score_some(const struct tp_detect_config *c, const uint8_t *data, size_t size)
{
    size_t pos = 0;
    for (int round = 0; round < 8; round++) {
        struct tp_detect_features f;
        memset(&f, 0, sizeof f);
        f.profession = (enum tp_profession)(take32(data, size, &pos) % TP_PROF_COUNT);
        f.is_token = (int)(take32(data, size, &pos) & 1);
        uint32_t scale = 1u << (take32(data, size, &pos) % 12); /* small and large counts */
        uint32_t *fields[] = {&f.distinct_hour,
                              &f.distinct_long,
                              &f.unclaimed_short,
                              &f.unclaimed_long,
                              &f.settled_checks,
                              &f.settled_unclaimed,
                              &f.checks_hour,
                              &f.not_found_hour,
                              &f.checks_long,
                              &f.not_found_long,
                              &f.gaps,
                              &f.gap_cv_permille,
                              &f.off_hours_long,
                              &f.own_daily_distinct,
                              &f.own_days,
                              &f.unclaimed_at_step_up,
                              &f.settled_short};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            *fields[i] = take32(data, size, &pos) % (scale * 4);
        if (round == 7) /* extremes */
            f.unclaimed_short = f.distinct_long = f.own_daily_distinct = UINT32_MAX;
        f.new_network = (int)(take32(data, size, &pos) & 1);
        uint32_t s = take32(data, size, &pos);
        f.since_step_up_ms = (s & 1) ? -1 : (int64_t)(s >> 1) * 1000;
        struct tp_detect_decision d = tp_detect_score(&f, c, &c->prof[f.profession]);
        CHECK(d.action >= TP_DETECT_ALLOW && d.action <= TP_DETECT_SUSPEND);
        CHECK(d.rule >= TP_RULE_NONE && d.rule < TP_RULE_COUNT);
        CHECK(memchr(d.reason, '\0', sizeof d.reason) != NULL);
        if (d.action >= TP_DETECT_STEP_UP)
            CHECK(d.alert && d.rule != TP_RULE_NONE && d.reason[0]);
        if (d.action == TP_DETECT_DELAY)
            CHECK(d.delay_ms > 0);
        else
            CHECK(d.delay_ms == 0);
        if (d.action == TP_DETECT_STEP_UP)
            CHECK(!f.is_token); /* a token cannot prove a TOTP */
        const struct tp_detect_baseline *b = &c->prof[f.profession];
        uint64_t credit = (uint64_t)f.settled_short * b->credit_permille / 1000;
        if (credit > b->credit_max)
            credit = b->credit_max;
        if (f.unclaimed_short >= b->unclaimed_suspend + credit)
            CHECK(d.action == TP_DETECT_SUSPEND);
        /* A long window nearly all unsettled suspends at its own count, whatever the
         * profession's limits. */
        int share_long = f.unclaimed_long >= c->unclaimed_long_share_suspend &&
                         (uint64_t)f.unclaimed_long * 1000 >=
                             (uint64_t)f.distinct_long * c->unclaimed_long_share_permille &&
                         f.distinct_long > 0;
        if (share_long)
            CHECK(d.action == TP_DETECT_SUSPEND);
        if (f.unclaimed_short < b->unclaimed_suspend &&
            f.unclaimed_long < b->unclaimed_long_suspend && d.action == TP_DETECT_SUSPEND)
            CHECK(d.rule == TP_RULE_ENUMERATION ||
                  (d.rule == TP_RULE_UNCLAIMED_LONG && share_long)); /* the only other ways */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tp_detect_config a, b;
    char msg[128];
    memset(&a, 0xa5, sizeof a);
    memset(msg, 'x', sizeof msg);
    enum tp_err e = tp_detect_config_parse((const char *)data, size, &a, msg, sizeof msg);
    if (e != TP_OK) {
        CHECK(memchr(msg, '\0', sizeof msg) != NULL);
        CHECK(e == TP_ERR_INVALID || e == TP_ERR_TOO_BIG);
        struct tp_detect_config untouched;
        memset(&untouched, 0xa5, sizeof untouched);
        CHECK(memcmp(&a, &untouched, sizeof a) == 0);
        return 0;
    }
    CHECK(tp_detect_config_check(&a, NULL, 0) == TP_OK);
    CHECK(tp_detect_config_parse((const char *)data, size, &b, NULL, 0) == TP_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    score_some(&a, data, size);
    return 0;
}
