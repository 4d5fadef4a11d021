/* Advances, remittance advices and AMC statements (see settlement.h, docs/PAYMENTS.md). */
#include "core/settlement.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/validate.h"

/* Products of two amounts (a share of a total) need 128 bits: cents up to 10^18 times
 * weights up to 10^18. GCC and Clang provide the type on every 64-bit target we build for. */
#ifndef __SIZEOF_INT128__
#error "settlement.c needs unsigned __int128"
#endif
typedef unsigned __int128 u128;

#define NAME_IN_MAX 255 /* bytes of a PS or AMC name accepted in a rendering */

/* ---------------------------------------------------------------------------------------
 * Claims */

static int invoice_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/' || c == '-';
}

enum tp_err tp_paid_claim_check(const struct tp_paid_claim *c, char *msg, size_t msglen)
{
    if (!c || !c->invoice || !c->amc)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "claim, invoice and AMC are required");
    const size_t n = strnlen(c->invoice, TP_INVOICE_MAX + 1);
    if (n == 0 || n > TP_INVOICE_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "invoice number must be 1 to %d characters",
                       TP_INVOICE_MAX);
    for (size_t i = 0; i < n; i++)
        if (!invoice_char(c->invoice[i]))
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "invoice number must be letters, digits, '.', '/' or '-'");
    /* Also keeps spreadsheets from reading the CSV cell as a formula (-, +). */
    if (!invoice_char(c->invoice[0]) || c->invoice[0] == '.' || c->invoice[0] == '/' ||
        c->invoice[0] == '-')
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "invoice number must start with a letter or a digit");
    char why[96];
    if (tp_amc_check(c->amc, strnlen(c->amc, TP_AMC_LEN + 1), why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s", why);
    if (c->care_date < TP_DAY_MIN || c->care_date > TP_DAY_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "date of care out of range");
    if (c->amc_cents <= 0 || c->amc_cents > TP_SEPA_AMOUNT_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "AMC amount must be 0.01 to 999999999.99");
    return TP_OK;
}

enum tp_err tp_paid_claims_total(const struct tp_paid_claim *c, size_t n, int64_t *total, char *msg,
                                 size_t msglen)
{
    char why[128];
    int64_t sum = 0;
    if (!c && n)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "claims missing");
    for (size_t i = 0; i < n; i++) {
        if (tp_paid_claim_check(&c[i], why, sizeof why) != TP_OK)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "claim %zu: %s", i, why);
        if (c[i].amc_cents > TP_SETTLE_TOTAL_MAX - sum)
            return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "total of the claims too large");
        sum += c[i].amc_cents;
    }
    *total = sum;
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Advances */

enum tp_err tp_advance_propose(const struct tp_advance_policy *p, int64_t paid_in_window_cents,
                               int64_t outstanding_cents, int64_t *advance_cents, char *msg,
                               size_t msglen)
{
    if (!p || !advance_cents)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "policy and result are required");
    if (p->share_bp < 1 || p->share_bp > 10000)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "advance share must be 1 to 10000 bp");
    if (p->window_days < 1 || p->window_days > 366 || p->outage_days < 1 || p->outage_days > 366)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "window and outage must be 1 to 366 days");
    if (p->cap_cents < 0 || p->cap_cents > TP_SETTLE_TOTAL_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "advance cap out of range");
    if (paid_in_window_cents < 0 || paid_in_window_cents > TP_SETTLE_TOTAL_MAX ||
        outstanding_cents < 0 || outstanding_cents > TP_SETTLE_TOTAL_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "amounts must be 0 to %lld cents",
                       (long long)TP_SETTLE_TOTAL_MAX);
    /* floor(paid x share x outage / (10000 x window)), in one division. */
    const u128 num = (u128)paid_in_window_cents * (u128)p->share_bp * (u128)p->outage_days;
    const u128 den = (u128)10000 * (u128)p->window_days;
    u128 v = num / den;
    if (v > (u128)TP_SETTLE_TOTAL_MAX)
        v = (u128)TP_SETTLE_TOTAL_MAX;
    int64_t a = (int64_t)v;
    a = a > outstanding_cents ? a - outstanding_cents : 0;
    if (p->cap_cents > 0 && a > p->cap_cents)
        a = p->cap_cents;
    *advance_cents = a;
    return TP_OK;
}

