/* Incident notification documents (src/incident/notice.h, src/incident/pdf.h): the art. 34
 * notice names exactly the categories seen, the dates in Paris time and the AMC's DPO; the
 * art. 33 draft has the exact counts and the 72-hour deadline; the CSV has no name or NIR;
 * bad input is refused with a clear error; the PDF keeps accents and € (read back with
 * pdftotext from poppler-utils). */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "incident/notice.h"
#include "incident/pdf.h"

/* Fontconfig keeps its configuration cache for the life of the process on purpose. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\nleak:libpango\nleak:libglib\nleak:libgobject\n";
}

/* 2024-01-22 13:05:00 UTC (14 h 05 in Paris), and friends. */
#define T_START INT64_C(1705881600000)  /* 2024-01-22T00:00:00Z */
#define T_FIRST INT64_C(1705928700000)  /* 2024-01-22T13:05:00Z */
#define T_LAST INT64_C(1706021940000)   /* 2024-01-23T14:59:00Z */
#define T_END INT64_C(1706486399000)    /* 2024-01-28T23:59:59Z */
#define T_DETECT INT64_C(1706522400000) /* 2024-01-29T10:00:00Z */
#define HOUR INT64_C(3600000)

static void make_incident(struct tp_incident *inc)
{
    memset(inc, 0, sizeof *inc);
    snprintf(inc->id, sizeof inc->id, "INC-2024-0001");
    snprintf(inc->platform, sizeof inc->platform, "opentp Santé");
    snprintf(inc->description, sizeof inc->description,
             "Le compte d'une pharmacie a été utilisé par un tiers après un hameçonnage. Il a "
             "servi à vérifier les droits de nombreuses personnes.");
    snprintf(inc->account, sizeof inc->account, "pharmacie.port@exemple.fr");
    snprintf(inc->ps, sizeof inc->ps, "Pharmacie du Port (FINESS 130001234)");
    snprintf(inc->network, sizeof inc->network, "203.0.113.0/24");
    inc->window_start_ms = T_START;
    inc->window_end_ms = T_END;
    inc->detected_ms = T_DETECT;
    inc->report_ms = T_DETECT + 20 * HOUR;
    inc->n_measures = 2;
    snprintf(inc->measures[0], TP_INCIDENT_MEASURE_MAX,
             "Le compte a été suspendu et son mot de passe réinitialisé.");
    snprintf(inc->measures[1], TP_INCIDENT_MEASURE_MAX, "Toutes ses sessions ont été fermées.");
    inc->n_proposed = 1;
    snprintf(inc->proposed[0], TP_INCIDENT_MEASURE_MAX,
             "Double authentification obligatoire pour les comptes des pharmacies.");
    snprintf(inc->contact_name, sizeof inc->contact_name, "Équipe sécurité opentp");
    snprintf(inc->contact_email, sizeof inc->contact_email, "securite@opentp.example");
}

static void make_amc(struct tp_incident_amc *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->number, sizeof a->number, "123456789");
    snprintf(a->name, sizeof a->name, "Mutuelle des Étangs");
    snprintf(a->dpo_name, sizeof a->dpo_name, "Hélène Dubreuil");
    snprintf(a->dpo_email, sizeof a->dpo_email, "dpo@mutuelle-etangs.example");
    snprintf(a->dpo_address, sizeof a->dpo_address, "12 quai de la Fosse, 44000 Nantes");
    a->people = 1;
    a->records = 3;
}

static void make_person(struct tp_exposed_person *p, uint32_t cats)
{
    memset(p, 0, sizeof *p);
    p->amc = 0;
    snprintf(p->ref, sizeof p->ref, "0123456789abcdef0123456789abcdef");
    snprintf(p->member, sizeof p->member, "M0042");
    p->rank = 2;
    snprintf(p->title, sizeof p->title, "Madame");
    snprintf(p->first_name, sizeof p->first_name, "Zoé");
    snprintf(p->last_name, sizeof p->last_name, "Lefèvre");
    snprintf(p->address[0], TP_TEXT_MAX, "4 rue des Lilas");
    snprintf(p->address[1], TP_TEXT_MAX, "44100 Nantes");
    p->categories = cats;
    p->accesses = 3;
    p->first_ms = T_FIRST;
    p->last_ms = T_LAST;
}

