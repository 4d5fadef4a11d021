/* opentp ps token create|revoke|list: API tokens for practice software. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/token.h"
#include "core/authz.h"

static const char *help = "usage: opentp ps token create --data DIR --ps IDENTIFIER [--label L]\n"
                          "                              [--expires-days N]\n"
                          "       opentp ps token revoke --data DIR --id N\n"
                          "       opentp ps token list   --data DIR --ps IDENTIFIER\n"
                          "IDENTIFIER is the PS's FINESS or RPPS number.\n";

int tp_token_create(struct tp_platform *p, int64_t ps_id, const char *label, int expires_days,
                    char out[TP_TOKEN_TEXT_LEN + 1], int64_t *token_id)
{
    uint8_t raw[32];
    tp_random(raw, sizeof raw);
    memcpy(out, TP_TOKEN_PREFIX, strlen(TP_TOKEN_PREFIX));
    sodium_bin2base64(out + strlen(TP_TOKEN_PREFIX),
                      TP_TOKEN_TEXT_LEN + 1 - strlen(TP_TOKEN_PREFIX), raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    uint8_t hash[TP_TOKEN_HASH_LEN];
    tp_token_hash(p->keys, out, strlen(out), hash);
    int64_t now = (int64_t)time(NULL);
    int64_t exp = expires_days > 0 ? now + (int64_t)expires_days * 86400 : 0;
    return tp_store_ops(p->store)->token_insert(tp_store_impl(p->store), ps_id, hash, label,
                                                TP_SCOPE_RIGHTS_CHECK | TP_SCOPE_CLAIMS, exp, now,
                                                token_id) == TP_OK
               ? 0
               : -1;
}

int cmd_ps(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"ps", required_argument, NULL, 'p'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"expires-days", required_argument, NULL, 'e'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 3 || strcmp(argv[1], "token") != 0) {
        fputs(help, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? TP_EXIT_OK : TP_EXIT_USAGE;
    }
    const char *verb = argv[2];
    const char *dir = TP_DEFAULT_DATA, *ps = NULL, *label = "api";
    int expires = 365;
    int64_t id = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 2, argv + 2, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'p':
            ps = optarg;
            break;
        case 'l':
            label = optarg;
            break;
        case 'e':
            expires = atoi(optarg);
            break;
        case 'i':
            id = atoll(optarg);
            break;
        case 'h':
            fputs(help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    if (strcmp(verb, "create") != 0 && strcmp(verb, "revoke") != 0 && strcmp(verb, "list") != 0) {
        fputs(help, stderr);
        return TP_EXIT_USAGE;
    }
    if (strcmp(verb, "revoke") == 0 ? id <= 0 : !ps) {
        tp_cli_error("ps token",
                     strcmp(verb, "revoke") == 0 ? "--id is required" : "--ps is required");
        return TP_EXIT_USAGE;
    }
    if (strlen(label) >= TP_TEXT_MAX) {
        tp_cli_error("ps token", "--label is too long (max %d bytes)", TP_TEXT_MAX - 1);
        return TP_EXIT_USAGE;
    }
    struct tp_platform p;
    int rc = tp_platform_open(dir, &p, "ps token");
    if (rc != TP_EXIT_OK)
        return rc;
    const struct tp_store_ops *ops = tp_store_ops(p.store);
    void *impl = tp_store_impl(p.store);
    int64_t ps_id = 0;
    if (ps && ops->ps_find(impl, ps, &ps_id) != TP_OK) {
        tp_cli_error("ps token", "no PS with identifier %s", ps);
        rc = TP_EXIT_FAIL;
    } else if (strcmp(verb, "create") == 0) {
        char tok[TP_TOKEN_TEXT_LEN + 1];
        int64_t tid = 0;
        if (tp_token_create(&p, ps_id, label, expires, tok, &tid) != 0) {
            tp_cli_error("ps token", "could not store the token");
            rc = TP_EXIT_FAIL;
        } else {
            /* The token is shown once; only its keyed hash is stored. */
            printf("token id %lld for PS %s (expires in %d days):\n%s\n", (long long)tid, ps,
                   expires, tok);
            sodium_memzero(tok, sizeof tok);
        }
    } else if (strcmp(verb, "revoke") == 0) {
        enum tp_err e = ops->token_revoke(impl, id, (int64_t)time(NULL));
        if (e == TP_ERR_NOT_FOUND) {
            tp_cli_error("ps token", "no active token with id %lld", (long long)id);
            rc = TP_EXIT_FAIL;
        } else if (e != TP_OK) {
            tp_cli_error("ps token", "could not revoke: %s", tp_err_name(e));
            rc = TP_EXIT_FAIL;
        } else {
            printf("token %lld revoked\n", (long long)id);
        }
    } else {
        struct tp_token_row rows[256];
        size_t n = 0;
        if (ops->token_list(impl, ps_id, rows, 256, &n) != TP_OK) {
            tp_cli_error("ps token", "could not list tokens");
            rc = TP_EXIT_FAIL;
        }
        printf("%-6s %-24s %-12s %-12s %s\n", "id", "label", "created", "expires", "status");
        for (size_t i = 0; i < n; i++) {
            char cr[11], ex[11];
            tp_date_format((tp_day)(rows[i].created_at / 86400), cr);
            if (rows[i].expires_at)
                tp_date_format((tp_day)(rows[i].expires_at / 86400), ex);
            else
                snprintf(ex, sizeof ex, "never");
            printf("%-6lld %-24s %-12s %-12s %s\n", (long long)rows[i].id, rows[i].label, cr, ex,
                   rows[i].revoked_at ? "revoked" : "active");
        }
    }
    tp_platform_close(&p);
    return rc;
}
