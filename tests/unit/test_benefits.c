/* The benefits engine (src/core/benefits.h) on worked examples a reader can redo by hand, with
 * the committed reference data (data/reference/acts.txt, params.txt); and the reference data
 * parser (src/core/refdata.h).
 *
 * Every example states its inputs and where the figures come from; amounts are in cents in
 * the assertions and in euros in the comments. Unless said otherwise: an adult of 40, care
 * on 15 June 2026, no history, contract RESP below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/benefits.h"

static struct tp_refdata rd;
static struct tp_guarantee_set g;
static struct tp_benefit_result res;
static char msg[256];

/* A contrat responsable with forfaits small enough that the ceilings show. */
static const char RESP[] = "name=RESP\n"
                           "version from 2020-01-01\n"
                           "responsable=yes\n"
                           "CONSULTATION.* kind=pct_br rate=100% base=incl_amo\n"
                           "PHARMACIE.MEDICAMENT kind=pct_br rate=100% base=incl_amo\n"
                           "OPTIQUE.* basket=RAC0 kind=frais_reels\n"
                           "OPTIQUE.MONTURE basket=LIBRE kind=forfait amount=100.00 per=24m\n"
                           "OPTIQUE.VERRE basket=LIBRE kind=forfait amount=200.00 per=24m\n"
                           "AUDIO.* basket=RAC0 kind=frais_reels\n"
                           "AUDIO.AIDE_AUDITIVE basket=LIBRE kind=forfait amount=1500.00 "
                           "per=48m\n"
                           "DENTAIRE.PROTHESE basket=RAC0 kind=frais_reels\n"
                           "DENTAIRE.PROTHESE basket=LIBRE kind=pct_br rate=300% "
                           "base=incl_amo\n"
                           "HOSPITALISATION.* kind=pct_br rate=100% base=incl_amo\n";

/* A non-responsable contract that covers nothing at the hospital but the stay. */
static const char FREE[] = "version from 2025-01-01\n"
                           "responsable=no\n"
                           "covers_pf=yes\n"
                           "CONSULTATION.* kind=pct_br rate=300% base=incl_amo\n"
                           "HOSPITALISATION.SEJOUR kind=pct_br rate=100% base=incl_amo\n"
                           "DENTAIRE.PROTHESE kind=pct_br rate=400% ceiling=2500 per=year "
                           "scope=family\n"
                           "PHARMACIE.MEDICAMENT kind=none\n";

/* ---- helpers ------------------------------------------------------------------------------- */

