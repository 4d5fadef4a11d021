/* Merkle tree of the access log (src/audit/merkle.h): RFC 9162 §2.1 hashing, the reference
 * vectors of RFC 6962 / transparency-dev/merkle (testonly/constants.go, proof/verify_test.go;
 * recomputed independently with Python's hashlib), the frontier against the recursive
 * definition, inclusion and consistency proofs for every small case against a recursive
 * reference and against tampering, the size cap, callbacks and retention cuts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"

/* ---------------------------------------------------------------------------------------
 * Reference data */

/* The leaves of RFC 6962's test tree (hex), and the roots of its first 1..8 leaves. */
static const char *const vector_leaves[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const vector_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", /* empty */
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
/* Their leaf hashes, level 0 of the tree. */
static const char *const vector_leaf_hashes[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
/* Inner nodes: level 1 (pairs) and level 2 (quadruples). */
#define H01 "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
#define H23 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define H45 "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
#define H67 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define H0123 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
#define H4567 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define ROOT8 "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
#define L0 "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define L1 "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define L2 "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"
#define L4 "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define L6 "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"

static struct tp_merkle_hash hx(const char *hex)
{
    struct tp_merkle_hash h;
    size_t n = 0;
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(sodium_hex2bin(h.b, sizeof h.b, hex, 64, NULL, &n, NULL), 0);
    assert_int_equal(n, 32);
    return h;
}

static void assert_hash(const struct tp_merkle_hash *got, const char *want_hex)
{
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, got->b, sizeof got->b);
    assert_string_equal(hex, want_hex);
}

static void assert_same(const struct tp_merkle_hash *a, const struct tp_merkle_hash *b)
{
    assert_memory_equal(a->b, b->b, TP_MERKLE_HASH_LEN);
}

/* The leaf hashes of the 8 vector leaves. */
static void vector_tree(struct tp_merkle_hash out[8])
{
    for (size_t i = 0; i < 8; i++) {
        uint8_t bin[16];
        size_t n = 0;
        const char *hex = vector_leaves[i];
        assert_int_equal(sodium_hex2bin(bin, sizeof bin, hex, strlen(hex), NULL, &n, NULL), 0);
        tp_merkle_leaf_hash(bin, n, &out[i]);
    }
}

/* Deterministic "random" leaf hashes: runs reproduce exactly. */
static void random_leaves(struct tp_merkle_hash *out, size_t n, uint8_t tag)
{
    uint8_t seed[randombytes_SEEDBYTES] = {tag};
    randombytes_buf_deterministic(out, n * sizeof *out, seed);
}

/* ---------------------------------------------------------------------------------------
 * An independent, recursive reference: the RFC's definitions as written. */

static uint64_t ref_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static struct tp_merkle_hash ref_mth(const struct tp_merkle_hash *d, uint64_t n)
{
    struct tp_merkle_hash out;
    if (n == 0) {
        crypto_hash_sha256(out.b, NULL, 0);
    } else if (n == 1) {
        out = d[0];
    } else {
        const uint64_t k = ref_k(n);
        struct tp_merkle_hash l = ref_mth(d, k), r = ref_mth(d + k, n - k);
        uint8_t buf[65] = {1};
        memcpy(buf + 1, l.b, 32);
        memcpy(buf + 33, r.b, 32);
        crypto_hash_sha256(out.b, buf, sizeof buf);
    }
    return out;
}

/* PATH(m, D[n]), RFC 9162 §2.1.3.1. */
static void ref_path(uint64_t m, const struct tp_merkle_hash *d, uint64_t n,
                     struct tp_merkle_proof *p)
{
    if (n <= 1)
        return;
    const uint64_t k = ref_k(n);
    if (m < k) {
        ref_path(m, d, k, p);
        p->hashes[p->len++] = ref_mth(d + k, n - k);
    } else {
        ref_path(m - k, d + k, n - k, p);
        p->hashes[p->len++] = ref_mth(d, k);
    }
}

/* SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1. */
static void ref_subproof(uint64_t m, const struct tp_merkle_hash *d, uint64_t n, int b,
                         struct tp_merkle_proof *p)
{
    if (m == n) {
        if (!b)
            p->hashes[p->len++] = ref_mth(d, n);
        return;
    }
    const uint64_t k = ref_k(n);
    if (m <= k) {
        ref_subproof(m, d, k, b, p);
        p->hashes[p->len++] = ref_mth(d + k, n - k);
    } else {
        ref_subproof(m - k, d + k, n - k, 0, p);
        p->hashes[p->len++] = ref_mth(d, k);
    }
}

static void assert_proof_equal(const struct tp_merkle_proof *a, const struct tp_merkle_proof *b)
{
    assert_int_equal(a->len, b->len);
    for (size_t i = 0; i < a->len; i++)
        assert_same(&a->hashes[i], &b->hashes[i]);
}

static int proof_equal(const struct tp_merkle_proof *a, const struct tp_merkle_proof *b)
{
    return a->len == b->len && memcmp(a->hashes, b->hashes, a->len * sizeof a->hashes[0]) == 0;
}

static struct tp_merkle_source array_source(struct tp_merkle_array *arr,
                                            const struct tp_merkle_hash *hashes, uint64_t n)
{
    arr->hashes = hashes;
    arr->count = n;
    return (struct tp_merkle_source){tp_merkle_array_leaf, arr, 0, NULL};
}

/* ---------------------------------------------------------------------------------------
 * Hashing and roots */

static void leaf_and_node_hashes_follow_rfc9162(void **state)
{
    (void)state;
    struct tp_merkle_hash leaves[8], node;
    vector_tree(leaves);
    for (size_t i = 0; i < 8; i++)
        assert_hash(&leaves[i], vector_leaf_hashes[i]);
    /* H(0x00 || "") and H(0x01 || l || r), recomputed by hand. */
    uint8_t zero = 0, buf[65] = {1};
    struct tp_merkle_hash want;
    crypto_hash_sha256(want.b, &zero, 1);
    assert_same(&leaves[0], &want);
    tp_merkle_node_hash(&leaves[0], &leaves[1], &node);
    memcpy(buf + 1, leaves[0].b, 32);
    memcpy(buf + 33, leaves[1].b, 32);
    crypto_hash_sha256(want.b, buf, sizeof buf);
    assert_same(&node, &want);
    assert_hash(&node, H01);
    /* out may alias an input. */
    struct tp_merkle_hash a = leaves[2];
    tp_merkle_node_hash(&a, &leaves[3], &a);
    struct tp_merkle_hash b = leaves[4];
    tp_merkle_node_hash(&leaves[3], &b, &b); /* H(l3 || l4), not a tree node: just aliasing */
    tp_merkle_node_hash(&leaves[3], &leaves[4], &node);
    assert_same(&b, &node);
    assert_hash(&a, H23);
}

static void empty_tree_root_is_sha256_of_nothing(void **state)
{
    (void)state;
    struct tp_merkle_hash h;
    tp_merkle_empty_root(&h);
    assert_hash(&h, vector_roots[0]);
    assert_int_equal(tp_merkle_root_array(NULL, 0, &h), TP_OK);
    assert_hash(&h, vector_roots[0]);
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    tp_merkle_frontier_root(&f, &h);
    assert_hash(&h, vector_roots[0]);
}

static void reference_roots_for_sizes_1_to_8(void **state)
{
    (void)state;
    struct tp_merkle_hash leaves[8], h;
    vector_tree(leaves);
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    for (uint64_t n = 1; n <= 8; n++) {
        assert_int_equal(tp_merkle_root_array(leaves, n, &h), TP_OK);
        assert_hash(&h, vector_roots[n]);
        assert_int_equal(tp_merkle_frontier_append(&f, &leaves[n - 1]), TP_OK);
        tp_merkle_frontier_root(&f, &h);
        assert_hash(&h, vector_roots[n]);
        h = ref_mth(leaves, n);
        assert_hash(&h, vector_roots[n]);
    }
}

/* transparency-dev/merkle testonly.CompactTrees: the frontier of 0..8 leaves, left to right. */
static void frontier_matches_the_compact_range_vectors(void **state)
{
    (void)state;
    static const char *const want[9][3] = {
        {NULL},           {L0},    {H01}, {H01, L2}, {H0123}, {H0123, L4}, {H0123, H45},
        {H0123, H45, L6}, {ROOT8},
    };
    struct tp_merkle_hash leaves[8], out[TP_MERKLE_LEVELS];
    vector_tree(leaves);
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= 8; n++) {
        if (n)
            assert_int_equal(tp_merkle_frontier_append(&f, &leaves[n - 1]), TP_OK);
        size_t count = 99;
        tp_merkle_frontier_export(&f, out, &count);
        assert_int_equal(count, __builtin_popcountll(n));
        for (size_t i = 0; i < count; i++)
            assert_hash(&out[i], want[n][i]);
    }
}

