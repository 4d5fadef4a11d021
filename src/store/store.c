/* Backend dispatch and the group-commit writer (DESIGN-NOTES "Durable writes").
 *
 * SQLite allows one writer; a transaction per request with synchronous=FULL caps the platform
 * at a few thousand writes per second. Instead, handlers queue write intents and one writer
 * thread commits whatever has accumulated as one transaction, then tells each submitter. Under
 * load a batch naturally grows to whatever arrived during the previous fsync; idle, a lone
 * intent is committed at once (no timer, no added latency). */
#include "store/store.h"

#include "store/cache.h"

#include "audit/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX 65536 /* back-pressure: beyond this, submitters get TP_ERR_BUSY */
#define BATCH_MAX 4096

struct tp_store {
    const struct tp_store_ops *ops;
    void *impl;

    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct tp_write_intent *head, *tail;
    size_t queued;
    int stopping;
    pthread_t writer;
    struct tp_store_stats stats;

    /* Applied, not yet durable (backends with a sync operation). */
    struct tp_write_intent *unsynced, *unsynced_tail;
    pthread_cond_t sync_wake;
    pthread_t syncer;
    int writer_done;

    struct tp_audit_log *audit; /* where access events go (tp_store_set_audit) */
    int discard_events;         /* benchmarks only (tp_store_discard_events) */
    /* The access log's committer thread (started with the first tp_store_set_audit). */
    pthread_t audit_thread;
    int audit_thread_on, audit_stop;
    pthread_mutex_t audit_mu;
    pthread_cond_t audit_cv;
    uint64_t audit_asked, audit_done; /* commits requested / finished */
    enum tp_err audit_rc;

    struct tp_cache *tokens;    /* hash -> struct tp_token_info */
    struct tp_cache *contracts; /* id -> struct tp_contract */
};

/* Hands applied intents to the syncer (or, for a backend without sync, acknowledges them). */
static void applied(struct tp_store *s, struct tp_write_intent **batch, size_t n)
{
    if (!s->ops->sync) {
        for (size_t i = 0; i < n; i++)
            batch[i]->done(batch[i], batch[i]->result);
        return;
    }
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        batch[i]->next = NULL;
        if (s->unsynced_tail)
            s->unsynced_tail->next = batch[i];
        else
            s->unsynced = batch[i];
        s->unsynced_tail = batch[i];
    }
    pthread_cond_signal(&s->sync_wake);
    pthread_mutex_unlock(&s->mu);
}

static uint64_t since_us(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000000u +
           (uint64_t)((t1.tv_nsec - t0->tv_nsec) / 1000);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Appends the events of the applied intents to the access log (buffered: the syncer makes them
 * durable). An intent whose event cannot be logged fails: its response must not go out. */
static void append_events(struct tp_store *s, struct tp_write_intent **batch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!batch[i]->has_event || batch[i]->result != TP_OK || s->discard_events)
            continue;
        if (!s->audit) {
            batch[i]->result = TP_ERR_INTERNAL;
            continue;
        }
        uint8_t leaf[TP_EVENT_LEAF_MAX];
        size_t len;
        uint64_t index;
        enum tp_err rc = tp_event_encode(&batch[i]->event, leaf, &len);
        if (rc == TP_OK)
            rc = tp_audit_log_append(s->audit, leaf, len, &index);
        if (rc != TP_OK)
            batch[i]->result = rc;
    }
}