enum tp_err tp_advance_reconcile(int64_t gross_cents, int64_t balance_cents,
                                 struct tp_advance_recon *out, char *msg, size_t msglen)
{
    if (!out)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "result is required");
    if (gross_cents < 0 || gross_cents > TP_SETTLE_TOTAL_MAX || balance_cents < 0 ||
        balance_cents > TP_SETTLE_TOTAL_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "amounts must be 0 to %lld cents",
                       (long long)TP_SETTLE_TOTAL_MAX);
    const int64_t d = gross_cents < balance_cents ? gross_cents : balance_cents;
    *out = (struct tp_advance_recon){.gross_cents = gross_cents,
                                     .deducted_cents = d,
                                     .net_cents = gross_cents - d,
                                     .balance_before_cents = balance_cents,
                                     .balance_after_cents = balance_cents - d};
    return TP_OK;
}

/* The invariants tp_advance_reconcile() establishes, for results handed back to us. */
static enum tp_err recon_ok(const struct tp_advance_recon *r, char *msg, size_t msglen)
{
    if (!r || r->gross_cents < 0 || r->gross_cents > TP_SETTLE_TOTAL_MAX ||
        r->balance_before_cents < 0 || r->balance_before_cents > TP_SETTLE_TOTAL_MAX ||
        r->deducted_cents < 0 || r->deducted_cents > r->gross_cents ||
        r->deducted_cents > r->balance_before_cents ||
        r->net_cents != r->gross_cents - r->deducted_cents ||
        r->balance_after_cents != r->balance_before_cents - r->deducted_cents)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "advance reconciliation is inconsistent");
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Splitting by AMC */

enum tp_err tp_settle_allocate(int64_t total, const int64_t *weights, size_t n, int64_t *parts,
                               char *msg, size_t msglen)
{
    if (!weights || !parts || n == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "weights and parts are required");
    if (n > TP_SETTLE_AMC_MAX)
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "more than %d parts", TP_SETTLE_AMC_MAX);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (weights[i] < 0 || weights[i] > TP_SETTLE_TOTAL_MAX - sum)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "weights must be 0 to %lld in all",
                           (long long)TP_SETTLE_TOTAL_MAX);
        sum += weights[i];
    }
    if (sum == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "weights add up to zero");
    if (total < 0 || total > TP_SETTLE_TOTAL_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "total must be 0 to %lld",
                       (long long)TP_SETTLE_TOTAL_MAX);
    int64_t rem[TP_SETTLE_AMC_MAX];
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        const u128 p = (u128)total * (u128)weights[i];
        parts[i] = (int64_t)(p / (u128)sum);
        rem[i] = (int64_t)(p % (u128)sum);
        given += parts[i];
    }
    /* Each part lost less than one cent, so fewer than n cents are left. */
    for (int64_t left = total - given; left > 0; left--) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (rem[i] >= 0 && (best == n || rem[i] > rem[best]))
                best = i;
        assert(best < n);
        parts[best]++;
        rem[best] = -1;
    }
    return TP_OK;
}

