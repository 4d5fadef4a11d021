/* The guarantee language (src/core/guarantee_lang.h): parsing, errors with line and column,
 * caps, the canonical printer and its round trip, versions, the demo contracts; and the money
 * and percent parsers it shares with the reference data (src/core/refdata.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/guarantee_lang.h"

static struct tp_guarantee_set set, set2;
static char msg[256];

static enum tp_err parse(const char *text)
{
    msg[0] = '\0';
    return tp_gl_parse(text, strlen(text), &set, msg, sizeof msg);
}

/* Parsing `text` fails with rc and exactly this message. */
static void expect_error(const char *text, enum tp_err rc, const char *message)
{
    enum tp_err got = parse(text);
    if (got != rc || strcmp(msg, message) != 0)
        fail_msg("input:\n%s\nexpected %s \"%s\", got %s \"%s\"", text, tp_err_name(rc), message,
                 tp_err_name(got), msg);
}

static void parses_the_documented_example(void **state)
{
    (void)state;
    const char *text = "# a comment\n"
                       "name=MID_RESP\n"
                       "\n"
                       "version from 2026-01-01\n"
                       "responsable=yes\n"
                       "CONSULTATION.* kind=pct_br rate=150% base=incl_amo\n"
                       "OPTIQUE.VERRE class=B kind=forfait amount=150.00 per=2y "
                       "scope=beneficiary\r\n"
                       "DENTAIRE.PROTHESE basket=LIBRE kind=pct_br rate=250% ceiling=1200 "
                       "per=year scope=family\n"
                       "HOSPITALISATION.CHAMBRE kind=forfait amount=60.5 per=act\n"
                       "AUDIO.AIDE_AUDITIVE class=II kind=forfait amount=1000 per=48m "
                       "renewal=4y\n";
    assert_int_equal(parse(text), TP_OK);
    assert_string_equal(set.name, "MID_RESP");
    assert_int_equal(set.n_versions, 1);
    const struct tp_gl_version *v = &set.versions[0];
    assert_int_equal(v->from, tp_date_from_ymd(2026, 1, 1));
    assert_int_equal(v->responsable, 1);
    assert_int_equal(v->covers_pf, 0);
    assert_int_equal(v->n_rules, 5);

    const struct tp_gl_rule *c = &v->rules[0];
    assert_int_equal(c->domain, TP_DOM_CONSULTATION);
    assert_string_equal(c->family, "*");
    assert_int_equal(c->basket, TP_GL_ANY);
    assert_int_equal(c->kind, TP_GL_PCT_BR);
    assert_int_equal(c->rate_bp, 15000);
    assert_int_equal(c->incl_amo, 1);
    assert_int_equal(c->period_months, 0);
    assert_string_equal(c->key, "CONSULTATION.*/*");
    assert_int_equal(c->line, 6);

    const struct tp_gl_rule *o = &v->rules[1];
    assert_int_equal(o->basket, TP_BASKET_LIBRE); /* class=B */
    assert_int_equal(o->kind, TP_GL_FORFAIT);
    assert_int_equal(o->amount_cents, 15000);
    assert_int_equal(o->period_months, 24); /* 2y */
    assert_int_equal(o->civil_year, 0);
    assert_int_equal(o->scope, TP_GL_BENEFICIARY);
    assert_string_equal(o->key, "OPTIQUE.VERRE/LIBRE");

    const struct tp_gl_rule *d = &v->rules[2];
    assert_int_equal(d->ceiling_cents, 120000);
    assert_int_equal(d->civil_year, 1);
    assert_int_equal(d->period_months, 12);
    assert_int_equal(d->scope, TP_GL_FAMILY);

    assert_int_equal(v->rules[3].amount_cents, 6050);
    assert_int_equal(v->rules[4].renewal_months, 48);
    assert_int_equal(v->rules[4].basket, TP_BASKET_LIBRE); /* class=II */
}