static char *art34(const struct tp_incident *inc, const struct tp_incident_amc *a,
                   const struct tp_exposed_person *p)
{
    static char buf[TP_NOTICE_ART34_MAX];
    size_t n = 0;
    assert_int_equal(tp_notice_art34(inc, a, p, buf, sizeof buf, &n), TP_OK);
    assert_int_equal(n, strlen(buf));
    return buf;
}

/* The "- " lines of the paragraph that starts with `title`. */
static int section_items(const char *text, const char *title, char items[][160], int max)
{
    const char *s = strstr(text, title);
    assert_non_null(s);
    const char *end = strstr(s, "\n\n");
    assert_non_null(end);
    int n = 0;
    for (const char *l = strchr(s, '\n') + 1; l && l < end; l = strchr(l, '\n') + 1) {
        if (strncmp(l, "- ", 2) == 0) {
            assert_true(n < max);
            const char *nl = strchr(l, '\n');
            size_t k = (size_t)(nl - l - 2);
            assert_true(k < 160);
            memcpy(items[n], l + 2, k);
            items[n][k] = '\0';
            n++;
        }
        if (strchr(l, '\n') >= end)
            break;
    }
    return n;
}

/* Words that identify each category in the notice's list, in bit order. */
static const char *const cat_words[TP_CAT_COUNT] = {
    "nom et prénom",
    "date de naissance",
    "sécurité sociale",
    "numéro d'adhérent",
    "complémentaire santé et votre contrat",
    "garanties",
    "prise en charge",
};

static void art34_lists_exactly_the_categories_seen(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_incident(&inc);
    make_amc(&a);
    for (uint32_t mask = 1; mask <= TP_CAT_ALL; mask++) {
        make_person(&p, mask);
        char *t = art34(&inc, &a, &p);
        char seen[TP_CAT_COUNT + 1][160], unseen[TP_CAT_COUNT + 1][160];
        int ns = section_items(t, "Les données vous concernant qui ont été vues\n", seen, 8);
        int nu = (mask == TP_CAT_ALL) ? 0 : section_items(t, "Ce qui n'a pas été vu\n", unseen, 8);
        assert_int_equal(ns, __builtin_popcount(mask));
        assert_int_equal(nu, TP_CAT_COUNT - __builtin_popcount(mask));
        for (int b = 0; b < TP_CAT_COUNT; b++) {
            int in_seen = 0, in_unseen = 0;
            for (int i = 0; i < ns; i++)
                in_seen += strstr(seen[i], cat_words[b]) != NULL;
            for (int i = 0; i < nu; i++)
                in_unseen += strstr(unseen[i], cat_words[b]) != NULL;
            if (mask & (1u << b)) {
                assert_int_equal(in_seen, 1);
                assert_int_equal(in_unseen, 0);
            } else {
                assert_int_equal(in_seen, 0);
                assert_int_equal(in_unseen, 1);
            }
        }
        /* Advice on identity theft only where identity data was seen. */
        if (mask & (TP_CAT_NIR | TP_CAT_IDENTITY | TP_CAT_BIRTH_DATE))
            assert_non_null(strstr(t, "Usurpation d'identité"));
        else
            assert_null(strstr(t, "Usurpation d'identité"));
        assert_true((strstr(t, "FranceConnect") != NULL) == ((mask & TP_CAT_NIR) != 0));
    }
}

