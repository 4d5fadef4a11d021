/* Password hashing (src/security/password.h) and the worker pool that runs it
 * (src/security/worker_pool.h).
 *
 * argon2id with the real parameters costs ~100 ms a call: the group setup hashes once with
 * them and the timing test runs a handful more; every other case uses hashes made with
 * libsodium's minimum limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "security/password.h"
#include "security/worker_pool.h"

static const char right[] = "Zebulon7Kayak9";
static const char wrong[] = "Zebulon7Kayak8";
static char current[TP_PASSWORD_HASH_MAX]; /* hash of `right` with the real parameters */

static int setup(void **state)
{
    (void)state;
    return tp_password_hash(right, strlen(right), current) == TP_OK ? 0 : -1;
}

/* A hash made with libsodium's minimum limits: fast, and "older parameters". */
static void weak_hash(const char *pw, int alg, char out[TP_PASSWORD_HASH_MAX])
{
    const unsigned long long ops = alg == crypto_pwhash_ALG_ARGON2I13 ? 3 : 1;
    assert_int_equal(crypto_pwhash_str_alg(out, pw, strlen(pw), ops, 8192, alg), 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------------------------
 * Hashing */

static void hash_is_argon2id_with_the_chosen_parameters(void **state)
{
    (void)state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "$argon2id$v=19$m=%zu,t=%llu,p=1$", TP_PASSWORD_MEMLIMIT / 1024,
             TP_PASSWORD_OPSLIMIT);
    assert_memory_equal(current, prefix, strlen(prefix));
    assert_true(strlen(current) < TP_PASSWORD_HASH_MAX);
    assert_null(strstr(current, right));
}

static void right_password_verifies_and_wrong_one_does_not(void **state)
{
    (void)state;
    assert_int_equal(tp_password_verify(current, right, strlen(right)), TP_OK);
    assert_int_equal(tp_password_verify(current, wrong, strlen(wrong)), TP_ERR_AUTH);
}

static void password_is_taken_as_pointer_and_length(void **state)
{
    (void)state;
    char h[TP_PASSWORD_HASH_MAX];
    weak_hash("abc", crypto_pwhash_ALG_ARGON2ID13, h);
    /* Not NUL-terminated: only the first 3 bytes count. */
    char buf[4] = {'a', 'b', 'c', 'X'};
    assert_int_equal(tp_password_verify(h, buf, 3), TP_OK);
    assert_int_equal(tp_password_verify(h, buf, 4), TP_ERR_AUTH);
    assert_int_equal(tp_password_verify(h, buf, 2), TP_ERR_AUTH);
    /* Embedded NUL is part of the password. */
    char z[TP_PASSWORD_HASH_MAX];
    assert_int_equal(crypto_pwhash_str_alg(z, "a\0b", 3, 1, 8192, crypto_pwhash_ALG_ARGON2ID13), 0);
    assert_int_equal(tp_password_verify(z, "a\0b", 3), TP_OK);
    assert_int_equal(tp_password_verify(z, "a\0c", 3), TP_ERR_AUTH);
    /* Empty password given as NULL. */
    char e[TP_PASSWORD_HASH_MAX];
    weak_hash("", crypto_pwhash_ALG_ARGON2ID13, e);
    assert_int_equal(tp_password_verify(e, NULL, 0), TP_OK);
}

static void too_long_passwords_are_not_hashed(void **state)
{
    (void)state;
    char big[TP_PASSWORD_MAX_BYTES + 1];
    memset(big, 'x', sizeof big);
    char out[TP_PASSWORD_HASH_MAX] = "junk";
    assert_int_equal(tp_password_hash(big, sizeof big, out), TP_ERR_TOO_BIG);
    assert_string_equal(out, "");
    const double t0 = now_s();
    assert_int_equal(tp_password_verify(current, big, sizeof big), TP_ERR_AUTH);
    assert_int_equal(tp_password_dummy_verify(big, sizeof big), TP_ERR_AUTH);
    assert_true(now_s() - t0 < 0.02); /* neither ran argon2id */
}

static void malformed_stored_hashes_are_invalid(void **state)
{
    (void)state;
    assert_int_equal(tp_password_verify("", right, strlen(right)), TP_ERR_INVALID);
    assert_int_equal(tp_password_verify("$2b$12$abcdefghijklmnopqrstuv", right, strlen(right)),
                     TP_ERR_INVALID);
    assert_int_equal(tp_password_verify(NULL, right, strlen(right)), TP_ERR_INVALID);
    char unterminated[TP_PASSWORD_HASH_MAX + 8];
    memset(unterminated, 'a', sizeof unterminated);
    memcpy(unterminated, "$argon2id$", 10);
    assert_int_equal(tp_password_verify(unterminated, right, strlen(right)), TP_ERR_INVALID);
    /* Right prefix, garbage after it: a failed verification. */
    assert_int_equal(tp_password_verify("$argon2id$v=19$m=x", right, strlen(right)), TP_ERR_AUTH);
}

/* ---------------------------------------------------------------------------------------
 * Rehash on login */

static void hash_with_current_parameters_needs_no_rehash(void **state)
{
    (void)state;
    assert_int_equal(tp_password_needs_rehash(current), 0);
}

static void hash_with_weaker_parameters_needs_rehash_and_still_verifies(void **state)
{
    (void)state;
    char old[TP_PASSWORD_HASH_MAX];
    weak_hash(right, crypto_pwhash_ALG_ARGON2ID13, old);
    assert_int_equal(tp_password_verify(old, right, strlen(right)), TP_OK);
    assert_int_equal(tp_password_needs_rehash(old), 1);
    /* Same memory, fewer passes; same passes, less memory. */
    char h[TP_PASSWORD_HASH_MAX];
    assert_int_equal(crypto_pwhash_str_alg(h, right, strlen(right), TP_PASSWORD_OPSLIMIT - 1,
                                           TP_PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_int_equal(tp_password_needs_rehash(h), 1);
    assert_int_equal(crypto_pwhash_str_alg(h, right, strlen(right), TP_PASSWORD_OPSLIMIT, 8192,
                                           crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_int_equal(tp_password_needs_rehash(h), 1);
}

static void argon2i_and_unparsable_hashes_need_rehash(void **state)
{
    (void)state;
    char old[TP_PASSWORD_HASH_MAX];
    weak_hash(right, crypto_pwhash_ALG_ARGON2I13, old);
    assert_memory_equal(old, "$argon2i$", 9);
    assert_int_equal(tp_password_verify(old, right, strlen(right)), TP_OK);
    assert_int_equal(tp_password_needs_rehash(old), 1);
    assert_int_equal(tp_password_needs_rehash(""), 1);
    assert_int_equal(tp_password_needs_rehash("$argon2id$garbage"), 1);
    assert_int_equal(tp_password_needs_rehash(NULL), 1);
}

static void two_hashes_of_one_password_differ(void **state)
{
    (void)state;
    char a[TP_PASSWORD_HASH_MAX], b[TP_PASSWORD_HASH_MAX];
    weak_hash(right, crypto_pwhash_ALG_ARGON2ID13, a);
    weak_hash(right, crypto_pwhash_ALG_ARGON2ID13, b);
    assert_string_not_equal(a, b); /* random salt */
}

/* ---------------------------------------------------------------------------------------
 * Timing equaliser: a login for an unknown account costs what a wrong password costs. */

static void dummy_verify_takes_as_long_as_a_real_verify(void **state)
{
    (void)state;
    /* Interleaved runs; the fastest of each kind is the one least disturbed by whatever
     * else runs on the machine (ctest -j, other builds). */
    enum { RUNS = 3 };
    double real = 1e9, dummy = 1e9;
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_s();
        assert_int_equal(tp_password_verify(current, wrong, strlen(wrong)), TP_ERR_AUTH);
        double t = now_s() - t0;
        real = t < real ? t : real;
        t0 = now_s();
        assert_int_equal(tp_password_dummy_verify(wrong, strlen(wrong)), TP_ERR_AUTH);
        t = now_s() - t0;
        dummy = t < dummy ? t : dummy;
    }
    const double ratio = dummy / real;
    print_message("verify %.1f ms, dummy verify %.1f ms (fastest of %d), ratio %.2f\n", real * 1e3,
                  dummy * 1e3, RUNS, ratio);
    assert_true(ratio > 0.5 && ratio < 2.0);
    assert_int_equal(tp_password_dummy_verify(NULL, 0), TP_ERR_AUTH);
}

/* ---------------------------------------------------------------------------------------
 * Worker pool */

/* A gate jobs can wait on, and a way to know a job has started. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    int started;
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void gate_reset(void)
{
    pthread_mutex_lock(&gate.mu);
    gate.open = 0;
    gate.started = 0;
    pthread_mutex_unlock(&gate.mu);
}

static void gate_open(void)
{
    pthread_mutex_lock(&gate.mu);
    gate.open = 1;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

static void gate_wait_started(void)
{
    pthread_mutex_lock(&gate.mu);
    while (!gate.started)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
}

static void blocker_run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate.mu);
    gate.started = 1;
    pthread_cond_broadcast(&gate.cv);
    while (!gate.open)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
}

static atomic_int ran, done_ran, done_cancelled, done_on_main;
static pthread_t main_thread;

static void count_run(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

static void count_done(void *arg, enum tp_job_status status)
{
    int *flag = arg;
    if (flag)
        (*flag)++; /* each job has its own flag: no race */
    if (pthread_equal(pthread_self(), main_thread))
        atomic_fetch_add(&done_on_main, 1);
    atomic_fetch_add(status == TP_JOB_RAN ? &done_ran : &done_cancelled, 1);
}

static void counters_reset(void)
{
    atomic_store(&ran, 0);
    atomic_store(&done_ran, 0);
    atomic_store(&done_cancelled, 0);
    atomic_store(&done_on_main, 0);
    main_thread = pthread_self();
    gate_reset();
}

static void pool_runs_100_jobs_and_calls_every_callback(void **state)
{
    (void)state;
    counters_reset();
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(2, 128, &pool, NULL, 0), TP_OK);
    static int flags[100];
    memset(flags, 0, sizeof flags);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, &flags[i]), TP_OK);
    tp_worker_pool_free(pool); /* drains */
    assert_int_equal(atomic_load(&ran), 100);
    assert_int_equal(atomic_load(&done_ran), 100);
    assert_int_equal(atomic_load(&done_cancelled), 0);
    assert_int_equal(atomic_load(&done_on_main), 0); /* callbacks run on the workers */
    for (int i = 0; i < 100; i++)
        assert_int_equal(flags[i], 1);
}

