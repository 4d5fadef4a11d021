/* Scraping detection state (src/security/detect_state.h), driven the way the request path
 * drives it: precheck, handling, observe, step-up. Simulated attackers at every pace are
 * suspended before 50 beneficiaries are disclosed; simulated PS of every profession doing
 * their working days never are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "security/detect_state.h"

/* Local midnight (UTC+1) of Tuesday 2026-11-24. */
#define DAY0 (1795392000000LL + 86400000LL - 3600000LL)
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

static struct tp_detect_config cfg;

static struct tp_detect_state *new_state(void)
{
    struct tp_detect_state *s = NULL;
    char msg[160];
    assert_int_equal(tp_detect_state_new(&cfg, &s, msg, sizeof msg), TP_OK);
    assert_non_null(s);
    return s;
}

static int setup(void **state)
{
    (void)state;
    tp_detect_config_defaults(&cfg);
    return 0;
}

/* Deterministic randomness (xorshift64*). */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static double uniform(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}
static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(uniform() * (double)(hi - lo));
}

/* A beneficiary's blind index: 16 bytes derived from a number. */
static void bidx_of(uint64_t ben, uint8_t out[16])
{
    uint64_t x = ben * 0x9e3779b97f4a7c15ull + 1;
    for (int i = 0; i < 2; i++) {
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 29;
        memcpy(out + 8 * i, &x, 8);
    }
}

/* ---------------------------------------------------------------------------------------
 * The shell, simulated */

static int rule_count[TP_RULE_COUNT]; /* step-ups and delays decided at observe, per rule */

struct actor {
    struct tp_detect_state *s;
    uint64_t key;
    enum tp_profession prof;
    uint64_t net;
    int has_totp; /* passes the step-ups it is asked for */
    int64_t now;
    /* outcome */
    int disclosed, lookups, step_ups, delays, suspended, withheld;
    uint32_t max_unclaimed; /* highest unclaimed_short seen after a lookup (work()) */
    int32_t headroom;       /* least (suspension threshold - unclaimed_short) seen */
    enum tp_detect_rule suspend_rule;
};

/* One lookup: precheck (waits out delays, gives step-ups when it can), handling, observe.
 * Returns 1 when the answer was sent (a beneficiary disclosed unless not found). */
static int lookup(struct actor *a, uint64_t ben, enum tp_detect_outcome outcome)
{
    uint8_t b[16];
    bidx_of(ben, b);
    for (int tries = 0; tries < 1000; tries++) {
        struct tp_detect_decision d;
        tp_detect_precheck(a->s, a->key, a->prof, TP_DETECT_RIGHTS_CHECK, a->now, &d);
        if (d.action == TP_DETECT_SUSPEND) {
            a->suspended = 1;
            return 0;
        }
        if (d.action == TP_DETECT_DELAY) {
            assert_true(d.delay_ms > 0);
            a->delays++;
            a->now += d.delay_ms;
            continue;
        }
        if (d.action == TP_DETECT_STEP_UP) {
            a->step_ups++;
            if (!a->has_totp)
                return 0;
            a->now += 20000; /* types the code */
            tp_detect_observe_step_up(a->s, a->key, a->now, a->net);
            continue;
        }
        a->lookups++;
        tp_detect_observe_request(a->s, a->key, a->prof, a->now, a->net, TP_DETECT_RIGHTS_CHECK, b,
                                  sizeof b, outcome, &d);
        switch (d.action) {
        case TP_DETECT_ALLOW:
        case TP_DETECT_DELAY:
            if (d.action == TP_DETECT_DELAY)
                rule_count[d.rule]++;
            if (outcome != TP_DETECT_NOT_FOUND)
                a->disclosed++;
            return 1;
        case TP_DETECT_STEP_UP:
            a->withheld++;
            rule_count[d.rule]++;
            continue; /* precheck asks for the step-up */
        case TP_DETECT_SUSPEND:
            a->withheld++;
            a->suspended = 1;
            a->suspend_rule = d.rule;
            assert_true(d.alert);
            assert_true(strlen(d.reason) > 20);
            return 0;
        }
    }
    fail_msg("lookup never answered");
    return 0;
}

static void claim(struct actor *a, uint64_t ben, enum tp_detect_kind kind)
{
    uint8_t b[16];
    bidx_of(ben, b);
    struct tp_detect_decision d;
    tp_detect_observe_request(a->s, a->key, a->prof, a->now, a->net, kind, b, sizeof b,
                              TP_DETECT_FOUND, &d);
    assert_true(d.action == TP_DETECT_ALLOW || d.action == TP_DETECT_SUSPEND);
}

static struct actor actor(struct tp_detect_state *s, uint64_t key, enum tp_profession p)
{
    struct actor a;
    memset(&a, 0, sizeof a);
    a.s = s;
    a.key = key;
    a.prof = p;
    a.net = tp_detect_network_of("203.0.113.7");
    a.has_totp = 1;
    a.headroom = INT32_MAX;
    return a;
}

