/* A bounded pool of worker threads for slow work that must not run on an HTTP poll thread
 * (DESIGN-NOTES: "Never block a poll thread"): argon2id hashing first of all.
 *
 * The HTTP layer suspends the connection, submits a job, and resumes the connection from the
 * job's completion callback. A job is two functions and an argument:
 *
 *   run(arg)          the work, on a worker thread;
 *   done(arg, status) always called exactly once per accepted job, on a worker thread, after
 *                     run (status TP_JOB_RAN) or instead of it (TP_JOB_CANCELLED: the pool
 *                     was shut down with TP_POOL_CANCEL before the job started).
 *
 * Ownership: the pool never reads or frees arg; it belongs to the submitter until done is
 * called, and done may free it. Callbacks may call tp_worker_pool_submit (on this or another
 * pool) but must not call tp_worker_pool_free on their own pool (a thread cannot join
 * itself).
 *
 * Back-pressure: at most `threads` jobs run and at most `queue_cap` wait; submitting to a
 * full queue fails at once with TP_ERR_BUSY (the HTTP layer answers 503 with Retry-After)
 * rather than letting a flood of logins grow memory and latency without bound. Each running
 * argon2id job holds 64 MiB, so `threads` also bounds that memory.
 *
 * Thread-safety: submit and shutdown may be called from any thread at any time; free from
 * one thread, once, outside the pool's callbacks. Worker threads start with every signal
 * blocked, so process signals go to the threads that wait for them. */
#ifndef TP_SECURITY_WORKER_POOL_H
#define TP_SECURITY_WORKER_POOL_H

#include <stddef.h>

#include "core/err.h"

#define TP_WORKER_POOL_MAX_THREADS 256
#define TP_WORKER_POOL_MAX_QUEUE ((size_t)1 << 20)

enum tp_job_status {
    TP_JOB_RAN = 0,   /* run(arg) returned */
    TP_JOB_CANCELLED, /* run was not called: the pool is shutting down with TP_POOL_CANCEL */
};

typedef void (*tp_job_run_fn)(void *arg);
typedef void (*tp_job_done_fn)(void *arg, enum tp_job_status status);

enum tp_pool_shutdown {
    TP_POOL_DRAIN = 0, /* queued jobs still run */
    TP_POOL_CANCEL,    /* queued jobs get done(arg, TP_JOB_CANCELLED); running ones finish */
};

struct tp_worker_pool;

/* Default thread count: half the online CPUs, at least 1 (1 on a 2-core machine), leaving
 * the other half to the HTTP threads so that a burst of logins cannot starve requests. */
unsigned tp_worker_pool_default_threads(void);

/* Starts `threads` workers (0: the default above) with room for `queue_cap` waiting jobs
 * (>= 1). TP_ERR_INVALID when a size is out of range (threads <= TP_WORKER_POOL_MAX_THREADS,
 * queue_cap <= TP_WORKER_POOL_MAX_QUEUE), TP_ERR_NOMEM, TP_ERR_INTERNAL when a thread cannot
 * be started. On success *out owns the pool; release it with tp_worker_pool_free. */
enum tp_err tp_worker_pool_new(unsigned threads, size_t queue_cap, struct tp_worker_pool **out,
                               char *msg, size_t msglen) TP_MUST_USE;

/* Queues a job (run and done non-NULL). TP_OK: done(arg, ...) will be called exactly once.
 * TP_ERR_BUSY: the queue is full, or the pool is shutting down; nothing will be called and
 * arg is still the caller's. Never blocks on the work itself (only on the queue's lock). */
enum tp_err tp_worker_pool_submit(struct tp_worker_pool *pool, tp_job_run_fn run,
                                  tp_job_done_fn done, void *arg) TP_MUST_USE;

/* Starts shutting down and returns without waiting: from now on submit fails with
 * TP_ERR_BUSY; with TP_POOL_CANCEL the jobs still queued are cancelled (their done gets
 * TP_JOB_CANCELLED, on a worker thread). Calling it again may turn a drain into a cancel,
 * never the reverse. */
void tp_worker_pool_shutdown(struct tp_worker_pool *pool, enum tp_pool_shutdown mode);

/* Shuts down (draining, unless tp_worker_pool_shutdown chose cancel), waits until every
 * accepted job's done callback has returned and the threads have exited, then frees the
 * pool. NULL is allowed. */
void tp_worker_pool_free(struct tp_worker_pool *pool);

/* Jobs waiting (not running) right now; a snapshot, for metrics. */
size_t tp_worker_pool_queued(struct tp_worker_pool *pool);

#endif
