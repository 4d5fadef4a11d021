/* The access log on disk: append, commit, reopen, verify, tamper detection, retention, proofs. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit/event.h"
#include "audit/log.h"

static uint8_t mac_key[32], seed[32], pk[32], sk[64];

static void make_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/tp-audit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    strncat(dir, "/log", cap - strlen(dir) - 1);
}

static void remove_dir(const char *dir)
{
    char cmd[512], parent[256];
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", parent);
    assert_int_equal(system(cmd), 0);
}

static struct tp_access_event event_n(uint64_t i, int64_t at_ms)
{
    struct tp_access_event ev = {.at_ms = at_ms, .ps_id = (int64_t)(i % 7) + 1, .amc = "312345678"};
    snprintf(ev.request_id, sizeof ev.request_id, "req%llu", (unsigned long long)i);
    snprintf(ev.actor, sizeof ev.actor, "token:%llu", (unsigned long long)(i % 5));
    snprintf(ev.role, sizeof ev.role, "ps");
    ev.has_beneficiary = 1;
    memset(ev.beneficiary_ref, (int)(i & 0xff), sizeof ev.beneficiary_ref);
    snprintf(ev.operation, sizeof ev.operation, "rights.check");
    snprintf(ev.outcome, sizeof ev.outcome, "covered");
    snprintf(ev.fields, sizeof ev.fields, "coverage,engagement");
    snprintf(ev.source, sizeof ev.source, "127.0.0.1");
    return ev;
}

static struct tp_audit_log *open_log(const char *dir, const struct tp_audit_config *cfg)
{
    struct tp_audit_log *log = NULL;
    char msg[256] = "";
    enum tp_err rc = tp_audit_log_open(dir, mac_key, seed, cfg, &log, msg, sizeof msg);
    if (rc != TP_OK)
        fail_msg("open: %s", msg);
    return log;
}

/* Appends n events (times from t0, step ms apart), committing every `every`. */
static void append_events(struct tp_audit_log *log, uint64_t from, uint64_t n, int64_t t0,
                          int64_t step, uint64_t every)
{
    for (uint64_t i = from; i < from + n; i++) {
        struct tp_access_event ev = event_n(i, t0 + (int64_t)(i - from) * step);
        uint8_t leaf[TP_EVENT_LEAF_MAX];
        size_t len;
        uint64_t index;
        assert_int_equal(tp_event_encode(&ev, leaf, &len), TP_OK);
        assert_int_equal(tp_audit_log_append(log, leaf, len, &index), TP_OK);
        assert_int_equal(index, i);
        if ((i + 1) % every == 0)
            assert_int_equal(tp_audit_log_commit(log, t0 + (int64_t)(i - from) * step), TP_OK);
    }
}

static void verify(const char *dir, const uint8_t *key, struct tp_audit_report *rep)
{
    char msg[256] = "";
    enum tp_err rc = tp_audit_verify(dir, key, pk, rep, msg, sizeof msg);
    if (rc != TP_OK)
        fail_msg("verify: %s", msg);
}

static void test_event_roundtrip(void **state)
{
    (void)state;
    struct tp_access_event ev = event_n(42, 1700000000000), back;
    uint8_t leaf[TP_EVENT_LEAF_MAX];
    size_t len;
    assert_int_equal(tp_event_encode(&ev, leaf, &len), TP_OK);
    assert_int_equal(tp_event_decode(leaf, len, &back), TP_OK);
    assert_memory_equal(&ev, &back, sizeof ev);
    assert_true(tp_event_disclosed(&back, "coverage"));
    assert_true(tp_event_disclosed(&back, "engagement"));
    assert_false(tp_event_disclosed(&back, "cover"));
    /* Every truncation and a trailing byte are refused. */
    for (size_t n = 0; n < len; n++)
        assert_int_equal(tp_event_decode(leaf, n, &back), TP_ERR_INVALID);
    leaf[len] = 0;
    assert_int_equal(tp_event_decode(leaf, len + 1, &back), TP_ERR_INVALID);
    leaf[17] = 2; /* has_beneficiary must be 0 or 1 */
    assert_int_equal(tp_event_decode(leaf, len, &back), TP_ERR_INVALID);
    ev.request_id[sizeof ev.request_id - 1] = 'x'; /* not terminated */
    memset(ev.request_id, 'x', sizeof ev.request_id);
    assert_int_equal(tp_event_encode(&ev, leaf, &len), TP_ERR_INVALID);
}

