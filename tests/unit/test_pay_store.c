/* Payment runs in the store (store/pay.h): assignment of the accepted unpaid claims, resuming
 * an unfinished run, completion, deterministic files, advances paid then reconciled, and the
 * refusals. The claim table belongs to the claims module: created here if it is absent, with
 * the columns that module guarantees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/population.h"
#include "store/pay.h"
#include "store/store.h"

#define N_PS 6
#define DAY_MS INT64_C(86400000)
#define NOW_MS INT64_C(1790000000000) /* 2026-09-21 */

struct fixture {
    char dir[64], db[128], out[128];
    sqlite3 *raw;
    struct tp_pay *pay;
    int64_t ps[N_PS];
    char amc[3][10];
    int next_invoice;
};

static const char claim_table[] =
    "CREATE TABLE IF NOT EXISTS claim(id INTEGER PRIMARY KEY, ps_id INTEGER NOT NULL,"
    " invoice TEXT NOT NULL, content_digest BLOB NOT NULL, beneficiary_id INTEGER NOT NULL,"
    " amc_number TEXT NOT NULL, engagement TEXT, pec TEXT, date_of_care INTEGER NOT NULL,"
    " submitted_ms INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('accepted',"
    " 'rejected', 'cancelled', 'paid')), total_cents INTEGER, amo_cents INTEGER,"
    " amc_cents INTEGER, patient_cents INTEGER NOT NULL, reasons TEXT NOT NULL,"
    " payment_run INTEGER, UNIQUE(ps_id, invoice))";

static void sql(struct fixture *f, const char *s)
{
    char *err = NULL;
    if (sqlite3_exec(f->raw, s, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", s, err);
}

static int64_t q(struct fixture *f, const char *s)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->raw, s, -1, &st, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Adds n claims of PS index i, AMC index a, of amount cents each, with status. */
static void add_claims(struct fixture *f, int i, int a, int n, int64_t cents, const char *status)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(f->raw,
                           "INSERT INTO claim(ps_id, invoice, content_digest, beneficiary_id,"
                           " amc_number, date_of_care, submitted_ms, status, total_cents,"
                           " amo_cents, amc_cents, patient_cents, reasons)"
                           " VALUES (?1, ?2, x'00', 1, ?3, 20500, 0, ?4, 0, 0, ?5, 0, '')",
                           -1, &st, NULL),
        SQLITE_OK);
    for (int k = 0; k < n; k++) {
        char inv[32];
        snprintf(inv, sizeof inv, "F-%d", ++f->next_invoice);
        sqlite3_bind_int64(st, 1, f->ps[i]);
        sqlite3_bind_text(st, 2, inv, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, f->amc[a], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, cents);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static void set_account(struct fixture *f)
{
    struct tp_pay_account a = {
        .name = "Plateforme opentp", .iban = "FR7630006000011234567890189", .bic = "AGRIFRPP"};
    assert_int_equal(tp_pay_account_set(f->pay, &a, NULL, 0), TP_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tp_pay_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/opentp.db", f->dir);
    snprintf(f->out, sizeof f->out, "%s/payments", f->dir);
    struct tp_store *s = NULL;
    if (tp_store_open(f->db, &s, NULL, 0) != TP_OK)
        return -1;
    const struct tp_store_ops *ops = tp_store_ops(s);
    for (int i = 0; i < 3; i++) {
        struct tp_amc a;
        tp_pop_amc(1, i, &a);
        snprintf(f->amc[i], sizeof f->amc[i], "%s", a.number);
        if (ops->amc_upsert(tp_store_impl(s), &a, NULL) != TP_OK)
            return -1;
    }
    for (int i = 0; i < N_PS; i++) {
        struct tp_ps p;
        tp_pop_ps(1, i, &p);
        if (ops->ps_upsert(tp_store_impl(s), &p, &f->ps[i]) != TP_OK)
            return -1;
    }
    tp_store_close(s);
    if (sqlite3_open(f->db, &f->raw) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(f->raw, 5000);
    if (sqlite3_exec(f->raw, claim_table, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (tp_pay_open(f->db, &f->pay, NULL, 0) != TP_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tp_pay_close(f->pay);
    sqlite3_close(f->raw);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void nothing_to_pay_and_no_account(void **state)
{
    struct fixture *f = *state;
    struct tp_pay_run_info r;
    int resumed = 1;
    char msg[160];
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 0, &r, &resumed, msg, sizeof msg),
                     TP_ERR_NOT_FOUND);
    assert_int_equal(resumed, 0);
    add_claims(f, 0, 0, 3, 1000, "accepted");
    /* Something to pay but nowhere to pay it from: refused, nothing assigned. */
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 0, &r, &resumed, msg, sizeof msg),
                     TP_ERR_CONFLICT);
    assert_non_null(strstr(msg, "paying account"));
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE payment_run IS NOT NULL"), 0);
    assert_int_equal(q(f, "SELECT count(*) FROM payment_run"), 0);
    /* A paying account with a bad IBAN is refused when set. */
    struct tp_pay_account bad = {
        .name = "X", .iban = "FR7630006000011234567890188", .bic = "AGRIFRPP"};
    assert_int_equal(tp_pay_account_set(f->pay, &bad, msg, sizeof msg), TP_ERR_INVALID);
}

static void assigns_accepted_unpaid_claims_only(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    add_claims(f, 0, 0, 5, 1000, "accepted");
    add_claims(f, 0, 1, 2, 250, "accepted");
    add_claims(f, 1, 2, 4, 300, "accepted");
    add_claims(f, 1, 2, 3, 999, "rejected");
    add_claims(f, 2, 0, 2, 777, "cancelled");
    add_claims(f, 3, 0, 1, 0, "accepted"); /* AMC part 0: closed, listed nowhere */
    struct tp_pay_run_info r;
    int resumed = 1;
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 7, &r, &resumed, NULL, 0), TP_OK);
    assert_int_equal(resumed, 0);
    assert_false(r.done);
    assert_string_equal(r.msg_id, "OPENTP-PAY-000001");
    assert_int_equal(r.claims, 5 + 2 + 4 + 1);
    assert_int_equal(r.claims_cents, 5000 + 500 + 1200);
    assert_int_equal(r.ps, 2);
    assert_int_equal(r.transfers, 2);
    assert_int_equal(r.transfer_cents, 6700);
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE payment_run = 1"), 12);
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE status != 'accepted'"
                          " AND payment_run IS NOT NULL"),
                     0);
    /* Per AMC: PS0 has two lines, PS1 one; statements for the three AMCs with claims. */
    assert_int_equal(q(f, "SELECT count(*) FROM pay_line WHERE run_id = 1"), 3);
    assert_int_equal(q(f, "SELECT count(*) FROM pay_statement WHERE run_id = 1"), 3);
    /* Still 'accepted' until phase 3. */
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE status = 'paid'"), 0);
}