/* A scraper looking up distinct valid card data, gaps drawn in [gap_lo, gap_hi] ms, from
 * `start` for at most `duration` ms or until it is stopped. */
static void scrape(struct actor *a, int64_t start, int64_t duration, int64_t gap_lo, int64_t gap_hi)
{
    a->now = start;
    uint64_t ben = a->key * 1000000u;
    while (!a->suspended && a->now < start + duration && a->lookups < 100000) {
        lookup(a, ben++, TP_DETECT_FOUND);
        if (a->step_ups > 0 && !a->has_totp)
            break; /* stuck at the step-up: contained */
        a->now += gap_lo == gap_hi ? gap_lo : between(gap_lo, gap_hi);
    }
}

/* ---------------------------------------------------------------------------------------
 * Attackers */

static void fast_scraper_is_suspended_before_50(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(1), TP_PROF_PHARMACIE);
    scrape(&a, DAY0 + 14 * HOUR_MS, DAY_MS, 3, 3); /* ~300 lookups a second */
    print_message("fast: %d disclosed, %d step-ups, %d delays\n", a.disclosed, a.step_ups,
                  a.delays);
    assert_true(a.suspended);
    assert_true(a.disclosed < 50);
    assert_int_equal(a.suspend_rule, TP_RULE_UNCLAIMED_SHORT);
    /* Every later request is refused, whatever it is. */
    struct tp_detect_decision d;
    tp_detect_precheck(s, a.key, a.prof, TP_DETECT_OTHER, a.now + DAY_MS, &d);
    assert_int_equal(d.action, TP_DETECT_SUSPEND);
    assert_int_equal(d.rule, TP_RULE_SUSPENDED);
    assert_non_null(strstr(d.reason, "no claim or PEC"));
    tp_detect_state_free(s);
}

static void slow_scraper_one_every_30s_is_suspended_before_50(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(2), TP_PROF_PHARMACIE);
    scrape(&a, DAY0 + 9 * HOUR_MS, 10 * HOUR_MS, 30000, 30000);
    print_message("30 s: %d disclosed in %lld min\n", a.disclosed,
                  (long long)((a.now - DAY0 - 9 * HOUR_MS) / MIN_MS));
    assert_true(a.suspended);
    assert_true(a.disclosed < 50);
    tp_detect_state_free(s);
}

static void patient_scrapers_of_every_profession_are_suspended_before_50(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    static const int64_t paces[][2] = {{20000, 60000}, {45000, 75000}, {1000, 5000}};
    for (int p = 0; p < TP_PROF_COUNT; p++) {
        for (size_t k = 0; k < sizeof paces / sizeof paces[0]; k++) {
            uint64_t id = 100 + (uint64_t)p * 10 + k;
            struct actor a = actor(
                s, k == 2 ? tp_detect_key_token((int64_t)id) : tp_detect_key_account((int64_t)id),
                (enum tp_profession)p);
            scrape(&a, DAY0 + 9 * HOUR_MS, 12 * HOUR_MS, paces[k][0], paces[k][1]);
            if (!a.suspended || a.disclosed >= 50)
                fail_msg("%s pace %zu: suspended %d after %d disclosed",
                         tp_profession_name((enum tp_profession)p), k, a.suspended, a.disclosed);
        }
    }
    tp_detect_state_free(s);
}

static void very_slow_scraper_is_caught_by_the_long_window(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(3), TP_PROF_PHARMACIE);
    scrape(&a, DAY0 + 8 * HOUR_MS, 2 * DAY_MS, 4 * MIN_MS, 6 * MIN_MS);
    print_message("5 min: %d disclosed\n", a.disclosed);
    assert_true(a.suspended);
    assert_true(a.disclosed <= (int)cfg.prof[TP_PROF_PHARMACIE].unclaimed_long_suspend);
    tp_detect_state_free(s);
}

static void scraper_without_totp_stops_at_the_step_up(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(4), TP_PROF_OPTICIEN);
    a.has_totp = 0;
    scrape(&a, DAY0 + 10 * HOUR_MS, DAY_MS, 2000, 4000);
    assert_false(a.suspended);
    assert_int_equal(a.disclosed, (int)cfg.prof[TP_PROF_OPTICIEN].unclaimed_step_up - 1);
    /* Stuck: every further lookup is refused until the step-up. */
    struct tp_detect_decision d;
    tp_detect_precheck(s, a.key, a.prof, TP_DETECT_RIGHTS_CHECK, a.now + HOUR_MS, &d);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_STEP_UP_PENDING);
    /* ... but claims and other operations go on. */
    tp_detect_precheck(s, a.key, a.prof, TP_DETECT_CLAIM, a.now + HOUR_MS, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_state_free(s);
}

