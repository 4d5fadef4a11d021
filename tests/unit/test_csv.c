/* CSV records (RFC 4180) and the beneficiary file (src/core/csv.h, docs/IMPORT.md).
 *
 * The parser is checked on the RFC's cases (quotes, "" escapes, line breaks inside quotes,
 * CRLF), on its caps, and for chunk independence: every input gives the same records fed
 * whole, byte by byte, and cut at every possible place. Row validation has one case per rule,
 * each asserting the column named and that the reason never repeats the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/csv.h"
#include "core/validate.h"

/* ---- Helpers: records serialised to text, for comparisons ------------------------------------ */

/* Appends one record as "L<line>:[f1|f2|...]" or "L<line>:ERR(<reason>)" and a newline. */
static void describe(char *out, size_t cap, enum tp_csv_status st, const struct tp_csv_record *r)
{
    size_t at = strlen(out);
    if (st == TP_CSV_ERROR) {
        snprintf(out + at, cap - at, "L%llu:ERR(%s)\n", (unsigned long long)r->line, r->error);
        return;
    }
    at += (size_t)snprintf(out + at, cap - at, "L%llu:[", (unsigned long long)r->line);
    for (int i = 0; i < r->nfields && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%.*s", i ? "|" : "", (int)r->fields[i].len,
                               r->fields[i].ptr);
    if (at < cap)
        snprintf(out + at, cap - at, "]\n");
}

/* Parses data fed in chunks of `chunk` bytes (0: all at once), each chunk in an exactly-sized
 * heap copy so that ASan sees any read past it. */
static void parse_chunked(const char *data, size_t len, size_t chunk, char *out, size_t cap)
{
    static struct tp_csv p; /* 4.5 KiB: not on the test's stack */
    struct tp_csv_record rec;
    tp_csv_init(&p);
    out[0] = '\0';
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        char *c = malloc(n);
        assert_non_null(c);
        memcpy(c, data + off, n);
        size_t at = 0;
        while (at < n) {
            size_t used = 0;
            enum tp_csv_status st = tp_csv_feed(&p, c + at, n - at, &used, &rec);
            assert_true(used <= n - at);
            at += used;
            if (st != TP_CSV_NEED_MORE)
                describe(out, cap, st, &rec);
            else
                assert_int_equal(at, n);
        }
        free(c);
    }
    enum tp_csv_status st = tp_csv_finish(&p, &rec);
    if (st != TP_CSV_NEED_MORE)
        describe(out, cap, st, &rec);
}

/* Parses data cut in two at `cut`. */
static void parse_split(const char *data, size_t len, size_t cut, char *out, size_t cap)
{
    static struct tp_csv p;
    struct tp_csv_record rec;
    tp_csv_init(&p);
    out[0] = '\0';
    const char *parts[2] = {data, data + cut};
    size_t lens[2] = {cut, len - cut};
    for (int k = 0; k < 2; k++) {
        size_t at = 0;
        while (at < lens[k]) {
            size_t used = 0;
            enum tp_csv_status st = tp_csv_feed(&p, parts[k] + at, lens[k] - at, &used, &rec);
            at += used;
            if (st != TP_CSV_NEED_MORE)
                describe(out, cap, st, &rec);
        }
    }
    enum tp_csv_status st = tp_csv_finish(&p, &rec);
    if (st != TP_CSV_NEED_MORE)
        describe(out, cap, st, &rec);
}

static char got[65536];

static void assert_parses(const char *data, const char *expected)
{
    parse_chunked(data, strlen(data), 0, got, sizeof got);
    assert_string_equal(got, expected);
}

/* ---- The parser ---------------------------------------------------------------------------- */

static void simple_records(void **state)
{
    (void)state;
    assert_parses("a,b,c\n1,2,3\n", "L1:[a|b|c]\nL2:[1|2|3]\n");
    assert_parses("a,b\n", "L1:[a|b]\n");
    assert_parses("single\n", "L1:[single]\n");
}

static void last_record_without_line_break(void **state)
{
    (void)state;
    assert_parses("a,b\n1,2", "L1:[a|b]\nL2:[1|2]\n");
    assert_parses("x", "L1:[x]\n");
    assert_parses("a,b\r\n1,2\r", "L1:[a|b]\nL2:[1|2]\n"); /* a CRLF cut by the end of file */
    assert_parses("", "");
}

