/* argon2id throughput and latency with libsodium (bench tool, not part of the product build).
 *
 *   argon2_bench [-t THREADS] [-n HASHES_PER_THREAD] [-o OPSLIMIT] [-m MEMLIMIT_MIB]
 *   argon2_bench -s                     sweep opslimit 1..4 x memlimit 64/128 MiB, 1 thread
 *
 * Defaults are the parameters the server uses (src/security/password.h). Each thread hashes
 * a fixed, made-up password with crypto_pwhash_str_alg(..., crypto_pwhash_ALG_ARGON2ID13),
 * the exact call the server makes; the report gives the median and worst latency of one hash
 * and the aggregate hashes per second over all threads. Nothing secret is printed. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "security/password.h"

#define MAX_THREADS 64
#define MAX_HASHES 1000

struct run {
    unsigned long long ops;
    size_t mem;
    int n;
    double ms[MAX_HASHES];
    int failed;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void *worker(void *p)
{
    struct run *r = p;
    static const char pw[] = "bench-only made-up passphrase";
    char out[crypto_pwhash_STRBYTES];
    for (int i = 0; i < r->n; i++) {
        const double t0 = now_ms();
        if (crypto_pwhash_str_alg(out, pw, sizeof pw - 1, r->ops, r->mem,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
            r->failed = 1;
        r->ms[i] = now_ms() - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs `threads` threads of n hashes each; prints one line. */
static int measure(int threads, int n, unsigned long long ops, size_t mem)
{
    static struct run runs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    static double all[MAX_THREADS * MAX_HASHES];
    const double t0 = now_ms();
    for (int t = 0; t < threads; t++) {
        runs[t] = (struct run){.ops = ops, .mem = mem, .n = n};
        if (pthread_create(&tid[t], NULL, worker, &runs[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        failed |= runs[t].failed;
    }
    const double wall = now_ms() - t0;
    if (failed) {
        fprintf(stderr, "crypto_pwhash_str_alg failed (out of memory?)\n");
        return 1;
    }
    size_t k = 0;
    for (int t = 0; t < threads; t++)
        for (int i = 0; i < n; i++)
            all[k++] = runs[t].ms[i];
    qsort(all, k, sizeof all[0], cmp_double);
    printf("threads=%d opslimit=%llu memlimit=%zu MiB hashes=%zu  median=%.1f ms  max=%.1f ms  "
           "throughput=%.1f hashes/s\n",
           threads, ops, mem >> 20, k, all[k / 2], all[k - 1], (double)k * 1e3 / wall);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 1, n = 20, sweep = 0;
    unsigned long long ops = TP_PASSWORD_OPSLIMIT;
    size_t mem = TP_PASSWORD_MEMLIMIT;
    int c;
    while ((c = getopt(argc, argv, "t:n:o:m:s")) != -1) {
        switch (c) {
        case 't':
            threads = atoi(optarg);
            break;
        case 'n':
            n = atoi(optarg);
            break;
        case 'o':
            ops = strtoull(optarg, NULL, 10);
            break;
        case 'm':
            mem = (size_t)strtoull(optarg, NULL, 10) << 20;
            break;
        case 's':
            sweep = 1;
            break;
        default:
            fprintf(stderr, "usage: %s [-t threads] [-n hashes] [-o opslimit] [-m MiB] | -s\n",
                    argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > MAX_THREADS || n < 1 || n > MAX_HASHES) {
        fprintf(stderr, "threads must be 1..%d, hashes 1..%d\n", MAX_THREADS, MAX_HASHES);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    if (sweep) {
        const size_t mems[] = {(size_t)64 << 20, (size_t)128 << 20};
        for (size_t m = 0; m < sizeof mems / sizeof mems[0]; m++)
            for (unsigned long long o = 1; o <= 4; o++)
                if (measure(1, n, o, mems[m]) != 0)
                    return 1;
        return 0;
    }
    return measure(threads, n, ops, mem);
}