static void frontier_root_equals_mth_for_every_size_to_300(void **state)
{
    (void)state;
    enum { N = 300 };
    struct tp_merkle_hash *leaves = malloc(N * sizeof *leaves);
    assert_non_null(leaves);
    random_leaves(leaves, N, 1);
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= N; n++) {
        if (n)
            assert_int_equal(tp_merkle_frontier_append(&f, &leaves[n - 1]), TP_OK);
        assert_int_equal(f.size, n);
        struct tp_merkle_hash got, arr, want = ref_mth(leaves, n);
        tp_merkle_frontier_root(&f, &got);
        assert_same(&got, &want);
        assert_int_equal(tp_merkle_root_array(leaves, n, &arr), TP_OK);
        assert_same(&arr, &want);
        /* Taking the root does not disturb appending. */
        tp_merkle_frontier_root(&f, &got);
        assert_same(&got, &want);
    }
    free(leaves);
}

/* Parallel verification (docs/AUDIT-LOG.md): roots of chunks of 2^k leaves, appended to an
 * empty frontier as if they were leaf hashes, give the root of the whole tree. */
static void chunk_roots_merge_in_a_frontier(void **state)
{
    (void)state;
    enum { N = 300 };
    struct tp_merkle_hash leaves[N];
    random_leaves(leaves, N, 16);
    for (uint64_t n = 1; n <= N; n += 7)
        for (uint64_t chunk = 1; chunk <= 64; chunk *= 2) {
            struct tp_merkle_frontier f;
            tp_merkle_frontier_init(&f);
            for (uint64_t at = 0; at < n; at += chunk) {
                struct tp_merkle_hash r;
                const uint64_t len = n - at < chunk ? n - at : chunk;
                assert_int_equal(tp_merkle_root_array(leaves + at, len, &r), TP_OK);
                assert_int_equal(tp_merkle_frontier_append(&f, &r), TP_OK);
            }
            struct tp_merkle_hash got, want = ref_mth(leaves, n);
            tp_merkle_frontier_root(&f, &got);
            assert_same(&got, &want);
        }
}