static void crlf_and_lf(void **state)
{
    (void)state;
    assert_parses("a,b\r\n1,2\r\n3,4\n", "L1:[a|b]\nL2:[1|2]\nL3:[3|4]\n");
}

static void empty_fields(void **state)
{
    (void)state;
    assert_parses(",,\n", "L1:[||]\n");
    assert_parses("a,\n", "L1:[a|]\n");
    assert_parses(",a\n", "L1:[|a]\n");
    assert_parses("\"\"\n", "L1:[]\n");
    assert_parses("a,\"\",b\n", "L1:[a||b]\n");
}

static void empty_lines_are_skipped_but_counted(void **state)
{
    (void)state;
    assert_parses("\na\n\n\r\nb\n\n", "L2:[a]\nL5:[b]\n");
}

static void quoted_fields(void **state)
{
    (void)state;
    assert_parses("\"a,b\",c\n", "L1:[a,b|c]\n");
    assert_parses("\"say \"\"hi\"\"\",x\n", "L1:[say \"hi\"|x]\n");
    assert_parses("\"\"\"\"\n", "L1:[\"]\n");
    assert_parses("\"a\"\r\n", "L1:[a]\n");
    assert_parses("\"a\",\"b\"\n", "L1:[a|b]\n");
}

static void embedded_line_breaks_keep_line_numbers(void **state)
{
    (void)state;
    /* The record of line 2 spans lines 2-4; the next one starts on line 5. */
    assert_parses("h\n\"one\ntwo\r\nthree\",x\nnext\n",
                  "L1:[h]\nL2:[one\ntwo\r\nthree|x]\nL5:[next]\n");
}

static void byte_order_mark_is_dropped(void **state)
{
    (void)state;
    assert_parses("\xEF\xBB\xBFmember_number,rank\n", "L1:[member_number|rank]\n");
    /* Only at the very start, and only a whole one. */
    assert_parses("a\n\xEF\xBB\xBF\n", "L1:[a]\nL2:[\xEF\xBB\xBF]\n");
    assert_parses("\xEF\xBBx\n", "L1:[\xEF\xBBx]\n");
    assert_parses("\xEF\xBB", "L1:[\xEF\xBB]\n");
}

static void malformed_quotes_are_error_records(void **state)
{
    (void)state;
    assert_parses("ab\"c,d\nok\n", "L1:ERR(quote character inside an unquoted field)\nL2:[ok]\n");
    assert_parses("\"ab\"c,d\nok\n", "L1:ERR(text after the closing quote of a field)\nL2:[ok]\n");
    assert_parses("a\rb\nok\n", "L1:ERR(carriage return not followed by a line feed)\nL2:[ok]\n");
    assert_parses("ok\n\"never closed,x\n",
                  "L1:[ok]\nL2:ERR(unterminated quoted field at end of file)\n");
}

static void record_length_cap(void **state)
{
    (void)state;
    static char data[3 * TP_CSV_RECORD_MAX];
    /* Exactly at the cap: accepted. */
    memset(data, 'x', TP_CSV_RECORD_MAX);
    strcpy(data + TP_CSV_RECORD_MAX, "\nnext\n");
    parse_chunked(data, strlen(data), 0, got, sizeof got);
    assert_int_equal(strlen(got), strlen("L1:[]\nL2:[next]\n") + TP_CSV_RECORD_MAX);
    /* One byte more: one error record, and the next line is read normally. */
    memset(data, 'x', TP_CSV_RECORD_MAX + 1);
    strcpy(data + TP_CSV_RECORD_MAX + 1, "\r\nnext\n");
    assert_parses(data, "L1:ERR(record longer than 4096 bytes)\nL2:[next]\n");
    /* A runaway quote costs one error record, not the rest of the file. */
    data[0] = '"';
    memset(data + 1, 'y', TP_CSV_RECORD_MAX + 10);
    strcpy(data + TP_CSV_RECORD_MAX + 11, "\nnext,1\n");
    assert_parses(data, "L1:ERR(record longer than 4096 bytes)\nL2:[next|1]\n");
    /* Too long at end of file, without a line break. */
    memset(data, 'z', TP_CSV_RECORD_MAX + 5);
    data[TP_CSV_RECORD_MAX + 5] = '\0';
    assert_parses(data, "L1:ERR(record longer than 4096 bytes)\n");
}

