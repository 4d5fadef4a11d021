/* Scraping detection scoring and configuration (src/core/detect.h): each rule fires on the
 * features it is about, and none fires on a legitimate pharmacy's day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/detect.h"

static struct tp_detect_config cfg;

static int setup(void **state)
{
    (void)state;
    tp_detect_config_defaults(&cfg);
    return 0;
}

/* A pharmacy at 17:00 after 250 checks, nearly all followed by a claim. */
static struct tp_detect_features pharmacy_day(void)
{
    struct tp_detect_features f;
    memset(&f, 0, sizeof f);
    f.profession = TP_PROF_PHARMACIE;
    f.kind = TP_DETECT_RIGHTS_CHECK;
    f.outcome = TP_DETECT_FOUND;
    f.distinct_hour = 35;
    f.distinct_long = 240;
    f.unclaimed_short = 12;
    f.unclaimed_long = 30;
    f.settled_checks = 180;
    f.settled_unclaimed = 20;
    f.checks_hour = 36;
    f.not_found_hour = 1;
    f.checks_long = 250;
    f.not_found_long = 7;
    f.gaps = 20;
    f.gap_cv_permille = 1100;
    f.off_hours_long = 0;
    f.own_daily_distinct = 230;
    f.own_days = 20;
    f.since_step_up_ms = 9 * 3600 * 1000LL; /* signed in with TOTP this morning */
    f.unclaimed_at_step_up = 0;
    return f;
}

static struct tp_detect_decision score(const struct tp_detect_features *f)
{
    return tp_detect_score(f, &cfg, &cfg.prof[f->profession]);
}

static void legitimate_pharmacy_day_is_allowed(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    assert_int_equal(d.rule, TP_RULE_NONE);
    assert_false(d.alert);
    assert_int_equal(d.delay_ms, 0);
    /* Never signed in through detection's eyes (state evicted): still allowed. */
    f.since_step_up_ms = -1;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
}

static void unclaimed_short_suspends_at_threshold(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.unclaimed_short = cfg.prof[TP_PROF_PHARMACIE].unclaimed_suspend - 1;
    f.unclaimed_at_step_up = f.unclaimed_short; /* just stepped up at this count */
    f.since_step_up_ms = 1000;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
    f.unclaimed_short++;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_SUSPEND);
    assert_int_equal(d.rule, TP_RULE_UNCLAIMED_SHORT);
    assert_true(d.alert);
    assert_non_null(strstr(d.reason, "45 beneficiaries looked up"));
    assert_non_null(strstr(d.reason, "no claim or PEC"));
    assert_non_null(strstr(d.reason, "PHARMACIE"));
}

static void unclaimed_growth_asks_step_up_again(void **state)
{
    (void)state;
    const struct tp_detect_baseline *b = &cfg.prof[TP_PROF_PHARMACIE];
    struct tp_detect_features f = pharmacy_day();
    f.unclaimed_short = b->unclaimed_step_up - 1;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
    f.unclaimed_short = b->unclaimed_step_up;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_UNCLAIMED_SHORT);
    /* Step-up given at that count: no new demand until step_up_increment more. */
    f.since_step_up_ms = 60 * 1000;
    f.unclaimed_at_step_up = b->unclaimed_step_up;
    f.unclaimed_short = b->unclaimed_step_up + cfg.step_up_increment - 1;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
    f.unclaimed_short++;
    assert_int_equal(score(&f).action, TP_DETECT_STEP_UP);
}

static void settlement_credit_is_bounded_and_per_profession(void **state)
{
    (void)state;
    const struct tp_detect_baseline *h = &cfg.prof[TP_PROF_HOPITAL];
    struct tp_detect_features f = pharmacy_day();
    f.profession = TP_PROF_HOPITAL;
    f.distinct_hour = 60;
    f.unclaimed_short = h->unclaimed_suspend + 5;
    f.settled_short = 0; /* a scraper alone: no credit */
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
    f.settled_short = 12; /* credit 6 at 500 permille */
    f.unclaimed_at_step_up = f.unclaimed_short;
    f.since_step_up_ms = 1000;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
    f.unclaimed_short = h->unclaimed_suspend + 6;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_SUSPEND);
    assert_non_null(strstr(d.reason, "suspension at 51"));
    /* Capped: no amount of settled lookups buys more than credit_max. */
    f.settled_short = 10000;
    f.unclaimed_short = h->unclaimed_suspend + h->credit_max;
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
    /* Other professions have none by default. */
    f.profession = TP_PROF_PHARMACIE;
    f.unclaimed_short = cfg.prof[TP_PROF_PHARMACIE].unclaimed_suspend;
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
}