static void frontier_export_and_load_round_trip(void **state)
{
    (void)state;
    enum { N = 100 };
    struct tp_merkle_hash leaves[N], out[TP_MERKLE_LEVELS];
    random_leaves(leaves, N, 2);
    struct tp_merkle_frontier f, g;
    tp_merkle_frontier_init(&f);
    for (uint64_t n = 0; n < N; n++) {
        size_t count;
        tp_merkle_frontier_export(&f, out, &count);
        assert_int_equal(tp_merkle_frontier_load(&g, n, out, count), TP_OK);
        /* The reloaded frontier has the same root and grows the same way. */
        struct tp_merkle_hash a, b;
        for (uint64_t m = n; m < N; m++)
            assert_int_equal(tp_merkle_frontier_append(&g, &leaves[m]), TP_OK);
        tp_merkle_frontier_root(&g, &a);
        b = ref_mth(leaves, N);
        assert_same(&a, &b);
        /* A count that does not match the size is refused. */
        assert_int_equal(tp_merkle_frontier_load(&g, n, out, count + 1), TP_ERR_INVALID);
        assert_int_equal(g.size, 0);
        assert_int_equal(tp_merkle_frontier_append(&f, &leaves[n]), TP_OK);
    }
    assert_int_equal(tp_merkle_frontier_load(&g, TP_MERKLE_SIZE_MAX + 1, out, 2), TP_ERR_INVALID);
}

static void frontier_refuses_to_grow_beyond_2_63(void **state)
{
    (void)state;
    struct tp_merkle_hash hashes[TP_MERKLE_LEVELS], leaf, root;
    random_leaves(hashes, TP_MERKLE_LEVELS, 3);
    random_leaves(&leaf, 1, 4);
    struct tp_merkle_frontier f;
    /* 2^63 - 1 leaves: 63 full subtrees. The next append carries through all of them. */
    assert_int_equal(tp_merkle_frontier_load(&f, TP_MERKLE_SIZE_MAX - 1, hashes, 63), TP_OK);
    tp_merkle_frontier_root(&f, &root);
    assert_int_equal(tp_merkle_frontier_append(&f, &leaf), TP_OK);
    assert_int_equal(f.size, TP_MERKLE_SIZE_MAX);
    size_t count;
    struct tp_merkle_hash out[TP_MERKLE_LEVELS];
    tp_merkle_frontier_export(&f, out, &count);
    assert_int_equal(count, 1);
    struct tp_merkle_frontier before = f;
    assert_int_equal(tp_merkle_frontier_append(&f, &leaf), TP_ERR_TOO_BIG);
    assert_memory_equal(&f, &before, sizeof f);
    assert_int_equal(tp_merkle_root_array(hashes, TP_MERKLE_SIZE_MAX + 1, &root), TP_ERR_INVALID);
}

/* ---------------------------------------------------------------------------------------
 * Inclusion proofs */

static void check_inclusion_vector(uint64_t index, uint64_t size, const char *const *want,
                                   size_t len)
{
    struct tp_merkle_hash leaves[8], root;
    vector_tree(leaves);
    struct tp_merkle_array arr;
    struct tp_merkle_source src = array_source(&arr, leaves, 8);
    struct tp_merkle_proof p;
    assert_int_equal(tp_merkle_inclusion_proof(&src, index, size, &p), TP_OK);
    assert_int_equal(p.len, len);
    for (size_t i = 0; i < len; i++)
        assert_hash(&p.hashes[i], want[i]);
    root = hx(vector_roots[size]);
    assert_int_equal(
        tp_merkle_inclusion_verify(&leaves[index], index, size, p.hashes, p.len, &root), TP_OK);
}

/* transparency-dev/merkle proof/verify_test.go inclusionProofs (1-based leaves there). */
static void inclusion_proof_vectors(void **state)
{
    (void)state;
    static const char *const p0_8[] = {L1, H23, H4567};
    static const char *const p5_8[] = {L4, H67, H0123};
    static const char *const p2_3[] = {H01};
    static const char *const p1_5[] = {L0, H23, L4};
    check_inclusion_vector(0, 8, p0_8, 3);
    check_inclusion_vector(5, 8, p5_8, 3);
    check_inclusion_vector(2, 3, p2_3, 1);
    check_inclusion_vector(1, 5, p1_5, 3);
    check_inclusion_vector(0, 1, NULL, 0);
}

static void flip(struct tp_merkle_hash *h, unsigned bit)
{
    h->b[bit / 8 % 32] ^= (uint8_t)(1u << bit % 8);
}