static void field_count_cap(void **state)
{
    (void)state;
    char data[256] = "", expect[256] = "L1:[";
    for (int i = 0; i < TP_CSV_FIELDS_MAX; i++) {
        strcat(data, i ? ",f" : "f");
        strcat(expect, i ? "|f" : "f");
    }
    strcat(expect, "]\n");
    strcat(data, "\n");
    assert_parses(data, expect);
    data[strlen(data) - 1] = '\0';
    strcat(data, ",\"one more\"\nok\n");
    assert_parses(data, "L1:ERR(more than 32 fields)\nL2:[ok]\n");
}

/* Every input of the cases above (and a few more), fed byte by byte and cut at every place,
 * gives the same records as fed whole. */
static void chunk_boundaries_do_not_matter(void **state)
{
    (void)state;
    static const char *inputs[] = {
        "a,b,c\n1,2,3\n",
        "a,b\r\n1,2\r",
        "\na\n\n\r\nb\n\n",
        "\"say \"\"hi\"\"\",x\r\n\"\"\"\"\n",
        "h\n\"one\ntwo\r\nthree\",x\nnext\n",
        "\xEF\xBB\xBFmember_number,rank\r\n1,2\r\n",
        "\xEF\xBBx\n",
        "ab\"c,d\nok\n\"ab\"c,d\r\na\rb\nok\n\"never closed,x\n",
        ",,\n\"\"\n\"a\",\"\"\n",
        "x\r\r\ny\n",
    };
    static char whole[65536], piece[65536];
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        const char *in = inputs[i];
        size_t len = strlen(in);
        parse_chunked(in, len, 0, whole, sizeof whole);
        parse_chunked(in, len, 1, piece, sizeof piece);
        assert_string_equal(whole, piece);
        for (size_t cut = 0; cut <= len; cut++) {
            parse_split(in, len, cut, piece, sizeof piece);
            assert_string_equal(whole, piece);
        }
    }
    /* A long mixed input in chunks of every size from 1 to 97. */
    static char big[16384];
    big[0] = '\0';
    for (int r = 0; strlen(big) < sizeof big - 200; r++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 r % 3 == 0   ? "%d,\"q,%d\"\"x\"\"\ny\",plain\r\n"
                 : r % 3 == 1 ? "%d,%d,\n\n"
                              : "%d,bad\"%d\n",
                 r, r);
    parse_chunked(big, strlen(big), 0, whole, sizeof whole);
    for (size_t chunk = 1; chunk < 98; chunk++) {
        parse_chunked(big, strlen(big), chunk, piece, sizeof piece);
        assert_string_equal(whole, piece);
    }
}

static void parser_is_reusable_after_finish(void **state)
{
    (void)state;
    assert_parses("a\n\"open", "L1:[a]\nL2:ERR(unterminated quoted field at end of file)\n");
    assert_parses("b\n", "L1:[b]\n"); /* line numbers start again at 1 */
}

/* ---- The header ---------------------------------------------------------------------------- */

static const char *const CANONICAL =
    "member_number,rank,quality,last_name,first_name,birth_date,birth_rank,nir,nir_own,"
    "contract,coverage_start,coverage_end,tp_domains";

static struct tp_csv_record one_rec;
static char one_buf[8192];

/* Parses one line into one_rec (fields point into a static parser). */
static const struct tp_csv_record *one(const char *line)
{
    static struct tp_csv p;
    tp_csv_init(&p);
    snprintf(one_buf, sizeof one_buf, "%s\n", line);
    size_t used = 0;
    enum tp_csv_status st = tp_csv_feed(&p, one_buf, strlen(one_buf), &used, &one_rec);
    assert_int_equal(st, TP_CSV_RECORD);
    return &one_rec;
}

static char msg[1024];

static enum tp_err header(const char *line, struct tp_ben_header *h)
{
    const struct tp_csv_record *r = one(line);
    return tp_ben_header_parse(r->fields, r->nfields, h, msg, sizeof msg);
}

static void header_canonical_order(void **state)
{
    (void)state;
    struct tp_ben_header h;
    assert_int_equal(header(CANONICAL, &h), TP_OK);
    assert_int_equal(h.nfields, TP_COL_COUNT);
    for (int c = 0; c < TP_COL_COUNT; c++)
        assert_int_equal(h.index[c], c);
    assert_string_equal(tp_ben_col_name(TP_COL_TP_DOMAINS), "tp_domains");
}