static void token_is_slowed_instead_of_step_up(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.is_token = 1;
    f.since_step_up_ms = -1;
    f.unclaimed_short = cfg.prof[TP_PROF_PHARMACIE].unclaimed_step_up;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_DELAY);
    assert_int_equal(d.rule, TP_RULE_UNCLAIMED_SHORT);
    assert_int_equal(d.delay_ms, cfg.slow_delay_ms);
    assert_true(d.alert);
    f.unclaimed_short = cfg.prof[TP_PROF_PHARMACIE].unclaimed_suspend;
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
}

static void unclaimed_long_suspends(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.unclaimed_long = cfg.prof[TP_PROF_PHARMACIE].unclaimed_long_suspend;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_SUSPEND);
    assert_int_equal(d.rule, TP_RULE_UNCLAIMED_LONG);
    assert_non_null(strstr(d.reason, "last 24 h"));
    /* An optician's long-window limit is lower: it sees 10-30 patients a day. */
    f.profession = TP_PROF_OPTICIEN;
    f.unclaimed_long = cfg.prof[TP_PROF_OPTICIEN].unclaimed_long_suspend;
    f.distinct_long = 2 * f.unclaimed_long; /* it billed half: the share rule stays out */
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
    f.unclaimed_long--;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
}

static void unclaimed_long_share_suspends_a_slow_scraper(void **state)
{
    (void)state;
    /* One lookup every 5 min over a day: never 45 in the short window, nothing billed. */
    struct tp_detect_features f = pharmacy_day();
    f.unclaimed_short = 18;
    f.distinct_long = f.unclaimed_long = cfg.unclaimed_long_share_suspend;
    f.settled_checks = f.settled_unclaimed = f.unclaimed_long - 20;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_SUSPEND);
    assert_int_equal(d.rule, TP_RULE_UNCLAIMED_LONG);
    assert_non_null(strstr(d.reason, "when 90% or more"));
    /* One fewer: not suspended yet (below the pharmacy's own long limit too). */
    f.distinct_long = --f.unclaimed_long;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
    /* The same count in an account that billed a sixth of what it looked up: not this rule. */
    f.unclaimed_long = cfg.unclaimed_long_share_suspend;
    f.distinct_long = f.unclaimed_long * 6 / 5;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
    /* A pessimistic pharmacy: 300 a day, one in five never billed (60 unsettled, 20 %). */
    f.distinct_long = 300;
    f.unclaimed_long = 60;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
    /* Any profession: the bound does not depend on the profession's long limit. */
    f.profession = TP_PROF_HOPITAL;
    f.distinct_long = f.unclaimed_long = cfg.unclaimed_long_share_suspend;
    assert_int_equal(tp_detect_score(&f, &cfg, &cfg.prof[TP_PROF_HOPITAL]).action,
                     TP_DETECT_SUSPEND);
}

static void enumeration_step_up_then_suspend(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.checks_hour = 12;
    f.not_found_hour = cfg.not_found_step_up_hour;
    f.since_step_up_ms = -1;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_ENUMERATION);
    f.checks_hour = 30;
    f.not_found_hour = cfg.not_found_suspend_hour;
    d = score(&f);
    assert_int_equal(d.action, TP_DETECT_SUSPEND);
    assert_int_equal(d.rule, TP_RULE_ENUMERATION);
    assert_non_null(strstr(d.reason, "enumerated"));
    /* The same count drowned in many successful checks is typing, not enumeration. */
    f.checks_hour = 200;
    f.checks_long = 1000;
    assert_int_not_equal(score(&f).action, TP_DETECT_SUSPEND);
    /* Over the long window. */
    f.not_found_hour = 0;
    f.checks_hour = 0;
    f.not_found_long = cfg.not_found_suspend_long;
    f.checks_long = cfg.not_found_suspend_long + 10;
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
}

static void machine_timing_asks_step_up(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.since_step_up_ms = -1;
    f.gaps = cfg.timing_min_gaps;
    f.gap_cv_permille = 40;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_TIMING);
    assert_non_null(strstr(d.reason, "machine-regular"));
    /* Too few gaps to tell. */
    f.gaps = cfg.timing_min_gaps - 1;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
    /* Practice software (an API token) is a machine: not a signal there. */
    f.is_token = 1;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
    f.is_token = 0;
    /* Just after a step-up, soft signals wait for the cooldown. */
    f.gaps = cfg.timing_min_gaps;
    f.since_step_up_ms = 60 * 1000;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
}

static void new_network_asks_step_up_of_a_session_only(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.new_network = 1;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_NEW_NETWORK);
    f.is_token = 1;
    d = score(&f);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    assert_int_equal(d.rule, TP_RULE_NEW_NETWORK);
    assert_true(d.alert);
}

