/* Claims and PECs on the SQLite writer connection (claims.h, docs/CLAIMS.md).
 *
 * Everything here runs on the group-commit writer thread, inside the batch's transaction:
 * the history read, the engine's computation and the counters' update of one claim happen
 * with no other write in between, which is what makes a ceiling impossible to overspend by
 * concurrent claims. Each operation runs under a SAVEPOINT: an input error rolls back what
 * the operation wrote and leaves the rest of the batch alone. All SQL uses bound parameters. */
#include "store/claims.h"

#include <dirent.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

enum {
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_VERSION,
    S_VERSION_PUT,
    S_CONTRACT_EXISTS,
    S_BEN,
    S_ENGAGEMENT,
    S_CLAIM_BY_INVOICE,
    S_COUNTERS,
    S_HISTORY,
    S_HISTORY_PUT,
    S_COUNTER_ADD,
    S_USE_INSERT,
    S_USE_LIST,
    S_USE_MOVE,
    S_CLAIM_INSERT,
    S_LINE_INSERT,
    S_CLAIM_GET,
    S_LINES_GET,
    S_CLAIM_CANCEL,
    S_CLAIM_LIST,
    S_PEC_INSERT,
    S_PEC_GET,
    S_PEC_BY_NUMBER,
    S_PEC_SET_STATUS,
    S_PEC_EXPIRED,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_SAVEPOINT] = "SAVEPOINT claim_op",
    [S_RELEASE] = "RELEASE claim_op",
    [S_ROLLBACK_TO] = "ROLLBACK TO claim_op",
    [S_VERSION] = "SELECT valid_from, text FROM contract_version WHERE contract_id = ?1"
                  " AND valid_from <= ?2 ORDER BY valid_from DESC LIMIT 1",
    [S_VERSION_PUT] = "INSERT INTO contract_version(contract_id, valid_from, text)"
                      " VALUES (?1, ?2, ?3) ON CONFLICT (contract_id, valid_from)"
                      " DO UPDATE SET text = ?3",
    [S_CONTRACT_EXISTS] = "SELECT id FROM contract WHERE id = ?1",
    [S_BEN] = "SELECT b.contract_id, b.ref, b.bidx_member, b.coverage_start, b.coverage_end,"
              " b.tp_domains, a.number FROM beneficiary b JOIN amc a ON a.id = b.amc_id"
              " WHERE b.id = ?1",
    [S_ENGAGEMENT] = "SELECT beneficiary_id, ps_id, valid_until FROM engagement WHERE number = ?1",
    [S_CLAIM_BY_INVOICE] = "SELECT id, content_digest FROM claim WHERE ps_id = ?1 AND invoice = ?2",
    [S_COUNTERS] = "SELECT key, side, period_start, used_cents FROM benefit_counter"
                   " WHERE owner = ?1 AND scope = ?2 AND period_start >= ?3 LIMIT ?4",
    [S_HISTORY] = "SELECT last_frame, last_lenses, last_aid_l, last_aid_r, pf_year, pf_cents,"
                  " franchise_cents FROM benefit_history WHERE beneficiary_id = ?1",
    [S_HISTORY_PUT] =
        "INSERT INTO benefit_history(beneficiary_id, last_frame, last_lenses, last_aid_l,"
        " last_aid_r, pf_year, pf_cents, franchise_cents) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT (beneficiary_id) DO UPDATE SET last_frame = ?2, last_lenses = ?3,"
        " last_aid_l = ?4, last_aid_r = ?5, pf_year = ?6, pf_cents = ?7, franchise_cents = ?8",
    [S_COUNTER_ADD] = "INSERT INTO benefit_counter(owner, scope, key, side, period_start,"
                      " used_cents) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                      " ON CONFLICT (owner, scope, key, side, period_start)"
                      " DO UPDATE SET used_cents = used_cents + ?6",
    [S_USE_INSERT] = "INSERT INTO benefit_use(kind, object_id, owner, scope, key, side,"
                     " period_start, delta_cents) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_USE_LIST] = "SELECT owner, scope, key, side, period_start, delta_cents FROM benefit_use"
                   " WHERE kind = ?1 AND object_id = ?2",
    [S_USE_MOVE] = "UPDATE benefit_use SET kind = 0, object_id = ?2 WHERE kind = 1"
                   " AND object_id = ?1",
    [S_CLAIM_INSERT] =
        "INSERT INTO claim(ps_id, invoice, content_digest, beneficiary_id, amc_number,"
        " engagement, pec, date_of_care, submitted_ms, status, total_cents, amo_cents,"
        " amc_cents, patient_cents, reasons, prev_frame, prev_lenses, prev_aid_l, prev_aid_r,"
        " new_frame, new_lenses, new_aid_l, new_aid_r, pf_delta, franchise_delta)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25) RETURNING id",
    [S_LINE_INSERT] =
        "INSERT INTO claim_line(kind, object_id, line, code, quantity, unit_price_cents, br_in,"
        " amo_rate_in, amo_in, side, vision_changed, price_cents, br_cents, amo_cents,"
        " deduction_cents, amc_cents, patient_cents, reasons, status) VALUES (?1, ?2, ?3, ?4,"
        " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    [S_CLAIM_GET] =
        "SELECT c.id, c.ps_id, c.invoice, c.beneficiary_id, c.amc_number,"
        " coalesce(c.engagement, ''), coalesce(c.pec, ''), c.date_of_care, c.submitted_ms,"
        " c.status, c.total_cents, c.amo_cents, c.amc_cents, c.patient_cents,"
        " coalesce(c.payment_run, 0), c.prev_frame, c.prev_lenses, c.prev_aid_l, c.prev_aid_r,"
        " c.new_frame, c.new_lenses, c.new_aid_l, c.new_aid_r, c.pf_delta, c.franchise_delta,"
        " c.date_of_care / 1, b.ref FROM claim c JOIN beneficiary b ON b.id = c.beneficiary_id"
        " WHERE c.id = ?1",
    [S_LINES_GET] = "SELECT code, quantity, unit_price_cents, br_in, amo_rate_in, amo_in, side,"
                    " vision_changed, price_cents, br_cents, amo_cents, deduction_cents,"
                    " amc_cents, patient_cents, reasons, status FROM claim_line"
                    " WHERE kind = ?1 AND object_id = ?2 ORDER BY line LIMIT 64",
    [S_CLAIM_CANCEL] = "UPDATE claim SET status = 'cancelled', cancelled_ms = ?2 WHERE id = ?1"
                       " AND status IN ('accepted', 'rejected') AND payment_run IS NULL",
    [S_CLAIM_LIST] = "SELECT id, invoice, status, date_of_care, submitted_ms, total_cents,"
                     " amc_cents FROM claim WHERE ps_id = ?1 AND id < ?2 ORDER BY id DESC"
                     " LIMIT ?3",
    [S_PEC_INSERT] =
        "INSERT INTO pec(number, ps_id, beneficiary_id, amc_number, engagement, domain,"
        " date_of_quote, valid_until, submitted_ms, status, total_cents, amo_cents, amc_cents,"
        " patient_cents, reasons, new_frame, new_lenses, new_aid_l, new_aid_r, pf_delta,"
        " franchise_delta) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) RETURNING id",
#define PEC_COLUMNS                                                                                \
    "SELECT p.id, p.ps_id, p.number, p.beneficiary_id, p.amc_number,"                              \
    " coalesce(p.engagement, ''), p.domain, p.date_of_quote, p.valid_until, p.submitted_ms,"       \
    " p.status, p.total_cents, p.amo_cents, p.amc_cents, p.patient_cents, p.new_frame,"            \
    " p.new_lenses, p.new_aid_l, p.new_aid_r, b.ref FROM pec p"                                    \
    " JOIN beneficiary b ON b.id = p.beneficiary_id "
    [S_PEC_GET] = PEC_COLUMNS "WHERE p.id = ?1",
    [S_PEC_BY_NUMBER] = PEC_COLUMNS "WHERE p.number = ?1",
    [S_PEC_SET_STATUS] = "UPDATE pec SET status = ?2, claim_id = ?3 WHERE id = ?1",
    [S_PEC_EXPIRED] = "SELECT id FROM pec WHERE beneficiary_id = ?1 AND status IN"
                      " ('accepted', 'partially_accepted') AND valid_until < ?2",
};