static void load_file(const char *name)
{
    /* The repository root from this file's path (CMake passes absolute paths). */
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/test_benefits.c");
    assert_non_null(cut);
    snprintf(cut, sizeof path - (size_t)(cut - path), "data/reference/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (tp_refdata_load(&rd, buf, n, msg, sizeof msg) != TP_OK)
        fail_msg("%s: %s", name, msg);
}

static int setup(void **state)
{
    (void)state;
    tp_refdata_init(&rd);
    load_file("params.txt");
    load_file("acts.txt");
    if (tp_refdata_finish(&rd, msg, sizeof msg) != TP_OK)
        fail_msg("finish: %s", msg);
    return 0;
}

static void use(const char *text)
{
    if (tp_gl_parse(text, strlen(text), &g, msg, sizeof msg) != TP_OK)
        fail_msg("guarantees: %s", msg);
}

static tp_day day(int y, int m, int d)
{
    return tp_date_from_ymd(y, m, d);
}

/* A line with the BR, rate and AMO amount taken from the reference data. */
static struct tp_claim_line line(const char *code, int32_t qty, int64_t unit_price)
{
    struct tp_claim_line l;
    memset(&l, 0, sizeof l);
    snprintf(l.code, sizeof l.code, "%s", code);
    l.quantity = qty;
    l.unit_price_cents = unit_price;
    l.br_cents = -1;
    l.amo_rate_bp = -1;
    l.amo_cents = -1;
    return l;
}

static enum tp_err run_h(const struct tp_history *h, tp_day date, int age,
                         const struct tp_claim_line *lines, int n)
{
    struct tp_claim c = {.date = date, .age = age, .n_lines = n, .lines = lines};
    msg[0] = '\0';
    return tp_benefits_compute(&g, &rd, h, &c, &res, msg, sizeof msg);
}

static void run(tp_day date, int age, const struct tp_claim_line *lines, int n)
{
    struct tp_history h;
    tp_history_empty(&h);
    if (run_h(&h, date, age, lines, n) != TP_OK)
        fail_msg("compute: %s", msg);
}

/* Asserts one line: AMO, AMC, deduction, patient (cents), the exact reason set, status. */
static void expect(int i, int64_t amo, int64_t amc, int64_t deduction, int64_t patient,
                   uint32_t reasons, enum tp_line_status status)
{
    const struct tp_line_result *r = &res.lines[i];
    char got[200], want[200];
    tp_reasons_format(r->reasons, got, sizeof got);
    tp_reasons_format(reasons, want, sizeof want);
    if (r->amo_cents != amo || r->amc_cents != amc || r->deduction_cents != deduction ||
        r->patient_cents != patient || r->reasons != reasons || r->status != status)
        fail_msg("line %d: expected amo %lld amc %lld ded %lld patient %lld [%s] status %d; "
                 "got amo %lld amc %lld ded %lld patient %lld [%s] status %d",
                 i + 1, (long long)amo, (long long)amc, (long long)deduction, (long long)patient,
                 want, status, (long long)r->amo_cents, (long long)r->amc_cents,
                 (long long)r->deduction_cents, (long long)r->patient_cents, got, r->status);
    /* The identity that holds on every line. */
    assert_int_equal(r->price_cents,
                     r->amo_cents + r->amc_cents + r->patient_cents - r->deduction_cents);
}

#define A TP_LINE_ACCEPTED
#define L TP_LINE_LIMITED
#define R TP_LINE_REFUSED

/* ---- rounding ------------------------------------------------------------------------------ */

static void rounding_is_half_up_at_the_cent(void **state)
{
    (void)state;
    assert_int_equal(tp_round_bp(1, 5000), 1);     /* 0.5 cent -> 1 */
    assert_int_equal(tp_round_bp(1, 4999), 0);     /* 0.4999 cent -> 0 */
    assert_int_equal(tp_round_bp(3, 5000), 2);     /* 1.5 -> 2 */
    assert_int_equal(tp_round_bp(10, 6500), 7);    /* 0.10 EUR at 65 % = 0.065 -> 0.07 */
    assert_int_equal(tp_round_bp(333, 6500), 216); /* 3.33 at 65 % = 2.1645 -> 2.16 */
    assert_int_equal(tp_round_bp(3000, 7000), 2100);
    assert_int_equal(tp_round_bp(0, 10000), 0);
    assert_int_equal(tp_round_bp(1000000000000LL, 1000000), 100000000000000LL);

    /* Applied once on the line total, not per unit: 3 boxes at 3.33 EUR, 65 %: 9.99 x 0.65 =
     * 6.4935 -> 6.49 (per unit it would be 3 x 2.16 = 6.48). */
    use(RESP);
    struct tp_claim_line l = line("PH7", 3, 333);
    l.br_cents = 333;
    run(day(2026, 6, 15), 40, &l, 1);
    assert_int_equal(res.lines[0].amo_cents, 649);
    assert_int_equal(res.lines[0].amc_cents, 999 - 649);
}

/* ---- consultation -------------------------------------------------------------------------- */

static void consultation_g(void **state)
{
    (void)state;
    use(RESP);
    /* G = 30 EUR (convention médicale 2024, from 22 Dec 2024), AMO 70 % = 21.00 (CSS R160-5).
     * TM = 9.00, paid by the contract (100 % BR incl. AMO). The AMO deducts the participation
     * forfaitaire, 2 EUR since 15 May 2024 (décret n° 2024-114), which a contrat responsable
     * never pays: the patient's remainder is 2.00. */
    struct tp_claim_line l = line("G", 1, 3000);
    run(day(2026, 6, 15), 40, &l, 1);
    expect(0, 2100, 900, 200, 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A);
    assert_int_equal(res.lines[0].br_cents, 3000);

    /* Before 15 May 2024 the PF was 1 EUR, and G then was not 30 EUR: the act row starts on
     * 22 Dec 2024, so on 1 May 2024 "G" is unknown and "C" carries its BR (26.50 EUR). */
    run(day(2024, 5, 1), 40, &l, 1);
    expect(0, 0, 0, 0, 3000, TP_REASON_UNKNOWN_ACT, R);
    l = line("C", 1, 2650);
    l.br_cents = 2650;
    run(day(2024, 5, 1), 40, &l, 1);
    /* 26.50 x 70 % = 18.55; TM 7.95; PF 1.00. */
    expect(0, 1855, 795, 100, 100, TP_REASON_PF_NOT_PAID_RESPONSABLE, A);

    /* Extra fees: 50 EUR charged on a BR of 30; a 150 % BR contract pays 45 - 21 = 24.00. */
    use(tp_gl_demo_text(TP_GL_DEMO_MID_RESP));
    l = line("G", 1, 5000);
    run(day(2026, 6, 15), 40, &l, 1);
    expect(0, 2100, 2400, 200, 5000 - 2100 - 2400 + 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A);

    /* A non-responsable contract that covers the PF: 300 % of BR = 90 - 21 = 69, capped at
     * what is left (9.00), plus the 2.00 PF: nothing left to the patient. */
    use(FREE);
    l = line("G", 1, 3000);
    run(day(2026, 6, 15), 40, &l, 1);
    expect(0, 2100, 1100, 200, 0, TP_REASON_PF_PAID, A);
}

static void pf_daily_and_yearly_caps(void **state)
{
    (void)state;
    use(RESP);
    /* Five acts the same day with the same doctor: at most 4 PF a day (8.00 EUR, CSS R160-19):
     * the fifth has none. */
    struct tp_claim_line ls[5];
    for (int i = 0; i < 5; i++)
        ls[i] = line("G", 1, 3000);
    run(day(2026, 6, 15), 40, ls, 5);
    for (int i = 0; i < 4; i++)
        expect(i, 2100, 900, 200, 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A);
    expect(4, 2100, 900, 0, 0, 0, A);
    assert_int_equal(res.pf_year_cents, 800);

    /* 49.00 EUR of PF already this year: the 50 EUR yearly ceiling leaves 1.00. */
    struct tp_history h;
    tp_history_empty(&h);
    h.pf_year_cents = 4900;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, ls, 1), TP_OK);
    expect(0, 2100, 900, 100, 100, TP_REASON_PF_NOT_PAID_RESPONSABLE, A);
    assert_int_equal(res.pf_year_cents, 5000);
}