enum tp_err tp_settle_split(const struct tp_paid_claim *c, size_t n,
                            const struct tp_advance_recon *r, struct tp_settle_line *lines,
                            size_t max, size_t *n_lines, char *msg, size_t msglen)
{
    if (!lines || !n_lines || max == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "output lines are required");
    if (max > TP_SETTLE_AMC_MAX)
        max = TP_SETTLE_AMC_MAX;
    enum tp_err rc = recon_ok(r, msg, msglen);
    if (rc != TP_OK)
        return rc;
    int64_t total = 0;
    if ((rc = tp_paid_claims_total(c, n, &total, msg, msglen)) != TP_OK)
        return rc;
    if (total != r->gross_cents)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "the claims do not add up to the reconciled gross amount");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < k && memcmp(lines[j].amc, c[i].amc, TP_AMC_LEN) != 0)
            j++;
        if (j == k) {
            if (k == max)
                return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "claims of more than %zu AMCs", max);
            memcpy(lines[k].amc, c[i].amc, TP_AMC_LEN);
            lines[k].amc[TP_AMC_LEN] = '\0';
            lines[k].claims = 0;
            lines[k].amount_cents = 0;
            lines[k].by_advance_cents = 0;
            k++;
        }
        lines[j].claims++;
        lines[j].amount_cents += c[i].amc_cents; /* bounded by total, checked above */
    }
    /* Insertion sort by AMC number: a few dozen lines at most. */
    for (size_t i = 1; i < k; i++) {
        struct tp_settle_line x = lines[i];
        size_t j = i;
        for (; j > 0 && memcmp(lines[j - 1].amc, x.amc, TP_AMC_LEN) > 0; j--)
            lines[j] = lines[j - 1];
        lines[j] = x;
    }
    *n_lines = k;
    if (k == 0 || r->deducted_cents == 0)
        return TP_OK;
    int64_t w[TP_SETTLE_AMC_MAX], parts[TP_SETTLE_AMC_MAX];
    for (size_t i = 0; i < k; i++)
        w[i] = lines[i].amount_cents;
    if ((rc = tp_settle_allocate(r->deducted_cents, w, k, parts, msg, msglen)) != TP_OK)
        return rc;
    for (size_t i = 0; i < k; i++)
        lines[i].by_advance_cents = parts[i];
    return TP_OK;
}

