/* opentp import beneficiaries|gen-csv: the insurer's bulk load (docs/IMPORT.md), and a
 * generator of such files from the synthetic population, for tests and benchmarks. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/csv.h"
#include "core/population.h"
#include "core/validate.h"
#include "import/import.h"

#define TP_EXIT_REJECTED 3 /* the file was imported, but some rows were rejected */

static const char *help =
    "usage: opentp import beneficiaries --data DIR --amc NUMBER [--report FILE] [--batch N]\n"
    "                                   [--no-progress] FILE.csv\n"
    "       opentp import gen-csv --data DIR --amc NUMBER --rows N [--seed S]\n"
    "                             [--bad-every K] OUT.csv\n"
    "\n"
    "beneficiaries  loads FILE.csv (format: docs/IMPORT.md) into AMC NUMBER's beneficiaries.\n"
    "               Valid rows are inserted or updated (identical rows are left alone), in\n"
    "               transactions of N rows (default 50000); rejected rows are listed, with the\n"
    "               line, the column and the reason, in the report (default FILE.csv.report.csv).\n"
    "               Exit status: 0 every row imported, 3 some rows rejected (see the report),\n"
    "               1 the file could not be imported (message on stderr), 2 bad command line.\n"
    "gen-csv        writes N rows of the synthetic population as AMC NUMBER's beneficiaries,\n"
    "               on its existing contracts (OUT.csv '-' is standard output); with\n"
    "               --bad-every K, every K-th row is deliberately bad, in turn: wrong NIR key,\n"
    "               impossible birth date, unknown contract, duplicate of the row before.\n";

static tp_day today_utc(void)
{
    return (tp_day)((int64_t)time(NULL) / 86400);
}

static int parse_count(const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

struct args {
    const char *dir, *amc, *report, *file;
    long long batch, rows, seed, bad_every;
    int progress;
};

/* Parses the options after the sub-command (argv[0]). Returns -1 after printing a usage error,
 * 1 when --help was given, 0 otherwise. */
static int parse_args(int argc, char **argv, struct args *a, const char *cmd)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"amc", required_argument, NULL, 'a'},
                                         {"report", required_argument, NULL, 'r'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"rows", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"bad-every", required_argument, NULL, 'k'},
                                         {"no-progress", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->dir = optarg;
            break;
        case 'a':
            a->amc = optarg;
            break;
        case 'r':
            a->report = optarg;
            break;
        case 'q':
            a->progress = 0;
            break;
        case 'h':
            return 1;
        case 'b':
            if (parse_count(optarg, 1, TP_IMPORT_BATCH_MAX, &a->batch) != 0) {
                tp_cli_error(cmd, "--batch must be from 1 to %d", TP_IMPORT_BATCH_MAX);
                return -1;
            }
            break;
        case 'n':
            if (parse_count(optarg, 0, 100000000, &a->rows) != 0) {
                tp_cli_error(cmd, "--rows must be from 0 to 100000000");
                return -1;
            }
            break;
        case 's':
            if (parse_count(optarg, 0, (long long)(~0ull >> 1), &a->seed) != 0) {
                tp_cli_error(cmd, "--seed must be a non-negative integer");
                return -1;
            }
            break;
        case 'k':
            if (parse_count(optarg, 1, 1000000000, &a->bad_every) != 0) {
                tp_cli_error(cmd, "--bad-every must be a positive integer");
                return -1;
            }
            break;
        default:
            tp_cli_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1) {
        tp_cli_error(cmd, optind >= argc ? "a file name is required" : "one file name only");
        return -1;
    }
    a->file = argv[optind];
    if (!a->amc) {
        tp_cli_error(cmd, "--amc is required");
        return -1;
    }
    if (tp_amc_check(a->amc, strlen(a->amc), NULL, 0) != TP_OK) {
        tp_cli_error(cmd, "--amc must be an AMC number (9 digits)");
        return -1;
    }
    return 0;
}