/* ---- medicines ----------------------------------------------------------------------------- */

static void medicine_at_each_amo_rate(void **state)
{
    (void)state;
    use(RESP);
    /* Two boxes at 10.00 EUR (BR = price): AMO rate by prestation code (SNDS: PH1 100 %,
     * PH7 65 %, PH4 30 %, PH2 15 %); franchise 1 EUR per box since 31 March 2024 (décret
     * n° 2024-114), deducted by the AMO and left to the patient by a contrat responsable. */
    struct tp_claim_line ls[4] = {line("PH1", 2, 1000), line("PH7", 2, 1000), line("PH4", 2, 1000),
                                  line("PH2", 2, 1000)};
    for (int i = 0; i < 4; i++)
        ls[i].br_cents = 1000;
    run(day(2026, 6, 15), 40, ls, 4);
    expect(0, 2000, 0, 200, 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A);   /* 100 %: no TM */
    expect(1, 1300, 700, 200, 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A); /* TM 7.00 */
    expect(2, 600, 1400, 200, 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A); /* TM 14.00 */
    expect(3, 300, 1700, 200, 200, TP_REASON_PF_NOT_PAID_RESPONSABLE, A); /* TM 17.00 */
    assert_int_equal(res.franchise_year_cents, 800);
    assert_int_equal(res.amc_cents, 700 + 1400 + 1700);

    /* A responsable contract that does not cover medicines still owes the TM of the 65 %
     * ones (CSS R871-2), but not of the 30 % and 15 % ones (optional there). */
    use("version from 2025-01-01\nresponsable=yes\nPHARMACIE.MEDICAMENT kind=none\n");
    run(day(2026, 6, 15), 40, ls, 4);
    expect(1, 1300, 700, 200, 200,
           TP_REASON_NOT_COVERED | TP_REASON_RESPONSABLE_MINIMUM |
               TP_REASON_PF_NOT_PAID_RESPONSABLE,
           A);
    expect(2, 600, 0, 200, 1600, TP_REASON_NOT_COVERED | TP_REASON_PF_NOT_PAID_RESPONSABLE, R);
    expect(3, 300, 0, 200, 1900, TP_REASON_NOT_COVERED | TP_REASON_PF_NOT_PAID_RESPONSABLE, R);

    /* A child: no franchise under 18 (CSS L160-13 III). */
    use(RESP);
    run(day(2026, 6, 15), 10, ls, 4);
    expect(1, 1300, 700, 0, 0, 0, A);
}

/* ---- optics -------------------------------------------------------------------------------- */

static void glasses_class_a(void **state)
{
    (void)state;
    use(RESP);
    /* 100 % Santé: frame at its 30 EUR cap, BR 9 EUR at 60 % = 5.40, the AMC pays 24.60; two
     * simple class A lenses at their cap (32.50, BR 9.75 at 60 % = 5.85): AMC 26.65 each. */
    struct tp_claim_line ls[3] = {line("OPT_MON_A", 1, 3000), line("OPT_VER_A_S", 1, 3250),
                                  line("OPT_VER_A_S", 1, 3250)};
    ls[1].side = 'R';
    ls[2].side = 'L';
    run(day(2026, 6, 15), 40, ls, 3);
    expect(0, 540, 2460, 0, 0, TP_REASON_BASKET_100PS, A);
    expect(1, 585, 2665, 0, 0, TP_REASON_BASKET_100PS, A);
    expect(2, 585, 2665, 0, 0, TP_REASON_BASKET_100PS, A);
    assert_int_equal(res.patient_cents, 0);
    assert_int_equal(res.last_frame, day(2026, 6, 15));
    assert_int_equal(res.last_lenses, day(2026, 6, 15));

    /* A frame billed above its cap (35 EUR): the AMC pays up to the cap only. */
    ls[0].unit_price_cents = 3500;
    run(day(2026, 6, 15), 40, ls, 1);
    expect(0, 540, 2460, 0, 500, TP_REASON_BASKET_100PS | TP_REASON_PRICE_ABOVE_CAP, L);
}