static void test_append_reopen_verify(void **state)
{
    (void)state;
    char dir[256];
    make_dir(dir, sizeof dir);
    struct tp_audit_config cfg;
    tp_audit_config_default(&cfg);
    cfg.head_interval_ms = 0; /* a head at every commit */
    struct tp_audit_log *log = open_log(dir, &cfg);
    append_events(log, 0, 1000, 1700000000000, 10, 100);
    tp_audit_log_close(log, 1700000100000);
    /* Reopen: the writer continues where it stopped. */
    log = open_log(dir, &cfg);
    uint64_t size;
    int have;
    struct tp_sth head;
    tp_audit_log_state(log, &size, &head, &have);
    assert_int_equal(size, 1000);
    assert_true(have);
    assert_int_equal(head.tree_size, 1000);
    append_events(log, 1000, 500, 1700000200000, 10, 50);
    tp_audit_log_close(log, 1700000300000);
    struct tp_audit_report rep;
    verify(dir, mac_key, &rep);
    assert_true(rep.ok);
    assert_int_equal(rep.events, 1500);
    assert_true(rep.heads >= 20);
    verify(dir, NULL, &rep); /* an auditor with the public key only */
    assert_true(rep.ok);
    /* Inclusion proof of entry 777 against the last head. */
    uint8_t leaf[TP_EVENT_LEAF_MAX];
    size_t len;
    struct tp_merkle_proof proof;
    struct tp_merkle_hash root, lh;
    char msg[256];
    assert_int_equal(
        tp_audit_prove_inclusion(dir, 777, 0, leaf, &len, &proof, &root, msg, sizeof msg), TP_OK);
    struct tp_access_event ev;
    assert_int_equal(tp_event_decode(leaf, len, &ev), TP_OK);
    assert_string_equal(ev.request_id, "req777");
    tp_merkle_leaf_hash(leaf, len, &lh);
    struct tp_sth *heads;
    size_t nheads;
    assert_int_equal(tp_audit_read_heads(dir, &heads, &nheads, msg, sizeof msg), TP_OK);
    assert_int_equal(heads[nheads - 1].tree_size, 1500);
    assert_int_equal(tp_merkle_inclusion_verify(&lh, 777, 1500, proof.hashes, proof.len,
                                                &heads[nheads - 1].root),
                     TP_OK);
    /* Consistency between the first head and the last. */
    struct tp_merkle_hash r1, r2;
    assert_int_equal(tp_audit_prove_consistency(dir, heads[0].tree_size, 1500, &proof, &r1, &r2,
                                                msg, sizeof msg),
                     TP_OK);
    assert_true(tp_merkle_hash_equal(&r1, &heads[0].root));
    assert_int_equal(tp_merkle_consistency_verify(heads[0].tree_size, 1500, &heads[0].root,
                                                  &heads[nheads - 1].root, proof.hashes, proof.len),
                     TP_OK);
    free(heads);
    remove_dir(dir);
}

/* ---- tampering ---------------------------------------------------------------------------- */

struct rec {
    long off;
    size_t len; /* whole record */
};

/* Record offsets of the single segment file of dir. */
static size_t records(const char *path, struct rec *out, size_t cap, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc(*size + 1024);
    assert_int_equal(fread(*data, 1, *size, f), *size);
    fclose(f);
    size_t at = 16 + 8 + 1 + (size_t)(*data)[24] * 32 + 16, n = 0;
    while (at < *size && n < cap) {
        size_t len = (size_t)(*data)[at] << 8 | (*data)[at + 1];
        out[n].off = (long)at;
        out[n].len = 2 + len + 16;
        at += out[n].len;
        n++;
    }
    return n;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    fclose(f);
}

static void segment_path(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "leaves-", 7) == 0)
            snprintf(out, cap, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(out[0]);
}

enum tamper { MODIFY, DELETE, SWAP, INSERT, TRUNCATE, N_TAMPER };

/* Builds a fresh log of 400 events, applies one tampering at a random position, and checks that
 * the verifier (with the tag key) names exactly the first bad entry, and that a public-key-only
 * verifier also fails. */
