/* The Merkle tree of the tamper-evident access log (DESIGN-NOTES "Access log (RFC 9162)",
 * docs/AUDIT-LOG.md).
 *
 * Exactly the tree of Certificate Transparency (RFC 9162 §2.1, identical to RFC 6962 §2.1) with
 * SHA-256, so that CT tooling can check it and the published reference vectors apply:
 *
 *   leaf hash        H(0x00 || leaf bytes)
 *   node hash        H(0x01 || left || right)
 *   MTH({})          H()                       (the empty tree)
 *   MTH({d0})        leaf hash of d0
 *   MTH(D[n]), n > 1 node hash of MTH(D[0:k]) and MTH(D[k:n]), k the largest power of two < n
 *
 * The 0x00/0x01 prefixes keep a leaf from ever being taken for an inner node (second-preimage
 * defence). Everything below works on leaf hashes: what a leaf's bytes mean is the caller's
 * business (for the access log: the canonical bytes of one access event).
 *
 * Pure functions: no I/O, no allocation, no global state. Every function is reentrant and
 * thread-safe; objects passed in are only read, except the outputs. Proof generation reads
 * leaf hashes through a caller's callback and may call it O(size) times; it holds at most
 * O(log size) hashes itself (on the stack, about 2 KiB per frontier).
 *
 * Caps: tree sizes are at most TP_MERKLE_SIZE_MAX = 2^63 (a log appending a million events a
 * second would take 292,000 years to get there), so that every proof has at most
 * TP_MERKLE_PROOF_MAX = 64 hashes and every size fits a signed 64-bit integer too. Proofs
 * longer than that cap are refused before any hashing (TP_ERR_TOO_BIG).
 *
 * Error convention of the verifiers: TP_OK means "proved"; TP_ERR_CRYPTO means "well-formed
 * question, but this proof does not prove it" (a hash, the length or the root is wrong);
 * TP_ERR_INVALID means the question itself is impossible (index ≥ size, first > second, a
 * size above the cap); TP_ERR_TOO_BIG means more than TP_MERKLE_PROOF_MAX hashes. Callers
 * that only care whether something was proved test for TP_OK.
 *
 * SHA-256 is OpenSSL's one-shot SHA256(), which uses the CPU's SHA extensions where present;
 * it needs no initialisation. */
#ifndef TP_AUDIT_MERKLE_H
#define TP_AUDIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TP_MERKLE_HASH_LEN 32
#define TP_MERKLE_SIZE_MAX (UINT64_C(1) << 63) /* largest tree size */
#define TP_MERKLE_PROOF_MAX 64                 /* most hashes in any proof */
#define TP_MERKLE_LEVELS 64                    /* frontier slots: one per bit of a size */

/* One SHA-256 value. A struct rather than uint8_t[32] so that arrays of hashes are plain
 * pointers and hashes can be assigned. */
struct tp_merkle_hash {
    uint8_t b[TP_MERKLE_HASH_LEN];
};

/* Leaf hash H(0x00 || leaf[0..len)). leaf may be NULL when len is 0. RFC 9162 §2.1.1. */
void tp_merkle_leaf_hash(const uint8_t *leaf, size_t len, struct tp_merkle_hash *out);

/* Node hash H(0x01 || left || right). out may alias left or right. RFC 9162 §2.1.1. */
void tp_merkle_node_hash(const struct tp_merkle_hash *left, const struct tp_merkle_hash *right,
                         struct tp_merkle_hash *out);

/* Root of the empty tree: SHA-256 of no bytes (e3b0c442…b855). */
void tp_merkle_empty_root(struct tp_merkle_hash *out);

/* Equality of two hashes (constant time, though hashes are public: one habit everywhere). */
int tp_merkle_hash_equal(const struct tp_merkle_hash *a, const struct tp_merkle_hash *b);

/* MTH of the size leaf hashes leaves[0..size). leaves may be NULL when size is 0. Costs
 * size - 1 node hashes, no allocation. TP_ERR_INVALID if size > TP_MERKLE_SIZE_MAX. */