static void pool_with_a_small_queue_completes_100_jobs_when_retried(void **state)
{
    (void)state;
    counters_reset();
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(1, 4, &pool, NULL, 0), TP_OK);
    int busy = 0;
    for (int i = 0; i < 100;) {
        const enum tp_err rc = tp_worker_pool_submit(pool, count_run, count_done, NULL);
        if (rc == TP_OK) {
            i++;
        } else {
            assert_int_equal(rc, TP_ERR_BUSY);
            busy++;
            sched_yield();
        }
    }
    tp_worker_pool_free(pool);
    assert_int_equal(atomic_load(&done_ran), 100);
    print_message("%d submissions refused with TP_ERR_BUSY on the way\n", busy);
}

static void full_queue_refuses_with_busy(void **state)
{
    (void)state;
    counters_reset();
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(1, 2, &pool, NULL, 0), TP_OK);
    assert_int_equal(tp_worker_pool_submit(pool, blocker_run, count_done, NULL), TP_OK);
    gate_wait_started(); /* the only worker is busy; the queue is empty */
    assert_int_equal(tp_worker_pool_queued(pool), 0);
    assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_OK);
    assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_OK);
    assert_int_equal(tp_worker_pool_queued(pool), 2);
    assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_ERR_BUSY);
    assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_ERR_BUSY);
    gate_open();
    tp_worker_pool_free(pool);
    assert_int_equal(atomic_load(&ran), 2); /* the refused ones never ran */
    assert_int_equal(atomic_load(&done_ran), 3);
}

