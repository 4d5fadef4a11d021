/* Claims and PECs in the store (PRODUCT §3.2, §3.3; docs/CLAIMS.md).
 *
 * Every claim and PEC operation runs INSIDE the group-commit writer's batch transaction, as
 * the `claim_op` of a write intent (store.h): the writer thread is the only one that writes,
 * so the benefits engine sees the current counters of the beneficiary and the counters it
 * consumes are written in the same transaction. Two concurrent claims against the last euros
 * of a ceiling are therefore serialized: the second one sees what the first consumed. Reads
 * (get, list) go the same way, because each of them appends an access event anyway, and they
 * then see a state consistent with every acknowledged write.
 *
 * An operation that fails on its input (unknown engagement, date out of coverage, a PEC of
 * another PS, an invoice number reused with other content...) sets op->err and op->code and
 * leaves nothing behind: each operation runs under its own SAVEPOINT, rolled back on error,
 * so it never fails the other intents of its batch.
 *
 * Ownership: an operation carries the caller's PS; a claim or PEC of another PS answers
 * exactly like one that does not exist (TP_ERR_NOT_FOUND, "not_found"). Operator reads set
 * any_ps.
 *
 * Thread-safety: tp_claims_set_refdata once at start-up, before the first operation; the
 * rest runs on the writer thread. */
#ifndef TP_STORE_CLAIMS_H
#define TP_STORE_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/benefits.h"
#include "core/date.h"
#include "core/domain.h"
#include "core/err.h"
#include "core/refdata.h"
#include "core/rights.h"

#define TP_INVOICE_MAX 33      /* PS invoice number: 1-32 of [A-Za-z0-9_-/.] + NUL */
#define TP_PEC_NUMBER_LEN 17   /* same shape as an engagement number */
#define TP_CLAIMS_PAGE_MAX 100 /* claims per page of a listing */
#define TP_PEC_VALIDITY_MONTHS 3

enum tp_claim_op_kind {
    TP_COP_CLAIM_SUBMIT = 1,
    TP_COP_CLAIM_GET,
    TP_COP_CLAIM_LIST,
    TP_COP_CLAIM_CANCEL,
    TP_COP_PEC_SUBMIT,
    TP_COP_PEC_GET,
    TP_COP_PEC_CANCEL,
    TP_COP_CONTRACT_VERSION_PUT,
};

/* A claim or a PEC as stored, with the engine's per-line results. */
struct tp_claim_record {
    int64_t id;
    int64_t ps_id;
    int is_pec;
    char invoice[TP_INVOICE_MAX];           /* claim */
    char number[TP_PEC_NUMBER_LEN + 1];     /* PEC */
    char status[20];                        /* claim: accepted|rejected|cancelled|paid;
                                             * PEC: accepted|partially_accepted|refused|
                                             * cancelled|used|expired */
    char amc[10];                           /* AMC number of the beneficiary */
    char engagement[TP_ENGAGEMENT_LEN + 1]; /* "" when none */
    char pec[TP_PEC_NUMBER_LEN + 1];        /* claim: the PEC it references, "" */
    tp_day date;                            /* date of care (claim) or of the quote (PEC) */
    tp_day valid_until;                     /* PEC */
    int domain;                             /* PEC: enum tp_domain */
    int64_t submitted_ms;
    int64_t total_cents, amo_cents, amc_cents, patient_cents;
    uint32_t reasons;    /* union of the lines' reason bits */
    int64_t payment_run; /* 0: not in a payment run */
    int n_lines;
    struct tp_claim_line lines[TP_CLAIM_LINES_MAX];
    struct tp_line_result results[TP_CLAIM_LINES_MAX];
};

/* One row of a listing. */
struct tp_claim_summary {
    int64_t id;
    char invoice[TP_INVOICE_MAX];
    char status[12];
    tp_day date;
    int64_t submitted_ms;
    int64_t total_cents, amc_cents;
};