static void *writer_main(void *arg)
{
    struct tp_store *s = arg;
    struct tp_write_intent **batch = malloc(BATCH_MAX * sizeof *batch);
    if (!batch)
        abort(); /* at start-up, before any request: nothing to lose */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        /* Apply a new batch only when the syncer has taken the previous one: whatever arrives
         * during an fsync then goes into one transaction (fewer pages written per intent)
         * instead of many small ones that would wait for the same next fsync anyway. */
        while ((!s->head || s->unsynced) && !s->stopping)
            pthread_cond_wait(&s->wake, &s->mu);
        if (!s->head && s->stopping)
            break;
        size_t n = 0;
        while (s->head && n < BATCH_MAX) {
            batch[n++] = s->head;
            s->head = s->head->next;
        }
        if (!s->head)
            s->tail = NULL;
        s->queued -= n;
        pthread_mutex_unlock(&s->mu);

        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        enum tp_err rc = s->ops->apply_batch(s->impl, batch, n);
        for (size_t i = 0; i < n; i++)
            batch[i]->result = rc;
        /* One bad intent (say, a beneficiary deleted between lookup and write) must not fail
         * the others that happened to share its batch: replay them one by one. */
        if (rc != TP_OK && n > 1)
            for (size_t i = 0; i < n; i++)
                batch[i]->result = s->ops->apply_batch(s->impl, &batch[i], 1);
        append_events(s, batch, n);
        uint64_t us = since_us(&t0);

        pthread_mutex_lock(&s->mu);
        s->stats.commit_us_total += us;
        if (us > s->stats.commit_us_max)
            s->stats.commit_us_max = us;
        s->stats.batches++;
        s->stats.intents += n;
        if (n > s->stats.max_batch)
            s->stats.max_batch = n;
        if (rc != TP_OK)
            s->stats.failed_batches++;
        pthread_mutex_unlock(&s->mu);
        /* Callbacks run without the lock: they may resume connections or signal waiters. */
        applied(s, batch, n);
        pthread_mutex_lock(&s->mu);
    }
    s->writer_done = 1;
    pthread_cond_signal(&s->sync_wake);
    pthread_mutex_unlock(&s->mu);
    free(batch);
    return NULL;
}

static void *audit_main(void *arg)
{
    struct tp_store *s = arg;
    pthread_mutex_lock(&s->audit_mu);
    for (;;) {
        while (s->audit_done == s->audit_asked && !s->audit_stop)
            pthread_cond_wait(&s->audit_cv, &s->audit_mu);
        if (s->audit_done == s->audit_asked && s->audit_stop)
            break;
        uint64_t target = s->audit_asked;
        pthread_mutex_unlock(&s->audit_mu);
        enum tp_err rc = tp_audit_log_commit(s->audit, now_ms());
        pthread_mutex_lock(&s->audit_mu);
        s->audit_rc = rc;
        s->audit_done = target;
        pthread_cond_broadcast(&s->audit_cv);
    }
    pthread_mutex_unlock(&s->audit_mu);
    return NULL;
}

static void audit_sync_start(struct tp_store *s)
{
    if (!s->audit_thread_on)
        return;
    pthread_mutex_lock(&s->audit_mu);
    s->audit_asked++;
    pthread_cond_broadcast(&s->audit_cv);
    pthread_mutex_unlock(&s->audit_mu);
}

static enum tp_err audit_sync_wait(struct tp_store *s)
{
    if (!s->audit_thread_on) /* no thread (it could not start): commit here */
        return tp_audit_log_commit(s->audit, now_ms());
    pthread_mutex_lock(&s->audit_mu);
    while (s->audit_done != s->audit_asked)
        pthread_cond_wait(&s->audit_cv, &s->audit_mu);
    enum tp_err rc = s->audit_rc;
    pthread_mutex_unlock(&s->audit_mu);
    return rc;
}

/* Syncer: one fsync covers every batch applied before it started; meanwhile the writer goes
 * on applying the next ones. An intent is acknowledged only once it is durable. */
