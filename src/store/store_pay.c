/* Payment runs and advances on SQLite (store/pay.h, docs/PAYMENTS.md "Payment runs").
 *
 * One connection of its own, synchronous = FULL: a run's two transactions are durable when
 * they return, so what phase 2 writes is always backed by a committed assignment, and a claim
 * is 'paid' only once its run's files are on disk. All SQL uses bound parameters. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sepa.h"
#include "core/validate.h"
#include "store/pay.h"

#define MS_PER_DAY INT64_C(86400000)

struct tp_pay {
    sqlite3 *db;
    int has_claims; /* the claim table exists */
    /* tp_pay_sepa_header's strings */
    char msg_id[TP_SEPA_ID_MAX + 1];
    char debtor_name[TP_TEXT_MAX], debtor_iban[35], debtor_bic[12];
};

static enum tp_err db_fail(struct tp_pay *p, const char *what, char *msg, size_t msglen)
{
    int code = sqlite3_errcode(p->db) & 0xff;
    enum tp_err e = code == SQLITE_BUSY || code == SQLITE_LOCKED ? TP_ERR_BUSY
                    : code == SQLITE_CONSTRAINT                  ? TP_ERR_CONFLICT
                                                                 : TP_ERR_IO;
    /* SQLite's text names the statement's problem, never the bound values. */
    return tp_fail(msg, msglen, e, "payment store: %s: %s", what, sqlite3_errmsg(p->db));
}

static int exec(struct tp_pay *p, const char *sql)
{
    return sqlite3_exec(p->db, sql, NULL, NULL, NULL);
}

static sqlite3_stmt *prep(struct tp_pay *p, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Runs a statement that returns at most one integer; *v = 0 when no row or NULL. */
static enum tp_err one_int(struct tp_pay *p, const char *sql, int64_t a, int64_t b, int64_t *v,
                           char *msg, size_t msglen)
{
    sqlite3_stmt *st = prep(p, sql);
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int r = sqlite3_step(st);
    *v = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return db_fail(p, "query", msg, msglen);
    return TP_OK;
}

/* Runs a statement without result rows, binding up to three integers. */
static enum tp_err run3(struct tp_pay *p, const char *sql, int64_t a, int64_t b, int64_t c,
                        char *msg, size_t msglen)
{
    sqlite3_stmt *st = prep(p, sql);
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_int64(st, 3, c);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW)
        return db_fail(p, "write", msg, msglen);
    return TP_OK;
}

static int busy_wait(void *arg, int count)
{
    (void)arg;
    if (count > 30000)
        return 0; /* ~30 s: the store's writer holds the lock a few ms at a time */
    sqlite3_sleep(1);
    return 1;
}

enum tp_err tp_pay_open(const char *db_path, struct tp_pay **out, char *msg, size_t msglen)
{
    struct tp_pay *p = calloc(1, sizeof *p);
    if (!p)
        return TP_ERR_NOMEM;
    if (sqlite3_open_v2(db_path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        tp_pay_close(p);
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open the database for payments");
    }
    sqlite3_busy_handler(p->db, busy_wait, NULL);
    exec(p, "PRAGMA foreign_keys = ON");
    exec(p, "PRAGMA synchronous = FULL");
    /* A million-claim run sorts and groups in temporary b-trees: memory, not a temp file.
     * It rewrites every claim row twice (assigned, then paid): a 256 MiB page cache holds the
     * claim table of such a run (200 MB), which took the run from 33 s to 29 s
     * (docs/PAYMENTS.md; peak RSS 320 MB). */
    exec(p, "PRAGMA temp_store = MEMORY");
    exec(p, "PRAGMA cache_size = -262144");
    int64_t v = 0;
    enum tp_err rc = one_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'payment_run'", 0,
                             0, &v, msg, msglen);
    if (rc == TP_OK && v == 0)
        rc = tp_fail(msg, msglen, TP_ERR_INVALID, "the database has no payment tables (migrate)");
    if (rc == TP_OK)
        rc =
            one_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'claim'",
                    0, 0, &v, msg, msglen);
    if (rc != TP_OK) {
        tp_pay_close(p);
        return rc;
    }
    p->has_claims = v > 0;
    if (p->has_claims) {
        /* Runs find the unpaid claims, and a run's claims, by (status, payment_run): the claims
         * module's own index, created here only for a schema without it. One index, not a second
         * one on payment_run: each would move for every claim of a run, twice (assignment, then
         * paid), and that cost 20 s of a million-claim run. */
        exec(p, "CREATE INDEX IF NOT EXISTS claim_status_run ON claim(status, payment_run)");
    }
    *out = p;
    return TP_OK;
}

void tp_pay_close(struct tp_pay *p)
{
    if (!p)
        return;
    sqlite3_close(p->db);
    free(p);
}

static enum tp_err begin(struct tp_pay *p, char *msg, size_t msglen)
{
    if (exec(p, "BEGIN IMMEDIATE") != SQLITE_OK)
        return db_fail(p, "begin", msg, msglen);
    return TP_OK;
}

static enum tp_err finish(struct tp_pay *p, enum tp_err rc, char *msg, size_t msglen)
{
    if (rc == TP_OK && exec(p, "COMMIT") == SQLITE_OK)
        return TP_OK;
    if (rc == TP_OK)
        rc = db_fail(p, "commit", msg, msglen);
    exec(p, "ROLLBACK");
    return rc;
}

/* --- the paying account ------------------------------------------------------------------ */

