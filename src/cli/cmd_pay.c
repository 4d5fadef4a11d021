/* opentp pay | pay account | pay list | advance propose | advance grant (docs/PAYMENTS.md).
 *
 * The command line is the platform operator on the host (it holds the master key): no
 * session, no step-up; every run and grant is still recorded as an auth_event (kind "cli"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/sepa.h"
#include "store/pay.h"

static const char *help =
    "usage: opentp pay [--data DIR] [--date YYYY-MM-DD] [--out DIR]\n"
    "           pays every accepted, unpaid claim (and the advances granted since the last\n"
    "           run): DIR/payments/<run>/ gets the SEPA file, one remittance advice per PS and\n"
    "           one statement per AMC. An interrupted run is completed by the next one.\n"
    "       opentp pay account --data DIR --name NAME --iban IBAN --bic BIC\n"
    "           the platform's paying account (debtor of the transfers)\n"
    "       opentp pay list --data DIR\n"
    "       opentp advance propose --data DIR --ps IDENTIFIER\n"
    "       opentp advance grant   --data DIR --ps IDENTIFIER [--amount EUR]\n"
    "           an advance (acompte) from the PS's recent volume, or the amount given; paid\n"
    "           by the next run, deducted by the later ones\n";

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static tp_day today(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return tp_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* "1234", "1234.5", "1234.56" euros -> cents; -1 when malformed or out of range. */
static int64_t parse_euros(const char *s)
{
    int64_t v = 0;
    int digits = 0, frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || frac >= 2 || digits >= 12)
            return -1;
        v = v * 10 + (*s - '0');
        digits++;
        if (frac >= 0)
            frac++;
    }
    if (digits == 0 || frac == 0)
        return -1;
    for (int f = frac < 0 ? 0 : frac; f < 2; f++)
        v *= 10;
    return v;
}

static void record(struct tp_platform *pf, const char *what, const char *outcome)
{
    struct tp_auth_event e;
    memset(&e, 0, sizeof e);
    e.at_ms = now_ms();
    snprintf(e.kind, sizeof e.kind, "cli");
    snprintf(e.outcome, sizeof e.outcome, "%s", outcome);
    snprintf(e.detail, sizeof e.detail, "%s", what);
    snprintf(e.source, sizeof e.source, "cli");
    if (tp_store_ops(pf->store)->auth_event_insert(tp_store_impl(pf->store), &e) != TP_OK)
        tp_cli_error(what, "warning: the event could not be recorded");
}

static int open_all(const char *dir, struct tp_platform *pf, struct tp_pay **pay, const char *cmd)
{
    int rc = tp_platform_open(dir, pf, cmd);
    if (rc != TP_EXIT_OK)
        return rc;
    char db[1100], msg[256];
    snprintf(db, sizeof db, "%s/opentp.db", dir);
    if (tp_pay_open(db, pay, msg, sizeof msg) != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        tp_platform_close(pf);
        return TP_EXIT_FAIL;
    }
    return TP_EXIT_OK;
}

static void print_run(const struct tp_pay_run_info *r)
{
    char day[11], c[24], t[24], a[24], d[24];
    tp_date_format(r->execution_date, day);
    tp_sepa_amount_format(r->claims_cents, c);
    tp_sepa_amount_format(r->transfer_cents, t);
    tp_sepa_amount_format(r->advances_cents, a);
    tp_sepa_amount_format(r->deducted_cents, d);
    printf("run %s (%s) on %s: %lld claims (%s EUR), %lld PS, %lld transfers (%s EUR), "
           "advances paid %s EUR, deducted %s EUR, %lld PS held\n",
           r->msg_id, r->done ? "done" : "building", day, (long long)r->claims, c, (long long)r->ps,
           (long long)r->transfers, t, a, d, (long long)r->held_ps);
}