static void art34_has_dates_contacts_and_advice(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_incident(&inc);
    make_amc(&a);
    make_person(&p, TP_CAT_IDENTITY | TP_CAT_NIR | TP_CAT_COVERAGE);
    char *t = art34(&inc, &a, &p);
    /* Heading first, contact block second (the PDF relies on it). */
    assert_int_equal(strncmp(t,
                             "Information sur une violation de vos données personnelles\n\n"
                             "Mutuelle des Étangs — délégué à la protection des données\n",
                             strlen("Information sur une violation de vos données personnelles"
                                    "\n\nMutuelle des Étangs — délégué à la protection des "
                                    "données\n")),
                     0);
    /* Recipient and salutation. */
    assert_non_null(
        strstr(t, "\nMadame Zoé Lefèvre\n4 rue des Lilas\n44100 Nantes\n\nLe 30 janvier 2024\n\n"));
    assert_non_null(strstr(t, "\nMadame,\n"));
    /* The accesses, in Paris time (UTC+1 in January). */
    assert_non_null(strstr(
        t, "Ces données ont été consultées 3 fois, la première fois le 22 janvier 2024 à 14 h 05, "
           "la dernière fois le 23 janvier 2024 à 15 h 59."));
    assert_non_null(strstr(t, "détecté le 29 janvier 2024 à 11 h 00"));
    assert_non_null(strstr(t, "\nObjet : violation de vos données personnelles\n"));
    /* DPO of the person's AMC, the reference to quote, the CNIL. */
    assert_non_null(strstr(t, "Hélène Dubreuil, dpo@mutuelle-etangs.example, 12 quai de la "
                              "Fosse, 44000 Nantes"));
    assert_non_null(strstr(t, "INC-2024-0001 / 0123456789abcdef0123456789abcdef"));
    assert_non_null(strstr(t, "réclamation à la CNIL"));
    /* What to watch for. */
    assert_non_null(strstr(t, "SMS"));
    assert_non_null(strstr(t, "Ameli"));
    assert_non_null(strstr(t, "coordonnées bancaires"));
    assert_non_null(strstr(t, "Vérifiez votre compte Ameli"));
    assert_non_null(strstr(t, "€"));
    /* What was done: the incident's measures, verbatim. */
    assert_non_null(strstr(t, "- Le compte a été suspendu et son mot de passe réinitialisé.\n"));
    /* Exact, not "potentially". */
    assert_null(strstr(t, "potentiellement"));
    /* No NIR-like digit run, no member number: the notice only says which data was seen. */
    assert_null(strstr(t, "M0042"));
}

static void art34_without_identity_says_madame_monsieur(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_incident(&inc);
    make_amc(&a);
    make_person(&p, TP_CAT_COVERAGE);
    memset(p.title, 0, sizeof p.title);
    memset(p.first_name, 0, sizeof p.first_name);
    memset(p.last_name, 0, sizeof p.last_name);
    memset(p.address, 0, sizeof p.address);
    p.accesses = 1;
    p.last_ms = p.first_ms;
    char *t = art34(&inc, &a, &p);
    assert_non_null(strstr(t, "\nMadame, Monsieur,\n"));
    assert_non_null(
        strstr(t, "Ces données ont été consultées une fois, le 22 janvier 2024 à 14 h 05."));
    assert_null(strstr(t, "Lilas"));

    /* A title other than Madame/Monsieur: the neutral salutation, the name kept. */
    make_person(&p, TP_CAT_COVERAGE);
    snprintf(p.title, sizeof p.title, "Docteur");
    t = art34(&inc, &a, &p);
    assert_non_null(strstr(t, "\nDocteur Zoé Lefèvre\n"));
    assert_non_null(strstr(t, "\nMadame, Monsieur,\n"));
}

static void art34_refuses_a_small_buffer_and_null(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_incident(&inc);
    make_amc(&a);
    make_person(&p, TP_CAT_ALL);
    char small[512];
    size_t n = 99;
    assert_int_equal(tp_notice_art34(&inc, &a, &p, small, sizeof small, &n), TP_ERR_TOO_BIG);
    assert_int_equal(n, 0);
    assert_string_equal(small, "");
    assert_int_equal(tp_notice_art34(NULL, &a, &p, small, sizeof small, &n), TP_ERR_INVALID);
    assert_int_equal(tp_notice_art34(&inc, &a, &p, NULL, 0, &n), TP_ERR_INVALID);
    p.categories = 0;
    assert_int_equal(tp_notice_art34(&inc, &a, &p, small, sizeof small, &n), TP_ERR_INVALID);
}