enum tp_err tp_settle_remittance(const char *run_id, const char *ps_id,
                                 const struct tp_paid_claim *c, size_t n,
                                 char out[TP_SEPA_RMT_MAX + 1], char *msg, size_t msglen)
{
    char why[128];
    if (!out)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "output is required");
    out[0] = '\0';
    if (tp_sepa_id_check(run_id, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "run id: %s", why);
    if (tp_sepa_id_check(ps_id, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "PS identifier: %s", why);
    if (n == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "no invoice");
    int64_t total;
    enum tp_err rc = tp_paid_claims_total(c, n, &total, msg, msglen);
    if (rc != TP_OK)
        return rc;
    size_t len = 4;
    memcpy(out, "FACT", 4);
    for (size_t i = 0; i < n && len <= TP_SEPA_RMT_MAX; i++) {
        const size_t k = strlen(c[i].invoice);
        if (k + 1 > TP_SEPA_RMT_MAX - len) {
            len = TP_SEPA_RMT_MAX + 1; /* does not fit */
            break;
        }
        out[len++] = ' ';
        memcpy(out + len, c[i].invoice, k);
        len += k;
    }
    if (len <= TP_SEPA_RMT_MAX) {
        out[len] = '\0';
        return TP_OK;
    }
    /* 5 + 35 + 4 + 35 + 3 + 20 + 9 < 140: always fits. */
    snprintf(out, TP_SEPA_RMT_MAX + 1, "AVIS %s PS %s - %zu FACTURES", run_id, ps_id, n);
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Rendering */

size_t tp_amount_format_fr(int64_t cents, char buf[32])
{
    char plain[24];
    size_t n = tp_sepa_amount_format(cents, plain);
    size_t neg = plain[0] == '-', digits = n - neg - 3; /* integer digits */
    size_t len = 0;
    if (neg)
        buf[len++] = '-';
    for (size_t i = 0; i < digits; i++) {
        if (i && (digits - i) % 3 == 0)
            buf[len++] = ' ';
        buf[len++] = plain[neg + i];
    }
    buf[len++] = ',';
    buf[len++] = plain[n - 2];
    buf[len++] = plain[n - 1];
    buf[len] = '\0';
    return len;
}

/* One output line, built in place then handed to the writer. */
struct line {
    tp_write_fn write;
    void *ctx;
    int err; /* TP_ERR_TOO_BIG or TP_ERR_IO once something went wrong */
    size_t n;
    char b[1024];
};

static void add(struct line *l, const char *s, size_t n)
{
    if (n > sizeof l->b - l->n) {
        l->err = TP_ERR_TOO_BIG;
        return;
    }
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

__attribute__((format(printf, 2, 3))) static void addf(struct line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int k = vsnprintf(l->b + l->n, sizeof l->b - l->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof l->b - l->n)
        l->err = TP_ERR_TOO_BIG;
    else
        l->n += (size_t)k;
}

static void adds(struct line *l, const char *s)
{
    add(l, s, strlen(s));
}

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; a leading
 * = + - @ or tab gets a ' so that a spreadsheet shows text rather than running a formula
 * (OWASP "CSV injection"). */
static void csv_text(struct line *l, const char *s)
{
    const int formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        adds(l, s);
        return;
    }
    add(l, "\"", 1);
    if (formula)
        add(l, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            add(l, "\"", 1);
        add(l, p, 1);
    }
    add(l, "\"", 1);
}

static void csv_amount(struct line *l, int64_t cents)
{
    char a[24];
    add(l, a, tp_sepa_amount_format(cents, a));
}

static void fr_amount(struct line *l, int64_t cents, int width)
{
    char a[32];
    tp_amount_format_fr(cents, a);
    addf(l, "%*s EUR", width, a);
}

/* Hands the line over (with its end-of-line) and starts the next one. */
static void emit(struct line *l, const char *eol)
{
    adds(l, eol);
    if (!l->err && l->write(l->ctx, l->b, l->n) != l->n)
        l->err = TP_ERR_IO;
    l->n = 0;
}

static enum tp_err line_result(const struct line *l, char *msg, size_t msglen)
{
    if (l->err == TP_ERR_IO)
        return tp_fail(msg, msglen, TP_ERR_IO, "write failed");
    if (l->err)
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "line too long");
    return TP_OK;
}

static enum tp_err text_ok(const char *s, size_t max, const char *what, char *msg, size_t msglen)
{
    if (!s || !*s)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s missing", what);
    if (strnlen(s, max + 1) > max)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s longer than %zu bytes", what, max);
    return TP_OK;
}

static enum tp_err advice_check(const struct tp_advice_head *h, const struct tp_paid_claim *c,
                                size_t n, const struct tp_advance_recon *r, tp_write_fn write,
                                char *msg, size_t msglen)
{
    char why[128];
    if (!h || !write)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "advice head and output are required");
    if (tp_sepa_id_check(h->run_id, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "run id: %s", why);
    if (h->paid_on < TP_DAY_MIN || h->paid_on > TP_DAY_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "payment date out of range");
    enum tp_err rc = text_ok(h->ps_id, TP_SEPA_ID_MAX, "PS identifier", msg, msglen);
    if (rc == TP_OK)
        rc = text_ok(h->ps_name, NAME_IN_MAX, "PS name", msg, msglen);
    if (rc != TP_OK)
        return rc;
    if (!h->iban ||
        tp_iban_check(h->iban, strnlen(h->iban, TP_IBAN_MAX + 1), why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "PS IBAN: %s", h->iban ? why : "missing");
    if ((rc = recon_ok(r, msg, msglen)) != TP_OK)
        return rc;
    const int has_e2e = h->end_to_end && *h->end_to_end;
    if (r->net_cents > 0 && (!has_e2e || tp_sepa_id_check(h->end_to_end, why, sizeof why)))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "a transfer needs its end-to-end id");
    if (r->net_cents == 0 && has_e2e)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "no transfer, yet an end-to-end id");
    int64_t total = 0;
    if ((rc = tp_paid_claims_total(c, n, &total, msg, msglen)) != TP_OK)
        return rc;
    if (total != r->gross_cents)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "the claims do not add up to the reconciled gross amount");
    return TP_OK;
}