static void inclusion_proofs_for_every_index_and_size_to_64(void **state)
{
    (void)state;
    enum { N = 65 };
    struct tp_merkle_hash leaves[N], roots[N + 1];
    random_leaves(leaves, N, 5);
    for (uint64_t n = 0; n <= N; n++)
        roots[n] = ref_mth(leaves, n);
    struct tp_merkle_array arr;
    struct tp_merkle_source src = array_source(&arr, leaves, N);

    for (uint64_t n = 1; n <= 64; n++) {
        for (uint64_t i = 0; i < n; i++) {
            struct tp_merkle_proof p, want = {0}, q;
            assert_int_equal(tp_merkle_inclusion_proof(&src, i, n, &p), TP_OK);
            ref_path(i, leaves, n, &want);
            assert_proof_equal(&p, &want);
            const struct tp_merkle_hash *leaf = &leaves[i], *root = &roots[n];
            assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, p.hashes, p.len, root), TP_OK);

            /* A flipped bit anywhere: in each proof hash, the leaf, the root. */
            for (size_t k = 0; k < p.len; k++) {
                q = p;
                flip(&q.hashes[k], (unsigned)(i * 7 + k) % 256);
                assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, q.hashes, q.len, root),
                                 TP_ERR_CRYPTO);
            }
            struct tp_merkle_hash bad = *leaf;
            flip(&bad, (unsigned)n);
            assert_int_equal(tp_merkle_inclusion_verify(&bad, i, n, p.hashes, p.len, root),
                             TP_ERR_CRYPTO);
            bad = *root;
            flip(&bad, 255);
            assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, p.hashes, p.len, &bad),
                             TP_ERR_CRYPTO);

            /* Another index, with this leaf or with that index's leaf. */
            for (uint64_t j = 0; j < n; j++) {
                if (j == i)
                    continue;
                assert_int_equal(tp_merkle_inclusion_verify(leaf, j, n, p.hashes, p.len, root),
                                 TP_ERR_CRYPTO);
                assert_int_equal(
                    tp_merkle_inclusion_verify(&leaves[j], j, n, p.hashes, p.len, root),
                    TP_ERR_CRYPTO);
            }
            /* Another size, with the root of that size (size and root come from one signed
             * head, see merkle.h). */
            for (uint64_t m = i + 1; m <= N; m++)
                if (m != n)
                    assert_int_equal(
                        tp_merkle_inclusion_verify(leaf, i, m, p.hashes, p.len, &roots[m]),
                        TP_ERR_CRYPTO);
            assert_int_equal(tp_merkle_inclusion_verify(leaf, i, i, p.hashes, p.len, root),
                             TP_ERR_INVALID);

            /* One hash less, one more at either end, one duplicated. */
            if (p.len) {
                assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, p.hashes, p.len - 1, root),
                                 TP_ERR_CRYPTO);
                q = p;
                q.hashes[q.len] = q.hashes[0];
                assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, q.hashes, p.len + 1, root),
                                 TP_ERR_CRYPTO);
            }
            q.hashes[0] = *root;
            memcpy(&q.hashes[1], p.hashes, p.len * sizeof p.hashes[0]);
            assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, q.hashes, p.len + 1, root),
                             TP_ERR_CRYPTO);
            memcpy(q.hashes, p.hashes, p.len * sizeof p.hashes[0]);
            q.hashes[p.len] = *root;
            assert_int_equal(tp_merkle_inclusion_verify(leaf, i, n, q.hashes, p.len + 1, root),
                             TP_ERR_CRYPTO);
        }
    }
}

static void inclusion_refuses_impossible_questions(void **state)
{
    (void)state;
    struct tp_merkle_hash leaves[4], root, out;
    struct tp_merkle_proof p = {0};
    random_leaves(leaves, 4, 6);
    root = ref_mth(leaves, 4);
    struct tp_merkle_array arr;
    struct tp_merkle_source src = array_source(&arr, leaves, 4);
    /* index ≥ size, size 0, size above the cap. */
    assert_int_equal(tp_merkle_inclusion_proof(&src, 4, 4, &p), TP_ERR_INVALID);
    assert_int_equal(p.len, 0);
    assert_int_equal(tp_merkle_inclusion_proof(&src, 0, 0, &p), TP_ERR_INVALID);
    assert_int_equal(tp_merkle_inclusion_proof(&src, 0, TP_MERKLE_SIZE_MAX + 1, &p),
                     TP_ERR_INVALID);
    assert_int_equal(tp_merkle_inclusion_verify(&leaves[0], 4, 4, p.hashes, 0, &root),
                     TP_ERR_INVALID);
    assert_int_equal(tp_merkle_inclusion_verify(&leaves[0], 0, 0, NULL, 0, &root), TP_ERR_INVALID);
    assert_int_equal(tp_merkle_inclusion_verify(&leaves[0], 0, UINT64_MAX, p.hashes, 2, &root),
                     TP_ERR_INVALID);
    /* More hashes than any proof can have: refused before hashing. */
    assert_int_equal(
        tp_merkle_inclusion_root(&leaves[0], 0, 4, p.hashes, TP_MERKLE_PROOF_MAX + 1, &out),
        TP_ERR_TOO_BIG);
    /* A path of the wrong length gives no root at all, whatever it hashes to. */
    struct tp_merkle_proof good;
    assert_int_equal(tp_merkle_inclusion_proof(&src, 1, 3, &good), TP_OK);
    assert_int_equal(good.len, 2);
    assert_int_equal(tp_merkle_inclusion_root(&leaves[1], 1, 3, good.hashes, 2, &out), TP_OK);
    good.hashes[2] = root;
    assert_int_equal(tp_merkle_inclusion_root(&leaves[1], 1, 3, good.hashes, 3, &out),
                     TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_inclusion_root(&leaves[1], 1, 3, good.hashes, 1, &out),
                     TP_ERR_CRYPTO);
    /* A tree of one leaf: the root is the leaf hash, the proof empty. */
    assert_int_equal(tp_merkle_inclusion_verify(&leaves[0], 0, 1, NULL, 0, &leaves[0]), TP_OK);
    assert_int_equal(tp_merkle_inclusion_verify(&leaves[0], 0, 1, NULL, 0, &leaves[1]),
                     TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_inclusion_verify(&leaves[0], 0, 1, leaves, 1, &leaves[0]),
                     TP_ERR_CRYPTO);
    /* The callback's errors come back as they are. */
    arr.count = 2;
    assert_int_equal(tp_merkle_inclusion_proof(&src, 0, 4, &p), TP_ERR_NOT_FOUND);
    assert_int_equal(p.len, 0);
}

