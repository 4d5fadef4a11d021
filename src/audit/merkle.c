/* Merkle tree hashing, frontier and proofs: RFC 9162 §2.1 (see merkle.h for the contracts).
 *
 * Sizes and indexes are uint64_t throughout and every size is checked against
 * TP_MERKLE_SIZE_MAX = 2^63 on entry, so that size - 1, index + 1 and every shift below stay in
 * range. Proof generation walks the RFC's recursive definitions top-down with an explicit list
 * of subtree ranges (at most 64, one per level), then hashes each range with a local
 * frontier: no recursion, no allocation. */
#include "audit/merkle.h"

#include <assert.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>

/* One subtree of a proof: the leaves [begin, end). */
struct range {
    uint64_t begin, end;
};

/* ---------------------------------------------------------------------------------------
 * Hashing */

/* SHA-256 is OpenSSL's: it uses the CPU's SHA extensions where present (about six times
 * libsodium's portable code on SHA-NI machines), and verifying a ten-million-event log is
 * little else than SHA-256. The one-shot SHA256() is OpenSSL's stable, non-deprecated entry;
 * leaves up to LEAF_STACK bytes are hashed from one stack buffer (every access event is), longer
 * ones through EVP. */
#define LEAF_STACK 1024

void tp_merkle_leaf_hash(const uint8_t *leaf, size_t len, struct tp_merkle_hash *out)
{
    assert(leaf || len == 0);
    if (len < LEAF_STACK) {
        uint8_t buf[LEAF_STACK];
        buf[0] = 0x00; /* RFC 9162 §2.1.1: leaf domain */
        if (len)
            memcpy(buf + 1, leaf, len);
        SHA256(buf, len + 1, out->b);
        return;
    }
    static const uint8_t prefix = 0x00;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, &prefix, 1) != 1 || EVP_DigestUpdate(ctx, leaf, len) != 1 ||
        EVP_DigestFinal_ex(ctx, out->b, &n) != 1)
        abort(); /* allocation failure inside OpenSSL: no hash can be given */
    EVP_MD_CTX_free(ctx);
}

void tp_merkle_node_hash(const struct tp_merkle_hash *left, const struct tp_merkle_hash *right,
                         struct tp_merkle_hash *out)
{
    /* One contiguous buffer and the one-shot function: cheaper than three updates, and it
     * lets out alias an input. */
    uint8_t buf[1 + 2 * TP_MERKLE_HASH_LEN];
    buf[0] = 0x01; /* RFC 9162 §2.1.1: node domain */
    memcpy(buf + 1, left->b, TP_MERKLE_HASH_LEN);
    memcpy(buf + 1 + TP_MERKLE_HASH_LEN, right->b, TP_MERKLE_HASH_LEN);
    SHA256(buf, sizeof buf, out->b);
}

void tp_merkle_empty_root(struct tp_merkle_hash *out)
{
    SHA256(NULL, 0, out->b);
}

int tp_merkle_hash_equal(const struct tp_merkle_hash *a, const struct tp_merkle_hash *b)
{
    return sodium_memcmp(a->b, b->b, TP_MERKLE_HASH_LEN) == 0;
}