enum tp_err tp_merkle_root_array(const struct tp_merkle_hash *leaves, uint64_t size,
                                 struct tp_merkle_hash *out) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Frontier (a "compact range" of [0, size)): the roots of the perfect subtrees that the
 * binary digits of size cut the tree into, hashes[k] being the root of the 2^k leaves that
 * bit k of size stands for (meaningful only when that bit is set). That is all an append-only
 * log needs in memory: appending is a binary increment whose carries are node hashes
 * (O(log n), amortised 1 node hash, no allocation), and the root folds the slots from the
 * smallest subtree to the largest, which is MTH because the RFC's split takes the largest
 * power of two first.
 *
 * A plain value (about 2 KiB): copy it, keep it on the stack or in a struct. Not
 * synchronised: one writer, or a lock around it. */
struct tp_merkle_frontier {
    uint64_t size;
    struct tp_merkle_hash hashes[TP_MERKLE_LEVELS];
};

/* The empty tree. */
void tp_merkle_frontier_init(struct tp_merkle_frontier *f);

/* Appends one leaf hash. TP_ERR_TOO_BIG (f unchanged) when f already holds
 * TP_MERKLE_SIZE_MAX leaves. */
enum tp_err tp_merkle_frontier_append(struct tp_merkle_frontier *f,
                                      const struct tp_merkle_hash *leaf_hash) TP_MUST_USE;

/* MTH of the leaves appended so far (the empty root for size 0). O(log n) node hashes. */
void tp_merkle_frontier_root(const struct tp_merkle_frontier *f, struct tp_merkle_hash *out);

/* The frontier as a list: the popcount(size) subtree roots from left (largest) to right
 * (smallest), the order of transparency-dev/merkle's compact ranges. out must have room for
 * TP_MERKLE_LEVELS hashes; *count is set. This, with the size, is what the log keeps at a
 * retention cut (docs/AUDIT-LOG.md "Retention"). */
void tp_merkle_frontier_export(const struct tp_merkle_frontier *f,
                               struct tp_merkle_hash out[TP_MERKLE_LEVELS], size_t *count);

/* Inverse of tp_merkle_frontier_export. TP_ERR_INVALID (f set to the empty tree) if
 * size > TP_MERKLE_SIZE_MAX or count != popcount(size). The hashes cannot be checked here:
 * compare tp_merkle_frontier_root with a signed tree head of that size. */
enum tp_err tp_merkle_frontier_load(struct tp_merkle_frontier *f, uint64_t size,
                                    const struct tp_merkle_hash *hashes, size_t count) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Where proof generation gets leaf hashes.
 *
 * leaf(ctx, i, out) writes the hash of leaf i; whatever it returns other than TP_OK stops the
 * computation and is returned as is. It is called only for first ≤ i < the tree size asked.
 *
 * Retention: when the leaves [0, first) were dropped, cut must be the frontier of exactly
 * `first` leaves (kept at the cut); the subtrees that straddle the cut are then rebuilt from
 * it, so that inclusion proofs of every kept leaf, consistency proofs between sizes ≥ first
 * and roots of sizes ≥ first can still be produced. Asking for anything that needs a dropped
 * leaf gives TP_ERR_NOT_FOUND. With first = 0, cut is ignored (may be NULL). */
typedef enum tp_err (*tp_merkle_leaf_fn)(void *ctx, uint64_t index, struct tp_merkle_hash *out);

struct tp_merkle_source {
    tp_merkle_leaf_fn leaf;
    void *ctx;
    uint64_t first;                       /* leaves below were dropped; 0 for a whole log */
    const struct tp_merkle_frontier *cut; /* frontier of size first (NULL when first is 0) */
};

/* The common source: an array of leaf hashes (ctx = a struct tp_merkle_array *). Refuses
 * an index ≥ count with TP_ERR_NOT_FOUND. */
struct tp_merkle_array {
    const struct tp_merkle_hash *hashes;
    uint64_t count;
};
enum tp_err tp_merkle_array_leaf(void *ctx, uint64_t index, struct tp_merkle_hash *out);

