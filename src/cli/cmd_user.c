/* opentp user add: accounts from the command line (and the demo's accounts);
 * opentp totp-code: the current code of a TOTP secret one holds (demo, tests). */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "security/account_new.h"
#include "security/password_list.h"

static const char *help =
    "usage: opentp user add --data DIR --login LOGIN --role ROLE\n"
    "                       [--ps IDENTIFIER | --amc NUMBER | --member AMC:MEMBER:RANK]\n"
    "                       [--password-stdin] [--totp] [--qr FILE.svg]\n"
    "ROLE is ps, member, insurer, operator, security or dpo. Without --password-stdin a\n"
    "password is generated, shown once, and must be changed at the first sign-in. Every role\n"
    "but member gets a TOTP secret (shown once, with its otpauth:// URI and 10 recovery codes);\n"
    "--totp enrols a member too.\n";

#ifndef TP_DATA_DIR
#define TP_DATA_DIR "data"
#endif

int tp_user_add(struct tp_platform *p, struct tp_new_account *in, FILE *out, const char *cmd);

static const char *qr_path; /* --qr FILE: the TOTP QR code as SVG */

/* Creates the account and prints what its holder needs. Returns an exit status. */
int tp_user_add(struct tp_platform *p, struct tp_new_account *in, FILE *out, const char *cmd)
{
    struct tp_password_list *common = NULL;
    char msg[256];
    if (tp_password_list_load(TP_DATA_DIR "/common-passwords.txt", &common, msg, sizeof msg) !=
        TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        return TP_EXIT_FAIL;
    }
    struct tp_new_account_secrets sec;
    int64_t id = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    enum tp_err e = tp_account_new(p->store, p->keys, in, tp_password_list_words(common),
                                   (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &sec, &id, msg,
                                   sizeof msg);
    tp_password_list_free(common);
    if (e != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        return e == TP_ERR_INVALID || e == TP_ERR_CONFLICT ? TP_EXIT_USAGE : TP_EXIT_FAIL;
    }
    fprintf(out, "  %-9s login %s", tp_role_name(in->role), in->login);
    if (sec.password[0])
        fprintf(out, "  password %s (to change at first sign-in)", sec.password);
    fputc('\n', out);
    if (sec.has_totp) {
        fprintf(out, "            TOTP secret %s  (current code: opentp totp-code %s)\n",
                sec.totp_base32, sec.totp_base32);
        fprintf(out, "            %s\n", sec.totp_uri);
        char *svg = NULL;
        size_t svg_len = 0;
        if (qr_path && tp_totp_qr_svg(sec.totp_uri, &svg, &svg_len) == TP_OK) {
            FILE *q = fopen(qr_path, "w");
            if (q) {
                fchmod(fileno(q), 0600);
                fwrite(svg, 1, svg_len, q);
                fclose(q);
                fprintf(out, "            QR code (scan with an authenticator app): %s\n", qr_path);
            } else {
                tp_cli_error(cmd, "cannot write %s", qr_path);
            }
            sodium_memzero(svg, svg_len);
            free(svg);
        }
        fprintf(out, "            recovery codes:");
        for (int i = 0; i < TP_RECOVERY_COUNT; i++)
            fprintf(out, " %s", sec.recovery[i]);
        fputc('\n', out);
    }
    sodium_memzero(&sec, sizeof sec);
    return TP_EXIT_OK;
}

/* AMC:MEMBER:RANK -> beneficiary id. */
static int find_member(struct tp_platform *p, const char *spec, int64_t *id)
{
    char amc[16], member[32];
    int rank = 0;
    if (sscanf(spec, "%15[^:]:%31[^:]:%d", amc, member, &rank) != 3)
        return -1;
    uint8_t bidx[TP_BIDX_LEN];
    tp_bidx_member(p->keys, amc, member, bidx);
    return tp_store_ops(p->store)->beneficiary_id_by_member(tp_store_impl(p->store), bidx, rank,
                                                            id) == TP_OK
               ? 0
               : -1;
}

int cmd_user(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"login", required_argument, NULL, 'l'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"ps", required_argument, NULL, 'p'},
                                         {"amc", required_argument, NULL, 'a'},
                                         {"member", required_argument, NULL, 'm'},
                                         {"password-stdin", no_argument, NULL, 's'},
                                         {"totp", no_argument, NULL, 't'},
                                         {"qr", required_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        int h = argc >= 2 && strcmp(argv[1], "--help") == 0;
        fputs(help, h ? stdout : stderr);
        return h ? TP_EXIT_OK : TP_EXIT_USAGE;
    }
    const char *dir = TP_DEFAULT_DATA, *login = NULL, *role = NULL, *ps = NULL, *amc = NULL,
               *member = NULL;
    int from_stdin = 0, totp = 0, c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            login = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'p':
            ps = optarg;
            break;
        case 'a':
            amc = optarg;
            break;
        case 'm':
            member = optarg;
            break;
        case 's':
            from_stdin = 1;
            break;
        case 't':
            totp = 1;
            break;
        case 'q':
            qr_path = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    int r = role ? tp_role_parse(role, strlen(role)) : -1;
    if (!login || r < 0) {
        tp_cli_error("user add", "--login and a valid --role are required");
        return TP_EXIT_USAGE;
    }
    struct tp_platform p;
    int rc = tp_platform_open(dir, &p, "user add");
    if (rc != TP_EXIT_OK)
        return rc;
    struct tp_new_account in = {.login = login, .role = (enum tp_role)r, .totp = totp};
    const struct tp_store_ops *ops = tp_store_ops(p.store);
    void *impl = tp_store_impl(p.store);
    char pw[300] = "";
    if (ps && ops->ps_find(impl, ps, &in.ps_id) != TP_OK)
        rc = (tp_cli_error("user add", "no PS with identifier %s", ps), TP_EXIT_USAGE);
    else if (amc && ops->amc_find(impl, amc, &in.amc_id, NULL) != TP_OK)
        rc = (tp_cli_error("user add", "no AMC %s", amc), TP_EXIT_USAGE);
    else if (member && find_member(&p, member, &in.beneficiary_id) != 0)
        rc = (tp_cli_error("user add", "no beneficiary %s (AMC:MEMBER:RANK)", member),
              TP_EXIT_USAGE);
    else if (from_stdin && !fgets(pw, sizeof pw, stdin))
        rc = (tp_cli_error("user add", "no password on standard input"), TP_EXIT_USAGE);
    if (rc == TP_EXIT_OK) {
        pw[strcspn(pw, "\r\n")] = '\0';
        in.password = from_stdin ? pw : NULL;
        rc = tp_user_add(&p, &in, stdout, "user add");
    }
    sodium_memzero(pw, sizeof pw);
    tp_platform_close(&p);
    return rc;
}

int cmd_totp_code(int argc, char **argv)
{
    if (argc != 2 || strlen(argv[1]) > TP_TOTP_BASE32_MAX) {
        fputs("usage: opentp totp-code BASE32_SECRET\n"
              "Prints the current 6-digit code of a TOTP secret (as an authenticator app).\n",
              stderr);
        return TP_EXIT_USAGE;
    }
    uint8_t secret[TP_TOTP_SECRET_MAX];
    size_t n = 0;
    if (tp_base32_decode(argv[1], strlen(argv[1]), secret, sizeof secret, &n) != TP_OK) {
        tp_cli_error("totp-code", "not a base32 secret");
        return TP_EXIT_USAGE;
    }
    uint32_t code =
        tp_totp_code(secret, n, (uint64_t)tp_totp_step((int64_t)time(NULL)), TP_TOTP_DIGITS);
    sodium_memzero(secret, sizeof secret);
    printf("%06u\n", code);
    return TP_EXIT_OK;
}