static void holds_ps_with_bad_bank_details_or_unfit_claims(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    add_claims(f, 0, 0, 2, 1000, "accepted");
    add_claims(f, 1, 0, 2, 1000, "accepted");
    add_claims(f, 2, 0, 2, 1000, "accepted");
    char s[200];
    snprintf(s, sizeof s, "UPDATE ps SET iban = 'FR7630006000011234567890188' WHERE id = %lld",
             (long long)f->ps[1]);
    sql(f, s);
    snprintf(s, sizeof s,
             "UPDATE claim SET invoice = 'F_1' WHERE id = (SELECT min(id) FROM claim"
             " WHERE ps_id = %lld)",
             (long long)f->ps[2]);
    sql(f, s);
    struct tp_pay_run_info r;
    int resumed;
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 0, &r, &resumed, NULL, 0), TP_OK);
    assert_int_equal(r.held_ps, 2);
    assert_int_equal(r.ps, 1);
    assert_int_equal(r.claims, 2);
    /* The held PS's claims stay accepted and unassigned, for a later run. */
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE payment_run IS NULL"), 4);
}

static void refuses_negative_amc_part(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    add_claims(f, 0, 0, 2, 1000, "accepted");
    add_claims(f, 1, 0, 1, -5, "accepted");
    struct tp_pay_run_info r;
    int resumed;
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 0, &r, &resumed, NULL, 0),
                     TP_ERR_INVALID);
    assert_int_equal(q(f, "SELECT count(*) FROM payment_run"), 0);
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE payment_run IS NOT NULL"), 0);
}

