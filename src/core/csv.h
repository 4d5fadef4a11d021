/* CSV (RFC 4180) records, and the insurer's beneficiary file on top of them.
 *
 * Pure: no I/O, no allocation. The parser is a byte-at-a-time state machine fed with chunks
 * of any size (a whole file, 1 MiB blocks, single bytes: the records are the same), so the
 * shell reads a file of any size with a fixed buffer. Every size the file controls is capped:
 * a record longer than TP_CSV_RECORD_MAX bytes or with more than TP_CSV_FIELDS_MAX fields is
 * reported as one error record and parsing goes on with the next line.
 *
 * The beneficiary columns (docs/IMPORT.md) are located by header name, then each row is
 * validated into a struct tp_beneficiary. Error reasons are fixed texts naming the rule that
 * failed; they never contain a value read from the file (the file holds names and NIRs). */
#ifndef TP_CORE_CSV_H
#define TP_CORE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "core/model.h"

#define TP_CSV_RECORD_MAX 4096 /* bytes of one record, quotes and embedded newlines included */
#define TP_CSV_FIELDS_MAX 32

/* A field: a view into the parser's record buffer, unescaped ("" -> "), not NUL-terminated. */
struct tp_csv_field {
    const char *ptr;
    size_t len;
};

/* A complete record. `fields` point into the parser and stay valid until its next call. */
struct tp_csv_record {
    uint64_t line; /* physical line (1-based) where the record starts */
    int nfields;
    struct tp_csv_field fields[TP_CSV_FIELDS_MAX];
    const char *error; /* TP_CSV_ERROR: a static, input-free reason; NULL otherwise */
};

enum tp_csv_status {
    TP_CSV_NEED_MORE = 0, /* the chunk is used up: feed the next one (or call tp_csv_finish) */
    TP_CSV_RECORD,        /* *out holds a record */
    TP_CSV_ERROR          /* *out->line and out->error describe a malformed record */
};

/* Parser state. Opaque in spirit; a plain struct so that it can live on the stack or in an
 * arena (about 4.5 KiB). */
struct tp_csv {
    int state;
    int err_skip_line; /* after an overflow: skip to the next LF, quotes ignored */
    const char *error; /* first error of the current record */
    uint64_t line;     /* current physical line */
    uint64_t record_line;
    size_t raw;  /* bytes of the current record so far */
    size_t len;  /* bytes used in buf */
    int nfields; /* completed fields of the current record */
    size_t start[TP_CSV_FIELDS_MAX];
    size_t end[TP_CSV_FIELDS_MAX];
    int at_file_start; /* to drop a UTF-8 byte order mark */
    int bom_seen;
    char buf[TP_CSV_RECORD_MAX];
};

void tp_csv_init(struct tp_csv *p);

/* Consumes bytes of data[0, len) until a record is complete (TP_CSV_RECORD or TP_CSV_ERROR,
 * with *used the bytes consumed: call again with the rest) or the chunk is used up
 * (TP_CSV_NEED_MORE, *used == len). Empty lines are skipped; LF and CRLF both end a record,
 * inside quotes they are data. A UTF-8 byte order mark at the very start is dropped. */
enum tp_csv_status tp_csv_feed(struct tp_csv *p, const char *data, size_t len, size_t *used,
                               struct tp_csv_record *out);

/* End of input: yields the last record if it had no line break after it (TP_CSV_RECORD or
 * TP_CSV_ERROR, e.g. an unterminated quoted field), else TP_CSV_NEED_MORE meaning "no more
 * records". The parser is then ready for a new input. */
enum tp_csv_status tp_csv_finish(struct tp_csv *p, struct tp_csv_record *out);

/* ---- The beneficiary file ------------------------------------------------------------------ */

/* Columns of the beneficiary file, all required (docs/IMPORT.md describes each). */
enum tp_ben_col {
    TP_COL_MEMBER_NUMBER = 0,
    TP_COL_RANK,
    TP_COL_QUALITY,
    TP_COL_LAST_NAME,
    TP_COL_FIRST_NAME,
    TP_COL_BIRTH_DATE,
    TP_COL_BIRTH_RANK,
    TP_COL_NIR,
    TP_COL_NIR_OWN,
    TP_COL_CONTRACT,
    TP_COL_COVERAGE_START,
    TP_COL_COVERAGE_END,
    TP_COL_TP_DOMAINS,
    TP_COL_COUNT
};

/* Header name of a column ("member_number", ...). */
const char *tp_ben_col_name(enum tp_ben_col c);

/* Where each column is in the file's records. */
struct tp_ben_header {
    int index[TP_COL_COUNT]; /* field index of each column */
    int nfields;             /* every row must have exactly this many fields */
};

/* Reads the header record: names are matched without regard to case or surrounding spaces, in
 * any order. Unknown, duplicate and missing columns are errors, all listed in msg; an unknown
 * name is quoted only when it looks like a column name (letters, digits, '_', '-', at most 32
 * bytes), otherwise given by position, so that a data line mistaken for a header is never
 * echoed. */
enum tp_err tp_ben_header_parse(const struct tp_csv_field *fields, int nfields,
                                struct tp_ben_header *out, char *msg, size_t msglen) TP_MUST_USE;

/* What a row is checked against. */
struct tp_ben_rules {
    const char *amc;                      /* AMC number, copied into every beneficiary */
    tp_day today;                         /* birth dates after it are refused */
    const char (*contracts)[TP_CODE_MAX]; /* the AMC's contract codes */
    size_t ncontracts;
};

/* Validates one data record (its fields) into *out. On TP_ERR_INVALID, *bad_column is the offending
 * enum tp_ben_col, or -1 when the record as a whole is at fault (wrong number of fields), and
 * reason holds a fixed text ("must be a date YYYY-MM-DD", "nir does not match birth date").
 * Rules: docs/IMPORT.md. */
enum tp_err tp_beneficiary_from_csv(const struct tp_csv_field *fields, int nfields,
                                    const struct tp_ben_header *map,
                                    const struct tp_ben_rules *rules, struct tp_beneficiary *out,
                                    int *bad_column, char *reason, size_t reasonlen) TP_MUST_USE;

#endif