/* One operation, with its input and its output. The caller owns it (it is large: allocate it
 * on the heap) until the intent's done() has run. */
struct tp_claim_op {
    enum tp_claim_op_kind kind;
    int64_t ps_id; /* the caller's PS; 0 for platform staff */
    int any_ps;    /* operator read: objects of every PS */
    int64_t now_ms;
    tp_day today;

    /* Submit (claim or PEC): the beneficiary by engagement number (resolved here) or by the
     * id the handler found from card data (beneficiary_id > 0). */
    char engagement[TP_ENGAGEMENT_LEN + 1];
    int64_t beneficiary_id;
    char invoice[TP_INVOICE_MAX];    /* claim: the idempotency key */
    char pec[TP_PEC_NUMBER_LEN + 1]; /* claim: optional PEC; PEC submit: the new number */
    int domain;                      /* PEC submit: enum tp_domain of the quote */
    int validity_months;             /* PEC submit: 1..12, 0 = TP_PEC_VALIDITY_MONTHS */
    tp_day date;                     /* date of care / of the quote */
    int age;                         /* beneficiary's age on `date`, -1 unknown (adult) */
    uint8_t pf_exempt;
    int n_lines;
    struct tp_claim_line lines[TP_CLAIM_LINES_MAX];

    /* Get / cancel: the object's id. List: claims with id < before (0: from the newest),
     * at most limit (1..TP_CLAIMS_PAGE_MAX). */
    int64_t id;
    int64_t before;
    int limit;

    /* Contract version put (demo, back office, tests). The text is copied by the caller and
     * must outlive the operation. */
    int64_t contract_id;
    tp_day valid_from;
    const char *text;
    size_t text_len;

    /* Output. err TP_OK: rec (or list) is filled. Otherwise code names the error for the API
     * (docs/CLAIMS.md "Error codes") and msg explains it. */
    enum tp_err err;
    char code[32];
    char msg[192];
    int replayed; /* the same invoice with the same content: the stored claim, unchanged */
    struct tp_claim_record rec;
    int n_list;
    int64_t next_before; /* cursor of the next page, 0 when this was the last */
    struct tp_claim_summary list[TP_CLAIMS_PAGE_MAX];
};

/* The reference data every computation uses (read-only, outlives the store). Must be set
 * before the first submit; a submit without it fails with TP_ERR_INTERNAL. */
void tp_claims_set_refdata(const struct tp_refdata *rd);
const struct tp_refdata *tp_claims_refdata(void);

/* Loads data/reference/<name> files (every *.txt of dir) into a new refdata (heap, ~100 KiB).
 * TP_ERR_IO / TP_ERR_INVALID with msg naming the file and line. */
enum tp_err tp_claims_refdata_load(const char *dir, struct tp_refdata **out, char *msg,
                                   size_t msglen) TP_MUST_USE;

/* Runs op through the group commit and waits until it is durable (CLI, demo, tests; the
 * server uses tp_store_submit with wi->claim_op and a done callback). Returns the store's
 * result (TP_OK when the batch committed); the operation's own outcome is op->err. */
struct tp_store;
enum tp_err tp_claims_run(struct tp_store *s, struct tp_claim_op *op) TP_MUST_USE;

/* Stable names. */
const char *tp_line_status_name(enum tp_line_status st);

/* ---- for the SQLite backend only (store_sqlite.c) ---------------------------------------- */
struct sqlite3;
struct tp_write_intent;
/* Runs wi->claim_op on the writer connection, inside the batch's transaction; fills the
 * intent's access event (beneficiary reference, AMC, outcome, fields). Returns an error only
 * for a storage failure (the batch then fails); input errors go to op->err. *state is the
 * module's per-connection state (prepared statements, guarantee cache), created on first
 * use. */
enum tp_err tp_claims_sqlite_apply(struct sqlite3 *db, void **state, struct tp_write_intent *wi);
/* Frees *state (finalizes its statements) before the connection closes. */
void tp_claims_sqlite_free(void *state);

#endif