static enum tp_err account_check(const struct tp_pay_account *a, char *msg, size_t msglen)
{
    char why[96], text[TP_SEPA_NAME_MAX + 1];
    if (tp_iban_check(a->iban, strnlen(a->iban, sizeof a->iban), why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "paying account IBAN: %s", why);
    if (tp_bic_check(a->bic, strnlen(a->bic, sizeof a->bic), why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "paying account BIC: %s", why);
    if (tp_sepa_text(a->name, TP_SEPA_NAME_MAX, text, sizeof text, why, sizeof why) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "paying account name: %s", why);
    return TP_OK;
}

enum tp_err tp_pay_account_set(struct tp_pay *p, const struct tp_pay_account *a, char *msg,
                               size_t msglen)
{
    enum tp_err rc = account_check(a, msg, msglen);
    if (rc != TP_OK)
        return rc;
    sqlite3_stmt *st = prep(p, "INSERT INTO pay_account(id, name, iban, bic) VALUES (1, ?1, ?2, ?3)"
                               " ON CONFLICT(id) DO UPDATE SET name = ?1, iban = ?2, bic = ?3");
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->iban, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->bic, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? TP_OK : db_fail(p, "paying account", msg, msglen);
}

enum tp_err tp_pay_account_get(struct tp_pay *p, struct tp_pay_account *a)
{
    sqlite3_stmt *st = prep(p, "SELECT name, iban, bic FROM pay_account WHERE id = 1");
    if (!st)
        return TP_ERR_IO;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        copy_text(a->name, sizeof a->name, st, 0);
        copy_text(a->iban, sizeof a->iban, st, 1);
        copy_text(a->bic, sizeof a->bic, st, 2);
    }
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? TP_OK : r == SQLITE_DONE ? TP_ERR_NOT_FOUND : TP_ERR_IO;
}

/* --- runs ---------------------------------------------------------------------------------- */

#define RUN_COLUMNS                                                                                \
    "SELECT r.id, r.msg_id, r.status = 'done', r.created_ms, r.execution_date, r.claims,"          \
    " r.claims_cents, r.held_ps,"                                                                  \
    " (SELECT count(*) FROM pay_transfer t WHERE t.run_id = r.id),"                                \
    " (SELECT count(*) FILTER (WHERE net_cents > 0) + count(*) FILTER (WHERE advance_cents > 0)"   \
    "  FROM pay_transfer t WHERE t.run_id = r.id),"                                                \
    " (SELECT coalesce(sum(net_cents + advance_cents), 0) FROM pay_transfer t"                     \
    "  WHERE t.run_id = r.id),"                                                                    \
    " (SELECT coalesce(sum(deducted_cents), 0) FROM pay_transfer t WHERE t.run_id = r.id),"        \
    " (SELECT coalesce(sum(advance_cents), 0) FROM pay_transfer t WHERE t.run_id = r.id)"          \
    " FROM payment_run r "

static void read_run(sqlite3_stmt *st, struct tp_pay_run_info *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    copy_text(o->msg_id, sizeof o->msg_id, st, 1);
    o->done = sqlite3_column_int(st, 2);
    o->created_ms = sqlite3_column_int64(st, 3);
    o->execution_date = (tp_day)sqlite3_column_int(st, 4);
    o->claims = sqlite3_column_int64(st, 5);
    o->claims_cents = sqlite3_column_int64(st, 6);
    o->held_ps = sqlite3_column_int64(st, 7);
    o->ps = sqlite3_column_int64(st, 8);
    o->transfers = sqlite3_column_int64(st, 9);
    o->transfer_cents = sqlite3_column_int64(st, 10);
    o->deducted_cents = sqlite3_column_int64(st, 11);
    o->advances_cents = sqlite3_column_int64(st, 12);
}

enum tp_err tp_pay_run_get(struct tp_pay *p, int64_t run, struct tp_pay_run_info *out)
{
    sqlite3_stmt *st = prep(p, RUN_COLUMNS "WHERE r.id = ?1");
    if (!st)
        return TP_ERR_IO;
    sqlite3_bind_int64(st, 1, run);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_run(st, out);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? TP_OK : r == SQLITE_DONE ? TP_ERR_NOT_FOUND : TP_ERR_IO;
}

enum tp_err tp_pay_run_list(struct tp_pay *p, struct tp_pay_run_info *out, size_t max, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = prep(p, RUN_COLUMNS "ORDER BY r.id DESC LIMIT ?1");
    if (!st)
        return TP_ERR_IO;
    sqlite3_bind_int64(st, 1, (int64_t)max);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        read_run(st, &out[(*n)++]);
    sqlite3_finalize(st);
    return r == SQLITE_DONE || r == SQLITE_ROW ? TP_OK : TP_ERR_IO;
}

/* The SEPA identifiers of a run: MsgId (also PmtInfId). */
static void msg_id_of(int64_t run, char out[TP_SEPA_ID_MAX + 1])
{
    snprintf(out, TP_SEPA_ID_MAX + 1, "OPENTP-PAY-%06lld", (long long)run);
}

/* Can the files carry this PS? IBAN (mod 97), BIC if any, name, identifier as an id. */
static int ps_payable(sqlite3_stmt *ps)
{
    char ident[64], name[TP_TEXT_MAX], iban[64], bic[32], text[TP_SEPA_NAME_MAX + 1];
    copy_text(ident, sizeof ident, ps, 1);
    copy_text(name, sizeof name, ps, 2);
    copy_text(iban, sizeof iban, ps, 3);
    copy_text(bic, sizeof bic, ps, 4);
    if (tp_iban_check(iban, strlen(iban), NULL, 0) != TP_OK)
        return 0;
    if (bic[0] && tp_bic_check(bic, strlen(bic), NULL, 0) != TP_OK)
        return 0;
    if (tp_sepa_text(name, TP_SEPA_NAME_MAX, text, sizeof text, NULL, 0) != TP_OK)
        return 0;
    /* The EndToEndId is OTP<run>-<identifier>[-A] (pay_run.c): at most 21 characters here
     * leaves 8 digits for the run. */
    if (strlen(ident) > 21 || tp_sepa_id_check(ident, NULL, 0) != TP_OK)
        return 0;
    for (const char *c = ident; *c; c++)
        if (*c == ' ' || *c == '/')
            return 0; /* also a file name */
    return 1;
}

/* The set of AMC amounts of a PS over a window, for attributing its advances to AMCs. */
struct weights {
    size_t n;
    char amc[TP_SETTLE_AMC_MAX][10];
    int64_t w[TP_SETTLE_AMC_MAX];
};

static enum tp_err ps_weights(struct tp_pay *p, int64_t ps_id, int64_t run, int64_t since_ms,
                              struct weights *out, char *msg, size_t msglen)
{
    out->n = 0;
    sqlite3_stmt *st = prep(p, "SELECT l.amc, sum(l.amount_cents) FROM pay_line l"
                               " JOIN payment_run r ON r.id = l.run_id WHERE l.ps_id = ?1"
                               " AND (r.id = ?2 OR (r.status = 'done' AND r.created_ms >= ?3))"
                               " GROUP BY l.amc ORDER BY l.amc");
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_int64(st, 1, ps_id);
    sqlite3_bind_int64(st, 2, run);
    sqlite3_bind_int64(st, 3, since_ms);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && out->n < TP_SETTLE_AMC_MAX) {
        copy_text(out->amc[out->n], sizeof out->amc[0], st, 0);
        out->w[out->n++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW)
        return db_fail(p, "weights", msg, msglen);
    return TP_OK;
}

/* Per-AMC sums of the statement's informative lines. */
struct amc_sums {
    size_t n, cap;
    struct {
        char amc[10];
        int64_t granted, outstanding;
    } * v;
};

static enum tp_err amc_add(struct amc_sums *s, const char *amc, int64_t granted,
                           int64_t outstanding)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].amc, amc) == 0) {
            s->v[i].granted += granted;
            s->v[i].outstanding += outstanding;
            return TP_OK;
        }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *nv = realloc(s->v, cap * sizeof *s->v);
        if (!nv)
            return TP_ERR_NOMEM;
        s->v = nv;
        s->cap = cap;
    }
    snprintf(s->v[s->n].amc, sizeof s->v[0].amc, "%s", amc);
    s->v[s->n].granted = granted;
    s->v[s->n].outstanding = outstanding;
    s->n++;
    return TP_OK;
}

