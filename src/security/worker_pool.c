/* Bounded worker pool (worker_pool.h): one mutex, one condition variable, a ring buffer of
 * waiting jobs. Jobs are taken in submission order. */
#include "security/worker_pool.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
    tp_job_run_fn run;
    tp_job_done_fn done;
    void *arg;
};

struct tp_worker_pool {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a job was queued, or shutdown began */
    struct job *ring;    /* cap slots; jobs at head .. head + count - 1 (mod cap) */
    size_t cap;
    size_t head;
    size_t count;
    int stopping; /* no more submissions; workers exit once the queue is empty */
    int cancel;   /* queued jobs are cancelled rather than run */
    unsigned nthreads;
    pthread_t *threads;
};

unsigned tp_worker_pool_default_threads(void)
{
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cpus / 2;
    if (n < 1)
        n = 1;
    if (n > TP_WORKER_POOL_MAX_THREADS)
        n = TP_WORKER_POOL_MAX_THREADS;
    return (unsigned)n;
}

static void *worker_main(void *p)
{
    struct tp_worker_pool *pool = p;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pool->count == 0 && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->mu);
        if (pool->count == 0)
            break; /* stopping, and nothing left to run or cancel */
        const struct job j = pool->ring[pool->head];
        pool->head = (pool->head + 1) % pool->cap;
        pool->count--;
        const int cancel = pool->cancel;
        pthread_mutex_unlock(&pool->mu);
        if (cancel) {
            j.done(j.arg, TP_JOB_CANCELLED);
        } else {
            j.run(j.arg);
            j.done(j.arg, TP_JOB_RAN);
        }
        pthread_mutex_lock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

/* Stops the workers started so far (none may be busy: no job was accepted yet) and frees. */
static void destroy(struct tp_worker_pool *pool)
{
    tp_worker_pool_shutdown(pool, TP_POOL_DRAIN);
    for (unsigned i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mu);
    free(pool->threads);
    free(pool->ring);
    free(pool);
}

enum tp_err tp_worker_pool_new(unsigned threads, size_t queue_cap, struct tp_worker_pool **out,
                               char *msg, size_t msglen)
{
    *out = NULL;
    if (threads == 0)
        threads = tp_worker_pool_default_threads();
    if (threads > TP_WORKER_POOL_MAX_THREADS)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "worker pool: at most %d threads",
                       TP_WORKER_POOL_MAX_THREADS);
    if (queue_cap < 1 || queue_cap > TP_WORKER_POOL_MAX_QUEUE)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "worker pool: queue size must be 1..%zu",
                       TP_WORKER_POOL_MAX_QUEUE);
    struct tp_worker_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "worker pool: out of memory");
    pool->ring = calloc(queue_cap, sizeof *pool->ring);
    pool->threads = calloc(threads, sizeof *pool->threads);
    if (!pool->ring || !pool->threads) {
        free(pool->ring);
        free(pool->threads);
        free(pool);
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "worker pool: out of memory");
    }
    pool->cap = queue_cap;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake, NULL);

    /* Workers inherit the creator's signal mask: block everything while starting them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int failed = 0;
    for (unsigned i = 0; i < threads && !failed; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) == 0)
            pool->nthreads++;
        else
            failed = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (failed) {
        destroy(pool);
        return tp_fail(msg, msglen, TP_ERR_INTERNAL, "worker pool: cannot start a thread");
    }
    *out = pool;
    return TP_OK;
}

enum tp_err tp_worker_pool_submit(struct tp_worker_pool *pool, tp_job_run_fn run,
                                  tp_job_done_fn done, void *arg)
{
    assert(run && done);
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping || pool->count == pool->cap) {
        pthread_mutex_unlock(&pool->mu);
        return TP_ERR_BUSY;
    }
    pool->ring[(pool->head + pool->count) % pool->cap] = (struct job){run, done, arg};
    pool->count++;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    return TP_OK;
}

void tp_worker_pool_shutdown(struct tp_worker_pool *pool, enum tp_pool_shutdown mode)
{
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    if (mode == TP_POOL_CANCEL)
        pool->cancel = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
}

void tp_worker_pool_free(struct tp_worker_pool *pool)
{
    if (!pool)
        return;
    destroy(pool);
}

size_t tp_worker_pool_queued(struct tp_worker_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    const size_t n = pool->count;
    pthread_mutex_unlock(&pool->mu);
    return n;
}