static void glasses_class_b(void **state)
{
    (void)state;
    use(RESP);
    /* Class B frame 150 EUR and two simple lenses 120 EUR each; BR 0.05 at 60 % = 0.03 each.
     * Frame: forfait 100 EUR, but R871-2 limits the frame to 100 EUR AMO included: 99.97.
     * Lenses: forfait 200 EUR per 24 months for both: 119.97 then the 80.03 left. */
    struct tp_claim_line ls[3] = {line("OPT_MON_B", 1, 15000), line("OPT_VER_B_S", 1, 12000),
                                  line("OPT_VER_B_S", 1, 12000)};
    run(day(2026, 6, 15), 40, ls, 3);
    expect(0, 3, 9997, 0, 5000, TP_REASON_RESPONSABLE_CEILING, L);
    expect(1, 3, 11997, 0, 0, 0, A);
    expect(2, 3, 8003, 0, 3994, TP_REASON_CEILING_REACHED, L);
    /* Two counters to persist: the frame's and the lenses', opened on the day of care. */
    assert_int_equal(res.n_counters, 2);
    assert_string_equal(res.counters[0].counter.key, "OPTIQUE.MONTURE/LIBRE");
    assert_int_equal(res.counters[0].delta_cents, 9997);
    assert_string_equal(res.counters[1].counter.key, "OPTIQUE.VERRE/LIBRE");
    assert_int_equal(res.counters[1].delta_cents, 20000);
    assert_int_equal(res.counters[1].counter.used_cents, 20000);
    assert_int_equal(res.counters[1].counter.period_start, day(2026, 6, 15));

    /* A generous responsable contract meets the equipment maximum of R871-2 II 3° a): two
     * simple lenses, 420 EUR AMO included. Frame 100.00 (0.03 + 99.97), first lens 250.00
     * (0.03 + 249.97), the second gets 420 - 350 - 0.03 = 69.97. */
    use("version from 2025-01-01\nresponsable=yes\n"
        "OPTIQUE.MONTURE kind=frais_reels\nOPTIQUE.VERRE kind=forfait amount=500 per=24m\n");
    ls[1].unit_price_cents = ls[2].unit_price_cents = 25000;
    run(day(2026, 6, 15), 40, ls, 3);
    expect(0, 3, 9997, 0, 5000, TP_REASON_RESPONSABLE_CEILING, L);
    expect(1, 3, 24997, 0, 0, 0, A);
    expect(2, 3, 6997, 0, 18000, TP_REASON_RESPONSABLE_CEILING, L);
    assert_int_equal(res.amo_cents + res.amc_cents, 42000);

    /* With a very complex lens in the pair the maximum is 610 EUR (d): both lenses paid. */
    ls[2] = line("OPT_VER_B_TC", 1, 25000);
    run(day(2026, 6, 15), 40, ls, 3);
    expect(2, 3, 24997, 0, 0, 0, A);
}

static void second_pair_within_two_years(void **state)
{
    (void)state;
    use(RESP);
    struct tp_claim_line ls[3] = {line("OPT_MON_B", 1, 15000), line("OPT_VER_B_S", 1, 12000),
                                  line("OPT_VER_B_S", 1, 12000)};
    struct tp_history h;
    tp_history_empty(&h);
    h.last_frame = h.last_lenses = day(2025, 3, 1);
    /* An adult's previous equipment on 1 March 2025: no new one before 1 March 2027 (CSS
     * R871-2 II 3°, one equipment per 2 years). Refused, nothing consumed, history kept. */
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, ls, 3), TP_OK);
    for (int i = 0; i < 3; i++)
        expect(i, 3, 0, 0, ls[i].unit_price_cents - 3, TP_REASON_RENEWAL_TOO_SOON, R);
    assert_int_equal(res.n_counters, 0);
    assert_int_equal(res.last_frame, day(2025, 3, 1));
    /* The day before two years, still refused; on the day, paid. */
    assert_int_equal(run_h(&h, day(2027, 2, 28), 40, ls, 3), TP_OK);
    assert_int_equal(res.lines[0].status, R);
    assert_int_equal(run_h(&h, day(2027, 3, 1), 40, ls, 3), TP_OK);
    expect(0, 3, 9997, 0, 5000, TP_REASON_RESPONSABLE_CEILING, L);
    assert_int_equal(res.last_frame, day(2027, 3, 1));

    /* A documented change of vision allows new lenses after one year, not a new frame
     * (LPP titre II ch. 2; reading in docs/BENEFITS.md). */
    ls[1].vision_changed = ls[2].vision_changed = 1;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, ls, 3), TP_OK);
    expect(0, 3, 0, 0, 14997, TP_REASON_RENEWAL_TOO_SOON, R);
    expect(1, 3, 11997, 0, 0, 0, A);
    assert_int_equal(res.last_frame, day(2025, 3, 1));
    assert_int_equal(res.last_lenses, day(2026, 6, 15));

    /* A non-responsable contract has no regulatory renewal period, only its own. */
    use("version from 2025-01-01\nOPTIQUE.* kind=forfait amount=300 per=24m renewal=3y\n");
    ls[1].vision_changed = ls[2].vision_changed = 0;
    assert_int_equal(run_h(&h, day(2027, 6, 15), 40, ls, 3), TP_OK);
    assert_int_equal(res.lines[0].reasons, TP_REASON_RENEWAL_TOO_SOON);
    assert_int_equal(run_h(&h, day(2028, 3, 1), 40, ls, 3), TP_OK);
    expect(0, 3, 14997, 0, 0, 0, A);
}