/* Spreads amount over the PS's AMCs in proportion to its volume with each (tp_settle_allocate);
 * a PS without volume in the window cannot be attributed and is left out of the statements. */
static enum tp_err attribute(struct tp_pay *p, struct amc_sums *sums, int64_t ps_id, int64_t run,
                             int64_t since_ms, int64_t amount, int outstanding, char *msg,
                             size_t msglen)
{
    static struct weights w; /* 2.5 KiB; callers are serialised by the run lock */
    if (amount <= 0)
        return TP_OK;
    enum tp_err rc = ps_weights(p, ps_id, run, since_ms, &w, msg, msglen);
    int64_t total = 0;
    for (size_t i = 0; rc == TP_OK && i < w.n; i++)
        total += w.w[i];
    if (rc != TP_OK || total <= 0)
        return rc;
    int64_t parts[TP_SETTLE_AMC_MAX];
    rc = tp_settle_allocate(amount, w.w, w.n, parts, msg, msglen);
    for (size_t i = 0; rc == TP_OK && i < w.n; i++)
        rc = amc_add(sums, w.amc[i], outstanding ? 0 : parts[i], outstanding ? parts[i] : 0);
    return rc;
}

/* Balance of advances of a PS before run `run`: advances paid by earlier runs minus what
 * earlier runs deducted. */
static enum tp_err balance_before(struct tp_pay *p, int64_t ps_id, int64_t run, int64_t *bal,
                                  char *msg, size_t msglen)
{
    int64_t paid = 0, deducted = 0;
    enum tp_err rc = one_int(p,
                             "SELECT coalesce(sum(amount_cents), 0) FROM advance"
                             " WHERE ps_id = ?1 AND paid_run < ?2",
                             ps_id, run, &paid, msg, msglen);
    if (rc == TP_OK)
        rc = one_int(p,
                     "SELECT coalesce(sum(deducted_cents), 0) FROM pay_transfer"
                     " WHERE ps_id = ?1 AND run_id < ?2",
                     ps_id, run, &deducted, msg, msglen);
    *bal = paid - deducted;
    if (rc == TP_OK && *bal < 0)
        rc = tp_fail(msg, msglen, TP_ERR_INTERNAL, "advance balance below zero");
    return rc;
}

/* The claims a run can take: accepted, not in a run. */
#define UNPAID "status = 'accepted' AND payment_run IS NULL"
/* Claims whose data the remittance advice cannot carry (settlement.h: invoice numbers of
 * [A-Za-z0-9./-] starting with a letter or digit, at most 35; a 9-digit AMC number). */
#define UNFIT                                                                                      \
    "(length(invoice) NOT BETWEEN 1 AND 35 OR invoice GLOB '*[^A-Za-z0-9./-]*'"                    \
    " OR substr(invoice, 1, 1) GLOB '[^A-Za-z0-9]' OR length(amc_number) != 9"                     \
    " OR amc_number GLOB '*[^0-9]*' OR amc_number = '000000000'"                                   \
    " OR date_of_care NOT BETWEEN -25567 AND 47481 OR amc_cents > 99999999999)"

