/* opentp audit verify | prove | events — the access log, offline (docs/AUDIT-LOG.md).
 *
 * These read DIR/audit without taking the writer's lock, so they run beside a serving platform.
 * verify uses the master key when it can read it (tags: names the first bad entry exactly);
 * with --public-key only, it checks what anyone can check: signatures and roots. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit/event.h"
#include "audit/log.h"
#include "cli/cli.h"

static const char audit_help[] =
    "usage: opentp audit verify [--data DIR] [--public-key HEX]\n"
    "       opentp audit prove  [--data DIR] (--index N | --request-id R) [--size M]\n"
    "       opentp audit prove  [--data DIR] --from SIZE1 [--to SIZE2]\n"
    "       opentp audit events [--data DIR] [--request-id R] [--ps ID] [--since-ms T]\n"
    "                           [--until-ms T] [--limit N]\n"
    "verify checks every signed head, every entry and every root; exit 0 when the log is\n"
    "intact, 1 with the first bad entry named when it is not. prove prints an inclusion or a\n"
    "consistency proof (RFC 9162) as JSON; events prints events as JSON lines.\n";

struct opts {
    const char *dir, *pubkey_hex, *request_id;
    int64_t index, size, from, to, ps, since, until, limit;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {{"data", required_argument, NULL, 'd'},
                                       {"public-key", required_argument, NULL, 'k'},
                                       {"index", required_argument, NULL, 'i'},
                                       {"request-id", required_argument, NULL, 'r'},
                                       {"size", required_argument, NULL, 's'},
                                       {"from", required_argument, NULL, 'f'},
                                       {"to", required_argument, NULL, 't'},
                                       {"ps", required_argument, NULL, 'p'},
                                       {"since-ms", required_argument, NULL, 'S'},
                                       {"until-ms", required_argument, NULL, 'U'},
                                       {"limit", required_argument, NULL, 'l'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    *o = (struct opts){
        .dir = TP_DEFAULT_DATA, .index = -1, .from = -1, .until = INT64_MAX, .limit = INT64_MAX};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        char *end = NULL;
        long long v = 0;
        if (optarg && c != 'd' && c != 'k' && c != 'r') {
            v = strtoll(optarg, &end, 10);
            if (*end || v < 0) {
                tp_cli_error("audit", "\"%s\" is not a non-negative integer", optarg);
                return TP_EXIT_USAGE;
            }
        }
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 'k':
            o->pubkey_hex = optarg;
            break;
        case 'r':
            o->request_id = optarg;
            break;
        case 'i':
            o->index = v;
            break;
        case 's':
            o->size = v;
            break;
        case 'f':
            o->from = v;
            break;
        case 't':
            o->to = v;
            break;
        case 'p':
            o->ps = v;
            break;
        case 'S':
            o->since = v;
            break;
        case 'U':
            o->until = v;
            break;
        case 'l':
            o->limit = v;
            break;
        case 'h':
            fputs(audit_help, stdout);
            return -1;
        default:
            fputs(audit_help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    return TP_EXIT_OK;
}

static void hex32(const struct tp_merkle_hash *h, char out[65])
{
    sodium_bin2hex(out, 65, h->b, TP_MERKLE_HASH_LEN);
}

static json_t *event_json(uint64_t index, const struct tp_access_event *ev)
{
    char ref[2 * TP_EVENT_REF_LEN + 1] = "";
    if (ev->has_beneficiary)
        sodium_bin2hex(ref, sizeof ref, ev->beneficiary_ref, TP_EVENT_REF_LEN);
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s?, s:s, s:s, s:s, s:s}", "index",
                     (json_int_t)index, "at_ms", (json_int_t)ev->at_ms, "request_id",
                     ev->request_id, "actor", ev->actor, "role", ev->role, "ps_id",
                     (json_int_t)ev->ps_id, "amc", ev->amc, "beneficiary_ref",
                     ev->has_beneficiary ? ref : NULL, "operation", ev->operation, "outcome",
                     ev->outcome, "fields", ev->fields, "source", ev->source);
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(j);
}

/* The keys: the master key when readable (tags + the signing public key), else none. */
static struct tp_keys *try_keys(const char *dir)
{
    char path[1100], msg[256];
    snprintf(path, sizeof path, "%s/master.key", dir);
    struct tp_keys *k = NULL;
    if (tp_keys_load(path, &k, msg, sizeof msg) != TP_OK)
        return NULL;
    return k;
}