static void *syncer_main(void *arg)
{
    struct tp_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->unsynced && !s->writer_done)
            pthread_cond_wait(&s->sync_wake, &s->mu);
        if (!s->unsynced && s->writer_done)
            break;
        struct tp_write_intent *list = s->unsynced;
        s->unsynced = s->unsynced_tail = NULL;
        pthread_cond_signal(&s->wake); /* the writer may apply the next batch */
        pthread_mutex_unlock(&s->mu);

        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* The access log's fdatasync runs on its own thread while this one syncs the WAL:
         * two files, two devices' queues, one wait instead of two in a row. */
        if (s->audit)
            audit_sync_start(s);
        enum tp_err rc = s->ops->sync(s->impl);
        if (s->audit) {
            enum tp_err arc = audit_sync_wait(s);
            if (rc == TP_OK)
                rc = arc;
        }
        uint64_t us = since_us(&t0);
        while (list) {
            struct tp_write_intent *next = list->next;
            list->done(list, list->result != TP_OK ? list->result : rc);
            list = next;
        }

        pthread_mutex_lock(&s->mu);
        s->stats.syncs++;
        s->stats.sync_us_total += us;
        if (rc != TP_OK)
            s->stats.failed_batches++;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum tp_err tp_store_open(const char *location, struct tp_store **out, char *msg, size_t msglen)
{
    *out = NULL;
    struct tp_store *s = calloc(1, sizeof *s);
    if (!s)
        return TP_ERR_NOMEM;
    enum tp_err rc = tp_store_sqlite_open(location, &s->ops, &s->impl, msg, msglen);
    if (rc != TP_OK) {
        free(s);
        return rc;
    }
    s->tokens = tp_cache_new(4096, sizeof(struct tp_token_info), TP_TOKEN_CACHE_MS);
    s->contracts = tp_cache_new(1024, sizeof(struct tp_contract), TP_CONTRACT_CACHE_MS);
    if (!s->tokens || !s->contracts) {
        tp_cache_free(s->tokens);
        tp_cache_free(s->contracts);
        s->ops->close(s->impl);
        free(s);
        return TP_ERR_NOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->audit_mu, NULL);
    pthread_cond_init(&s->audit_cv, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->sync_wake, NULL);
    if (s->ops->sync && pthread_create(&s->syncer, NULL, syncer_main, s) != 0) {
        s->ops->close(s->impl);
        free(s);
        return tp_fail(msg, msglen, TP_ERR_INTERNAL, "cannot start the syncer thread");
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        if (s->ops->sync) {
            pthread_mutex_lock(&s->mu);
            s->writer_done = 1;
            pthread_cond_signal(&s->sync_wake);
            pthread_mutex_unlock(&s->mu);
            pthread_join(s->syncer, NULL);
        }
        s->ops->close(s->impl);
        free(s);
        return tp_fail(msg, msglen, TP_ERR_INTERNAL, "cannot start the writer thread");
    }
    *out = s;
    return TP_OK;
}

void tp_store_close(struct tp_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    if (s->ops->sync)
        pthread_join(s->syncer, NULL);
    if (s->audit_thread_on) {
        pthread_mutex_lock(&s->audit_mu);
        s->audit_stop = 1;
        pthread_cond_broadcast(&s->audit_cv);
        pthread_mutex_unlock(&s->audit_mu);
        pthread_join(s->audit_thread, NULL);
    }
    s->ops->close(s->impl);
    tp_cache_free(s->tokens);
    tp_cache_free(s->contracts);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->sync_wake);
    free(s);
}

void tp_store_discard_events(struct tp_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->discard_events = 1;
    pthread_mutex_unlock(&s->mu);
}

void tp_store_set_audit(struct tp_store *s, struct tp_audit_log *log)
{
    pthread_mutex_lock(&s->mu);
    s->audit = log;
    pthread_mutex_unlock(&s->mu);
    if (log && !s->audit_thread_on &&
        pthread_create(&s->audit_thread, NULL, audit_main, s) == 0)
        s->audit_thread_on = 1;
}

const struct tp_store_ops *tp_store_ops(const struct tp_store *s)
{
    return s->ops;
}

void *tp_store_impl(const struct tp_store *s)
{
    return s->impl;
}

enum tp_err tp_store_submit(struct tp_store *s, struct tp_write_intent *wi)
{
    wi->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->queued >= QUEUE_MAX || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return TP_ERR_BUSY;
    }
    if (s->tail)
        s->tail->next = wi;
    else
        s->head = wi;
    s->tail = wi;
    s->queued++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return TP_OK;
}

struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
    enum tp_err rc;
};

static void sync_done(struct tp_write_intent *wi, enum tp_err rc)
{
    struct sync_wait *w = wi->arg;
    pthread_mutex_lock(&w->mu);
    w->finished = 1;
    w->rc = rc;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

enum tp_err tp_store_write_sync(struct tp_store *s, struct tp_write_intent *wi)
{
    struct sync_wait w = {.finished = 0, .rc = TP_OK};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    wi->done = sync_done;
    wi->arg = &w;
    enum tp_err rc = tp_store_submit(s, wi);
    if (rc == TP_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.finished)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        rc = w.rc;
    }
    wi->arg = NULL; /* w lives on this stack frame only */
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}

void tp_store_get_stats(struct tp_store *s, struct tp_store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

enum tp_err tp_beneficiary_seal(const struct tp_keys *k, const struct tp_beneficiary *b,
                                struct tp_sealed_beneficiary *out)
{
    memset(out, 0, sizeof *out);
    tp_bidx_member(k, b->amc, b->member, out->bidx_member);
    tp_bidx_card_nir(k, b->amc, b->member, b->id.nir, out->bidx_nir);
    tp_bidx_card_birth(k, b->amc, b->member, b->id.birth_date, b->id.birth_rank, out->bidx_birth);
    tp_bidx_beneficiary_ref(k, b->amc, b->member, b->rank, out->ref);
    tp_beneficiary_digest(k, b, out->digest);
    out->plain = b;
    return tp_identity_seal(k, &b->id, out->ref, TP_BIDX_LEN, out->sealed, &out->sealed_len);
}

enum tp_err tp_store_token_find(struct tp_store *s, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                struct tp_token_info *out)
{
    int64_t now = tp_cache_now_ms();
    if (tp_cache_get(s->tokens, hash, TP_TOKEN_HASH_LEN, out, now))
        return TP_OK;
    enum tp_err rc = s->ops->token_find(s->impl, hash, out);
    if (rc == TP_OK)
        tp_cache_put(s->tokens, hash, TP_TOKEN_HASH_LEN, out, now);
    return rc;
}

enum tp_err tp_store_contract_get(struct tp_store *s, int64_t id, struct tp_contract *out)
{
    int64_t now = tp_cache_now_ms();
    if (tp_cache_get(s->contracts, &id, sizeof id, out, now))
        return TP_OK;
    enum tp_err rc = s->ops->contract_get(s->impl, id, out);
    if (rc == TP_OK)
        tp_cache_put(s->contracts, &id, sizeof id, out, now);
    return rc;
}

/* Completes a backend lookup with what the contract knows. */
static enum tp_err complete_found(struct tp_store *s, enum tp_err rc,
                                  struct tp_beneficiary_found *out)
{
    if (rc != TP_OK)
        return rc;
    static __thread struct tp_contract c; /* large: off the (poll thread's) stack */
    rc = tp_store_contract_get(s, out->contract_id, &c);
    if (rc == TP_ERR_NOT_FOUND)
        rc = TP_ERR_INTERNAL; /* a beneficiary's contract always exists (foreign key) */
    if (rc == TP_OK) {
        memcpy(out->b.amc, c.amc, sizeof out->b.amc);
        memcpy(out->b.contract, c.code, sizeof out->b.contract);
    }
    return rc;
}

enum tp_err tp_store_beneficiary_find_by_nir(struct tp_store *s, const uint8_t bidx[TP_BIDX_LEN],
                                             struct tp_beneficiary_found *out)
{
    return complete_found(s, s->ops->beneficiary_find_by_nir(s->impl, bidx, out), out);
}

enum tp_err tp_store_beneficiary_find_by_birth(struct tp_store *s, const uint8_t bidx[TP_BIDX_LEN],
                                               struct tp_beneficiary_found *out)
{
    return complete_found(s, s->ops->beneficiary_find_by_birth(s->impl, bidx, out), out);
}
