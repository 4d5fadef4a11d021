/* Settlement of a payment run: advances (acomptes), the remittance advice sent to each PS
 * (avis de paiement) and the statement sent to each AMC (relevé), docs/PAYMENTS.md.
 *
 * Pure: no I/O, no clock, no allocation; money in integer cents. Renderings go out through
 * a tp_write_fn (core/sepa.h) one line at a time, so a PS with 100,000 invoices in a run
 * costs a few hundred bytes of stack. Texts from the caller (names, invoice numbers) are
 * written as given in the text renderings and quoted in the CSV ones; messages never echo
 * them.
 *
 * The money flows (PRODUCT.md §3.4): every claim paid in a run is owed by its AMC for its
 * AMC part, whatever the PS receives; the PS receives the sum of its claims minus what it
 * already received as an advance (never less than zero: the rest of the advance stays
 * outstanding for the next run). */
#ifndef TP_CORE_SETTLEMENT_H
#define TP_CORE_SETTLEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "core/sepa.h"

#define TP_INVOICE_MAX 35     /* PS invoice number: [A-Za-z0-9./-], first an alphanumeric */
#define TP_SETTLE_AMC_MAX 256 /* distinct AMCs among one PS's claims in one run */
#define TP_SETTLE_TOTAL_MAX TP_SEPA_SUM_MAX /* any total (a run, a PS, an AMC) */

/* One claim paid in the run (the AMC part of an accepted claim). Views into the caller's
 * memory. */
struct tp_paid_claim {
    const char *invoice; /* the PS's invoice number (the claim's idempotency key) */
    const char *amc;     /* 9-digit AMC number */
    tp_day care_date;
    int64_t amc_cents; /* > 0 */
};

/* Checks one claim (invoice number shape, AMC number, date, amount). */
enum tp_err tp_paid_claim_check(const struct tp_paid_claim *c, char *msg,
                                size_t msglen) TP_MUST_USE;

/* Sum of the AMC parts of n claims, every claim checked. TP_ERR_INVALID names the index of
 * the first bad claim; TP_ERR_TOO_BIG past TP_SETTLE_TOTAL_MAX. */
enum tp_err tp_paid_claims_total(const struct tp_paid_claim *c, size_t n, int64_t *total, char *msg,
                                 size_t msglen) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Advances (acomptes)
 *
 * Rule: advance = share x (amount paid to the PS over the last window_days) / window_days
 *                 x outage_days,
 * rounded down to the cent, less what the PS already holds as an outstanding advance (never
 * below zero), and at most cap_cents when cap_cents > 0. With the defaults, 80 % of the
 * average day of the last 30 days, for 7 days of expected outage. Days without payment count
 * as zero: a PS that stopped working gets a proportionally smaller advance. */
struct tp_advance_policy {
    int32_t share_bp;    /* 1..10000 (basis points of the average daily amount) */
    int32_t window_days; /* 1..366 */
    int32_t outage_days; /* 1..366 */
    int64_t cap_cents;   /* 0 = no cap */
};
#define TP_ADVANCE_POLICY_DEFAULT ((struct tp_advance_policy){8000, 30, 7, 0})

/* Proposes the advance for a PS that was paid paid_in_window_cents over the policy's window
 * and holds outstanding_cents of advances not yet reconciled. *advance_cents may be 0.
 * TP_ERR_INVALID for a policy or an amount out of range (negative, above
 * TP_SETTLE_TOTAL_MAX). */
enum tp_err tp_advance_propose(const struct tp_advance_policy *p, int64_t paid_in_window_cents,
                               int64_t outstanding_cents, int64_t *advance_cents, char *msg,
                               size_t msglen) TP_MUST_USE;

/* What a run does to one PS: the claims' total, the part of it that repays the advance, the
 * transfer, and the advance balance before and after. */
struct tp_advance_recon {
    int64_t gross_cents;
    int64_t deducted_cents;
    int64_t net_cents; /* gross - deducted, >= 0; no SEPA transfer when 0 */
    int64_t balance_before_cents;
    int64_t balance_after_cents; /* balance_before - deducted, >= 0 */
};

/* Reconciles: deducted = min(gross, balance). Both inputs in 0..TP_SETTLE_TOTAL_MAX. */
enum tp_err tp_advance_reconcile(int64_t gross_cents, int64_t balance_cents,
                                 struct tp_advance_recon *out, char *msg,
                                 size_t msglen) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Splitting a PS's run by AMC */

/* Splits total (0..TP_SETTLE_TOTAL_MAX) into n parts (1..TP_SETTLE_AMC_MAX) in proportion to
 * weights (each >= 0, their sum > 0 and <= TP_SETTLE_TOTAL_MAX): each part is rounded down, then
 * the cents left go one each to the largest remainders (ties: the lower index). The parts add up to
 * total exactly. Used to say which AMC's claims an advance deduction covered, and to
 * attribute the advances granted to the AMCs in proportion to the PS's volume with each. */
enum tp_err tp_settle_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *parts,
                               char *msg, size_t msglen) TP_MUST_USE;

/* One PS's claims for one AMC in one run: a line of that AMC's statement. */
struct tp_settle_line {
    char amc[10];
    uint64_t claims;
    int64_t amount_cents;     /* sum of the AMC parts */
    int64_t by_advance_cents; /* of which covered by the PS's advance deduction */
};