static enum tp_err prepare_new(struct tp_pay *p, int64_t now_ms, tp_day exec_date,
                               int64_t account_id, int64_t *run_out, char *msg, size_t msglen)
{
    int64_t v = 0, run = 0;
    enum tp_err rc;
    if (p->has_claims) {
        rc = one_int(p, "SELECT count(*) FROM claim WHERE " UNPAID " AND amc_cents < 0", 0, 0, &v,
                     msg, msglen);
        if (rc != TP_OK)
            return rc;
        if (v > 0)
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "%lld accepted claims have a negative AMC part; nothing assigned",
                           (long long)v);
    }
    int64_t work = 0;
    rc =
        one_int(p, "SELECT count(*) FROM advance WHERE paid_run IS NULL", 0, 0, &work, msg, msglen);
    if (rc == TP_OK && p->has_claims && work == 0)
        rc = one_int(p, "SELECT EXISTS (SELECT 1 FROM claim WHERE " UNPAID ")", 0, 0, &work, msg,
                     msglen);
    if (rc != TP_OK)
        return rc;
    if (work == 0)
        return tp_fail(msg, msglen, TP_ERR_NOT_FOUND, "nothing to pay");
    struct tp_pay_account acct;
    rc = tp_pay_account_get(p, &acct);
    if (rc == TP_ERR_NOT_FOUND)
        return tp_fail(msg, msglen, TP_ERR_CONFLICT,
                       "no paying account is set (opentp pay account --name N --iban I --bic B)");
    if (rc != TP_OK)
        return db_fail(p, "paying account", msg, msglen);
    if ((rc = account_check(&acct, msg, msglen)) != TP_OK)
        return rc;

    /* The run. */
    sqlite3_stmt *st = prep(p, "INSERT INTO payment_run(msg_id, status, created_ms,"
                               " execution_date, account_id, debtor_name, debtor_iban, debtor_bic)"
                               " VALUES ('-', 'building', ?1, ?2, ?3, ?4, ?5, ?6) RETURNING id");
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int(st, 2, exec_date);
    if (account_id > 0)
        sqlite3_bind_int64(st, 3, account_id);
    sqlite3_bind_text(st, 4, acct.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, acct.iban, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, acct.bic, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        run = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (run <= 0)
        return db_fail(p, "new run", msg, msglen);
    char mid[TP_SEPA_ID_MAX + 1];
    msg_id_of(run, mid);
    st = prep(p, "UPDATE payment_run SET msg_id = ?2 WHERE id = ?1");
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, mid, -1, SQLITE_STATIC);
    r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE)
        return db_fail(p, "new run", msg, msglen);

    /* The PS with something to pay; those the files can carry get a transfer row with their
     * details as of now. */
    /* One pass over the unpaid claims, grouped per PS and AMC: what each PS is owed per AMC
     * (the run's lines) and whether any of its claims cannot go into an advice. The
     * transaction holds the write lock, so the claims cannot change before they are assigned
     * below. */
    rc = exec(p, "CREATE TEMP TABLE IF NOT EXISTS pay_agg(ps_id INTEGER NOT NULL,"
                 " amc TEXT NOT NULL, claims INTEGER NOT NULL, amount INTEGER NOT NULL,"
                 " unfit INTEGER NOT NULL)") == SQLITE_OK &&
                 exec(p, "CREATE TEMP TABLE IF NOT EXISTS pay_cand(ps_id INTEGER PRIMARY KEY,"
                         " unfit INTEGER NOT NULL)") == SQLITE_OK &&
                 exec(p, "DELETE FROM temp.pay_agg") == SQLITE_OK &&
                 exec(p, "DELETE FROM temp.pay_cand") == SQLITE_OK
             ? TP_OK
             : db_fail(p, "candidates", msg, msglen);
    if (rc == TP_OK && p->has_claims)
        rc = run3(p,
                  "INSERT INTO temp.pay_agg(ps_id, amc, claims, amount, unfit)"
                  " SELECT ps_id, amc_number, count(*) FILTER (WHERE amc_cents > 0),"
                  " coalesce(sum(amc_cents) FILTER (WHERE amc_cents > 0), 0), max(" UNFIT ")"
                  " FROM claim WHERE " UNPAID " GROUP BY ps_id, amc_number",
                  0, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "INSERT INTO temp.pay_cand(ps_id, unfit) SELECT ps_id, max(unfit)"
                  " FROM temp.pay_agg GROUP BY ps_id",
                  0, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "INSERT OR IGNORE INTO temp.pay_cand(ps_id, unfit)"
                  " SELECT ps_id, 0 FROM advance WHERE paid_run IS NULL",
                  0, 0, 0, msg, msglen);
    if (rc != TP_OK)
        return rc;
    const char *cand_sql = "SELECT p.id, p.identifier, p.name, p.iban, p.bic, c.unfit"
                           " FROM temp.pay_cand c JOIN ps p ON p.id = c.ps_id ORDER BY p.id";
    sqlite3_stmt *cand = prep(p, cand_sql);
    sqlite3_stmt *ins = prep(p, "INSERT INTO pay_transfer(run_id, ps_id, ps_ident, ps_name, iban,"
                                " bic) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!cand || !ins) {
        sqlite3_finalize(cand);
        sqlite3_finalize(ins);
        return db_fail(p, "prepare", msg, msglen);
    }
    int64_t held = 0;
    rc = TP_OK;
    while (rc == TP_OK && (r = sqlite3_step(cand)) == SQLITE_ROW) {
        if (!ps_payable(cand) || sqlite3_column_int(cand, 5)) {
            held++;
            continue;
        }
        sqlite3_bind_int64(ins, 1, run);
        sqlite3_bind_int64(ins, 2, sqlite3_column_int64(cand, 0));
        for (int i = 1; i <= 4; i++)
            sqlite3_bind_value(ins, i + 2, sqlite3_column_value(cand, i));
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = db_fail(p, "transfer row", msg, msglen);
        sqlite3_reset(ins);
    }
    if (rc == TP_OK && r != SQLITE_DONE)
        rc = db_fail(p, "candidates", msg, msglen);
    sqlite3_finalize(cand);
    sqlite3_finalize(ins);
    if (rc != TP_OK)
        return rc;

    /* Assign. */
    if (p->has_claims)
        rc = run3(p,
                  "UPDATE claim SET payment_run = ?1 WHERE " UNPAID " AND ps_id IN"
                  " (SELECT ps_id FROM pay_transfer WHERE run_id = ?1)",
                  run, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "UPDATE advance SET paid_run = ?1 WHERE paid_run IS NULL AND ps_id IN"
                  " (SELECT ps_id FROM pay_transfer WHERE run_id = ?1)",
                  run, 0, 0, msg, msglen);
    /* Per AMC and PS, then per PS. Claims with an AMC part of 0 are closed by the run but
     * appear in no file: nothing is paid or owed for them. */
    if (rc == TP_OK && p->has_claims)
        rc = run3(p,
                  "INSERT INTO pay_line(run_id, amc, ps_id, claims, amount_cents)"
                  " SELECT ?1, amc, ps_id, claims, amount FROM temp.pay_agg WHERE claims > 0"
                  " AND ps_id IN (SELECT ps_id FROM pay_transfer WHERE run_id = ?1)"
                  " ORDER BY amc, ps_id", /* the key's order: appends, not random inserts */
                  run, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "UPDATE pay_transfer SET claims = s.n, gross_cents = s.g, net_cents = s.g"
                  " FROM (SELECT ps_id, sum(claims) AS n, sum(amount_cents) AS g FROM pay_line"
                  "  WHERE run_id = ?1 GROUP BY ps_id) AS s"
                  " WHERE pay_transfer.run_id = ?1 AND pay_transfer.ps_id = s.ps_id",
                  run, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "UPDATE pay_transfer SET advance_cents = s.a FROM (SELECT ps_id,"
                  " sum(amount_cents) AS a FROM advance WHERE paid_run = ?1 GROUP BY ps_id) AS s"
                  " WHERE pay_transfer.run_id = ?1 AND pay_transfer.ps_id = s.ps_id",
                  run, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "DELETE FROM pay_transfer WHERE run_id = ?1 AND gross_cents = 0"
                  " AND advance_cents = 0",
                  run, 0, 0, msg, msglen);
    if (rc != TP_OK)
        return rc;

    /* Reconciliation of earlier advances, for the PS of this run that hold some. */
    sqlite3_stmt *hold = prep(p, "SELECT t.ps_id, t.gross_cents FROM pay_transfer t"
                                 " WHERE t.run_id = ?1 AND EXISTS (SELECT 1 FROM advance a"
                                 "  WHERE a.ps_id = t.ps_id AND a.paid_run < ?1)");
    sqlite3_stmt *upd = prep(p, "UPDATE pay_transfer SET deducted_cents = ?3, net_cents = ?4,"
                                " balance_before_cents = ?5, balance_after_cents = ?6"
                                " WHERE run_id = ?1 AND ps_id = ?2");
    sqlite3_stmt *lines = prep(p, "SELECT amc, amount_cents FROM pay_line"
                                  " WHERE run_id = ?1 AND ps_id = ?2 ORDER BY amc");
    sqlite3_stmt *lupd = prep(p, "UPDATE pay_line SET by_advance_cents = ?4"
                                 " WHERE run_id = ?1 AND ps_id = ?2 AND amc = ?3");
    if (!hold || !upd || !lines || !lupd)
        rc = db_fail(p, "prepare", msg, msglen);
    if (rc == TP_OK)
        sqlite3_bind_int64(hold, 1, run);
    while (rc == TP_OK && (r = sqlite3_step(hold)) == SQLITE_ROW) {
        int64_t ps_id = sqlite3_column_int64(hold, 0), gross = sqlite3_column_int64(hold, 1), bal;
        struct tp_advance_recon rec;
        rc = balance_before(p, ps_id, run, &bal, msg, msglen);
        if (rc == TP_OK)
            rc = tp_advance_reconcile(gross, bal, &rec, msg, msglen);
        if (rc != TP_OK)
            break;
        sqlite3_bind_int64(upd, 1, run);
        sqlite3_bind_int64(upd, 2, ps_id);
        sqlite3_bind_int64(upd, 3, rec.deducted_cents);
        sqlite3_bind_int64(upd, 4, rec.net_cents);
        sqlite3_bind_int64(upd, 5, rec.balance_before_cents);
        sqlite3_bind_int64(upd, 6, rec.balance_after_cents);
        if (sqlite3_step(upd) != SQLITE_DONE)
            rc = db_fail(p, "reconcile", msg, msglen);
        sqlite3_reset(upd);
        if (rc != TP_OK || rec.deducted_cents == 0)
            continue;
        /* Which AMCs' claims the deduction covered (settlement.h, tp_settle_split's rule). */
        static struct weights w;
        w.n = 0;
        sqlite3_bind_int64(lines, 1, run);
        sqlite3_bind_int64(lines, 2, ps_id);
        while (sqlite3_step(lines) == SQLITE_ROW && w.n < TP_SETTLE_AMC_MAX) {
            copy_text(w.amc[w.n], sizeof w.amc[0], lines, 0);
            w.w[w.n++] = sqlite3_column_int64(lines, 1);
        }
        sqlite3_reset(lines);
        int64_t parts[TP_SETTLE_AMC_MAX];
        rc = tp_settle_allocate(rec.deducted_cents, w.w, w.n, parts, msg, msglen);
        for (size_t i = 0; rc == TP_OK && i < w.n; i++) {
            sqlite3_bind_int64(lupd, 1, run);
            sqlite3_bind_int64(lupd, 2, ps_id);
            sqlite3_bind_text(lupd, 3, w.amc[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(lupd, 4, parts[i]);
            if (sqlite3_step(lupd) != SQLITE_DONE)
                rc = db_fail(p, "split", msg, msglen);
            sqlite3_reset(lupd);
        }
    }
    if (rc == TP_OK && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = db_fail(p, "reconcile", msg, msglen);
    sqlite3_finalize(hold);
    sqlite3_finalize(upd);
    sqlite3_finalize(lines);
    sqlite3_finalize(lupd);
    if (rc != TP_OK)
        return rc;

    /* Statements: every AMC with claims in the run, plus the advances granted (paid by this
     * run) and still outstanding after it, attributed over each PS's AMCs by its volume in the
     * policy window. */
    struct amc_sums sums = {0};
    const int64_t since = now_ms - (int64_t)TP_ADVANCE_POLICY_DEFAULT.window_days * MS_PER_DAY;
    sqlite3_stmt *adv = prep(p, "SELECT ps_id,"
                                " coalesce(sum(amount_cents) FILTER (WHERE paid_run = ?1), 0),"
                                " sum(amount_cents) - (SELECT coalesce(sum(deducted_cents), 0)"
                                "  FROM pay_transfer t WHERE t.ps_id = a.ps_id AND t.run_id <= ?1)"
                                " FROM advance a WHERE paid_run <= ?1 GROUP BY ps_id");
    if (!adv)
        rc = db_fail(p, "prepare", msg, msglen);
    else
        sqlite3_bind_int64(adv, 1, run);
    while (rc == TP_OK && (r = sqlite3_step(adv)) == SQLITE_ROW) {
        int64_t ps_id = sqlite3_column_int64(adv, 0);
        rc = attribute(p, &sums, ps_id, run, since, sqlite3_column_int64(adv, 1), 0, msg, msglen);
        if (rc == TP_OK)
            rc = attribute(p, &sums, ps_id, run, since, sqlite3_column_int64(adv, 2), 1, msg,
                           msglen);
    }
    sqlite3_finalize(adv);
    sqlite3_stmt *amcs = rc == TP_OK ? prep(p, "SELECT DISTINCT amc FROM pay_line"
                                               " WHERE run_id = ?1")
                                     : NULL;
    if (rc == TP_OK && !amcs)
        rc = db_fail(p, "prepare", msg, msglen);
    if (amcs) {
        sqlite3_bind_int64(amcs, 1, run);
        while (rc == TP_OK && sqlite3_step(amcs) == SQLITE_ROW)
            rc = amc_add(&sums, (const char *)sqlite3_column_text(amcs, 0), 0, 0);
        sqlite3_finalize(amcs);
    }
    sqlite3_stmt *sins = rc == TP_OK ? prep(p, "INSERT INTO pay_statement(run_id, amc, amc_name,"
                                               " granted_cents, outstanding_cents) VALUES (?1, ?2,"
                                               " coalesce((SELECT name FROM amc WHERE number = ?2),"
                                               " ?2), ?3, ?4)")
                                     : NULL;
    if (rc == TP_OK && !sins)
        rc = db_fail(p, "prepare", msg, msglen);
    for (size_t i = 0; rc == TP_OK && i < sums.n; i++) {
        sqlite3_bind_int64(sins, 1, run);
        sqlite3_bind_text(sins, 2, sums.v[i].amc, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sins, 3, sums.v[i].granted);
        sqlite3_bind_int64(sins, 4, sums.v[i].outstanding);
        if (sqlite3_step(sins) != SQLITE_DONE)
            rc = db_fail(p, "statement", msg, msglen);
        sqlite3_reset(sins);
    }
    sqlite3_finalize(sins);
    free(sums.v);
    if (rc != TP_OK)
        return rc;

    if (p->has_claims)
        rc = run3(p,
                  "UPDATE payment_run SET held_ps = ?2, claims = (SELECT count(*) FROM claim"
                  " WHERE status = 'accepted' AND payment_run = ?1), claims_cents = (SELECT "
                  "coalesce(sum(amount_cents), 0)"
                  " FROM pay_line WHERE run_id = ?1) WHERE id = ?1",
                  run, held, 0, msg, msglen);
    else
        rc =
            run3(p, "UPDATE payment_run SET held_ps = ?2 WHERE id = ?1", run, held, 0, msg, msglen);
    if (rc != TP_OK)
        return rc;
    int64_t n_ps = 0;
    rc = one_int(p, "SELECT count(*) FROM pay_transfer WHERE run_id = ?1", run, 0, &n_ps, msg,
                 msglen);
    if (rc == TP_OK && n_ps == 0)
        return tp_fail(msg, msglen, TP_ERR_NOT_FOUND,
                       "nothing to pay: %lld PS held (bank details or claim data)",
                       (long long)held);
    *run_out = run;
    return rc;
}

enum tp_err tp_pay_prepare(struct tp_pay *p, int64_t now_ms, tp_day exec_date, int64_t account_id,
                           struct tp_pay_run_info *out, int *resumed, char *msg, size_t msglen)
{
    *resumed = 0;
    enum tp_err rc = begin(p, msg, msglen);
    if (rc != TP_OK)
        return rc;
    int64_t run = 0;
    rc =
        one_int(p, "SELECT id FROM payment_run WHERE status = 'building'", 0, 0, &run, msg, msglen);
    if (rc == TP_OK && run > 0)
        *resumed = 1;
    else if (rc == TP_OK)
        rc = prepare_new(p, now_ms, exec_date, account_id, &run, msg, msglen);
    rc = finish(p, rc, msg, msglen);
    if (rc == TP_OK && tp_pay_run_get(p, run, out) != TP_OK)
        rc = db_fail(p, "run", msg, msglen);
    return rc;
}

enum tp_err tp_pay_complete(struct tp_pay *p, int64_t run, int64_t now_ms, char *msg, size_t msglen)
{
    enum tp_err rc = begin(p, msg, msglen);
    if (rc != TP_OK)
        return rc;
    if (p->has_claims)
        rc = run3(p,
                  "UPDATE claim SET status = 'paid' WHERE status = 'accepted' AND payment_run = ?1",
                  run, 0, 0, msg, msglen);
    if (rc == TP_OK)
        rc = run3(p,
                  "UPDATE payment_run SET status = 'done', done_ms = ?2"
                  " WHERE id = ?1 AND status = 'building'",
                  run, now_ms, 0, msg, msglen);
    return finish(p, rc, msg, msglen);
}

/* --- reading a run back ---------------------------------------------------------------------- */

enum tp_err tp_pay_sepa_header(struct tp_pay *p, int64_t run, struct tp_sepa_header *h, char *msg,
                               size_t msglen)
{
    sqlite3_stmt *st = prep(p, "SELECT msg_id, created_ms, execution_date, debtor_name,"
                               " debtor_iban, debtor_bic FROM payment_run WHERE id = ?1");
    if (!st)
        return db_fail(p, "prepare", msg, msglen);
    sqlite3_bind_int64(st, 1, run);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        copy_text(p->msg_id, sizeof p->msg_id, st, 0);
        copy_text(p->debtor_name, sizeof p->debtor_name, st, 3);
        copy_text(p->debtor_iban, sizeof p->debtor_iban, st, 4);
        copy_text(p->debtor_bic, sizeof p->debtor_bic, st, 5);
        *h = (struct tp_sepa_header){.msg_id = p->msg_id,
                                     .created_unix = sqlite3_column_int64(st, 1) / 1000,
                                     .execution_date = (tp_day)sqlite3_column_int(st, 2),
                                     .debtor_name = p->debtor_name,
                                     .debtor_iban = p->debtor_iban,
                                     .debtor_bic = p->debtor_bic};
    }
    sqlite3_finalize(st);
    if (r == SQLITE_DONE)
        return tp_fail(msg, msglen, TP_ERR_NOT_FOUND, "no such run");
    return r == SQLITE_ROW ? TP_OK : db_fail(p, "run", msg, msglen);
}

/* A PS's claims in one growable block: the tp_paid_claim views point into `text`. */
struct claim_buf {
    struct tp_paid_claim *c;
    char (*text)[TP_INVOICE_MAX + 1 + 10];
    size_t n, cap;
};

static enum tp_err claim_push(struct claim_buf *b, sqlite3_stmt *st)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        void *nc = realloc(b->c, cap * sizeof *b->c);
        if (!nc)
            return TP_ERR_NOMEM;
        b->c = nc;
        void *nt = realloc(b->text, cap * sizeof *b->text);
        if (!nt)
            return TP_ERR_NOMEM;
        b->text = nt;
        b->cap = cap;
    }
    char *t = b->text[b->n];
    copy_text(t, TP_INVOICE_MAX + 1, st, 1);
    copy_text(t + TP_INVOICE_MAX + 1, 10, st, 2);
    /* The text pointers are set by claim_views once every row is in: text moves as it grows. */
    b->c[b->n] = (struct tp_paid_claim){.care_date = (tp_day)sqlite3_column_int(st, 3),
                                        .amc_cents = sqlite3_column_int64(st, 4)};
    b->n++;
    return TP_OK;
}

