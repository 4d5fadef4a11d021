/* ISO 20022 pain.001.001.03 writer (see sepa.h for the contract, docs/PAYMENTS.md for the
 * format choices). */
#include "core/sepa.h"

#include <assert.h>
#include <string.h>

#include "core/validate.h"

size_t tp_sink_write(void *sink, const char *buf, size_t len)
{
    struct tp_sink *s = sink;
    if (s->overflow || len >= s->cap - s->len) {
        s->overflow = 1;
        if (s->cap)
            s->buf[s->len] = '\0';
        return 0;
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return len;
}

/* ---------------------------------------------------------------------------------------
 * Amounts and dates */

size_t tp_sepa_amount_format(int64_t cents, char buf[24])
{
    /* The magnitude in unsigned arithmetic: -INT64_MIN does not fit an int64. */
    uint64_t m = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    char tmp[24];
    size_t n = 0;
    tmp[n++] = (char)('0' + m % 10);
    m /= 10;
    tmp[n++] = (char)('0' + m % 10);
    m /= 10;
    tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    size_t len = 0;
    if (cents < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

static void format_u64(uint64_t v, char buf[24])
{
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < k; i++)
        buf[i] = tmp[k - 1 - i];
    buf[k] = '\0';
}

/* "YYYY-MM-DDTHH:MM:SSZ" of a Unix time inside tp_day's range. */
static enum tp_err format_datetime(int64_t t, char out[21])
{
    const int64_t lo = (int64_t)TP_DAY_MIN * 86400, hi = ((int64_t)TP_DAY_MAX + 1) * 86400 - 1;
    if (t < lo || t > hi)
        return TP_ERR_INVALID;
    int64_t day = t / 86400, sec = t % 86400;
    if (sec < 0) {
        sec += 86400;
        day -= 1;
    }
    tp_date_format((tp_day)day, out);
    const int hh = (int)(sec / 3600), mm = (int)(sec / 60 % 60), ss = (int)(sec % 60);
    const char tail[] = {'T',
                         (char)('0' + hh / 10),
                         (char)('0' + hh % 10),
                         ':',
                         (char)('0' + mm / 10),
                         (char)('0' + mm % 10),
                         ':',
                         (char)('0' + ss / 10),
                         (char)('0' + ss % 10),
                         'Z',
                         '\0'};
    memcpy(out + 10, tail, sizeof tail);
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * The SEPA character set */

/* EPC basic Latin set: a-z A-Z 0-9 / - ? : ( ) . , ' + space. */
static int sepa_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '-' || c == '?' || c == ':' || c == '(' || c == ')' || c == '.' || c == ',' ||
           c == '\'' || c == '+' || c == ' ';
}

/* U+00C0..U+00FF and U+0100..U+017F without their diacritics; '*' marks a letter that
 * becomes two (Æ, ß, Œ ...) or a sign with no letter (×, ÷), handled in translit(). */
static const char latin1[] = "AAAAAA*CEEEEIIIIDNOOOOO*OUUUUY**aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";
static const char latin_ext_a[] = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi**JjKkk"
                                  "LlLlLlLlLlNnNnNnnNnOoOoOo**RrRrRrSsSsSsSsTtTtTtUuUuUuUuUu"
                                  "UuWwYyYZzZzZzs";
_Static_assert(sizeof latin1 == 64 + 1, "one entry per code point U+00C0..U+00FF");
_Static_assert(sizeof latin_ext_a == 128 + 1, "one entry per code point U+0100..U+017F");

/* The replacement of code point cp in the SEPA set: at most 4 bytes, "" for a space. */
static const char *translit(uint32_t cp, char one[2])
{
    one[1] = '\0';
    if (cp < 0x80) {
        if (sepa_char((unsigned char)cp)) {
            one[0] = (char)cp;
            return one;
        }
        switch (cp) {
        case '&':
            return "+";
        case '_':
            return "-";
        case '@':
            return "(at)";
        case '"':
        case '`':
            return "'";
        case ';':
            return ",";
        case '[':
        case '{':
            return "(";
        case ']':
        case '}':
            return ")";
        case '\\':
        case '|':
            return "/";
        default:
            return ""; /* controls, tab, newline, < > = # $ % * ! ^ ~ */
        }
    }
    switch (cp) {
    case 0xC6:
        return "AE";
    case 0xE6:
        return "ae";
    case 0xDE:
        return "TH";
    case 0xFE:
        return "th";
    case 0xDF:
        return "ss";
    case 0x132:
        return "IJ";
    case 0x133:
        return "ij";
    case 0x152:
        return "OE";
    case 0x153:
        return "oe";
    case 0x2018: /* ‘ ’ */
    case 0x2019:
    case 0xAB: /* « » */
    case 0xBB:
        return "'";
    case 0x2013: /* – — */
    case 0x2014:
        return "-";
    case 0x20AC:
        return "EUR";
    default:
        break;
    }
    if (cp >= 0xC0 && cp <= 0xFF && latin1[cp - 0xC0] != '*') {
        one[0] = latin1[cp - 0xC0];
        return one;
    }
    if (cp >= 0x100 && cp <= 0x17F && latin_ext_a[cp - 0x100] != '*') {
        one[0] = latin_ext_a[cp - 0x100];
        return one;
    }
    return ""; /* ×, ÷, NBSP, symbols, other scripts */
}

/* Decodes one UTF-8 sequence at s (n bytes available) into *cp; returns its length, or 0
 * for a malformed sequence (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

enum tp_err tp_sepa_text(const char *in, size_t max, char *out, size_t outlen, char *msg,
                         size_t msglen)
{
    if (!in || !out || max >= outlen)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "text missing");
    const size_t n = strnlen(in, TP_SEPA_TEXT_IN_MAX + 1);
    if (n > TP_SEPA_TEXT_IN_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "text longer than %d bytes",
                       TP_SEPA_TEXT_IN_MAX);
    const unsigned char *s = (const unsigned char *)in;
    size_t len = 0;
    int space = 1; /* drops leading spaces and collapses runs */
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        const size_t k = utf8_decode(s + i, n - i, &cp);
        if (!k)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "text is not valid UTF-8");
        i += k;
        char one[2];
        const char *r = translit(cp, one);
        if (!*r || *r == ' ') {
            if (!space && len < max)
                out[len++] = ' ';
            space = 1;
            continue;
        }
        for (; *r && len < max; r++)
            out[len++] = *r;
        space = 0;
    }
    while (len && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
    if (!len)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "text has no character of the SEPA set");
    return TP_OK;
}

