/* Fuzz target for the access log's verifiers and parser (src/audit/merkle.h, sth.h).
 *
 * The first byte picks what the rest of the input is:
 *
 *   0  an inclusion question with no tree behind it: size, index, leaf hash, root, proof.
 *      The verdict must agree with tp_merkle_inclusion_root and, on the lengths, with the
 *      closed-form length of an audit path.
 *   1  the same for consistency: first and second sizes, two roots, proof.
 *   2  a real tree given by the input: n ≤ 64 leaves of one byte each, an index, a first
 *      size, then a proof. The honest proofs must verify, and a proof from the input that
 *      verifies must be the honest one: in a given tree, there is exactly one proof of each
 *      statement, short of a SHA-256 collision. Then the same after a retention cut at
 *      some c ≤ n: proofs about leaves ≥ c unchanged, nothing below c ever read.
 *   3  a signed tree head in the text form. The parser must agree with an independent
 *      grammar; a text it accepts must format back to itself, byte for byte.
 *
 * Sizes are a shift byte then 8 big-endian bytes, the value shifted right, so that short
 * random inputs reach small trees as well as the 2^63 cap. Missing bytes read as zero. A
 * violated invariant aborts like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merkle.h"
#include "audit/sth.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct input {
    const uint8_t *p;
    size_t left;
};

static uint8_t take_byte(struct input *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static uint64_t take_size(struct input *in)
{
    const unsigned shift = take_byte(in) & 63;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take_byte(in);
    return v >> shift;
}

static void take_hash(struct input *in, struct tp_merkle_hash *h)
{
    for (size_t i = 0; i < TP_MERKLE_HASH_LEN; i++)
        h->b[i] = take_byte(in);
}

/* The rest of the input as whole hashes, at most one more than any proof may have. */
static size_t take_proof(struct input *in, struct tp_merkle_hash proof[TP_MERKLE_PROOF_MAX + 1])
{
    size_t len = in->left / TP_MERKLE_HASH_LEN;
    if (len > TP_MERKLE_PROOF_MAX + 1)
        len = TP_MERKLE_PROOF_MAX + 1;
    for (size_t i = 0; i < len; i++)
        take_hash(in, &proof[i]);
    return len;
}