static void cancelling_shutdown_calls_back_every_queued_job(void **state)
{
    (void)state;
    counters_reset();
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(1, 10, &pool, NULL, 0), TP_OK);
    assert_int_equal(tp_worker_pool_submit(pool, blocker_run, count_done, NULL), TP_OK);
    gate_wait_started();
    for (int i = 0; i < 10; i++)
        assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_OK);
    tp_worker_pool_shutdown(pool, TP_POOL_CANCEL);
    assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_ERR_BUSY);
    gate_open();
    tp_worker_pool_free(pool);
    assert_int_equal(atomic_load(&ran), 0);
    assert_int_equal(atomic_load(&done_ran), 1); /* the running job finishes */
    assert_int_equal(atomic_load(&done_cancelled), 10);
    assert_int_equal(atomic_load(&done_on_main), 0);
}

static void draining_shutdown_runs_every_queued_job(void **state)
{
    (void)state;
    counters_reset();
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(2, 10, &pool, NULL, 0), TP_OK);
    assert_int_equal(tp_worker_pool_submit(pool, blocker_run, count_done, NULL), TP_OK);
    gate_wait_started();
    for (int i = 0; i < 10; i++)
        assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_OK);
    tp_worker_pool_shutdown(pool, TP_POOL_DRAIN);
    assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_ERR_BUSY);
    gate_open();
    tp_worker_pool_free(pool);
    assert_int_equal(atomic_load(&ran), 10);
    assert_int_equal(atomic_load(&done_ran), 11);
    assert_int_equal(atomic_load(&done_cancelled), 0);
}