static void claim_views(struct claim_buf *b)
{
    for (size_t i = 0; i < b->n; i++) {
        b->c[i].invoice = b->text[i];
        b->c[i].amc = b->text[i] + TP_INVOICE_MAX + 1;
    }
}

enum tp_err tp_pay_each_ps(struct tp_pay *p, int64_t run, tp_pay_ps_fn fn, void *ctx, char *msg,
                           size_t msglen)
{
    sqlite3_stmt *ps = prep(p, "SELECT ps_id, ps_ident, ps_name, iban, bic, claims, gross_cents,"
                               " deducted_cents, net_cents, balance_before_cents,"
                               " balance_after_cents, advance_cents FROM pay_transfer"
                               " WHERE run_id = ?1 ORDER BY ps_id");
    /* The run's claims in one pass, sorted by PS: walking them PS by PS through an index on
     * (payment_run, ps_id) would cost that index's upkeep at every assignment. The index is
     * named: left alone, SQLite walks every claim ever made in (ps_id, id) order to avoid the
     * sort, which grows with the history rather than with the run. */
    sqlite3_stmt *cl = p->has_claims
                           ? prep(p, "SELECT ps_id, invoice, amc_number, date_of_care, amc_cents"
                                     " FROM claim INDEXED BY claim_status_run"
                                     " WHERE status IN ('accepted', 'paid')"
                                     " AND payment_run = ?1 AND amc_cents > 0 ORDER BY ps_id, id")
                           : NULL;
    if (!ps || (p->has_claims && !cl)) {
        sqlite3_finalize(ps);
        sqlite3_finalize(cl);
        return db_fail(p, "prepare", msg, msglen);
    }
    struct claim_buf b = {0};
    enum tp_err rc = TP_OK;
    int r, cr = SQLITE_DONE;
    sqlite3_bind_int64(ps, 1, run);
    if (cl) {
        sqlite3_bind_int64(cl, 1, run);
        cr = sqlite3_step(cl);
    }
    while (rc == TP_OK && (r = sqlite3_step(ps)) == SQLITE_ROW) {
        struct tp_pay_ps row;
        memset(&row, 0, sizeof row);
        row.ps_id = sqlite3_column_int64(ps, 0);
        copy_text(row.ident, sizeof row.ident, ps, 1);
        copy_text(row.name, sizeof row.name, ps, 2);
        copy_text(row.iban, sizeof row.iban, ps, 3);
        copy_text(row.bic, sizeof row.bic, ps, 4);
        row.claims = sqlite3_column_int64(ps, 5);
        row.recon = (struct tp_advance_recon){.gross_cents = sqlite3_column_int64(ps, 6),
                                              .deducted_cents = sqlite3_column_int64(ps, 7),
                                              .net_cents = sqlite3_column_int64(ps, 8),
                                              .balance_before_cents = sqlite3_column_int64(ps, 9),
                                              .balance_after_cents = sqlite3_column_int64(ps, 10)};
        row.advance_cents = sqlite3_column_int64(ps, 11);
        b.n = 0;
        /* Claims of PS before this one have no transfer row: cannot happen (rows are deleted
         * only when the PS has no claim with an AMC part), skipped all the same. */
        while (rc == TP_OK && cr == SQLITE_ROW && sqlite3_column_int64(cl, 0) < row.ps_id)
            cr = sqlite3_step(cl);
        while (rc == TP_OK && cr == SQLITE_ROW && sqlite3_column_int64(cl, 0) == row.ps_id) {
            rc = claim_push(&b, cl);
            cr = sqlite3_step(cl);
        }
        if (rc == TP_OK && cr != SQLITE_ROW && cr != SQLITE_DONE)
            rc = db_fail(p, "claims", msg, msglen);
        claim_views(&b);
        if (rc == TP_OK)
            rc = fn(ctx, &row, b.c, b.n);
    }
    if (rc == TP_OK && r != SQLITE_DONE)
        rc = db_fail(p, "transfers", msg, msglen);
    sqlite3_finalize(ps);
    sqlite3_finalize(cl);
    free(b.c);
    free(b.text);
    return rc;
}

