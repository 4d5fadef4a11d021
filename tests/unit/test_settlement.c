/* Advances, remittance advices and AMC statements (src/core/settlement.h, docs/PAYMENTS.md).
 *
 * Expected figures are worked out by hand in the comments next to them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/settlement.h"

#define PAID_ON 20781 /* 2026-11-24 */
#define NOV_02 20759
#define NOV_03 20760

static char msg[256];
static char out[1 << 16];

static struct tp_sink sink(void)
{
    out[0] = '\0';
    msg[0] = '\0';
    return (struct tp_sink){.buf = out, .cap = sizeof out};
}

/* 12.34 + 0.10 + 1000.01 = 1012.45 EUR; AMC 123456789: 1012.35 in 2 claims, 987654321: 0.10. */
static const struct tp_paid_claim claims[3] = {
    {"F2026-0001", "123456789", NOV_02, 1234},
    {"F2026-0002", "987654321", NOV_03, 10},
    {"F2026-0003", "123456789", NOV_03, 100001},
};

static const struct tp_advice_head advice = {
    .run_id = "OTP-20261123-0001",
    .paid_on = PAID_ON,
    .ps_id = "750000001",
    .ps_name = "Pharmacie de l'Église",
    .iban = "FR1420041010050500013M02606",
    .end_to_end = "OTP-1-PS-0001",
};

static struct tp_advance_recon recon(int64_t gross, int64_t balance)
{
    struct tp_advance_recon r;
    assert_int_equal(tp_advance_reconcile(gross, balance, &r, msg, sizeof msg), TP_OK);
    return r;
}

/* ------------------------------------------------------------------------------------- */
/* Advances                                                                                */

static int64_t propose(struct tp_advance_policy p, int64_t paid, int64_t outstanding)
{
    int64_t a = -1;
    assert_int_equal(tp_advance_propose(&p, paid, outstanding, &a, msg, sizeof msg), TP_OK);
    return a;
}

static void advance_is_a_share_of_the_recent_daily_volume(void **state)
{
    (void)state;
    const struct tp_advance_policy def = TP_ADVANCE_POLICY_DEFAULT;
    assert_int_equal(def.share_bp, 8000);
    assert_int_equal(def.window_days, 30);
    assert_int_equal(def.outage_days, 7);
    /* 300,000.00 EUR in 30 days: 10,000.00 a day, x 7 days x 80 % = 56,000.00 EUR. */
    assert_int_equal(propose(def, 30000000, 0), 5600000);
    /* Less what is still outstanding; never below zero. */
    assert_int_equal(propose(def, 30000000, 1000000), 4600000);
    assert_int_equal(propose(def, 30000000, 5600000), 0);
    assert_int_equal(propose(def, 30000000, 9000000), 0);
    /* Rounded down at the end only: 1.00 EUR x 0.8 x 7 / 30 = 0.1866 -> 0.18 EUR. */
    assert_int_equal(propose(def, 100, 0), 18);
    assert_int_equal(propose(def, 1, 0), 0);
    assert_int_equal(propose(def, 0, 0), 0);
    struct tp_advance_policy p = def;
    p.cap_cents = 2000000;
    assert_int_equal(propose(p, 30000000, 0), 2000000);
    assert_int_equal(propose(p, 3000000, 0), 560000); /* under the cap */
    p = (struct tp_advance_policy){10000, 1, 366, 0};
    /* The largest product (10^18 x 10^4 x 366) needs 128 bits; the result is capped. */
    assert_int_equal(propose(p, TP_SETTLE_TOTAL_MAX, 0), TP_SETTLE_TOTAL_MAX);
    p = (struct tp_advance_policy){5000, 14, 3, 0};
    /* 1,400.00 EUR in 14 days: 100.00 a day x 3 days x 50 % = 150.00 EUR. */
    assert_int_equal(propose(p, 140000, 0), 15000);
}