/* Longest possible fields everywhere still fit in TP_NOTICE_ART34_MAX / ART33_MAX. */
static void documents_fit_their_documented_buffer_sizes(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_incident(&inc);
    make_amc(&a);
    make_person(&p, TP_CAT_ALL);
#define FILL(f) (memset((f), 'x', sizeof(f) - 1), (f)[sizeof(f) - 1] = '\0')
    FILL(inc.platform);
    FILL(inc.description);
    FILL(inc.account);
    FILL(inc.ps);
    FILL(inc.token);
    FILL(inc.network);
    FILL(inc.contact_name);
    FILL(inc.contact_phone);
    inc.n_measures = inc.n_proposed = TP_INCIDENT_MEASURES_MAX;
    for (int i = 0; i < TP_INCIDENT_MEASURES_MAX; i++) {
        FILL(inc.measures[i]);
        FILL(inc.proposed[i]);
    }
    FILL(a.name);
    FILL(a.dpo_name);
    FILL(a.dpo_address);
    FILL(p.title);
    FILL(p.first_name);
    FILL(p.last_name);
    for (int i = 0; i < TP_ADDRESS_LINES; i++)
        FILL(p.address[i]);
    char msg[200];
    assert_int_equal(tp_incident_check(&inc, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_exposed_person_check(&inc, &p, 1, msg, sizeof msg), TP_OK);
    static char buf[TP_NOTICE_ART33_MAX];
    size_t n;
    assert_int_equal(tp_notice_art34(&inc, &a, &p, buf, TP_NOTICE_ART34_MAX, &n), TP_OK);
    struct tp_incident_tally t;
    tp_incident_tally(&p, 1, 0, &t);
    assert_int_equal(tp_notice_art33(&inc, &a, &t, buf, TP_NOTICE_ART33_MAX, &n), TP_OK);
#undef FILL
}

static void paris_time_follows_summer_time(void **state)
{
    (void)state;
    char b[40];
    tp_notice_fr_datetime(T_FIRST, b);
    assert_string_equal(b, "22 janvier 2024 à 14 h 05");
    /* 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC. */
    tp_notice_fr_datetime(INT64_C(1711846799000), b); /* 2024-03-31T00:59:59Z */
    assert_string_equal(b, "31 mars 2024 à 1 h 59");
    tp_notice_fr_datetime(INT64_C(1711846800000), b); /* 2024-03-31T01:00:00Z */
    assert_string_equal(b, "31 mars 2024 à 3 h 00");
    tp_notice_fr_datetime(INT64_C(1729990740000), b); /* 2024-10-27T00:59:00Z */
    assert_string_equal(b, "27 octobre 2024 à 2 h 59");
    tp_notice_fr_datetime(INT64_C(1729990800000), b); /* 2024-10-27T01:00:00Z */
    assert_string_equal(b, "27 octobre 2024 à 2 h 00");
    tp_notice_fr_datetime(INT64_C(1706745600000), b); /* 2024-02-01T00:00:00Z */
    assert_string_equal(b, "1er février 2024 à 1 h 00");
    tp_notice_fr_datetime(INT64_C(1735689540000), b); /* 2024-12-31T23:59:00Z */
    assert_string_equal(b, "1er janvier 2025 à 0 h 59");
    tp_notice_iso_utc(T_FIRST + 7999, b);
    assert_string_equal(b, "2024-01-22T13:05:07Z");
}

static void art33_has_exact_counts_and_the_72_hour_deadline(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p[3];
    make_incident(&inc);
    make_amc(&a);
    make_person(&p[0], TP_CAT_NIR | TP_CAT_IDENTITY);
    make_person(&p[1], TP_CAT_COVERAGE);
    make_person(&p[2], TP_CAT_NIR);
    p[1].accesses = 1;
    p[1].last_ms = p[1].first_ms;
    p[2].amc = 1; /* another AMC: not counted */
    struct tp_incident_tally t;
    tp_incident_tally(p, 3, 0, &t);
    assert_int_equal(t.people, 2);
    assert_int_equal(t.records, 4);
    assert_int_equal(t.categories, TP_CAT_NIR | TP_CAT_IDENTITY | TP_CAT_COVERAGE);
    assert_int_equal(t.people_by_category[2], 1);

    static char buf[TP_NOTICE_ART33_MAX];
    size_t n;
    assert_int_equal(tp_notice_art33(&inc, &a, &t, buf, sizeof buf, &n), TP_OK);
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, "(RGPD, article 33)"));
    assert_non_null(strstr(buf, "Nombre de personnes concernées : 2 (nombre exact"));
    assert_non_null(strstr(buf, "Nombre d'enregistrements concernés : 4 consultations"));
    assert_non_null(strstr(buf, "- numéro d'inscription au répertoire (NIR) : 1\n"));
    assert_non_null(strstr(buf, "- état civil (nom, prénom) : 1\n"));
    assert_non_null(strstr(buf, "- garanties ouvertes en tiers payant : 1\n"));
    assert_null(strstr(buf, "date de naissance :"));
    assert_null(strstr(buf, "engagements de prise en charge :"));
    /* Detected 29 January 11:00 Paris time: deadline 1 February 11:00; drafted 20 h later. */
    assert_non_null(strstr(buf, "1er février 2024 à 11 h 00 (2024-02-01T10:00:00Z)"));
    assert_non_null(strstr(buf, "Temps restant à l'établissement de ce projet : 52 h 00 min"));
    assert_null(strstr(buf, "dépassé"));
    assert_non_null(strstr(buf, "Hélène Dubreuil, dpo@mutuelle-etangs.example"));
    assert_non_null(strstr(buf, "- compte utilisé : pharmacie.port@exemple.fr\n"));
    assert_null(strstr(buf, "jeton d'accès"));
    assert_non_null(strstr(buf, "Toutes ses sessions ont été fermées."));
    assert_non_null(strstr(buf, "Double authentification obligatoire"));
    assert_non_null(strstr(buf, "Usurpation d'identité"));

    inc.report_ms = T_DETECT + 73 * HOUR;
    assert_int_equal(tp_notice_art33(&inc, &a, &t, buf, sizeof buf, &n), TP_OK);
    assert_non_null(strstr(buf, "Le délai de 72 heures est dépassé"));
    assert_null(strstr(buf, "Temps restant"));
}

