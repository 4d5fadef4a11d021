/* Domain vocabulary (src/core/domain.h): wire names, domain masks and the domains each
 * profession may query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/domain.h"

/* Through an exactly-sized heap copy so that ASan reports any read past len. */
static int64_t mask(const char *s)
{
    const size_t len = strlen(s);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    const int64_t m = tp_domain_mask_parse(copy, len);
    free(copy);
    return m;
}

#define BIT(d) ((int64_t)1 << (d))

static void domain_names_round_trip(void **state)
{
    (void)state;
    for (int d = 0; d < TP_DOM_COUNT; d++) {
        const char *name = tp_domain_name((enum tp_domain)d);
        assert_non_null(name);
        assert_int_equal(tp_domain_parse(name, strlen(name)), d);
        assert_int_equal(mask(name), BIT(d));
    }
    assert_string_equal(tp_domain_name(TP_DOM_PHARMACIE), "PHARMACIE");
    assert_string_equal(tp_domain_name(TP_DOM_TRANSPORT), "TRANSPORT");
    assert_string_equal(tp_domain_name(TP_DOM_COUNT), "UNKNOWN");
}

static void profession_names_round_trip(void **state)
{
    (void)state;
    for (int p = 0; p < TP_PROF_COUNT; p++) {
        const char *name = tp_profession_name((enum tp_profession)p);
        assert_non_null(name);
        assert_int_equal(tp_profession_parse(name, strlen(name)), p);
    }
    assert_string_equal(tp_profession_name(TP_PROF_MEDECIN), "MEDECIN");
    assert_string_equal(tp_profession_name(TP_PROF_COUNT), "UNKNOWN");
}

static void quality_names_round_trip(void **state)
{
    (void)state;
    for (int q = 0; q < TP_QUAL_COUNT; q++) {
        const char *name = tp_quality_name((enum tp_quality)q);
        assert_non_null(name);
        assert_int_equal(tp_quality_parse(name, strlen(name)), q);
    }
    assert_string_equal(tp_quality_name(TP_QUAL_CHILD), "CHILD");
    assert_string_equal(tp_quality_name(TP_QUAL_COUNT), "UNKNOWN");
}

/* Lookups are exact: no case folding, no prefix, no surrounding space. */
static void parse_is_exact(void **state)
{
    (void)state;
    assert_int_equal(tp_domain_parse("pharmacie", 9), -1);
    assert_int_equal(tp_domain_parse("PHARMA", 6), -1);
    assert_int_equal(tp_domain_parse("PHARMACIES", 10), -1);
    assert_int_equal(tp_domain_parse(" OPTIQUE", 8), -1);
    assert_int_equal(tp_domain_parse("", 0), -1);
    assert_int_equal(tp_profession_parse("Medecin", 7), -1);
    assert_int_equal(tp_profession_parse("OPTIQUE", 7), -1); /* a domain, not a profession */
    assert_int_equal(tp_quality_parse("MEMBRE", 6), -1);
    /* len bounds the name: the prefix of a longer buffer. */
    assert_int_equal(tp_domain_parse("OPTIQUE|AUDIO", 7), TP_DOM_OPTIQUE);
}

static void mask_parses_pipe_lists(void **state)
{
    (void)state;
    assert_int_equal(mask("PHARMACIE|OPTIQUE"), BIT(TP_DOM_PHARMACIE) | BIT(TP_DOM_OPTIQUE));
    assert_int_equal(mask("OPTIQUE|PHARMACIE"), BIT(TP_DOM_PHARMACIE) | BIT(TP_DOM_OPTIQUE));
    assert_int_equal(mask("AUDIO|AUDIO"), BIT(TP_DOM_AUDIO));
    assert_int_equal(mask("TRANSPORT"), BIT(TP_DOM_TRANSPORT));

    char all[256];
    size_t n = 0;
    for (int d = 0; d < TP_DOM_COUNT; d++) {
        const int w = snprintf(all + n, sizeof all - n, "%s%s", d ? "|" : "",
                               tp_domain_name((enum tp_domain)d));
        assert_in_range(w, 1, (int)(sizeof all - n - 1));
        n += (size_t)w;
    }
    assert_int_equal(mask(all), (int64_t)TP_DOM_ALL);
}