static void tamper_once(enum tamper kind, uint32_t pos_seed)
{
    char dir[256], seg[512];
    make_dir(dir, sizeof dir);
    struct tp_audit_config cfg;
    tp_audit_config_default(&cfg);
    cfg.head_interval_ms = 0;
    struct tp_audit_log *log = open_log(dir, &cfg);
    append_events(log, 0, 400, 1700000000000, 5, 40);
    tp_audit_log_close(log, 1700000100000);
    segment_path(dir, seg, sizeof seg);
    struct rec rs[400];
    uint8_t *data;
    size_t size;
    assert_int_equal(records(seg, rs, 400, &data, &size), 400);
    uint32_t i = pos_seed % 398, j = i + 1 + pos_seed % (399 - i);
    uint64_t expect = i;
    uint8_t *out = malloc(size + 1024);
    size_t out_len = 0;
    switch (kind) {
    case MODIFY: /* one byte of the leaf (the ps id) */
        memcpy(out, data, size);
        out_len = size;
        out[rs[i].off + 2 + 10] ^= 0x01;
        break;
    case DELETE:
        memcpy(out, data, (size_t)rs[i].off);
        out_len = (size_t)rs[i].off;
        memcpy(out + out_len, data + rs[i].off + rs[i].len, size - (size_t)rs[i].off - rs[i].len);
        out_len += size - (size_t)rs[i].off - rs[i].len;
        break;
    case SWAP: /* records i and j change places */
        memcpy(out, data, (size_t)rs[i].off);
        out_len = (size_t)rs[i].off;
        memcpy(out + out_len, data + rs[j].off, rs[j].len);
        out_len += rs[j].len;
        memcpy(out + out_len, data + rs[i].off + rs[i].len,
               (size_t)(rs[j].off - rs[i].off) - rs[i].len);
        out_len += (size_t)(rs[j].off - rs[i].off) - rs[i].len;
        memcpy(out + out_len, data + rs[i].off, rs[i].len);
        out_len += rs[i].len;
        memcpy(out + out_len, data + rs[j].off + rs[j].len, size - (size_t)rs[j].off - rs[j].len);
        out_len += size - (size_t)rs[j].off - rs[j].len;
        break;
    case INSERT: /* a copy of record j inserted before record i */
        memcpy(out, data, (size_t)rs[i].off);
        out_len = (size_t)rs[i].off;
        memcpy(out + out_len, data + rs[j].off, rs[j].len);
        out_len += rs[j].len;
        memcpy(out + out_len, data + rs[i].off, size - (size_t)rs[i].off);
        out_len += size - (size_t)rs[i].off;
        break;
    case TRUNCATE: /* the last 400 - i records removed */
        memcpy(out, data, (size_t)rs[i].off);
        out_len = (size_t)rs[i].off;
        break;
    default:
        fail();
    }
    write_file(seg, out, out_len);
    struct tp_audit_report rep;
    verify(dir, mac_key, &rep);
    assert_false(rep.ok);
    if (rep.bad_index != expect)
        fail_msg("tampering %d at %u: verifier named %llu (%s)", kind, i,
                 (unsigned long long)rep.bad_index, rep.reason);
    verify(dir, NULL, &rep);
    assert_false(rep.ok);
    if (rep.bad_index > expect)
        fail_msg("tampering %d at %u, public key only: verifier named %llu (%s)", kind, i,
                 (unsigned long long)rep.bad_index, rep.reason);
    /* The writer refuses to append to a tampered log. */
    struct tp_audit_log *again = NULL;
    char msg[256];
    assert_int_not_equal(tp_audit_log_open(dir, mac_key, seed, &cfg, &again, msg, sizeof msg),
                         TP_OK);
    free(out);
    free(data);
    remove_dir(dir);
}

static void test_tampering_is_found_and_named(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++)
        for (int kind = 0; kind < N_TAMPER; kind++)
            tamper_once((enum tamper)kind, randombytes_uniform(1u << 30));
}

static void test_torn_tail_is_dropped(void **state)
{
    (void)state;
    char dir[256], seg[512];
    make_dir(dir, sizeof dir);
    struct tp_audit_config cfg;
    tp_audit_config_default(&cfg);
    cfg.head_interval_ms = 0;
    struct tp_audit_log *log = open_log(dir, &cfg);
    append_events(log, 0, 50, 1700000000000, 5, 10);
    tp_audit_log_close(log, 1700000100000);
    segment_path(dir, seg, sizeof seg);
    /* A crash in the middle of writing record 50: half a record after the last one. */
    int fd = open(seg, O_WRONLY | O_APPEND);
    uint8_t half[20] = {0, 90, 1, 2, 3};
    assert_int_equal(write(fd, half, sizeof half), (ssize_t)sizeof half);
    close(fd);
    log = open_log(dir, &cfg);
    append_events(log, 50, 10, 1700000200000, 5, 10);
    tp_audit_log_close(log, 1700000300000);
    struct tp_audit_report rep;
    verify(dir, mac_key, &rep);
    assert_true(rep.ok);
    assert_int_equal(rep.events, 60);
    remove_dir(dir);
}