enum tp_err tp_pay_each_statement(struct tp_pay *p, int64_t run, tp_pay_statement_fn fn, void *ctx,
                                  char *msg, size_t msglen)
{
    sqlite3_stmt *hs = prep(p, "SELECT s.amc, s.amc_name, s.granted_cents, s.outstanding_cents,"
                               " r.msg_id, r.execution_date FROM pay_statement s"
                               " JOIN payment_run r ON r.id = s.run_id WHERE s.run_id = ?1"
                               " ORDER BY s.amc");
    sqlite3_stmt *ls = prep(p, "SELECT t.ps_ident, t.ps_name, l.claims, l.amount_cents,"
                               " l.by_advance_cents FROM pay_line l JOIN pay_transfer t"
                               " ON t.run_id = l.run_id AND t.ps_id = l.ps_id"
                               " WHERE l.run_id = ?1 AND l.amc = ?2 ORDER BY l.ps_id");
    if (!hs || !ls) {
        sqlite3_finalize(hs);
        sqlite3_finalize(ls);
        return db_fail(p, "prepare", msg, msglen);
    }
    struct tp_statement_line *lines = NULL;
    char(*text)[TP_SEPA_ID_MAX + 1 + TP_TEXT_MAX] = NULL;
    size_t cap = 0;
    enum tp_err rc = TP_OK;
    int r;
    sqlite3_bind_int64(hs, 1, run);
    while (rc == TP_OK && (r = sqlite3_step(hs)) == SQLITE_ROW) {
        char amc[10], name[TP_TEXT_MAX], run_id[TP_SEPA_ID_MAX + 1];
        copy_text(amc, sizeof amc, hs, 0);
        copy_text(name, sizeof name, hs, 1);
        copy_text(run_id, sizeof run_id, hs, 4);
        struct tp_statement_head h = {.run_id = run_id,
                                      .paid_on = (tp_day)sqlite3_column_int(hs, 5),
                                      .amc = amc,
                                      .amc_name = name,
                                      .advances_granted_cents = sqlite3_column_int64(hs, 2),
                                      .advances_outstanding_cents = sqlite3_column_int64(hs, 3)};
        size_t n = 0;
        sqlite3_bind_int64(ls, 1, run);
        sqlite3_bind_text(ls, 2, amc, -1, SQLITE_TRANSIENT);
        while (rc == TP_OK && sqlite3_step(ls) == SQLITE_ROW) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                void *a = realloc(lines, nc * sizeof *lines), *t = NULL;
                if (a)
                    lines = a;
                if (a)
                    t = realloc(text, nc * sizeof *text);
                if (!a || !t) {
                    rc = TP_ERR_NOMEM;
                    break;
                }
                text = t;
                cap = nc;
            }
            char *tx = text[n];
            copy_text(tx, TP_SEPA_ID_MAX + 1, ls, 0);
            copy_text(tx + TP_SEPA_ID_MAX + 1, TP_TEXT_MAX, ls, 1);
            lines[n] = (struct tp_statement_line){.claims = (uint64_t)sqlite3_column_int64(ls, 2),
                                                  .amount_cents = sqlite3_column_int64(ls, 3),
                                                  .by_advance_cents = sqlite3_column_int64(ls, 4)};
            n++;
        }
        sqlite3_reset(ls);
        for (size_t i = 0; i < n; i++) { /* text has moved as it grew */
            lines[i].ps_id = text[i];
            lines[i].ps_name = text[i] + TP_SEPA_ID_MAX + 1;
        }
        if (rc == TP_OK)
            rc = fn(ctx, &h, lines, n);
    }
    if (rc == TP_OK && r != SQLITE_DONE)
        rc = db_fail(p, "statements", msg, msglen);
    sqlite3_finalize(hs);
    sqlite3_finalize(ls);
    free(lines);
    free(text);
    return rc;
}