int cmd_pay(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"date", required_argument, NULL, 'D'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"iban", required_argument, NULL, 'i'},
                                         {"bic", required_argument, NULL, 'b'},
                                         {"slow-for-test", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *verb = "run";
    int shift = 0;
    if (argc >= 2 && argv[1][0] != '-') {
        verb = argv[1];
        shift = 1;
    }
    const char *dir = TP_DEFAULT_DATA, *out = NULL, *name = NULL, *iban = NULL, *bic = NULL;
    tp_day date = today();
    long slow = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - shift, argv + shift, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'D':
            if (tp_date_parse(optarg, strlen(optarg), &date) != TP_OK) {
                tp_cli_error("pay", "--date wants YYYY-MM-DD");
                return TP_EXIT_USAGE;
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'i':
            iban = optarg;
            break;
        case 'b':
            bic = optarg;
            break;
        case 'S':
            slow = atol(optarg);
            break;
        case 'h':
            fputs(help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    if (optind + shift != argc || slow < 0 || slow > 600000 ||
        (strcmp(verb, "run") != 0 && strcmp(verb, "account") != 0 && strcmp(verb, "list") != 0)) {
        fputs(help, stderr);
        return TP_EXIT_USAGE;
    }
    if (strcmp(verb, "account") == 0 && (!name || !iban || !bic)) {
        tp_cli_error("pay account", "--name, --iban and --bic are required");
        return TP_EXIT_USAGE;
    }
    struct tp_platform pf;
    struct tp_pay *pay = NULL;
    int rc = open_all(dir, &pf, &pay, "pay");
    if (rc != TP_EXIT_OK)
        return rc;
    char msg[256];
    rc = TP_EXIT_OK;
    if (strcmp(verb, "account") == 0) {
        struct tp_pay_account a;
        memset(&a, 0, sizeof a);
        if (strlen(name) >= sizeof a.name || strlen(iban) >= sizeof a.iban ||
            strlen(bic) >= sizeof a.bic) {
            tp_cli_error("pay account", "name, IBAN or BIC too long");
            rc = TP_EXIT_USAGE;
        } else {
            snprintf(a.name, sizeof a.name, "%s", name);
            snprintf(a.iban, sizeof a.iban, "%s", iban);
            snprintf(a.bic, sizeof a.bic, "%s", bic);
            if (tp_pay_account_set(pay, &a, msg, sizeof msg) != TP_OK) {
                tp_cli_error("pay account", "%s", msg);
                rc = TP_EXIT_FAIL;
            } else {
                record(&pf, "payments.account_set", "ok");
                printf("paying account set\n");
            }
        }
    } else if (strcmp(verb, "list") == 0) {
        struct tp_pay_run_info runs[50];
        size_t n = 0;
        if (tp_pay_run_list(pay, runs, 50, &n) != TP_OK) {
            tp_cli_error("pay list", "the runs could not be read");
            rc = TP_EXIT_FAIL;
        }
        for (size_t i = 0; i < n; i++)
            print_run(&runs[i]);
    } else {
        char outdir[1100];
        snprintf(outdir, sizeof outdir, "%s/payments", dir);
        struct tp_pay_options o = {.out_dir = out ? out : outdir,
                                   .now_ms = now_ms(),
                                   .execution_date = date,
                                   .account_id = 0,
                                   .slow_for_test = (unsigned)slow};
        struct tp_pay_run_info r;
        int resumed = 0;
        enum tp_err e = tp_pay_run(pay, &o, &r, &resumed, msg, sizeof msg);
        if (e == TP_ERR_NOT_FOUND) {
            printf("%s\n", msg);
        } else if (e != TP_OK) {
            record(&pf, "payments.run", tp_err_name(e));
            tp_cli_error("pay", "%s", msg);
            rc = TP_EXIT_FAIL;
        } else {
            record(&pf, "payments.run", "ok");
            if (resumed)
                printf("resumed an interrupted run\n");
            print_run(&r);
            printf("files: %s/%s\n", o.out_dir, r.msg_id);
        }
    }
    tp_pay_close(pay);
    tp_platform_close(&pf);
    return rc;
}

int cmd_advance(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"ps", required_argument, NULL, 'p'},
                                         {"amount", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || (strcmp(argv[1], "grant") != 0 && strcmp(argv[1], "propose") != 0)) {
        int h = argc >= 2 && strcmp(argv[1], "--help") == 0;
        fputs(help, h ? stdout : stderr);
        return h ? TP_EXIT_OK : TP_EXIT_USAGE;
    }
    const int grant = strcmp(argv[1], "grant") == 0;
    const char *dir = TP_DEFAULT_DATA, *ps = NULL;
    int64_t amount = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'p':
            ps = optarg;
            break;
        case 'a':
            amount = parse_euros(optarg);
            if (amount <= 0 || amount > TP_SEPA_AMOUNT_MAX) {
                tp_cli_error("advance", "--amount wants euros, e.g. 1500 or 1500.50");
                return TP_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    if (!ps || optind + 1 != argc || (!grant && amount)) {
        fputs(help, stderr);
        return TP_EXIT_USAGE;
    }
    struct tp_platform pf;
    struct tp_pay *pay = NULL;
    int rc = open_all(dir, &pf, &pay, "advance");
    if (rc != TP_EXIT_OK)
        return rc;
    char msg[256], a[24], b[24], p[24];
    int64_t ps_id = 0;
    const struct tp_advance_policy pol = TP_ADVANCE_POLICY_DEFAULT;
    struct tp_pay_advance_view v;
    if (tp_store_ops(pf.store)->ps_find(tp_store_impl(pf.store), ps, &ps_id) != TP_OK) {
        tp_cli_error("advance", "no PS with that identifier");
        rc = TP_EXIT_FAIL;
    } else if (!grant) {
        if (tp_pay_advance_propose(pay, ps_id, &pol, now_ms(), &v, msg, sizeof msg) != TP_OK) {
            tp_cli_error("advance", "%s", msg);
            rc = TP_EXIT_FAIL;
        } else {
            tp_sepa_amount_format(v.paid_in_window_cents, a);
            tp_sepa_amount_format(v.outstanding_cents, b);
            tp_sepa_amount_format(v.proposed_cents, p);
            printf("paid over %d days %s EUR, outstanding advances %s EUR, proposed %s EUR\n",
                   pol.window_days, a, b, p);
        }
    } else {
        int64_t id = 0, granted = 0;
        enum tp_err e = tp_pay_advance_grant(pay, ps_id, amount, &pol, now_ms(), 0, &id, &v,
                                             &granted, msg, sizeof msg);
        record(&pf, "payments.advance_grant", e == TP_OK ? "ok" : tp_err_name(e));
        if (e != TP_OK) {
            tp_cli_error("advance", "%s", msg);
            rc = TP_EXIT_FAIL;
        } else {
            tp_sepa_amount_format(granted, a);
            tp_sepa_amount_format(v.proposed_cents, p);
            printf("advance %lld granted: %s EUR (proposed %s EUR); paid by the next run\n",
                   (long long)id, a, p);
        }
    }
    tp_pay_close(pay);
    tp_platform_close(&pf);
    return rc;
}