enum tp_err tp_advice_csv(const struct tp_advice_head *h, const struct tp_paid_claim *c, size_t n,
                          const struct tp_advance_recon *r, tp_write_fn write, void *ctx, char *msg,
                          size_t msglen)
{
    enum tp_err rc = advice_check(h, c, n, r, write, msg, msglen);
    if (rc != TP_OK)
        return rc;
    static const char eol[] = "\r\n";
    struct line l = {.write = write, .ctx = ctx};
    char day[11];
    adds(&l, "record,reference,amc,care_date,amount_eur");
    emit(&l, eol);
    tp_date_format(h->paid_on, day);
    adds(&l, "run,");
    csv_text(&l, h->run_id);
    addf(&l, ",,%s,", day);
    emit(&l, eol);
    adds(&l, "ps,");
    csv_text(&l, h->ps_id);
    adds(&l, ",,,");
    emit(&l, eol);
    adds(&l, "ps_name,");
    csv_text(&l, h->ps_name);
    adds(&l, ",,,");
    emit(&l, eol);
    for (size_t i = 0; i < n && !l.err; i++) {
        tp_date_format(c[i].care_date, day);
        addf(&l, "invoice,%s,%.9s,%s,", c[i].invoice, c[i].amc, day);
        csv_amount(&l, c[i].amc_cents);
        emit(&l, eol);
    }
    addf(&l, "total_invoices,%zu,,,", n);
    csv_amount(&l, r->gross_cents);
    emit(&l, eol);
    adds(&l, "advance_deducted,,,,");
    csv_amount(&l, -r->deducted_cents);
    emit(&l, eol);
    adds(&l, "net_transfer,");
    csv_text(&l, r->net_cents ? h->end_to_end : "");
    adds(&l, ",,,");
    csv_amount(&l, r->net_cents);
    emit(&l, eol);
    adds(&l, "advance_balance,,,,");
    csv_amount(&l, r->balance_after_cents);
    emit(&l, eol);
    return line_result(&l, msg, msglen);
}

/* "FR76 **** 0189": enough for the PS to recognise its account, not to copy it. */
static void iban_masked(struct line *l, const char *iban)
{
    const size_t n = strlen(iban);
    addf(l, "%.4s **** %s", iban, iban + n - 4);
}

enum tp_err tp_advice_text(const struct tp_advice_head *h, const struct tp_paid_claim *c, size_t n,
                           const struct tp_advance_recon *r, tp_write_fn write, void *ctx,
                           char *msg, size_t msglen)
{
    enum tp_err rc = advice_check(h, c, n, r, write, msg, msglen);
    if (rc != TP_OK)
        return rc;
    static const char eol[] = "\n";
    struct line l = {.write = write, .ctx = ctx};
    char day[11];
    tp_date_format(h->paid_on, day);
    adds(&l, "AVIS DE PAIEMENT");
    emit(&l, eol);
    addf(&l, "Paiement      %s du %s", h->run_id, day);
    emit(&l, eol);
    addf(&l, "Bénéficiaire  %s (%s)", h->ps_name, h->ps_id);
    emit(&l, eol);
    adds(&l, "Compte        ");
    iban_masked(&l, h->iban);
    emit(&l, eol);
    emit(&l, eol);
    addf(&l, "%-35s  %-9s  %-10s  %16s", "Facture", "AMC", "Soins", "Montant");
    emit(&l, eol);
    for (size_t i = 0; i < n && !l.err; i++) {
        tp_date_format(c[i].care_date, day);
        addf(&l, "%-35s  %.9s  %s  ", c[i].invoice, c[i].amc, day);
        fr_amount(&l, c[i].amc_cents, 12);
        emit(&l, eol);
    }
    emit(&l, eol);
    /* Labels take the width of the invoice columns: 35 + 2 + 9 + 2 + 10 + 2 = 60 characters;
     * printf counts bytes, so a label with one accented letter (2 bytes) gets 61. */
    char label[64];
    snprintf(label, sizeof label, "Total des factures (%zu)", n);
    addf(&l, "%-60s", label);
    fr_amount(&l, r->gross_cents, 12);
    emit(&l, eol);
    addf(&l, "%-61s", "Acompte déduit");
    fr_amount(&l, -r->deducted_cents, 12);
    emit(&l, eol);
    if (r->net_cents > 0)
        addf(&l, "Virement %-51s", h->end_to_end);
    else
        addf(&l, "%-60s", "Aucun virement (couvert par l'acompte)");
    fr_amount(&l, r->net_cents, 12);
    emit(&l, eol);
    addf(&l, "%-61s", "Solde d'acompte restant dû");
    fr_amount(&l, r->balance_after_cents, 12);
    emit(&l, eol);
    return line_result(&l, msg, msglen);
}