static void resumes_the_unfinished_run(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    add_claims(f, 0, 0, 3, 1000, "accepted");
    struct tp_pay_run_info r1, r2, r3;
    int resumed;
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 0, &r1, &resumed, NULL, 0), TP_OK);
    /* Claims accepted after the assignment wait for the next run. */
    add_claims(f, 0, 0, 2, 500, "accepted");
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS + 5000, 20501, 0, &r2, &resumed, NULL, 0),
                     TP_OK);
    assert_int_equal(resumed, 1);
    assert_int_equal(r2.id, r1.id);
    assert_int_equal(r2.created_ms, NOW_MS);    /* same CreDtTm: the same file */
    assert_int_equal(r2.execution_date, 20500); /* the first attempt's date */
    assert_int_equal(r2.claims, 3);
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE payment_run IS NULL"), 2);
    assert_int_equal(tp_pay_complete(f->pay, r1.id, NOW_MS, NULL, 0), TP_OK);
    assert_int_equal(tp_pay_complete(f->pay, r1.id, NOW_MS, NULL, 0), TP_OK); /* idempotent */
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE status = 'paid' AND payment_run = 1"),
                     3);
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20502, 0, &r3, &resumed, NULL, 0), TP_OK);
    assert_int_equal(resumed, 0);
    assert_int_equal(r3.id, r1.id + 1);
    assert_int_equal(r3.claims, 2);
    assert_int_equal(r3.claims_cents, 1000);
}

/* Reads a whole file into buf; returns its length. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static void files_are_the_same_when_written_again(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    add_claims(f, 0, 0, 30, 1234, "accepted");
    add_claims(f, 1, 1, 7, 99, "accepted");
    add_claims(f, 2, 2, 1, 100000, "accepted");
    struct tp_pay_run_info r;
    int resumed;
    assert_int_equal(tp_pay_prepare(f->pay, NOW_MS, 20500, 0, &r, &resumed, NULL, 0), TP_OK);
    char a[200], b[200], pa[600], pb[600];
    snprintf(a, sizeof a, "%s/a", f->dir);
    snprintf(b, sizeof b, "%s/b", f->dir);
    assert_int_equal(mkdir(a, 0700), 0);
    assert_int_equal(mkdir(b, 0700), 0);
    char msg[256];
    assert_int_equal(tp_pay_run_files(f->pay, &r, a, 0, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_pay_run_files(f->pay, &r, b, 0, msg, sizeof msg), TP_OK);
    snprintf(pa, sizeof pa, "%s/%s", a, r.msg_id);
    DIR *d = opendir(pa);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    static char ba[1 << 16], bb[1 << 16];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(pa, sizeof pa, "%s/%s/%s", a, r.msg_id, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s/%s", b, r.msg_id, e->d_name);
        struct stat st;
        assert_int_equal(stat(pa, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        size_t na = slurp(pa, ba, sizeof ba), nb = slurp(pb, bb, sizeof bb);
        assert_int_equal(na, nb);
        assert_memory_equal(ba, bb, na);
        files++;
    }
    closedir(d);
    /* xml + run.txt + 3 advices x 2 + 3 statements x 2 */
    assert_int_equal(files, 2 + 6 + 6);
    snprintf(pa, sizeof pa, "%s/%s", a, r.msg_id);
    struct stat st;
    assert_int_equal(stat(pa, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* The XML's control sum is the claims' total. */
    snprintf(pa, sizeof pa, "%s/%s/%s.xml", a, r.msg_id, r.msg_id);
    size_t n = slurp(pa, ba, sizeof ba - 1);
    ba[n] = '\0';
    assert_non_null(strstr(ba, "<NbOfTxs>3</NbOfTxs>"));
    assert_non_null(strstr(ba, "<CtrlSum>1377.13</CtrlSum>"));
    /* A folder under its final name is complete: not written again. */
    assert_int_equal(tp_pay_run_files(f->pay, &r, a, 0, msg, sizeof msg), TP_OK);
}

static void run_end_to_end_and_lock(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    add_claims(f, 0, 0, 4, 500, "accepted");
    struct tp_pay_options o = {.out_dir = f->out, .now_ms = NOW_MS, .execution_date = 20500};
    struct tp_pay_run_info r;
    int resumed, fd = -1;
    char msg[200];
    /* Another holder of the lock: refused. */
    assert_int_equal(tp_pay_lock(f->out, &fd, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_ERR_BUSY);
    tp_pay_unlock(fd);
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_OK);
    assert_true(r.done);
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE status = 'paid'"), 4);
    assert_int_equal(q(f, "SELECT count(*) FROM payment_run WHERE status = 'done'"), 1);
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_ERR_NOT_FOUND);
    size_t n = 0;
    struct tp_pay_run_info list[4];
    assert_int_equal(tp_pay_run_list(f->pay, list, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].transfer_cents, 2000);
}

