/* Benefits engine throughput on one core (bench tool, not part of the product build).
 *
 *   engine_bench [-c CLAIMS] [-r ROUNDS] DATA_REFERENCE_DIR
 *
 * Loads the committed reference data and the three demo contracts, generates CLAIMS claims
 * (deterministic PRNG; 1 to 8 lines each, a pharmacy-heavy mix like real tiers-payant volume:
 * medicines, consultations, biology, nursing, dental, optics, hearing aids, hospital), with a
 * history for some beneficiaries (counters in use, equipment renewed recently), then times
 * ROUNDS passes of:
 *   - the floor: a loop over the same lines that only sums quantity x unit price (what any
 *     per-line processing costs at least: reading the lines);
 *   - the engine: tp_benefits_compute on every claim.
 * Generation is not timed. Prints lines per second for both, and their ratio. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/benefits.h"

struct bench_claim {
    int set;  /* demo contract */
    int hist; /* index into histories, -1: empty */
    int age;
    tp_day date;
    int first, n; /* lines[first .. first + n) */
};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load(struct tp_refdata *rd, const char *dir, const char *name)
{
    static char buf[1 << 20];
    char path[1024], msg[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (tp_refdata_load(rd, buf, n, msg, sizeof msg) != TP_OK) {
        fprintf(stderr, "%s: %s\n", path, msg);
        exit(1);
    }
}

/* Act mix: code, weight (per mille), unit price range (cents), BR on the line. */
static const struct {
    const char *code;
    int weight;
    int64_t lo, hi;
    int br_on_line;
    int qty_max;
} mix[] = {
    {"PH7", 300, 150, 6000, 1, 3},
    {"PH4", 80, 150, 3000, 1, 3},
    {"PH1", 60, 500, 20000, 1, 2},
    {"PH2", 20, 200, 1500, 1, 2},
    {"G", 150, 3000, 6000, 0, 1},
    {"B", 90, 1000, 8000, 1, 1},
    {"AMI", 60, 300, 2000, 1, 3},
    {"AMK", 40, 1600, 2500, 1, 1},
    {"SDE", 40, 2300, 9000, 1, 1},
    {"DCCM_RAC0", 10, 50000, 50000, 0, 1},
    {"DCCM_LIB", 15, 50000, 120000, 0, 1},
    {"OPT_MON_B", 20, 5000, 30000, 0, 1},
    {"OPT_VER_B_S", 30, 4000, 30000, 0, 1},
    {"OPT_VER_B_C", 10, 10000, 40000, 0, 1},
    {"OPT_MON_A", 5, 3000, 3000, 0, 1},
    {"AUD_II", 8, 100000, 200000, 0, 1},
    {"AUD_I", 4, 95000, 95000, 0, 1},
    {"SEJ", 20, 50000, 500000, 1, 1},
    {"FJ", 20, 0, 0, 0, 5},
    {"PAV", 8, 0, 0, 0, 1},
};

int main(int argc, char **argv)
{
    int claims = 200000, rounds = 5, opt;
    while ((opt = getopt(argc, argv, "c:r:")) != -1) {
        if (opt == 'c')
            claims = atoi(optarg);
        else if (opt == 'r')
            rounds = atoi(optarg);
        else
            return 2;
    }
    if (optind != argc - 1 || claims < 1 || rounds < 1) {
        fprintf(stderr, "usage: engine_bench [-c CLAIMS] [-r ROUNDS] DATA_REFERENCE_DIR\n");
        return 2;
    }
    static struct tp_refdata rd;
    char msg[256];
    tp_refdata_init(&rd);
    load(&rd, argv[optind], "params.txt");
    load(&rd, argv[optind], "acts.txt");
    if (tp_refdata_finish(&rd, msg, sizeof msg) != TP_OK) {
        fprintf(stderr, "reference data: %s\n", msg);
        return 1;
    }
    static struct tp_guarantee_set sets[TP_GL_DEMO_COUNT];
    for (int i = 0; i < TP_GL_DEMO_COUNT; i++) {
        const char *t = tp_gl_demo_text((enum tp_gl_demo)i);
        if (tp_gl_parse(t, strlen(t), &sets[i], msg, sizeof msg) != TP_OK) {
            fprintf(stderr, "demo %d: %s\n", i, msg);
            return 1;
        }
    }

    int total_weight = 0;
    for (size_t k = 0; k < sizeof mix / sizeof mix[0]; k++)
        total_weight += mix[k].weight;

    /* Histories: a few counters in use and equipment bought some time ago. */
    enum { NHIST = 1024 };
    static struct tp_counter counters[NHIST][4];
    static struct tp_history hist[NHIST];
    const tp_day base = tp_date_from_ymd(2026, 6, 15);
    for (int i = 0; i < NHIST; i++) {
        tp_history_empty(&hist[i]);
        static const char *const keys[] = {"OPTIQUE.VERRE/LIBRE", "OPTIQUE.MONTURE/LIBRE",
                                           "DENTAIRE.PROTHESE/LIBRE", "AUDIO.AIDE_AUDITIVE/LIBRE"};
        for (int k = 0; k < 4; k++) {
            snprintf(counters[i][k].key, sizeof counters[i][k].key, "%s", keys[k]);
            counters[i][k].period_start = base - (tp_day)(next() % 900);
            counters[i][k].used_cents = next() % 30000;
            counters[i][k].side = k == 3 ? 'R' : 0;
        }
        hist[i].counters = counters[i];
        hist[i].n_counters = 4;
        hist[i].last_frame = hist[i].last_lenses = base - (tp_day)(next() % 1200);
        hist[i].last_aid[1] = base - (tp_day)(next() % 2000);
        hist[i].pf_year_cents = next() % 5000;
        hist[i].franchise_year_cents = next() % 5000;
    }

    struct bench_claim *cl = calloc((size_t)claims, sizeof *cl);
    struct tp_claim_line *lines = calloc((size_t)claims * 8, sizeof *lines);
    if (!cl || !lines)
        return 1;
    int nlines = 0;
    for (int c = 0; c < claims; c++) {
        struct bench_claim *b = &cl[c];
        b->set = (int)(next() % TP_GL_DEMO_COUNT);
        b->hist = next() % 4 == 0 ? (int)(next() % NHIST) : -1;
        b->age = (int)(next() % 90);
        b->date = base + (tp_day)(next() % 365);
        b->first = nlines;
        b->n = 1 + (int)(next() % 8);
        for (int i = 0; i < b->n; i++) {
            int w = (int)(next() % (uint32_t)total_weight);
            size_t k = 0;
            while (w >= mix[k].weight)
                w -= mix[k++].weight;
            struct tp_claim_line *l = &lines[nlines++];
            memset(l, 0, sizeof *l);
            snprintf(l->code, sizeof l->code, "%s", mix[k].code);
            l->quantity = 1 + (int32_t)(next() % (uint32_t)mix[k].qty_max);
            l->unit_price_cents =
                mix[k].lo + (int64_t)(next() % (uint32_t)(mix[k].hi - mix[k].lo + 1));
            l->br_cents = mix[k].br_on_line ? l->unit_price_cents : -1;
            l->amo_rate_bp = -1;
            l->amo_cents = -1;
            l->side = (next() & 1) ? 'L' : 'R';
        }
    }

    static struct tp_history empty;
    tp_history_empty(&empty);
    static struct tp_benefit_result res;
    double best_floor = 1e30, best_engine = 1e30;
    int64_t floor_sum = 0, amc_sum = 0;
    long errors = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int c = 0; c < claims; c++) {
            const struct bench_claim *b = &cl[c];
            for (int i = 0; i < b->n; i++) {
                const struct tp_claim_line *l = &lines[b->first + i];
                floor_sum += l->unit_price_cents * l->quantity;
            }
            /* Keep the loop from being folded away. */
            __asm__ volatile("" : "+r"(floor_sum));
        }
        double t1 = now();
        for (int c = 0; c < claims; c++) {
            const struct bench_claim *b = &cl[c];
            struct tp_claim claim = {
                .date = b->date, .age = b->age, .n_lines = b->n, .lines = &lines[b->first]};
            if (tp_benefits_compute(&sets[b->set], &rd, b->hist >= 0 ? &hist[b->hist] : &empty,
                                    &claim, &res, msg, sizeof msg) != TP_OK)
                errors++;
            else
                amc_sum += res.amc_cents;
        }
        double t2 = now();
        if (t1 - t0 < best_floor)
            best_floor = t1 - t0;
        if (t2 - t1 < best_engine)
            best_engine = t2 - t1;
    }
    const double floor_lps = nlines / best_floor, engine_lps = nlines / best_engine;
    printf("claims %d, lines %d, rounds %d (best round reported)\n", claims, nlines, rounds);
    printf("floor  (sum of qty x price): %12.0f lines/s\n", floor_lps);
    printf("engine (tp_benefits_compute): %12.0f lines/s  (%.0f claims/s, %.1f ns/line)\n",
           engine_lps, claims / best_engine, best_engine / nlines * 1e9);
    printf("ratio engine/floor: %.4f (floor is %.0fx faster)\n", engine_lps / floor_lps,
           floor_lps / engine_lps);
    printf("errors: %ld; checksum %lld %lld\n", errors, (long long)(floor_sum % 1000003),
           (long long)(amc_sum % 1000003));
    return errors ? 1 : 0;
}