/* --- advances ------------------------------------------------------------------------------- */

static enum tp_err advance_view(struct tp_pay *p, int64_t ps_id,
                                const struct tp_advance_policy *pol, int64_t now_ms,
                                struct tp_pay_advance_view *v, char *msg, size_t msglen)
{
    memset(v, 0, sizeof *v);
    v->ps_id = ps_id;
    int64_t exists = 0, granted = 0, deducted = 0;
    enum tp_err rc =
        one_int(p, "SELECT count(*) FROM ps WHERE id = ?1", ps_id, 0, &exists, msg, msglen);
    if (rc == TP_OK && !exists)
        return tp_fail(msg, msglen, TP_ERR_NOT_FOUND, "no such PS");
    const int64_t since = now_ms - (int64_t)pol->window_days * MS_PER_DAY;
    if (rc == TP_OK)
        rc = one_int(p,
                     "SELECT coalesce(sum(t.gross_cents), 0) FROM pay_transfer t"
                     " JOIN payment_run r ON r.id = t.run_id WHERE t.ps_id = ?1"
                     " AND r.status = 'done' AND r.created_ms >= ?2",
                     ps_id, since, &v->paid_in_window_cents, msg, msglen);
    /* Every advance granted, paid or not yet, counts as held: advances never stack beyond
     * the rule. */
    if (rc == TP_OK)
        rc = one_int(p, "SELECT coalesce(sum(amount_cents), 0) FROM advance WHERE ps_id = ?1",
                     ps_id, 0, &granted, msg, msglen);
    if (rc == TP_OK)
        rc =
            one_int(p, "SELECT coalesce(sum(deducted_cents), 0) FROM pay_transfer WHERE ps_id = ?1",
                    ps_id, 0, &deducted, msg, msglen);
    if (rc != TP_OK)
        return rc;
    v->outstanding_cents = granted - deducted;
    return tp_advance_propose(pol, v->paid_in_window_cents, v->outstanding_cents,
                              &v->proposed_cents, msg, msglen);
}