static void unclaimed_share_asks_step_up(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.since_step_up_ms = -1;
    f.settled_checks = 40;
    f.settled_unclaimed = 36; /* 90 % */
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_UNCLAIMED_SHARE);
    f.settled_checks = cfg.unclaimed_share_min_checks - 1;
    f.settled_unclaimed = f.settled_checks;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
}

static void volume_hour_slows_volume_day_steps_up(void **state)
{
    (void)state;
    const struct tp_detect_baseline *b = &cfg.prof[TP_PROF_PHARMACIE];
    struct tp_detect_features f = pharmacy_day();
    f.distinct_hour = b->max_distinct_hour + 1;
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_DELAY);
    assert_int_equal(d.rule, TP_RULE_VOLUME_HOUR);
    assert_int_equal(d.delay_ms, cfg.slow_delay_ms);
    f.distinct_hour = 35;
    f.distinct_long = b->max_distinct_day + 1;
    f.since_step_up_ms = -1;
    d = score(&f);
    assert_int_equal(d.action, TP_DETECT_STEP_UP);
    assert_int_equal(d.rule, TP_RULE_VOLUME_DAY);
    /* A hospital's day is another order of magnitude. */
    f.profession = TP_PROF_HOPITAL;
    assert_int_equal(score(&f).action, TP_DETECT_ALLOW);
}

static void own_baseline_and_off_hours_alert_only(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.own_daily_distinct = 40;
    f.distinct_long = 200; /* 5 x usual */
    struct tp_detect_decision d = score(&f);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    assert_int_equal(d.rule, TP_RULE_OWN_BASELINE);
    assert_true(d.alert);
    f.own_days = cfg.own_baseline_min_days - 1; /* too little history */
    assert_false(score(&f).alert);
    f = pharmacy_day();
    f.off_hours_long = cfg.off_hours_alert;
    d = score(&f);
    assert_int_equal(d.action, TP_DETECT_ALLOW);
    assert_int_equal(d.rule, TP_RULE_OFF_HOURS);
    assert_non_null(strstr(d.reason, "08:00-21:00"));
}

static void most_severe_wins(void **state)
{
    (void)state;
    struct tp_detect_features f = pharmacy_day();
    f.new_network = 1;                                                 /* step-up */
    f.distinct_hour = 500;                                             /* delay */
    f.unclaimed_short = cfg.prof[TP_PROF_PHARMACIE].unclaimed_suspend; /* suspend */
    assert_int_equal(score(&f).action, TP_DETECT_SUSPEND);
    f.unclaimed_short = 0;
    assert_int_equal(score(&f).action, TP_DETECT_STEP_UP);
}

/* ---------------------------------------------------------------------------------------
 * Configuration */

static enum tp_err parse(const char *text, struct tp_detect_config *out, char *msg, size_t len)
{
    return tp_detect_config_parse(text, strlen(text), out, msg, len);
}

static void shipped_file_equals_defaults(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/test_detect.c");
    assert_non_null(cut);
    snprintf(cut, sizeof path - (size_t)(cut - path), "data/detect.conf");
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char text[TP_DETECT_CONFIG_TEXT_MAX + 1];
    size_t n = fread(text, 1, sizeof text, fp);
    fclose(fp);
    assert_true(n <= TP_DETECT_CONFIG_TEXT_MAX);
    struct tp_detect_config c;
    char msg[160] = "";
    assert_int_equal(tp_detect_config_parse(text, n, &c, msg, sizeof msg), TP_OK);
    assert_memory_equal(&c, &cfg, sizeof c);
}

static void parses_keys_and_profession_overrides(void **state)
{
    (void)state;
    struct tp_detect_config c;
    char msg[160];
    /* The profession line comes first, default.* after: the profession still wins. */
    const char *text = "# comment\n"
                       "OPTICIEN.unclaimed_suspend = 40\r\n"
                       "  default.unclaimed_suspend = 44   # trailing comment\n"
                       "\n"
                       "short_window_min=120\n"
                       "utc_offset_min = -300\n";
    assert_int_equal(parse(text, &c, msg, sizeof msg), TP_OK);
    assert_int_equal(c.prof[TP_PROF_OPTICIEN].unclaimed_suspend, 40);
    assert_int_equal(c.prof[TP_PROF_PHARMACIE].unclaimed_suspend, 44);
    assert_int_equal(c.prof[TP_PROF_HOPITAL].unclaimed_suspend, 44);
    assert_int_equal(c.short_window_min, 120);
    assert_int_equal(c.utc_offset_min, -300);
    assert_int_equal(c.long_window_min, cfg.long_window_min); /* untouched */
    /* Empty text: the defaults. */
    assert_int_equal(tp_detect_config_parse("", 0, &c, msg, sizeof msg), TP_OK);
    assert_memory_equal(&c, &cfg, sizeof c);
}