static void errors_name_line_and_column(void **state)
{
    (void)state;
    /* Columns are 1-based byte offsets of the offending word or value. */
    expect_error("version from 2026-01-01\nOPTIQUE.VERRE kind=forfait amount=abc\n", TP_ERR_INVALID,
                 "line 2, column 35: amount must be euros like 150 or 150.00 (at most "
                 "1000000.00)");
    expect_error("version from 2026-01-01\n  FOO.X kind=none\n", TP_ERR_INVALID,
                 "line 2, column 3: unknown care domain (PHARMACIE, OPTIQUE, AUDIO, DENTAIRE, "
                 "HOSPITALISATION, CONSULTATION, LABORATOIRE, RADIOLOGIE, AUXILIAIRE, "
                 "TRANSPORT)");
    expect_error("OPTIQUE.* kind=none\n", TP_ERR_INVALID,
                 "line 1, column 1: expected 'version from YYYY-MM-DD' before rules");
    expect_error("version from 2026-01-01\nCONSULTATION.* kind=pct_br rate=100\n", TP_ERR_INVALID,
                 "line 2, column 33: rate must be a percent like 100% or 125.5% (at most "
                 "10000%)");
    expect_error("version from 2026-01-01\nCONSULTATION.* kind=pct_br rate=100% rate=90%\n",
                 TP_ERR_INVALID, "line 2, column 38: key given twice");
    expect_error("version from 2026-01-01\nCONSULTATION.* rate=100%\n", TP_ERR_INVALID,
                 "line 2, column 1: kind= is required");
    expect_error("version from 2026-01-01\nCONSULTATION.* kind=pct_br\n", TP_ERR_INVALID,
                 "line 2, column 1: kind=pct_br needs rate=");
    expect_error("version from 2026-01-01\nCONSULTATION.* kind=forfait amount=5 rate=10%\n",
                 TP_ERR_INVALID, "line 2, column 38: key not allowed with this kind");
    expect_error("version from 2026-01-01\nCONSULTATION.* kind=frais_reels scope=family\n",
                 TP_ERR_INVALID, "line 2, column 33: scope= needs a period (per=year or per=Nm)");
    expect_error("version from 2026-01-01\nCONSULTATION.* kind=frais_reels colour=red\n",
                 TP_ERR_INVALID,
                 "line 2, column 33: unknown key (kind, basket, class, rate, base, amount, "
                 "ceiling, per, scope, renewal)");
    expect_error("version from 2026-01-01\nOPTIQUE.verre kind=none\n", TP_ERR_INVALID,
                 "line 2, column 9: act family must be 1 to 16 of A-Z 0-9 _, or *");
    expect_error("version from 2026-01-01\nOPTIQUE.* kind=frais_reels per=25x\n", TP_ERR_INVALID,
                 "line 2, column 32: per must be act, year, or a period like 24m or 2y (1 to "
                 "120 months)");
    expect_error("version from 2026-01-01\nOPTIQUE.* kind=frais_reels per=121m\n", TP_ERR_INVALID,
                 "line 2, column 32: per must be act, year, or a period like 24m or 2y (1 to "
                 "120 months)");
    expect_error("version from 2026-01-01\nAUDIO.* class=C kind=none\n", TP_ERR_INVALID,
                 "line 2, column 15: class must be A, B (optique) or I, II (audio)");
    expect_error("version from 2026-01-01\nOPTIQUE.VERRE class=B kind=none\n"
                 "OPTIQUE.VERRE basket=LIBRE kind=frais_reels\n",
                 TP_ERR_INVALID,
                 "line 3, column 1: same domain, family and basket as an earlier rule of this "
                 "version");
    expect_error("version from 2026-01-01\nresponsable=yes\ncovers_pf=yes\n", TP_ERR_INVALID,
                 "line 3, column 1: a contrat responsable may not cover the participation "
                 "forfaitaire or franchises (CSS L871-1)");
    expect_error("version from 2026-01-01\nOPTIQUE.* kind=none\nresponsable=yes\n", TP_ERR_INVALID,
                 "line 3, column 1: responsable= and covers_pf= come before the rules");
    expect_error("version from 2026-01-01\nresponsable=maybe\n", TP_ERR_INVALID,
                 "line 2, column 13: expected yes or no");
    expect_error("version from 2026-01-01\nversion from 2025-01-01\n", TP_ERR_INVALID,
                 "line 2, column 14: versions must be in increasing date order");
    expect_error("version from 2026-02-30\n", TP_ERR_INVALID,
                 "line 1, column 14: expected a date YYYY-MM-DD");
    expect_error("version 2026-01-01\n", TP_ERR_INVALID,
                 "line 1, column 1: expected: version from YYYY-MM-DD");
    expect_error("version from 2026-01-01\nname=LATE\n", TP_ERR_INVALID,
                 "line 2, column 1: name= comes once, before the first version");
    expect_error("version from 2026-01-01\nOPTIQUE.* kind=none \xc3\xa9\n", TP_ERR_INVALID,
                 "line 2, column 21: only printable ASCII is allowed");
    expect_error("", TP_ERR_INVALID, "line 1: no 'version from' statement");
    expect_error("# only a comment\n\n", TP_ERR_INVALID, "line 2: no 'version from' statement");
}

