/* The rights decision (PRODUCT §3.1) and engagement numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/rights.h"

static struct tp_beneficiary covered_2026(void)
{
    struct tp_beneficiary b;
    memset(&b, 0, sizeof b);
    b.coverage_start = tp_date_from_ymd(2026, 1, 1);
    b.coverage_end = tp_date_from_ymd(2026, 12, 31);
    b.tp_domains = TP_DOM_ALL & ~(1u << TP_DOM_AUDIO);
    return b;
}

static void pharmacy_checks_covered_member(void **state)
{
    (void)state;
    struct tp_beneficiary b = covered_2026();
    tp_day d = tp_date_from_ymd(2026, 11, 23);
    struct tp_rights_decision r = tp_rights_decide(&b, TP_DOM_PHARMACIE, TP_PROF_PHARMACIE, d);
    assert_int_equal(r.outcome, TP_RIGHTS_OPEN);
    assert_int_equal(r.valid_until, d + TP_ENGAGEMENT_VALIDITY_DAYS);
}

static void coverage_bounds_are_inclusive(void **state)
{
    (void)state;
    struct tp_beneficiary b = covered_2026();
    assert_int_equal(
        tp_rights_decide(&b, TP_DOM_PHARMACIE, TP_PROF_PHARMACIE, b.coverage_start).outcome,
        TP_RIGHTS_OPEN);
    assert_int_equal(
        tp_rights_decide(&b, TP_DOM_PHARMACIE, TP_PROF_PHARMACIE, b.coverage_end).outcome,
        TP_RIGHTS_OPEN);
    assert_int_equal(
        tp_rights_decide(&b, TP_DOM_PHARMACIE, TP_PROF_PHARMACIE, b.coverage_end + 1).outcome,
        TP_RIGHTS_CLOSED);
    assert_int_equal(
        tp_rights_decide(&b, TP_DOM_PHARMACIE, TP_PROF_PHARMACIE, b.coverage_start - 1).outcome,
        TP_RIGHTS_CLOSED);
}

static void domain_not_open_is_not_covered(void **state)
{
    (void)state;
    struct tp_beneficiary b = covered_2026();
    tp_day d = tp_date_from_ymd(2026, 6, 1);
    assert_int_equal(tp_rights_decide(&b, TP_DOM_AUDIO, TP_PROF_AUDIOPROTHESISTE, d).outcome,
                     TP_RIGHTS_DOMAIN_NOT_OPEN);
}

static void profession_outside_domain_is_refused_first(void **state)
{
    (void)state;
    /* Even for an expired beneficiary the answer is "forbidden", not "closed": nothing about
     * the person is revealed to a PS asking outside its profession. */
    struct tp_beneficiary b = covered_2026();
    tp_day d = tp_date_from_ymd(2030, 1, 1);
    assert_int_equal(tp_rights_decide(&b, TP_DOM_OPTIQUE, TP_PROF_PHARMACIE, d).outcome,
                     TP_RIGHTS_DOMAIN_FORBIDDEN);
    assert_int_equal(
        tp_rights_decide(&b, TP_DOM_HOSPITALISATION, TP_PROF_HOPITAL, tp_date_from_ymd(2026, 3, 3))
            .outcome,
        TP_RIGHTS_OPEN);
}

static void date_window(void **state)
{
    (void)state;
    tp_day today = tp_date_from_ymd(2026, 11, 23);
    assert_true(tp_rights_date_acceptable(today, today));
    assert_true(tp_rights_date_acceptable(today - TP_RIGHTS_PAST_DAYS, today));
    assert_false(tp_rights_date_acceptable(today - TP_RIGHTS_PAST_DAYS - 1, today));
    assert_true(tp_rights_date_acceptable(today + TP_RIGHTS_FUTURE_DAYS, today));
    assert_false(tp_rights_date_acceptable(today + TP_RIGHTS_FUTURE_DAYS + 1, today));
}

static void coverage_lists_domain_guarantees_only(void **state)
{
    (void)state;
    struct tp_contract c;
    memset(&c, 0, sizeof c);
    c.n_guarantees = 3;
    c.guarantees[0].domain = TP_DOM_OPTIQUE;
    c.guarantees[1].domain = TP_DOM_PHARMACIE;
    c.guarantees[2].domain = TP_DOM_OPTIQUE;
    const struct tp_guarantee *g[4];
    assert_int_equal(tp_rights_coverage(&c, TP_DOM_OPTIQUE, g, 4), 2);
    assert_ptr_equal(g[0], &c.guarantees[0]);
    assert_ptr_equal(g[1], &c.guarantees[2]);
    assert_int_equal(tp_rights_coverage(&c, TP_DOM_AUDIO, g, 4), 0);
    assert_int_equal(tp_rights_coverage(&c, TP_DOM_OPTIQUE, g, 1), 1);
}

static void engagement_numbers(void **state)
{
    (void)state;
    uint8_t zero[10] = {0}, ones[10];
    memset(ones, 0xff, sizeof ones);
    char a[TP_ENGAGEMENT_LEN + 1], b[TP_ENGAGEMENT_LEN + 1];
    tp_engagement_format(zero, a);
    tp_engagement_format(ones, b);
    assert_string_equal(a, "E0000000000000000");
    assert_string_equal(b, "EZZZZZZZZZZZZZZZZ");
    assert_true(tp_engagement_well_formed(a, strlen(a)));
    assert_true(tp_engagement_well_formed(b, strlen(b)));
    /* 0x84 0x21 ... = 10000 10000 10000 ...: every 5-bit group is 16 -> 'G'. */
    uint8_t pat[10] = {0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10};
    tp_engagement_format(pat, a);
    assert_string_equal(a, "EGGGGGGGGGGGGGGGG");
    assert_false(tp_engagement_well_formed("EGGGGGGGGGGGGGGGI", 17)); /* I is not Crockford */
    assert_false(tp_engagement_well_formed("XGGGGGGGGGGGGGGGG", 17));
    assert_false(tp_engagement_well_formed("EGGG", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pharmacy_checks_covered_member),
        cmocka_unit_test(coverage_bounds_are_inclusive),
        cmocka_unit_test(domain_not_open_is_not_covered),
        cmocka_unit_test(profession_outside_domain_is_refused_first),
        cmocka_unit_test(date_window),
        cmocka_unit_test(coverage_lists_domain_guarantees_only),
        cmocka_unit_test(engagement_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