/* Groups one PS's claims by AMC (lines sorted by AMC number) and spreads
 * r->deducted_cents over them with tp_settle_allocate(). r->gross_cents must equal the
 * claims' total. TP_ERR_TOO_BIG when more than max (at most TP_SETTLE_AMC_MAX) AMCs. */
enum tp_err tp_settle_split(const struct tp_paid_claim *c, size_t n,
                            const struct tp_advance_recon *r, struct tp_settle_line *lines,
                            size_t max, size_t *n_lines, char *msg, size_t msglen) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Remittance advice (avis de paiement), one per PS and run */

/* The transfer's unstructured remittance text (RmtInf/Ustrd, <= 140 characters):
 * "FACT <invoice> <invoice> ..." when every invoice number fits, otherwise
 * "AVIS <run_id> PS <ps_id> - <n> FACTURES", pointing at the remittance advice. run_id and
 * ps_id are SEPA identifiers (tp_sepa_id_check); the claims are checked. */
enum tp_err tp_settle_remittance(const char *run_id, const char *ps_id,
                                 const struct tp_paid_claim *c, size_t n,
                                 char out[TP_SEPA_RMT_MAX + 1], char *msg,
                                 size_t msglen) TP_MUST_USE;

struct tp_advice_head {
    const char *run_id;     /* the run's MsgId */
    tp_day paid_on;         /* requested execution date */
    const char *ps_id;      /* FINESS / RPPS / AM number */
    const char *ps_name;    /* UTF-8 */
    const char *iban;       /* shown masked: country, check digits and the last 4 */
    const char *end_to_end; /* the transfer's EndToEndId; NULL or "" when net is 0 */
};

/* CSV (RFC 4180, comma, CRLF, amounts in euros with a '.'): header
 *   record,reference,amc,care_date,amount_eur
 * then `run,<run_id>,,<paid_on>,`, `ps,<ps_id>,,,`, `ps_name,<name>,,,`, one
 * `invoice,<invoice>,<amc>,<care_date>,<amount>` per claim in the given order, then
 * `total_invoices,<count>,,,<gross>`, `advance_deducted,,,,<-deducted>`,
 * `net_transfer,<end_to_end>,,,<net>`, `advance_balance,,,,<balance_after>`.
 * The claims must add up to r->gross_cents (TP_ERR_INVALID otherwise, nothing written). */
enum tp_err tp_advice_csv(const struct tp_advice_head *h, const struct tp_paid_claim *c, size_t n,
                          const struct tp_advance_recon *r, tp_write_fn write, void *ctx, char *msg,
                          size_t msglen) TP_MUST_USE;

/* The same in French, aligned columns, amounts as "1 234,56 EUR". */
enum tp_err tp_advice_text(const struct tp_advice_head *h, const struct tp_paid_claim *c, size_t n,
                           const struct tp_advance_recon *r, tp_write_fn write, void *ctx,
                           char *msg, size_t msglen) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Settlement statement (relevé), one per AMC and run */

struct tp_statement_head {
    const char *run_id;
    tp_day paid_on;
    const char *amc; /* 9 digits */
    const char *amc_name;
    /* Advances granted to PS since the previous statement, attributed to this AMC in
     * proportion to its share of each PS's volume (tp_settle_allocate), and what remains
     * outstanding of them after this run: informative, not part of what is owed. */
    int64_t advances_granted_cents;
    int64_t advances_outstanding_cents;
};

/* A statement line: one PS, from the tp_settle_line the run computed for this AMC. */
struct tp_statement_line {
    const char *ps_id;
    const char *ps_name; /* UTF-8 */
    uint64_t claims;
    int64_t amount_cents;
    int64_t by_advance_cents; /* 0 <= by_advance <= amount */
};

struct tp_statement_totals {
    uint64_t ps, claims;
    int64_t amount_cents, by_advance_cents, transferred_cents;
};

/* Checks the lines and adds them up (what the AMC owes = amount_cents). */
enum tp_err tp_statement_totals(const struct tp_statement_line *l, size_t n,
                                struct tp_statement_totals *t, char *msg,
                                size_t msglen) TP_MUST_USE;

/* CSV: header `ps_id,ps_name,claims,amount_due_eur,settled_by_advance_eur,transferred_eur`,
 * one row per line in the given order, then `TOTAL,<n> PS,<claims>,<amount>,<by_advance>,
 * <transferred>`, `advances_granted,,,<granted>,,` and `advances_outstanding,,,<outstanding>,,`.
 * The header comes first so that any CSV reader takes the file; the run and the AMC are in
 * the file name the shell chooses and in the text rendering. Nothing is written when a line
 * is bad. */
enum tp_err tp_statement_csv(const struct tp_statement_head *h, const struct tp_statement_line *l,
                             size_t n, tp_write_fn write, void *ctx, char *msg,
                             size_t msglen) TP_MUST_USE;

/* The same in French with the run, date and AMC in a heading. */
enum tp_err tp_statement_text(const struct tp_statement_head *h, const struct tp_statement_line *l,
                              size_t n, tp_write_fn write, void *ctx, char *msg,
                              size_t msglen) TP_MUST_USE;

/* Formats cents the French way: "-1 234 567,89" (narrow spacing with plain spaces). buf of
 * 32 bytes holds any int64. Returns the length. */
size_t tp_amount_format_fr(int64_t cents, char buf[32]);

#endif
