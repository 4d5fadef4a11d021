/* Fills an access log with N synthetic events (bench/audit.sh): the shape of rights checks
 * from 2,000 PS over 300,000 beneficiaries, committed in batches of 256 as the server does.
 *   audit_fill DIR N      (DIR/master.key must exist: run `opentp init` first) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/event.h"
#include "audit/log.h"
#include "security/keys.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: audit_fill DATA_DIR N\n");
        return 2;
    }
    char key[1024], dir[1024], msg[256];
    snprintf(key, sizeof key, "%s/master.key", argv[1]);
    snprintf(dir, sizeof dir, "%s/audit", argv[1]);
    long long n = atoll(argv[2]);
    struct tp_keys *k;
    if (sodium_init() < 0 || tp_keys_load(key, &k, msg, sizeof msg) != TP_OK) {
        fprintf(stderr, "audit_fill: %s\n", msg);
        return 1;
    }
    struct tp_audit_config cfg;
    tp_audit_config_default(&cfg);
    cfg.retention_ms = 0;
    cfg.head_interval_ms = 60000; /* a head per minute of the synthetic day */
    struct tp_audit_log *log;
    if (tp_audit_log_open(dir, tp_keys_audit_mac_key(k), tp_keys_audit_sign_seed(k), &cfg, &log,
                          msg, sizeof msg) != TP_OK) {
        fprintf(stderr, "audit_fill: %s\n", msg);
        return 1;
    }
    int64_t t0 = 1767258000000; /* 2026-01-01 09:00 UTC */
    uint64_t rnd = 88172645463325252ull;
    for (long long i = 0; i < n; i++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        struct tp_access_event ev = {.at_ms = t0 + i * 3, .ps_id = (int64_t)(rnd % 2000) + 1};
        snprintf(ev.amc, sizeof ev.amc, "3%08u", (unsigned)(rnd >> 20) % 84);
        snprintf(ev.request_id, sizeof ev.request_id, "%032llx", (unsigned long long)(i * 2654435761u));
        snprintf(ev.actor, sizeof ev.actor, "token:%llu", (unsigned long long)(rnd % 2000) + 1);
        snprintf(ev.role, sizeof ev.role, "ps");
        ev.has_beneficiary = 1;
        uint64_t who = (rnd >> 11) % 300000;
        crypto_generichash(ev.beneficiary_ref, sizeof ev.beneficiary_ref, (uint8_t *)&who,
                           sizeof who, NULL, 0);
        snprintf(ev.operation, sizeof ev.operation, "rights.check");
        snprintf(ev.outcome, sizeof ev.outcome, "covered");
        snprintf(ev.fields, sizeof ev.fields, "rights_status,coverage,engagement");
        snprintf(ev.source, sizeof ev.source, "10.%u.%u.%u", (unsigned)(rnd >> 40) % 200,
                 (unsigned)(rnd >> 48) % 250, (unsigned)(rnd >> 56) % 250);
        uint8_t leaf[TP_EVENT_LEAF_MAX];
        size_t len;
        uint64_t index;
        if (tp_event_encode(&ev, leaf, &len) != TP_OK ||
            tp_audit_log_append(log, leaf, len, &index) != TP_OK) {
            fprintf(stderr, "audit_fill: append failed\n");
            return 1;
        }
        if (i % 256 == 255 && tp_audit_log_commit(log, ev.at_ms) != TP_OK) {
            fprintf(stderr, "audit_fill: commit failed\n");
            return 1;
        }
    }
    tp_audit_log_close(log, t0 + n * 3);
    tp_keys_free(k);
    return 0;
}