static void child_under_16(void **state)
{
    (void)state;
    use(RESP);
    /* A 12-year-old whose last equipment is 15 months old: one year is enough below 16 (LPP
     * titre II ch. 2). The lenses' counter, opened on 1 March 2025 with 150 EUR used, is still
     * in its 24-month window: 50 EUR left for the two lenses. */
    struct tp_counter c = {.key = "OPTIQUE.VERRE/LIBRE",
                           .scope = TP_GL_BENEFICIARY,
                           .period_start = day(2025, 3, 1),
                           .used_cents = 15000};
    struct tp_history h;
    tp_history_empty(&h);
    h.last_frame = h.last_lenses = day(2025, 3, 1);
    h.counters = &c;
    h.n_counters = 1;
    struct tp_claim_line ls[3] = {line("OPT_MON_B", 1, 6000), line("OPT_VER_B_S", 1, 4000),
                                  line("OPT_VER_B_S", 1, 4000)};
    assert_int_equal(run_h(&h, day(2026, 6, 15), 12, ls, 3), TP_OK);
    expect(0, 3, 5997, 0, 0, 0, A);
    expect(1, 3, 3997, 0, 0, 0, A);
    expect(2, 3, 1003, 0, 2994, TP_REASON_CEILING_REACHED, L);
    assert_int_equal(res.counters[1].counter.period_start, day(2025, 3, 1));
    assert_int_equal(res.counters[1].counter.used_cents, 20000);
    assert_int_equal(res.counters[1].delta_cents, 5000);
    /* The same child at 16 is an adult for renewal: refused. */
    assert_int_equal(run_h(&h, day(2026, 6, 15), 16, ls, 3), TP_OK);
    assert_int_equal(res.lines[0].reasons, TP_REASON_RENEWAL_TOO_SOON);
    /* A consultation at 12: no participation forfaitaire under 18. */
    struct tp_claim_line g1 = line("G", 1, 3000);
    run(day(2026, 6, 15), 12, &g1, 1);
    expect(0, 2100, 900, 0, 0, 0, A);
}

/* ---- hearing aids -------------------------------------------------------------------------- */

static void hearing_aids(void **state)
{
    (void)state;
    use(RESP);
    /* Class I at its 950 EUR cap: BR 400 at 60 % = 240; the AMC pays 710 (100 % Santé).
     * Class II at 1,800 EUR: forfait 1,500 EUR, but R871-2 II 5° limits AMO + AMC to 1,700:
     * 1,460. One counter per ear. */
    struct tp_claim_line ls[2] = {line("AUD_I", 1, 95000), line("AUD_II", 1, 180000)};
    ls[0].side = 'L';
    ls[1].side = 'R';
    run(day(2026, 6, 15), 70, ls, 2);
    expect(0, 24000, 71000, 0, 0, TP_REASON_BASKET_100PS, A);
    expect(1, 24000, 146000, 0, 10000, TP_REASON_RESPONSABLE_CEILING, L);
    assert_int_equal(res.n_counters, 1);
    assert_string_equal(res.counters[0].counter.key, "AUDIO.AIDE_AUDITIVE/LIBRE");
    assert_int_equal(res.counters[0].counter.side, 'R');
    assert_int_equal(res.last_aid[0], day(2026, 6, 15));
    assert_int_equal(res.last_aid[1], day(2026, 6, 15));

    /* Two class II aids, right ear renewed 3.5 years ago: one per ear per 4 years. */
    struct tp_history h;
    tp_history_empty(&h);
    h.last_aid[1] = day(2023, 1, 1);
    ls[0] = line("AUD_II", 1, 180000);
    ls[0].side = 'L';
    assert_int_equal(run_h(&h, day(2026, 6, 15), 70, ls, 2), TP_OK);
    expect(0, 24000, 146000, 0, 10000, TP_REASON_RESPONSABLE_CEILING, L);
    expect(1, 24000, 0, 0, 156000, TP_REASON_RENEWAL_TOO_SOON, R);
    assert_int_equal(res.last_aid[1], day(2023, 1, 1));

    /* A hearing aid must say which ear. */
    ls[0].side = 0;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 70, ls, 1), TP_ERR_INVALID);
    assert_string_equal(msg, "line 1: a hearing aid needs side L or R");
}

/* ---- dental -------------------------------------------------------------------------------- */

