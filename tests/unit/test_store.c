/* The SQLite store through its interface: migrations, sealed beneficiaries, blind-index
 * lookups, idempotent upserts, tokens, and the group-commit writer under concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/population.h"
#include "audit/log.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char db[128];
    char key[128];
    struct tp_keys *keys;
    struct tp_store *store;
    struct tp_audit_log *audit;
    char audit_dir[128];
    const struct tp_store_ops *ops;
    void *impl;
    struct tp_beneficiary people[40];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tp_store_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/opentp.db", f->dir);
    snprintf(f->key, sizeof f->key, "%s/master.key", f->dir);
    if (tp_keys_create_file(f->key, NULL, 0) != TP_OK ||
        tp_keys_load(f->key, &f->keys, NULL, 0) != TP_OK ||
        tp_store_open(f->db, &f->store, NULL, 0) != TP_OK)
        return -1;
    struct tp_audit_config acfg;
    tp_audit_config_default(&acfg);
    snprintf(f->audit_dir, sizeof f->audit_dir, "%s/audit", f->dir);
    if (tp_audit_log_open(f->audit_dir, tp_keys_audit_mac_key(f->keys),
                          tp_keys_audit_sign_seed(f->keys), &acfg, &f->audit, NULL, 0) != TP_OK)
        return -1;
    tp_store_set_audit(f->store, f->audit);
    f->ops = tp_store_ops(f->store);
    f->impl = tp_store_impl(f->store);
    /* Every AMC and contract of the population, then 40 beneficiaries. */
    for (int i = 0; i < TP_POP_AMC_COUNT; i++) {
        struct tp_amc a;
        tp_pop_amc(1, i, &a);
        if (f->ops->amc_upsert(f->impl, &a, NULL) != TP_OK)
            return -1;
        for (int j = 0; j < tp_pop_contract_count(1, i); j++) {
            static struct tp_contract c;
            tp_pop_contract(1, i, j, &c);
            if (f->ops->contract_upsert(f->impl, &c, NULL) != TP_OK)
                return -1;
        }
    }
    struct tp_pop_iter it;
    tp_pop_iter_init(&it, 1);
    for (int i = 0; i < 40; i++)
        tp_pop_next(&it, &f->people[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tp_store_close(f->store);
    tp_audit_log_close(f->audit, 0);
    tp_keys_free(f->keys);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static enum tp_err upsert_people(struct fixture *f, int n, int *changed)
{
    static struct tp_sealed_beneficiary sealed[40];
    for (int i = 0; i < n; i++)
        if (tp_beneficiary_seal(f->keys, &f->people[i], &sealed[i]) != TP_OK)
            return TP_ERR_CRYPTO;
    return f->ops->beneficiaries_upsert(f->impl, sealed, (size_t)n, changed);
}

static void upsert_is_idempotent(void **state)
{
    struct fixture *f = *state;
    int changed[40];
    int64_t n = 0;
    assert_int_equal(upsert_people(f, 40, changed), TP_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(changed[i], 1);
    assert_int_equal(f->ops->count(f->impl, "beneficiary", &n), TP_OK);
    assert_int_equal(n, 40);
    /* Same data again: nothing changes (ciphertexts included, since digests match). */
    assert_int_equal(upsert_people(f, 40, changed), TP_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(changed[i], 0);
    /* One field changed: only that row is rewritten. */
    f->people[3].coverage_end -= 1;
    assert_int_equal(upsert_people(f, 40, changed), TP_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(changed[i], i == 3);
    f->people[3].coverage_end += 1;
    assert_int_equal(f->ops->count(f->impl, "beneficiary", &n), TP_OK);
    assert_int_equal(n, 40);
}

static void unknown_contract_rolls_back_the_whole_batch(void **state)
{
    struct fixture *f = *state;
    int64_t before = 0, after = 0;
    assert_int_equal(f->ops->count(f->impl, "beneficiary", &before), TP_OK);
    struct tp_beneficiary saved = f->people[39];
    f->people[39].rank = 77; /* a new row... */
    f->people[38].rank = 78;
    snprintf(f->people[39].contract, sizeof f->people[39].contract, "NOPE"); /* ...that fails */
    assert_int_not_equal(upsert_people(f, 40, NULL), TP_OK);
    assert_int_equal(f->ops->count(f->impl, "beneficiary", &after), TP_OK);
    assert_int_equal(after, before); /* row 38 (valid, new) was not half-committed */
    f->people[39] = saved;
    f->people[38].rank = saved.rank == 78 ? 1 : f->people[38].rank;
}

static void lookups_by_blind_index(void **state)
{
    struct fixture *f = *state;
    struct tp_pop_iter it;
    tp_pop_iter_init(&it, 1);
    for (int i = 0; i < 40; i++)
        tp_pop_next(&it, &f->people[i]);
    assert_int_equal(upsert_people(f, 40, NULL), TP_OK);
    int by_nir = 0, by_birth = 0;
    for (int i = 0; i < 40; i++) {
        const struct tp_beneficiary *b = &f->people[i];
        uint8_t bidx[TP_BIDX_LEN];
        struct tp_beneficiary_found found;
        tp_bidx_card_birth(f->keys, b->amc, b->member, b->id.birth_date, b->id.birth_rank, bidx);
        assert_int_equal(tp_store_beneficiary_find_by_birth(f->store, bidx, &found), TP_OK);
        assert_int_equal(found.b.rank, b->rank);
        assert_string_equal(found.b.amc, b->amc);
        assert_string_equal(found.b.contract, b->contract);
        assert_int_equal(found.b.coverage_end, b->coverage_end);
        assert_string_equal(found.b.id.nir, ""); /* identity is not decrypted by lookups */
        by_birth++;
        tp_bidx_card_nir(f->keys, b->amc, b->member, b->id.nir, bidx);
        enum tp_err e = tp_store_beneficiary_find_by_nir(f->store, bidx, &found);
        if (b->nir_own) {
            assert_int_equal(e, TP_OK);
            assert_int_equal(found.b.rank, b->rank);
            by_nir++;
        } else {
            /* A child on a parent's NIR: the NIR alone finds the parent, never the child. */
            assert_true(e != TP_OK || found.b.rank != b->rank);
        }
    }
    assert_true(by_nir > 10);
    /* Wrong member number with a right NIR: not found. */
    uint8_t bidx[TP_BIDX_LEN];
    struct tp_beneficiary_found found;
    tp_bidx_card_nir(f->keys, f->people[0].amc, "0000000001", f->people[0].id.nir, bidx);
    assert_int_equal(tp_store_beneficiary_find_by_nir(f->store, bidx, &found), TP_ERR_NOT_FOUND);
}

struct submitter {
    struct tp_store *store;
    int64_t beneficiary_id, ps_id;
    int n;
    int failures;
};

static void *submit_many(void *arg)
{
    struct submitter *s = arg;
    for (int i = 0; i < s->n; i++) {
        struct tp_write_intent wi;
        memset(&wi, 0, sizeof wi);
        wi.has_engagement = 1;
        snprintf(wi.engagement.number, sizeof wi.engagement.number, "E%016lx",
                 (unsigned long)((uintptr_t)arg * 1000 + (unsigned)i));
        wi.engagement.beneficiary_id = s->beneficiary_id;
        wi.engagement.ps_id = s->ps_id;
        wi.has_event = 1;
        snprintf(wi.event.operation, sizeof wi.event.operation, "rights.check");
        snprintf(wi.event.outcome, sizeof wi.event.outcome, "covered");
        if (tp_store_write_sync(s->store, &wi) != TP_OK)
            s->failures++;
    }
    return NULL;
}

static enum tp_err count_leaf(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                              const struct tp_merkle_hash *lh)
{
    (void)index, (void)leaf, (void)len, (void)lh;
    ++*(int64_t *)ctx;
    return TP_OK;
}

/* Events durable in the access log (every acknowledged intent's event must be there). */
static int64_t count_events(struct fixture *f)
{
    int64_t n = 0;
    uint64_t bad;
    assert_int_equal(
        tp_audit_scan(f->audit_dir, tp_keys_audit_mac_key(f->keys), count_leaf, &n, &bad, NULL, 0),
        TP_OK);
    return n;
}

static void group_commit_under_concurrency(void **state)
{
    struct fixture *f = *state;
    struct tp_ps ps;
    int64_t ps_id = 0;
    tp_pop_ps(1, 0, &ps);
    assert_int_equal(f->ops->ps_upsert(f->impl, &ps, &ps_id), TP_OK);
    uint8_t bidx[TP_BIDX_LEN];
    struct tp_beneficiary_found found;
    const struct tp_beneficiary *b = &f->people[0];
    tp_bidx_card_birth(f->keys, b->amc, b->member, b->id.birth_date, b->id.birth_rank, bidx);
    assert_int_equal(tp_store_beneficiary_find_by_birth(f->store, bidx, &found), TP_OK);

    int64_t e0 = 0, a0 = 0, e1 = 0, a1 = 0;
    assert_int_equal(f->ops->count(f->impl, "engagement", &e0), TP_OK);
    a0 = count_events(f);
    enum { THREADS = 8, EACH = 200 };
    pthread_t t[THREADS];
    struct submitter sub[THREADS];
    for (int i = 0; i < THREADS; i++) {
        sub[i] = (struct submitter){f->store, found.id, ps_id, EACH, 0};
        pthread_create(&t[i], NULL, submit_many, &sub[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(sub[i].failures, 0);
    }
    assert_int_equal(f->ops->count(f->impl, "engagement", &e1), TP_OK);
    a1 = count_events(f);
    assert_int_equal(e1 - e0, THREADS * EACH);
    assert_int_equal(a1 - a0, THREADS * EACH);
    struct tp_store_stats st;
    tp_store_get_stats(f->store, &st);
    assert_true(st.intents >= THREADS * EACH);
    assert_true(st.batches <= st.intents);
}

static void a_poison_intent_fails_alone(void **state)
{
    struct fixture *f = *state;
    int64_t e0 = 0, e1 = 0;
    assert_int_equal(f->ops->count(f->impl, "engagement", &e0), TP_OK);
    /* Duplicate engagement number: the second write must fail, the first must stand. */
    struct tp_write_intent a, b;
    memset(&a, 0, sizeof a);
    a.has_engagement = 1;
    snprintf(a.engagement.number, sizeof a.engagement.number, "EPOISON0000000000");
    a.engagement.beneficiary_id = 1;
    a.engagement.ps_id = 1;
    b = a;
    assert_int_equal(tp_store_write_sync(f->store, &a), TP_OK);
    assert_int_not_equal(tp_store_write_sync(f->store, &b), TP_OK);
    /* A dangling beneficiary id is refused by the foreign key. */
    struct tp_write_intent c = a;
    snprintf(c.engagement.number, sizeof c.engagement.number, "EPOISON0000000001");
    c.engagement.beneficiary_id = 999999999;
    assert_int_not_equal(tp_store_write_sync(f->store, &c), TP_OK);
    assert_int_equal(f->ops->count(f->impl, "engagement", &e1), TP_OK);
    assert_int_equal(e1 - e0, 1);
}

static void tokens(void **state)
{
    struct fixture *f = *state;
    int64_t ps_id = 0, tid = 0;
    struct tp_ps ps;
    tp_pop_ps(1, 1, &ps);
    assert_int_equal(f->ops->ps_upsert(f->impl, &ps, &ps_id), TP_OK);
    uint8_t h[TP_TOKEN_HASH_LEN];
    tp_token_hash(f->keys, "otp_example", 11, h);
    assert_int_equal(f->ops->token_insert(f->impl, ps_id, h, "till", TP_SCOPE_RIGHTS, 0, 100, &tid),
                     TP_OK);
    struct tp_token_info info;
    assert_int_equal(f->ops->token_find(f->impl, h, &info), TP_OK);
    assert_int_equal(info.ps_id, ps_id);
    assert_int_equal(info.profession, ps.profession);
    assert_false(info.revoked);
    assert_int_equal(f->ops->token_revoke(f->impl, tid, 200), TP_OK);
    assert_int_equal(f->ops->token_revoke(f->impl, tid, 300), TP_ERR_NOT_FOUND);
    assert_int_equal(f->ops->token_find(f->impl, h, &info), TP_OK);
    assert_true(info.revoked);
    struct tp_token_row rows[4];
    size_t n = 0;
    assert_int_equal(f->ops->token_list(f->impl, ps_id, rows, 4, &n), TP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].label, "till");
    assert_int_equal(rows[0].revoked_at, 200);
    tp_token_hash(f->keys, "otp_other", 9, h);
    assert_int_equal(f->ops->token_find(f->impl, h, &info), TP_ERR_NOT_FOUND);
}

static void reopening_keeps_data_and_schema(void **state)
{
    struct fixture *f = *state;
    tp_store_close(f->store);
    char msg[200];
    assert_int_equal(tp_store_open(f->db, &f->store, msg, sizeof msg), TP_OK);
    f->ops = tp_store_ops(f->store);
    f->impl = tp_store_impl(f->store);
    int64_t n = 0;
    assert_int_equal(f->ops->count(f->impl, "amc", &n), TP_OK);
    assert_int_equal(n, TP_POP_AMC_COUNT);
    assert_int_equal(f->ops->count(f->impl, "no_such_table", &n), TP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upsert_is_idempotent),
        cmocka_unit_test(unknown_contract_rolls_back_the_whole_batch),
        cmocka_unit_test(lookups_by_blind_index),
        cmocka_unit_test(group_commit_under_concurrency),
        cmocka_unit_test(a_poison_intent_fails_alone),
        cmocka_unit_test(tokens),
        cmocka_unit_test(reopening_keeps_data_and_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