static void a_drain_can_become_a_cancel_but_not_the_reverse(void **state)
{
    (void)state;
    counters_reset();
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(1, 10, &pool, NULL, 0), TP_OK);
    assert_int_equal(tp_worker_pool_submit(pool, blocker_run, count_done, NULL), TP_OK);
    gate_wait_started();
    for (int i = 0; i < 5; i++)
        assert_int_equal(tp_worker_pool_submit(pool, count_run, count_done, NULL), TP_OK);
    tp_worker_pool_shutdown(pool, TP_POOL_DRAIN);
    tp_worker_pool_shutdown(pool, TP_POOL_CANCEL);
    tp_worker_pool_shutdown(pool, TP_POOL_DRAIN); /* does not undo the cancel */
    gate_open();
    tp_worker_pool_free(pool);
    assert_int_equal(atomic_load(&ran), 0);
    assert_int_equal(atomic_load(&done_ran), 1);
    assert_int_equal(atomic_load(&done_cancelled), 5);
}

static void pool_sizes_are_checked(void **state)
{
    (void)state;
    struct tp_worker_pool *pool = (struct tp_worker_pool *)1;
    char msg[128];
    assert_int_equal(tp_worker_pool_new(1, 0, &pool, msg, sizeof msg), TP_ERR_INVALID);
    assert_null(pool);
    assert_int_equal(tp_worker_pool_new(TP_WORKER_POOL_MAX_THREADS + 1, 1, &pool, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_worker_pool_new(1, TP_WORKER_POOL_MAX_QUEUE + 1, &pool, msg, sizeof msg),
                     TP_ERR_INVALID);
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const unsigned want = cpus / 2 >= 1 ? (unsigned)(cpus / 2) : 1;
    assert_int_equal(tp_worker_pool_default_threads(), want);
    /* 0 threads means the default. */
    assert_int_equal(tp_worker_pool_new(0, 1, &pool, msg, sizeof msg), TP_OK);
    tp_worker_pool_free(pool);
    tp_worker_pool_free(NULL);
}

/* The intended use: verification on a worker, the result handed back in the callback. */
struct login {
    const char *hash;
    const char *pw;
    size_t len;
    enum tp_err rc;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void login_run(void *arg)
{
    struct login *l = arg;
    l->rc = tp_password_verify(l->hash, l->pw, l->len);
}

static void login_done(void *arg, enum tp_job_status status)
{
    struct login *l = arg;
    pthread_mutex_lock(&l->mu);
    l->done = status == TP_JOB_RAN ? 1 : -1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void verification_runs_on_the_pool(void **state)
{
    (void)state;
    char h[TP_PASSWORD_HASH_MAX];
    weak_hash(right, crypto_pwhash_ALG_ARGON2ID13, h);
    struct tp_worker_pool *pool = NULL;
    assert_int_equal(tp_worker_pool_new(1, 4, &pool, NULL, 0), TP_OK);
    struct login l = {h,
                      right,
                      strlen(right),
                      TP_ERR_INTERNAL,
                      0,
                      PTHREAD_MUTEX_INITIALIZER,
                      PTHREAD_COND_INITIALIZER};
    assert_int_equal(tp_worker_pool_submit(pool, login_run, login_done, &l), TP_OK);
    pthread_mutex_lock(&l.mu);
    while (!l.done)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    assert_int_equal(l.done, 1);
    assert_int_equal(l.rc, TP_OK);
    tp_worker_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_is_argon2id_with_the_chosen_parameters),
        cmocka_unit_test(right_password_verifies_and_wrong_one_does_not),
        cmocka_unit_test(password_is_taken_as_pointer_and_length),
        cmocka_unit_test(too_long_passwords_are_not_hashed),
        cmocka_unit_test(malformed_stored_hashes_are_invalid),
        cmocka_unit_test(hash_with_current_parameters_needs_no_rehash),
        cmocka_unit_test(hash_with_weaker_parameters_needs_rehash_and_still_verifies),
        cmocka_unit_test(argon2i_and_unparsable_hashes_need_rehash),
        cmocka_unit_test(two_hashes_of_one_password_differ),
        cmocka_unit_test(dummy_verify_takes_as_long_as_a_real_verify),
        cmocka_unit_test(pool_runs_100_jobs_and_calls_every_callback),
        cmocka_unit_test(pool_with_a_small_queue_completes_100_jobs_when_retried),
        cmocka_unit_test(full_queue_refuses_with_busy),
        cmocka_unit_test(cancelling_shutdown_calls_back_every_queued_job),
        cmocka_unit_test(draining_shutdown_runs_every_queued_job),
        cmocka_unit_test(a_drain_can_become_a_cancel_but_not_the_reverse),
        cmocka_unit_test(pool_sizes_are_checked),
        cmocka_unit_test(verification_runs_on_the_pool),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