static void header_any_order_case_and_spaces(void **state)
{
    (void)state;
    struct tp_ben_header h;
    assert_int_equal(header("NIR, Rank ,member_number,quality,last_name,first_name,birth_date,"
                            "birth_rank,nir_own,contract,coverage_start,coverage_end,TP_DOMAINS",
                            &h),
                     TP_OK);
    assert_int_equal(h.index[TP_COL_NIR], 0);
    assert_int_equal(h.index[TP_COL_RANK], 1);
    assert_int_equal(h.index[TP_COL_MEMBER_NUMBER], 2);
    assert_int_equal(h.index[TP_COL_TP_DOMAINS], 12);
}

static void header_unknown_missing_duplicate(void **state)
{
    (void)state;
    struct tp_ben_header h;
    char line[1024];
    snprintf(line, sizeof line, "%s,email", CANONICAL);
    assert_int_equal(header(line, &h), TP_ERR_INVALID);
    assert_non_null(strstr(msg, "unknown column: \"email\" (column 14)"));

    assert_int_equal(header("member_number,rank,quality,last_name,first_name,birth_date,"
                            "birth_rank,nir_own,coverage_start,coverage_end,tp_domains",
                            &h),
                     TP_ERR_INVALID);
    assert_string_equal(msg, "missing columns: nir, contract");

    snprintf(line, sizeof line, "%s,rank", CANONICAL);
    assert_int_equal(header(line, &h), TP_ERR_INVALID);
    assert_string_equal(msg, "duplicate column: column 14");
}

static void header_never_echoes_values(void **state)
{
    (void)state;
    struct tp_ben_header h;
    /* A file without its header: the first data line must not end up in the message. */
    assert_int_equal(header("7219864597,1,MEMBER,Marchand,Michel,1948-03-28,1,148033528868583,1,"
                            "C02,2025-01-01,2027-12-31,PHARMACIE",
                            &h),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "not a header"));
    assert_null(strstr(msg, "Marchand"));
    assert_null(strstr(msg, "148033528868583"));
    /* Mixed: known names plus values that do not look like names are given by position. */
    assert_int_equal(header("member_number,rank,148033528868583,Jean Dupont", &h), TP_ERR_INVALID);
    assert_null(strstr(msg, "148033528868583"));
    assert_null(strstr(msg, "Dupont"));
    assert_non_null(strstr(msg, "column 3, column 4"));
}

/* ---- Row validation ------------------------------------------------------------------------ */

static const char contracts[][TP_CODE_MAX] = {"C01", "GOLD-2026"};
static struct tp_ben_rules rules = {.amc = "123456782", .contracts = contracts, .ncontracts = 2};

/* A valid NIR for the given 13 characters. */
static const char *nir(const char *body13)
{
    static char out[16];
    int key = tp_nir_key(body13);
    assert_true(key > 0);
    snprintf(out, sizeof out, "%s%02d", body13, key);
    return out;
}

/* The fields of a valid row, to be altered one at a time. */
struct row {
    char v[TP_COL_COUNT][128];
};

static void valid_row(struct row *r)
{
    static const char *const vals[TP_COL_COUNT] = {
        "A123456789", "1", "MEMBER",    "Müller-Lefèvre", "Zoé",        "1985-05-12",       "1",
        "",           "1", "GOLD-2026", "2026-01-01",     "2026-12-31", "PHARMACIE|OPTIQUE"};
    for (int c = 0; c < TP_COL_COUNT; c++)
        snprintf(r->v[c], sizeof r->v[c], "%s", vals[c]);
    /* Not through nir(): its buffer may hold the value a test is about to set. */
    int key = tp_nir_key("2850578006084");
    snprintf(r->v[TP_COL_NIR], sizeof r->v[TP_COL_NIR], "2850578006084%02d", key);
}

static int bad_col;
static char reason[256];
static struct tp_beneficiary ben;

static enum tp_err validate(const struct row *r)
{
    struct tp_csv_field f[TP_COL_COUNT];
    struct tp_ben_header h;
    for (int c = 0; c < TP_COL_COUNT; c++) {
        f[c].ptr = r->v[c];
        f[c].len = strlen(r->v[c]);
        h.index[c] = c;
    }
    h.nfields = TP_COL_COUNT;
    rules.today = tp_date_from_ymd(2026, 11, 23);
    return tp_beneficiary_from_csv(f, TP_COL_COUNT, &h, &rules, &ben, &bad_col, reason,
                                   sizeof reason);
}