static void enumerator_is_suspended_quickly(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(5), TP_PROF_PHARMACIE);
    a.now = DAY0 + 11 * HOUR_MS;
    int n = 0;
    while (!a.suspended && n < 10000) {
        /* Sequential member numbers: one in 40 exists. */
        lookup(&a, 5000000u + (uint64_t)n, n % 40 == 39 ? TP_DETECT_FOUND : TP_DETECT_NOT_FOUND);
        a.now += 200;
        n++;
    }
    print_message("enumerator: %d lookups, %d disclosed\n", a.lookups, a.disclosed);
    assert_true(a.suspended);
    assert_int_equal(a.suspend_rule, TP_RULE_ENUMERATION);
    assert_true(a.lookups <= (int)cfg.not_found_suspend_hour + 2);
    assert_true(a.disclosed <= 1);
    tp_detect_state_free(s);
}

static void scraper_in_a_working_account_is_suspended_before_50(void **state);

/* ---------------------------------------------------------------------------------------
 * Legitimate working days */

struct event {
    int64_t t;
    int kind; /* 0 check, 1 typo (not found), 2 claim, 3 PEC */
    uint64_t ben;
};

static int by_time(const void *x, const void *y)
{
    const struct event *a = x, *b = y;
    return a->t < b->t ? -1 : a->t > b->t;
}

struct workday {
    int checks_lo, checks_hi;   /* per day */
    int open_h, close_h;        /* local hours of work */
    double settled;             /* share of checks followed by a claim or PEC */
    int64_t delay_lo, delay_hi; /* ms from check to claim/PEC */
    double repeat;              /* share of checks of an earlier patient */
    double typo;                /* share of checks first mistyped */
};

static const struct workday workdays[TP_PROF_COUNT] = {
    [TP_PROF_PHARMACIE] = {100, 300, 8, 20, 0.85, 30000, 15 * MIN_MS, 0.10, 0.03},
    [TP_PROF_OPTICIEN] = {10, 30, 9, 19, 0.60, 5 * MIN_MS, 90 * MIN_MS, 0.05, 0.03},
    [TP_PROF_AUDIOPROTHESISTE] = {5, 15, 9, 18, 0.60, 5 * MIN_MS, 90 * MIN_MS, 0.05, 0.03},
    [TP_PROF_DENTISTE] = {15, 40, 8, 19, 0.75, 5 * MIN_MS, 60 * MIN_MS, 0.05, 0.03},
    [TP_PROF_HOPITAL] = {400, 800, 0, 24, 0.90, MIN_MS, 60 * MIN_MS, 0.05, 0.03},
    [TP_PROF_LABORATOIRE] = {80, 250, 7, 19, 0.90, MIN_MS, 30 * MIN_MS, 0.05, 0.03},
    [TP_PROF_MEDECIN] = {20, 50, 8, 20, 0.80, MIN_MS, 30 * MIN_MS, 0.05, 0.03},
    [TP_PROF_RADIOLOGUE] = {50, 150, 7, 20, 0.85, MIN_MS, 60 * MIN_MS, 0.05, 0.03},
    [TP_PROF_INFIRMIER] = {10, 40, 6, 21, 0.80, MIN_MS, 60 * MIN_MS, 0.05, 0.03},
    [TP_PROF_KINE] = {10, 30, 7, 20, 0.80, MIN_MS, 60 * MIN_MS, 0.05, 0.03},
    [TP_PROF_TRANSPORTEUR] = {10, 40, 0, 24, 0.80, MIN_MS, 120 * MIN_MS, 0.05, 0.03},
};

/* Runs `days` working days of actor a (its beneficiaries numbered from ben0). Returns the
 * number of checks made. */
static int work(struct actor *a, const struct workday *w, int days, uint64_t ben0)
{
    int total = 0;
    uint64_t next_ben = ben0;
    size_t cap = 4 * 1000;
    struct event *ev = calloc(cap, sizeof *ev);
    assert_non_null(ev);
    for (int day = 0; day < days; day++) {
        int64_t open = DAY0 + day * DAY_MS + w->open_h * HOUR_MS;
        int64_t close = DAY0 + day * DAY_MS + w->close_h * HOUR_MS;
        int n = (int)between(w->checks_lo, w->checks_hi + 1);
        size_t m = 0;
        for (int i = 0; i < n && m + 3 <= cap; i++) {
            int64_t t = between(open, close);
            uint64_t ben = next_ben > ben0 && uniform() < w->repeat
                               ? ben0 + (uint64_t)between(0, (int64_t)(next_ben - ben0))
                               : next_ben++;
            if (uniform() < w->typo)
                ev[m++] = (struct event){t - 15000, 1, ben + 777777777u};
            ev[m++] = (struct event){t, 0, ben};
            if (uniform() < w->settled)
                ev[m++] = (struct event){t + between(w->delay_lo, w->delay_hi),
                                         uniform() < 0.5 ? 2 : 3, ben};
        }
        qsort(ev, m, sizeof *ev, by_time);
        for (size_t i = 0; i < m && !a->suspended; i++) {
            if (a->now < ev[i].t)
                a->now = ev[i].t;
            else
                a->now += between(200, 3000); /* a queue at the counter */
            if (ev[i].kind == 0) {
                lookup(a, ev[i].ben, TP_DETECT_FOUND);
                total++;
                struct tp_detect_features f;
                if (tp_detect_features_of(a->s, a->key, a->now, &f)) {
                    const struct tp_detect_baseline *b = &cfg.prof[a->prof];
                    uint32_t credit = f.settled_short * b->credit_permille / 1000;
                    int32_t room = (int32_t)(b->unclaimed_suspend +
                                             (credit < b->credit_max ? credit : b->credit_max)) -
                                   (int32_t)f.unclaimed_short;
                    if (f.unclaimed_short > a->max_unclaimed)
                        a->max_unclaimed = f.unclaimed_short;
                    if (room < a->headroom)
                        a->headroom = room;
                }
            } else if (ev[i].kind == 1) {
                lookup(a, ev[i].ben, TP_DETECT_NOT_FOUND);
            } else {
                claim(a, ev[i].ben, ev[i].kind == 2 ? TP_DETECT_CLAIM : TP_DETECT_PEC);
            }
        }
    }
    free(ev);
    return total;
}