static void advances_are_paid_then_reconciled(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    const struct tp_advance_policy pol = TP_ADVANCE_POLICY_DEFAULT;
    struct tp_pay_options o = {.out_dir = f->out, .now_ms = NOW_MS, .execution_date = 20500};
    struct tp_pay_run_info r;
    struct tp_pay_advance_view v;
    int64_t id = 0, granted = 0;
    int resumed;
    char msg[200];
    /* No volume yet: the rule proposes nothing. */
    assert_int_equal(tp_pay_advance_grant(f->pay, f->ps[0], 0, &pol, NOW_MS, 3, &id, &v, &granted,
                                          msg, sizeof msg),
                     TP_ERR_CONFLICT);
    assert_int_equal(tp_pay_advance_grant(f->pay, 999999, 100, &pol, NOW_MS, 3, &id, &v, &granted,
                                          msg, sizeof msg),
                     TP_ERR_NOT_FOUND);
    /* 30,000.00 EUR paid to PS0 (two AMCs, 2:1) in a run: 80 % x 1,000/day x 7 = 5,600.00. */
    add_claims(f, 0, 0, 20, 100000, "accepted");
    add_claims(f, 0, 1, 10, 100000, "accepted");
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_OK);
    assert_int_equal(
        tp_pay_advance_propose(f->pay, f->ps[0], &pol, NOW_MS + DAY_MS, &v, msg, sizeof msg),
        TP_OK);
    assert_int_equal(v.paid_in_window_cents, 3000000);
    assert_int_equal(v.proposed_cents, 560000);
    assert_int_equal(tp_pay_advance_grant(f->pay, f->ps[0], 0, &pol, NOW_MS + DAY_MS, 3, &id, &v,
                                          &granted, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(granted, 560000);
    /* Outstanding now: a second proposal is zero. */
    assert_int_equal(tp_pay_advance_grant(f->pay, f->ps[0], 0, &pol, NOW_MS + DAY_MS, 3, &id, &v,
                                          &granted, msg, sizeof msg),
                     TP_ERR_CONFLICT);
    /* Run 2 pays the advance (its own transfer) and PS1's claims; no deduction yet. */
    add_claims(f, 1, 0, 1, 700, "accepted");
    o.now_ms = NOW_MS + 2 * DAY_MS;
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_OK);
    assert_int_equal(r.advances_cents, 560000);
    assert_int_equal(r.transfers, 2);
    assert_int_equal(r.transfer_cents, 560700);
    assert_int_equal(r.deducted_cents, 0);
    /* Attributed to PS0's AMCs in proportion 2:1 (largest remainder). */
    assert_int_equal(q(f, "SELECT sum(granted_cents) FROM pay_statement WHERE run_id = 2"), 560000);
    char s[200];
    snprintf(s, sizeof s, "SELECT granted_cents FROM pay_statement WHERE run_id = 2 AND amc = '%s'",
             f->amc[0]);
    assert_int_equal(q(f, s), 373333);
    /* Run 3: PS0 earns 4,000.00, all of it taken by the advance: no transfer to PS0. */
    add_claims(f, 0, 0, 3, 100000, "accepted");
    add_claims(f, 0, 2, 1, 100000, "accepted");
    o.now_ms = NOW_MS + 3 * DAY_MS;
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_OK);
    assert_int_equal(r.deducted_cents, 400000);
    assert_int_equal(r.transfers, 0);
    assert_int_equal(q(f, "SELECT balance_after_cents FROM pay_transfer WHERE run_id = 3"), 160000);
    assert_int_equal(q(f, "SELECT sum(by_advance_cents) FROM pay_line WHERE run_id = 3"), 400000);
    assert_int_equal(
        q(f, "SELECT by_advance_cents FROM pay_line WHERE run_id = 3 AND amc = "
             "(SELECT min(amc) FROM pay_line WHERE run_id = 3 AND amount_cents = 100000)"),
        100000);
    /* Run 4: 2,500.00 more; 1,600.00 deducted, 900.00 transferred, balance 0. */
    add_claims(f, 0, 0, 5, 50000, "accepted");
    o.now_ms = NOW_MS + 4 * DAY_MS;
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_OK);
    assert_int_equal(r.deducted_cents, 160000);
    assert_int_equal(r.transfer_cents, 90000);
    assert_int_equal(q(f, "SELECT balance_after_cents FROM pay_transfer WHERE run_id = 4"), 0);
    /* Over all runs: transfers = AMC parts + advances paid - deductions. */
    assert_int_equal(q(f, "SELECT sum(net_cents + advance_cents) - (SELECT sum(amc_cents) FROM"
                          " claim) - (SELECT sum(amount_cents) FROM advance)"
                          " + (SELECT sum(deducted_cents) FROM pay_transfer) FROM pay_transfer"),
                     0);
}