static void caps_are_enforced(void **state)
{
    (void)state;
    /* A line longer than TP_GL_LINE_MAX. */
    char text[TP_GL_TEXT_MAX + 64];
    int n = snprintf(text, sizeof text, "version from 2026-01-01\n# ");
    memset(text + n, 'x', TP_GL_LINE_MAX);
    strcpy(text + n + TP_GL_LINE_MAX, "\n");
    expect_error(text, TP_ERR_TOO_BIG, "line 2: longer than 256 bytes");

    /* More than TP_GL_RULES_MAX rules in a version. */
    n = snprintf(text, sizeof text, "version from 2026-01-01\n");
    for (int i = 0; i <= TP_GL_RULES_MAX; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "OPTIQUE.F%d kind=none\n", i);
    expect_error(text, TP_ERR_TOO_BIG, "line 66: more than 64 rules in a version");

    /* More than TP_GL_VERSIONS_MAX versions. */
    n = 0;
    for (int i = 0; i <= TP_GL_VERSIONS_MAX; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "version from %d-01-01\n", 2020 + i);
    expect_error(text, TP_ERR_TOO_BIG, "line 9: more than 8 versions");

    /* The whole text. */
    memset(text, '\n', TP_GL_TEXT_MAX + 1);
    assert_int_equal(tp_gl_parse(text, TP_GL_TEXT_MAX + 1, &set, msg, sizeof msg), TP_ERR_TOO_BIG);
    /* Too many words on one line. */
    expect_error("version from 2026-01-01\nOPTIQUE.* a b c d e f g h i j k l m n o p\n",
                 TP_ERR_INVALID, "line 2, column 41: too many words on the line");
}

static void assert_sets_equal(const struct tp_guarantee_set *a, const struct tp_guarantee_set *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->n_versions, b->n_versions);
    for (int i = 0; i < a->n_versions; i++) {
        const struct tp_gl_version *x = &a->versions[i], *y = &b->versions[i];
        assert_int_equal(x->from, y->from);
        assert_int_equal(x->responsable, y->responsable);
        assert_int_equal(x->covers_pf, y->covers_pf);
        assert_int_equal(x->n_rules, y->n_rules);
        for (int j = 0; j < x->n_rules; j++) {
            struct tp_gl_rule r = x->rules[j], s = y->rules[j];
            r.line = s.line = 0;
            assert_memory_equal(&r, &s, sizeof r);
        }
    }
}

static void printer_round_trips(void **state)
{
    (void)state;
    static char out1[TP_GL_TEXT_MAX], out2[TP_GL_TEXT_MAX];
    size_t n1, n2;
    for (int d = 0; d < TP_GL_DEMO_COUNT; d++) {
        const char *text = tp_gl_demo_text((enum tp_gl_demo)d);
        assert_int_equal(tp_gl_parse(text, strlen(text), &set, msg, sizeof msg), TP_OK);
        assert_int_equal(tp_gl_print(&set, out1, sizeof out1, &n1), TP_OK);
        assert_int_equal(strlen(out1), n1);
        assert_int_equal(tp_gl_parse(out1, n1, &set2, msg, sizeof msg), TP_OK);
        assert_sets_equal(&set, &set2);
        assert_int_equal(tp_gl_print(&set2, out2, sizeof out2, &n2), TP_OK);
        assert_string_equal(out1, out2); /* canonical: printing is a fixed point */
    }
    /* The canonical spelling of aliases and defaults. */
    assert_int_equal(parse("version from 2026-01-01\n"
                           "AUDIO.AIDE_AUDITIVE class=II kind=forfait amount=1000 per=4y\n"
                           "CONSULTATION.* kind=pct_br rate=125.5% base=excl_amo ceiling=9.9\n"
                           "DENTAIRE.* kind=none\n"),
                     TP_OK);
    assert_int_equal(tp_gl_print(&set, out1, sizeof out1, &n1), TP_OK);
    assert_string_equal(out1, "version from 2026-01-01\n"
                              "responsable=no\n"
                              "covers_pf=no\n"
                              "AUDIO.AIDE_AUDITIVE basket=LIBRE kind=forfait amount=1000.00 "
                              "per=48m scope=beneficiary\n"
                              "CONSULTATION.* basket=* kind=pct_br rate=125.50% base=excl_amo "
                              "ceiling=9.90 per=act\n"
                              "DENTAIRE.* basket=* kind=none\n");
    /* A buffer too small is an error, not a truncated text. */
    char small[40];
    assert_int_equal(tp_gl_print(&set, small, sizeof small, &n1), TP_ERR_TOO_BIG);
    assert_string_equal(small, "");
}