/* ---------------------------------------------------------------------------------------
 * AMC statements */

enum tp_err tp_statement_totals(const struct tp_statement_line *l, size_t n,
                                struct tp_statement_totals *t, char *msg, size_t msglen)
{
    if (!t || (!l && n))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "lines and totals are required");
    *t = (struct tp_statement_totals){0};
    for (size_t i = 0; i < n; i++) {
        if (!l[i].ps_id || !*l[i].ps_id || strnlen(l[i].ps_id, TP_SEPA_ID_MAX + 1) > TP_SEPA_ID_MAX)
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "line %zu: PS identifier missing or "
                           "too long",
                           i);
        if (!l[i].ps_name || strnlen(l[i].ps_name, NAME_IN_MAX + 1) > NAME_IN_MAX)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "line %zu: PS name missing or too long", i);
        if (l[i].claims == 0 || l[i].amount_cents < (int64_t)l[i].claims ||
            l[i].by_advance_cents < 0 || l[i].by_advance_cents > l[i].amount_cents)
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "line %zu: needs claims, a positive amount and an advance part "
                           "between 0 and the amount",
                           i);
        if (l[i].amount_cents > TP_SETTLE_TOTAL_MAX - t->amount_cents ||
            l[i].claims > UINT64_MAX - t->claims)
            return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "statement total too large");
        t->ps++;
        t->claims += l[i].claims;
        t->amount_cents += l[i].amount_cents;
        t->by_advance_cents += l[i].by_advance_cents;
    }
    t->transferred_cents = t->amount_cents - t->by_advance_cents;
    return TP_OK;
}

static enum tp_err statement_check(const struct tp_statement_head *h,
                                   const struct tp_statement_line *l, size_t n, tp_write_fn write,
                                   struct tp_statement_totals *t, char *msg, size_t msglen)
{
    char why[96];
    if (!h || !write)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "statement head and output are required");
    if (tp_sepa_id_check(h->run_id, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "run id: %s", why);
    if (h->paid_on < TP_DAY_MIN || h->paid_on > TP_DAY_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "payment date out of range");
    if (!h->amc || tp_amc_check(h->amc, strnlen(h->amc, TP_AMC_LEN + 1), why, sizeof why))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "AMC: %s", h->amc ? why : "missing");
    enum tp_err rc = text_ok(h->amc_name, NAME_IN_MAX, "AMC name", msg, msglen);
    if (rc != TP_OK)
        return rc;
    if (h->advances_granted_cents < 0 || h->advances_granted_cents > TP_SETTLE_TOTAL_MAX ||
        h->advances_outstanding_cents < 0 || h->advances_outstanding_cents > TP_SETTLE_TOTAL_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "advance amounts out of range");
    return tp_statement_totals(l, n, t, msg, msglen);
}