static void bad_advance_policies_are_refused(void **state)
{
    (void)state;
    int64_t a;
    const struct tp_advance_policy bad[] = {
        {0, 30, 7, 0},    {10001, 30, 7, 0},  {8000, 0, 7, 0},   {8000, 367, 7, 0},
        {8000, 30, 0, 0}, {8000, 30, 367, 0}, {8000, 30, 7, -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tp_advance_propose(&bad[i], 100, 0, &a, msg, sizeof msg), TP_ERR_INVALID);
    const struct tp_advance_policy def = TP_ADVANCE_POLICY_DEFAULT;
    assert_int_equal(tp_advance_propose(&def, -1, 0, &a, msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_advance_propose(&def, 1, -1, &a, msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_advance_propose(&def, TP_SETTLE_TOTAL_MAX + 1, 0, &a, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_advance_propose(NULL, 1, 0, &a, msg, sizeof msg), TP_ERR_INVALID);
}

static void reconcile_advance_larger_smaller_zero(void **state)
{
    (void)state;
    /* Advance larger than the run: all of the run repays it, nothing is transferred. */
    struct tp_advance_recon r = recon(10000, 25000);
    assert_int_equal(r.gross_cents, 10000);
    assert_int_equal(r.deducted_cents, 10000);
    assert_int_equal(r.net_cents, 0);
    assert_int_equal(r.balance_before_cents, 25000);
    assert_int_equal(r.balance_after_cents, 15000);
    /* The next run repays the rest and transfers the remainder. */
    r = recon(20000, r.balance_after_cents);
    assert_int_equal(r.deducted_cents, 15000);
    assert_int_equal(r.net_cents, 5000);
    assert_int_equal(r.balance_after_cents, 0);
    /* Advance smaller than the run. */
    r = recon(25000, 10000);
    assert_int_equal(r.deducted_cents, 10000);
    assert_int_equal(r.net_cents, 15000);
    assert_int_equal(r.balance_after_cents, 0);
    /* No advance. */
    r = recon(25000, 0);
    assert_int_equal(r.deducted_cents, 0);
    assert_int_equal(r.net_cents, 25000);
    /* Exactly equal. */
    r = recon(25000, 25000);
    assert_int_equal(r.net_cents, 0);
    assert_int_equal(r.balance_after_cents, 0);
    /* Nothing paid this run. */
    r = recon(0, 700);
    assert_int_equal(r.net_cents, 0);
    assert_int_equal(r.balance_after_cents, 700);
    assert_int_equal(tp_advance_reconcile(-1, 0, &r, msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_advance_reconcile(0, -1, &r, msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_advance_reconcile(TP_SETTLE_TOTAL_MAX + 1, 0, &r, msg, sizeof msg),
                     TP_ERR_INVALID);
}

/* ------------------------------------------------------------------------------------- */
/* Allocation and split                                                                    */

static void allocate(int64_t total, const int64_t *w, size_t n, const int64_t *want)
{
    int64_t parts[8];
    enum tp_err rc = tp_settle_allocate(total, w, n, parts, msg, sizeof msg);
    if (rc != TP_OK)
        print_error("allocate(%lld): %s\n", (long long)total, msg);
    assert_int_equal(rc, TP_OK);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(parts[i], want[i]);
        sum += parts[i];
    }
    assert_int_equal(sum, total);
}

static void allocation_is_proportional_and_exact(void **state)
{
    (void)state;
    allocate(100, (int64_t[]){1, 1, 1}, 3, (int64_t[]){34, 33, 33}); /* ties: lower index */
    allocate(2, (int64_t[]){1, 1, 1}, 3, (int64_t[]){1, 1, 0});
    allocate(7, (int64_t[]){2, 1}, 2, (int64_t[]){5, 2}); /* 4.67 / 2.33: more than the weights */
    allocate(0, (int64_t[]){5, 7}, 2, (int64_t[]){0, 0});
    allocate(12, (int64_t[]){5, 7}, 2, (int64_t[]){5, 7});             /* the whole */
    allocate(10, (int64_t[]){0, 3, 0, 1}, 4, (int64_t[]){0, 8, 0, 2}); /* 7.5 / 2.5 */
    /* 500.00 over 1012.35 and 0.10 (the split test below): 499.950... and 0.0493... */
    allocate(50000, (int64_t[]){101235, 10}, 2, (int64_t[]){49995, 5});
    /* Products beyond int64: 10^18-1 x (10^18-2). */
    allocate(TP_SETTLE_TOTAL_MAX, (int64_t[]){TP_SETTLE_TOTAL_MAX - 1, 1}, 2,
             (int64_t[]){TP_SETTLE_TOTAL_MAX - 1, 1});
    allocate(TP_SETTLE_TOTAL_MAX / 2, (int64_t[]){TP_SETTLE_TOTAL_MAX - 1, 1}, 2,
             (int64_t[]){TP_SETTLE_TOTAL_MAX / 2, 0});

    int64_t parts[3];
    assert_int_equal(
        tp_settle_allocate(TP_SETTLE_TOTAL_MAX + 1, (int64_t[]){1, 2}, 2, parts, msg, sizeof msg),
        TP_ERR_INVALID);
    assert_int_equal(tp_settle_allocate(1, (int64_t[]){0, 0}, 2, parts, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_settle_allocate(1, (int64_t[]){-1, 5}, 2, parts, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_settle_allocate(-1, (int64_t[]){1, 5}, 2, parts, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_settle_allocate(1, (int64_t[]){1}, 0, parts, msg, sizeof msg),
                     TP_ERR_INVALID);
    int64_t many[TP_SETTLE_AMC_MAX + 1] = {1};
    int64_t many_parts[TP_SETTLE_AMC_MAX + 1];
    assert_int_equal(
        tp_settle_allocate(1, many, TP_SETTLE_AMC_MAX + 1, many_parts, msg, sizeof msg),
        TP_ERR_TOO_BIG);
}

static void split_groups_a_ps_run_by_amc(void **state)
{
    (void)state;
    struct tp_settle_line lines[4];
    size_t n = 0;
    struct tp_advance_recon r = recon(101245, 50000);
    assert_int_equal(tp_settle_split(claims, 3, &r, lines, 4, &n, msg, sizeof msg), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(lines[0].amc, "123456789");
    assert_int_equal(lines[0].claims, 2);
    assert_int_equal(lines[0].amount_cents, 101235);
    assert_int_equal(lines[0].by_advance_cents, 49995);
    assert_string_equal(lines[1].amc, "987654321");
    assert_int_equal(lines[1].claims, 1);
    assert_int_equal(lines[1].amount_cents, 10);
    assert_int_equal(lines[1].by_advance_cents, 5);

    /* Sorted by AMC number whatever the claims' order; no advance, no deduction. */
    const struct tp_paid_claim rev[3] = {claims[1], claims[2], claims[0]};
    r = recon(101245, 0);
    assert_int_equal(tp_settle_split(rev, 3, &r, lines, 4, &n, msg, sizeof msg), TP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(lines[0].amc, "123456789");
    assert_int_equal(lines[0].by_advance_cents, 0);
    assert_int_equal(lines[1].by_advance_cents, 0);

    /* Room for one AMC only. */
    assert_int_equal(tp_settle_split(claims, 3, &r, lines, 1, &n, msg, sizeof msg), TP_ERR_TOO_BIG);
    /* A reconciliation that does not match the claims. */
    r = recon(101244, 0);
    assert_int_equal(tp_settle_split(claims, 3, &r, lines, 4, &n, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "do not add up"));
    r = recon(101245, 0);
    r.net_cents--; /* tampered */
    assert_int_equal(tp_settle_split(claims, 3, &r, lines, 4, &n, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "inconsistent"));
}

static void bad_claims_are_refused(void **state)
{
    (void)state;
    struct tp_paid_claim c = claims[0];
    int64_t total;
    assert_int_equal(tp_paid_claims_total(&c, 1, &total, msg, sizeof msg), TP_OK);
    assert_int_equal(total, 1234);
    const char *bad_invoices[] = {
        "", "-F1", "=1+1", "F 1", "F1;", "F\xc3\xa9", "123456789012345678901234567890123456"};
    for (size_t i = 0; i < sizeof bad_invoices / sizeof bad_invoices[0]; i++) {
        c = claims[0];
        c.invoice = bad_invoices[i];
        assert_int_equal(tp_paid_claims_total(&c, 1, &total, msg, sizeof msg), TP_ERR_INVALID);
        assert_non_null(strstr(msg, "claim 0: invoice number"));
    }
    c = claims[0];
    c.amc = "12345678";
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
    c.amc = "000000000";
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
    c = claims[0];
    c.amc_cents = 0;
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
    c.amc_cents = -5;
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
    c.amc_cents = TP_SEPA_AMOUNT_MAX + 1;
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
    c = claims[0];
    c.care_date = TP_DAY_MAX + 1;
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
    c.invoice = NULL;
    assert_int_equal(tp_paid_claim_check(&c, msg, sizeof msg), TP_ERR_INVALID);
}

/* ------------------------------------------------------------------------------------- */
/* Remittance advice                                                                       */

static void remittance_text_lists_invoices_or_points_at_the_advice(void **state)
{
    (void)state;
    char r[TP_SEPA_RMT_MAX + 1];
    assert_int_equal(tp_settle_remittance("OTP-1", "750000001", claims, 3, r, msg, sizeof msg),
                     TP_OK);
    assert_string_equal(r, "FACT F2026-0001 F2026-0002 F2026-0003");
    /* 13 invoices of 10 characters: 4 + 13 x 11 = 147 > 140. */
    struct tp_paid_claim many[13];
    for (int i = 0; i < 13; i++)
        many[i] = claims[0];
    assert_int_equal(
        tp_settle_remittance("OTP-20261123-0001", "750000001", many, 13, r, msg, sizeof msg),
        TP_OK);
    assert_string_equal(r, "AVIS OTP-20261123-0001 PS 750000001 - 13 FACTURES");
    /* 12 fit exactly: 4 + 12 x 11 = 136. */
    assert_int_equal(tp_settle_remittance("OTP-1", "750000001", many, 12, r, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(strlen(r), 136);
    /* Exactly 140: 4 + 11 x 11 + 1 + 14 ("F2026-00010000"). */
    many[11].invoice = "F2026-00010000";
    assert_int_equal(tp_settle_remittance("OTP-1", "750000001", many, 12, r, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(strlen(r), 140);
    assert_int_equal(strncmp(r, "FACT ", 5), 0);
    many[11].invoice = "F2026-000100000";
    assert_int_equal(tp_settle_remittance("OTP-1", "750000001", many, 12, r, msg, sizeof msg),
                     TP_OK);
    assert_string_equal(r, "AVIS OTP-1 PS 750000001 - 12 FACTURES");
    /* The worst case of the reference still fits 140. */
    assert_int_equal(tp_settle_remittance("12345678901234567890123456789012345",
                                          "12345678901234567890123456789012345", many, 13, r, msg,
                                          sizeof msg),
                     TP_OK);
    assert_true(strlen(r) <= 140);
    assert_non_null(strstr(r, "13 FACTURES"));
    assert_int_equal(tp_settle_remittance("OTP 1", "750000001", claims, 3, r, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_settle_remittance("OTP-1", "", claims, 3, r, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_settle_remittance("OTP-1", "750000001", claims, 0, r, msg, sizeof msg),
                     TP_ERR_INVALID);
}

static void french_amounts(void **state)
{
    (void)state;
    char b[32];
    tp_amount_format_fr(0, b);
    assert_string_equal(b, "0,00");
    tp_amount_format_fr(-5, b);
    assert_string_equal(b, "-0,05");
    tp_amount_format_fr(99999, b);
    assert_string_equal(b, "999,99");
    tp_amount_format_fr(100000, b);
    assert_string_equal(b, "1 000,00");
    tp_amount_format_fr(123456789, b);
    assert_string_equal(b, "1 234 567,89");
    assert_int_equal(tp_amount_format_fr(INT64_MIN, b), 26);
    assert_string_equal(b, "-92 233 720 368 547 758,08");
}

static void advice_csv_golden(void **state)
{
    (void)state;
    struct tp_sink s = sink();
    const struct tp_advance_recon r = recon(101245, 50000);
    assert_int_equal(tp_advice_csv(&advice, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_OK);
    assert_string_equal(out, "record,reference,amc,care_date,amount_eur\r\n"
                             "run,OTP-20261123-0001,,2026-11-24,\r\n"
                             "ps,750000001,,,\r\n"
                             "ps_name,Pharmacie de l'Église,,,\r\n"
                             "invoice,F2026-0001,123456789,2026-11-02,12.34\r\n"
                             "invoice,F2026-0002,987654321,2026-11-03,0.10\r\n"
                             "invoice,F2026-0003,123456789,2026-11-03,1000.01\r\n"
                             "total_invoices,3,,,1012.45\r\n"
                             "advance_deducted,,,,-500.00\r\n"
                             "net_transfer,OTP-1-PS-0001,,,512.45\r\n"
                             "advance_balance,,,,0.00\r\n");
}

static void advice_text_golden(void **state)
{
    (void)state;
    struct tp_sink s = sink();
    const struct tp_advance_recon r = recon(101245, 50000);
    assert_int_equal(tp_advice_text(&advice, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_OK);
    assert_string_equal(
        out, "AVIS DE PAIEMENT\n"
             "Paiement      OTP-20261123-0001 du 2026-11-24\n"
             "Bénéficiaire  Pharmacie de l'Église (750000001)\n"
             "Compte        FR14 **** 2606\n"
             "\n"
             "Facture                              AMC        Soins                Montant\n"
             "F2026-0001                           123456789  2026-11-02         12,34 EUR\n"
             "F2026-0002                           987654321  2026-11-03          0,10 EUR\n"
             "F2026-0003                           123456789  2026-11-03      1 000,01 EUR\n"
             "\n"
             "Total des factures (3)                                          1 012,45 EUR\n"
             "Acompte déduit                                                   -500,00 EUR\n"
             "Virement OTP-1-PS-0001                                            512,45 EUR\n"
             "Solde d'acompte restant dû                                          0,00 EUR\n");
}

static void advice_when_the_advance_covers_everything(void **state)
{
    (void)state;
    struct tp_advice_head h = advice;
    h.end_to_end = NULL; /* no transfer */
    const struct tp_advance_recon r = recon(101245, 200000);
    struct tp_sink s = sink();
    assert_int_equal(tp_advice_csv(&h, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg), TP_OK);
    assert_non_null(strstr(out, "advance_deducted,,,,-1012.45\r\n"
                                "net_transfer,,,,0.00\r\n"
                                "advance_balance,,,,987.55\r\n"));
    s = sink();
    assert_int_equal(tp_advice_text(&h, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg), TP_OK);
    assert_non_null(strstr(
        out, "Aucun virement (couvert par l'acompte)                              0,00 EUR\n"
             "Solde d'acompte restant dû                                        987,55 EUR\n"));
    /* An end-to-end id with nothing transferred, or a transfer without one: refused. */
    s = sink();
    assert_int_equal(tp_advice_csv(&advice, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    const struct tp_advance_recon r2 = recon(101245, 0);
    assert_int_equal(tp_advice_csv(&h, claims, 3, &r2, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "end-to-end"));
    assert_string_equal(out, "");
}

static void advice_refuses_inconsistent_input(void **state)
{
    (void)state;
    struct tp_sink s = sink();
    struct tp_advance_recon r = recon(101246, 0); /* one cent more than the claims */
    assert_int_equal(tp_advice_csv(&advice, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "do not add up"));
    r = recon(101245, 0);
    struct tp_advice_head h = advice;
    h.iban = "FR1420041010050500013M02607";
    assert_int_equal(tp_advice_text(&h, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "PS IBAN"));
    h = advice;
    h.run_id = "run 1";
    assert_int_equal(tp_advice_text(&h, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    h = advice;
    h.ps_name = "";
    assert_int_equal(tp_advice_text(&h, claims, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    struct tp_paid_claim bad[3] = {claims[0], claims[1], claims[2]};
    bad[2].amc = "12345678X";
    assert_int_equal(tp_advice_csv(&advice, bad, 3, &r, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "claim 2"));
    assert_string_equal(out, "");
    /* A writer that takes nothing. */
    char tiny[8];
    struct tp_sink t = {.buf = tiny, .cap = sizeof tiny};
    assert_int_equal(tp_advice_csv(&advice, claims, 3, &r, tp_sink_write, &t, msg, sizeof msg),
                     TP_ERR_IO);
}

/* ------------------------------------------------------------------------------------- */
/* AMC statement                                                                           */

static const struct tp_statement_head stmt = {
    .run_id = "OTP-20261123-0001",
    .paid_on = PAID_ON,
    .amc = "123456789",
    .amc_name = "Mutuelle Générale",
    .advances_granted_cents = 300000,
    .advances_outstanding_cents = 0,
};

/* 1012.35 + 25.00 + 0.03 = 1037.38 owed; 499.95 of it covered by the first PS's advance. */
static const struct tp_statement_line stmt_lines[3] = {
    {"750000001", "Pharmacie de l'Église", 2, 101235, 49995},
    {"10000000001", "Dr Martin, \"Cabinet\"", 1, 2500, 0},
    {"750000002", "=HYPERLINK(\"x\")", 3, 3, 0},
};

static void statement_totals_add_up(void **state)
{
    (void)state;
    struct tp_statement_totals t;
    assert_int_equal(tp_statement_totals(stmt_lines, 3, &t, msg, sizeof msg), TP_OK);
    assert_int_equal(t.ps, 3);
    assert_int_equal(t.claims, 6);
    assert_int_equal(t.amount_cents, 103738);
    assert_int_equal(t.by_advance_cents, 49995);
    assert_int_equal(t.transferred_cents, 53743);
    assert_int_equal(tp_statement_totals(NULL, 0, &t, msg, sizeof msg), TP_OK);
    assert_int_equal(t.amount_cents, 0);

    struct tp_statement_line l = stmt_lines[0];
    l.by_advance_cents = l.amount_cents + 1;
    assert_int_equal(tp_statement_totals(&l, 1, &t, msg, sizeof msg), TP_ERR_INVALID);
    l = stmt_lines[0];
    l.claims = 0;
    assert_int_equal(tp_statement_totals(&l, 1, &t, msg, sizeof msg), TP_ERR_INVALID);
    l = stmt_lines[0];
    l.amount_cents = 1; /* 2 claims cannot be worth 0.01 */
    assert_int_equal(tp_statement_totals(&l, 1, &t, msg, sizeof msg), TP_ERR_INVALID);
    l = stmt_lines[0];
    l.by_advance_cents = -1;
    assert_int_equal(tp_statement_totals(&l, 1, &t, msg, sizeof msg), TP_ERR_INVALID);
    l = stmt_lines[0];
    l.ps_id = "";
    assert_int_equal(tp_statement_totals(&l, 1, &t, msg, sizeof msg), TP_ERR_INVALID);
    struct tp_statement_line big[2] = {stmt_lines[0], stmt_lines[0]};
    big[0].amount_cents = big[1].amount_cents = TP_SETTLE_TOTAL_MAX / 2 + 1;
    big[0].by_advance_cents = big[1].by_advance_cents = 0;
    assert_int_equal(tp_statement_totals(big, 2, &t, msg, sizeof msg), TP_ERR_TOO_BIG);
}

static void statement_csv_golden(void **state)
{
    (void)state;
    struct tp_sink s = sink();
    assert_int_equal(tp_statement_csv(&stmt, stmt_lines, 3, tp_sink_write, &s, msg, sizeof msg),
                     TP_OK);
    assert_string_equal(
        out, "ps_id,ps_name,claims,amount_due_eur,settled_by_advance_eur,transferred_eur\r\n"
             "750000001,Pharmacie de l'Église,2,1012.35,499.95,512.40\r\n"
             "10000000001,\"Dr Martin, \"\"Cabinet\"\"\",1,25.00,0.00,25.00\r\n"
             "750000002,\"'=HYPERLINK(\"\"x\"\")\",3,0.03,0.00,0.03\r\n"
             "TOTAL,3 PS,6,1037.38,499.95,537.43\r\n"
             "advances_granted,,,3000.00,,\r\n"
             "advances_outstanding,,,0.00,,\r\n");
}

static void statement_text_golden(void **state)
{
    (void)state;
    struct tp_sink s = sink();
    assert_int_equal(tp_statement_text(&stmt, stmt_lines, 2, tp_sink_write, &s, msg, sizeof msg),
                     TP_OK);
    assert_string_equal(
        out, "RELEVÉ DE RÈGLEMENT\n"
             "Paiement  OTP-20261123-0001 du 2026-11-24\n"
             "AMC       Mutuelle Générale (123456789)\n"
             "\n"
             "PS                                   Factures                Dû      Dont acompte"
             "              Viré\n"
             "750000001                                   2      1 012,35 EUR        499,95 EUR"
             "        512,40 EUR  Pharmacie de l'Église\n"
             "10000000001                                 1         25,00 EUR          0,00 EUR"
             "         25,00 EUR  Dr Martin, \"Cabinet\"\n"
             "\n"
             "Total (2 PS)                                3      1 037,35 EUR        499,95 EUR"
             "        537,40 EUR\n"
             "\n"
             "Montant dû à la plateforme pour ce paiement : 1 037,35 EUR\n"
             "Acomptes versés aux PS depuis le relevé précédent : 3 000,00 EUR\n"
             "Acomptes restant à régulariser : 0,00 EUR\n");
}

static void statement_refuses_bad_heads(void **state)
{
    (void)state;
    struct tp_sink s = sink();
    struct tp_statement_head h = stmt;
    h.amc = "12345678";
    assert_int_equal(tp_statement_csv(&h, stmt_lines, 3, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "AMC"));
    h = stmt;
    h.advances_granted_cents = -1;
    assert_int_equal(tp_statement_text(&h, stmt_lines, 3, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    h = stmt;
    h.amc_name = NULL;
    assert_int_equal(tp_statement_text(&h, stmt_lines, 3, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    struct tp_statement_line l[1] = {stmt_lines[0]};
    l[0].by_advance_cents = l[0].amount_cents + 1;
    assert_int_equal(tp_statement_csv(&stmt, l, 1, tp_sink_write, &s, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "line 0"));
    assert_string_equal(out, "");
    /* An AMC with no claim in the run still gets a statement (all zero). */
    assert_int_equal(tp_statement_csv(&stmt, NULL, 0, tp_sink_write, &s, msg, sizeof msg), TP_OK);
    assert_non_null(strstr(out, "TOTAL,0 PS,0,0.00,0.00,0.00\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(advance_is_a_share_of_the_recent_daily_volume),
        cmocka_unit_test(bad_advance_policies_are_refused),
        cmocka_unit_test(reconcile_advance_larger_smaller_zero),
        cmocka_unit_test(allocation_is_proportional_and_exact),
        cmocka_unit_test(split_groups_a_ps_run_by_amc),
        cmocka_unit_test(bad_claims_are_refused),
        cmocka_unit_test(remittance_text_lists_invoices_or_points_at_the_advice),
        cmocka_unit_test(french_amounts),
        cmocka_unit_test(advice_csv_golden),
        cmocka_unit_test(advice_text_golden),
        cmocka_unit_test(advice_when_the_advance_covers_everything),
        cmocka_unit_test(advice_refuses_inconsistent_input),
        cmocka_unit_test(statement_totals_add_up),
        cmocka_unit_test(statement_csv_golden),
        cmocka_unit_test(statement_text_golden),
        cmocka_unit_test(statement_refuses_bad_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