static void valid_row_is_filled_in(void **state)
{
    (void)state;
    struct row r;
    valid_row(&r);
    assert_int_equal(validate(&r), TP_OK);
    assert_string_equal(ben.amc, "123456782");
    assert_string_equal(ben.member, "A123456789");
    assert_int_equal(ben.rank, 1);
    assert_int_equal(ben.quality, TP_QUAL_MEMBER);
    assert_string_equal(ben.id.last_name, "Müller-Lefèvre");
    assert_string_equal(ben.id.first_name, "Zoé");
    assert_int_equal(ben.id.birth_date, tp_date_from_ymd(1985, 5, 12));
    assert_int_equal(ben.id.birth_rank, 1);
    assert_string_equal(ben.id.nir, r.v[TP_COL_NIR]);
    assert_int_equal(ben.nir_own, 1);
    assert_string_equal(ben.contract, "GOLD-2026");
    assert_int_equal(ben.coverage_start, tp_date_from_ymd(2026, 1, 1));
    assert_int_equal(ben.coverage_end, tp_date_from_ymd(2026, 12, 31));
    assert_int_equal(ben.tp_domains, (1u << TP_DOM_PHARMACIE) | (1u << TP_DOM_OPTIQUE));
}

/* Sets column col to value, expects that column to be reported with a reason containing
 * `why`, and checks that the reason does not contain the value. */
static void expect_bad(int col, const char *value, const char *why)
{
    struct row r;
    valid_row(&r);
    snprintf(r.v[col], sizeof r.v[col], "%s", value);
    assert_int_equal(validate(&r), TP_ERR_INVALID);
    if (bad_col != col || !strstr(reason, why))
        fail_msg("column %s = '%s': got column %d, reason '%s'", tp_ben_col_name(col), value,
                 bad_col, reason);
    if (strlen(value) >= 3 && strstr(reason, value))
        fail_msg("reason '%s' repeats the value", reason);
    /* Nothing half-filled comes out of a rejected row. */
    assert_int_equal(ben.member[0], '\0');
    assert_int_equal(ben.id.nir[0], '\0');
}

static void expect_ok(int col, const char *value)
{
    struct row r;
    valid_row(&r);
    snprintf(r.v[col], sizeof r.v[col], "%s", value);
    if (validate(&r) != TP_OK)
        fail_msg("column %s = '%s' refused: %s", tp_ben_col_name(col), value, reason);
}

static void member_number_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_MEMBER_NUMBER, "", "1 to 20 characters");
    expect_bad(TP_COL_MEMBER_NUMBER, "abc123", "capital letters");
    expect_bad(TP_COL_MEMBER_NUMBER, "123456789012345678901", "1 to 20");
    expect_ok(TP_COL_MEMBER_NUMBER, "12345678901234567890");
}

static void rank_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_RANK, "0", "from 1 to 99");
    expect_bad(TP_COL_RANK, "100", "from 1 to 99");
    expect_bad(TP_COL_RANK, "-1", "from 1 to 99");
    expect_bad(TP_COL_RANK, "1.5", "from 1 to 99");
    expect_bad(TP_COL_RANK, "", "from 1 to 99");
    expect_ok(TP_COL_RANK, "99");
}

static void quality_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_QUALITY, "member", "MEMBER, SPOUSE, CHILD or OTHER");
    expect_bad(TP_COL_QUALITY, "", "MEMBER, SPOUSE");
    expect_ok(TP_COL_QUALITY, "SPOUSE");
    expect_ok(TP_COL_QUALITY, "CHILD");
    expect_ok(TP_COL_QUALITY, "OTHER");
}