static unsigned bitlen(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

static int allowed(enum tp_err rc)
{
    return rc == TP_OK || rc == TP_ERR_CRYPTO || rc == TP_ERR_INVALID || rc == TP_ERR_TOO_BIG;
}

/* Audit path length for (index, size), from the binary digits (transparency-dev's
 * proof.go): the levels where index and the last leaf part, plus the levels above where index
 * has a left sibling. */
static size_t inclusion_len(uint64_t index, uint64_t size)
{
    const unsigned inner = bitlen(index ^ (size - 1));
    return inner + (size_t)__builtin_popcountll(inner < 64 ? index >> inner : 0);
}

static size_t consistency_len(uint64_t first, uint64_t second)
{
    const uint64_t i = first - 1;
    const unsigned inner = bitlen(i ^ (second - 1)), shift = (unsigned)__builtin_ctzll(first);
    return inner - shift + (size_t)__builtin_popcountll(inner < 64 ? i >> inner : 0) +
           ((first & (first - 1)) != 0);
}

static void inclusion_question(struct input *in)
{
    struct tp_merkle_hash leaf, root, got, proof[TP_MERKLE_PROOF_MAX + 1];
    const uint64_t size = take_size(in), index = take_size(in);
    take_hash(in, &leaf);
    take_hash(in, &root);
    const size_t len = take_proof(in, proof);

    const enum tp_err rc = tp_merkle_inclusion_verify(&leaf, index, size, proof, len, &root);
    const enum tp_err rc_root = tp_merkle_inclusion_root(&leaf, index, size, proof, len, &got);
    CHECK(allowed(rc) && allowed(rc_root));
    if (size > TP_MERKLE_SIZE_MAX || index >= size) {
        CHECK(rc == TP_ERR_INVALID && rc_root == TP_ERR_INVALID);
        return;
    }
    if (len > TP_MERKLE_PROOF_MAX) {
        CHECK(rc == TP_ERR_TOO_BIG && rc_root == TP_ERR_TOO_BIG);
        return;
    }
    CHECK((rc_root == TP_OK) == (len == inclusion_len(index, size)));
    CHECK((rc == TP_OK) == (rc_root == TP_OK && tp_merkle_hash_equal(&got, &root)));
    /* The root it computes is one it verifies against. */
    if (rc_root == TP_OK)
        CHECK(tp_merkle_inclusion_verify(&leaf, index, size, proof, len, &got) == TP_OK);
}

static void consistency_question(struct input *in)
{
    struct tp_merkle_hash r1, r2, proof[TP_MERKLE_PROOF_MAX + 1];
    const uint64_t first = take_size(in), second = take_size(in);
    take_hash(in, &r1);
    take_hash(in, &r2);
    const size_t len = take_proof(in, proof);

    const enum tp_err rc = tp_merkle_consistency_verify(first, second, &r1, &r2, proof, len);
    CHECK(allowed(rc));
    if (second > TP_MERKLE_SIZE_MAX || first > second) {
        CHECK(rc == TP_ERR_INVALID);
        return;
    }
    if (len > TP_MERKLE_PROOF_MAX) {
        CHECK(rc == TP_ERR_TOO_BIG);
        return;
    }
    if (rc != TP_OK)
        return;
    if (first == 0 || first == second) {
        CHECK(len == 0);
        struct tp_merkle_hash empty;
        tp_merkle_empty_root(&empty);
        CHECK(tp_merkle_hash_equal(&r1, first == 0 ? &empty : &r2));
    } else {
        CHECK(len == consistency_len(first, second));
    }
}

static int proof_is(const struct tp_merkle_proof *honest, const struct tp_merkle_hash *proof,
                    size_t len)
{
    return honest->len == len && memcmp(honest->hashes, proof, len * sizeof proof[0]) == 0;
}

/* A source that has dropped the leaves below its cut: reading one is a bug. */
struct kept {
    const struct tp_merkle_hash *leaves;
    uint64_t first;
};

static enum tp_err kept_leaf(void *ctx, uint64_t index, struct tp_merkle_hash *out)
{
    const struct kept *k = ctx;
    CHECK(index >= k->first);
    *out = k->leaves[index];
    return TP_OK;
}

/* After a retention cut at c, everything about leaves ≥ c is still provable, and the proofs
 * are the same as before the cut. */
static void after_cut(const struct tp_merkle_hash *leaves, const struct tp_merkle_hash *roots,
                      uint64_t n, uint64_t c, uint64_t index, uint64_t first)
{
    struct tp_merkle_frontier cut;
    tp_merkle_frontier_init(&cut);
    for (uint64_t i = 0; i < c; i++)
        CHECK(tp_merkle_frontier_append(&cut, &leaves[i]) == TP_OK);
    struct kept k = {leaves, c};
    const struct tp_merkle_source src = {kept_leaf, &k, c, c ? &cut : NULL};
    struct tp_merkle_array arr = {leaves, n};
    const struct tp_merkle_source whole = {tp_merkle_array_leaf, &arr, 0, NULL};
    struct tp_merkle_proof p, q;
    struct tp_merkle_hash root;

    CHECK(tp_merkle_source_root(&src, n, &root) == TP_OK);
    CHECK(tp_merkle_hash_equal(&root, &roots[n]));
    if (index < n) {
        const enum tp_err rc = tp_merkle_inclusion_proof(&src, index, n, &p);
        CHECK(rc == (index < c ? TP_ERR_NOT_FOUND : TP_OK));
        if (rc == TP_OK) {
            CHECK(tp_merkle_inclusion_proof(&whole, index, n, &q) == TP_OK);
            CHECK(proof_is(&q, p.hashes, p.len));
        }
    }
    const enum tp_err rc = tp_merkle_consistency_proof(&src, first, n, &p);
    CHECK(rc == (first > 0 && first < c && first != n ? TP_ERR_NOT_FOUND : TP_OK));
    if (rc == TP_OK) {
        CHECK(tp_merkle_consistency_proof(&whole, first, n, &q) == TP_OK);
        CHECK(proof_is(&q, p.hashes, p.len));
    }
}

static void real_tree(struct input *in)
{
    const uint64_t n = take_byte(in) % 65;
    const uint8_t index_byte = take_byte(in), first_byte = take_byte(in);
    struct tp_merkle_hash leaves[64], roots[65], proof[TP_MERKLE_PROOF_MAX + 1];
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    tp_merkle_frontier_root(&f, &roots[0]);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t byte = take_byte(in);
        tp_merkle_leaf_hash(&byte, 1, &leaves[i]);
        CHECK(tp_merkle_frontier_append(&f, &leaves[i]) == TP_OK);
        tp_merkle_frontier_root(&f, &roots[i + 1]);
    }
    struct tp_merkle_hash whole;
    CHECK(tp_merkle_root_array(leaves, n, &whole) == TP_OK);
    CHECK(tp_merkle_hash_equal(&whole, &roots[n]));
    const size_t len = take_proof(in, proof);
    struct tp_merkle_array arr = {leaves, n};
    const struct tp_merkle_source src = {tp_merkle_array_leaf, &arr, 0, NULL};
    struct tp_merkle_proof honest;

    if (n > 0) {
        const uint64_t index = index_byte % n;
        CHECK(tp_merkle_inclusion_proof(&src, index, n, &honest) == TP_OK);
        CHECK(tp_merkle_inclusion_verify(&leaves[index], index, n, honest.hashes, honest.len,
                                         &roots[n]) == TP_OK);
        if (tp_merkle_inclusion_verify(&leaves[index], index, n, proof, len, &roots[n]) == TP_OK)
            CHECK(proof_is(&honest, proof, len));
        /* (Whether it also proves the leaf elsewhere depends on repeated leaves, which the
         * input may well have: an a,b,a,b tree has a at 0 and 2 with the same path.) */
    }
    const uint64_t first = first_byte % (n + 1);
    CHECK(tp_merkle_consistency_proof(&src, first, n, &honest) == TP_OK);
    CHECK(tp_merkle_consistency_verify(first, n, &roots[first], &roots[n], honest.hashes,
                                       honest.len) == TP_OK);
    if (tp_merkle_consistency_verify(first, n, &roots[first], &roots[n], proof, len) == TP_OK)
        CHECK(proof_is(&honest, proof, len));

    after_cut(leaves, roots, n, (uint64_t)(index_byte ^ first_byte) % (n + 1),
              n ? index_byte % n : 0, first);
}

