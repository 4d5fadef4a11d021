/* CSV records (RFC 4180) and the beneficiary file (see csv.h, docs/IMPORT.md).
 *
 * The parser keeps everything it needs between two bytes in struct tp_csv, so a chunk
 * boundary can fall anywhere (inside a quoted field, between the CR and the LF of a line
 * break, inside the byte order mark) without changing the result: tests/unit/test_csv.c
 * checks that feeding byte by byte gives the same records as feeding the whole buffer.
 *
 * A malformed record never stops the parser: the first problem is remembered, the rest of
 * the record is consumed, and one error record comes out, so that a report can list every bad
 * line of a file in one pass. */
#include "core/csv.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/domain.h"
#include "core/validate.h"

enum {
    S_IDLE = 0,     /* between records */
    S_FIELD_START,  /* at the first byte of a field */
    S_UNQUOTED,     /* inside an unquoted field */
    S_QUOTED,       /* inside a quoted field */
    S_QUOTED_QUOTE, /* a quote inside a quoted field: an escape ("") or the closing one */
    S_CR            /* a CR outside quotes: the first half of CRLF, we hope */
};

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

#define STR2(x) #x
#define STR(x) STR2(x)
static const char E_TOO_LONG[] = "record longer than " STR(TP_CSV_RECORD_MAX) " bytes";
static const char E_TOO_MANY[] = "more than " STR(TP_CSV_FIELDS_MAX) " fields";
static const char E_QUOTE_IN_FIELD[] = "quote character inside an unquoted field";
static const char E_AFTER_QUOTE[] = "text after the closing quote of a field";
static const char E_STRAY_CR[] = "carriage return not followed by a line feed";
static const char E_UNTERMINATED[] = "unterminated quoted field at end of file";

static void reset_record(struct tp_csv *p)
{
    p->state = S_IDLE;
    p->err_skip_line = 0;
    p->error = NULL;
    p->raw = 0;
    p->len = 0;
    p->nfields = 0;
}

void tp_csv_init(struct tp_csv *p)
{
    memset(p, 0, sizeof *p);
    p->line = 1;
    p->record_line = 1;
    p->at_file_start = 1;
    reset_record(p);
}

static void fail(struct tp_csv *p, const char *why)
{
    if (!p->error)
        p->error = why;
}

static void append(struct tp_csv *p, char c)
{
    /* len <= raw <= TP_CSV_RECORD_MAX: every stored byte was counted as a raw byte first. */
    assert(p->len < sizeof p->buf);
    p->buf[p->len++] = c;
}

/* Ends the current field: it spans from the end of the previous one to len. */
static void push_field(struct tp_csv *p)
{
    if (p->nfields == TP_CSV_FIELDS_MAX) {
        fail(p, E_TOO_MANY);
        return;
    }
    p->start[p->nfields] = p->nfields ? p->end[p->nfields - 1] : 0;
    p->end[p->nfields] = p->len;
    p->nfields++;
}

/* The record ends with a line break (or the end of input). Returns what the caller yields. */
static enum tp_csv_status end_record(struct tp_csv *p, struct tp_csv_record *out)
{
    enum tp_csv_status st;
    if (p->raw == 0 && !p->error) {
        st = TP_CSV_NEED_MORE; /* an empty line: not a record */
    } else {
        out->line = p->record_line;
        out->error = p->error;
        out->nfields = 0;
        if (p->error) {
            st = TP_CSV_ERROR;
        } else {
            st = TP_CSV_RECORD;
            out->nfields = p->nfields;
            for (int i = 0; i < p->nfields; i++) {
                out->fields[i].ptr = p->buf + p->start[i];
                out->fields[i].len = p->end[i] - p->start[i];
            }
        }
    }
    reset_record(p);
    return st;
}

/* Counts one byte of record content against the cap. False when the record overflowed: the
 * rest of the physical line is then skipped, quotes ignored, so that one runaway quote costs
 * one error record and not the rest of the file. */
static bool count_raw(struct tp_csv *p)
{
    if (p->raw == TP_CSV_RECORD_MAX) {
        fail(p, E_TOO_LONG);
        p->err_skip_line = 1;
        return false;
    }
    p->raw++;
    return true;
}

