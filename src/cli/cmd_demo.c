/* opentp init / demo / cards: create a platform, fill it with the deterministic synthetic
 * population, and sample card data from it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/token.h"
#include "core/population.h"
#include "core/rights.h"
#include "security/account_new.h"
#include "store/claims.h"

#define BATCH 5000
/* The demo accounts' password: fixed so that a newcomer can sign in; meets CNIL 2022-100. */
#define DEMO_PASSWORD "Demo-Tiers-Payant-2026"

int tp_user_add(struct tp_platform *p, struct tp_new_account *in, FILE *out, const char *cmd);

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = TP_DEFAULT_DATA;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            puts("usage: opentp init --data DIR\nCreates DIR/master.key (mode 0600) and "
                 "DIR/opentp.db (schema migrated).");
            return TP_EXIT_OK;
        default:
            return TP_EXIT_USAGE;
        }
    }
    int rc = tp_platform_init(dir, "init");
    if (rc == TP_EXIT_OK)
        printf("platform created in %s (keep %s/master.key secret and backed up)\n", dir, dir);
    return rc;
}

static int64_t ps_count_for(int64_t beneficiaries)
{
    int64_t n = beneficiaries / 100;
    return n < 300 ? 300 : n > 20000 ? 20000 : n;
}

static tp_day today(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return tp_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void progress(const char *what, int64_t done, int64_t total, int force)
{
    static struct timespec last;
    struct timespec now;
    if (!isatty(STDERR_FILENO))
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!force && (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 < 100)
        return;
    last = now;
    int width = 40, fill = total ? (int)(done * width / total) : width;
    fprintf(stderr, "\r%-14s [%.*s%*s] %3d%% %lld/%lld", what, fill,
            "########################################", width - fill, "",
            total ? (int)(done * 100 / total) : 100, (long long)done, (long long)total);
    if (force)
        fputc('\n', stderr);
}

/* A beneficiary suitable as the newcomer's example: covered today for `domain`. */
static int good_example(const struct tp_beneficiary *b, enum tp_domain domain, tp_day day)
{
    return b->coverage_start <= day && day <= b->coverage_end && (b->tp_domains & (1u << domain));
}

static int write_demo_txt(struct tp_platform *p, uint64_t seed, int64_t n_ben, int64_t n_ps)
{
    const struct tp_store_ops *ops = tp_store_ops(p->store);
    void *impl = tp_store_impl(p->store);
    char path[1100];
    snprintf(path, sizeof path, "%s/demo.txt", p->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    chmod(path, 0600); /* it holds API tokens */

    /* One token per profession: the first PS of each profession. */
    char pharmacy_token[TP_TOKEN_TEXT_LEN + 1] = "";
    fprintf(f, "\nDemo API tokens (one PS per profession; a token is shown only here):\n");
    int have[TP_PROF_COUNT] = {0};
    for (int64_t i = 0; i < n_ps; i++) {
        struct tp_ps ps;
        tp_pop_ps(seed, i, &ps);
        if (have[ps.profession])
            continue;
        have[ps.profession] = 1;
        const char *ident = ps.finess[0] ? ps.finess : ps.rpps;
        int64_t ps_id = 0, tid = 0;
        char tok[TP_TOKEN_TEXT_LEN + 1];
        if (ops->ps_find(impl, ident, &ps_id) != TP_OK ||
            tp_token_create(p, ps_id, "demo", 365, tok, &tid) != 0) {
            fclose(f);
            return -1;
        }
        fprintf(f, "  %-17s %-11s %s\n", tp_profession_name(ps.profession), ident, tok);
        if (ps.profession == TP_PROF_PHARMACIE)
            memcpy(pharmacy_token, tok, sizeof tok);
    }

    /* Example card data, found by regenerating the population (nothing is decrypted). */
    struct tp_pop_iter it;
    struct tp_beneficiary b, by_nir, by_birth;
    int got_nir = 0, got_birth = 0;
    tp_day day = today();
    tp_pop_iter_init(&it, seed);
    for (int64_t i = 0; i < n_ben && (!got_nir || !got_birth); i++) {
        tp_pop_next(&it, &b);
        if (!good_example(&b, TP_DOM_PHARMACIE, day))
            continue;
        if (!got_nir && b.nir_own && b.quality == TP_QUAL_MEMBER) {
            by_nir = b;
            got_nir = 1;
        } else if (!got_birth && !b.nir_own) {
            by_birth = b;
            got_birth = 1;
        }
    }
    char d[11], bd[11];
    tp_date_format(day, d);
    fprintf(f, "\nSample card data (synthetic people, covered today):\n");
    if (got_nir)
        fprintf(f, "  member   AMC %s, member number %s, NIR %s\n", by_nir.amc, by_nir.member,
                by_nir.id.nir);
    if (got_birth) {
        tp_date_format(by_birth.id.birth_date, bd);
        fprintf(f, "  child    AMC %s, member number %s, birth date %s, birth rank %d\n",
                by_birth.amc, by_birth.member, bd, by_birth.id.birth_rank);
    }
    if (got_nir)
        fprintf(f,
                "\nTry a rights check as the demo pharmacy:\n"
                "  curl -s http://127.0.0.1:8080/api/v1/rights/check \\\n"
                "    -H 'Authorization: Bearer %s' \\\n"
                "    -d '{\"amc\":\"%s\",\"member\":\"%s\",\"nir\":\"%s\",\"date\":\"%s\","
                "\"domain\":\"PHARMACIE\"}'\n",
                pharmacy_token, by_nir.amc, by_nir.member, by_nir.id.nir, d);
    /* Accounts of every role, with a known demo password and their TOTP secrets. */
    fprintf(f,
            "\nDemo accounts (password %s; sign in with POST /api/v1/auth/login\n"
            "{\"login\",\"password\",\"totp\"}; a TOTP code: opentp totp-code SECRET):\n",
            DEMO_PASSWORD);
    struct tp_amc first_amc;
    tp_pop_amc(seed, 0, &first_amc);
    int64_t pharmacy_id = 0, amc_id = 0, member_id = 0;
    struct tp_ps ph;
    for (int64_t i = 0; i < n_ps; i++) {
        tp_pop_ps(seed, i, &ph);
        if (ph.profession == TP_PROF_PHARMACIE) {
            (void)ops->ps_find(impl, ph.finess[0] ? ph.finess : ph.rpps, &pharmacy_id);
            break;
        }
    }
    (void)ops->amc_find(impl, first_amc.number, &amc_id, NULL);
    if (got_nir) {
        uint8_t bidx[TP_BIDX_LEN];
        tp_bidx_member(p->keys, by_nir.amc, by_nir.member, bidx);
        (void)ops->beneficiary_id_by_member(impl, bidx, by_nir.rank, &member_id);
    }
    struct tp_new_account accounts[] = {
        {.login = "pharmacie@demo.opentp", .role = TP_ROLE_PS, .ps_id = pharmacy_id},
        {.login = "assureur@demo.opentp", .role = TP_ROLE_INSURER, .amc_id = amc_id},
        {.login = "adherent@demo.opentp", .role = TP_ROLE_MEMBER, .beneficiary_id = member_id},
        {.login = "operateur@demo.opentp", .role = TP_ROLE_OPERATOR},
        {.login = "securite@demo.opentp", .role = TP_ROLE_SECURITY},
        {.login = "dpo@demo.opentp", .role = TP_ROLE_DPO},
    };
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
        accounts[i].password = DEMO_PASSWORD;
        if (tp_user_add(p, &accounts[i], f, "demo") != TP_EXIT_OK) {
            fclose(f);
            return -1;
        }
    }

    fprintf(f,
            "\nPlatform: %lld beneficiaries, %lld PS, %d AMCs (seed %llu). More card data:\n"
            "  opentp cards --data %s --count 10\n"
            "API reference: docs/API.md\n\n",
            (long long)n_ben, (long long)n_ps, TP_POP_AMC_COUNT, (unsigned long long)seed, p->dir);
    fclose(f);

    snprintf(path, sizeof path, "%s/demo.json", p->dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\"seed\":%llu,\"beneficiaries\":%lld,\"ps\":%lld}\n", (unsigned long long)seed,
            (long long)n_ben, (long long)n_ps);
    fclose(f);
    return 0;
}

/* Rules as data: every demo contract gets the guarantee-language text of its kind, as its
 * version in force from the contract's start (docs/CLAIMS.md). */
static int attach_guarantees(struct tp_platform *p, int64_t contract_id,
                             const struct tp_contract *c)
{
    struct tp_claim_op *op = calloc(1, sizeof *op);
    if (!op)
        return -1;
    op->kind = TP_COP_CONTRACT_VERSION_PUT;
    op->contract_id = contract_id;
    op->valid_from = c->valid_from;
    op->text = tp_gl_demo_text(tp_gl_demo_for(c->responsable, c->level));
    op->text_len = strlen(op->text);
    int rc = tp_claims_run(p->store, op) == TP_OK && op->err == TP_OK ? 0 : -1;
    free(op);
    return rc;
}

static int populate(struct tp_platform *p, uint64_t seed, int64_t n_ben, int64_t n_ps)
{
    const struct tp_store_ops *ops = tp_store_ops(p->store);
    void *impl = tp_store_impl(p->store);
    for (int i = 0; i < TP_POP_AMC_COUNT; i++) {
        struct tp_amc a;
        tp_pop_amc(seed, i, &a);
        if (ops->amc_upsert(impl, &a, NULL) != TP_OK)
            return -1;
        for (int j = 0; j < tp_pop_contract_count(seed, i); j++) {
            static struct tp_contract c;
            tp_pop_contract(seed, i, j, &c);
            int64_t cid = 0;
            if (ops->contract_upsert(impl, &c, &cid) != TP_OK || attach_guarantees(p, cid, &c) != 0)
                return -1;
        }
    }
    for (int64_t i = 0; i < n_ps; i++) {
        struct tp_ps ps;
        tp_pop_ps(seed, i, &ps);
        if (ops->ps_upsert(impl, &ps, NULL) != TP_OK)
            return -1;
        progress("PS", i + 1, n_ps, i + 1 == n_ps);
    }
    struct tp_beneficiary *plain = calloc(BATCH, sizeof *plain);
    struct tp_sealed_beneficiary *sealed = calloc(BATCH, sizeof *sealed);
    if (!plain || !sealed) {
        free(plain);
        free(sealed);
        return -1;
    }
    struct tp_pop_iter it;
    tp_pop_iter_init(&it, seed);
    int rc = 0;
    for (int64_t done = 0; done < n_ben && rc == 0;) {
        size_t n = (size_t)(n_ben - done < BATCH ? n_ben - done : BATCH);
        for (size_t i = 0; i < n && rc == 0; i++) {
            tp_pop_next(&it, &plain[i]);
            if (tp_beneficiary_seal(p->keys, &plain[i], &sealed[i]) != TP_OK)
                rc = -1;
        }
        if (rc == 0 && ops->beneficiaries_upsert(impl, sealed, n, NULL) != TP_OK)
            rc = -1;
        done += (int64_t)n;
        progress("beneficiaries", done, n_ben, done == n_ben);
    }
    free(plain);
    free(sealed);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"beneficiaries", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'}, {"if-absent", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *dir = TP_DEFAULT_DATA;
    int64_t n_ben = 100000;
    uint64_t seed = 2024;
    int if_absent = 0;
    int c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            n_ben = strtoll(optarg, &end, 10);
            if (*end || n_ben < 1 || n_ben > 50000000) {
                tp_cli_error("demo", "--beneficiaries wants a number from 1 to 50000000");
                return TP_EXIT_USAGE;
            }
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (*end) {
                tp_cli_error("demo", "--seed wants a number");
                return TP_EXIT_USAGE;
            }
            break;
        case 'i':
            if_absent = 1;
            break;
        case 'h':
            puts("usage: opentp demo [--data DIR] [--beneficiaries N] [--seed S] [--if-absent]\n"
                 "Creates a platform in DIR with 84 AMCs, their contracts, PS of every\n"
                 "profession and N synthetic beneficiaries (default 100000), demo API tokens,\n"
                 "and writes DIR/demo.txt (how to try it). With --if-absent, an existing\n"
                 "platform in DIR is kept as it is.");
            return TP_EXIT_OK;
        default:
            return TP_EXIT_USAGE;
        }
    }
    char key[1100];
    struct stat st;
    snprintf(key, sizeof key, "%s/master.key", dir);
    if (if_absent && stat(key, &st) == 0) {
        fprintf(stderr, "opentp: demo: keeping the existing platform in %s\n", dir);
        return TP_EXIT_OK;
    }
    int rc = tp_platform_init(dir, "demo");
    if (rc != TP_EXIT_OK)
        return rc;
    struct tp_platform p;
    rc = tp_platform_open(dir, &p, "demo");
    if (rc != TP_EXIT_OK)
        return rc;
    int64_t n_ps = ps_count_for(n_ben);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (populate(&p, seed, n_ben, n_ps) != 0 || write_demo_txt(&p, seed, n_ben, n_ps) != 0) {
        tp_cli_error("demo", "could not create the demo population");
        tp_platform_close(&p);
        return TP_EXIT_FAIL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "opentp: demo: %lld beneficiaries, %lld PS, %d AMCs in %.1f s\n",
            (long long)n_ben, (long long)n_ps, TP_POP_AMC_COUNT,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    tp_platform_close(&p);
    return TP_EXIT_OK;
}