static void version_in_force(void **state)
{
    (void)state;
    assert_int_equal(parse("version from 2025-01-01\nresponsable=no\n"
                           "version from 2026-01-01\nresponsable=yes\n"),
                     TP_OK);
    assert_null(tp_gl_version_at(&set, tp_date_from_ymd(2024, 12, 31)));
    assert_ptr_equal(tp_gl_version_at(&set, tp_date_from_ymd(2025, 1, 1)), &set.versions[0]);
    assert_ptr_equal(tp_gl_version_at(&set, tp_date_from_ymd(2025, 12, 31)), &set.versions[0]);
    assert_ptr_equal(tp_gl_version_at(&set, tp_date_from_ymd(2026, 1, 1)), &set.versions[1]);
    assert_int_equal(tp_gl_version_at(&set, tp_date_from_ymd(2030, 1, 1))->responsable, 1);
}

static void demo_contracts(void **state)
{
    (void)state;
    assert_int_equal(tp_gl_demo_for(0, 5), TP_GL_DEMO_HIGH_FREE);
    assert_int_equal(tp_gl_demo_for(1, 1), TP_GL_DEMO_ENTRY_RESP);
    assert_int_equal(tp_gl_demo_for(1, 2), TP_GL_DEMO_ENTRY_RESP);
    assert_int_equal(tp_gl_demo_for(1, 3), TP_GL_DEMO_MID_RESP);
    const char *t = tp_gl_demo_text(TP_GL_DEMO_HIGH_FREE);
    assert_int_equal(tp_gl_parse(t, strlen(t), &set, msg, sizeof msg), TP_OK);
    assert_string_equal(set.name, "HIGH_FREE");
    assert_int_equal(set.versions[0].responsable, 0);
    assert_int_equal(set.versions[0].covers_pf, 1);
    t = tp_gl_demo_text(TP_GL_DEMO_ENTRY_RESP);
    assert_int_equal(tp_gl_parse(t, strlen(t), &set, msg, sizeof msg), TP_OK);
    assert_int_equal(set.versions[0].responsable, 1);
}

static void money_and_percent(void **state)
{
    (void)state;
    int64_t c;
    int32_t bp;
    char buf[24];
    assert_int_equal(tp_money_parse("150", 3, &c), TP_OK);
    assert_int_equal(c, 15000);
    assert_int_equal(tp_money_parse("150.5", 5, &c), TP_OK);
    assert_int_equal(c, 15050);
    assert_int_equal(tp_money_parse("0.05", 4, &c), TP_OK);
    assert_int_equal(c, 5);
    assert_int_equal(tp_money_parse("150.505", 7, &c), TP_ERR_INVALID);
    assert_int_equal(tp_money_parse("", 0, &c), TP_ERR_INVALID);
    assert_int_equal(tp_money_parse("-1", 2, &c), TP_ERR_INVALID);
    assert_int_equal(tp_money_parse("1.", 2, &c), TP_ERR_INVALID);
    assert_int_equal(tp_money_parse(".5", 2, &c), TP_ERR_INVALID);
    assert_int_equal(tp_money_parse("1,5", 3, &c), TP_ERR_INVALID);
    assert_int_equal(tp_money_parse("9999999999999", 13, &c), TP_ERR_INVALID);
    tp_money_format(5, buf);
    assert_string_equal(buf, "0.05");
    tp_money_format(0, buf);
    assert_string_equal(buf, "0.00");
    tp_money_format(123456, buf);
    assert_string_equal(buf, "1234.56");
    tp_money_format(-5, buf);
    assert_string_equal(buf, "-0.05");
    tp_money_format(INT64_MIN, buf);
    assert_string_equal(buf, "-92233720368547758.08");
    assert_int_equal(tp_percent_parse("12.5%", 5, &bp), TP_OK);
    assert_int_equal(bp, 1250);
    assert_int_equal(tp_percent_parse("65", 2, &bp), TP_OK);
    assert_int_equal(bp, 6500);
    assert_int_equal(tp_percent_parse("10001%", 6, &bp), TP_ERR_INVALID);
    assert_int_equal(tp_percent_parse("%", 1, &bp), TP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_the_documented_example),
        cmocka_unit_test(errors_name_line_and_column),
        cmocka_unit_test(caps_are_enforced),
        cmocka_unit_test(printer_round_trips),
        cmocka_unit_test(version_in_force),
        cmocka_unit_test(demo_contracts),
        cmocka_unit_test(money_and_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