enum tp_err tp_statement_csv(const struct tp_statement_head *h, const struct tp_statement_line *l,
                             size_t n, tp_write_fn write, void *ctx, char *msg, size_t msglen)
{
    struct tp_statement_totals t;
    enum tp_err rc = statement_check(h, l, n, write, &t, msg, msglen);
    if (rc != TP_OK)
        return rc;
    static const char eol[] = "\r\n";
    struct line o = {.write = write, .ctx = ctx};
    adds(&o, "ps_id,ps_name,claims,amount_due_eur,settled_by_advance_eur,transferred_eur");
    emit(&o, eol);
    for (size_t i = 0; i < n && !o.err; i++) {
        csv_text(&o, l[i].ps_id);
        add(&o, ",", 1);
        csv_text(&o, l[i].ps_name);
        addf(&o, ",%llu,", (unsigned long long)l[i].claims);
        csv_amount(&o, l[i].amount_cents);
        add(&o, ",", 1);
        csv_amount(&o, l[i].by_advance_cents);
        add(&o, ",", 1);
        csv_amount(&o, l[i].amount_cents - l[i].by_advance_cents);
        emit(&o, eol);
    }
    addf(&o, "TOTAL,%llu PS,%llu,", (unsigned long long)t.ps, (unsigned long long)t.claims);
    csv_amount(&o, t.amount_cents);
    add(&o, ",", 1);
    csv_amount(&o, t.by_advance_cents);
    add(&o, ",", 1);
    csv_amount(&o, t.transferred_cents);
    emit(&o, eol);
    adds(&o, "advances_granted,,,");
    csv_amount(&o, h->advances_granted_cents);
    adds(&o, ",,");
    emit(&o, eol);
    adds(&o, "advances_outstanding,,,");
    csv_amount(&o, h->advances_outstanding_cents);
    adds(&o, ",,");
    emit(&o, eol);
    return line_result(&o, msg, msglen);
}

enum tp_err tp_statement_text(const struct tp_statement_head *h, const struct tp_statement_line *l,
                              size_t n, tp_write_fn write, void *ctx, char *msg, size_t msglen)
{
    struct tp_statement_totals t;
    enum tp_err rc = statement_check(h, l, n, write, &t, msg, msglen);
    if (rc != TP_OK)
        return rc;
    static const char eol[] = "\n";
    struct line o = {.write = write, .ctx = ctx};
    char day[11];
    tp_date_format(h->paid_on, day);
    adds(&o, "RELEVÉ DE RÈGLEMENT");
    emit(&o, eol);
    addf(&o, "Paiement  %s du %s", h->run_id, day);
    emit(&o, eol);
    addf(&o, "AMC       %s (%s)", h->amc_name, h->amc);
    emit(&o, eol);
    emit(&o, eol);
    /* printf counts bytes: "Dû" and "Viré" carry a 2-byte letter, hence 17. */
    addf(&o, "%-35s  %8s  %17s  %16s  %17s", "PS", "Factures", "Dû", "Dont acompte", "Viré");
    emit(&o, eol);
    for (size_t i = 0; i < n && !o.err; i++) {
        addf(&o, "%-35s  %8llu  ", l[i].ps_id, (unsigned long long)l[i].claims);
        fr_amount(&o, l[i].amount_cents, 12);
        add(&o, "  ", 2);
        fr_amount(&o, l[i].by_advance_cents, 12);
        add(&o, "  ", 2);
        fr_amount(&o, l[i].amount_cents - l[i].by_advance_cents, 12);
        addf(&o, "  %s", l[i].ps_name);
        emit(&o, eol);
    }
    emit(&o, eol);
    char label[64];
    snprintf(label, sizeof label, "Total (%llu PS)", (unsigned long long)t.ps);
    addf(&o, "%-35s  %8llu  ", label, (unsigned long long)t.claims);
    fr_amount(&o, t.amount_cents, 12);
    add(&o, "  ", 2);
    fr_amount(&o, t.by_advance_cents, 12);
    add(&o, "  ", 2);
    fr_amount(&o, t.transferred_cents, 12);
    emit(&o, eol);
    emit(&o, eol);
    adds(&o, "Montant dû à la plateforme pour ce paiement : ");
    fr_amount(&o, t.amount_cents, 0);
    emit(&o, eol);
    adds(&o, "Acomptes versés aux PS depuis le relevé précédent : ");
    fr_amount(&o, h->advances_granted_cents, 0);
    emit(&o, eol);
    adds(&o, "Acomptes restant à régulariser : ");
    fr_amount(&o, h->advances_outstanding_cents, 0);
    emit(&o, eol);
    return line_result(&o, msg, msglen);
}
