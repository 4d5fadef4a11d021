/* Payment runs and advances in the store (docs/PAYMENTS.md, "Payment runs").
 *
 * A run pays every accepted, unpaid claim exactly once, even when the process is killed at
 * any point and started again:
 *
 *   phase 1 (tp_pay_prepare, one transaction): create the run ('building'), assign the claims
 *           (claim.payment_run = run) and the advances granted since the last run, compute
 *           per PS the gross, the advance deduction (tp_advance_reconcile) and the transfer,
 *           per AMC the statement lines; copy the bank details and names the files will show.
 *           If a run is already 'building', nothing is assigned: that run is resumed.
 *   phase 2 (pay_run.c, tp_pay_run_files): the files, written from these rows only into
 *           <out>/<msg_id>.tmp, synced, renamed to <out>/<msg_id>. Same rows, same bytes.
 *   phase 3 (tp_pay_complete, one transaction): the run 'done', its claims 'paid'.
 *
 * Claims of a PS whose bank details or claim data the files cannot carry (IBAN failing mod 97,
 * a bad BIC, an invoice number outside the advice's character set) are not assigned: they stay
 * accepted and the run reports the PS as held.
 *
 * SQLite only: a connection of its own on the platform database (the store's writer is not
 * held for the seconds a large run takes). The claim table belongs to the claims module; if it
 * does not exist yet, there are no claims to pay. Not thread-safe: one struct tp_pay per
 * thread. Messages never name a person, an IBAN or an amount. */
#ifndef TP_STORE_PAY_H
#define TP_STORE_PAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "core/model.h"
#include "core/settlement.h"

struct tp_pay;

/* Opens a connection on an existing, migrated database (tp_store_open migrates). */
enum tp_err tp_pay_open(const char *db_path, struct tp_pay **out, char *msg,
                        size_t msglen) TP_MUST_USE;
void tp_pay_close(struct tp_pay *p);

/* The platform's paying account (the debtor of every transfer). */
struct tp_pay_account {
    char name[TP_TEXT_MAX];
    char iban[35];
    char bic[12];
};

/* Checks (IBAN mod 97, BIC, name in the SEPA set) and stores it; later runs use it. */
enum tp_err tp_pay_account_set(struct tp_pay *p, const struct tp_pay_account *a, char *msg,
                               size_t msglen) TP_MUST_USE;
/* TP_ERR_NOT_FOUND when none was set. */
enum tp_err tp_pay_account_get(struct tp_pay *p, struct tp_pay_account *a) TP_MUST_USE;

struct tp_pay_run_info {
    int64_t id;
    char msg_id[TP_SEPA_ID_MAX + 1]; /* "OPENTP-PAY-<id>", the pain.001 MsgId */
    int done;
    int64_t created_ms;
    tp_day execution_date;
    int64_t claims, claims_cents;      /* assigned claims and their AMC parts */
    int64_t held_ps;                   /* PS left out (bank details, claim data) */
    int64_t ps;                        /* PS with a transfer row */
    int64_t transfers, transfer_cents; /* SEPA transfers (claims net + advances) */
    int64_t deducted_cents, advances_cents;
};

/* Phase 1. Resumes the unfinished run if there is one (*resumed = 1, nothing assigned), else
 * creates one dated now_ms (CreDtTm), paying on exec_date, started by account_id (0: the
 * command line). TP_ERR_NOT_FOUND when there is nothing to pay (no claim, no advance);
 * TP_ERR_CONFLICT when no paying account is set; TP_ERR_INVALID for an accepted claim with a
 * negative AMC part. */
enum tp_err tp_pay_prepare(struct tp_pay *p, int64_t now_ms, tp_day exec_date, int64_t account_id,
                           struct tp_pay_run_info *out, int *resumed, char *msg,
                           size_t msglen) TP_MUST_USE;

/* Phase 3: marks the run done and its claims paid, in one transaction. Idempotent. */
enum tp_err tp_pay_complete(struct tp_pay *p, int64_t run, int64_t now_ms, char *msg,
                            size_t msglen) TP_MUST_USE;

enum tp_err tp_pay_run_get(struct tp_pay *p, int64_t run, struct tp_pay_run_info *out) TP_MUST_USE;

/* The last max runs, newest first. */
enum tp_err tp_pay_run_list(struct tp_pay *p, struct tp_pay_run_info *out, size_t max,
                            size_t *n) TP_MUST_USE;

/* --- reading a run back (phase 2) ------------------------------------------------------- */

/* One PS of a run, as phase 1 froze it. */
struct tp_pay_ps {
    int64_t ps_id;
    char ident[TP_SEPA_ID_MAX + 1];
    char name[TP_TEXT_MAX];
    char iban[35];
    char bic[12];
    struct tp_advance_recon recon;
    int64_t claims;
    int64_t advance_cents; /* advances paid by this run */
};