static void busy_pharmacy_week_is_never_suspended(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(10), TP_PROF_PHARMACIE);
    struct workday w = workdays[TP_PROF_PHARMACIE];
    w.checks_lo = w.checks_hi = 300;
    w.settled = 0.80; /* one in five never billed: a pessimistic pharmacy */
    int checks = work(&a, &w, 5, 10000000);
    print_message("pharmacy 5 x 300: %d checks, %d step-ups, %d delays\n", checks, a.step_ups,
                  a.delays);
    assert_false(a.suspended);
    assert_int_equal(checks, 5 * 300);
    assert_true(a.step_ups <= 5); /* at most about one confirmation a day */
    tp_detect_state_free(s);
}

static void hospital_admissions_desk_is_never_suspended(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    /* The hospital's admission software, with an API token: 800 a day, round the clock. */
    struct actor a = actor(s, tp_detect_key_token(11), TP_PROF_HOPITAL);
    struct workday w = workdays[TP_PROF_HOPITAL];
    w.checks_lo = w.checks_hi = 800;
    int checks = work(&a, &w, 3, 11000000);
    /* And tomorrow's 60 planned admissions in one batch: each check followed by its PEC. */
    a.now = DAY0 + 3 * DAY_MS + 16 * HOUR_MS;
    for (uint64_t i = 0; i < 60; i++) {
        lookup(&a, 11900000 + i, TP_DETECT_FOUND);
        a.now += 1500;
        claim(&a, 11900000 + i, TP_DETECT_PEC);
        a.now += 500;
    }
    print_message("hospital 3 x 800 + batch: %d step-ups, %d delays\n", a.step_ups, a.delays);
    assert_false(a.suspended);
    assert_int_equal(checks, 3 * 800);
    tp_detect_state_free(s);
}

static void a_day_of_every_profession_suspends_nobody(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    int accounts = 0, step_ups = 0, delays = 0, checks = 0;
    memset(rule_count, 0, sizeof rule_count);
    for (int p = 0; p < TP_PROF_COUNT; p++) {
        int with_friction = 0;
        uint32_t peak = 0;
        int32_t least = INT32_MAX;
        for (int i = 0; i < 100; i++) {
            uint64_t id = 1000 + (uint64_t)accounts;
            struct actor a = actor(s,
                                   i % 3 == 0 ? tp_detect_key_token((int64_t)id)
                                              : tp_detect_key_account((int64_t)id),
                                   (enum tp_profession)p);
            checks += work(&a, &workdays[p], 2, id * 100000u);
            if (a.suspended)
                fail_msg("%s #%d suspended", tp_profession_name((enum tp_profession)p), i);
            with_friction += a.step_ups || a.delays;
            if (a.max_unclaimed > peak)
                peak = a.max_unclaimed;
            if (a.headroom < least)
                least = a.headroom;
            step_ups += a.step_ups;
            delays += a.delays;
            accounts++;
        }
        /* Headroom: the highest unclaimed count any of them reached, against suspension. */
        print_message("  %-16s peak unclaimed %2u, least headroom to suspension %2d, %3d of 100 "
                      "asked to confirm or slowed\n",
                      tp_profession_name((enum tp_profession)p), peak, least, with_friction);
        assert_true(least > 0);
    }
    print_message("%d PS x 2 days, %d checks: 0 suspended, %d step-ups, %d delays\n", accounts,
                  checks, step_ups, delays);
    for (int r = 0; r < TP_RULE_COUNT; r++)
        if (rule_count[r])
            print_message("  %s: %d\n", tp_detect_rule_name((enum tp_detect_rule)r), rule_count[r]);
    struct tp_detect_stats st;
    tp_detect_stats(s, &st);
    assert_int_equal(st.suspended, 0);
    assert_int_equal(st.tracked, (uint64_t)accounts);
    tp_detect_state_free(s);
}