static void rejects_bad_configurations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"nonsense = 1\n", "line 1: unknown key"},
        {"\nPHARMACIE.nope = 1\n", "line 2: unknown key"},
        {"BOULANGER.burst = 1\n", "unknown profession"},
        {"shards = 3\n", "power of two"},
        {"shards = 12x\n", "not a decimal"},
        {"shards = \n", "expected key = value"},
        {"shards 4\n", "expected key = value"},
        {"max_accounts = 99999999999\n", "not a decimal"},
        {"max_accounts = 0\n", "out of range"},
        {"short_window_min = -5\n", "out of range"},
        {"shards = 4\nshards = 8\n", "line 2: shards given twice"},
        {"PHARMACIE.unclaimed_step_up = 50\n", "unclaimed_step_up <= unclaimed_suspend"},
        {"default.unclaimed_long_suspend = 300\n", "below max_beneficiaries"},
        {"HOPITAL.credit_max = 220\n", "unclaimed_suspend + credit_max"},
        {"HOPITAL.credit_permille = 1001\n", "out of range"},
        {"HOPITAL.open_hour = 20\nHOPITAL.close_hour = 8\n", "open_hour < close_hour"},
        {"short_window_min = 2000\nlong_window_min = 1440\n", "windows"},
        {"not_found_step_up_hour = 30\n", "not_found_step_up_hour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tp_detect_config c;
        memset(&c, 0x5a, sizeof c);
        char msg[160] = "";
        assert_int_equal(parse(bad[i].text, &c, msg, sizeof msg), TP_ERR_INVALID);
        if (!strstr(msg, bad[i].msg))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, msg, bad[i].msg);
        /* out is untouched on failure */
        assert_int_equal(c.shards, 0x5a5a5a5a);
    }
    /* NUL inside a line, a line too long, a file too big. */
    struct tp_detect_config c;
    char msg[160];
    assert_int_equal(tp_detect_config_parse("shards = 4\0\n", 12, &c, msg, sizeof msg),
                     TP_ERR_INVALID);
    char *big = malloc(TP_DETECT_CONFIG_TEXT_MAX + 2);
    assert_non_null(big);
    memset(big, '#', TP_DETECT_CONFIG_TEXT_MAX + 1);
    assert_int_equal(tp_detect_config_parse(big, 300, &c, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "longer than"));
    assert_int_equal(
        tp_detect_config_parse(big, TP_DETECT_CONFIG_TEXT_MAX + 1, &c, msg, sizeof msg),
        TP_ERR_TOO_BIG);
    free(big);
}

static void names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(tp_detect_action_name(TP_DETECT_SUSPEND), "suspend");
    assert_string_equal(tp_detect_rule_name(TP_RULE_UNCLAIMED_SHORT), "unclaimed_short");
    assert_string_equal(tp_detect_rule_name(TP_RULE_STEP_UP_PENDING), "step_up_pending");
    assert_string_equal(tp_detect_rule_name(TP_RULE_COUNT), "unknown");
    assert_string_equal(tp_detect_kind_name(TP_DETECT_PEC), "pec");
    for (int r = 0; r < TP_RULE_COUNT; r++)
        assert_string_not_equal(tp_detect_rule_name((enum tp_detect_rule)r), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(legitimate_pharmacy_day_is_allowed, setup),
        cmocka_unit_test_setup(unclaimed_short_suspends_at_threshold, setup),
        cmocka_unit_test_setup(unclaimed_growth_asks_step_up_again, setup),
        cmocka_unit_test_setup(settlement_credit_is_bounded_and_per_profession, setup),
        cmocka_unit_test_setup(token_is_slowed_instead_of_step_up, setup),
        cmocka_unit_test_setup(unclaimed_long_suspends, setup),
        cmocka_unit_test_setup(unclaimed_long_share_suspends_a_slow_scraper, setup),
        cmocka_unit_test_setup(enumeration_step_up_then_suspend, setup),
        cmocka_unit_test_setup(machine_timing_asks_step_up, setup),
        cmocka_unit_test_setup(new_network_asks_step_up_of_a_session_only, setup),
        cmocka_unit_test_setup(unclaimed_share_asks_step_up, setup),
        cmocka_unit_test_setup(volume_hour_slows_volume_day_steps_up, setup),
        cmocka_unit_test_setup(own_baseline_and_off_hours_alert_only, setup),
        cmocka_unit_test_setup(most_severe_wins, setup),
        cmocka_unit_test_setup(shipped_file_equals_defaults, setup),
        cmocka_unit_test_setup(parses_keys_and_profession_overrides, setup),
        cmocka_unit_test_setup(rejects_bad_configurations, setup),
        cmocka_unit_test_setup(names_are_stable, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