int cmd_cards(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"count", required_argument, NULL, 'c'},
                                         {"profession", required_argument, NULL, 'p'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"expired", no_argument, NULL, 'e'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = TP_DEFAULT_DATA, *out = NULL, *prof = "PHARMACIE";
    int expired = 0;
    long count = 10;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'c':
            count = atol(optarg);
            break;
        case 'p':
            prof = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'e':
            expired = 1;
            break;
        case 'h':
            puts("usage: opentp cards [--data DIR] [--count K] [--profession P] [--out FILE]\n"
                 "                    [--expired]\n"
                 "Writes K rights-check request bodies (JSON, one per line) for beneficiaries of\n"
                 "the demo population covered today in a domain of profession P (with\n"
                 "--expired: whose coverage ended before today).");
            return TP_EXIT_OK;
        default:
            return TP_EXIT_USAGE;
        }
    }
    int pi = tp_profession_parse(prof, strlen(prof));
    if (pi < 0 || count < 1) {
        tp_cli_error("cards", "unknown profession or bad --count");
        return TP_EXIT_USAGE;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/demo.json", dir);
    FILE *f = fopen(path, "r");
    unsigned long long seed = 0;
    long long n_ben = 0, n_ps = 0;
    if (!f || fscanf(f, "{\"seed\":%llu,\"beneficiaries\":%lld,\"ps\":%lld}", &seed, &n_ben,
                     &n_ps) != 3) {
        if (f)
            fclose(f);
        tp_cli_error("cards", "%s is not a demo platform (no readable demo.json)", dir);
        return TP_EXIT_FAIL;
    }
    fclose(f);
    FILE *o = out ? fopen(out, "w") : stdout;
    if (!o) {
        tp_cli_error("cards", "cannot write %s", out);
        return TP_EXIT_FAIL;
    }
    /* Spread the sample over the whole population: take every stride-th eligible one. */
    enum tp_domain domain = TP_DOM_PHARMACIE;
    for (int d = 0; d < TP_DOM_COUNT; d++)
        if (tp_profession_domains((enum tp_profession)pi) & (1u << d)) {
            domain = (enum tp_domain)d;
            break;
        }
    long long stride = n_ben / count > 1 ? n_ben / count : 1;
    tp_day day = today();
    char date[11], bd[11];
    tp_date_format(day, date);
    struct tp_pop_iter it;
    struct tp_beneficiary b;
    tp_pop_iter_init(&it, seed);
    long written = 0;
    for (long long i = 0; i < n_ben && written < count; i++) {
        tp_pop_next(&it, &b);
        if (!expired && i % stride != 0 && n_ben - i > count - written)
            continue;
        if (expired ? !(b.coverage_end < day) : !good_example(&b, domain, day))
            continue;
        if (b.nir_own && (i & 1))
            fprintf(o,
                    "{\"amc\":\"%s\",\"member\":\"%s\",\"nir\":\"%s\",\"date\":\"%s\","
                    "\"domain\":\"%s\"}\n",
                    b.amc, b.member, b.id.nir, date, tp_domain_name(domain));
        else {
            tp_date_format(b.id.birth_date, bd);
            fprintf(o,
                    "{\"amc\":\"%s\",\"member\":\"%s\",\"birth_date\":\"%s\",\"birth_rank\":%d,"
                    "\"date\":\"%s\",\"domain\":\"%s\"}\n",
                    b.amc, b.member, bd, b.id.birth_rank, date, tp_domain_name(domain));
        }
        written++;
    }
    if (out)
        fclose(o);
    if (written < count)
        fprintf(stderr, "opentp: cards: only %ld eligible beneficiaries\n", written);
    return TP_EXIT_OK;
}