static void scraper_in_a_working_account_is_suspended_before_50(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    /* The pharmacist works; from 10:00 someone else uses the same account from elsewhere
     * (a phished session), holding a TOTP too, one lookup every 20-60 s. */
    struct actor pharmacist = actor(s, tp_detect_key_account(12), TP_PROF_PHARMACIE);
    struct actor thief = actor(s, pharmacist.key, TP_PROF_PHARMACIE);
    thief.net = tp_detect_network_of("198.51.100.23");
    struct workday w = workdays[TP_PROF_PHARMACIE];
    w.open_h = 8;
    w.close_h = 10;
    w.checks_lo = w.checks_hi = 60;
    work(&pharmacist, &w, 1, 12000000);
    assert_false(pharmacist.suspended);
    thief.now = DAY0 + 10 * HOUR_MS;
    uint64_t ben = 12500000;
    while (!thief.suspended && thief.now < DAY0 + 20 * HOUR_MS) {
        lookup(&thief, ben++, TP_DETECT_FOUND);
        thief.now += between(20000, 60000);
    }
    print_message("thief in a working account: %d disclosed, %d step-ups\n", thief.disclosed,
                  thief.step_ups);
    assert_true(thief.suspended);
    assert_true(thief.disclosed < 50);
    assert_true(thief.step_ups >= 1); /* the new network was asked for a TOTP first */
    tp_detect_state_free(s);
}

static void scraper_in_a_working_hospital_gets_at_most_the_credit_more(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    const struct tp_detect_baseline *b = &cfg.prof[TP_PROF_HOPITAL];
    struct actor desk = actor(s, tp_detect_key_account(13), TP_PROF_HOPITAL);
    struct actor thief = actor(s, desk.key, TP_PROF_HOPITAL);
    thief.net = tp_detect_network_of("198.51.100.23");
    struct workday w = workdays[TP_PROF_HOPITAL];
    w.open_h = 0;
    w.close_h = 10;
    w.checks_lo = w.checks_hi = 400; /* 40 an hour, PEC within the hour */
    work(&desk, &w, 1, 13000000);
    assert_false(desk.suspended);
    thief.now = DAY0 + 10 * HOUR_MS;
    uint64_t ben = 13500000;
    while (!thief.suspended && thief.now < DAY0 + 20 * HOUR_MS) {
        lookup(&thief, ben++, TP_DETECT_FOUND);
        thief.now += between(1000, 5000);
    }
    print_message("thief in a working hospital account: %d disclosed (credit at most %u)\n",
                  thief.disclosed, b->credit_max);
    assert_true(thief.suspended);
    assert_true(thief.disclosed < (int)(b->unclaimed_suspend + b->credit_max));
    tp_detect_state_free(s);
}

/* ---------------------------------------------------------------------------------------
 * Mechanics */