/* ---------------------------------------------------------------------------------------
 * Signed tree heads */

/* Canonical decimal of at most max (given as its decimal text), then one space. Compares as
 * strings, unlike the parser, which accumulates a value. */
static int dec_field(const char *s, size_t len, size_t *pos, const char *max)
{
    size_t start = *pos, n = 0;
    while (start + n < len && s[start + n] >= '0' && s[start + n] <= '9')
        n++;
    const size_t maxlen = strlen(max);
    if (n == 0 || (n > 1 && s[start] == '0') || n > maxlen)
        return 0;
    if (n == maxlen && memcmp(s + start, max, n) > 0)
        return 0;
    if (start + n >= len || s[start + n] != ' ')
        return 0;
    *pos = start + n + 1;
    return 1;
}

static int hex_field(const char *s, size_t len, size_t *pos, size_t digits)
{
    if (len - *pos < digits)
        return 0;
    for (size_t i = 0; i < digits; i++)
        if (!strchr("0123456789abcdef", s[*pos + i]) || s[*pos + i] == '\0')
            return 0;
    *pos += digits;
    return 1;
}

static int sth_grammar(const char *s, size_t len)
{
    static const char head[] = "opentp-sth v1 ";
    size_t pos = sizeof head - 1;
    if (len < pos || memcmp(s, head, pos) != 0)
        return 0;
    return dec_field(s, len, &pos, "9223372036854775808") &&
           dec_field(s, len, &pos, "18446744073709551615") && hex_field(s, len, &pos, 64) &&
           pos < len && s[pos++] == ' ' && hex_field(s, len, &pos, 128) && pos == len;
}

static void sth_text(const uint8_t *data, size_t size)
{
    /* The key of the seeds' heads (a fixed test seed, not a secret). */
    static uint8_t pk[TP_STH_PUBLIC_KEY_LEN];
    static int ready;
    if (!ready) {
        uint8_t seed[TP_STH_SEED_LEN], sk[TP_STH_SECRET_KEY_LEN];
        for (size_t i = 0; i < sizeof seed; i++)
            seed[i] = (uint8_t)(i + 1);
        CHECK(tp_sth_keypair_from_seed(seed, pk, sk) == TP_OK);
        ready = 1;
    }
    const char *text = (const char *)data;
    struct tp_sth sth;
    const enum tp_err rc = tp_sth_parse(text, size, &sth);
    CHECK(rc == (sth_grammar(text, size) ? TP_OK : TP_ERR_INVALID));
    if (rc != TP_OK)
        return;
    char back[TP_STH_TEXT_MAX];
    CHECK(tp_sth_format(&sth, back, sizeof back) == TP_OK);
    CHECK(strlen(back) == size && memcmp(back, text, size) == 0);
    const enum tp_err v = tp_sth_verify(&sth, pk);
    CHECK(v == TP_OK || v == TP_ERR_CRYPTO);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    switch (take_byte(&in) & 3) {
    case 0:
        inclusion_question(&in);
        break;
    case 1:
        consistency_question(&in);
        break;
    case 2:
        real_tree(&in);
        break;
    default:
        sth_text(in.p, in.left);
        break;
    }
    /* The whole input as text too: the parser sees every byte sequence. */
    sth_text(data, size);
    return 0;
}