static void test_segments_and_retention(void **state)
{
    (void)state;
    char dir[256];
    make_dir(dir, sizeof dir);
    struct tp_audit_config cfg;
    tp_audit_config_default(&cfg);
    cfg.head_interval_ms = 0;
    cfg.segment_events = 100;
    cfg.retention_ms = (int64_t)30 * 86400000;
    struct tp_audit_log *log = open_log(dir, &cfg);
    const int64_t day = 86400000, t0 = 1700000000000;
    /* 10 days, 45 events a day: segments cut by day (45 < 100 per segment). */
    for (int d = 0; d < 10; d++)
        append_events(log, (uint64_t)d * 45, 45, t0 + d * day, 1000, 15);
    /* Then 250 events in one day: cut by count. */
    append_events(log, 450, 250, t0 + 40 * day, 10, 50);
    uint64_t dropped;
    assert_int_equal(tp_audit_log_retain(log, t0 + 40 * day + 5000, &dropped), TP_OK);
    /* Days 0..9 end more than 30 days before day 40: every one of their segments goes. */
    assert_int_equal(dropped, 450);
    tp_audit_log_close(log, t0 + 41 * day);
    struct tp_audit_report rep;
    verify(dir, mac_key, &rep);
    assert_true(rep.ok);
    assert_int_equal(rep.first, 450);
    assert_int_equal(rep.events, 250);
    assert_true(rep.heads_unchecked > 0);
    assert_true(rep.heads > 0);
    /* Proofs of kept entries still work against the signed heads; dropped ones are refused. */
    uint8_t leaf[TP_EVENT_LEAF_MAX];
    size_t len;
    struct tp_merkle_proof proof;
    struct tp_merkle_hash root, lh;
    char msg[256];
    assert_int_equal(
        tp_audit_prove_inclusion(dir, 600, 700, leaf, &len, &proof, &root, msg, sizeof msg), TP_OK);
    tp_merkle_leaf_hash(leaf, len, &lh);
    assert_int_equal(tp_merkle_inclusion_verify(&lh, 600, 700, proof.hashes, proof.len, &root),
                     TP_OK);
    struct tp_sth *heads;
    size_t nheads;
    assert_int_equal(tp_audit_read_heads(dir, &heads, &nheads, msg, sizeof msg), TP_OK);
    assert_true(tp_merkle_hash_equal(&root, &heads[nheads - 1].root));
    free(heads);
    assert_int_equal(
        tp_audit_prove_inclusion(dir, 10, 700, leaf, &len, &proof, &root, msg, sizeof msg),
        TP_ERR_NOT_FOUND);
    /* Reopen after retention: the writer goes on. */
    log = open_log(dir, &cfg);
    append_events(log, 700, 5, t0 + 42 * day, 10, 5);
    tp_audit_log_close(log, t0 + 43 * day);
    verify(dir, mac_key, &rep);
    assert_true(rep.ok);
    assert_int_equal(rep.events, 255);
    remove_dir(dir);
}

static void test_forged_head_refused(void **state)
{
    (void)state;
    char dir[256], path[512];
    make_dir(dir, sizeof dir);
    struct tp_audit_config cfg;
    tp_audit_config_default(&cfg);
    cfg.head_interval_ms = 0;
    struct tp_audit_log *log = open_log(dir, &cfg);
    append_events(log, 0, 30, 1700000000000, 5, 10);
    tp_audit_log_close(log, 1700000100000);
    snprintf(path, sizeof path, "%s/heads", dir);
    int fd = open(path, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, 112 + 20), 1);
    b ^= 0x80; /* a bit of the second head's root */
    assert_int_equal(pwrite(fd, &b, 1, 112 + 20), 1);
    close(fd);
    struct tp_audit_report rep;
    verify(dir, mac_key, &rep);
    assert_false(rep.ok);
    assert_non_null(strstr(rep.reason, "signature"));
    remove_dir(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(mac_key, sizeof mac_key);
    randombytes_buf(seed, sizeof seed);
    if (tp_sth_keypair_from_seed(seed, pk, sk) != TP_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_roundtrip),
        cmocka_unit_test(test_append_reopen_verify),
        cmocka_unit_test(test_tampering_is_found_and_named),
        cmocka_unit_test(test_torn_tail_is_dropped),
        cmocka_unit_test(test_segments_and_retention),
        cmocka_unit_test(test_forged_head_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