static void new_network_asks_step_up_then_is_known(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    uint64_t key = tp_detect_key_account(20);
    uint64_t home = tp_detect_network_of("192.0.2.10"), away = tp_detect_network_of("192.0.3.10");
    int64_t t = DAY0 + 10 * HOUR_MS;
    uint8_t b[16];
    struct tp_detect_decision d;
    bidx_of(1, b);
    tp_detect_observe_request(s, key, TP_PROF_DENTISTE, t, home, TP_DETECT_RIGHTS_CHECK, b, 16,
                              TP_DETECT_FOUND, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW); /* first network: learned */
    bidx_of(2, b);
    tp_detect_observe_request(s, key, TP_PROF_DENTISTE, t + MIN_MS, away, TP_DETECT_RIGHTS_CHECK, b,
                              16, TP_DETECT_FOUND, &d);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_NEW_NETWORK);
    tp_detect_precheck(s, key, TP_PROF_DENTISTE, TP_DETECT_RIGHTS_CHECK, t + MIN_MS, &d);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    tp_detect_observe_step_up(s, key, t + 2 * MIN_MS, away);
    tp_detect_precheck(s, key, TP_PROF_DENTISTE, TP_DETECT_RIGHTS_CHECK, t + 2 * MIN_MS, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_observe_request(s, key, TP_PROF_DENTISTE, t + 3 * MIN_MS, away,
                              TP_DETECT_RIGHTS_CHECK, b, 16, TP_DETECT_FOUND, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_observe_request(s, key, TP_PROF_DENTISTE, t + 4 * MIN_MS, home,
                              TP_DETECT_RIGHTS_CHECK, b, 16, TP_DETECT_FOUND, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_state_free(s);
}

static void rate_limit_delays_a_burst(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    uint64_t key = tp_detect_key_account(21);
    const struct tp_detect_baseline *b = &cfg.prof[TP_PROF_OPTICIEN];
    int64_t t = DAY0 + 10 * HOUR_MS;
    struct tp_detect_decision d;
    for (uint32_t i = 0; i < b->burst; i++) {
        tp_detect_precheck(s, key, TP_PROF_OPTICIEN, TP_DETECT_RIGHTS_CHECK, t, &d);
        assert_int_equal(d.action, TP_DETECT_ALLOW);
    }
    tp_detect_precheck(s, key, TP_PROF_OPTICIEN, TP_DETECT_RIGHTS_CHECK, t, &d);
    assert_int_equal(d.action, TP_DETECT_DELAY);
    assert_int_equal(d.rule, TP_RULE_RATE);
    assert_int_equal(d.delay_ms, 60000 / b->rate_per_min);
    assert_false(d.alert);
    /* Operations that read no personal data are not limited. */
    tp_detect_precheck(s, key, TP_PROF_OPTICIEN, TP_DETECT_OTHER, t, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_precheck(s, key, TP_PROF_OPTICIEN, TP_DETECT_RIGHTS_CHECK, t + d.delay_ms + 10000,
                       &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_state_free(s);
}

static void claims_settle_lookups(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(22), TP_PROF_PHARMACIE);
    a.now = DAY0 + 9 * HOUR_MS;
    /* 200 distinct patients within the short window, each billed right after: nothing. */
    for (uint64_t i = 0; i < 200; i++) {
        lookup(&a, 22000000 + i, TP_DETECT_FOUND);
        a.now += 20000;
        claim(&a, 22000000 + i, TP_DETECT_CLAIM);
        a.now += between(1000, 120000);
    }
    assert_false(a.suspended);
    assert_int_equal(a.step_ups, 0);
    assert_int_equal(a.disclosed, 200);
    /* A claim for someone never looked up changes nothing and is never refused. */
    claim(&a, 99, TP_DETECT_PEC);
    tp_detect_state_free(s);
}

static void reset_lifts_a_suspension(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct actor a = actor(s, tp_detect_key_account(23), TP_PROF_LABORATOIRE);
    scrape(&a, DAY0 + 9 * HOUR_MS, DAY_MS, 100, 100);
    assert_true(a.suspended);
    assert_int_equal(tp_detect_reset(s, a.key), 1);
    assert_int_equal(tp_detect_reset(s, a.key), 0);
    struct tp_detect_decision d;
    tp_detect_precheck(s, a.key, a.prof, TP_DETECT_RIGHTS_CHECK, a.now, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_state_free(s);
}

static void alerts_are_kept_for_the_console(void **state)
{
    (void)state;
    cfg.max_alerts = 4;
    struct tp_detect_state *s = new_state();
    struct tp_detect_alert al[8];
    assert_int_equal(tp_detect_alerts(s, 0, al, 8), 0);
    for (int i = 0; i < 6; i++) {
        struct actor a = actor(s, tp_detect_key_account(30 + i), TP_PROF_PHARMACIE);
        a.has_totp = 0;
        scrape(&a, DAY0 + 10 * HOUR_MS, HOUR_MS, 500, 3000); /* one step-up alert each */
    }
    size_t n = tp_detect_alerts(s, 0, al, 8);
    assert_int_equal(n, 4); /* the ring keeps the last 4 */
    assert_int_equal(al[0].seq, 3);
    assert_int_equal(al[3].seq, 6);
    assert_int_equal(al[3].key, tp_detect_key_account(35));
    assert_int_equal(al[3].action, TP_DETECT_STEP_UP);
    assert_int_equal(al[3].rule, TP_RULE_UNCLAIMED_SHORT);
    assert_int_equal(al[3].profession, TP_PROF_PHARMACIE);
    assert_non_null(strstr(al[3].reason, "no claim or PEC"));
    assert_int_equal(tp_detect_alerts(s, 5, al, 8), 1);
    assert_int_equal(tp_detect_alerts(s, 6, al, 8), 0);
    assert_int_equal(tp_detect_alerts(s, 0, al, 2), 2);
    assert_int_equal(al[1].seq, 4);
    struct tp_detect_stats st;
    tp_detect_stats(s, &st);
    assert_int_equal(st.alerts, 6);
    assert_int_equal(st.step_ups, 6);
    tp_detect_state_free(s);
}

static void tracked_accounts_are_bounded(void **state)
{
    (void)state;
    cfg.max_accounts = 64;
    cfg.shards = 4;
    struct tp_detect_state *s = new_state();
    struct tp_detect_decision d;
    uint8_t b[16];
    for (int64_t i = 0; i < 1000; i++) {
        bidx_of((uint64_t)i, b);
        tp_detect_observe_request(s, tp_detect_key_account(i), TP_PROF_MEDECIN, DAY0 + i * 1000, 0,
                                  TP_DETECT_RIGHTS_CHECK, b, 16, TP_DETECT_FOUND, &d);
        assert_int_equal(d.action, TP_DETECT_ALLOW);
    }
    struct tp_detect_stats st;
    tp_detect_stats(s, &st);
    assert_true(st.tracked <= 64);
    assert_true(st.tracked >= 48); /* shards fill unevenly, but fill */
    assert_int_equal(st.tracked + st.evicted, 1000);
    /* The most recent keys are the ones kept. */
    assert_int_equal(tp_detect_reset(s, tp_detect_key_account(999)), 1);
    assert_int_equal(tp_detect_reset(s, tp_detect_key_account(0)), 0);
    /* The bound counts every key with a full set. */
    assert_true(tp_detect_memory_bound(&cfg) >= 64ull * cfg.max_beneficiaries * 16);
    tp_detect_state_free(s);
}

static void per_account_set_is_bounded(void **state)
{
    (void)state;
    cfg.max_beneficiaries = 16;
    cfg.unclaimed_long_share_suspend = 15;
    for (int p = 0; p < TP_PROF_COUNT; p++) {
        cfg.prof[p].unclaimed_step_up = 5;
        cfg.prof[p].unclaimed_suspend = 10;
        cfg.prof[p].unclaimed_long_suspend = 15;
        cfg.prof[p].credit_max = 0;
    }
    struct tp_detect_state *s = new_state();
    /* Billed lookups well past the set size: the oldest billed ones make room. */
    struct actor a = actor(s, tp_detect_key_token(40), TP_PROF_HOPITAL);
    a.now = DAY0 + 9 * HOUR_MS;
    for (uint64_t i = 0; i < 500; i++) {
        lookup(&a, 40000000 + i, TP_DETECT_FOUND);
        claim(&a, 40000000 + i, TP_DETECT_PEC);
        a.now += 5000;
    }
    assert_false(a.suspended);
    /* Then unbilled ones still reach the suspension. */
    for (uint64_t i = 0; i < 500 && !a.suspended; i++) {
        lookup(&a, 41000000 + i, TP_DETECT_FOUND);
        a.now += 5000;
    }
    assert_true(a.suspended);
    assert_int_equal(a.disclosed, 500 + 9);
    tp_detect_state_free(s);
}

static void invalid_inputs_are_harmless(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    struct tp_detect_decision d;
    uint8_t b[4] = {1, 2, 3, 4};
    /* Too short a blind index, no blind index, odd enum values, a clock before 1970. */
    tp_detect_observe_request(s, 7, TP_PROF_PHARMACIE, DAY0, 0, TP_DETECT_RIGHTS_CHECK, b, 4,
                              TP_DETECT_FOUND, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_observe_request(s, 7, TP_PROF_PHARMACIE, DAY0, 0, TP_DETECT_RIGHTS_CHECK, NULL, 0,
                              (enum tp_detect_outcome)99, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_observe_request(s, 8, (enum tp_profession)99, -5000, 0, TP_DETECT_OTHER_PERSONAL_READ,
                              NULL, 0, TP_DETECT_FOUND, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_precheck(s, 9, (enum tp_profession) - 1, (enum tp_detect_kind)42, DAY0, &d);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    tp_detect_observe_step_up(s, 12345, DAY0, 0); /* unknown key */
    /* Calls that read nobody do not start tracking a key. */
    struct tp_detect_stats st;
    tp_detect_stats(s, &st);
    uint64_t tracked = st.tracked;
    tp_detect_precheck(s, 4242, TP_PROF_KINE, TP_DETECT_OTHER, DAY0, &d);
    tp_detect_observe_request(s, 4242, TP_PROF_KINE, DAY0, 0, TP_DETECT_CLAIM, b, 4,
                              TP_DETECT_FOUND, &d);
    tp_detect_stats(s, &st);
    assert_int_equal(st.tracked, tracked);
    /* An invalid configuration is refused. */
    struct tp_detect_state *bad = NULL;
    char msg[160];
    cfg.shards = 3;
    assert_int_equal(tp_detect_state_new(&cfg, &bad, msg, sizeof msg), TP_ERR_INVALID);
    assert_null(bad);
    tp_detect_state_free(s);
    tp_detect_state_free(NULL);
}

static void network_of_addresses(void **state)
{
    (void)state;
    assert_int_equal(tp_detect_network_of("192.168.1.7"), tp_detect_network_of("192.168.1.250"));
    assert_int_not_equal(tp_detect_network_of("192.168.1.7"), tp_detect_network_of("192.168.2.7"));
    assert_int_equal(tp_detect_network_of("::ffff:192.168.1.9"),
                     tp_detect_network_of("192.168.1.7"));
    assert_int_equal(tp_detect_network_of("2001:db8:1:2::1"),
                     tp_detect_network_of("2001:db8:1:ffff::2"));
    assert_int_not_equal(tp_detect_network_of("2001:db8:1::1"),
                         tp_detect_network_of("2001:db8:2::1"));
    assert_int_not_equal(tp_detect_network_of("0.0.0.0"), 0);
    assert_int_equal(tp_detect_network_of("unknown"), 0);
    assert_int_equal(tp_detect_network_of(""), 0);
    assert_int_equal(tp_detect_network_of(NULL), 0);
    assert_int_equal(tp_detect_key_is_token(tp_detect_key_token(5)), 1);
    assert_int_equal(tp_detect_key_is_token(tp_detect_key_account(5)), 0);
    assert_int_not_equal(tp_detect_key_token(5), tp_detect_key_account(5));
}

/* ---------------------------------------------------------------------------------------
 * Concurrency: threads share the state and one scraper key. */

#define THREADS 4

struct worker {
    struct tp_detect_state *s;
    int id;
    int own_suspended, shared_disclosed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct tp_detect_decision d;
    uint8_t b[16];
    uint64_t own = tp_detect_key_account(1000 + w->id), shared = tp_detect_key_account(999);
    int64_t t = DAY0 + 10 * HOUR_MS;
    for (uint64_t i = 0; i < 3000; i++) {
        t += 50;
        /* Many quiet keys (create, evict nothing: well within max_accounts). */
        bidx_of(i, b);
        uint64_t quiet = tp_detect_key_token(10000 * (w->id + 1) + (int64_t)(i % 200));
        tp_detect_observe_request(w->s, quiet, TP_PROF_HOPITAL, t, 0, TP_DETECT_RIGHTS_CHECK, b, 16,
                                  TP_DETECT_FOUND, &d);
        tp_detect_observe_request(w->s, quiet, TP_PROF_HOPITAL, t, 0, TP_DETECT_PEC, b, 16,
                                  TP_DETECT_FOUND, &d);
        /* This thread's own scraper, and the shared one. */
        bidx_of(((uint64_t)w->id << 32) | i, b);
        tp_detect_observe_request(w->s, own, TP_PROF_PHARMACIE, t, 0, TP_DETECT_RIGHTS_CHECK, b, 16,
                                  TP_DETECT_FOUND, &d);
        if (d.action == TP_DETECT_SUSPEND)
            w->own_suspended = 1;
        tp_detect_observe_request(w->s, shared, TP_PROF_PHARMACIE, t, 0, TP_DETECT_RIGHTS_CHECK, b,
                                  16, TP_DETECT_FOUND, &d);
        if (d.action == TP_DETECT_ALLOW || d.action == TP_DETECT_DELAY)
            w->shared_disclosed++;
        if (d.action == TP_DETECT_STEP_UP)
            tp_detect_observe_step_up(w->s, shared, t, 0);
        tp_detect_precheck(w->s, shared, TP_PROF_PHARMACIE, TP_DETECT_RIGHTS_CHECK, t, &d);
    }
    return NULL;
}

static void threads_share_the_state(void **state)
{
    (void)state;
    struct tp_detect_state *s = new_state();
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = s, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    int shared_disclosed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_true(w[i].own_suspended);
        shared_disclosed += w[i].shared_disclosed;
    }
    /* Together the threads got no more out of the shared key than one would have. */
    assert_true(shared_disclosed < 50);
    struct tp_detect_stats st;
    tp_detect_stats(s, &st);
    assert_int_equal(st.suspended, THREADS + 1);
    assert_int_equal(st.tracked, THREADS * 200 + THREADS + 1);
    tp_detect_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(fast_scraper_is_suspended_before_50, setup),
        cmocka_unit_test_setup(slow_scraper_one_every_30s_is_suspended_before_50, setup),
        cmocka_unit_test_setup(patient_scrapers_of_every_profession_are_suspended_before_50, setup),
        cmocka_unit_test_setup(very_slow_scraper_is_caught_by_the_long_window, setup),
        cmocka_unit_test_setup(scraper_without_totp_stops_at_the_step_up, setup),
        cmocka_unit_test_setup(enumerator_is_suspended_quickly, setup),
        cmocka_unit_test_setup(scraper_in_a_working_account_is_suspended_before_50, setup),
        cmocka_unit_test_setup(scraper_in_a_working_hospital_gets_at_most_the_credit_more, setup),
        cmocka_unit_test_setup(busy_pharmacy_week_is_never_suspended, setup),
        cmocka_unit_test_setup(hospital_admissions_desk_is_never_suspended, setup),
        cmocka_unit_test_setup(a_day_of_every_profession_suspends_nobody, setup),
        cmocka_unit_test_setup(new_network_asks_step_up_then_is_known, setup),
        cmocka_unit_test_setup(rate_limit_delays_a_burst, setup),
        cmocka_unit_test_setup(claims_settle_lookups, setup),
        cmocka_unit_test_setup(reset_lifts_a_suspension, setup),
        cmocka_unit_test_setup(alerts_are_kept_for_the_console, setup),
        cmocka_unit_test_setup(tracked_accounts_are_bounded, setup),
        cmocka_unit_test_setup(per_account_set_is_bounded, setup),
        cmocka_unit_test_setup(invalid_inputs_are_harmless, setup),
        cmocka_unit_test_setup(network_of_addresses, setup),
        cmocka_unit_test_setup(threads_share_the_state, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