#define GCACHE_SIZE 64 /* parsed guarantee texts kept (52 KiB each) */

struct gentry {
    int64_t contract_id; /* 0: empty */
    tp_day valid_from;
    struct tp_guarantee_set *set;
};

struct state {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    struct gentry cache[GCACHE_SIZE];
    unsigned next_victim;
    struct tp_benefit_result res; /* large: one per writer, reused */
    struct tp_counter counters[TP_HISTORY_COUNTERS_MAX];
    struct tp_claim_line pec_lines[TP_CLAIM_LINES_MAX];
    struct tp_line_result pec_results[TP_CLAIM_LINES_MAX];
};

static const struct tp_refdata *_Atomic g_refdata;

void tp_claims_set_refdata(const struct tp_refdata *rd)
{
    atomic_store(&g_refdata, rd);
}

const struct tp_refdata *tp_claims_refdata(void)
{
    return atomic_load(&g_refdata);
}

const char *tp_line_status_name(enum tp_line_status st)
{
    switch (st) {
    case TP_LINE_ACCEPTED:
        return "accepted";
    case TP_LINE_LIMITED:
        return "limited";
    case TP_LINE_REFUSED:
        return "refused";
    }
    return "?";
}

/* ---- helpers -------------------------------------------------------------------------------- */

static enum tp_err db_error(sqlite3 *db, const char *what)
{
    /* Names the operation, never the data. */
    fprintf(stderr, "opentp: store: claims: %s: %s\n", what, sqlite3_errmsg(db));
    return TP_ERR_IO;
}

static sqlite3_stmt *stmt(struct state *s, int i)
{
    sqlite3_reset(s->st[i]);
    sqlite3_clear_bindings(s->st[i]);
    return s->st[i];
}

static enum tp_err run_done(struct state *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TP_OK : db_error(s->db, what);
}

/* Steps a statement expected to give at most one row: TP_OK (row ready), TP_ERR_NOT_FOUND. */
static enum tp_err run_row(struct state *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return TP_OK;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TP_ERR_NOT_FOUND : db_error(s->db, what);
}

static void col_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_str_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v[0])
        bind_str(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* An input error of the operation: code for the API, message for people. */
static enum tp_err op_fail(struct tp_claim_op *op, enum tp_err e, const char *code, const char *msg)
{
    op->err = e;
    snprintf(op->code, sizeof op->code, "%s", code);
    snprintf(op->msg, sizeof op->msg, "%s", msg);
    return e;
}

static struct state *state_get(sqlite3 *db, void **slot)
{
    struct state *s = *slot;
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->db = db;
    /* A claim touches a few pages of several tables at random places (beneficiary, history,
     * counters); the default 2 MiB page cache made the writer read most of them back from the
     * file at every claim. 64 MiB keeps them (measured: docs/CLAIMS.md). */
    sqlite3_exec(db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    /* Each operation's SAVEPOINT keeps a copy of every page it changes (the statement
     * journal): in memory, not in a temporary file. */
    sqlite3_exec(db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
            SQLITE_OK) {
            db_error(db, "prepare");
            tp_claims_sqlite_free(s);
            return NULL;
        }
    *slot = s;
    return s;
}

void tp_claims_sqlite_free(void *state)
{
    struct state *s = state;
    if (!s)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    for (int i = 0; i < GCACHE_SIZE; i++)
        free(s->cache[i].set);
    free(s);
}

/* ---- guarantees ---------------------------------------------------------------------------- */

/* The guarantee set of the contract version in force on `day` (parsed once, then cached; the
 * cache is the writer's own, and a version put drops the contract's entries). */
static enum tp_err guarantees(struct state *s, int64_t contract_id, tp_day day,
                              const struct tp_guarantee_set **out, char *msg, size_t msglen)
{
    sqlite3_stmt *st = stmt(s, S_VERSION);
    sqlite3_bind_int64(st, 1, contract_id);
    sqlite3_bind_int(st, 2, day);
    enum tp_err rc = run_row(s, st, "contract version");
    if (rc != TP_OK)
        return rc;
    tp_day from = sqlite3_column_int(st, 0);
    for (int i = 0; i < GCACHE_SIZE; i++)
        if (s->cache[i].contract_id == contract_id && s->cache[i].valid_from == from) {
            sqlite3_reset(st);
            *out = s->cache[i].set;
            return TP_OK;
        }
    struct gentry *e = &s->cache[s->next_victim++ % GCACHE_SIZE];
    if (!e->set)
        e->set = malloc(sizeof *e->set);
    if (!e->set) {
        sqlite3_reset(st);
        return TP_ERR_NOMEM;
    }
    e->contract_id = 0;
    const char *text = (const char *)sqlite3_column_text(st, 1);
    size_t len = (size_t)sqlite3_column_bytes(st, 1);
    rc = tp_gl_parse(text ? text : "", len, e->set, msg, msglen);
    sqlite3_reset(st);
    if (rc != TP_OK)
        return TP_ERR_INTERNAL; /* texts are checked when stored: this is corruption */
    e->contract_id = contract_id;
    e->valid_from = from;
    *out = e->set;
    return TP_OK;
}

static void cache_drop(struct state *s, int64_t contract_id)
{
    for (int i = 0; i < GCACHE_SIZE; i++)
        if (s->cache[i].contract_id == contract_id)
            s->cache[i].contract_id = 0;
}

static enum tp_err version_put(struct state *s, struct tp_claim_op *op)
{
    static struct tp_guarantee_set g; /* writer thread only */
    char msg[160];
    if (!op->text || op->text_len > TP_GL_TEXT_MAX)
        return op_fail(op, TP_ERR_TOO_BIG, "text_too_big", "the guarantee text is too long");
    if (tp_gl_parse(op->text, op->text_len, &g, msg, sizeof msg) != TP_OK)
        return op_fail(op, TP_ERR_INVALID, "invalid_guarantees", msg);
    sqlite3_stmt *st = stmt(s, S_CONTRACT_EXISTS);
    sqlite3_bind_int64(st, 1, op->contract_id);
    enum tp_err rc = run_row(s, st, "contract");
    sqlite3_reset(st);
    if (rc == TP_ERR_NOT_FOUND)
        return op_fail(op, rc, "not_found", "no such contract");
    if (rc != TP_OK)
        return rc;
    st = stmt(s, S_VERSION_PUT);
    sqlite3_bind_int64(st, 1, op->contract_id);
    sqlite3_bind_int(st, 2, op->valid_from);
    sqlite3_bind_text(st, 3, op->text, (int)op->text_len, SQLITE_STATIC);
    rc = run_done(s, st, "contract version put");
    if (rc == TP_OK)
        cache_drop(s, op->contract_id);
    return rc;
}

/* ---- the beneficiary and its history -------------------------------------------------------- */

struct ben {
    int64_t id;
    int64_t contract_id;
    uint8_t ref[TP_BIDX_LEN];
    uint8_t family[TP_BIDX_LEN]; /* member blind index: the family's counters */
    tp_day coverage_start, coverage_end;
    uint32_t tp_domains;
    char amc[10];
};

static enum tp_err ben_load(struct state *s, int64_t id, struct ben *b)
{
    sqlite3_stmt *st = stmt(s, S_BEN);
    sqlite3_bind_int64(st, 1, id);
    enum tp_err rc = run_row(s, st, "beneficiary");
    if (rc != TP_OK)
        return rc;
    b->id = id;
    b->contract_id = sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) != TP_BIDX_LEN || sqlite3_column_bytes(st, 2) != TP_BIDX_LEN) {
        sqlite3_reset(st);
        return TP_ERR_INTERNAL;
    }
    memcpy(b->ref, sqlite3_column_blob(st, 1), TP_BIDX_LEN);
    memcpy(b->family, sqlite3_column_blob(st, 2), TP_BIDX_LEN);
    b->coverage_start = sqlite3_column_int(st, 3);
    b->coverage_end = sqlite3_column_int(st, 4);
    b->tp_domains = (uint32_t)sqlite3_column_int64(st, 5);
    col_text(b->amc, sizeof b->amc, st, 6);
    sqlite3_reset(st);
    return TP_OK;
}