enum tp_err tp_sepa_id_check(const char *s, char *msg, size_t msglen)
{
    if (!s || !*s)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "identifier missing");
    const size_t n = strnlen(s, TP_SEPA_ID_MAX + 1);
    if (n > TP_SEPA_ID_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "identifier longer than %d characters",
                       TP_SEPA_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!sepa_char((unsigned char)s[i]) || s[i] == ' ')
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "identifier has a character outside the SEPA set (or a space)");
    if (s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "identifier must not start or end with '/' nor contain \"//\"");
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Accounts */

static enum tp_err iban_ok(const char *iban, const char *who, char *msg, size_t msglen)
{
    char why[96];
    if (!iban)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s IBAN missing", who);
    if (tp_iban_check(iban, strnlen(iban, TP_IBAN_MAX + 1), why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s %s", who, why);
    return TP_OK;
}

/* tp_bic_check, plus the pain.001 BICIdentifier pattern: the location's first character is
 * not 0 or 1 and its second is not O. */
static enum tp_err bic_ok(const char *bic, const char *who, char *msg, size_t msglen)
{
    char why[96];
    if (!bic)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s BIC missing", who);
    const size_t n = strnlen(bic, 12);
    if (tp_bic_check(bic, n, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s %s", who, why);
    if (bic[6] == '0' || bic[6] == '1' || bic[7] == 'O')
        return tp_fail(msg, msglen, TP_ERR_INVALID, "%s BIC location code is not valid", who);
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Output */

static void flush(struct tp_sepa_writer *w)
{
    if (!w->failed && w->len && w->write(w->ctx, w->buf, w->len) != w->len)
        w->failed = TP_ERR_IO;
    w->len = 0;
}

static void put(struct tp_sepa_writer *w, const char *s, size_t n)
{
    assert(n <= TP_SEPA_CHUNK);
    if (n > TP_SEPA_CHUNK - w->len)
        flush(w);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void puts_(struct tp_sepa_writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* Text content. Everything written has been through tp_sepa_text() or an identifier or
 * account check, so none of & < > can occur; escaping anyway keeps the document
 * well-formed should the character set ever be widened. */
static void put_text(struct tp_sepa_writer *w, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            puts_(w, "&amp;");
            break;
        case '<':
            puts_(w, "&lt;");
            break;
        case '>':
            puts_(w, "&gt;");
            break;
        default:
            put(w, p, 1);
        }
    }
}

/* <tag>text</tag> followed by a newline, after `indent` spaces. */
static void element(struct tp_sepa_writer *w, int indent, const char *open, const char *text,
                    const char *close)
{
    static const char spaces[] = "                ";
    put(w, spaces, (size_t)indent);
    puts_(w, open);
    put_text(w, text);
    puts_(w, close);
    put(w, "\n", 1);
}

/* ---------------------------------------------------------------------------------------
 * Transfers */

/* A transfer with its texts reduced to the SEPA set. */
struct clean {
    char name[TP_SEPA_NAME_MAX + 1];
    char rmt[TP_SEPA_RMT_MAX + 1];
};

static enum tp_err clean_transfer(const struct tp_sepa_transfer *t, struct clean *c, char *msg,
                                  size_t msglen)
{
    char why[96];
    if (!t)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "transfer missing");
    if (t->amount_cents <= 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "amount must be positive");
    if (t->amount_cents > TP_SEPA_AMOUNT_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "amount above the SEPA maximum of 999999999.99 EUR");
    if (tp_sepa_id_check(t->end_to_end, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "end-to-end id: %s", why);
    if (tp_sepa_text(t->name, TP_SEPA_NAME_MAX, c->name, sizeof c->name, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "creditor name: %s", why);
    enum tp_err rc = iban_ok(t->iban, "creditor", msg, msglen);
    if (rc != TP_OK)
        return rc;
    if (t->bic && *t->bic && (rc = bic_ok(t->bic, "creditor", msg, msglen)) != TP_OK)
        return rc;
    c->rmt[0] = '\0';
    if (t->remittance && *t->remittance &&
        tp_sepa_text(t->remittance, TP_SEPA_RMT_MAX, c->rmt, sizeof c->rmt, why, sizeof why) !=
            TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "remittance information: %s", why);
    return TP_OK;
}

enum tp_err tp_sepa_transfer_check(const struct tp_sepa_transfer *t, char *msg, size_t msglen)
{
    struct clean c;
    return clean_transfer(t, &c, msg, msglen);
}

enum tp_err tp_sepa_add(struct tp_sepa_writer *w, const struct tp_sepa_transfer *t, char *msg,
                        size_t msglen)
{
    if (w->failed)
        return tp_fail(msg, msglen, (enum tp_err)w->failed, "writer already failed");
    struct clean c;
    enum tp_err rc = clean_transfer(t, &c, msg, msglen);
    if (rc == TP_OK && w->written_n >= w->announced_n)
        rc = tp_fail(msg, msglen, TP_ERR_INVALID, "more transfers than announced");
    if (rc == TP_OK && t->amount_cents > w->announced_sum - w->written_sum)
        rc = tp_fail(msg, msglen, TP_ERR_INVALID, "transfers exceed the announced control sum");
    if (rc != TP_OK) {
        w->failed = rc;
        return rc;
    }
    w->written_n++;
    w->written_sum += t->amount_cents;

    char amount[24];
    tp_sepa_amount_format(t->amount_cents, amount);
    puts_(w, "      <CdtTrfTxInf>\n");
    element(w, 8, "<PmtId><EndToEndId>", t->end_to_end, "</EndToEndId></PmtId>");
    element(w, 8, "<Amt><InstdAmt Ccy=\"EUR\">", amount, "</InstdAmt></Amt>");
    if (t->bic && *t->bic)
        element(w, 8, "<CdtrAgt><FinInstnId><BIC>", t->bic, "</BIC></FinInstnId></CdtrAgt>");
    element(w, 8, "<Cdtr><Nm>", c.name, "</Nm></Cdtr>");
    element(w, 8, "<CdtrAcct><Id><IBAN>", t->iban, "</IBAN></Id></CdtrAcct>");
    if (c.rmt[0])
        element(w, 8, "<RmtInf><Ustrd>", c.rmt, "</Ustrd></RmtInf>");
    puts_(w, "      </CdtTrfTxInf>\n");
    if (w->failed)
        return tp_fail(msg, msglen, TP_ERR_IO, "write failed");
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Document */

enum tp_err tp_sepa_begin(struct tp_sepa_writer *w, const struct tp_sepa_header *h, uint64_t n,
                          int64_t sum_cents, tp_write_fn write, void *ctx, char *msg, size_t msglen)
{
    char why[96], created[21], exec[11], name[TP_SEPA_NAME_MAX + 1];
    if (!w || !h || !write)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "writer, header and output are required");
    w->write = write;
    w->ctx = ctx;
    w->announced_n = n;
    w->announced_sum = sum_cents;
    w->written_n = 0;
    w->written_sum = 0;
    w->len = 0;
    w->failed = TP_ERR_INVALID; /* until the header has been checked */
    if (n == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "a payment file needs at least one transfer");
    if (sum_cents < (int64_t)n || sum_cents > TP_SEPA_SUM_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "control sum out of range");
    if (tp_sepa_id_check(h->msg_id, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "message id: %s", why);
    if (format_datetime(h->created_unix, created) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "creation time out of range");
    if (h->execution_date < TP_DAY_MIN || h->execution_date > TP_DAY_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "execution date out of range");
    tp_date_format(h->execution_date, exec);
    if (tp_sepa_text(h->debtor_name, TP_SEPA_NAME_MAX, name, sizeof name, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "debtor name: %s", why);
    enum tp_err rc = iban_ok(h->debtor_iban, "debtor", msg, msglen);
    if (rc == TP_OK)
        rc = bic_ok(h->debtor_bic, "debtor", msg, msglen);
    if (rc != TP_OK)
        return rc;
    w->failed = 0;

    char count[24], sum[24];
    format_u64(n, count);
    tp_sepa_amount_format(sum_cents, sum);
    puts_(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">\n"
             "  <CstmrCdtTrfInitn>\n"
             "    <GrpHdr>\n");
    element(w, 6, "<MsgId>", h->msg_id, "</MsgId>");
    element(w, 6, "<CreDtTm>", created, "</CreDtTm>");
    element(w, 6, "<NbOfTxs>", count, "</NbOfTxs>");
    element(w, 6, "<CtrlSum>", sum, "</CtrlSum>");
    element(w, 6, "<InitgPty><Nm>", name, "</Nm></InitgPty>");
    puts_(w, "    </GrpHdr>\n"
             "    <PmtInf>\n");
    element(w, 6, "<PmtInfId>", h->msg_id, "</PmtInfId>");
    puts_(w, "      <PmtMtd>TRF</PmtMtd>\n");
    element(w, 6, "<NbOfTxs>", count, "</NbOfTxs>");
    element(w, 6, "<CtrlSum>", sum, "</CtrlSum>");
    puts_(w, "      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n");
    element(w, 6, "<ReqdExctnDt>", exec, "</ReqdExctnDt>");
    element(w, 6, "<Dbtr><Nm>", name, "</Nm></Dbtr>");
    element(w, 6, "<DbtrAcct><Id><IBAN>", h->debtor_iban, "</IBAN></Id></DbtrAcct>");
    element(w, 6, "<DbtrAgt><FinInstnId><BIC>", h->debtor_bic, "</BIC></FinInstnId></DbtrAgt>");
    puts_(w, "      <ChrgBr>SLEV</ChrgBr>\n");
    if (w->failed)
        return tp_fail(msg, msglen, TP_ERR_IO, "write failed");
    return TP_OK;
}

enum tp_err tp_sepa_end(struct tp_sepa_writer *w, char *msg, size_t msglen)
{
    if (w->failed)
        return tp_fail(msg, msglen, (enum tp_err)w->failed, "writer already failed");
    if (w->written_n != w->announced_n || w->written_sum != w->announced_sum) {
        w->failed = TP_ERR_INVALID;
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "transfers written do not match the announced count and control sum");
    }
    puts_(w, "    </PmtInf>\n"
             "  </CstmrCdtTrfInitn>\n"
             "</Document>\n");
    flush(w);
    if (w->failed)
        return tp_fail(msg, msglen, TP_ERR_IO, "write failed");
    return TP_OK;
}

enum tp_err tp_sepa_write(const struct tp_sepa_header *h, const struct tp_sepa_transfer *t,
                          size_t n, tp_write_fn write, void *ctx, uint64_t *n_out, int64_t *sum_out,
                          char *msg, size_t msglen)
{
    char why[160];
    if (!t && n)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "transfers missing");
    /* First pass: every transfer valid, the sum in range; nothing written otherwise. */
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (tp_sepa_transfer_check(&t[i], why, sizeof why) != TP_OK)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "transfer %zu: %s", i, why);
        if (t[i].amount_cents > TP_SEPA_SUM_MAX - sum)
            return tp_fail(msg, msglen, TP_ERR_TOO_BIG,
                           "control sum above 9999999999999999.99 EUR");
        sum += t[i].amount_cents;
    }
    /* The writer is 8 KiB: on the caller's stack like any local of this size. */
    struct tp_sepa_writer w;
    enum tp_err rc = tp_sepa_begin(&w, h, (uint64_t)n, sum, write, ctx, msg, msglen);
    for (size_t i = 0; rc == TP_OK && i < n; i++)
        rc = tp_sepa_add(&w, &t[i], msg, msglen);
    if (rc == TP_OK)
        rc = tp_sepa_end(&w, msg, msglen);
    if (rc == TP_OK) {
        if (n_out)
            *n_out = (uint64_t)n;
        if (sum_out)
            *sum_out = sum;
    }
    return rc;
}