static void mask_rejects_unknown_or_empty_elements(void **state)
{
    (void)state;
    assert_int_equal(mask(""), -1);
    assert_int_equal(mask("|"), -1);
    assert_int_equal(mask("||"), -1);
    assert_int_equal(mask("PHARMACIE|"), -1);
    assert_int_equal(mask("|PHARMACIE"), -1);
    assert_int_equal(mask("PHARMACIE||OPTIQUE"), -1);
    assert_int_equal(mask("PHARMACIE|FOO"), -1);
    assert_int_equal(mask("PHARMACIE|optique"), -1);
    assert_int_equal(mask("PHARMACIE, OPTIQUE"), -1);
    assert_int_equal(mask("PHARMACIE| OPTIQUE"), -1);
    assert_int_equal(mask("MEDECIN"), -1); /* a profession, not a domain */
}

/* Data minimisation: each profession sees its own domains, and only known ones. */
static void profession_domains_are_minimal(void **state)
{
    (void)state;
    assert_int_equal(tp_profession_domains(TP_PROF_PHARMACIE), 1u << TP_DOM_PHARMACIE);
    assert_int_equal(tp_profession_domains(TP_PROF_OPTICIEN), 1u << TP_DOM_OPTIQUE);
    assert_int_equal(tp_profession_domains(TP_PROF_AUDIOPROTHESISTE), 1u << TP_DOM_AUDIO);
    assert_int_equal(tp_profession_domains(TP_PROF_DENTISTE), 1u << TP_DOM_DENTAIRE);
    assert_int_equal(tp_profession_domains(TP_PROF_MEDECIN), 1u << TP_DOM_CONSULTATION);
    assert_int_equal(tp_profession_domains(TP_PROF_INFIRMIER), 1u << TP_DOM_AUXILIAIRE);
    assert_int_equal(tp_profession_domains(TP_PROF_KINE), 1u << TP_DOM_AUXILIAIRE);
    assert_int_equal(tp_profession_domains(TP_PROF_TRANSPORTEUR), 1u << TP_DOM_TRANSPORT);
    /* A pharmacy learns nothing about optical or hearing coverage. */
    assert_int_equal(tp_profession_domains(TP_PROF_PHARMACIE) & (1u << TP_DOM_OPTIQUE), 0);
    assert_int_equal(tp_profession_domains(TP_PROF_PHARMACIE) & (1u << TP_DOM_AUDIO), 0);
    /* A hospital covers a stay, not glasses. */
    assert_true(tp_profession_domains(TP_PROF_HOPITAL) & (1u << TP_DOM_HOSPITALISATION));
    assert_int_equal(tp_profession_domains(TP_PROF_HOPITAL) & (1u << TP_DOM_OPTIQUE), 0);

    for (int p = 0; p < TP_PROF_COUNT; p++) {
        const uint32_t doms = tp_profession_domains((enum tp_profession)p);
        assert_int_not_equal(doms, 0);
        assert_int_equal(doms & ~TP_DOM_ALL, 0);
    }
    assert_int_equal(tp_profession_domains(TP_PROF_COUNT), 0);
}

/* Establishments are identified by FINESS, individual practitioners by RPPS. */
static void profession_identifier_kind(void **state)
{
    (void)state;
    assert_true(tp_profession_uses_finess(TP_PROF_PHARMACIE));
    assert_true(tp_profession_uses_finess(TP_PROF_HOPITAL));
    assert_true(tp_profession_uses_finess(TP_PROF_LABORATOIRE));
    assert_false(tp_profession_uses_finess(TP_PROF_MEDECIN));
    assert_false(tp_profession_uses_finess(TP_PROF_INFIRMIER));
    assert_false(tp_profession_uses_finess(TP_PROF_KINE));
    assert_false(tp_profession_uses_finess(TP_PROF_DENTISTE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domain_names_round_trip),
        cmocka_unit_test(profession_names_round_trip),
        cmocka_unit_test(quality_names_round_trip),
        cmocka_unit_test(parse_is_exact),
        cmocka_unit_test(mask_parses_pipe_lists),
        cmocka_unit_test(mask_rejects_unknown_or_empty_elements),
        cmocka_unit_test(profession_domains_are_minimal),
        cmocka_unit_test(profession_identifier_kind),
    };
    return cmocka_run_group_tests_name("domain", tests, NULL, NULL);
}
