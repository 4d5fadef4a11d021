/* SEPA credit transfer writer (src/core/sepa.h, docs/PAYMENTS.md).
 *
 * The golden document below was written by hand from the pain.001.001.03 schema; the same
 * writer's output is validated against the XSD itself by tests/e2e/sepa_schema.sh, which
 * runs this program as `test_sepa --samples DIR`. IBANs are the published examples
 * (FR76 3000 6000 0112 3456 7890 189, DE89 3704 0044 0532 0130 00). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sepa.h"
#include "core/validate.h"

#define CREATED INT64_C(1795456348) /* 2026-11-23T17:52:28Z */
#define EXEC_DAY 20781              /* 2026-11-24 */

static char msg[256];
static char out[1 << 18];

static const struct tp_sepa_header header = {
    .msg_id = "OTP-20261123-0001",
    .created_unix = CREATED,
    .execution_date = EXEC_DAY,
    .debtor_name = "Opentp Plateforme Tiers-Payant",
    .debtor_iban = "FR7630006000011234567890189",
    .debtor_bic = "AGRIFRPPXXX",
};

static struct tp_sepa_transfer transfer(const char *name, int64_t cents, const char *e2e)
{
    return (struct tp_sepa_transfer){.name = name,
                                     .iban = "FR1420041010050500013M02606",
                                     .bic = "PSSTFRPPPAR",
                                     .amount_cents = cents,
                                     .end_to_end = e2e,
                                     .remittance = "FACT 2026-0001 2026-0002"};
}