struct hist {
    struct tp_history h;
    int exists;
    int pf_year; /* civil year of the stored PF / franchise totals */
};

static enum tp_err hist_load(struct state *s, const struct ben *b, tp_day date, struct hist *out)
{
    memset(out, 0, sizeof *out);
    tp_history_empty(&out->h);
    int y, m, d;
    tp_date_to_ymd(date, &y, &m, &d);
    sqlite3_stmt *st = stmt(s, S_HISTORY);
    sqlite3_bind_int64(st, 1, b->id);
    enum tp_err rc = run_row(s, st, "history");
    if (rc == TP_OK) {
        out->exists = 1;
        out->h.last_frame = sqlite3_column_int(st, 0);
        out->h.last_lenses = sqlite3_column_int(st, 1);
        out->h.last_aid[0] = sqlite3_column_int(st, 2);
        out->h.last_aid[1] = sqlite3_column_int(st, 3);
        out->pf_year = sqlite3_column_int(st, 4);
        if (out->pf_year == y) {
            out->h.pf_year_cents = sqlite3_column_int64(st, 5);
            out->h.franchise_year_cents = sqlite3_column_int64(st, 6);
        }
        sqlite3_reset(st);
    } else if (rc != TP_ERR_NOT_FOUND) {
        return rc;
    }
    /* Counters whose window may still be open on `date`: periods are at most TP_GL_PERIOD_MAX
     * months, so older ones can never apply. */
    tp_day since = tp_date_add_months(date, -TP_GL_PERIOD_MAX);
    int n = 0;
    for (int scope = TP_GL_BENEFICIARY; scope <= TP_GL_FAMILY; scope++) {
        st = stmt(s, S_COUNTERS);
        sqlite3_bind_blob(st, 1, scope == TP_GL_FAMILY ? b->family : b->ref, TP_BIDX_LEN,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 2, scope);
        sqlite3_bind_int(st, 3, since);
        sqlite3_bind_int(st, 4, TP_HISTORY_COUNTERS_MAX - n);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            struct tp_counter *c = &s->counters[n++];
            memset(c, 0, sizeof *c);
            col_text(c->key, sizeof c->key, st, 0);
            c->scope = (uint8_t)scope;
            c->side = (char)sqlite3_column_int(st, 1);
            c->period_start = sqlite3_column_int(st, 2);
            c->used_cents = sqlite3_column_int64(st, 3);
        }
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            return db_error(s->db, "counters");
    }
    out->h.counters = s->counters;
    out->h.n_counters = n;
    return TP_OK;
}

static enum tp_err counter_add(struct state *s, const uint8_t *owner, int scope, const char *key,
                               int side, tp_day period_start, int64_t delta)
{
    sqlite3_stmt *st = stmt(s, S_COUNTER_ADD);
    sqlite3_bind_blob(st, 1, owner, TP_BIDX_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, scope);
    bind_str(st, 3, key);
    sqlite3_bind_int(st, 4, side);
    sqlite3_bind_int(st, 5, period_start);
    sqlite3_bind_int64(st, 6, delta);
    return run_done(s, st, "counter");
}

