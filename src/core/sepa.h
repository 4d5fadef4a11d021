/* SEPA credit transfer file: ISO 20022 pain.001.001.03 (docs/PAYMENTS.md).
 *
 * Pure: no I/O, no clock, no allocation. The document goes out through a caller-supplied
 * write callback in chunks of at most TP_SEPA_CHUNK bytes, so a file of a million transfers
 * never sits in memory: the writer keeps one fixed buffer and two counters.
 *
 * Two ways in:
 *   - tp_sepa_write(): the transfers are an array. A first pass validates every transfer
 *     and computes NbOfTxs / CtrlSum; nothing is written unless all of them are valid.
 *   - tp_sepa_begin() / tp_sepa_add() / tp_sepa_end(): the transfers come one by one (from a
 *     database cursor, say). The caller announces the count and control sum up front (a
 *     SELECT count(*), sum(...) over the same rows); tp_sepa_end() refuses when what was
 *     written does not match. On any error the output written so far must be discarded.
 *
 * The document holds one PmtInf (one debtor account, one requested execution date),
 * payment method TRF, service level SEPA, charge bearer SLEV, currency EUR. Text is reduced
 * to the SEPA basic Latin character set (EPC "SEPA Requirements for an Extended Character
 * Set", basic set: a-z A-Z 0-9 / - ? : ( ) . , ' + space): accented letters lose their
 * accent (é -> e, Œ -> OE, ß -> ss), a few signs get a look-alike (& -> +, _ -> -), anything
 * else becomes a space. Names are cut at 70 characters and remittance text at 140;
 * identifiers (MsgId, EndToEndId) are refused rather than changed, since the bank returns
 * them unchanged for reconciliation. Messages never echo an IBAN, name or amount. */
#ifndef TP_CORE_SEPA_H
#define TP_CORE_SEPA_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"

/* Output: returns the number of bytes taken; anything short of len is a write failure
 * (reported as TP_ERR_IO). Called with len <= TP_SEPA_CHUNK. */
typedef size_t (*tp_write_fn)(void *ctx, const char *buf, size_t len);

/* A writer into a fixed buffer owned by the caller, for small documents (tests, a remittance
 * advice answered over HTTP). A write that does not fit takes nothing and sets `overflow`;
 * buf stays NUL-terminated when cap > 0. */
struct tp_sink {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
};
size_t tp_sink_write(void *sink, const char *buf, size_t len);

#define TP_SEPA_ID_MAX 35        /* MsgId, PmtInfId, EndToEndId (Max35Text) */
#define TP_SEPA_NAME_MAX 70      /* Nm (EPC: 70 characters) */
#define TP_SEPA_RMT_MAX 140      /* RmtInf/Ustrd (Max140Text) */
#define TP_SEPA_TEXT_IN_MAX 1024 /* bytes of UTF-8 accepted for a name or remittance text */
/* EPC rulebook: a SEPA credit transfer is 0.01 to 999,999,999.99 EUR. */
#define TP_SEPA_AMOUNT_MAX INT64_C(99999999999)
/* CtrlSum is a DecimalNumber (18 digits in all): 9,999,999,999,999,999.99 EUR at most. */
#define TP_SEPA_SUM_MAX INT64_C(999999999999999999)
#define TP_SEPA_CHUNK 8192

/* The paying account (the platform) and the run. */
struct tp_sepa_header {
    const char *msg_id;      /* 1-35 characters of the SEPA set, unique per file; also PmtInfId */
    int64_t created_unix;    /* CreDtTm, seconds since 1970-01-01 UTC, written with a Z */
    tp_day execution_date;   /* ReqdExctnDt */
    const char *debtor_name; /* UTF-8, transliterated, cut at 70 */
    const char *debtor_iban; /* canonical form (no spaces), mod 97 checked */
    const char *debtor_bic;  /* 8 or 11 characters, required */
};