enum tp_err tp_pay_advance_propose(struct tp_pay *p, int64_t ps_id,
                                   const struct tp_advance_policy *pol, int64_t now_ms,
                                   struct tp_pay_advance_view *out, char *msg, size_t msglen)
{
    return advance_view(p, ps_id, pol, now_ms, out, msg, msglen);
}

enum tp_err tp_pay_advance_grant(struct tp_pay *p, int64_t ps_id, int64_t amount_cents,
                                 const struct tp_advance_policy *pol, int64_t now_ms,
                                 int64_t account_id, int64_t *advance_id,
                                 struct tp_pay_advance_view *view, int64_t *granted_cents,
                                 char *msg, size_t msglen)
{
    if (amount_cents < 0 || amount_cents > TP_SEPA_AMOUNT_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "amount must be 0.01 to 999999999.99 EUR");
    enum tp_err rc = begin(p, msg, msglen);
    if (rc != TP_OK)
        return rc;
    rc = advance_view(p, ps_id, pol, now_ms, view, msg, msglen);
    int64_t amount = amount_cents ? amount_cents : view->proposed_cents;
    if (rc == TP_OK && amount <= 0)
        rc = tp_fail(msg, msglen, TP_ERR_CONFLICT,
                     "the rule proposes no advance for this PS (no recent payments, or an "
                     "advance still outstanding); give an amount to override");
    sqlite3_stmt *st = NULL;
    if (rc == TP_OK) {
        st = prep(p, "SELECT id, identifier, name, iban, bic FROM ps WHERE id = ?1");
        if (!st)
            rc = db_fail(p, "prepare", msg, msglen);
    }
    if (rc == TP_OK) {
        sqlite3_bind_int64(st, 1, ps_id);
        if (sqlite3_step(st) != SQLITE_ROW || !ps_payable(st))
            rc = tp_fail(msg, msglen, TP_ERR_INVALID,
                         "the PS's bank details cannot be paid (IBAN, BIC or name)");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == TP_OK) {
        st = prep(p, "INSERT INTO advance(ps_id, amount_cents, proposed_cents, granted_ms,"
                     " account_id) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id");
        if (!st)
            rc = db_fail(p, "prepare", msg, msglen);
    }
    if (rc == TP_OK) {
        sqlite3_bind_int64(st, 1, ps_id);
        sqlite3_bind_int64(st, 2, amount);
        sqlite3_bind_int64(st, 3, view->proposed_cents);
        sqlite3_bind_int64(st, 4, now_ms);
        if (account_id > 0)
            sqlite3_bind_int64(st, 5, account_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            *advance_id = sqlite3_column_int64(st, 0);
        else
            rc = db_fail(p, "advance", msg, msglen);
    }
    sqlite3_finalize(st);
    rc = finish(p, rc, msg, msglen);
    if (rc == TP_OK)
        *granted_cents = amount;
    return rc;
}