static void name_rules(void **state)
{
    (void)state;
    for (int col = TP_COL_LAST_NAME; col <= TP_COL_FIRST_NAME; col++) {
        char long64[65];
        memset(long64, 'a', 64);
        long64[64] = '\0';
        expect_bad(col, "", "is empty");
        expect_bad(col, long64, "longer than 63 bytes");
        long64[63] = '\0';
        expect_ok(col, long64);
        expect_bad(col, "Du\xC3", "not valid UTF-8");             /* truncated sequence */
        expect_bad(col, "Du\xC0\xAFont", "not valid UTF-8");      /* overlong '/' */
        expect_bad(col, "Du\xED\xA0\x80nt", "not valid UTF-8");   /* surrogate */
        expect_bad(col, "Du\xF4\x90\x80\x80", "not valid UTF-8"); /* above U+10FFFF */
        expect_bad(col, "Du\xFFpont", "not valid UTF-8");
        expect_bad(col, "Du\tpont", "control character");
        expect_bad(col, "Du\npont", "control character");
        expect_bad(col, "Du\x7Fpont", "control character");
        expect_bad(col, "Du\xC2\x85pont", "control character"); /* C1: NEL */
        expect_ok(col, "D'Artagnan de Castelmore");
        expect_ok(col, "Łukasz 李 😀");
    }
}

static void birth_date_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_BIRTH_DATE, "1985-02-30", "YYYY-MM-DD");
    expect_bad(TP_COL_BIRTH_DATE, "12/05/1985", "YYYY-MM-DD");
    expect_bad(TP_COL_BIRTH_DATE, "1899-12-31", "YYYY-MM-DD");
    expect_bad(TP_COL_BIRTH_DATE, "", "YYYY-MM-DD");
    /* Today is fine, tomorrow is in the future. The NIR must follow the date (own NIR). */
    struct row r;
    valid_row(&r);
    snprintf(r.v[TP_COL_BIRTH_DATE], sizeof r.v[0], "2026-11-23");
    snprintf(r.v[TP_COL_NIR], sizeof r.v[0], "%s", nir("1261175056001"));
    assert_int_equal(validate(&r), TP_OK);
    snprintf(r.v[TP_COL_BIRTH_DATE], sizeof r.v[0], "2026-11-24");
    assert_int_equal(validate(&r), TP_ERR_INVALID);
    assert_int_equal(bad_col, TP_COL_BIRTH_DATE);
    assert_string_equal(reason, "is in the future");
}

static void birth_rank_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_BIRTH_RANK, "0", "from 1 to 9");
    expect_bad(TP_COL_BIRTH_RANK, "10", "from 1 to 9");
    expect_bad(TP_COL_BIRTH_RANK, "x", "from 1 to 9");
    expect_ok(TP_COL_BIRTH_RANK, "2");
}

static void nir_rules(void **state)
{
    (void)state;
    char wrong_key[16];
    snprintf(wrong_key, sizeof wrong_key, "%s", nir("2850578006084"));
    wrong_key[14] = wrong_key[14] == '9' ? '0' : (char)(wrong_key[14] + 1);
    expect_bad(TP_COL_NIR, wrong_key, "key does not match");
    expect_bad(TP_COL_NIR, "28505780060", "15 characters");
    expect_bad(TP_COL_NIR, "", "15 characters");
    expect_bad(TP_COL_NIR, nir("5850578006084"), "sex digit");
    /* Own NIR: year and month must be those of the birth date. */
    expect_bad(TP_COL_NIR, nir("2860578006084"), "nir does not match birth date");
    expect_bad(TP_COL_NIR, nir("2850678006084"), "nir does not match birth date");
    /* Unknown-month conventions (20-42, 50-99) are accepted whatever the month. */
    expect_ok(TP_COL_NIR, nir("2852078006084"));
    expect_ok(TP_COL_NIR, nir("2855078006084"));
    /* Corsica. */
    expect_ok(TP_COL_NIR, nir("285052A006084"));
}

static void nir_own_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_NIR_OWN, "2", "must be 1");
    expect_bad(TP_COL_NIR_OWN, "01", "must be 1");
    expect_bad(TP_COL_NIR_OWN, "", "must be 1");
    /* Attached to another's NIR (a child on a parent's): no birth-date consistency. */
    struct row r;
    valid_row(&r);
    snprintf(r.v[TP_COL_NIR_OWN], sizeof r.v[0], "0");
    snprintf(r.v[TP_COL_QUALITY], sizeof r.v[0], "CHILD");
    snprintf(r.v[TP_COL_BIRTH_DATE], sizeof r.v[0], "2019-03-04");
    assert_int_equal(validate(&r), TP_OK);
    assert_int_equal(ben.nir_own, 0);
}