/* One byte of input. */
static enum tp_csv_status step(struct tp_csv *p, char c, struct tp_csv_record *out)
{
    if (p->state == S_IDLE) {
        p->state = S_FIELD_START;
        p->record_line = p->line;
    }
    if (c == '\n')
        p->line++;
    if (!p->err_skip_line) {
        /* Line breaks outside quotes are terminators, not content; a CR is counted once we
         * know it is not one (state S_CR below). */
        bool terminator = (c == '\n' || c == '\r') && p->state != S_QUOTED;
        if (!terminator)
            count_raw(p);
    }
    if (p->err_skip_line)
        return c == '\n' ? end_record(p, out) : TP_CSV_NEED_MORE;

    for (;;) {
        switch (p->state) {
        case S_FIELD_START:
            if (c == '"') {
                p->state = S_QUOTED;
                return TP_CSV_NEED_MORE;
            }
            p->state = S_UNQUOTED;
            if (c == ',' || c == '\n' || c == '\r')
                continue; /* an empty field: handled by S_UNQUOTED */
            append(p, c);
            return TP_CSV_NEED_MORE;
        case S_UNQUOTED:
        case S_QUOTED_QUOTE:
            if (c == ',') {
                push_field(p);
                p->state = S_FIELD_START;
                return TP_CSV_NEED_MORE;
            }
            if (c == '\n') {
                push_field(p);
                return end_record(p, out);
            }
            if (c == '\r') {
                p->state = S_CR;
                return TP_CSV_NEED_MORE;
            }
            if (p->state == S_QUOTED_QUOTE) {
                if (c == '"') { /* "" inside quotes: one quote */
                    append(p, '"');
                    p->state = S_QUOTED;
                    return TP_CSV_NEED_MORE;
                }
                fail(p, E_AFTER_QUOTE);
                p->state = S_UNQUOTED;
            } else if (c == '"') {
                fail(p, E_QUOTE_IN_FIELD);
            }
            append(p, c);
            return TP_CSV_NEED_MORE;
        case S_QUOTED:
            if (c == '"')
                p->state = S_QUOTED_QUOTE;
            else
                append(p, c);
            return TP_CSV_NEED_MORE;
        case S_CR:
            if (c == '\n') {
                push_field(p);
                return end_record(p, out);
            }
            /* A lone CR: an error, kept as content, and c is looked at again. */
            fail(p, E_STRAY_CR);
            p->state = S_UNQUOTED;
            if (!count_raw(p))
                return c == '\n' ? end_record(p, out) : TP_CSV_NEED_MORE;
            append(p, '\r');
            if (c == '\r') {
                p->state = S_CR;
                return TP_CSV_NEED_MORE;
            }
            continue;
        default:
            assert(0 && "csv: bad state");
            return TP_CSV_NEED_MORE;
        }
    }
}

enum tp_csv_status tp_csv_feed(struct tp_csv *p, const char *data, size_t len, size_t *used,
                               struct tp_csv_record *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (p->at_file_start) {
            if ((unsigned char)c == BOM[p->bom_seen]) {
                if (++p->bom_seen == 3)
                    p->at_file_start = 0;
                continue;
            }
            /* Not a BOM after all: what was taken for one is data. */
            p->at_file_start = 0;
            for (int k = 0; k < p->bom_seen; k++)
                (void)step(p, (char)BOM[k], out); /* never ends a record: not a line break */
        }
        enum tp_csv_status st = step(p, c, out);
        if (st != TP_CSV_NEED_MORE) {
            *used = i + 1;
            return st;
        }
    }
    *used = len;
    return TP_CSV_NEED_MORE;
}

enum tp_csv_status tp_csv_finish(struct tp_csv *p, struct tp_csv_record *out)
{
    enum tp_csv_status st = TP_CSV_NEED_MORE;
    if (p->at_file_start && p->bom_seen > 0) {
        p->at_file_start = 0;
        for (int k = 0; k < p->bom_seen; k++)
            (void)step(p, (char)BOM[k], out);
    }
    if (p->state != S_IDLE) {
        if (p->err_skip_line) {
            st = end_record(p, out);
        } else {
            if (p->state == S_QUOTED)
                fail(p, E_UNTERMINATED);
            /* S_CR here is a CRLF cut short by the end of the file: a line break. */
            push_field(p);
            st = end_record(p, out);
        }
    }
    /* Ready for a new input; buf is left as it is, since the record just yielded lives in it. */
    p->line = 1;
    p->record_line = 1;
    p->at_file_start = 1;
    p->bom_seen = 0;
    reset_record(p);
    return st;
}

/* ---- The beneficiary file ------------------------------------------------------------------ */