/* MTH of the first size leaves of src. TP_ERR_INVALID if size > TP_MERKLE_SIZE_MAX or the
 * source's cut is inconsistent (cut->size != first); TP_ERR_NOT_FOUND if that needs dropped
 * leaves (0 < size < first, unless those size leaves are one subtree of the cut); the
 * callback's error otherwise. */
enum tp_err tp_merkle_source_root(const struct tp_merkle_source *src, uint64_t size,
                                  struct tp_merkle_hash *out) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Proofs. A proof is a list of at most TP_MERKLE_PROOF_MAX hashes, in the order of RFC 9162
 * (from the leaf's level up). */
struct tp_merkle_proof {
    size_t len;
    struct tp_merkle_hash hashes[TP_MERKLE_PROOF_MAX];
};

/* Inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf index in the tree of the first
 * size leaves of src. TP_ERR_INVALID unless index < size ≤ TP_MERKLE_SIZE_MAX;
 * TP_ERR_NOT_FOUND if it needs a dropped leaf (index < src->first); the callback's error
 * otherwise. On error out->len is 0. Cost: about size leaf reads and node hashes. */
enum tp_err tp_merkle_inclusion_proof(const struct tp_merkle_source *src, uint64_t index,
                                      uint64_t size, struct tp_merkle_proof *out) TP_MUST_USE;

/* Root that an inclusion proof gives for leaf_hash at index in a tree of size leaves
 * (RFC 9162 §2.1.3.2 without the final comparison). TP_ERR_CRYPTO if the proof has the wrong
 * length for (index, size); other errors as in the file comment. proof may be NULL when len is
 * 0. */
enum tp_err tp_merkle_inclusion_root(const struct tp_merkle_hash *leaf_hash, uint64_t index,
                                     uint64_t size, const struct tp_merkle_hash *proof, size_t len,
                                     struct tp_merkle_hash *out) TP_MUST_USE;

/* RFC 9162 §2.1.3.2: TP_OK iff proof shows that leaf_hash is leaf index of the tree of size
 * leaves whose root is root. size and root must come from the same signed tree head: the proof
 * authenticates the leaf's place under root, while the size is authenticated by the head's
 * signature (a proof for index 0 of 3 leaves also "verifies" with size 4 and the same root,
 * since both trees hash the path the same way; it cannot against the root of 4 leaves). */
enum tp_err tp_merkle_inclusion_verify(const struct tp_merkle_hash *leaf_hash, uint64_t index,
                                       uint64_t size, const struct tp_merkle_hash *proof,
                                       size_t len, const struct tp_merkle_hash *root) TP_MUST_USE;

/* Consistency proof (RFC 9162 §2.1.4.1) that the tree of the first `first` leaves of src is a
 * prefix of the tree of its first `second` leaves. Empty when first is 0 or first == second.
 * TP_ERR_INVALID unless first ≤ second ≤ TP_MERKLE_SIZE_MAX; TP_ERR_NOT_FOUND if it needs
 * a dropped leaf (0 < first < src->first); the callback's error otherwise. On error out->len is
 * 0. Cost: about second leaf reads and node hashes. */
enum tp_err tp_merkle_consistency_proof(const struct tp_merkle_source *src, uint64_t first,
                                        uint64_t second, struct tp_merkle_proof *out) TP_MUST_USE;

/* RFC 9162 §2.1.4.2: TP_OK iff proof shows that first_root (a tree of first leaves) is the
 * tree of the first `first` leaves of second_root (a tree of second leaves). The degenerate
 * cases the RFC leaves aside are decided strictly: first == 0 needs an empty proof and
 * first_root equal to the empty root; first == second needs an empty proof and equal roots;
 * otherwise the proof must be non-empty. proof may be NULL when len is 0. */
enum tp_err tp_merkle_consistency_verify(uint64_t first, uint64_t second,
                                         const struct tp_merkle_hash *first_root,
                                         const struct tp_merkle_hash *second_root,
                                         const struct tp_merkle_hash *proof,
                                         size_t len) TP_MUST_USE;

#endif