static void csv_rows_carry_no_name_or_nir(void **state)
{
    (void)state;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_amc(&a);
    make_person(&p, TP_CAT_NIR | TP_CAT_COVERAGE | TP_CAT_ENGAGEMENT);
    char buf[TP_NOTICE_CSV_ROW_MAX];
    size_t n;
    assert_int_equal(tp_notice_csv_header(buf, sizeof buf, &n), TP_OK);
    assert_string_equal(buf, "amc,member,rank,beneficiary_ref,categories,accesses,"
                             "first_access_utc,last_access_utc\r\n");
    assert_int_equal(tp_notice_csv_row(&a, &p, buf, sizeof buf, &n), TP_OK);
    assert_string_equal(buf, "123456789,M0042,2,0123456789abcdef0123456789abcdef,"
                             "nir;coverage;engagement,3,2024-01-22T13:05:00Z,"
                             "2024-01-23T14:59:00Z\r\n");
    assert_int_equal(n, strlen(buf));
    p.member[0] = '\0';
    p.rank = 0;
    assert_int_equal(tp_notice_csv_row(&a, &p, buf, sizeof buf, &n), TP_OK);
    assert_int_equal(strncmp(buf, "123456789,,,0123", 16), 0);
    assert_null(strstr(buf, "Lef"));
    assert_int_equal(tp_notice_csv_row(&a, &p, buf, 20, &n), TP_ERR_TOO_BIG);
}

static void access_log_fields_map_to_categories(void **state)
{
    (void)state;
    uint32_t c;
    assert_int_equal(tp_data_categories_parse("rights_status,coverage,engagement", &c), TP_OK);
    assert_int_equal(c, TP_CAT_AMC_CONTRACT | TP_CAT_COVERAGE | TP_CAT_ENGAGEMENT);
    assert_int_equal(tp_data_categories_parse("", &c), TP_OK);
    assert_int_equal(c, 0);
    assert_int_equal(tp_data_categories_parse("identity,birth_date,nir,member", &c), TP_OK);
    assert_int_equal(c, TP_CAT_IDENTITY | TP_CAT_BIRTH_DATE | TP_CAT_NIR | TP_CAT_MEMBER);
    assert_int_equal(tp_data_categories_parse("coverage,iban", &c), TP_ERR_INVALID);
    assert_int_equal(tp_data_categories_parse("coverage,", &c), TP_ERR_INVALID);
    assert_int_equal(tp_data_categories_parse("nirx", &c), TP_ERR_INVALID);
    assert_int_equal(tp_data_categories_parse(NULL, &c), TP_ERR_INVALID);
    assert_string_equal(tp_data_category_name(TP_CAT_NIR), "nir");
    assert_null(tp_data_category_name(TP_CAT_NIR | TP_CAT_MEMBER));
    assert_null(tp_data_category_name(1u << 7));
}

static void amc_contact_comes_from_its_record(void **state)
{
    (void)state;
    struct tp_amc rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.number, sizeof rec.number, "987654321");
    snprintf(rec.name, sizeof rec.name, "Mutuelle du Port");
    snprintf(rec.dpo_name, sizeof rec.dpo_name, "Jean Martin");
    snprintf(rec.dpo_email, sizeof rec.dpo_email, "dpo@port.example");
    snprintf(rec.dpo_address, sizeof rec.dpo_address, "2 rue du Quai, 13002 Marseille");
    snprintf(rec.iban, sizeof rec.iban, "FR7630006000011234567890189");
    struct tp_incident_amc a;
    memset(&a, 0x55, sizeof a);
    tp_incident_amc_from_record(&a, &rec);
    assert_string_equal(a.number, "987654321");
    assert_string_equal(a.name, "Mutuelle du Port");
    assert_string_equal(a.dpo_name, "Jean Martin");
    assert_string_equal(a.dpo_email, "dpo@port.example");
    assert_string_equal(a.dpo_address, "2 rue du Quai, 13002 Marseille");
    assert_int_equal(a.people, 0);
    assert_int_equal(a.records, 0);
    a.people = a.records = 1;
    char msg[100];
    assert_int_equal(tp_incident_amc_check(&a, msg, sizeof msg), TP_OK);
}