/* Largest power of two strictly smaller than n (n ≥ 2): the RFC's split point k. */
static uint64_t split_point(uint64_t n)
{
    assert(n >= 2);
    return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* ---------------------------------------------------------------------------------------
 * Frontier */

void tp_merkle_frontier_init(struct tp_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

enum tp_err tp_merkle_frontier_append(struct tp_merkle_frontier *f,
                                      const struct tp_merkle_hash *leaf_hash)
{
    if (f->size >= TP_MERKLE_SIZE_MAX)
        return TP_ERR_TOO_BIG;
    /* Binary increment: each set low bit is a full subtree of the same height as the carry,
     * on its left; merging them is the carry. size < 2^63, so k stays ≤ 63. */
    struct tp_merkle_hash carry = *leaf_hash;
    unsigned k = 0;
    while (f->size >> k & 1) {
        tp_merkle_node_hash(&f->hashes[k], &carry, &carry);
        k++;
    }
    assert(k < TP_MERKLE_LEVELS);
    f->hashes[k] = carry;
    f->size++;
    return TP_OK;
}

void tp_merkle_frontier_root(const struct tp_merkle_frontier *f, struct tp_merkle_hash *out)
{
    if (f->size == 0) {
        tp_merkle_empty_root(out);
        return;
    }
    /* From the smallest subtree (rightmost) to the largest: at each step the accumulated right
     * part is smaller than the power of two on its left, exactly the RFC's split. */
    unsigned k = (unsigned)__builtin_ctzll(f->size);
    struct tp_merkle_hash acc = f->hashes[k];
    for (k++; k < TP_MERKLE_LEVELS; k++)
        if (f->size >> k & 1)
            tp_merkle_node_hash(&f->hashes[k], &acc, &acc);
    *out = acc;
}

void tp_merkle_frontier_export(const struct tp_merkle_frontier *f,
                               struct tp_merkle_hash out[TP_MERKLE_LEVELS], size_t *count)
{
    size_t n = 0;
    for (unsigned k = TP_MERKLE_LEVELS; k-- > 0;)
        if (f->size >> k & 1)
            out[n++] = f->hashes[k];
    *count = n;
}

enum tp_err tp_merkle_frontier_load(struct tp_merkle_frontier *f, uint64_t size,
                                    const struct tp_merkle_hash *hashes, size_t count)
{
    tp_merkle_frontier_init(f);
    if (size > TP_MERKLE_SIZE_MAX || count != (size_t)__builtin_popcountll(size))
        return TP_ERR_INVALID;
    size_t n = 0;
    for (unsigned k = TP_MERKLE_LEVELS; k-- > 0;)
        if (size >> k & 1)
            f->hashes[k] = hashes[n++];
    f->size = size;
    return TP_OK;
}

enum tp_err tp_merkle_root_array(const struct tp_merkle_hash *leaves, uint64_t size,
                                 struct tp_merkle_hash *out)
{
    if (size > TP_MERKLE_SIZE_MAX)
        return TP_ERR_INVALID;
    assert(leaves || size == 0);
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    for (uint64_t i = 0; i < size; i++) {
        enum tp_err rc = tp_merkle_frontier_append(&f, &leaves[i]);
        assert(rc == TP_OK);
        (void)rc;
    }
    tp_merkle_frontier_root(&f, out);
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Sources */

enum tp_err tp_merkle_array_leaf(void *ctx, uint64_t index, struct tp_merkle_hash *out)
{
    const struct tp_merkle_array *a = ctx;
    if (index >= a->count)
        return TP_ERR_NOT_FOUND;
    *out = a->hashes[index];
    return TP_OK;
}

static enum tp_err check_source(const struct tp_merkle_source *src)
{
    assert(src->leaf);
    if (src->first > TP_MERKLE_SIZE_MAX)
        return TP_ERR_INVALID;
    if (src->first && (!src->cut || src->cut->size != src->first))
        return TP_ERR_INVALID;
    return TP_OK;
}

/* MTH of the leaves [r.begin, r.end) of src (r non-empty), as a list of its own.
 *
 * Kept leaves are read through the callback. Below the retention cut (first), only what the
 * cut's frontier holds is known: a range ending below the cut must be one of its subtrees, and
 * a range straddling it must start on a boundary such that the part below the cut is made of
 * whole frontier subtrees, which holds when begin is a multiple of 2^bitlen(first - begin).
 * The subtrees of proofs and roots asked of a source with a cut always satisfy this
 * (docs/AUDIT-LOG.md "Retention"): the checks are a guard for future callers. */
static enum tp_err range_root(const struct tp_merkle_source *src, struct range r,
                              struct tp_merkle_hash *out)
{
    assert(r.begin < r.end);
    const uint64_t first = src->first;
    struct tp_merkle_frontier f;
    tp_merkle_frontier_init(&f);
    uint64_t next = r.begin;

    if (r.begin < first) {
        if (r.end < first) {
            /* One subtree of the cut: 2^k leaves, k a set bit of first, starting where first
             * with bits 0..k cleared starts. k ≤ 62 since end < first ≤ 2^63. */
            const uint64_t d = r.end - r.begin;
            if (d & (d - 1))
                return TP_ERR_NOT_FOUND;
            const unsigned k = (unsigned)__builtin_ctzll(d);
            if (!(first >> k & 1) || r.begin != (first >> (k + 1) << (k + 1)))
                return TP_ERR_NOT_FOUND;
            *out = src->cut->hashes[k];
            return TP_OK;
        }
        const uint64_t d = first - r.begin;
        const unsigned bits = 64u - (unsigned)__builtin_clzll(d);
        if (bits < 64 && (r.begin & ((UINT64_C(1) << bits) - 1)))
            return TP_ERR_NOT_FOUND;
        if (bits == 64 && r.begin)
            return TP_ERR_NOT_FOUND;
        /* first ≡ d modulo 2^bits, so the cut's slots below `bits` are this list's frontier. */
        f.size = d;
        for (unsigned k = 0; k < bits; k++)
            if (d >> k & 1)
                f.hashes[k] = src->cut->hashes[k];
        next = first;
    }
    for (; next < r.end; next++) {
        struct tp_merkle_hash h;
        enum tp_err rc = src->leaf(src->ctx, next, &h);
        if (rc != TP_OK)
            return rc;
        rc = tp_merkle_frontier_append(&f, &h);
        assert(rc == TP_OK); /* a list shorter than 2^63 */
        (void)rc;
    }
    tp_merkle_frontier_root(&f, out);
    return TP_OK;
}

enum tp_err tp_merkle_source_root(const struct tp_merkle_source *src, uint64_t size,
                                  struct tp_merkle_hash *out)
{
    enum tp_err rc = check_source(src);
    if (rc != TP_OK)
        return rc;
    if (size > TP_MERKLE_SIZE_MAX)
        return TP_ERR_INVALID;
    if (size == 0) {
        tp_merkle_empty_root(out);
        return TP_OK;
    }
    return range_root(src, (struct range){0, size}, out);
}

/* Hashes the ranges into out, last range first: the RFC's recursions emit the deepest
 * subtree first, and the walks below record them top-down. */
static enum tp_err hash_ranges(const struct tp_merkle_source *src, const struct range *ranges,
                               size_t count, struct tp_merkle_proof *out)
{
    assert(count <= TP_MERKLE_PROOF_MAX);
    for (size_t i = 0; i < count; i++) {
        enum tp_err rc = range_root(src, ranges[count - 1 - i], &out->hashes[i]);
        if (rc != TP_OK)
            return rc;
    }
    out->len = count;
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Inclusion (RFC 9162 §2.1.3) */

enum tp_err tp_merkle_inclusion_proof(const struct tp_merkle_source *src, uint64_t index,
                                      uint64_t size, struct tp_merkle_proof *out)
{
    out->len = 0;
    enum tp_err rc = check_source(src);
    if (rc != TP_OK)
        return rc;
    if (size > TP_MERKLE_SIZE_MAX || index >= size)
        return TP_ERR_INVALID;
    if (index < src->first)
        return TP_ERR_NOT_FOUND;

    /* PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])      if m < k
     *              = PATH(m - k, D[k:n]) : MTH(D[0:k])  otherwise        (§2.1.3.1) */
    struct range ranges[TP_MERKLE_PROOF_MAX];
    size_t count = 0;
    uint64_t off = 0, m = index, n = size;
    while (n > 1) {
        const uint64_t k = split_point(n);
        assert(count < TP_MERKLE_PROOF_MAX);
        if (m < k) {
            ranges[count++] = (struct range){off + k, off + n};
            n = k;
        } else {
            ranges[count++] = (struct range){off, off + k};
            off += k;
            m -= k;
            n -= k;
        }
    }
    rc = hash_ranges(src, ranges, count, out);
    if (rc != TP_OK)
        out->len = 0;
    return rc;
}

enum tp_err tp_merkle_inclusion_root(const struct tp_merkle_hash *leaf_hash, uint64_t index,
                                     uint64_t size, const struct tp_merkle_hash *proof, size_t len,
                                     struct tp_merkle_hash *out)
{
    if (size > TP_MERKLE_SIZE_MAX || index >= size)
        return TP_ERR_INVALID;
    if (len > TP_MERKLE_PROOF_MAX)
        return TP_ERR_TOO_BIG;
    assert(proof || len == 0);

    /* §2.1.3.2: fn is the leaf's position and sn the last position, both shifted up one level
     * per step; the path runs out exactly when sn reaches 0. */
    uint64_t fn = index, sn = size - 1;
    struct tp_merkle_hash r = *leaf_hash;
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return TP_ERR_CRYPTO; /* proof too long */
        if ((fn & 1) || fn == sn) {
            tp_merkle_node_hash(&proof[i], &r, &r);
            /* A rightmost node without a sibling moves up unchanged. */
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tp_merkle_node_hash(&r, &proof[i], &r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return TP_ERR_CRYPTO; /* proof too short */
    *out = r;
    return TP_OK;
}

enum tp_err tp_merkle_inclusion_verify(const struct tp_merkle_hash *leaf_hash, uint64_t index,
                                       uint64_t size, const struct tp_merkle_hash *proof,
                                       size_t len, const struct tp_merkle_hash *root)
{
    struct tp_merkle_hash r;
    enum tp_err rc = tp_merkle_inclusion_root(leaf_hash, index, size, proof, len, &r);
    if (rc != TP_OK)
        return rc;
    return tp_merkle_hash_equal(&r, root) ? TP_OK : TP_ERR_CRYPTO;
}

/* ---------------------------------------------------------------------------------------
 * Consistency (RFC 9162 §2.1.4) */

enum tp_err tp_merkle_consistency_proof(const struct tp_merkle_source *src, uint64_t first,
                                        uint64_t second, struct tp_merkle_proof *out)
{
    out->len = 0;
    enum tp_err rc = check_source(src);
    if (rc != TP_OK)
        return rc;
    if (second > TP_MERKLE_SIZE_MAX || first > second)
        return TP_ERR_INVALID;
    if (first == 0 || first == second)
        return TP_OK;
    if (first < src->first)
        return TP_ERR_NOT_FOUND;

    /* SUBPROOF(m, D[m], true)  = {}
     * SUBPROOF(m, D[m], false) = {MTH(D[m])}
     * SUBPROOF(m, D[n], b)     = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          if m ≤ k
     *                          = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  otherwise
     * (§2.1.4.1). Each step at least halves n ≤ 2^63, so at most 63 steps and one final
     * subtree: 64 hashes. */
    struct range ranges[TP_MERKLE_PROOF_MAX];
    size_t count = 0;
    uint64_t off = 0, m = first, n = second;
    int whole = 1; /* b: the m leaves are still the whole original first tree */
    while (m != n) {
        const uint64_t k = split_point(n);
        assert(count < TP_MERKLE_PROOF_MAX);
        if (m <= k) {
            ranges[count++] = (struct range){off + k, off + n};
            n = k;
        } else {
            ranges[count++] = (struct range){off, off + k};
            off += k;
            m -= k;
            n -= k;
            whole = 0;
        }
    }
    if (!whole) {
        assert(count < TP_MERKLE_PROOF_MAX);
        ranges[count++] = (struct range){off, off + n};
    }
    rc = hash_ranges(src, ranges, count, out);
    if (rc != TP_OK)
        out->len = 0;
    return rc;
}

enum tp_err tp_merkle_consistency_verify(uint64_t first, uint64_t second,
                                         const struct tp_merkle_hash *first_root,
                                         const struct tp_merkle_hash *second_root,
                                         const struct tp_merkle_hash *proof, size_t len)
{
    if (second > TP_MERKLE_SIZE_MAX || first > second)
        return TP_ERR_INVALID;
    if (len > TP_MERKLE_PROOF_MAX)
        return TP_ERR_TOO_BIG;
    assert(proof || len == 0);

    if (first == 0) {
        /* The empty tree is a prefix of every tree; only its root can be wrong. */
        struct tp_merkle_hash empty;
        tp_merkle_empty_root(&empty);
        return len == 0 && tp_merkle_hash_equal(first_root, &empty) ? TP_OK : TP_ERR_CRYPTO;
    }
    if (first == second)
        return len == 0 && tp_merkle_hash_equal(first_root, second_root) ? TP_OK : TP_ERR_CRYPTO;
    if (len == 0)
        return TP_ERR_CRYPTO;

    /* §2.1.4.2. When first is a power of two, the first tree is a whole subtree of the second
     * and the proof omits its root: the RFC prepends first_hash, we start from it. */
    size_t i = 0;
    struct tp_merkle_hash fr, sr;
    if ((first & (first - 1)) == 0) {
        fr = *first_root;
    } else {
        fr = proof[0];
        i = 1;
    }
    sr = fr;
    uint64_t fn = first - 1, sn = second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < len; i++) {
        if (sn == 0)
            return TP_ERR_CRYPTO; /* proof too long */
        if ((fn & 1) || fn == sn) {
            tp_merkle_node_hash(&proof[i], &fr, &fr);
            tp_merkle_node_hash(&proof[i], &sr, &sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tp_merkle_node_hash(&sr, &proof[i], &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return TP_ERR_CRYPTO; /* proof too short */
    return tp_merkle_hash_equal(&fr, first_root) && tp_merkle_hash_equal(&sr, second_root)
               ? TP_OK
               : TP_ERR_CRYPTO;
}