static int do_verify(const struct opts *o)
{
    char adir[1100], msg[512];
    tp_platform_audit_dir(o->dir, adir, sizeof adir);
    uint8_t pk[TP_STH_PUBLIC_KEY_LEN], sk[TP_STH_SECRET_KEY_LEN];
    struct tp_keys *k = try_keys(o->dir);
    if (o->pubkey_hex) {
        size_t n = 0;
        if (sodium_hex2bin(pk, sizeof pk, o->pubkey_hex, strlen(o->pubkey_hex), NULL, &n, NULL) !=
                0 ||
            n != sizeof pk) {
            tp_cli_error("audit verify", "--public-key wants 64 hex digits");
            tp_keys_free(k);
            return TP_EXIT_USAGE;
        }
    } else if (!k || tp_sth_keypair_from_seed(tp_keys_audit_sign_seed(k), pk, sk) != TP_OK) {
        tp_cli_error("audit verify",
                     "cannot read %s/master.key: give the log's public key with --public-key "
                     "(published as %s/sth.pub)",
                     o->dir, adir);
        tp_keys_free(k);
        return TP_EXIT_USAGE;
    }
    sodium_memzero(sk, sizeof sk);
    struct tp_audit_report rep;
    enum tp_err rc = tp_audit_verify(adir, k && !o->pubkey_hex ? tp_keys_audit_mac_key(k) : NULL,
                                     pk, &rep, msg, sizeof msg);
    int with_tags = k && !o->pubkey_hex;
    tp_keys_free(k);
    if (rc != TP_OK) {
        tp_cli_error("audit verify", "%s", msg);
        return TP_EXIT_FAIL;
    }
    if (!rep.ok) {
        printf("TAMPERED: first bad entry %" PRIu64 ": %s\n", rep.bad_index, rep.reason);
        return TP_EXIT_FAIL;
    }
    printf("access log intact: %" PRIu64 " events (indexes %" PRIu64 " to %" PRIu64
           "), %zu signed heads checked against the tree",
           rep.events, rep.first, rep.first + rep.events - (rep.events ? 1 : 0), rep.heads);
    if (rep.heads_unchecked)
        printf(", %zu older than the retention cut (signature only)", rep.heads_unchecked);
    printf("; %s\n", with_tags ? "every entry's tag checked (master key)"
                               : "public key only: entry tags not checked");
    return TP_EXIT_OK;
}

struct find_ctx {
    const char *request_id;
    int64_t found;
};

static enum tp_err find_request(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                                const struct tp_merkle_hash *lh)
{
    struct find_ctx *f = ctx;
    (void)lh;
    struct tp_access_event ev;
    if (tp_event_decode(leaf, len, &ev) == TP_OK && strcmp(ev.request_id, f->request_id) == 0) {
        f->found = (int64_t)index;
        return TP_ERR_CONFLICT; /* found: stop */
    }
    return TP_OK;
}

static json_t *proof_json(const struct tp_merkle_proof *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->len; i++) {
        char h[65];
        hex32(&p->hashes[i], h);
        json_array_append_new(a, json_string(h));
    }
    return a;
}