/* Runs tp_sepa_write into `out`; returns its result. */
static enum tp_err write_doc(const struct tp_sepa_header *h, const struct tp_sepa_transfer *t,
                             size_t n, uint64_t *count, int64_t *sum)
{
    struct tp_sink sink = {.buf = out, .cap = sizeof out};
    out[0] = '\0';
    msg[0] = '\0';
    enum tp_err rc = tp_sepa_write(h, t, n, tp_sink_write, &sink, count, sum, msg, sizeof msg);
    assert_false(sink.overflow);
    return rc;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ------------------------------------------------------------------------------------- */

static void amounts_have_two_decimals(void **state)
{
    (void)state;
    char buf[24];
    assert_int_equal(tp_sepa_amount_format(1, buf), 4);
    assert_string_equal(buf, "0.01");
    tp_sepa_amount_format(10, buf);
    assert_string_equal(buf, "0.10");
    tp_sepa_amount_format(0, buf);
    assert_string_equal(buf, "0.00");
    tp_sepa_amount_format(100, buf);
    assert_string_equal(buf, "1.00");
    tp_sepa_amount_format(123456, buf);
    assert_string_equal(buf, "1234.56");
    tp_sepa_amount_format(-10, buf);
    assert_string_equal(buf, "-0.10");
    tp_sepa_amount_format(TP_SEPA_AMOUNT_MAX, buf);
    assert_string_equal(buf, "999999999.99");
    tp_sepa_amount_format(INT64_MAX, buf);
    assert_string_equal(buf, "92233720368547758.07");
    assert_int_equal(tp_sepa_amount_format(INT64_MIN, buf), 21);
    assert_string_equal(buf, "-92233720368547758.08");
}

static void text(const char *in, size_t max, const char *want)
{
    char buf[TP_SEPA_TEXT_IN_MAX + 1];
    msg[0] = '\0';
    assert_int_equal(tp_sepa_text(in, max, buf, sizeof buf, msg, sizeof msg), TP_OK);
    assert_string_equal(buf, want);
}

static void text_bad(const char *in, const char *why)
{
    char buf[200];
    msg[0] = '\0';
    assert_int_equal(tp_sepa_text(in, 70, buf, sizeof buf, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, why));
}

static void names_are_transliterated_to_the_sepa_set(void **state)
{
    (void)state;
    text("Pharmacie de l'Église", 70, "Pharmacie de l'Eglise");
    text("Œuvre Bœuf Straße Ærø", 70, "OEuvre Boeuf Strasse AEro");
    text("Ça coûte 5 €", 70, "Ca coute 5 EUR");
    text("Optique Lemaître-Hénin", 70, "Optique Lemaitre-Henin");
    text("Łódź Škoda Ğ ŉ ſ", 70, "Lodz Skoda G n s");
    text("Labo “Bio” — l’Étang", 70, "Labo Bio - l'Etang"); /* “ ” have no look-alike */
    text("ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ", 70, "AAAAAACEEEEIIIINOOOOOOUUUUY");
    text("àáâãäåçèéêëìíîïñòóôõöøùúûüýÿ", 70, "aaaaaaceeeeiiiinoooooouuuuyy");
    text("a_b@c", 70, "a-b(at)c");
    /* Every allowed ASCII sign passes unchanged. */
    text("a-z A-Z 0-9 / - ? : ( ) . , ' +", 70, "a-z A-Z 0-9 / - ? : ( ) . , ' +");
}

static void xml_specials_never_reach_the_document(void **state)
{
    (void)state;
    text("Dupont & Fils <SARL>", 70, "Dupont + Fils SARL");
    text("\"Centre\" <script>x</script>", 70, "'Centre' script x /script");
    text("a=1;b#2%3*4!5^6~7$8", 70, "a 1,b 2 3 4 5 6 7 8");
    text("[x]{y}\\z|w`q", 70, "(x)(y)/z/w'q");
}

static void spaces_are_collapsed_and_text_is_cut(void **state)
{
    (void)state;
    text("  a \t\n\r b\xc2\xa0\xc2\xa0"
         "c  ",
         70, "a b c");
    text("Pharmacie", 4, "Phar");
    text("ab  cd", 3, "ab"); /* the cut leaves "ab ", trimmed */
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char buf[TP_SEPA_NAME_MAX + 1];
    assert_int_equal(tp_sepa_text(longname, TP_SEPA_NAME_MAX, buf, sizeof buf, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(strlen(buf), 70);
    /* An é costs 2 bytes in, 1 character out: 70 of them give 70 characters. */
    char accents[141] = "";
    for (int i = 0; i < 70; i++)
        strcat(accents, "\xc3\xa9");
    assert_int_equal(tp_sepa_text(accents, TP_SEPA_NAME_MAX, buf, sizeof buf, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(strlen(buf), 70);
    assert_int_equal(tp_sepa_text("abc", 70, buf, 70, msg, sizeof msg), TP_ERR_INVALID);
}

static void bad_text_is_refused(void **state)
{
    (void)state;
    text_bad("\xc3", "UTF-8");             /* truncated */
    text_bad("a\xc0\xaf", "UTF-8");        /* overlong '/' */
    text_bad("\xed\xa0\x80", "UTF-8");     /* surrogate */
    text_bad("\xf4\x90\x80\x80", "UTF-8"); /* beyond U+10FFFF */
    text_bad("\xff", "UTF-8");
    text_bad("\xf0\x9f\x98\x80", "no character"); /* an emoji alone */
    text_bad("  <>  ", "no character");
    text_bad("", "no character");
    char *huge = malloc(TP_SEPA_TEXT_IN_MAX + 2);
    assert_non_null(huge);
    memset(huge, 'a', TP_SEPA_TEXT_IN_MAX + 1);
    huge[TP_SEPA_TEXT_IN_MAX + 1] = '\0';
    text_bad(huge, "longer than");
    free(huge);
}

static void identifiers_are_checked_not_changed(void **state)
{
    (void)state;
    assert_int_equal(tp_sepa_id_check("OTP-20261123-0001", msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_id_check("12345678901234567890123456789012345", msg, sizeof msg),
                     TP_OK);
    assert_int_equal(tp_sepa_id_check("123456789012345678901234567890123456", msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "longer than 35"));
    assert_int_equal(tp_sepa_id_check("", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check(NULL, msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("A B", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("A&B", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("\xc3\xa9t\xc3\xa9", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("/AB", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("AB/", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("A//B", msg, sizeof msg), TP_ERR_INVALID);
    assert_int_equal(tp_sepa_id_check("A/B", msg, sizeof msg), TP_OK);
}

/* ------------------------------------------------------------------------------------- */

static const char golden[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">\n"
    "  <CstmrCdtTrfInitn>\n"
    "    <GrpHdr>\n"
    "      <MsgId>OTP-20261123-0001</MsgId>\n"
    "      <CreDtTm>2026-11-23T17:52:28Z</CreDtTm>\n"
    "      <NbOfTxs>2</NbOfTxs>\n"
    "      <CtrlSum>1234.57</CtrlSum>\n"
    "      <InitgPty><Nm>Opentp Plateforme Tiers-Payant</Nm></InitgPty>\n"
    "    </GrpHdr>\n"
    "    <PmtInf>\n"
    "      <PmtInfId>OTP-20261123-0001</PmtInfId>\n"
    "      <PmtMtd>TRF</PmtMtd>\n"
    "      <NbOfTxs>2</NbOfTxs>\n"
    "      <CtrlSum>1234.57</CtrlSum>\n"
    "      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>\n"
    "      <ReqdExctnDt>2026-11-24</ReqdExctnDt>\n"
    "      <Dbtr><Nm>Opentp Plateforme Tiers-Payant</Nm></Dbtr>\n"
    "      <DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct>\n"
    "      <DbtrAgt><FinInstnId><BIC>AGRIFRPPXXX</BIC></FinInstnId></DbtrAgt>\n"
    "      <ChrgBr>SLEV</ChrgBr>\n"
    "      <CdtTrfTxInf>\n"
    "        <PmtId><EndToEndId>OTP-1-PS-0001</EndToEndId></PmtId>\n"
    "        <Amt><InstdAmt Ccy=\"EUR\">1234.56</InstdAmt></Amt>\n"
    "        <CdtrAgt><FinInstnId><BIC>PSSTFRPPPAR</BIC></FinInstnId></CdtrAgt>\n"
    "        <Cdtr><Nm>Pharmacie de l'Eglise + Fils</Nm></Cdtr>\n"
    "        <CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>\n"
    "        <RmtInf><Ustrd>FACT 2026-0001 2026-0002</Ustrd></RmtInf>\n"
    "      </CdtTrfTxInf>\n"
    "      <CdtTrfTxInf>\n"
    "        <PmtId><EndToEndId>OTP-1-PS-0002</EndToEndId></PmtId>\n"
    "        <Amt><InstdAmt Ccy=\"EUR\">0.01</InstdAmt></Amt>\n"
    "        <Cdtr><Nm>Opticien Horner</Nm></Cdtr>\n"
    "        <CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>\n"
    "      </CdtTrfTxInf>\n"
    "    </PmtInf>\n"
    "  </CstmrCdtTrfInitn>\n"
    "</Document>\n";

static void golden_two_transfers(void **state)
{
    (void)state;
    struct tp_sepa_transfer t[2] = {
        transfer("Pharmacie de l’Église & Fils", 123456, "OTP-1-PS-0001"),
        {.name = "Opticien Hörner",
         .iban = "DE89370400440532013000",
         .amount_cents = 1,
         .end_to_end = "OTP-1-PS-0002"},
    };
    uint64_t n = 0;
    int64_t sum = 0;
    assert_int_equal(write_doc(&header, t, 2, &n, &sum), TP_OK);
    assert_string_equal(out, golden);
    assert_int_equal(n, 2);
    assert_int_equal(sum, 123457);
}

static void control_sums_match_the_transfers(void **state)
{
    (void)state;
    struct tp_sepa_transfer t[5];
    char ids[5][16];
    int64_t want = 0;
    const int64_t cents[5] = {1, 10, 99, 100000, TP_SEPA_AMOUNT_MAX};
    for (int i = 0; i < 5; i++) {
        snprintf(ids[i], sizeof ids[i], "E2E-%d", i);
        t[i] = transfer("PS", cents[i], ids[i]);
        want += cents[i];
    }
    uint64_t n = 0;
    int64_t sum = 0;
    assert_int_equal(write_doc(&header, t, 5, &n, &sum), TP_OK);
    assert_int_equal(n, 5);
    assert_int_equal(sum, want);
    assert_int_equal(count_of(out, "<CdtTrfTxInf>"), 5);
    assert_int_equal(count_of(out, "<NbOfTxs>5</NbOfTxs>"), 2);
    assert_int_equal(count_of(out, "<CtrlSum>1000001001.09</CtrlSum>"), 2);
    assert_non_null(strstr(out, "<InstdAmt Ccy=\"EUR\">0.10</InstdAmt>"));
    assert_non_null(strstr(out, "<InstdAmt Ccy=\"EUR\">0.99</InstdAmt>"));
    assert_non_null(strstr(out, "<InstdAmt Ccy=\"EUR\">999999999.99</InstdAmt>"));
}

/* Expects tp_sepa_write to refuse, with `why` in the message and nothing written. */
static void refused(const struct tp_sepa_header *h, const struct tp_sepa_transfer *t, size_t n,
                    enum tp_err want, const char *why)
{
    assert_int_equal(write_doc(h, t, n, NULL, NULL), want);
    assert_non_null(strstr(msg, why));
    assert_string_equal(out, "");
}

static void bad_accounts_are_refused(void **state)
{
    (void)state;
    struct tp_sepa_transfer t[2] = {transfer("A", 100, "E1"), transfer("B", 200, "E2")};
    t[1].iban = "FR7630006000011234567890188"; /* last digit changed */
    refused(&header, t, 2, TP_ERR_INVALID, "transfer 1: creditor IBAN check digits do not match");
    t[1].iban = "FR76 3000 6000 0112 3456 7890 189";
    refused(&header, t, 2, TP_ERR_INVALID, "creditor IBAN");
    t[1].iban = "FR763000600001123456789018"; /* one short for FR */
    refused(&header, t, 2, TP_ERR_INVALID, "length does not match its country");
    t[1].iban = NULL;
    refused(&header, t, 2, TP_ERR_INVALID, "creditor IBAN missing");
    t[1].iban = "DE89370400440532013000";
    t[1].bic = "PSSTFRP";
    refused(&header, t, 2, TP_ERR_INVALID, "creditor BIC must be 8 or 11");
    t[1].bic = "PSST1RPP";
    refused(&header, t, 2, TP_ERR_INVALID, "creditor BIC must be 6 upper-case letters");
    t[1].bic = "PSSTFR1P"; /* ISO 9362 shape, refused by the pain.001 pattern */
    refused(&header, t, 2, TP_ERR_INVALID, "location code");
    t[1].bic = "PSSTFRPO";
    refused(&header, t, 2, TP_ERR_INVALID, "location code");
    t[1].bic = "PSSTFRP2";
    assert_int_equal(write_doc(&header, t, 2, NULL, NULL), TP_OK);

    struct tp_sepa_header h = header;
    h.debtor_iban = "FR7630006000011234567890180";
    refused(&h, t, 2, TP_ERR_INVALID, "debtor IBAN check digits do not match");
    h = header;
    h.debtor_bic = NULL;
    refused(&h, t, 2, TP_ERR_INVALID, "debtor BIC missing");
    h.debtor_bic = "";
    refused(&h, t, 2, TP_ERR_INVALID, "debtor BIC must be 8 or 11");
}

static void bad_amounts_and_ids_are_refused(void **state)
{
    (void)state;
    struct tp_sepa_transfer t[1] = {transfer("A", 0, "E1")};
    refused(&header, t, 1, TP_ERR_INVALID, "transfer 0: amount must be positive");
    t[0].amount_cents = -1;
    refused(&header, t, 1, TP_ERR_INVALID, "amount must be positive");
    t[0].amount_cents = INT64_MIN;
    refused(&header, t, 1, TP_ERR_INVALID, "amount must be positive");
    t[0].amount_cents = TP_SEPA_AMOUNT_MAX + 1;
    refused(&header, t, 1, TP_ERR_INVALID, "SEPA maximum");
    t[0].amount_cents = 1;
    t[0].end_to_end = "E 1";
    refused(&header, t, 1, TP_ERR_INVALID, "end-to-end id");
    t[0].end_to_end = "E1";
    t[0].name = "\xf0\x9f\x92\x8a";
    refused(&header, t, 1, TP_ERR_INVALID, "creditor name: text has no character");
    t[0].name = "A";
    t[0].remittance = "\xc3";
    refused(&header, t, 1, TP_ERR_INVALID, "remittance information: text is not valid UTF-8");
    refused(&header, t, 0, TP_ERR_INVALID, "at least one transfer");

    t[0].remittance = NULL;
    struct tp_sepa_header h = header;
    h.msg_id = "OTP 1";
    refused(&h, t, 1, TP_ERR_INVALID, "message id");
    h = header;
    h.created_unix = INT64_MAX;
    refused(&h, t, 1, TP_ERR_INVALID, "creation time");
    h = header;
    h.execution_date = TP_DAY_MAX + 1;
    refused(&h, t, 1, TP_ERR_INVALID, "execution date");
    h = header;
    h.debtor_name = "";
    refused(&h, t, 1, TP_ERR_INVALID, "debtor name");
}

static void long_texts_are_cut_to_the_schema(void **state)
{
    (void)state;
    char name[300], rmt[400];
    memset(name, 'N', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(rmt, 'R', sizeof rmt - 1);
    rmt[sizeof rmt - 1] = '\0';
    struct tp_sepa_transfer t[1] = {transfer(name, 5, "E1")};
    t[0].remittance = rmt;
    assert_int_equal(write_doc(&header, t, 1, NULL, NULL), TP_OK);
    char want[200] = "<Cdtr><Nm>";
    memset(want + strlen(want), 'N', 70);
    strcpy(want + 10 + 70, "</Nm></Cdtr>");
    assert_non_null(strstr(out, want));
    char want_rmt[200] = "<Ustrd>";
    memset(want_rmt + 7, 'R', 140);
    strcpy(want_rmt + 7 + 140, "</Ustrd>");
    assert_non_null(strstr(out, want_rmt));
}

static void creation_time_before_1970_and_at_midnight(void **state)
{
    (void)state;
    struct tp_sepa_transfer t[1] = {transfer("A", 5, "E1")};
    struct tp_sepa_header h = header;
    h.created_unix = -1;
    assert_int_equal(write_doc(&h, t, 1, NULL, NULL), TP_OK);
    assert_non_null(strstr(out, "<CreDtTm>1969-12-31T23:59:59Z</CreDtTm>"));
    h.created_unix = 20781 * INT64_C(86400);
    assert_int_equal(write_doc(&h, t, 1, NULL, NULL), TP_OK);
    assert_non_null(strstr(out, "<CreDtTm>2026-11-24T00:00:00Z</CreDtTm>"));
}

/* ------------------------------------------------------------------------------------- */
/* Streaming                                                                               */

struct chunks {
    struct tp_sink sink;
    size_t calls, biggest;
    size_t fail_after; /* 0: never fail; otherwise the call that takes nothing */
};

static size_t chunk_write(void *ctx, const char *buf, size_t len)
{
    struct chunks *c = ctx;
    c->calls++;
    if (len > c->biggest)
        c->biggest = len;
    if (c->fail_after && c->calls >= c->fail_after)
        return len / 2;
    return tp_sink_write(&c->sink, buf, len);
}

static void streaming_equals_the_array_writer_in_bounded_chunks(void **state)
{
    (void)state;
    enum { N = 200 };
    static struct tp_sepa_transfer t[N];
    static char ids[N][16];
    int64_t sum = 0;
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "E2E-%04d", i);
        t[i] = transfer("Pharmacie Émile Zola", 1000 + i, ids[i]);
        sum += t[i].amount_cents;
    }
    assert_int_equal(write_doc(&header, t, N, NULL, NULL), TP_OK);
    static char copy[sizeof out];
    strcpy(copy, out);

    static char buf2[sizeof out];
    struct chunks c = {.sink = {.buf = buf2, .cap = sizeof buf2}};
    struct tp_sepa_writer w;
    assert_int_equal(tp_sepa_begin(&w, &header, N, sum, chunk_write, &c, msg, sizeof msg), TP_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(tp_sepa_add(&w, &t[i], msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_end(&w, msg, sizeof msg), TP_OK);
    assert_string_equal(buf2, copy);
    assert_true(c.calls > 1); /* ~90 KB went out in pieces */
    assert_true(c.biggest <= TP_SEPA_CHUNK);
}

static void streaming_refuses_what_was_not_announced(void **state)
{
    (void)state;
    struct tp_sepa_transfer a = transfer("A", 100, "E1"), b = transfer("B", 200, "E2");
    struct tp_sink sink = {.buf = out, .cap = sizeof out};
    struct tp_sepa_writer w;

    /* Fewer transfers than announced. */
    assert_int_equal(tp_sepa_begin(&w, &header, 2, 300, tp_sink_write, &sink, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(tp_sepa_add(&w, &a, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_end(&w, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "do not match"));

    /* More transfers than announced. */
    sink.len = 0;
    assert_int_equal(tp_sepa_begin(&w, &header, 1, 100, tp_sink_write, &sink, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(tp_sepa_add(&w, &a, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_add(&w, &b, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "more transfers than announced"));
    assert_int_equal(tp_sepa_end(&w, msg, sizeof msg), TP_ERR_INVALID); /* stays failed */

    /* Same count, different sum. */
    assert_int_equal(tp_sepa_begin(&w, &header, 2, 301, tp_sink_write, &sink, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(tp_sepa_add(&w, &a, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_add(&w, &b, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_end(&w, msg, sizeof msg), TP_ERR_INVALID);

    /* A sum above the announced one is caught at the transfer that overshoots. */
    assert_int_equal(tp_sepa_begin(&w, &header, 2, 250, tp_sink_write, &sink, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(tp_sepa_add(&w, &a, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_sepa_add(&w, &b, msg, sizeof msg), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "control sum"));

    /* Announcements out of range. */
    assert_int_equal(tp_sepa_begin(&w, &header, 0, 0, tp_sink_write, &sink, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_sepa_begin(&w, &header, 2, 1, tp_sink_write, &sink, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(
        tp_sepa_begin(&w, &header, 1, TP_SEPA_SUM_MAX + 1, tp_sink_write, &sink, msg, sizeof msg),
        TP_ERR_INVALID);
    assert_int_equal(
        tp_sepa_begin(&w, &header, 1, INT64_MAX, tp_sink_write, &sink, msg, sizeof msg),
        TP_ERR_INVALID);
    /* A writer whose header was refused refuses transfers. */
    assert_int_equal(tp_sepa_add(&w, &a, msg, sizeof msg), TP_ERR_INVALID);
}

static void short_writes_are_io_errors(void **state)
{
    (void)state;
    enum { N = 100 };
    static struct tp_sepa_transfer t[N];
    for (int i = 0; i < N; i++)
        t[i] = transfer("PS", 100, "E2E");
    static char buf[sizeof out];
    struct chunks c = {.sink = {.buf = buf, .cap = sizeof buf}, .fail_after = 2};
    assert_int_equal(tp_sepa_write(&header, t, N, chunk_write, &c, NULL, NULL, msg, sizeof msg),
                     TP_ERR_IO);
    assert_non_null(strstr(msg, "write failed"));
    assert_int_equal(c.calls, 2); /* no write after the failure */

    /* A sink too small for the document: overflow, reported as an I/O error. */
    char small[512];
    struct tp_sink sink = {.buf = small, .cap = sizeof small};
    assert_int_equal(
        tp_sepa_write(&header, t, 1, tp_sink_write, &sink, NULL, NULL, msg, sizeof msg), TP_ERR_IO);
    assert_true(sink.overflow);
}

/* ------------------------------------------------------------------------------------- */
/* Sample files for tests/e2e/sepa_schema.sh                                               */

static int write_file(const char *dir, const char *name, const struct tp_sepa_header *h,
                      const struct tp_sepa_transfer *t, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    struct tp_sink sink = {.buf = out, .cap = sizeof out};
    enum tp_err rc = tp_sepa_write(h, t, n, tp_sink_write, &sink, NULL, NULL, msg, sizeof msg);
    if (rc == TP_OK)
        fwrite(out, 1, sink.len, f);
    if (fclose(f) != 0 || rc != TP_OK) {
        fprintf(stderr, "%s: %s\n", name, msg);
        return 1;
    }
    return 0;
}

static int samples(const char *dir)
{
    int bad = 0;
    struct tp_sepa_transfer t[2] = {
        transfer("Pharmacie de l’Église & Fils", 123456, "OTP-1-PS-0001"),
        {.name = "Opticien Hörner",
         .iban = "DE89370400440532013000",
         .amount_cents = 1,
         .end_to_end = "OTP-1-PS-0002"},
    };
    bad |= write_file(dir, "golden.xml", &header, t, 2);

    /* Many transfers with every kind of text: accents, XML specials, maximum lengths. */
    enum { N = 64 };
    static struct tp_sepa_transfer many[N];
    static char ids[N][36], names[N][300], rmts[N][400];
    const char *kinds[] = {"Centre <Audition> & \"Fils\"", "Œil pour Œil — Opticiens",
                           "Laboratoire d'Analyses Médicales Saint-Étienne-du-Rouvray Nord",
                           "Ærø Straße Łódź"};
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "OTP-20261123-0001-%017d", i);
        if (i % 8 == 7) {
            memset(names[i], 'Z', 299);
            names[i][299] = '\0';
            memset(rmts[i], 'r', 399);
            rmts[i][399] = '\0';
        } else {
            snprintf(names[i], sizeof names[i], "%s %d", kinds[i % 4], i);
            snprintf(rmts[i], sizeof rmts[i], "Avis OTP-1-%d; factures F%d, F%d <&>", i, i, i + 1);
        }
        char bban[24];
        snprintf(bban, sizeof bban, "30006000%015d", 1000 + i);
        static char ibans[N][28];
        memcpy(ibans[i], "FR", 2);
        memcpy(ibans[i] + 4, bban, 23);
        ibans[i][27] = '\0';
        if (tp_iban_make("FR", bban, 23, ibans[i] + 2, 2) != TP_OK)
            return 1;
        many[i] = (struct tp_sepa_transfer){.name = names[i],
                                            .iban = ibans[i],
                                            .bic = i % 3 ? "BNPAFRPPXXX" : NULL,
                                            .amount_cents = (int64_t)i * 1013 + 1,
                                            .end_to_end = ids[i],
                                            .remittance = i % 5 ? rmts[i] : NULL};
    }
    struct tp_sepa_header h = header;
    h.msg_id = "12345678901234567890123456789012345";
    h.debtor_name = "Société de Paiement du Tiers-Payant Mutualiste et Assurantiel de France";
    bad |= write_file(dir, "many.xml", &h, many, N);

    struct tp_sepa_transfer big = transfer("Hôpital", TP_SEPA_AMOUNT_MAX, "BIG");
    bad |= write_file(dir, "max_amount.xml", &header, &big, 1);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--samples") == 0)
        return samples(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(amounts_have_two_decimals),
        cmocka_unit_test(names_are_transliterated_to_the_sepa_set),
        cmocka_unit_test(xml_specials_never_reach_the_document),
        cmocka_unit_test(spaces_are_collapsed_and_text_is_cut),
        cmocka_unit_test(bad_text_is_refused),
        cmocka_unit_test(identifiers_are_checked_not_changed),
        cmocka_unit_test(golden_two_transfers),
        cmocka_unit_test(control_sums_match_the_transfers),
        cmocka_unit_test(bad_accounts_are_refused),
        cmocka_unit_test(bad_amounts_and_ids_are_refused),
        cmocka_unit_test(long_texts_are_cut_to_the_schema),
        cmocka_unit_test(creation_time_before_1970_and_at_midnight),
        cmocka_unit_test(streaming_equals_the_array_writer_in_bounded_chunks),
        cmocka_unit_test(streaming_refuses_what_was_not_announced),
        cmocka_unit_test(short_writes_are_io_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