static void check_fails(enum tp_err got, enum tp_err want, const char *msg, const char *needle)
{
    assert_int_equal(got, want);
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static void bad_input_gets_clear_errors(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a[2];
    struct tp_exposed_person p;
    char msg[200];
    make_incident(&inc);
    make_amc(&a[0]);
    make_person(&p, TP_CAT_NIR);
    assert_int_equal(tp_incident_assessment_check(&inc, a, 1, &p, 1, msg, sizeof msg), TP_OK);

    check_fails(tp_incident_check(NULL, msg, sizeof msg), TP_ERR_INVALID, msg, "missing");
    check_fails(tp_incident_assessment_check(&inc, a, 1, &p, 0, msg, sizeof msg), TP_ERR_INVALID,
                msg, "no exposed person");
    check_fails(tp_incident_assessment_check(&inc, a, 1, NULL, 1, msg, sizeof msg), TP_ERR_INVALID,
                msg, "no exposed person");
    check_fails(tp_incident_assessment_check(&inc, a, 0, &p, 1, msg, sizeof msg), TP_ERR_INVALID,
                msg, "no AMC");

    /* Overlong (unterminated) fields. */
    struct tp_incident bad = inc;
    memset(bad.description, 'a', sizeof bad.description);
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_TOO_BIG, msg, "description");
    bad = inc;
    memset(bad.id, 'A', sizeof bad.id);
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_TOO_BIG, msg, "id");
    bad = inc;
    snprintf(bad.id, sizeof bad.id, "../etc");
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "id");
    bad = inc;
    snprintf(bad.platform, sizeof bad.platform, "bad \xc3\x28 utf-8");
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "platform");
    bad = inc;
    snprintf(bad.contact_name, sizeof bad.contact_name, "tab\there");
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "contact_name");
    bad = inc;
    bad.account[0] = bad.ps[0] = bad.network[0] = '\0';
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg,
                "compromised subject");
    bad = inc;
    bad.window_end_ms = bad.window_start_ms - 1;
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "window");
    bad = inc;
    bad.n_measures = 0;
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "measures");
    bad = inc;
    bad.n_measures = TP_INCIDENT_MEASURES_MAX + 1;
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "measures");
    bad = inc;
    bad.report_ms = bad.detected_ms - 1;
    check_fails(tp_incident_check(&bad, msg, sizeof msg), TP_ERR_INVALID, msg, "report");

    /* AMC records. */
    struct tp_incident_amc ba = a[0];
    snprintf(ba.number, sizeof ba.number, "12345");
    check_fails(tp_incident_amc_check(&ba, msg, sizeof msg), TP_ERR_INVALID, msg, "9 digits");
    ba = a[0];
    ba.dpo_email[0] = '\0';
    check_fails(tp_incident_amc_check(&ba, msg, sizeof msg), TP_ERR_INVALID, msg, "dpo_email");
    ba = a[0];
    memset(ba.dpo_address, 'x', sizeof ba.dpo_address);
    check_fails(tp_incident_amc_check(&ba, msg, sizeof msg), TP_ERR_TOO_BIG, msg, "dpo_address");
    a[1] = a[0];
    check_fails(tp_incident_assessment_check(&inc, a, 2, &p, 1, msg, sizeof msg), TP_ERR_INVALID,
                msg, "listed twice");

    /* Counts must match the persons exactly. */
    a[0].people = 2;
    check_fails(tp_incident_assessment_check(&inc, a, 1, &p, 1, msg, sizeof msg), TP_ERR_INVALID,
                msg, "2 people announced, 1 listed");
    a[0].people = 1;
    a[0].records = 4;
    check_fails(tp_incident_assessment_check(&inc, a, 1, &p, 1, msg, sizeof msg), TP_ERR_INVALID,
                msg, "4 records announced");
    a[0].records = 3;

    /* Persons. */
    struct tp_exposed_person bp = p;
    bp.amc = 1;
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg,
                "AMC index");
    bp = p;
    bp.ref[5] = 'G';
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg, "hex");
    bp = p;
    snprintf(bp.member, sizeof bp.member, "=HYPERLINK(1)");
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg,
                "member");
    bp = p;
    bp.categories = 1u << 9;
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg,
                "categories");
    bp = p;
    bp.last_ms = T_END + 1;
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg,
                "window");
    bp = p;
    memset(bp.last_name, 'x', sizeof bp.last_name);
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_TOO_BIG, msg,
                "last_name");
    bp = p;
    bp.accesses = 0;
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg,
                "accesses");
    /* Messages name the field, never its personal content. */
    bp = p;
    snprintf(bp.first_name, sizeof bp.first_name, "Zo\xe9");
    check_fails(tp_exposed_person_check(&inc, &bp, 1, msg, sizeof msg), TP_ERR_INVALID, msg,
                "first_name");
    assert_null(strstr(msg, "Zo"));
}

