/* Writes a pain.001.001.03 file of N synthetic transfers (bench/sepa.sh).
 *
 *   sepa_bench [-n N] [--array] FILE
 *
 * Default (streaming): the transfers are generated one at a time, as a database cursor would
 * hand them over; a first pass adds up the amounts (the SELECT count(*), sum(...) a payment
 * run does) and tp_sepa_begin/add/end write the file: memory stays flat whatever N.
 * --array: the N transfers are built in memory first and tp_sepa_write() validates them all,
 * then writes (the caller's array grows with N, the writer does not).
 * Every transfer has its own valid IBAN (mod 97 computed here), an accented name and a
 * remittance text, so the writer's checks and transliteration are all exercised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sepa.h"
#include "core/validate.h"

struct gen {
    char name[64], iban[35], e2e[36], rmt[96];
};

static int64_t amount_of(uint64_t i)
{
    return 1000 + (int64_t)((i * 7919) % 250000); /* 10.00 .. 2509.99 EUR */
}

/* Transfer i, its strings in g. */
static struct tp_sepa_transfer make(uint64_t i, struct gen *g)
{
    char bban[24];
    snprintf(bban, sizeof bban, "30006%05llu%011llu%02llu", (unsigned long long)(i % 100000),
             (unsigned long long)i, (unsigned long long)(i % 97));
    memcpy(g->iban, "FR", 2);
    memcpy(g->iban + 4, bban, 24);
    if (tp_iban_make("FR", bban, 23, g->iban + 2, 2) != TP_OK)
        abort();
    snprintf(g->name, sizeof g->name, "Pharmacie Saint-Étienne n° %llu", (unsigned long long)i);
    snprintf(g->e2e, sizeof g->e2e, "OTP-20261123-0001-%llu", (unsigned long long)i);
    snprintf(g->rmt, sizeof g->rmt, "Avis OTP-20261123-0001 PS %llu - %llu factures",
             (unsigned long long)i, (unsigned long long)(i % 97 + 1));
    return (struct tp_sepa_transfer){.name = g->name,
                                     .iban = g->iban,
                                     .bic = (i % 4) ? "BNPAFRPPXXX" : NULL,
                                     .amount_cents = amount_of(i),
                                     .end_to_end = g->e2e,
                                     .remittance = g->rmt};
}

static size_t file_write(void *ctx, const char *buf, size_t len)
{
    return fwrite(buf, 1, len, ctx);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    int array = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--array") == 0)
            array = 1;
        else
            path = argv[i];
    }
    if (!path || n == 0) {
        fprintf(stderr, "usage: sepa_bench [-n N] [--array] FILE\n");
        return 2;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    static char fbuf[1 << 16];
    setvbuf(f, fbuf, _IOFBF, sizeof fbuf);
    const struct tp_sepa_header h = {
        .msg_id = "OTP-20261123-0001",
        .created_unix = 1795456348,
        .execution_date = 20781,
        .debtor_name = "Opentp Plateforme Tiers-Payant",
        .debtor_iban = "FR7630006000011234567890189",
        .debtor_bic = "AGRIFRPPXXX",
    };
    char msg[256];
    const double t0 = now();
    enum tp_err rc;
    uint64_t count = n;
    int64_t sum = 0;
    if (array) {
        struct tp_sepa_transfer *t = malloc(n * sizeof *t);
        struct gen *g = malloc(n * sizeof *g);
        if (!t || !g)
            return 1;
        for (uint64_t i = 0; i < n; i++)
            t[i] = make(i, &g[i]);
        rc = tp_sepa_write(&h, t, n, file_write, f, &count, &sum, msg, sizeof msg);
        free(t);
        free(g);
    } else {
        for (uint64_t i = 0; i < n; i++)
            sum += amount_of(i);
        struct tp_sepa_writer w;
        struct gen g;
        rc = tp_sepa_begin(&w, &h, n, sum, file_write, f, msg, sizeof msg);
        for (uint64_t i = 0; rc == TP_OK && i < n; i++) {
            const struct tp_sepa_transfer t = make(i, &g);
            rc = tp_sepa_add(&w, &t, msg, sizeof msg);
        }
        if (rc == TP_OK)
            rc = tp_sepa_end(&w, msg, sizeof msg);
    }
    if (fclose(f) != 0 && rc == TP_OK)
        rc = TP_ERR_IO;
    const double t1 = now();
    if (rc != TP_OK) {
        fprintf(stderr, "sepa_bench: %s: %s\n", tp_err_name(rc), msg);
        return 1;
    }
    char total[24];
    tp_sepa_amount_format(sum, total);
    printf("%s: %llu transfers, control sum %s EUR, %.2f s\n", array ? "array" : "stream",
           (unsigned long long)count, total, t1 - t0);
    return 0;
}