/* At the cap: 2^63 leaves, last index, a 63-hash path. */
static void inclusion_at_the_size_cap(void **state)
{
    (void)state;
    struct tp_merkle_hash path[TP_MERKLE_PROOF_MAX], leaf, root;
    random_leaves(path, TP_MERKLE_PROOF_MAX, 7);
    random_leaves(&leaf, 1, 8);
    const uint64_t n = TP_MERKLE_SIZE_MAX, last = n - 1;
    assert_int_equal(tp_merkle_inclusion_root(&leaf, last, n, path, 63, &root), TP_OK);
    assert_int_equal(tp_merkle_inclusion_verify(&leaf, last, n, path, 63, &root), TP_OK);
    /* Computed by hand: leaf on the right at every level. */
    struct tp_merkle_hash want = leaf;
    for (size_t k = 0; k < 63; k++)
        tp_merkle_node_hash(&path[k], &want, &want);
    assert_same(&root, &want);
    assert_int_equal(tp_merkle_inclusion_verify(&leaf, last, n, path, 64, &root), TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_inclusion_verify(&leaf, last, n, path, 62, &root), TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_inclusion_verify(&leaf, last, n + 1, path, 63, &root),
                     TP_ERR_INVALID);
    /* Index 0 of 2^63 (left at every level) and of 2^62 + 1 (one more level on the right). */
    assert_int_equal(tp_merkle_inclusion_root(&leaf, 0, n, path, 63, &root), TP_OK);
    assert_int_equal(tp_merkle_inclusion_root(&leaf, 0, (n >> 1) + 1, path, 63, &root), TP_OK);
}

/* ---------------------------------------------------------------------------------------
 * Consistency proofs */

static void check_consistency_vector(uint64_t m, uint64_t n, const char *const *want, size_t len)
{
    struct tp_merkle_hash leaves[8];
    vector_tree(leaves);
    struct tp_merkle_array arr;
    struct tp_merkle_source src = array_source(&arr, leaves, 8);
    struct tp_merkle_proof p;
    assert_int_equal(tp_merkle_consistency_proof(&src, m, n, &p), TP_OK);
    assert_int_equal(p.len, len);
    for (size_t i = 0; i < len; i++)
        assert_hash(&p.hashes[i], want[i]);
    struct tp_merkle_hash r1 = hx(vector_roots[m]), r2 = hx(vector_roots[n]);
    assert_int_equal(tp_merkle_consistency_verify(m, n, &r1, &r2, p.hashes, p.len), TP_OK);
}

/* transparency-dev/merkle proof/verify_test.go consistencyProofs, plus (4, 8) and (3, 7). */
static void consistency_proof_vectors(void **state)
{
    (void)state;
    static const char *const c1_8[] = {L1, H23, H4567};
    static const char *const c6_8[] = {H45, H67, H0123};
    static const char *const c2_5[] = {H23, L4};
    static const char *const c6_7[] = {H45, L6, H0123};
    static const char *const c4_8[] = {H4567};
    static const char *const c3_7[] = {
        L2, "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7", H01,
        "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"};
    check_consistency_vector(1, 1, NULL, 0);
    check_consistency_vector(1, 8, c1_8, 3);
    check_consistency_vector(6, 8, c6_8, 3);
    check_consistency_vector(2, 5, c2_5, 2);
    check_consistency_vector(6, 7, c6_7, 3);
    check_consistency_vector(4, 8, c4_8, 1);
    check_consistency_vector(3, 7, c3_7, 4);
    check_consistency_vector(0, 8, NULL, 0);
}

/* Expects the proof p to fail for (m, n) with the honest roots of those sizes, unless p is
 * also the honest proof for them. */