/* ---- PDF -------------------------------------------------------------------------------- */

/* Runs pdftotext on the bytes and returns its output (malloc'd). */
static char *pdf_text(const char *pdf, size_t n)
{
    char path[] = "/tmp/tp_notice_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf, n), (ssize_t)n);
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 %s -", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t k;
    while ((k = fread(out + len, 1, cap - 1 - len, f)) > 0) {
        len += k;
        if (cap - 1 - len == 0) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[len] = '\0';
    assert_int_equal(pclose(f), 0);
    unlink(path);
    return out;
}

static char *render(struct tp_pdf *r, const char *text, size_t n, size_t *out_len)
{
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    assert_non_null(mem);
    char msg[200] = "";
    enum tp_err e =
        tp_pdf_render(r, text, n, "Violation de données — INC-2024-0001", mem, msg, sizeof msg);
    assert_int_equal(fclose(mem), 0);
    if (e != TP_OK)
        fail_msg("render: %s", msg);
    *out_len = len;
    return data;
}

/* pdftotext may break lines where the PDF wraps: compare with whitespace squeezed. */
static void squeeze(char *s)
{
    char *w = s;
    int space = 0;
    for (char *r = s; *r; r++) {
        if (*r == ' ' || *r == '\n' || *r == '\f' || *r == '\t') {
            space = 1;
            continue;
        }
        if (space && w != s)
            *w++ = ' ';
        space = 0;
        *w++ = *r;
    }
    *w = '\0';
}

static void pdf_keeps_accents_euro_and_the_name(void **state)
{
    (void)state;
    struct tp_incident inc;
    struct tp_incident_amc a;
    struct tp_exposed_person p;
    make_incident(&inc);
    make_amc(&a);
    make_person(&p, TP_CAT_ALL);
    char *t = art34(&inc, &a, &p);
    struct tp_pdf *r;
    char msg[200];
    assert_int_equal(tp_pdf_new(&r, msg, sizeof msg), TP_OK);
    size_t n;
    char *pdf = render(r, t, strlen(t), &n);
    assert_true(n > 1000);
    assert_memory_equal(pdf, "%PDF-", 5);
    assert_true(tp_pdf_last_pages(r) >= 1 && tp_pdf_last_pages(r) <= 4);
    char *txt = pdf_text(pdf, n);
    squeeze(txt);
    assert_non_null(strstr(txt, "€"));
    assert_non_null(strstr(txt, "données"));
    assert_non_null(strstr(txt, "sécurité sociale"));
    assert_non_null(strstr(txt, "Zoé Lefèvre"));
    assert_non_null(strstr(txt, "Hélène Dubreuil"));
    assert_non_null(strstr(txt, "22 janvier 2024 à 14 h 05"));
    assert_non_null(strstr(txt, "réclamation à la CNIL"));
    /* Personal data stays out of the metadata: the title carries the incident id only. */
    assert_null(memmem(pdf, n, "Lefèvre", strlen("Lefèvre")));
    free(txt);
    free(pdf);

    /* The same renderer serves the next document (font map and layout reused). */
    make_person(&p, TP_CAT_COVERAGE);
    snprintf(p.first_name, sizeof p.first_name, "Gaëlle");
    snprintf(p.last_name, sizeof p.last_name, "Nguyễn");
    t = art34(&inc, &a, &p);
    pdf = render(r, t, strlen(t), &n);
    txt = pdf_text(pdf, n);
    squeeze(txt);
    assert_non_null(strstr(txt, "Gaëlle Nguyễn"));
    assert_null(strstr(txt, "Zoé"));
    free(txt);
    free(pdf);
    tp_pdf_free(r);
}

static void pdf_breaks_pages_and_refuses_absurd_input(void **state)
{
    (void)state;
    struct tp_pdf *r;
    char msg[200];
    assert_int_equal(tp_pdf_new(&r, msg, sizeof msg), TP_OK);
    /* ~200 paragraphs: several pages, every paragraph present, numbered pages. */
    size_t cap = TP_PDF_TEXT_MAX, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "Titre\n\nContact\n\n");
    for (int i = 0; i < 200; i++)
        len += (size_t)snprintf(text + len, cap - len, "Paragraphe n° %d : données à vérifier.\n\n",
                                i);
    size_t n;
    char *pdf = render(r, text, len, &n);
    int pages = tp_pdf_last_pages(r);
    assert_true(pages >= 4 && pages < 20);
    char *txt = pdf_text(pdf, n);
    squeeze(txt);
    assert_non_null(strstr(txt, "Paragraphe n° 0 :"));
    assert_non_null(strstr(txt, "Paragraphe n° 199 :"));
    int formfeeds = 0;
    char *raw = pdf_text(pdf, n);
    for (char *c = raw; *c; c++)
        formfeeds += *c == '\f';
    assert_int_equal(formfeeds, pages);
    free(raw);
    free(txt);
    free(pdf);

    /* A long line without any space is wrapped, not cut off. */
    memset(text, 'W', 3000);
    memcpy(text, "T\n\nC\n\n", 6);
    pdf = render(r, text, 3000, &n);
    assert_true(tp_pdf_last_pages(r) >= 1);
    free(pdf);

    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);
    /* Too many pages for a notice. */
    len = 0;
    for (int i = 0; len + 4 < cap; i++)
        len += (size_t)snprintf(text + len, cap - len, "x\n\n");
    check_fails(tp_pdf_render(r, text, len, NULL, sink, msg, sizeof msg), TP_ERR_TOO_BIG, msg,
                "pages");
    check_fails(tp_pdf_render(r, text, TP_PDF_TEXT_MAX + 1, NULL, sink, msg, sizeof msg),
                TP_ERR_TOO_BIG, msg, "bytes");
    check_fails(tp_pdf_render(r, "ab\xff", 3, NULL, sink, msg, sizeof msg), TP_ERR_INVALID, msg,
                "UTF-8");
    check_fails(tp_pdf_render(r, "a\0b", 3, NULL, sink, msg, sizeof msg), TP_ERR_INVALID, msg,
                "UTF-8");
    check_fails(tp_pdf_render(r, "a\x1b[2Jb", 6, NULL, sink, msg, sizeof msg), TP_ERR_INVALID, msg,
                "control");
    check_fails(tp_pdf_render(r, "", 0, NULL, sink, msg, sizeof msg), TP_ERR_INVALID, msg, "empty");
    check_fails(tp_pdf_render(r, NULL, 3, NULL, sink, msg, sizeof msg), TP_ERR_INVALID, msg,
                "missing");
    /* Markup is not interpreted: the text is shown as written. */
    pdf = render(r, "T\n\nC\n\n<b>pas du gras</b> & <i>", 30, &n);
    txt = pdf_text(pdf, n);
    assert_non_null(strstr(txt, "<b>pas du gras</b> & <i>"));
    free(txt);
    free(pdf);
    fclose(sink);
    free(text);
    tp_pdf_free(r);
    tp_pdf_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(art34_lists_exactly_the_categories_seen),
        cmocka_unit_test(art34_has_dates_contacts_and_advice),
        cmocka_unit_test(art34_without_identity_says_madame_monsieur),
        cmocka_unit_test(art34_refuses_a_small_buffer_and_null),
        cmocka_unit_test(documents_fit_their_documented_buffer_sizes),
        cmocka_unit_test(paris_time_follows_summer_time),
        cmocka_unit_test(art33_has_exact_counts_and_the_72_hour_deadline),
        cmocka_unit_test(csv_rows_carry_no_name_or_nir),
        cmocka_unit_test(access_log_fields_map_to_categories),
        cmocka_unit_test(amc_contact_comes_from_its_record),
        cmocka_unit_test(bad_input_gets_clear_errors),
        cmocka_unit_test(pdf_keeps_accents_euro_and_the_name),
        cmocka_unit_test(pdf_breaks_pages_and_refuses_absurd_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
