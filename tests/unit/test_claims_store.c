/* Claims and PECs in the store (store/claims.h), through the group-commit writer: the engine's
 * amounts, idempotency on the invoice number, ceilings consumed atomically by concurrent
 * claims, cancellation giving back what was consumed, a PEC's hold used by its claim, bad
 * input storing nothing, paging, and one PS never seeing another's objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/log.h"
#include "core/population.h"
#include "store/claims.h"
#include "store/store.h"

/* Contact lenses: a forfait of 100 EUR a civil year, per beneficiary; medicines at the TM. */
static const char guarantees[] = "version from 2020-01-01\n"
                                 "responsable=no\n"
                                 "OPTIQUE.LENTILLE kind=forfait amount=100.00 per=year\n"
                                 "PHARMACIE.MEDICAMENT kind=pct_br rate=100% base=incl_amo\n";

struct fixture {
    char dir[64];
    char db[128];
    struct tp_keys *keys;
    struct tp_store *store;
    struct tp_audit_log *audit;
    struct tp_refdata *rd;
    sqlite3 *raw; /* read-only, to check what was stored */
    int64_t contract_id, ps1, ps2, ben[2];
    tp_day today, care;
};

static struct tp_claim_op *op_new(const struct fixture *f, enum tp_claim_op_kind kind, int64_t ps)
{
    struct tp_claim_op *op = calloc(1, sizeof *op);
    op->kind = kind;
    op->ps_id = ps;
    op->now_ms = 1795000000000LL;
    op->today = f->today;
    op->date = f->care;
    op->age = 40;
    return op;
}

/* A claim of one contact-lens line: price p, AMO 40 % of it (BR = price, rate 60 %). */
static struct tp_claim_op *lens_claim(const struct fixture *f, int64_t ps, int ben,
                                      const char *invoice, int64_t price)
{
    struct tp_claim_op *op = op_new(f, TP_COP_CLAIM_SUBMIT, ps);
    snprintf(op->invoice, sizeof op->invoice, "%s", invoice);
    op->beneficiary_id = f->ben[ben];
    op->n_lines = 1;
    snprintf(op->lines[0].code, sizeof op->lines[0].code, "OPT_LENT");
    op->lines[0].quantity = 1;
    op->lines[0].unit_price_cents = price;
    op->lines[0].br_cents = price;
    op->lines[0].amo_rate_bp = 6000;
    op->lines[0].amo_cents = -1;
    return op;
}