/* Adds the engine's counter deltas and records them as the use of object (kind, id). */
static enum tp_err counters_apply(struct state *s, const struct ben *b,
                                  const struct tp_benefit_result *r, int kind, int64_t id)
{
    for (int i = 0; i < r->n_counters; i++) {
        const struct tp_counter_use *u = &r->counters[i];
        if (u->delta_cents == 0)
            continue;
        const uint8_t *owner = u->counter.scope == TP_GL_FAMILY ? b->family : b->ref;
        enum tp_err rc = counter_add(s, owner, u->counter.scope, u->counter.key, u->counter.side,
                                     u->counter.period_start, u->delta_cents);
        if (rc != TP_OK)
            return rc;
        sqlite3_stmt *st = stmt(s, S_USE_INSERT);
        sqlite3_bind_int(st, 1, kind);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_blob(st, 3, owner, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, u->counter.scope);
        bind_str(st, 5, u->counter.key);
        sqlite3_bind_int(st, 6, u->counter.side);
        sqlite3_bind_int(st, 7, u->counter.period_start);
        sqlite3_bind_int64(st, 8, u->delta_cents);
        rc = run_done(s, st, "counter use");
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

/* Gives back what object (kind, id) added to the counters. The benefit_use rows stay, as the
 * record of what was consumed and released. */
static enum tp_err counters_release(struct state *s, int kind, int64_t id)
{
    /* Collected first: the counter updates must not run while the list is being stepped. */
    struct rel {
        uint8_t owner[TP_BIDX_LEN];
        int scope, side;
        char key[TP_RULE_KEY_MAX];
        tp_day start;
        int64_t delta;
    } rel[TP_CLAIM_LINES_MAX];
    int n = 0;
    sqlite3_stmt *st = stmt(s, S_USE_LIST);
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, id);
    int step;
    while (n < TP_CLAIM_LINES_MAX && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != TP_BIDX_LEN)
            continue;
        memcpy(rel[n].owner, sqlite3_column_blob(st, 0), TP_BIDX_LEN);
        rel[n].scope = sqlite3_column_int(st, 1);
        col_text(rel[n].key, sizeof rel[n].key, st, 2);
        rel[n].side = sqlite3_column_int(st, 3);
        rel[n].start = sqlite3_column_int(st, 4);
        rel[n].delta = sqlite3_column_int64(st, 5);
        n++;
    }
    sqlite3_reset(st);
    for (int i = 0; i < n; i++) {
        enum tp_err rc = counter_add(s, rel[i].owner, rel[i].scope, rel[i].key, rel[i].side,
                                     rel[i].start, -rel[i].delta);
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

static enum tp_err hist_put(struct state *s, int64_t ben_id, const tp_day eq[4], int year,
                            int64_t pf, int64_t fr)
{
    sqlite3_stmt *st = stmt(s, S_HISTORY_PUT);
    sqlite3_bind_int64(st, 1, ben_id);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_int(st, 2 + i, eq[i]);
    sqlite3_bind_int(st, 6, year);
    sqlite3_bind_int64(st, 7, pf);
    sqlite3_bind_int64(st, 8, fr);
    return run_done(s, st, "history put");
}

/* ---- reading a claim or a PEC back ----------------------------------------------------------- */

static enum tp_err lines_load(struct state *s, int kind, int64_t id, struct tp_claim_record *r)
{
    sqlite3_stmt *st = stmt(s, S_LINES_GET);
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, id);
    int step, n = 0;
    r->reasons = 0;
    while (n < TP_CLAIM_LINES_MAX && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct tp_claim_line *l = &r->lines[n];
        struct tp_line_result *x = &r->results[n];
        memset(l, 0, sizeof *l);
        memset(x, 0, sizeof *x);
        col_text(l->code, sizeof l->code, st, 0);
        l->quantity = sqlite3_column_int(st, 1);
        l->unit_price_cents = sqlite3_column_int64(st, 2);
        l->br_cents = sqlite3_column_int64(st, 3);
        l->amo_rate_bp = sqlite3_column_int(st, 4);
        l->amo_cents = sqlite3_column_int64(st, 5);
        l->side = (char)sqlite3_column_int(st, 6);
        l->vision_changed = (uint8_t)sqlite3_column_int(st, 7);
        x->price_cents = sqlite3_column_int64(st, 8);
        x->br_cents = sqlite3_column_int64(st, 9);
        x->amo_cents = sqlite3_column_int64(st, 10);
        x->deduction_cents = sqlite3_column_int64(st, 11);
        x->amc_cents = sqlite3_column_int64(st, 12);
        x->patient_cents = sqlite3_column_int64(st, 13);
        x->reasons = (uint32_t)sqlite3_column_int64(st, 14);
        x->status = (enum tp_line_status)sqlite3_column_int(st, 15);
        x->rule = -1;
        r->reasons |= x->reasons;
        n++;
    }
    sqlite3_reset(st);
    r->n_lines = n;
    return TP_OK;
}

struct claim_extra {
    int64_t beneficiary_id;
    uint8_t ref[TP_BIDX_LEN];
    tp_day prev[4], next[4];
    int64_t pf_delta, franchise_delta;
};

static enum tp_err claim_load(struct state *s, int64_t id, struct tp_claim_record *r,
                              struct claim_extra *x)
{
    sqlite3_stmt *st = stmt(s, S_CLAIM_GET);
    sqlite3_bind_int64(st, 1, id);
    enum tp_err rc = run_row(s, st, "claim get");
    if (rc != TP_OK)
        return rc;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->ps_id = sqlite3_column_int64(st, 1);
    col_text(r->invoice, sizeof r->invoice, st, 2);
    x->beneficiary_id = sqlite3_column_int64(st, 3);
    col_text(r->amc, sizeof r->amc, st, 4);
    col_text(r->engagement, sizeof r->engagement, st, 5);
    col_text(r->pec, sizeof r->pec, st, 6);
    r->date = sqlite3_column_int(st, 7);
    r->submitted_ms = sqlite3_column_int64(st, 8);
    col_text(r->status, sizeof r->status, st, 9);
    r->total_cents = sqlite3_column_int64(st, 10);
    r->amo_cents = sqlite3_column_int64(st, 11);
    r->amc_cents = sqlite3_column_int64(st, 12);
    r->patient_cents = sqlite3_column_int64(st, 13);
    r->payment_run = sqlite3_column_int64(st, 14);
    for (int i = 0; i < 4; i++) {
        x->prev[i] = sqlite3_column_int(st, 15 + i);
        x->next[i] = sqlite3_column_int(st, 19 + i);
    }
    x->pf_delta = sqlite3_column_int64(st, 23);
    x->franchise_delta = sqlite3_column_int64(st, 24);
    if (sqlite3_column_bytes(st, 26) == TP_BIDX_LEN)
        memcpy(x->ref, sqlite3_column_blob(st, 26), TP_BIDX_LEN);
    sqlite3_reset(st);
    return lines_load(s, 0, id, r);
}

struct pec_extra {
    int64_t beneficiary_id;
    uint8_t ref[TP_BIDX_LEN];
    tp_day next[4];
};

static enum tp_err pec_read_row(struct state *s, sqlite3_stmt *st, struct tp_claim_record *r,
                                struct pec_extra *x)
{
    enum tp_err rc = run_row(s, st, "pec get");
    if (rc != TP_OK)
        return rc;
    memset(r, 0, sizeof *r);
    r->is_pec = 1;
    r->id = sqlite3_column_int64(st, 0);
    r->ps_id = sqlite3_column_int64(st, 1);
    col_text(r->number, sizeof r->number, st, 2);
    x->beneficiary_id = sqlite3_column_int64(st, 3);
    col_text(r->amc, sizeof r->amc, st, 4);
    col_text(r->engagement, sizeof r->engagement, st, 5);
    r->domain = sqlite3_column_int(st, 6);
    r->date = sqlite3_column_int(st, 7);
    r->valid_until = sqlite3_column_int(st, 8);
    r->submitted_ms = sqlite3_column_int64(st, 9);
    col_text(r->status, sizeof r->status, st, 10);
    r->total_cents = sqlite3_column_int64(st, 11);
    r->amo_cents = sqlite3_column_int64(st, 12);
    r->amc_cents = sqlite3_column_int64(st, 13);
    r->patient_cents = sqlite3_column_int64(st, 14);
    for (int i = 0; i < 4; i++)
        x->next[i] = sqlite3_column_int(st, 15 + i);
    if (sqlite3_column_bytes(st, 19) == TP_BIDX_LEN)
        memcpy(x->ref, sqlite3_column_blob(st, 19), TP_BIDX_LEN);
    sqlite3_reset(st);
    return lines_load(s, 1, r->id, r);
}

/* ---- writing -------------------------------------------------------------------------------- */

static enum tp_err lines_insert(struct state *s, int kind, int64_t id, int n,
                                const struct tp_claim_line *in, const struct tp_line_result *out)
{
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *st = stmt(s, S_LINE_INSERT);
        sqlite3_bind_int(st, 1, kind);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_int(st, 3, i + 1);
        bind_str(st, 4, in[i].code);
        sqlite3_bind_int(st, 5, in[i].quantity);
        sqlite3_bind_int64(st, 6, in[i].unit_price_cents);
        sqlite3_bind_int64(st, 7, in[i].br_cents);
        sqlite3_bind_int(st, 8, in[i].amo_rate_bp);
        sqlite3_bind_int64(st, 9, in[i].amo_cents);
        sqlite3_bind_int(st, 10, in[i].side);
        sqlite3_bind_int(st, 11, in[i].vision_changed);
        sqlite3_bind_int64(st, 12, out[i].price_cents);
        sqlite3_bind_int64(st, 13, out[i].br_cents);
        sqlite3_bind_int64(st, 14, out[i].amo_cents);
        sqlite3_bind_int64(st, 15, out[i].deduction_cents);
        sqlite3_bind_int64(st, 16, out[i].amc_cents);
        sqlite3_bind_int64(st, 17, out[i].patient_cents);
        sqlite3_bind_int64(st, 18, out[i].reasons);
        sqlite3_bind_int(st, 19, (int)out[i].status);
        enum tp_err rc = run_done(s, st, "line insert");
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

/* The content of a claim, digested: the same invoice number with the same content is one
 * claim; with another content, a conflict. No personal data goes in (the beneficiary by id
 * or engagement number), so an unkeyed hash is fine. Fixed-width little-endian fields. */
static void content_digest(const struct tp_claim_op *op, uint8_t out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
#define PUT(v)                                                                                     \
    do {                                                                                           \
        uint8_t b_[8];                                                                             \
        uint64_t u_ = (uint64_t)(v);                                                               \
        for (int k_ = 0; k_ < 8; k_++)                                                             \
            b_[k_] = (uint8_t)(u_ >> (8 * k_));                                                    \
        crypto_generichash_update(&h, b_, 8);                                                      \
    } while (0)
    uint8_t eng[TP_ENGAGEMENT_LEN + 1] = {0}, pec[TP_PEC_NUMBER_LEN + 1] = {0};
    memcpy(eng, op->engagement, strnlen(op->engagement, TP_ENGAGEMENT_LEN));
    memcpy(pec, op->pec, strnlen(op->pec, TP_PEC_NUMBER_LEN));
    crypto_generichash_update(&h, eng, sizeof eng);
    crypto_generichash_update(&h, pec, sizeof pec);
    PUT(op->beneficiary_id);
    PUT(op->date);
    PUT(op->age);
    PUT(op->pf_exempt);
    PUT(op->n_lines);
    for (int i = 0; i < op->n_lines; i++) {
        const struct tp_claim_line *l = &op->lines[i];
        uint8_t code[TP_ACT_CODE_MAX] = {0};
        memcpy(code, l->code, strnlen(l->code, TP_ACT_CODE_MAX - 1));
        crypto_generichash_update(&h, code, sizeof code);
        PUT(l->quantity);
        PUT(l->unit_price_cents);
        PUT(l->br_cents);
        PUT(l->amo_rate_bp);
        PUT(l->amo_cents);
        PUT(l->side);
        PUT(l->vision_changed);
    }
#undef PUT
    crypto_generichash_final(&h, out, 32);
}

/* The beneficiary of a submit: by engagement (it must be this PS's and still valid on the
 * date of care) or by the id the handler found from card data; then coverage and domains. */
static enum tp_err submit_beneficiary(struct state *s, struct tp_claim_op *op, struct ben *b)
{
    enum tp_err rc;
    if (op->engagement[0]) {
        sqlite3_stmt *st = stmt(s, S_ENGAGEMENT);
        bind_str(st, 1, op->engagement);
        rc = run_row(s, st, "engagement");
        if (rc == TP_ERR_NOT_FOUND)
            return op_fail(op, rc, "unknown_engagement",
                           "no engagement of this PS has this number");
        if (rc != TP_OK)
            return rc;
        int64_t ben = sqlite3_column_int64(st, 0), ps = sqlite3_column_int64(st, 1);
        tp_day until = sqlite3_column_int(st, 2);
        sqlite3_reset(st);
        if (ps != op->ps_id) /* another PS's engagement: as if it did not exist */
            return op_fail(op, TP_ERR_NOT_FOUND, "unknown_engagement",
                           "no engagement of this PS has this number");
        if (op->date > until)
            return op_fail(op, TP_ERR_INVALID, "engagement_expired",
                           "the date of care is after the engagement's validity");
        if (op->beneficiary_id && op->beneficiary_id != ben)
            return op_fail(op, TP_ERR_INVALID, "beneficiary_mismatch",
                           "the card data and the engagement name different beneficiaries");
        op->beneficiary_id = ben;
    }
    if (op->beneficiary_id <= 0)
        return op_fail(op, TP_ERR_INVALID, "missing_field", "no beneficiary given");
    rc = ben_load(s, op->beneficiary_id, b);
    if (rc == TP_ERR_NOT_FOUND)
        return op_fail(op, rc, "not_found", "no beneficiary matches this card data");
    if (rc != TP_OK)
        return rc;
    if (op->date < b->coverage_start || op->date > b->coverage_end)
        return op_fail(op, TP_ERR_CLOSED, "out_of_coverage",
                       "the date of care is outside the beneficiary's coverage");
    const struct tp_refdata *rd = tp_claims_refdata();
    for (int i = 0; i < op->n_lines; i++) {
        const struct tp_act_ref *a =
            tp_refdata_act(rd, op->lines[i].code, strlen(op->lines[i].code), op->date);
        if (!a)
            return op_fail(op, TP_ERR_INVALID, "unknown_act",
                           "an act code is not in the reference data on the date of care");
        if (!(b->tp_domains & (1u << a->domain)))
            return op_fail(op, TP_ERR_CLOSED, "domain_not_open",
                           "tiers payant is not open for this care domain in the contract");
    }
    return TP_OK;
}

/* Releases the holds of the beneficiary's PECs past their validity (lazily, whenever the
 * beneficiary is seen again: nothing else needs them released). */
static enum tp_err expire_pecs(struct state *s, int64_t ben_id, tp_day today)
{
    int64_t ids[16];
    int n = 0;
    sqlite3_stmt *st = stmt(s, S_PEC_EXPIRED);
    sqlite3_bind_int64(st, 1, ben_id);
    sqlite3_bind_int(st, 2, today);
    while (n < 16 && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    for (int i = 0; i < n; i++) {
        enum tp_err rc = counters_release(s, 1, ids[i]);
        if (rc != TP_OK)
            return rc;
        st = stmt(s, S_PEC_SET_STATUS);
        sqlite3_bind_int64(st, 1, ids[i]);
        bind_str(st, 2, "expired");
        sqlite3_bind_null(st, 3);
        rc = run_done(s, st, "pec expire");
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

static void totals(struct tp_claim_record *r)
{
    r->total_cents = r->amo_cents = r->amc_cents = r->patient_cents = 0;
    r->reasons = 0;
    for (int i = 0; i < r->n_lines; i++) {
        r->total_cents += r->results[i].price_cents;
        r->amo_cents += r->results[i].amo_cents - r->results[i].deduction_cents;
        r->amc_cents += r->results[i].amc_cents;
        r->patient_cents += r->results[i].patient_cents;
        r->reasons |= r->results[i].reasons;
    }
}

/* A claim that references a PEC is paid as agreed: same lines (code, quantity, side) as the
 * quote; per line the AMC part the PEC granted, within what the claim leaves after the AMO.
 * The PEC's hold on the counters becomes the claim's. */
static enum tp_err claim_with_pec(struct state *s, struct tp_claim_op *op, const struct ben *b,
                                  int64_t *pec_id, tp_day eq[4])
{
    static struct tp_claim_record pr; /* writer thread only */
    struct pec_extra px;
    sqlite3_stmt *st = stmt(s, S_PEC_BY_NUMBER);
    bind_str(st, 1, op->pec);
    enum tp_err rc = pec_read_row(s, st, &pr, &px);
    if (rc == TP_OK && pr.ps_id != op->ps_id)
        rc = TP_ERR_NOT_FOUND; /* another PS's PEC: indistinguishable from none */
    if (rc == TP_ERR_NOT_FOUND)
        return op_fail(op, rc, "unknown_pec", "no PEC of this PS has this number");
    if (rc != TP_OK)
        return rc;
    if (px.beneficiary_id != b->id)
        return op_fail(op, TP_ERR_INVALID, "pec_mismatch",
                       "the PEC was given for another beneficiary");
    if (strcmp(pr.status, "used") == 0)
        return op_fail(op, TP_ERR_CONFLICT, "pec_used", "the PEC was already used by a claim");
    if (strcmp(pr.status, "accepted") != 0 && strcmp(pr.status, "partially_accepted") != 0)
        return op_fail(op, TP_ERR_INVALID, "pec_not_valid",
                       "the PEC was refused, cancelled or has expired");
    if (op->date > pr.valid_until || op->date < pr.date)
        return op_fail(op, TP_ERR_INVALID, "pec_expired",
                       "the date of care is outside the PEC's validity");
    if (pr.n_lines != op->n_lines)
        return op_fail(op, TP_ERR_INVALID, "pec_mismatch",
                       "the claim's lines are not the PEC's (number of lines)");
    for (int i = 0; i < op->n_lines; i++) {
        const struct tp_claim_line *a = &op->lines[i], *q = &pr.lines[i];
        if (strcmp(a->code, q->code) != 0 || a->quantity != q->quantity || a->side != q->side)
            return op_fail(op, TP_ERR_INVALID, "pec_mismatch",
                           "the claim's lines are not the PEC's (code, quantity or side)");
    }
    for (int i = 0; i < op->n_lines; i++) {
        struct tp_line_result *x = &s->res.lines[i];
        int64_t room = x->price_cents - x->amo_cents + x->deduction_cents;
        int64_t agreed = pr.results[i].amc_cents;
        x->amc_cents = agreed < room ? agreed : (room > 0 ? room : 0);
        x->reasons = pr.results[i].reasons;
        x->status = pr.results[i].status;
        x->patient_cents = x->price_cents - x->amo_cents - x->amc_cents + x->deduction_cents;
    }
    s->res.n_counters = 0; /* the PEC's hold is moved, not consumed again */
    for (int i = 0; i < 4; i++)
        eq[i] = px.next[i];
    *pec_id = pr.id;
    return TP_OK;
}

static int all_refused(const struct tp_benefit_result *r, int n)
{
    for (int i = 0; i < n; i++)
        if (r->lines[i].status != TP_LINE_REFUSED)
            return 0;
    return 1;
}

static void fill_record_lines(struct tp_claim_record *rec, const struct tp_claim_op *op,
                              const struct tp_benefit_result *r)
{
    rec->n_lines = op->n_lines;
    memcpy(rec->lines, op->lines, (size_t)op->n_lines * sizeof op->lines[0]);
    memcpy(rec->results, r->lines, (size_t)op->n_lines * sizeof r->lines[0]);
    totals(rec);
}

/* Runs the engine for a submit; history in *h. */
static enum tp_err compute(struct state *s, struct tp_claim_op *op, const struct ben *b,
                           struct hist *h)
{
    const struct tp_guarantee_set *g;
    char msg[160];
    enum tp_err rc = guarantees(s, b->contract_id, op->date, &g, msg, sizeof msg);
    if (rc == TP_ERR_NOT_FOUND)
        return op_fail(op, TP_ERR_INVALID, "no_guarantees",
                       "the beneficiary's contract has no guarantees in force on that date");
    if (rc != TP_OK)
        return rc;
    rc = hist_load(s, b, op->date, h);
    if (rc != TP_OK)
        return rc;
    struct tp_claim c = {.date = op->date,
                         .age = op->age >= 0 ? op->age : 40,
                         .pf_exempt = op->pf_exempt,
                         .n_lines = op->n_lines,
                         .lines = op->lines};
    rc = tp_benefits_compute(g, tp_claims_refdata(), &h->h, &c, &s->res, msg, sizeof msg);
    if (rc != TP_OK)
        return op_fail(op, rc, "invalid_line", msg);
    return TP_OK;
}

static enum tp_err claim_submit(struct state *s, struct tp_claim_op *op, struct ben *b)
{
    uint8_t digest[32];
    content_digest(op, digest);
    /* Idempotency: the PS's invoice number. */
    sqlite3_stmt *st = stmt(s, S_CLAIM_BY_INVOICE);
    sqlite3_bind_int64(st, 1, op->ps_id);
    bind_str(st, 2, op->invoice);
    enum tp_err rc = run_row(s, st, "claim by invoice");
    if (rc == TP_OK) {
        int64_t id = sqlite3_column_int64(st, 0);
        int same = sqlite3_column_bytes(st, 1) == 32 &&
                   memcmp(sqlite3_column_blob(st, 1), digest, 32) == 0;
        sqlite3_reset(st);
        if (!same)
            return op_fail(op, TP_ERR_CONFLICT, "invoice_conflict",
                           "this invoice number was already used for a claim with other content");
        struct claim_extra x;
        rc = claim_load(s, id, &op->rec, &x);
        if (rc != TP_OK)
            return rc == TP_ERR_NOT_FOUND ? TP_ERR_INTERNAL : rc;
        op->replayed = 1;
        memcpy(b->ref, x.ref, TP_BIDX_LEN);
        snprintf(b->amc, sizeof b->amc, "%s", op->rec.amc);
        return TP_OK;
    }
    if (rc != TP_ERR_NOT_FOUND)
        return rc;

    rc = submit_beneficiary(s, op, b);
    if (rc != TP_OK)
        return rc;
    rc = expire_pecs(s, b->id, op->today);
    if (rc != TP_OK)
        return rc;
    struct hist h;
    rc = compute(s, op, b, &h);
    if (rc != TP_OK)
        return rc;
    tp_day prev[4] = {h.h.last_frame, h.h.last_lenses, h.h.last_aid[0], h.h.last_aid[1]};
    tp_day next[4] = {s->res.last_frame, s->res.last_lenses, s->res.last_aid[0],
                      s->res.last_aid[1]};
    int64_t pec_id = 0;
    if (op->pec[0]) {
        rc = claim_with_pec(s, op, b, &pec_id, next);
        if (rc != TP_OK)
            return rc;
        for (int i = 0; i < 4; i++)
            if (prev[i] != TP_DAY_NONE && (next[i] == TP_DAY_NONE || prev[i] > next[i]))
                next[i] = prev[i];
    }
    struct tp_claim_record *rec = &op->rec;
    memset(rec, 0, sizeof *rec);
    fill_record_lines(rec, op, &s->res);
    int rejected = all_refused(&s->res, op->n_lines);
    if (rejected) { /* nothing consumed, nothing remembered */
        s->res.n_counters = 0;
        memcpy(next, prev, sizeof next);
        s->res.pf_year_cents = h.h.pf_year_cents;
        s->res.franchise_year_cents = h.h.franchise_year_cents;
    }
    int64_t pf_delta = s->res.pf_year_cents - h.h.pf_year_cents;
    int64_t fr_delta = s->res.franchise_year_cents - h.h.franchise_year_cents;
    char reasons[256];
    tp_reasons_format(rec->reasons, reasons, sizeof reasons);

    st = stmt(s, S_CLAIM_INSERT);
    sqlite3_bind_int64(st, 1, op->ps_id);
    bind_str(st, 2, op->invoice);
    sqlite3_bind_blob(st, 3, digest, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, b->id);
    bind_str(st, 5, b->amc);
    bind_str_or_null(st, 6, op->engagement);
    bind_str_or_null(st, 7, op->pec);
    sqlite3_bind_int(st, 8, op->date);
    sqlite3_bind_int64(st, 9, op->now_ms);
    bind_str(st, 10, rejected ? "rejected" : "accepted");
    sqlite3_bind_int64(st, 11, rec->total_cents);
    sqlite3_bind_int64(st, 12, rec->amo_cents);
    sqlite3_bind_int64(st, 13, rec->amc_cents);
    sqlite3_bind_int64(st, 14, rec->patient_cents);
    bind_str(st, 15, reasons);
    for (int i = 0; i < 4; i++) {
        sqlite3_bind_int(st, 16 + i, prev[i]);
        sqlite3_bind_int(st, 20 + i, next[i]);
    }
    sqlite3_bind_int64(st, 24, pf_delta);
    sqlite3_bind_int64(st, 25, fr_delta);
    rc = run_row(s, st, "claim insert");
    if (rc != TP_OK)
        return rc == TP_ERR_NOT_FOUND ? TP_ERR_INTERNAL : rc;
    rec->id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    rc = lines_insert(s, 0, rec->id, op->n_lines, op->lines, s->res.lines);
    if (rc == TP_OK)
        rc = counters_apply(s, b, &s->res, 0, rec->id);
    if (rc == TP_OK && pec_id) {
        st = stmt(s, S_USE_MOVE);
        sqlite3_bind_int64(st, 1, pec_id);
        sqlite3_bind_int64(st, 2, rec->id);
        rc = run_done(s, st, "pec hold move");
        if (rc == TP_OK) {
            st = stmt(s, S_PEC_SET_STATUS);
            sqlite3_bind_int64(st, 1, pec_id);
            bind_str(st, 2, "used");
            sqlite3_bind_int64(st, 3, rec->id);
            rc = run_done(s, st, "pec used");
        }
    }
    if (rc == TP_OK && !rejected) {
        int y, m, d;
        tp_date_to_ymd(op->date, &y, &m, &d);
        /* Yearly totals are kept for the latest civil year seen. */
        if (!h.exists || y >= h.pf_year)
            rc = hist_put(s, b->id, next, y, s->res.pf_year_cents, s->res.franchise_year_cents);
        else
            rc = hist_put(s, b->id, next, h.pf_year, h.h.pf_year_cents, h.h.franchise_year_cents);
    }
    if (rc != TP_OK)
        return rc;
    rec->ps_id = op->ps_id;
    snprintf(rec->invoice, sizeof rec->invoice, "%s", op->invoice);
    snprintf(rec->status, sizeof rec->status, "%s", rejected ? "rejected" : "accepted");
    snprintf(rec->amc, sizeof rec->amc, "%s", b->amc);
    snprintf(rec->engagement, sizeof rec->engagement, "%s", op->engagement);
    snprintf(rec->pec, sizeof rec->pec, "%s", op->pec);
    rec->date = op->date;
    rec->submitted_ms = op->now_ms;
    return TP_OK;
}

static int visible(const struct tp_claim_op *op, int64_t owner_ps)
{
    return op->any_ps || owner_ps == op->ps_id;
}

static enum tp_err claim_get(struct state *s, struct tp_claim_op *op, struct ben *b)
{
    struct claim_extra x;
    enum tp_err rc = claim_load(s, op->id, &op->rec, &x);
    if (rc == TP_OK && !visible(op, op->rec.ps_id))
        rc = TP_ERR_NOT_FOUND;
    if (rc == TP_ERR_NOT_FOUND) {
        memset(&op->rec, 0, sizeof op->rec);
        return op_fail(op, rc, "not_found", "no such claim");
    }
    if (rc != TP_OK)
        return rc;
    memcpy(b->ref, x.ref, TP_BIDX_LEN);
    snprintf(b->amc, sizeof b->amc, "%s", op->rec.amc);
    b->id = x.beneficiary_id;
    if (op->kind != TP_COP_CLAIM_CANCEL)
        return TP_OK;

    if (strcmp(op->rec.status, "cancelled") == 0)
        return TP_OK; /* cancelling twice: the same answer */
    if (strcmp(op->rec.status, "paid") == 0 || op->rec.payment_run)
        return op_fail(op, TP_ERR_CONFLICT, "already_paid",
                       "the claim is in a payment run: it can no longer be cancelled");
    sqlite3_stmt *st = stmt(s, S_CLAIM_CANCEL);
    sqlite3_bind_int64(st, 1, op->id);
    sqlite3_bind_int64(st, 2, op->now_ms);
    rc = run_done(s, st, "claim cancel");
    if (rc != TP_OK)
        return rc;
    if (sqlite3_changes(s->db) != 1)
        return op_fail(op, TP_ERR_CONFLICT, "already_paid",
                       "the claim is in a payment run: it can no longer be cancelled");
    if (strcmp(op->rec.status, "accepted") == 0) {
        rc = counters_release(s, 0, op->id);
        /* Equipment dates and the year's PF go back to what they were, unless a later claim
         * has moved them on. */
        struct hist h;
        if (rc == TP_OK)
            rc = hist_load(s, b, op->rec.date, &h);
        if (rc == TP_OK && h.exists) {
            tp_day cur[4] = {h.h.last_frame, h.h.last_lenses, h.h.last_aid[0], h.h.last_aid[1]};
            for (int i = 0; i < 4; i++)
                if (cur[i] == x.next[i])
                    cur[i] = x.prev[i];
            int y, m, d;
            tp_date_to_ymd(op->rec.date, &y, &m, &d);
            int64_t pf = h.h.pf_year_cents, fr = h.h.franchise_year_cents;
            if (y == h.pf_year) {
                pf = pf > x.pf_delta ? pf - x.pf_delta : 0;
                fr = fr > x.franchise_delta ? fr - x.franchise_delta : 0;
            }
            rc = hist_put(s, b->id, cur, h.pf_year, pf, fr);
        }
        if (rc != TP_OK)
            return rc;
    }
    snprintf(op->rec.status, sizeof op->rec.status, "cancelled");
    return TP_OK;
}

static enum tp_err claim_list(struct state *s, struct tp_claim_op *op)
{
    int limit = op->limit < 1 || op->limit > TP_CLAIMS_PAGE_MAX ? TP_CLAIMS_PAGE_MAX : op->limit;
    sqlite3_stmt *st = stmt(s, S_CLAIM_LIST);
    sqlite3_bind_int64(st, 1, op->ps_id);
    sqlite3_bind_int64(st, 2, op->before > 0 ? op->before : INT64_MAX);
    sqlite3_bind_int(st, 3, limit + 1); /* one more: is there a next page? */
    int step, n = 0, more = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            more = 1;
            break;
        }
        struct tp_claim_summary *c = &op->list[n++];
        c->id = sqlite3_column_int64(st, 0);
        col_text(c->invoice, sizeof c->invoice, st, 1);
        col_text(c->status, sizeof c->status, st, 2);
        c->date = sqlite3_column_int(st, 3);
        c->submitted_ms = sqlite3_column_int64(st, 4);
        c->total_cents = sqlite3_column_int64(st, 5);
        c->amc_cents = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return db_error(s->db, "claim list");
    op->n_list = n;
    op->next_before = more ? op->list[n - 1].id : 0;
    return TP_OK;
}

static const char *pec_decision(const struct tp_benefit_result *r, int n)
{
    if (r->amc_cents <= 0)
        return "refused";
    for (int i = 0; i < n; i++)
        if (r->lines[i].status != TP_LINE_ACCEPTED)
            return "partially_accepted";
    return "accepted";
}

static enum tp_err pec_submit(struct state *s, struct tp_claim_op *op, struct ben *b)
{
    enum tp_err rc = submit_beneficiary(s, op, b);
    if (rc != TP_OK)
        return rc;
    const struct tp_refdata *rd = tp_claims_refdata();
    for (int i = 0; i < op->n_lines; i++) {
        const struct tp_act_ref *a =
            tp_refdata_act(rd, op->lines[i].code, strlen(op->lines[i].code), op->date);
        if (a && a->domain != op->domain)
            return op_fail(op, TP_ERR_INVALID, "domain_mismatch",
                           "every line of a quote must belong to the quote's care domain");
    }
    rc = expire_pecs(s, b->id, op->today);
    if (rc != TP_OK)
        return rc;
    struct hist h;
    rc = compute(s, op, b, &h);
    if (rc != TP_OK)
        return rc;
    struct tp_claim_record *rec = &op->rec;
    memset(rec, 0, sizeof *rec);
    rec->is_pec = 1;
    fill_record_lines(rec, op, &s->res);
    const char *decision = pec_decision(&s->res, op->n_lines);
    int refused = strcmp(decision, "refused") == 0;
    int months = op->validity_months > 0 ? op->validity_months : TP_PEC_VALIDITY_MONTHS;
    tp_day until = tp_date_add_months(op->date, months);
    char reasons[256];
    tp_reasons_format(rec->reasons, reasons, sizeof reasons);
    sqlite3_stmt *st = stmt(s, S_PEC_INSERT);
    bind_str(st, 1, op->pec);
    sqlite3_bind_int64(st, 2, op->ps_id);
    sqlite3_bind_int64(st, 3, b->id);
    bind_str(st, 4, b->amc);
    bind_str_or_null(st, 5, op->engagement);
    sqlite3_bind_int(st, 6, op->domain);
    sqlite3_bind_int(st, 7, op->date);
    sqlite3_bind_int(st, 8, until);
    sqlite3_bind_int64(st, 9, op->now_ms);
    bind_str(st, 10, decision);
    sqlite3_bind_int64(st, 11, rec->total_cents);
    sqlite3_bind_int64(st, 12, rec->amo_cents);
    sqlite3_bind_int64(st, 13, rec->amc_cents);
    sqlite3_bind_int64(st, 14, rec->patient_cents);
    bind_str(st, 15, reasons);
    sqlite3_bind_int(st, 16, s->res.last_frame);
    sqlite3_bind_int(st, 17, s->res.last_lenses);
    sqlite3_bind_int(st, 18, s->res.last_aid[0]);
    sqlite3_bind_int(st, 19, s->res.last_aid[1]);
    sqlite3_bind_int64(st, 20, s->res.pf_year_cents - h.h.pf_year_cents);
    sqlite3_bind_int64(st, 21, s->res.franchise_year_cents - h.h.franchise_year_cents);
    rc = run_row(s, st, "pec insert");
    if (rc != TP_OK)
        return rc == TP_ERR_NOT_FOUND ? TP_ERR_INTERNAL : rc;
    rec->id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    rc = lines_insert(s, 1, rec->id, op->n_lines, op->lines, s->res.lines);
    /* The amount agreed is held: the counters are consumed now, for the claim to come. */
    if (rc == TP_OK && !refused)
        rc = counters_apply(s, b, &s->res, 1, rec->id);
    if (rc != TP_OK)
        return rc;
    rec->ps_id = op->ps_id;
    snprintf(rec->number, sizeof rec->number, "%s", op->pec);
    snprintf(rec->status, sizeof rec->status, "%s", decision);
    snprintf(rec->amc, sizeof rec->amc, "%s", b->amc);
    snprintf(rec->engagement, sizeof rec->engagement, "%s", op->engagement);
    rec->domain = op->domain;
    rec->date = op->date;
    rec->valid_until = until;
    rec->submitted_ms = op->now_ms;
    return TP_OK;
}

static enum tp_err pec_get(struct state *s, struct tp_claim_op *op, struct ben *b)
{
    struct pec_extra x;
    sqlite3_stmt *st = stmt(s, S_PEC_GET);
    sqlite3_bind_int64(st, 1, op->id);
    enum tp_err rc = pec_read_row(s, st, &op->rec, &x);
    if (rc == TP_OK && !visible(op, op->rec.ps_id))
        rc = TP_ERR_NOT_FOUND;
    if (rc == TP_ERR_NOT_FOUND) {
        memset(&op->rec, 0, sizeof op->rec);
        return op_fail(op, rc, "not_found", "no such PEC");
    }
    if (rc != TP_OK)
        return rc;
    memcpy(b->ref, x.ref, TP_BIDX_LEN);
    snprintf(b->amc, sizeof b->amc, "%s", op->rec.amc);
    b->id = x.beneficiary_id;
    if (op->kind != TP_COP_PEC_CANCEL || strcmp(op->rec.status, "cancelled") == 0)
        return TP_OK;
    if (strcmp(op->rec.status, "used") == 0)
        return op_fail(op, TP_ERR_CONFLICT, "pec_used",
                       "the PEC was used by a claim: cancel the claim instead");
    if (strcmp(op->rec.status, "accepted") == 0 ||
        strcmp(op->rec.status, "partially_accepted") == 0) {
        rc = counters_release(s, 1, op->id);
        if (rc != TP_OK)
            return rc;
    }
    st = stmt(s, S_PEC_SET_STATUS);
    sqlite3_bind_int64(st, 1, op->id);
    bind_str(st, 2, "cancelled");
    sqlite3_bind_null(st, 3);
    rc = run_done(s, st, "pec cancel");
    if (rc == TP_OK)
        snprintf(op->rec.status, sizeof op->rec.status, "cancelled");
    return rc;
}

/* ---- entry point ---------------------------------------------------------------------------- */

static const char *fields_of(const struct tp_claim_op *op)
{
    switch (op->kind) {
    case TP_COP_CLAIM_SUBMIT:
    case TP_COP_CLAIM_GET:
    case TP_COP_CLAIM_CANCEL:
        return "claim,care_lines,amounts";
    case TP_COP_CLAIM_LIST:
        return "claim_list";
    case TP_COP_PEC_SUBMIT:
    case TP_COP_PEC_GET:
    case TP_COP_PEC_CANCEL:
        return "pec,care_lines,amounts";
    case TP_COP_CONTRACT_VERSION_PUT:
        break;
    }
    return "";
}

enum tp_err tp_claims_sqlite_apply(struct sqlite3 *db, void **slot, struct tp_write_intent *wi)
{
    struct tp_claim_op *op = wi->claim_op;
    struct state *s = state_get(db, slot);
    if (!s)
        return TP_ERR_IO;
    /* A batch that failed is replayed intent by intent: start from a clean output. */
    op->err = TP_OK;
    op->code[0] = op->msg[0] = '\0';
    op->replayed = 0;
    op->n_list = 0;
    op->next_before = 0;
    if ((op->kind == TP_COP_CLAIM_SUBMIT || op->kind == TP_COP_PEC_SUBMIT) && !tp_claims_refdata())
        return TP_ERR_INTERNAL;

    enum tp_err rc = run_done(s, stmt(s, S_SAVEPOINT), "savepoint");
    if (rc != TP_OK)
        return rc;
    struct ben b;
    memset(&b, 0, sizeof b);
    switch (op->kind) {
    case TP_COP_CLAIM_SUBMIT:
        rc = claim_submit(s, op, &b);
        break;
    case TP_COP_CLAIM_GET:
    case TP_COP_CLAIM_CANCEL:
        rc = claim_get(s, op, &b);
        break;
    case TP_COP_CLAIM_LIST:
        rc = claim_list(s, op);
        break;
    case TP_COP_PEC_SUBMIT:
        rc = pec_submit(s, op, &b);
        break;
    case TP_COP_PEC_GET:
    case TP_COP_PEC_CANCEL:
        rc = pec_get(s, op, &b);
        break;
    case TP_COP_CONTRACT_VERSION_PUT:
        rc = version_put(s, op);
        break;
    default:
        rc = op_fail(op, TP_ERR_INVALID, "invalid", "unknown operation");
        break;
    }
    /* An input error is the operation's outcome, not the batch's: undo its writes only. */
    int input_error = rc != TP_OK && op->err == rc;
    if (rc == TP_OK || input_error) {
        enum tp_err r2 = TP_OK;
        if (input_error)
            r2 = run_done(s, stmt(s, S_ROLLBACK_TO), "rollback to savepoint");
        if (r2 == TP_OK)
            r2 = run_done(s, stmt(s, S_RELEASE), "release savepoint");
        if (r2 != TP_OK)
            return r2;
        rc = TP_OK;
    } else {
        op->err = TP_OK; /* a storage failure: the whole batch fails and is replayed */
        return rc;
    }

    if (wi->has_event) {
        struct tp_access_event *ev = &wi->event;
        int disclosed = op->err == TP_OK && op->kind != TP_COP_CLAIM_LIST;
        ev->has_beneficiary = disclosed;
        if (disclosed) {
            memcpy(ev->beneficiary_ref, b.ref, TP_EVENT_REF_LEN);
            snprintf(ev->amc, sizeof ev->amc, "%s", b.amc);
        }
        const char *outcome = op->err != TP_OK                ? op->code
                              : op->replayed                  ? "replayed"
                              : op->kind == TP_COP_CLAIM_LIST ? "listed"
                                                              : op->rec.status;
        snprintf(ev->outcome, sizeof ev->outcome, "%.23s", outcome);
        snprintf(ev->fields, sizeof ev->fields, "%s", op->err == TP_OK ? fields_of(op) : "");
    }
    return TP_OK;
}

/* ---- synchronous use and reference data ------------------------------------------------------ */

enum tp_err tp_claims_run(struct tp_store *s, struct tp_claim_op *op)
{
    struct tp_write_intent wi;
    memset(&wi, 0, sizeof wi);
    wi.claim_op = op;
    return tp_store_write_sync(s, &wi);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum tp_err tp_claims_refdata_load(const char *dir, struct tp_refdata **out, char *msg,
                                   size_t msglen)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open the reference data folder %s", dir);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0 && e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    /* Files in name order: the result never depends on the directory's order. */
    qsort(names, (size_t)n, sizeof names[0], name_cmp);
    struct tp_refdata *rd = malloc(sizeof *rd);
    char *buf = malloc(TP_REF_TEXT_MAX + 1);
    enum tp_err rc = rd && buf ? TP_OK : TP_ERR_NOMEM;
    if (rc == TP_OK)
        tp_refdata_init(rd);
    for (int i = 0; i < n; i++) {
        if (rc != TP_OK || !names[i]) {
            rc = rc == TP_OK ? TP_ERR_NOMEM : rc;
            continue;
        }
        char path[4096], m[200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        size_t len = f ? fread(buf, 1, TP_REF_TEXT_MAX + 1, f) : 0;
        if (!f || ferror(f)) {
            rc = tp_fail(msg, msglen, TP_ERR_IO, "cannot read %s", path);
        } else if (len > TP_REF_TEXT_MAX) {
            rc = tp_fail(msg, msglen, TP_ERR_TOO_BIG, "%s: larger than %u bytes", path,
                         TP_REF_TEXT_MAX);
        } else if (tp_refdata_load(rd, buf, len, m, sizeof m) != TP_OK) {
            rc = tp_fail(msg, msglen, TP_ERR_INVALID, "%s: %s", path, m);
        }
        if (f)
            fclose(f);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(buf);
    if (rc == TP_OK && n == 0)
        rc = tp_fail(msg, msglen, TP_ERR_INVALID, "no reference data (*.txt) in %s", dir);
    char m[200];
    if (rc == TP_OK && tp_refdata_finish(rd, m, sizeof m) != TP_OK)
        rc = tp_fail(msg, msglen, TP_ERR_INVALID, "%s: %s", dir, m);
    if (rc != TP_OK) {
        free(rd);
        return rc;
    }
    *out = rd;
    return TP_OK;
}