static void dental_prosthesis(void **state)
{
    (void)state;
    use(RESP);
    /* Ceramic-metal crown on an incisor, 100 % Santé, at its 500 EUR cap; BR 120 at 60 %
     * (since 15 Oct 2023) = 72: the AMC pays 428. Free-price crown at 800 EUR: 300 % of BR
     * = 360 - 72 = 288; the patient pays 440. */
    struct tp_claim_line ls[2] = {line("DCCM_RAC0", 1, 50000), line("DCCM_LIB", 1, 80000)};
    run(day(2026, 6, 15), 40, ls, 2);
    expect(0, 7200, 42800, 0, 0, TP_REASON_BASKET_100PS, A);
    expect(1, 7200, 28800, 0, 44000, 0, A);
    /* Before 15 Oct 2023 the AMO paid 70 %: 84, the AMC 416. */
    run(day(2023, 6, 1), 40, ls, 1);
    expect(0, 8400, 41600, 0, 0, TP_REASON_BASKET_100PS, A);

    /* A yearly ceiling shared by the family: 2,400 of 2,500 used since 1 January; the crown
     * (400 % of BR = 480 - 72 = 408) gets the 100 left. */
    use(FREE);
    struct tp_counter c = {.key = "DENTAIRE.PROTHESE/*",
                           .scope = TP_GL_FAMILY,
                           .period_start = day(2026, 1, 1),
                           .used_cents = 240000};
    struct tp_history h;
    tp_history_empty(&h);
    h.counters = &c;
    h.n_counters = 1;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &ls[1], 1), TP_OK);
    expect(0, 7200, 10000, 0, 62800, TP_REASON_CEILING_REACHED, L);
    assert_int_equal(res.counters[0].counter.scope, TP_GL_FAMILY);
    assert_int_equal(res.counters[0].counter.used_cents, 250000);
    /* Next year, a new period: 408 paid. */
    assert_int_equal(run_h(&h, day(2027, 1, 2), 40, &ls[1], 1), TP_OK);
    expect(0, 7200, 40800, 0, 32000, 0, A);
    assert_int_equal(res.counters[0].counter.period_start, day(2027, 1, 1));
    /* Used up: refused with the reason. */
    c.used_cents = 250000;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &ls[1], 1), TP_OK);
    expect(0, 7200, 0, 0, 72800, TP_REASON_CEILING_REACHED, R);
}

/* ---- hospital ------------------------------------------------------------------------------ */

static void hospital_stay_and_forfaits(void **state)
{
    (void)state;
    use(RESP);
    /* A 3-day stay: stay BR 1,000 EUR at 80 % (TM 200); forfait journalier 20 EUR a day until
     * 28 Feb 2026 (CSS L174-4), paid in full by a contrat responsable (R871-2). */
    struct tp_claim_line ls[3] = {line("SEJ", 1, 100000), line("FJ", 3, 0), line("PAV", 1, 0)};
    ls[0].br_cents = 100000;
    run(day(2026, 2, 28), 40, ls, 2);
    expect(0, 80000, 20000, 0, 0, 0, A);
    /* The contract's rule for the domain (100 % of BR) pays nothing on a forfait without BR:
     * the responsable minimum raises it to the whole forfait. */
    expect(1, 0, 6000, 0, 0, TP_REASON_RESPONSABLE_MINIMUM, A);
    /* From 1 March 2026: 23 EUR a day. */
    run(day(2026, 3, 1), 40, ls, 2);
    expect(1, 0, 6900, 0, 0, TP_REASON_RESPONSABLE_MINIMUM, A);

    /* Heavy act: the forfait replaces the TM (CSS R160-16): 24 EUR until 21 April 2026,
     * 32 EUR from 22 April 2026. */
    run(day(2026, 4, 21), 40, &ls[2], 1);
    expect(0, 0, 2400, 0, 0, TP_REASON_RESPONSABLE_MINIMUM, A);
    run(day(2026, 4, 22), 40, &ls[2], 1);
    expect(0, 0, 3200, 0, 0, TP_REASON_RESPONSABLE_MINIMUM, A);

    /* A price on the line that differs from the regulated amount is replaced by it. */
    ls[1].unit_price_cents = 1800;
    run(day(2026, 3, 1), 40, &ls[1], 1);
    expect(0, 0, 6900, 0, 0, TP_REASON_REFERENCE_AMOUNT | TP_REASON_RESPONSABLE_MINIMUM, A);

    /* A non-responsable contract without a rule for it leaves the forfait to the patient. */
    use(FREE);
    run(day(2026, 3, 1), 40, ls, 2);
    expect(0, 80000, 20000, 0, 0, 0, A);
    expect(1, 0, 0, 0, 6900, TP_REASON_NOT_COVERED | TP_REASON_REFERENCE_AMOUNT, R);
}

/* ---- the rest ------------------------------------------------------------------------------ */

static void unknown_acts_versions_and_errors(void **state)
{
    (void)state;
    use(RESP);
    struct tp_claim_line l = line("ZZZ", 1, 1000);
    run(day(2026, 6, 15), 40, &l, 1);
    expect(0, 0, 0, 0, 1000, TP_REASON_UNKNOWN_ACT, R);
    /* Before the contract's first version (2020): BR 26.50 at 70 %, PF 1 EUR in 2019. */
    l = line("C", 1, 2650);
    l.br_cents = 2650;
    run(day(2019, 6, 1), 40, &l, 1);
    expect(0, 1855, 0, 100, 895, TP_REASON_NO_VERSION, R);

    struct tp_history h;
    tp_history_empty(&h);
    l.quantity = 0;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &l, 1), TP_ERR_INVALID);
    assert_string_equal(msg, "line 1: quantity must be 1 to 999");
    l = line("C", 1, 3000);
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &l, 1), TP_ERR_INVALID);
    assert_string_equal(msg, "line 1: this act needs its BR on the line");
    l = line("G", 1, 3000);
    l.amo_cents = 3100;
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &l, 1), TP_ERR_INVALID);
    assert_string_equal(msg, "line 1: AMO part above the BR");
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &l, 0), TP_ERR_INVALID);
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, &l, TP_CLAIM_LINES_MAX + 1), TP_ERR_INVALID);
    /* A regulated amount missing at the date is an error, not a silent zero. */
    l = line("FJ", 1, 0);
    assert_int_equal(run_h(&h, day(2010, 1, 1), 40, &l, 1), TP_ERR_INVALID);
    assert_string_equal(msg, "reference data: no value of FJH in force on 2010-01-01");
    /* A code that fills its whole field (no NUL) is unknown, not read past. */
    l = line("G", 1, 3000);
    memset(l.code, 'G', sizeof l.code);
    run(day(2026, 6, 15), 40, &l, 1);
    assert_int_equal(res.lines[0].reasons, TP_REASON_UNKNOWN_ACT);
}