/* Calls fn once per PS of the run, in PS order, with its claims (AMC part > 0) in claim
 * order; the arrays live until fn returns. A non-OK return from fn stops and is returned. */
typedef enum tp_err (*tp_pay_ps_fn)(void *ctx, const struct tp_pay_ps *ps,
                                    const struct tp_paid_claim *c, size_t n);
enum tp_err tp_pay_each_ps(struct tp_pay *p, int64_t run, tp_pay_ps_fn fn, void *ctx, char *msg,
                           size_t msglen) TP_MUST_USE;

/* Calls fn once per AMC of the run (AMC order) with its statement lines (PS order). */
typedef enum tp_err (*tp_pay_statement_fn)(void *ctx, const struct tp_statement_head *h,
                                           const struct tp_statement_line *l, size_t n);
enum tp_err tp_pay_each_statement(struct tp_pay *p, int64_t run, tp_pay_statement_fn fn, void *ctx,
                                  char *msg, size_t msglen) TP_MUST_USE;

/* The run's SEPA header (debtor as copied at phase 1). Strings live in *p until the next
 * call. */
enum tp_err tp_pay_sepa_header(struct tp_pay *p, int64_t run, struct tp_sepa_header *h, char *msg,
                               size_t msglen) TP_MUST_USE;

/* --- advances (acomptes) ----------------------------------------------------------------- */

struct tp_pay_advance_view {
    int64_t ps_id;
    int64_t paid_in_window_cents; /* gross of the PS in done runs of the policy's window */
    int64_t outstanding_cents;    /* advances granted minus what runs deducted so far */
    int64_t proposed_cents;       /* tp_advance_propose */
};

/* What tp_advance_propose says for a PS now. TP_ERR_NOT_FOUND for an unknown PS. */
enum tp_err tp_pay_advance_propose(struct tp_pay *p, int64_t ps_id,
                                   const struct tp_advance_policy *pol, int64_t now_ms,
                                   struct tp_pay_advance_view *out, char *msg,
                                   size_t msglen) TP_MUST_USE;

/* Grants an advance to a PS: amount_cents (1..TP_SEPA_AMOUNT_MAX), or the proposal when 0.
 * The next run pays it (a transfer of its own) and later runs deduct it. TP_ERR_NOT_FOUND for
 * an unknown PS, TP_ERR_CONFLICT when the proposal is zero and no amount is given,
 * TP_ERR_INVALID when the PS's bank details cannot be paid. */
enum tp_err tp_pay_advance_grant(struct tp_pay *p, int64_t ps_id, int64_t amount_cents,
                                 const struct tp_advance_policy *pol, int64_t now_ms,
                                 int64_t account_id, int64_t *advance_id,
                                 struct tp_pay_advance_view *view, int64_t *granted_cents,
                                 char *msg, size_t msglen) TP_MUST_USE;

/* --- the whole run (pay_run.c) ----------------------------------------------------------- */

struct tp_pay_options {
    const char *out_dir;    /* runs go to out_dir/<msg_id>/ (created 0700) */
    int64_t now_ms;         /* creation time of a new run */
    tp_day execution_date;  /* requested execution date of a new run */
    int64_t account_id;     /* who started it; 0 = command line */
    unsigned slow_for_test; /* ms slept after each phase (the kill tests); 0 in production */
};

/* The run lock: an flock on out_dir/.lock (out_dir created 0700 if needed), so that one run
 * at a time goes, from any process or thread. TP_ERR_BUSY when another holds it. *fd is the
 * lock; tp_pay_unlock releases it. */
enum tp_err tp_pay_lock(const char *out_dir, int *fd, char *msg, size_t msglen) TP_MUST_USE;
void tp_pay_unlock(int fd);

/* Phases 1 to 3; the caller holds the lock. Returns TP_ERR_NOT_FOUND when there was nothing
 * to pay. */
enum tp_err tp_pay_run_locked(struct tp_pay *p, const struct tp_pay_options *o,
                              struct tp_pay_run_info *out, int *resumed, char *msg,
                              size_t msglen) TP_MUST_USE;

/* tp_pay_lock + tp_pay_run_locked + tp_pay_unlock. */
enum tp_err tp_pay_run(struct tp_pay *p, const struct tp_pay_options *o,
                       struct tp_pay_run_info *out, int *resumed, char *msg,
                       size_t msglen) TP_MUST_USE;

/* Phase 2 alone: writes the files of a prepared run into out_dir/<msg_id>/ (nothing to do when
 * that folder exists: it was renamed there complete). */
enum tp_err tp_pay_run_files(struct tp_pay *p, const struct tp_pay_run_info *run,
                             const char *out_dir, unsigned slow_for_test, char *msg,
                             size_t msglen) TP_MUST_USE;

#endif