static void contract_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_CONTRACT, "C02", "not a contract of this AMC");
    expect_bad(TP_COL_CONTRACT, "c01", "not a contract of this AMC");
    expect_bad(TP_COL_CONTRACT, "", "1 to 16 characters");
    expect_bad(TP_COL_CONTRACT, "A_VERY_LONG_CODE_X", "1 to 16 characters");
    expect_ok(TP_COL_CONTRACT, "C01");
}

static void coverage_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_COVERAGE_START, "2026-13-01", "YYYY-MM-DD");
    expect_bad(TP_COL_COVERAGE_END, "2026/12/31", "YYYY-MM-DD");
    expect_bad(TP_COL_COVERAGE_END, "2025-12-31", "before coverage_start");
    expect_ok(TP_COL_COVERAGE_END, "2026-01-01"); /* one day */
}

static void tp_domains_rules(void **state)
{
    (void)state;
    expect_bad(TP_COL_TP_DOMAINS, "", "domain names separated by '|'");
    expect_bad(TP_COL_TP_DOMAINS, "OPTIQUE|", "domain names");
    expect_bad(TP_COL_TP_DOMAINS, "pharmacie", "domain names");
    expect_bad(TP_COL_TP_DOMAINS, "PHARMACIE,OPTIQUE", "domain names");
    expect_ok(TP_COL_TP_DOMAINS, "TRANSPORT");
    expect_ok(TP_COL_TP_DOMAINS, "PHARMACIE|OPTIQUE|AUDIO|DENTAIRE|HOSPITALISATION|CONSULTATION|"
                                 "LABORATOIRE|RADIOLOGIE|AUXILIAIRE|TRANSPORT");
}

static void wrong_field_count_is_a_row_error(void **state)
{
    (void)state;
    struct tp_ben_header h;
    assert_int_equal(header(CANONICAL, &h), TP_OK);
    const struct tp_csv_record *r = one("A1,1,MEMBER");
    assert_int_equal(tp_beneficiary_from_csv(r->fields, r->nfields, &h, &rules, &ben, &bad_col,
                                             reason, sizeof reason),
                     TP_ERR_INVALID);
    assert_int_equal(bad_col, -1);
    assert_string_equal(reason, "expected 13 fields, found 3");
}

/* The first failing column is the one reported (columns are checked in header order). */
static void first_failure_wins(void **state)
{
    (void)state;
    struct row r;
    valid_row(&r);
    snprintf(r.v[TP_COL_RANK], sizeof r.v[0], "0");
    snprintf(r.v[TP_COL_CONTRACT], sizeof r.v[0], "NOPE");
    assert_int_equal(validate(&r), TP_ERR_INVALID);
    assert_int_equal(bad_col, TP_COL_RANK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_records),
        cmocka_unit_test(last_record_without_line_break),
        cmocka_unit_test(crlf_and_lf),
        cmocka_unit_test(empty_fields),
        cmocka_unit_test(empty_lines_are_skipped_but_counted),
        cmocka_unit_test(quoted_fields),
        cmocka_unit_test(embedded_line_breaks_keep_line_numbers),
        cmocka_unit_test(byte_order_mark_is_dropped),
        cmocka_unit_test(malformed_quotes_are_error_records),
        cmocka_unit_test(record_length_cap),
        cmocka_unit_test(field_count_cap),
        cmocka_unit_test(chunk_boundaries_do_not_matter),
        cmocka_unit_test(parser_is_reusable_after_finish),
        cmocka_unit_test(header_canonical_order),
        cmocka_unit_test(header_any_order_case_and_spaces),
        cmocka_unit_test(header_unknown_missing_duplicate),
        cmocka_unit_test(header_never_echoes_values),
        cmocka_unit_test(valid_row_is_filled_in),
        cmocka_unit_test(member_number_rules),
        cmocka_unit_test(rank_rules),
        cmocka_unit_test(quality_rules),
        cmocka_unit_test(name_rules),
        cmocka_unit_test(birth_date_rules),
        cmocka_unit_test(birth_rank_rules),
        cmocka_unit_test(nir_rules),
        cmocka_unit_test(nir_own_rules),
        cmocka_unit_test(contract_rules),
        cmocka_unit_test(coverage_rules),
        cmocka_unit_test(tp_domains_rules),
        cmocka_unit_test(wrong_field_count_is_a_row_error),
        cmocka_unit_test(first_failure_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