static void inputs_are_not_modified(void **state)
{
    (void)state;
    use(RESP);
    struct tp_counter c[2] = {
        {.key = "OPTIQUE.VERRE/LIBRE", .period_start = day(2025, 3, 1), .used_cents = 100},
        {.key = "AUDIO.AIDE_AUDITIVE/LIBRE", .side = 'R', .period_start = day(2024, 1, 1)}};
    struct tp_history h, h0;
    tp_history_empty(&h);
    h.counters = c;
    h.n_counters = 2;
    struct tp_claim_line ls[3] = {line("OPT_VER_B_S", 1, 12000), line("G", 1, 3000),
                                  line("AUD_II", 1, 100000)};
    ls[2].side = 'R';
    struct tp_claim_line ls0[3];
    struct tp_counter c0[2];
    struct tp_guarantee_set *g0 = malloc(sizeof g);
    assert_non_null(g0);
    memcpy(&h0, &h, sizeof h);
    memcpy(ls0, ls, sizeof ls);
    memcpy(c0, c, sizeof c);
    memcpy(g0, &g, sizeof g);
    assert_int_equal(run_h(&h, day(2026, 6, 15), 40, ls, 3), TP_OK);
    assert_memory_equal(&h, &h0, sizeof h);
    assert_memory_equal(ls, ls0, sizeof ls);
    assert_memory_equal(c, c0, sizeof c);
    assert_memory_equal(&g, g0, sizeof g);
    free(g0);
    /* ... and the result says what to write: the lenses' counter continued (100 + 119.97). */
    assert_int_equal(res.counters[0].counter.used_cents, 100 + 11997);
    assert_int_equal(res.counters[0].delta_cents, 11997);
}

static void reason_names(void **state)
{
    (void)state;
    assert_string_equal(tp_reason_name(TP_REASON_CEILING_REACHED), "ceiling_reached");
    assert_string_equal(tp_reason_name(TP_REASON_RENEWAL_TOO_SOON), "renewal_too_soon");
    assert_string_equal(tp_reason_name(TP_REASON_NOT_COVERED), "not_covered");
    assert_string_equal(tp_reason_name(TP_REASON_PF_NOT_PAID_RESPONSABLE),
                        "pf_not_paid_responsable");
    assert_string_equal(tp_reason_name(TP_REASON_BASKET_100PS), "basket_100ps");
    assert_string_equal(tp_reason_name(3), "?");
    char buf[64];
    assert_int_equal(
        tp_reasons_format(TP_REASON_NOT_COVERED | TP_REASON_BASKET_100PS, buf, sizeof buf),
        strlen("not_covered,basket_100ps"));
    assert_string_equal(buf, "not_covered,basket_100ps");
    /* Truncation stops at a whole name. */
    assert_int_equal(tp_reasons_format(TP_REASON_NOT_COVERED | TP_REASON_BASKET_100PS, buf, 15),
                     11);
    assert_string_equal(buf, "not_covered");
}

/* ---- reference data parser ----------------------------------------------------------------- */