static void expect_refused(const struct tp_merkle_source *src, const struct tp_merkle_hash *roots,
                           uint64_t m, uint64_t n, const struct tp_merkle_proof *p)
{
    if (m > n) {
        assert_int_equal(
            tp_merkle_consistency_verify(m, n, &roots[0], &roots[n], p->hashes, p->len),
            TP_ERR_INVALID);
        return;
    }
    struct tp_merkle_proof honest;
    assert_int_equal(tp_merkle_consistency_proof(src, m, n, &honest), TP_OK);
    if (proof_equal(&honest, p))
        return;
    assert_int_equal(tp_merkle_consistency_verify(m, n, &roots[m], &roots[n], p->hashes, p->len),
                     TP_ERR_CRYPTO);
}

static void consistency_proofs_for_every_pair_to_64(void **state)
{
    (void)state;
    enum { N = 65 };
    struct tp_merkle_hash leaves[N], roots[N + 1];
    random_leaves(leaves, N, 9);
    for (uint64_t n = 0; n <= N; n++)
        roots[n] = ref_mth(leaves, n);
    struct tp_merkle_array arr;
    struct tp_merkle_source src = array_source(&arr, leaves, N);

    for (uint64_t n = 0; n <= 64; n++) {
        for (uint64_t m = 0; m <= n; m++) {
            struct tp_merkle_proof p, want = {0}, q;
            assert_int_equal(tp_merkle_consistency_proof(&src, m, n, &p), TP_OK);
            if (m > 0)
                ref_subproof(m, leaves, n, 1, &want);
            assert_proof_equal(&p, &want);
            const struct tp_merkle_hash *r1 = &roots[m], *r2 = &roots[n];
            assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, p.hashes, p.len), TP_OK);

            /* A flipped bit in each proof hash and in either root; swapped roots. */
            for (size_t k = 0; k < p.len; k++) {
                q = p;
                flip(&q.hashes[k], (unsigned)(m * 5 + k * 3) % 256);
                assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, q.hashes, q.len),
                                 TP_ERR_CRYPTO);
            }
            struct tp_merkle_hash bad = *r1;
            flip(&bad, (unsigned)n);
            assert_int_equal(tp_merkle_consistency_verify(m, n, &bad, r2, p.hashes, p.len),
                             TP_ERR_CRYPTO);
            bad = *r2;
            flip(&bad, (unsigned)m);
            if (m != 0) /* with m = 0, nothing binds the second root (the empty tree is a
                           prefix of every tree) */
                assert_int_equal(tp_merkle_consistency_verify(m, n, r1, &bad, p.hashes, p.len),
                                 TP_ERR_CRYPTO);
            if (m != n)
                assert_int_equal(tp_merkle_consistency_verify(m, n, r2, r1, p.hashes, p.len),
                                 TP_ERR_CRYPTO);

            /* Other sizes, with the roots of those sizes. */
            if (m > 0)
                expect_refused(&src, roots, m - 1, n, &p);
            expect_refused(&src, roots, m + 1, n, &p);
            if (n > 0)
                expect_refused(&src, roots, m, n - 1, &p);
            expect_refused(&src, roots, m, n + 1, &p);
            expect_refused(&src, roots, m ^ 2, n, &p);

            /* Empty, truncated, extended at either end. */
            if (p.len) {
                assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, p.hashes, 0),
                                 TP_ERR_CRYPTO);
                assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, p.hashes, p.len - 1),
                                 TP_ERR_CRYPTO);
            }
            memcpy(q.hashes, p.hashes, p.len * sizeof p.hashes[0]);
            q.hashes[p.len] = *r1;
            assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, q.hashes, p.len + 1),
                             TP_ERR_CRYPTO);
            q.hashes[p.len] = *r2;
            assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, q.hashes, p.len + 1),
                             TP_ERR_CRYPTO);
            q.hashes[0] = p.len ? p.hashes[0] : *r1;
            memcpy(&q.hashes[1], p.hashes, p.len * sizeof p.hashes[0]);
            assert_int_equal(tp_merkle_consistency_verify(m, n, r1, r2, q.hashes, p.len + 1),
                             TP_ERR_CRYPTO);
        }
    }
}