static int do_prove(const struct opts *o)
{
    char adir[1100], msg[512], h1[65], h2[65];
    tp_platform_audit_dir(o->dir, adir, sizeof adir);
    struct tp_merkle_proof proof;
    struct tp_merkle_hash r1, r2;
    if (o->from >= 0) {
        if (tp_audit_prove_consistency(adir, (uint64_t)o->from, (uint64_t)o->to, &proof, &r1, &r2,
                                       msg, sizeof msg) != TP_OK) {
            tp_cli_error("audit prove", "%s", msg);
            return TP_EXIT_FAIL;
        }
        hex32(&r1, h1);
        hex32(&r2, h2);
        print_json(json_pack("{s:s, s:I, s:I, s:s, s:s, s:o}", "kind", "consistency", "first",
                             (json_int_t)o->from, "second", (json_int_t)o->to, "first_root", h1,
                             "second_root", h2, "proof", proof_json(&proof)));
        return TP_EXIT_OK;
    }
    int64_t index = o->index;
    if (o->request_id) {
        struct find_ctx f = {.request_id = o->request_id, .found = -1};
        uint64_t bad;
        enum tp_err rc = tp_audit_read(adir, find_request, &f, &bad, msg, sizeof msg);
        if (rc != TP_OK && rc != TP_ERR_CONFLICT) {
            tp_cli_error("audit prove", "%s", msg);
            return TP_EXIT_FAIL;
        }
        if (f.found < 0) {
            tp_cli_error("audit prove", "no event with request id %s in the log", o->request_id);
            return TP_EXIT_FAIL;
        }
        index = f.found;
    }
    if (index < 0) {
        fputs(audit_help, stderr);
        return TP_EXIT_USAGE;
    }
    uint8_t leaf[TP_EVENT_LEAF_MAX];
    size_t len = 0;
    if (tp_audit_prove_inclusion(adir, (uint64_t)index, (uint64_t)o->size, leaf, &len, &proof, &r1,
                                 msg, sizeof msg) != TP_OK) {
        tp_cli_error("audit prove", "%s", msg);
        return TP_EXIT_FAIL;
    }
    struct tp_merkle_hash lh;
    tp_merkle_leaf_hash(leaf, len, &lh);
    hex32(&r1, h1);
    hex32(&lh, h2);
    struct tp_access_event ev;
    json_t *evj =
        tp_event_decode(leaf, len, &ev) == TP_OK ? event_json((uint64_t)index, &ev) : json_null();
    char *leafhex = malloc(2 * len + 1);
    if (!leafhex)
        return TP_EXIT_FAIL;
    sodium_bin2hex(leafhex, 2 * len + 1, leaf, len);
    uint64_t size = (uint64_t)o->size;
    if (size == 0) { /* the whole log: the size the proof was made for is the root's tree */
        struct tp_sth *heads;
        size_t n;
        if (tp_audit_read_heads(adir, &heads, &n, msg, sizeof msg) == TP_OK) {
            for (size_t i = 0; i < n; i++)
                if (tp_merkle_hash_equal(&heads[i].root, &r1))
                    size = heads[i].tree_size;
            free(heads);
        }
    }
    print_json(json_pack("{s:s, s:I, s:I, s:s, s:s, s:o, s:s, s:o}", "kind", "inclusion", "index",
                         (json_int_t)index, "tree_size", (json_int_t)size, "leaf", leafhex,
                         "leaf_hash", h2, "event", evj, "root", h1, "proof", proof_json(&proof)));
    free(leafhex);
    return TP_EXIT_OK;
}

struct list_ctx {
    const struct opts *o;
    int64_t printed;
};

static enum tp_err list_event(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                              const struct tp_merkle_hash *lh)
{
    struct list_ctx *l = ctx;
    (void)lh;
    struct tp_access_event ev;
    if (tp_event_decode(leaf, len, &ev) != TP_OK)
        return TP_OK;
    if ((l->o->request_id && strcmp(ev.request_id, l->o->request_id) != 0) ||
        (l->o->ps && ev.ps_id != l->o->ps) || ev.at_ms < l->o->since || ev.at_ms > l->o->until)
        return TP_OK;
    print_json(event_json(index, &ev));
    return ++l->printed >= l->o->limit ? TP_ERR_CONFLICT : TP_OK;
}

static int do_events(const struct opts *o)
{
    char adir[1100], msg[512];
    tp_platform_audit_dir(o->dir, adir, sizeof adir);
    struct list_ctx l = {.o = o};
    uint64_t bad;
    enum tp_err rc = tp_audit_read(adir, list_event, &l, &bad, msg, sizeof msg);
    if (rc != TP_OK && rc != TP_ERR_CONFLICT) {
        tp_cli_error("audit events", "%s", msg);
        return TP_EXIT_FAIL;
    }
    return TP_EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2) {
        fputs(audit_help, stderr);
        return TP_EXIT_USAGE;
    }
    const char *sub = argv[1];
    struct opts o;
    int rc = parse(argc - 1, argv + 1, &o);
    if (rc < 0)
        return TP_EXIT_OK;
    if (rc != TP_EXIT_OK)
        return rc;
    if (sodium_init() < 0) {
        tp_cli_error("audit", "libsodium failed to initialise");
        return TP_EXIT_FAIL;
    }
    if (strcmp(sub, "verify") == 0)
        return do_verify(&o);
    if (strcmp(sub, "prove") == 0)
        return do_prove(&o);
    if (strcmp(sub, "events") == 0)
        return do_events(&o);
    tp_cli_error("audit", "unknown subcommand '%s' (verify, prove, events)", sub);
    return TP_EXIT_USAGE;
}