static void refdata_errors(void **state)
{
    (void)state;
    static struct tp_refdata r;
    char m[256];
#define BAD(text, expected)                                                                        \
    do {                                                                                           \
        tp_refdata_init(&r);                                                                       \
        assert_int_equal(tp_refdata_load(&r, text, strlen(text), m, sizeof m), TP_ERR_INVALID);    \
        assert_string_equal(m, expected);                                                          \
        assert_int_equal(r.n_acts + r.n_params, 0);                                                \
    } while (0)
    BAD("# c\nparam | FJH | 20.00 | 2018-01-01 | - \n",
        "line 2, column 1: a param row has 6 fields: param|NAME|VALUE|VALID_FROM|VALID_TO|SOURCE");
    BAD("param | FJX | 20.00 | 2018-01-01 | - | s\n", "line 1, column 9: unknown parameter name");
    BAD("param | FJH | 20,00 | 2018-01-01 | - | s\n",
        "line 1, column 15: value must be an amount in euros (12.34)");
    BAD("param | FJH | 20 | 2018-01-01 | 2017-01-01 | s\n",
        "line 1, column 33: valid_to is before valid_from");
    BAD("param | FJH | 20 | 2018-01-01 | - |   \n",
        "line 1, column 39: source is empty: every row cites its legal text");
    BAD("act | g | CONSULTATION | C | CARE | - | - | PF | TM | 70% | 30 | - | - | 2024-01-01 | - "
        "| s\n",
        "line 1, column 7: code must be 1 to 15 of A-Z 0-9 _");
    BAD("act | G | CONSULTATION | C | CARE | - | S | PF | TM | 70% | 30 | - | - | 2024-01-01 | - "
        "| s\n",
        "line 1, column 41: a LENS row has a grade (S, C, TC), other rows -");
    BAD("act | G | CONSULTATION | C | CARE | - | - | PF | TM | 170% | 30 | - | - | 2024-01-01 | "
        "- | s\n",
        "line 1, column 55: amo rate must be a percent from 0% to 100%");
    BAD("act | F | HOSPITALISATION | C | REF_FORFAIT | - | - | - | TM | 0% | - | - | OPT_CHILD_AGE "
        "| 2024-01-01 | - | s\n",
        "line 1, column 77: a REF_FORFAIT row names the money parameter giving its amount");
    BAD("row | x\n", "line 1, column 1: a row starts with param or act");
#undef BAD
    /* Two rows of one parameter in force on the same day. */
    tp_refdata_init(&r);
    const char *t = "param | FJH | 20 | 2018-01-01 | 2026-03-01 | s\n"
                    "param | FJH | 23 | 2026-03-01 | - | s\n";
    assert_int_equal(tp_refdata_load(&r, t, strlen(t), m, sizeof m), TP_OK);
    assert_int_equal(tp_refdata_finish(&r, m, sizeof m), TP_ERR_INVALID);
    assert_string_equal(m, "parameter FJH: two rows in force on the same day");
    /* Every parameter must be there. */
    tp_refdata_init(&r);
    t = "param | FJH | 20 | 2018-01-01 | - | s\n";
    assert_int_equal(tp_refdata_load(&r, t, strlen(t), m, sizeof m), TP_OK);
    assert_int_equal(tp_refdata_finish(&r, m, sizeof m), TP_ERR_INVALID);
    assert_string_equal(m, "parameter PF has no row");
}

static void refdata_lookups(void **state)
{
    (void)state;
    /* The committed files: the row in force at the date, with its source. */
    const struct tp_param_ref *p = tp_refdata_param(&rd, TP_P_FJH, day(2026, 2, 28));
    assert_non_null(p);
    assert_int_equal(p->value, 2000);
    assert_int_equal(tp_refdata_param(&rd, TP_P_FJH, day(2026, 3, 1))->value, 2300);
    assert_int_equal(tp_refdata_param(&rd, TP_P_PAV, day(2026, 4, 21))->value, 2400);
    assert_int_equal(tp_refdata_param(&rd, TP_P_PAV, day(2026, 4, 22))->value, 3200);
    assert_int_equal(tp_refdata_param(&rd, TP_P_PF, day(2024, 5, 14))->value, 100);
    assert_int_equal(tp_refdata_param(&rd, TP_P_PF, day(2024, 5, 15))->value, 200);
    assert_int_equal(tp_refdata_param(&rd, TP_P_OPT_FRAME_MAX, day(2026, 1, 1))->value, 10000);
    assert_int_equal(tp_refdata_param(&rd, TP_P_AUDIO_MAX, day(2026, 1, 1))->value, 170000);
    assert_non_null(strstr(p->source, "L174-4"));
    const struct tp_act_ref *a = tp_refdata_act(&rd, "SDE", 3, day(2023, 10, 14));
    assert_non_null(a);
    assert_int_equal(a->amo_bp, 7000);
    assert_int_equal(tp_refdata_act(&rd, "SDE", 3, day(2023, 10, 15))->amo_bp, 6000);
    assert_null(tp_refdata_act(&rd, "SD", 2, day(2026, 1, 1)));
    assert_null(tp_refdata_act(&rd, "SDEX", 4, day(2026, 1, 1)));
    a = tp_refdata_act(&rd, "PH7XX", 3, day(2026, 1, 1)); /* length given: "PH7" */
    assert_non_null(a);
    assert_string_equal(a->family, "MEDICAMENT");
    assert_int_equal(a->charge, TP_CHARGE_FR_MED);
    a = tp_refdata_act(&rd, "OPT_VER_B_TC", 12, day(2026, 1, 1));
    assert_int_equal(a->kind, TP_ACT_LENS);
    assert_int_equal(a->grade, TP_GRADE_VERY_COMPLEX);
    assert_int_equal(a->basket, TP_BASKET_LIBRE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounding_is_half_up_at_the_cent),
        cmocka_unit_test(consultation_g),
        cmocka_unit_test(pf_daily_and_yearly_caps),
        cmocka_unit_test(medicine_at_each_amo_rate),
        cmocka_unit_test(glasses_class_a),
        cmocka_unit_test(glasses_class_b),
        cmocka_unit_test(second_pair_within_two_years),
        cmocka_unit_test(child_under_16),
        cmocka_unit_test(hearing_aids),
        cmocka_unit_test(dental_prosthesis),
        cmocka_unit_test(hospital_stay_and_forfaits),
        cmocka_unit_test(unknown_acts_versions_and_errors),
        cmocka_unit_test(inputs_are_not_modified),
        cmocka_unit_test(reason_names),
        cmocka_unit_test(refdata_errors),
        cmocka_unit_test(refdata_lookups),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