static void consistency_degenerate_cases_are_strict(void **state)
{
    (void)state;
    struct tp_merkle_hash leaves[4], empty, r2, r3, other;
    random_leaves(leaves, 4, 10);
    tp_merkle_empty_root(&empty);
    r2 = ref_mth(leaves, 2);
    r3 = ref_mth(leaves, 3);
    random_leaves(&other, 1, 11);
    /* From the empty tree: empty proof, the empty root. */
    assert_int_equal(tp_merkle_consistency_verify(0, 0, &empty, &empty, NULL, 0), TP_OK);
    assert_int_equal(tp_merkle_consistency_verify(0, 3, &empty, &r3, NULL, 0), TP_OK);
    assert_int_equal(tp_merkle_consistency_verify(0, 3, &other, &r3, NULL, 0), TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_consistency_verify(0, 3, &empty, &r3, &empty, 1), TP_ERR_CRYPTO);
    /* Same size: empty proof, equal roots. */
    assert_int_equal(tp_merkle_consistency_verify(3, 3, &r3, &r3, NULL, 0), TP_OK);
    assert_int_equal(tp_merkle_consistency_verify(3, 3, &r3, &other, NULL, 0), TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_consistency_verify(3, 3, &r3, &r3, &r3, 1), TP_ERR_CRYPTO);
    /* Growing needs a proof (also when first is not a power of two, where the proof's first
     * hash is read). */
    assert_int_equal(tp_merkle_consistency_verify(2, 3, &r2, &r3, NULL, 0), TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_consistency_verify(3, 4, &r3, &other, NULL, 0), TP_ERR_CRYPTO);
    /* Time travel, sizes above the cap, proofs above the cap. */
    struct tp_merkle_proof p = {0};
    assert_int_equal(tp_merkle_consistency_verify(3, 2, &r3, &r2, p.hashes, 1), TP_ERR_INVALID);
    assert_int_equal(tp_merkle_consistency_verify(1, TP_MERKLE_SIZE_MAX + 1, &r3, &r2, p.hashes, 1),
                     TP_ERR_INVALID);
    assert_int_equal(
        tp_merkle_consistency_verify(2, 3, &r2, &r3, p.hashes, TP_MERKLE_PROOF_MAX + 1),
        TP_ERR_TOO_BIG);
    struct tp_merkle_array arr;
    struct tp_merkle_source src = array_source(&arr, leaves, 4);
    assert_int_equal(tp_merkle_consistency_proof(&src, 3, 2, &p), TP_ERR_INVALID);
    assert_int_equal(tp_merkle_consistency_proof(&src, 1, TP_MERKLE_SIZE_MAX + 1, &p),
                     TP_ERR_INVALID);
    assert_int_equal(tp_merkle_consistency_proof(&src, 3, 3, &p), TP_OK);
    assert_int_equal(p.len, 0);
    /* The callback's errors come back as they are. */
    assert_int_equal(tp_merkle_consistency_proof(&src, 3, 5, &p), TP_ERR_NOT_FOUND);
    assert_int_equal(p.len, 0);
}

/* A consistency proof at the cap: the longest one there is (63 steps and a final subtree). */
static void consistency_at_the_size_cap(void **state)
{
    (void)state;
    struct tp_merkle_hash path[TP_MERKLE_PROOF_MAX], r1, r2;
    random_leaves(path, TP_MERKLE_PROOF_MAX, 12);
    random_leaves(&r1, 1, 13);
    random_leaves(&r2, 1, 14);
    const uint64_t n = TP_MERKLE_SIZE_MAX, m = n - 1;
    /* Random hashes prove nothing, but the length checks run in full. */
    assert_int_equal(tp_merkle_consistency_verify(m, n, &r1, &r2, path, 64), TP_ERR_CRYPTO);
    assert_int_equal(tp_merkle_consistency_verify(m, n + 1, &r1, &r2, path, 64), TP_ERR_INVALID);
    assert_int_equal(tp_merkle_consistency_verify(m, n, &r1, &r2, path, 65), TP_ERR_TOO_BIG);
}

/* ---------------------------------------------------------------------------------------
 * Callbacks, large trees, retention */

/* Leaf i of a synthetic log: the hash of its index. */
static enum tp_err counting_leaf(void *ctx, uint64_t index, struct tp_merkle_hash *out)
{
    uint64_t *calls = ctx;
    uint8_t le[8];
    for (int k = 0; k < 8; k++)
        le[k] = (uint8_t)(index >> (8 * k));
    tp_merkle_leaf_hash(le, sizeof le, out);
    (*calls)++;
    return TP_OK;
}

static void proofs_from_a_callback_on_a_large_tree(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint64_t calls = 0;
    struct tp_merkle_source src = {counting_leaf, &calls, 0, NULL};
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    struct tp_merkle_hash h, roots[3];
    static const uint64_t sizes[3] = {65537, 99999, N};
    for (uint64_t i = 0, s = 0; i < N; i++) {
        assert_int_equal(counting_leaf(&calls, i, &h), TP_OK);
        assert_int_equal(tp_merkle_frontier_append(&f, &h), TP_OK);
        if (f.size == sizes[s])
            tp_merkle_frontier_root(&f, &roots[s++]);
    }
    assert_int_equal(tp_merkle_source_root(&src, N, &h), TP_OK);
    assert_same(&h, &roots[2]);

    static const uint64_t indexes[] = {0, 1, 65535, 65536, 77777, N - 2, N - 1};
    for (size_t i = 0; i < sizeof indexes / sizeof indexes[0]; i++) {
        struct tp_merkle_proof p;
        struct tp_merkle_hash leaf;
        calls = 0;
        assert_int_equal(tp_merkle_inclusion_proof(&src, indexes[i], N, &p), TP_OK);
        assert_true(calls <= N); /* each leaf read at most once */
        /* 2^16 leaves on the left, 34464 on the right: 17 levels on the left, fewer where
         * the right edge has no sibling. */
        assert_true(indexes[i] < 65536 ? p.len == 17 : p.len >= 2 && p.len <= 17);
        assert_int_equal(counting_leaf(&calls, indexes[i], &leaf), TP_OK);
        assert_int_equal(
            tp_merkle_inclusion_verify(&leaf, indexes[i], N, p.hashes, p.len, &roots[2]), TP_OK);
    }
    for (size_t a = 0; a < 3; a++)
        for (size_t b = a; b < 3; b++) {
            struct tp_merkle_proof p;
            assert_int_equal(tp_merkle_consistency_proof(&src, sizes[a], sizes[b], &p), TP_OK);
            assert_int_equal(tp_merkle_consistency_verify(sizes[a], sizes[b], &roots[a], &roots[b],
                                                          p.hashes, p.len),
                             TP_OK);
        }
}