/* Counts the lines of a file that start with prefix. */
static int count_lines(const char *path, const char *prefix)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(fp);
    return n;
}

/* More claims per PS and more PS per AMC than the readers' first allocation (256): every
 * invoice in the advice, every PS in the statement (the views must follow the buffers as they
 * grow). */
static void large_ps_and_statements(void **state)
{
    struct fixture *f = *state;
    set_account(f);
    sql(f, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
           " INSERT INTO ps(identifier, profession, finess, rpps, am_number, name, address, iban,"
           " bic) SELECT printf('8%08d', i), profession, '', '', '', name || ' ' || i, address,"
           " iban, bic FROM n, (SELECT * FROM ps ORDER BY id LIMIT 1)");
    char s[600];
    snprintf(s, sizeof s,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 900)"
             " INSERT INTO claim(ps_id, invoice, content_digest, beneficiary_id, amc_number,"
             " date_of_care, submitted_ms, status, total_cents, amo_cents, amc_cents,"
             " patient_cents, reasons) SELECT CASE WHEN i <= 300 THEN (SELECT id FROM ps WHERE"
             " identifier = printf('8%%08d', i)) ELSE %lld END, 'L' || i, x'00', 1, '%s', 20500,"
             " 0, 'accepted', 0, 0, 100 + i, 0, '' FROM n",
             (long long)f->ps[0], f->amc[0]);
    sql(f, s);
    struct tp_pay_options o = {.out_dir = f->out, .now_ms = NOW_MS, .execution_date = 20500};
    struct tp_pay_run_info r;
    int resumed;
    char msg[200], path[400];
    assert_int_equal(tp_pay_run(f->pay, &o, &r, &resumed, msg, sizeof msg), TP_OK);
    assert_int_equal(r.claims, 900);
    assert_int_equal(r.ps, 301);
    struct tp_ps p0;
    tp_pop_ps(1, 0, &p0);
    const char *ident = p0.finess[0] ? p0.finess : p0.rpps;
    snprintf(path, sizeof path, "%s/%s/advice-%s.csv", f->out, r.msg_id, ident);
    assert_int_equal(count_lines(path, "invoice,L"), 600);
    snprintf(path, sizeof path, "%s/%s/statement-%s.csv", f->out, r.msg_id, f->amc[0]);
    assert_int_equal(count_lines(path, "8"), 300);
    assert_int_equal(count_lines(path, "TOTAL,301 PS,900,"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nothing_to_pay_and_no_account, setup, teardown),
        cmocka_unit_test_setup_teardown(assigns_accepted_unpaid_claims_only, setup, teardown),
        cmocka_unit_test_setup_teardown(holds_ps_with_bad_bank_details_or_unfit_claims, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refuses_negative_amc_part, setup, teardown),
        cmocka_unit_test_setup_teardown(resumes_the_unfinished_run, setup, teardown),
        cmocka_unit_test_setup_teardown(files_are_the_same_when_written_again, setup, teardown),
        cmocka_unit_test_setup_teardown(run_end_to_end_and_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(advances_are_paid_then_reconciled, setup, teardown),
        cmocka_unit_test_setup_teardown(large_ps_and_statements, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