/* One credit transfer to a PS. */
struct tp_sepa_transfer {
    const char *name;       /* creditor name, UTF-8, transliterated, cut at 70 */
    const char *iban;       /* canonical form, mod 97 checked */
    const char *bic;        /* 8 or 11 characters; NULL or "" when unknown (CdtrAgt omitted,
                               allowed by the EPC rulebook since 2016) */
    int64_t amount_cents;   /* 1 .. TP_SEPA_AMOUNT_MAX */
    const char *end_to_end; /* 1-35 characters of the SEPA set, returned by the PS's bank */
    const char *remittance; /* UTF-8, transliterated, cut at 140; NULL or "" for none */
};

/* Streaming writer state: caller-owned (a local variable will do), O(1) in the number of
 * transfers. Fields are private to sepa.c. */
struct tp_sepa_writer {
    tp_write_fn write;
    void *ctx;
    uint64_t announced_n, written_n;
    int64_t announced_sum, written_sum;
    int failed; /* an error happened: every later call fails */
    size_t len;
    char buf[TP_SEPA_CHUNK];
};

/* Validates every transfer and writes the whole document. *n_out / *sum_out (either may be
 * NULL) receive NbOfTxs and CtrlSum. Errors: TP_ERR_INVALID (bad header or transfer: the
 * message names the field and the transfer's index; nothing written), TP_ERR_TOO_BIG (the
 * control sum exceeds TP_SEPA_SUM_MAX), TP_ERR_IO (the writer took less than given). n == 0
 * is refused (a pain.001 holds at least one transfer). */
enum tp_err tp_sepa_write(const struct tp_sepa_header *h, const struct tp_sepa_transfer *t,
                          size_t n, tp_write_fn write, void *ctx, uint64_t *n_out, int64_t *sum_out,
                          char *msg, size_t msglen) TP_MUST_USE;

/* Checks one transfer as tp_sepa_add() would, without writing. */
enum tp_err tp_sepa_transfer_check(const struct tp_sepa_transfer *t, char *msg,
                                   size_t msglen) TP_MUST_USE;

/* Starts a document announcing n transfers summing to sum_cents, and writes everything up
 * to the first transfer. The header strings need only live for this call. */
enum tp_err tp_sepa_begin(struct tp_sepa_writer *w, const struct tp_sepa_header *h, uint64_t n,
                          int64_t sum_cents, tp_write_fn write, void *ctx, char *msg,
                          size_t msglen) TP_MUST_USE;

/* Validates and writes one transfer. TP_ERR_INVALID for a bad transfer or one more than
 * announced, TP_ERR_IO on a short write. */
enum tp_err tp_sepa_add(struct tp_sepa_writer *w, const struct tp_sepa_transfer *t, char *msg,
                        size_t msglen) TP_MUST_USE;

/* Closes the document and flushes. TP_ERR_INVALID when the count or the sum written differs
 * from what tp_sepa_begin() announced (the output is then not a valid file). */
enum tp_err tp_sepa_end(struct tp_sepa_writer *w, char *msg, size_t msglen) TP_MUST_USE;

/* Formats cents as a decimal with 2 fraction digits and a '.' ("0.01", "1234.50",
 * "-0.10"); every int64 value fits in buf[24]. Returns the length written (NUL excluded). */
size_t tp_sepa_amount_format(int64_t cents, char buf[24]);

/* Reduces UTF-8 text to the SEPA basic set as described above: transliterates, turns other
 * characters into spaces, collapses runs of spaces, trims, and cuts at max characters
 * (max < outlen). TP_ERR_INVALID when in is not valid UTF-8, is longer than
 * TP_SEPA_TEXT_IN_MAX bytes, or has no character left. */
enum tp_err tp_sepa_text(const char *in, size_t max, char *out, size_t outlen, char *msg,
                         size_t msglen) TP_MUST_USE;

/* An identifier the bank carries end to end: 1-35 characters of the SEPA set, not starting
 * or ending with '/', without "//" (EPC implementation guidelines). */
enum tp_err tp_sepa_id_check(const char *s, char *msg, size_t msglen) TP_MUST_USE;

#endif