static const char *const col_names[TP_COL_COUNT] = {
    [TP_COL_MEMBER_NUMBER] = "member_number",
    [TP_COL_RANK] = "rank",
    [TP_COL_QUALITY] = "quality",
    [TP_COL_LAST_NAME] = "last_name",
    [TP_COL_FIRST_NAME] = "first_name",
    [TP_COL_BIRTH_DATE] = "birth_date",
    [TP_COL_BIRTH_RANK] = "birth_rank",
    [TP_COL_NIR] = "nir",
    [TP_COL_NIR_OWN] = "nir_own",
    [TP_COL_CONTRACT] = "contract",
    [TP_COL_COVERAGE_START] = "coverage_start",
    [TP_COL_COVERAGE_END] = "coverage_end",
    [TP_COL_TP_DOMAINS] = "tp_domains",
};

const char *tp_ben_col_name(enum tp_ben_col c)
{
    return (unsigned)c < TP_COL_COUNT ? col_names[c] : "";
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static struct tp_csv_field trim(struct tp_csv_field f)
{
    while (f.len && is_space(f.ptr[0])) {
        f.ptr++;
        f.len--;
    }
    while (f.len && is_space(f.ptr[f.len - 1]))
        f.len--;
    return f;
}

static int header_lookup(struct tp_csv_field f)
{
    for (int c = 0; c < TP_COL_COUNT; c++) {
        size_t n = strlen(col_names[c]);
        if (n != f.len)
            continue;
        size_t i = 0;
        while (i < n && lower(f.ptr[i]) == col_names[c][i])
            i++;
        if (i == n)
            return c;
    }
    return -1;
}

/* Could this be a column name rather than a value? Letters, digits, '_', '-', and short.
 * (A value mistaken for a header, a NIR above all, must not end up in a message.) */
static bool looks_like_name(struct tp_csv_field f)
{
    if (f.len == 0 || f.len > 32)
        return false;
    bool letter = false;
    for (size_t i = 0; i < f.len; i++) {
        char c = f.ptr[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        letter |= alpha;
        if (!alpha && !(c >= '0' && c <= '9') && c != '_' && c != '-')
            return false;
    }
    return letter;
}

/* Appends printf-style text to msg at *at, truncating safely. */
__attribute__((format(printf, 4, 5))) static void add(char *msg, size_t msglen, size_t *at,
                                                      const char *fmt, ...)
{
    if (!msg || *at >= msglen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg + *at, msglen - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < msglen ? *at + (size_t)n : msglen;
}

enum tp_err tp_ben_header_parse(const struct tp_csv_field *fields, int nfields,
                                struct tp_ben_header *out, char *msg, size_t msglen)
{
    int seen_field[TP_CSV_FIELDS_MAX];
    int known = 0, unknown = 0, dup = 0, missing = 0;
    for (int c = 0; c < TP_COL_COUNT; c++)
        out->index[c] = -1;
    out->nfields = nfields;
    if (msg && msglen)
        msg[0] = '\0';
    if (nfields < 0 || nfields > TP_CSV_FIELDS_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "bad header record");
    for (int i = 0; i < nfields; i++) {
        int c = header_lookup(trim(fields[i]));
        seen_field[i] = c;
        if (c < 0) {
            unknown++;
        } else if (out->index[c] >= 0) {
            dup++;
            seen_field[i] = -2;
        } else {
            out->index[c] = i;
            known++;
        }
    }
    for (int c = 0; c < TP_COL_COUNT; c++)
        missing += out->index[c] < 0;
    if (known == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "the first line is not a header: no expected column name in it (expected: "
                       "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                       col_names[0], col_names[1], col_names[2], col_names[3], col_names[4],
                       col_names[5], col_names[6], col_names[7], col_names[8], col_names[9],
                       col_names[10], col_names[11], col_names[12]);
    if (unknown == 0 && dup == 0 && missing == 0)
        return TP_OK;

    size_t at = 0;
    const char *sep = "";
    if (unknown) {
        add(msg, msglen, &at, "unknown column%s:", unknown > 1 ? "s" : "");
        for (int i = 0; i < nfields; i++) {
            if (seen_field[i] != -1)
                continue;
            struct tp_csv_field f = trim(fields[i]);
            if (looks_like_name(f))
                add(msg, msglen, &at, " \"%.*s\" (column %d)%s", (int)f.len, f.ptr, i + 1,
                    --unknown ? "," : "");
            else
                add(msg, msglen, &at, " column %d%s", i + 1, --unknown ? "," : "");
        }
        sep = "; ";
    }
    if (dup) {
        add(msg, msglen, &at, "%sduplicate column%s:", sep, dup > 1 ? "s" : "");
        for (int i = 0; i < nfields; i++)
            if (seen_field[i] == -2)
                add(msg, msglen, &at, " column %d%s", i + 1, --dup ? "," : "");
        sep = "; ";
    }
    if (missing) {
        add(msg, msglen, &at, "%smissing column%s:", sep, missing > 1 ? "s" : "");
        for (int c = 0; c < TP_COL_COUNT; c++)
            if (out->index[c] < 0)
                add(msg, msglen, &at, " %s%s", col_names[c], --missing ? "," : "");
    }
    return TP_ERR_INVALID;
}

/* ---- Row validation ------------------------------------------------------------------------ */

/* A small unsigned decimal: 1-9 digits, nothing else. -1 otherwise. */
static int32_t small_uint(struct tp_csv_field f)
{
    if (f.len == 0 || f.len > 9)
        return -1;
    int32_t v = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (f.ptr[i] < '0' || f.ptr[i] > '9')
            return -1;
        v = v * 10 + (f.ptr[i] - '0');
    }
    return v;
}

/* Reason for a bad name, or NULL: valid UTF-8 (shortest form, no surrogates, <= U+10FFFF),
 * 1 to TP_NAME_MAX-1 bytes, no control character (C0, DEL, C1). */
static const char *name_problem(struct tp_csv_field f)
{
    if (f.len == 0)
        return "is empty";
    if (f.len > TP_NAME_MAX - 1)
        return "is longer than 63 bytes";
    const unsigned char *s = (const unsigned char *)f.ptr;
    size_t i = 0;
    while (i < f.len) {
        unsigned c = s[i];
        uint32_t cp;
        size_t n;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1F;
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0F;
            n = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07;
            n = 4;
        } else {
            return "is not valid UTF-8";
        }
        if (n > f.len - i)
            return "is not valid UTF-8";
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return "is not valid UTF-8";
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return "is not valid UTF-8";
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return "contains a control character";
        i += n;
    }
    return NULL;
}

/* With nir_own = 1 the NIR is this person's: its year (characters 2-3) must be the birth
 * year's last two digits and its month (4-5) the birth month, unless the month is one of the
 * INSEE "unknown month" conventions (20-42, 50-99), which tp_nir_check already allows. */
static bool nir_matches_birth(const char *nir, tp_day birth)
{
    int y, m, d;
    tp_date_to_ymd(birth, &y, &m, &d);
    int ny = (nir[1] - '0') * 10 + (nir[2] - '0');
    int nm = (nir[3] - '0') * 10 + (nir[4] - '0');
    if (ny != y % 100)
        return false;
    return nm > 12 || nm == m;
}

static bool contract_known(const struct tp_ben_rules *r, struct tp_csv_field f)
{
    for (size_t i = 0; i < r->ncontracts; i++)
        if (strlen(r->contracts[i]) == f.len && memcmp(r->contracts[i], f.ptr, f.len) == 0)
            return true;
    return false;
}

static void copy_field(char *dst, struct tp_csv_field f)
{
    memcpy(dst, f.ptr, f.len);
    dst[f.len] = '\0';
}

enum tp_err tp_beneficiary_from_csv(const struct tp_csv_field *fields, int nfields,
                                    const struct tp_ben_header *map,
                                    const struct tp_ben_rules *rules, struct tp_beneficiary *out,
                                    int *bad_column, char *reason, size_t reasonlen)
{
    int bad = -1;
    const char *why = NULL;
    char vmsg[96];
    struct tp_csv_field f[TP_COL_COUNT];
    memset(out, 0, sizeof *out);
    if (reason && reasonlen)
        reason[0] = '\0';
    *bad_column = -1;

    if (nfields != map->nfields) {
        *bad_column = -1;
        return tp_fail(reason, reasonlen, TP_ERR_INVALID, "expected %d fields, found %d",
                       map->nfields, nfields);
    }
    for (int c = 0; c < TP_COL_COUNT; c++) {
        assert(map->index[c] >= 0 && map->index[c] < nfields);
        f[c] = fields[map->index[c]];
    }
#define BAD(col, text)                                                                             \
    do {                                                                                           \
        bad = (col);                                                                               \
        why = (text);                                                                              \
        goto invalid;                                                                              \
    } while (0)

    snprintf(out->amc, sizeof out->amc, "%s", rules->amc);

    if (tp_member_check(f[TP_COL_MEMBER_NUMBER].ptr, f[TP_COL_MEMBER_NUMBER].len, NULL, 0) != TP_OK)
        BAD(TP_COL_MEMBER_NUMBER, "must be 1 to 20 characters, digits and capital letters");
    copy_field(out->member, f[TP_COL_MEMBER_NUMBER]);

    int32_t v = small_uint(f[TP_COL_RANK]);
    if (v < 1 || v > 99)
        BAD(TP_COL_RANK, "must be a whole number from 1 to 99");
    out->rank = v;

    int q = tp_quality_parse(f[TP_COL_QUALITY].ptr, f[TP_COL_QUALITY].len);
    if (q < 0)
        BAD(TP_COL_QUALITY, "must be MEMBER, SPOUSE, CHILD or OTHER");
    out->quality = (enum tp_quality)q;

    if ((why = name_problem(f[TP_COL_LAST_NAME])) != NULL)
        BAD(TP_COL_LAST_NAME, why);
    copy_field(out->id.last_name, f[TP_COL_LAST_NAME]);
    if ((why = name_problem(f[TP_COL_FIRST_NAME])) != NULL)
        BAD(TP_COL_FIRST_NAME, why);
    copy_field(out->id.first_name, f[TP_COL_FIRST_NAME]);

    if (tp_date_parse(f[TP_COL_BIRTH_DATE].ptr, f[TP_COL_BIRTH_DATE].len, &out->id.birth_date) !=
        TP_OK)
        BAD(TP_COL_BIRTH_DATE, "must be a date YYYY-MM-DD between 1900 and 2099");
    if (out->id.birth_date > rules->today)
        BAD(TP_COL_BIRTH_DATE, "is in the future");

    v = small_uint(f[TP_COL_BIRTH_RANK]);
    if (v < 1 || v > 9)
        BAD(TP_COL_BIRTH_RANK, "must be a whole number from 1 to 9");
    out->id.birth_rank = v;

    /* tp_nir_check's messages name the rule, never the value (validate.h). */
    if (tp_nir_check(f[TP_COL_NIR].ptr, f[TP_COL_NIR].len, vmsg, sizeof vmsg) != TP_OK)
        BAD(TP_COL_NIR, vmsg);
    copy_field(out->id.nir, f[TP_COL_NIR]);

    v = small_uint(f[TP_COL_NIR_OWN]);
    if (f[TP_COL_NIR_OWN].len != 1 || (v != 0 && v != 1))
        BAD(TP_COL_NIR_OWN, "must be 1 (own NIR) or 0 (attached to another's NIR)");
    out->nir_own = v;
    if (out->nir_own && !nir_matches_birth(out->id.nir, out->id.birth_date))
        BAD(TP_COL_NIR, "nir does not match birth date");

    if (f[TP_COL_CONTRACT].len == 0 || f[TP_COL_CONTRACT].len > TP_CODE_MAX - 1)
        BAD(TP_COL_CONTRACT, "must be a contract code of 1 to 16 characters");
    if (!contract_known(rules, f[TP_COL_CONTRACT]))
        BAD(TP_COL_CONTRACT, "is not a contract of this AMC");
    copy_field(out->contract, f[TP_COL_CONTRACT]);

    if (tp_date_parse(f[TP_COL_COVERAGE_START].ptr, f[TP_COL_COVERAGE_START].len,
                      &out->coverage_start) != TP_OK)
        BAD(TP_COL_COVERAGE_START, "must be a date YYYY-MM-DD between 1900 and 2099");
    if (tp_date_parse(f[TP_COL_COVERAGE_END].ptr, f[TP_COL_COVERAGE_END].len, &out->coverage_end) !=
        TP_OK)
        BAD(TP_COL_COVERAGE_END, "must be a date YYYY-MM-DD between 1900 and 2099");
    if (out->coverage_end < out->coverage_start)
        BAD(TP_COL_COVERAGE_END, "is before coverage_start");

    int64_t mask = tp_domain_mask_parse(f[TP_COL_TP_DOMAINS].ptr, f[TP_COL_TP_DOMAINS].len);
    if (mask < 0)
        BAD(TP_COL_TP_DOMAINS, "must be care domain names separated by '|' (PHARMACIE|OPTIQUE...)");
    out->tp_domains = (uint32_t)mask;
    return TP_OK;
#undef BAD

invalid:
    *bad_column = bad;
    /* Nothing half-filled leaks out: the caller gets either a whole valid row or nothing. */
    memset(out, 0, sizeof *out);
    return tp_fail(reason, reasonlen, TP_ERR_INVALID, "%s", why);
}