static int import_beneficiaries(const struct args *a)
{
    const char *cmd = "import beneficiaries";
    struct tp_platform p;
    int rc = tp_platform_open(a->dir, &p, cmd);
    if (rc != TP_EXIT_OK)
        return rc;
    struct tp_import_opts o = {.path = a->file,
                               .amc = a->amc,
                               .report_path = a->report,
                               .today = today_utc(),
                               .batch_rows = (size_t)a->batch,
                               .progress = a->progress && isatty(STDERR_FILENO)};
    struct tp_import_stats st;
    char msg[1024];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum tp_err e = tp_import_beneficiaries(p.keys, p.store, &o, &st, msg, sizeof msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tp_platform_close(&p);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (e != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        if (st.batches)
            tp_cli_error(cmd, "%llu rows were imported before the failure",
                         (unsigned long long)st.imported);
        return TP_EXIT_FAIL;
    }
    printf("rows read   %10llu\n"
           "imported    %10llu  (new or changed)\n"
           "unchanged   %10llu\n"
           "rejected    %10llu  (listed in %s)\n"
           "time        %10.2f s (%.0f rows/s)\n",
           (unsigned long long)st.read, (unsigned long long)st.imported,
           (unsigned long long)st.unchanged, (unsigned long long)st.rejected, st.report_path, secs,
           secs > 0 ? (double)st.read / secs : 0.0);
    return st.rejected ? TP_EXIT_REJECTED : TP_EXIT_OK;
}

/* ---- gen-csv ------------------------------------------------------------------------------ */

/* Writes s as one CSV field, quoted when it must be. */
static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* One row in the column order of the header; bad_birth (if not NULL) replaces the birth date. */
static void put_row(FILE *f, const struct tp_beneficiary *b, const char *bad_birth)
{
    char bd[11], cs[11], ce[11], domains[160] = "";
    tp_date_format(b->id.birth_date, bd);
    if (bad_birth)
        snprintf(bd, sizeof bd, "%s", bad_birth);
    tp_date_format(b->coverage_start, cs);
    tp_date_format(b->coverage_end, ce);
    for (int d = 0; d < TP_DOM_COUNT; d++) {
        if (!(b->tp_domains & (1u << d)))
            continue;
        if (domains[0])
            strcat(domains, "|");
        strcat(domains, tp_domain_name((enum tp_domain)d));
    }
    put_field(f, b->member);
    fprintf(f, ",%d,%s,", b->rank, tp_quality_name(b->quality));
    put_field(f, b->id.last_name);
    fputc(',', f);
    put_field(f, b->id.first_name);
    fprintf(f, ",%s,%d,%s,%d,", bd, b->id.birth_rank, b->id.nir, b->nir_own);
    put_field(f, b->contract);
    fprintf(f, ",%s,%s,%s\n", cs, ce, domains);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int gen_csv(const struct args *a)
{
    const char *cmd = "import gen-csv";
    struct tp_platform p;
    int rc = tp_platform_open(a->dir, &p, cmd);
    if (rc != TP_EXIT_OK)
        return rc;
    const struct tp_store_ops *ops = tp_store_ops(p.store);
    void *impl = tp_store_impl(p.store);
    static char codes[TP_IMPORT_MAX_CONTRACTS][TP_CODE_MAX];
    size_t ncodes = 0;
    enum tp_err e = ops->amc_find(impl, a->amc, NULL, NULL);
    if (e == TP_OK)
        e = ops->contract_codes(impl, a->amc, codes, TP_IMPORT_MAX_CONTRACTS, &ncodes);
    tp_platform_close(&p);
    if (e != TP_OK || ncodes == 0) {
        tp_cli_error(cmd,
                     e == TP_ERR_NOT_FOUND ? "no AMC numbered %s on this platform"
                                           : "AMC %s has no contract",
                     a->amc);
        return TP_EXIT_FAIL;
    }

    FILE *f = strcmp(a->file, "-") == 0 ? stdout : fopen(a->file, "w");
    if (!f) {
        tp_cli_error(cmd, "cannot create %s", a->file);
        return TP_EXIT_FAIL;
    }
    static char obuf[1 << 20];
    setvbuf(f, obuf, _IOFBF, sizeof obuf);
    fputs("member_number,rank,quality,last_name,first_name,birth_date,birth_rank,nir,nir_own,"
          "contract,coverage_start,coverage_end,tp_domains\n",
          f);

    struct tp_pop_iter it;
    tp_pop_iter_init(&it, (uint64_t)a->seed);
    tp_day today = today_utc();
    struct tp_beneficiary b, prev;
    long long bad = 0;
    memset(&prev, 0, sizeof prev);
    for (long long i = 1; i <= a->rows; i++) {
        do
            tp_pop_next(&it, &b);
        while (b.id.birth_date > today); /* the population's calendar may run ahead of ours */
        snprintf(b.amc, sizeof b.amc, "%s", a->amc);
        /* A family keeps one contract: chosen from its member number. */
        snprintf(b.contract, sizeof b.contract, "%s", codes[fnv1a(b.member) % ncodes]);
        if (a->bad_every && i % a->bad_every == 0) {
            long long kind = (i / a->bad_every - 1) % 4;
            if (kind == 3 && prev.member[0] == '\0')
                kind = 0; /* nothing to duplicate yet */
            bad++;
            if (kind == 0) { /* a NIR whose key does not match */
                int key = (b.id.nir[13] - '0') * 10 + (b.id.nir[14] - '0');
                key = key % 97 + 1;
                b.id.nir[13] = (char)('0' + key / 10);
                b.id.nir[14] = (char)('0' + key % 10);
                put_row(f, &b, NULL);
            } else if (kind == 1) { /* 30 February */
                int y, m, d;
                char feb30[16];
                tp_date_to_ymd(b.id.birth_date, &y, &m, &d);
                snprintf(feb30, sizeof feb30, "%04d-02-30", y);
                put_row(f, &b, feb30);
            } else if (kind == 2) { /* a contract the AMC does not have */
                snprintf(b.contract, sizeof b.contract, "NO_SUCH_PLAN");
                put_row(f, &b, NULL);
            } else { /* the previous row, again */
                put_row(f, &prev, NULL);
            }
            continue;
        }
        put_row(f, &b, NULL);
        prev = b;
    }
    int werr = ferror(f);
    if ((f != stdout ? fclose(f) : fflush(f)) != 0 || werr) {
        tp_cli_error(cmd, "cannot write %s", a->file);
        return TP_EXIT_FAIL;
    }
    fprintf(stderr, "opentp: %s: wrote %lld rows (%lld deliberately bad) to %s\n", cmd, a->rows,
            bad, a->file);
    return TP_EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? TP_EXIT_USAGE : TP_EXIT_OK;
    }
    const char *sub = argv[1];
    int gen = strcmp(sub, "gen-csv") == 0;
    if (!gen && strcmp(sub, "beneficiaries") != 0) {
        tp_cli_error("import", "unknown import '%s' (beneficiaries or gen-csv)", sub);
        fputs(help, stderr);
        return TP_EXIT_USAGE;
    }
    struct args a = {.dir = TP_DEFAULT_DATA, .rows = -1, .seed = 2, .progress = 1};
    int pr = parse_args(argc - 1, argv + 1, &a, gen ? "import gen-csv" : "import beneficiaries");
    if (pr == 1) {
        fputs(help, stdout);
        return TP_EXIT_OK;
    }
    if (pr < 0)
        return TP_EXIT_USAGE;
    if (gen) {
        if (a.rows < 0) {
            tp_cli_error("import gen-csv", "--rows is required");
            return TP_EXIT_USAGE;
        }
        return gen_csv(&a);
    }
    return import_beneficiaries(&a);
}