static int64_t q(struct fixture *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(f->raw, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void run(struct fixture *f, struct tp_claim_op *op)
{
    assert_int_equal(tp_claims_run(f->store, op), TP_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tp_claims_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char key[128], audit[128], msg[256], ref[512];
    snprintf(f->db, sizeof f->db, "%s/opentp.db", f->dir);
    snprintf(key, sizeof key, "%s/master.key", f->dir);
    snprintf(audit, sizeof audit, "%s/audit", f->dir);
    if (tp_keys_create_file(key, NULL, 0) != TP_OK ||
        tp_keys_load(key, &f->keys, NULL, 0) != TP_OK ||
        tp_store_open(f->db, &f->store, NULL, 0) != TP_OK)
        return -1;
    struct tp_audit_config acfg;
    tp_audit_config_default(&acfg);
    if (tp_audit_log_open(audit, tp_keys_audit_mac_key(f->keys), tp_keys_audit_sign_seed(f->keys),
                          &acfg, &f->audit, NULL, 0) != TP_OK)
        return -1;
    tp_store_set_audit(f->store, f->audit);
    /* The reference data of the source tree, found from this file's path. */
    snprintf(ref, sizeof ref, "%s", __FILE__);
    char *cut = strstr(ref, "tests/unit/");
    if (!cut)
        return -1;
    snprintf(cut, sizeof ref - (size_t)(cut - ref), "data/reference");
    if (tp_claims_refdata_load(ref, &f->rd, msg, sizeof msg) != TP_OK) {
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    tp_claims_set_refdata(f->rd);

    const struct tp_store_ops *ops = tp_store_ops(f->store);
    void *impl = tp_store_impl(f->store);
    struct tp_amc a;
    tp_pop_amc(1, 0, &a);
    static struct tp_contract c;
    tp_pop_contract(1, 0, 0, &c);
    snprintf(c.amc, sizeof c.amc, "%s", a.number);
    c.valid_from = tp_date_from_ymd(2020, 1, 1);
    struct tp_ps p1, p2;
    tp_pop_ps(1, 0, &p1);
    tp_pop_ps(1, 1, &p2);
    if (ops->amc_upsert(impl, &a, NULL) != TP_OK ||
        ops->contract_upsert(impl, &c, &f->contract_id) != TP_OK ||
        ops->ps_upsert(impl, &p1, &f->ps1) != TP_OK || ops->ps_upsert(impl, &p2, &f->ps2) != TP_OK)
        return -1;
    struct tp_pop_iter it;
    tp_pop_iter_init(&it, 1);
    static struct tp_beneficiary people[2];
    static struct tp_sealed_beneficiary sealed[2];
    f->today = tp_date_from_ymd(2026, 6, 15);
    f->care = tp_date_from_ymd(2026, 6, 10);
    for (int i = 0; i < 2; i++) {
        do
            tp_pop_next(&it, &people[i]);
        while (i == 1 && strcmp(people[1].member, people[0].member) == 0);
        snprintf(people[i].amc, sizeof people[i].amc, "%s", a.number);
        snprintf(people[i].contract, sizeof people[i].contract, "%s", c.code);
        people[i].coverage_start = tp_date_from_ymd(2020, 1, 1);
        people[i].coverage_end = tp_date_from_ymd(2026, 12, 31);
        people[i].tp_domains = TP_DOM_ALL;
        if (tp_beneficiary_seal(f->keys, &people[i], &sealed[i]) != TP_OK)
            return -1;
    }
    if (ops->beneficiaries_upsert(impl, sealed, 2, NULL) != TP_OK)
        return -1;
    for (int i = 0; i < 2; i++)
        if (ops->beneficiary_id_by_member(impl, sealed[i].bidx_member, people[i].rank,
                                          &f->ben[i]) != TP_OK)
            return -1;
    struct tp_claim_op *op = op_new(f, TP_COP_CONTRACT_VERSION_PUT, 0);
    op->contract_id = f->contract_id;
    op->valid_from = c.valid_from;
    op->text = guarantees;
    op->text_len = strlen(guarantees);
    int bad = tp_claims_run(f->store, op) != TP_OK || op->err != TP_OK;
    free(op);
    if (bad || sqlite3_open_v2(f->db, &f->raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sqlite3_close(f->raw);
    tp_store_close(f->store);
    tp_audit_log_close(f->audit, 0);
    tp_claims_set_refdata(NULL);
    free(f->rd);
    tp_keys_free(f->keys);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void contract_version_refuses_bad_text(void **state)
{
    struct fixture *f = *state;
    struct tp_claim_op *op = op_new(f, TP_COP_CONTRACT_VERSION_PUT, 0);
    static const char bad[] = "version from 2027-01-01\nOPTIQUE.LENTILLE kind=forfait\n";
    op->contract_id = f->contract_id;
    op->valid_from = tp_date_from_ymd(2027, 1, 1);
    op->text = bad;
    op->text_len = strlen(bad);
    run(f, op);
    assert_int_equal(op->err, TP_ERR_INVALID);
    assert_string_equal(op->code, "invalid_guarantees");
    assert_int_equal(q(f, "SELECT count(*) FROM contract_version"), 1);
    free(op);
}

static void claim_is_computed_and_idempotent(void **state)
{
    struct fixture *f = *state;
    struct tp_claim_op *op = lens_claim(f, f->ps1, 0, "INV-1", 6000);
    run(f, op);
    assert_int_equal(op->err, TP_OK);
    assert_int_equal(op->replayed, 0);
    assert_string_equal(op->rec.status, "accepted");
    /* AMO 60 % of 60.00 = 36.00; the forfait leaves the remaining 24.00 to the AMC. */
    assert_int_equal(op->rec.results[0].amo_cents, 3600);
    assert_int_equal(op->rec.amc_cents, 2400);
    assert_int_equal(op->rec.patient_cents, 0);
    int64_t id = op->rec.id;
    /* The same invoice, the same content: the same claim, nothing consumed twice. */
    struct tp_claim_op *again = lens_claim(f, f->ps1, 0, "INV-1", 6000);
    run(f, again);
    assert_int_equal(again->err, TP_OK);
    assert_int_equal(again->replayed, 1);
    assert_int_equal(again->rec.id, id);
    assert_int_equal(again->rec.amc_cents, 2400);
    assert_int_equal(q(f, "SELECT count(*) FROM claim"), 1);
    assert_int_equal(q(f, "SELECT sum(used_cents) FROM benefit_counter"), 2400);
    /* The same invoice with other content: a conflict, nothing stored. */
    struct tp_claim_op *other = lens_claim(f, f->ps1, 0, "INV-1", 6100);
    run(f, other);
    assert_int_equal(other->err, TP_ERR_CONFLICT);
    assert_string_equal(other->code, "invoice_conflict");
    assert_int_equal(q(f, "SELECT count(*) FROM claim"), 1);
    /* Another PS may use the same invoice number: its own claim. */
    struct tp_claim_op *ps2 = lens_claim(f, f->ps2, 1, "INV-1", 6000);
    run(f, ps2);
    assert_int_equal(ps2->err, TP_OK);
    assert_int_not_equal(ps2->rec.id, id);
    free(op);
    free(again);
    free(other);
    free(ps2);
}

struct racer {
    struct fixture *f;
    int t;
    int64_t amc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < 5; i++) {
        char inv[32];
        snprintf(inv, sizeof inv, "RACE-%d-%d", r->t, i);
        /* Each claim could take 12.00 on its own (30.00 less the AMO's 18.00): 40 of them
         * against 100.00. */
        struct tp_claim_op *op = lens_claim(r->f, r->f->ps1, 0, inv, 3000);
        if (tp_claims_run(r->f->store, op) == TP_OK && op->err == TP_OK)
            r->amc += op->rec.amc_cents;
        free(op);
    }
    return NULL;
}

static void concurrent_claims_never_overspend_a_ceiling(void **state)
{
    struct fixture *f = *state;
    pthread_t th[8];
    struct racer r[8];
    for (int t = 0; t < 8; t++) {
        r[t] = (struct racer){.f = f, .t = t, .amc = 0};
        assert_int_equal(pthread_create(&th[t], NULL, race, &r[t]), 0);
    }
    int64_t total = 0;
    for (int t = 0; t < 8; t++) {
        pthread_join(th[t], NULL);
        total += r[t].amc;
    }
    /* Exactly the ceiling: eight claims of 12.00, one of 4.00, then nothing. */
    assert_int_equal(total, 10000);
    assert_int_equal(q(f, "SELECT sum(amc_cents) FROM claim"), 10000);
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 10000);
    assert_int_equal(q(f, "SELECT count(*) FROM claim"), 40);
    assert_int_equal(q(f, "SELECT count(*) FROM claim WHERE status = 'rejected'"), 31);
}

static void cancel_gives_back_what_was_consumed(void **state)
{
    struct fixture *f = *state;
    struct tp_claim_op *op = lens_claim(f, f->ps1, 0, "C-1", 50000);
    run(f, op);
    assert_int_equal(op->rec.amc_cents, 10000);
    struct tp_claim_op *full = lens_claim(f, f->ps1, 0, "C-2", 50000);
    run(f, full);
    assert_int_equal(full->rec.amc_cents, 0);
    assert_string_equal(full->rec.status, "rejected");
    /* Another PS cannot cancel it, nor see it. */
    struct tp_claim_op *c = op_new(f, TP_COP_CLAIM_CANCEL, f->ps2);
    c->id = op->rec.id;
    run(f, c);
    assert_int_equal(c->err, TP_ERR_NOT_FOUND);
    assert_string_equal(c->code, "not_found");
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 10000);
    c->ps_id = f->ps1;
    run(f, c);
    assert_int_equal(c->err, TP_OK);
    assert_string_equal(c->rec.status, "cancelled");
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 0);
    run(f, c); /* twice: the same answer, nothing given back twice */
    assert_int_equal(c->err, TP_OK);
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 0);
    struct tp_claim_op *next = lens_claim(f, f->ps1, 0, "C-3", 50000);
    run(f, next);
    assert_int_equal(next->rec.amc_cents, 10000);
    /* A paid claim can no longer be cancelled. */
    char sql[128];
    sqlite3 *w;
    assert_int_equal(sqlite3_open(f->db, &w), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE claim SET status = 'paid', payment_run = 1 WHERE id = %lld",
             (long long)next->rec.id);
    sqlite3_busy_timeout(w, 5000);
    assert_int_equal(sqlite3_exec(w, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(w);
    c->id = next->rec.id;
    run(f, c);
    assert_int_equal(c->err, TP_ERR_CONFLICT);
    assert_string_equal(c->code, "already_paid");
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 10000);
    free(op);
    free(full);
    free(c);
    free(next);
}

static void bad_input_stores_nothing(void **state)
{
    struct fixture *f = *state;
    struct tp_claim_op *ok = lens_claim(f, f->ps1, 0, "B-0", 3000);
    run(f, ok);
    assert_int_equal(ok->rec.amc_cents, 1200);
    struct {
        const char *what;
        enum tp_err err;
        const char *code;
    } cases[] = {
        {"engagement", TP_ERR_NOT_FOUND, "unknown_engagement"},
        {"coverage", TP_ERR_CLOSED, "out_of_coverage"},
        {"pec", TP_ERR_NOT_FOUND, "unknown_pec"},
        {"beneficiary", TP_ERR_NOT_FOUND, "not_found"},
        {"amo", TP_ERR_INVALID, "invalid_line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tp_claim_op *op = lens_claim(f, f->ps1, 0, "B-1", 3000);
        if (strcmp(cases[i].what, "engagement") == 0)
            snprintf(op->engagement, sizeof op->engagement, "AAAAAAAAAAAAAAAAA");
        else if (strcmp(cases[i].what, "coverage") == 0)
            op->date = tp_date_from_ymd(2019, 6, 1);
        else if (strcmp(cases[i].what, "pec") == 0)
            snprintf(op->pec, sizeof op->pec, "BBBBBBBBBBBBBBBBB");
        else if (strcmp(cases[i].what, "beneficiary") == 0)
            op->beneficiary_id = 999999;
        else
            op->lines[0].amo_cents = 4000; /* above the BR */
        run(f, op);
        assert_int_equal(op->err, cases[i].err);
        assert_string_equal(op->code, cases[i].code);
        free(op);
    }
    assert_int_equal(q(f, "SELECT count(*) FROM claim"), 1);
    assert_int_equal(q(f, "SELECT count(*) FROM claim_line"), 1);
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 1200);
    free(ok);
}

static void pec_holds_the_amount_for_its_claim(void **state)
{
    struct fixture *f = *state;
    struct tp_claim_op *p = lens_claim(f, f->ps1, 0, "", 10000);
    p->kind = TP_COP_PEC_SUBMIT;
    p->domain = TP_DOM_OPTIQUE;
    snprintf(p->pec, sizeof p->pec, "PECPECPECPECPEC01");
    run(f, p);
    assert_int_equal(p->err, TP_OK);
    assert_string_equal(p->rec.status, "accepted");
    assert_int_equal(p->rec.amc_cents, 4000);
    assert_int_equal(p->rec.valid_until, tp_date_add_months(f->care, 3));
    /* Held: a claim without the PEC now gets only what is left. */
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 4000);
    struct tp_claim_op *other = lens_claim(f, f->ps1, 0, "P-0", 20000);
    run(f, other);
    assert_int_equal(other->rec.amc_cents, 6000);
    /* Another PS cannot use it: as if it did not exist. */
    struct tp_claim_op *thief = lens_claim(f, f->ps2, 0, "P-1", 10000);
    snprintf(thief->pec, sizeof thief->pec, "%s", p->pec);
    run(f, thief);
    assert_int_equal(thief->err, TP_ERR_NOT_FOUND);
    assert_string_equal(thief->code, "unknown_pec");
    /* Its claim is paid as agreed although the counter is full, and uses it up. */
    struct tp_claim_op *c = lens_claim(f, f->ps1, 0, "P-2", 10000);
    snprintf(c->pec, sizeof c->pec, "%s", p->pec);
    run(f, c);
    assert_int_equal(c->err, TP_OK);
    assert_int_equal(c->rec.amc_cents, 4000);
    assert_int_equal(q(f, "SELECT used_cents FROM benefit_counter"), 10000);
    assert_int_equal(q(f, "SELECT count(*) FROM pec WHERE status = 'used'"), 1);
    struct tp_claim_op *twice = lens_claim(f, f->ps1, 0, "P-3", 10000);
    snprintf(twice->pec, sizeof twice->pec, "%s", p->pec);
    run(f, twice);
    assert_int_equal(twice->err, TP_ERR_CONFLICT);
    assert_string_equal(twice->code, "pec_used");
    /* A second PEC, cancelled: its hold is given back. */
    struct tp_claim_op *p2 = lens_claim(f, f->ps1, 1, "", 5000);
    p2->kind = TP_COP_PEC_SUBMIT;
    p2->domain = TP_DOM_OPTIQUE;
    snprintf(p2->pec, sizeof p2->pec, "PECPECPECPECPEC02");
    run(f, p2);
    assert_int_equal(p2->rec.amc_cents, 2000);
    assert_int_equal(q(f, "SELECT sum(used_cents) FROM benefit_counter"), 12000);
    struct tp_claim_op *cancel = op_new(f, TP_COP_PEC_CANCEL, f->ps1);
    cancel->id = p2->rec.id;
    run(f, cancel);
    assert_int_equal(cancel->err, TP_OK);
    assert_string_equal(cancel->rec.status, "cancelled");
    assert_int_equal(q(f, "SELECT sum(used_cents) FROM benefit_counter"), 10000);
    free(p);
    free(other);
    free(thief);
    free(c);
    free(twice);
    free(p2);
    free(cancel);
}

static void listing_is_paged_and_per_ps(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        char inv[16];
        snprintf(inv, sizeof inv, "L-%d", i);
        struct tp_claim_op *op = lens_claim(f, f->ps1, 0, inv, 1000);
        run(f, op);
        free(op);
    }
    struct tp_claim_op *other = lens_claim(f, f->ps2, 1, "L-X", 1000);
    run(f, other);
    free(other);
    struct tp_claim_op *l = op_new(f, TP_COP_CLAIM_LIST, f->ps1);
    l->limit = 2;
    int seen = 0;
    int64_t last = INT64_MAX;
    for (int page = 0; page < 5; page++) {
        run(f, l);
        assert_int_equal(l->err, TP_OK);
        for (int i = 0; i < l->n_list; i++) {
            assert_true(l->list[i].id < last); /* newest first, no repeat */
            last = l->list[i].id;
            assert_memory_equal(l->list[i].invoice, "L-", 2);
            seen++;
        }
        if (!l->next_before)
            break;
        l->before = l->next_before;
    }
    assert_int_equal(seen, 5);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(contract_version_refuses_bad_text, setup, teardown),
        cmocka_unit_test_setup_teardown(claim_is_computed_and_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_claims_never_overspend_a_ceiling, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_gives_back_what_was_consumed, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(pec_holds_the_amount_for_its_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(listing_is_paged_and_per_ps, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