/* An array source that fails loudly if asked for a dropped leaf. */
struct kept {
    const struct tp_merkle_hash *hashes;
    uint64_t first, count;
};

static enum tp_err kept_leaf(void *ctx, uint64_t index, struct tp_merkle_hash *out)
{
    const struct kept *k = ctx;
    if (index < k->first || index >= k->count)
        return TP_ERR_INTERNAL;
    *out = k->hashes[index];
    return TP_OK;
}

static void retention_cut_keeps_every_proof_of_kept_leaves(void **state)
{
    (void)state;
    enum { N = 40 };
    struct tp_merkle_hash leaves[N], h;
    random_leaves(leaves, N, 15);
    struct tp_merkle_array arr;
    const struct tp_merkle_source whole = array_source(&arr, leaves, N);

    for (uint64_t c = 1; c <= N; c++) {
        struct tp_merkle_frontier cut;
        tp_merkle_frontier_init(&cut);
        for (uint64_t i = 0; i < c; i++)
            assert_int_equal(tp_merkle_frontier_append(&cut, &leaves[i]), TP_OK);
        struct kept k = {leaves, c, N};
        const struct tp_merkle_source src = {kept_leaf, &k, c, &cut};

        for (uint64_t n = c; n <= N; n++) {
            struct tp_merkle_hash want = ref_mth(leaves, n);
            assert_int_equal(tp_merkle_source_root(&src, n, &h), TP_OK);
            assert_same(&h, &want);
            struct tp_merkle_proof p, q;
            for (uint64_t j = 0; j < n; j++) {
                enum tp_err rc = tp_merkle_inclusion_proof(&src, j, n, &p);
                if (j < c) {
                    assert_int_equal(rc, TP_ERR_NOT_FOUND);
                    continue;
                }
                assert_int_equal(rc, TP_OK);
                assert_int_equal(tp_merkle_inclusion_proof(&whole, j, n, &q), TP_OK);
                assert_proof_equal(&p, &q);
            }
            for (uint64_t m = 0; m <= n; m++) {
                enum tp_err rc = tp_merkle_consistency_proof(&src, m, n, &p);
                if (m > 0 && m < c && m != n) {
                    assert_int_equal(rc, TP_ERR_NOT_FOUND);
                    continue;
                }
                assert_int_equal(rc, TP_OK);
                assert_int_equal(tp_merkle_consistency_proof(&whole, m, n, &q), TP_OK);
                assert_proof_equal(&p, &q);
            }
        }
        /* Roots below the cut: only whole subtrees of it are known. */
        for (uint64_t n = 1; n < c; n++) {
            enum tp_err rc = tp_merkle_source_root(&src, n, &h);
            if ((n & (n - 1)) == 0 && (c & n) && c >> __builtin_ctzll(n) >> 1 == 0) {
                struct tp_merkle_hash want = ref_mth(leaves, n);
                assert_int_equal(rc, TP_OK);
                assert_same(&h, &want);
            } else {
                assert_int_equal(rc, TP_ERR_NOT_FOUND);
            }
        }
        /* A cut of another size is a caller's bug. */
        const struct tp_merkle_source wrong = {kept_leaf, &k, c + 1, &cut};
        assert_int_equal(tp_merkle_source_root(&wrong, N, &h), TP_ERR_INVALID);
        const struct tp_merkle_source missing = {kept_leaf, &k, c, NULL};
        assert_int_equal(tp_merkle_source_root(&missing, N, &h), TP_ERR_INVALID);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaf_and_node_hashes_follow_rfc9162),
        cmocka_unit_test(empty_tree_root_is_sha256_of_nothing),
        cmocka_unit_test(reference_roots_for_sizes_1_to_8),
        cmocka_unit_test(frontier_matches_the_compact_range_vectors),
        cmocka_unit_test(frontier_root_equals_mth_for_every_size_to_300),
        cmocka_unit_test(chunk_roots_merge_in_a_frontier),
        cmocka_unit_test(frontier_export_and_load_round_trip),
        cmocka_unit_test(frontier_refuses_to_grow_beyond_2_63),
        cmocka_unit_test(inclusion_proof_vectors),
        cmocka_unit_test(inclusion_proofs_for_every_index_and_size_to_64),
        cmocka_unit_test(inclusion_refuses_impossible_questions),
        cmocka_unit_test(inclusion_at_the_size_cap),
        cmocka_unit_test(consistency_proof_vectors),
        cmocka_unit_test(consistency_proofs_for_every_pair_to_64),
        cmocka_unit_test(consistency_degenerate_cases_are_strict),
        cmocka_unit_test(consistency_at_the_size_cap),
        cmocka_unit_test(proofs_from_a_callback_on_a_large_tree),
        cmocka_unit_test(retention_cut_keeps_every_proof_of_kept_leaves),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
