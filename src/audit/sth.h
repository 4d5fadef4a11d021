/* Signed tree heads of the access log (docs/AUDIT-LOG.md "Signed tree heads").
 *
 * A signed tree head (STH) commits the log to its first tree_size events: the Merkle root of
 * those leaves (src/audit/merkle.h) and the time it was issued, signed with Ed25519
 * (libsodium crypto_sign_detached, RFC 8032). What is signed is the canonical 62-byte
 * message
 *
 *   "opentp-sth v1" 0x00   14 bytes: version and domain separation (nothing else opentp
 *                          signs starts with this, so a signature cannot be replayed as
 *                          another kind of statement)
 *   tree_size              8 bytes, big-endian, ≤ 2^63
 *   timestamp_ms           8 bytes, big-endian, milliseconds since the Unix epoch
 *   root                   32 bytes
 *
 * The shape is opentp's own, not RFC 9162's TLS-encoded TreeHeadSignature: an opentp log has
 * no CT log id or extensions, and the tree itself (what CT tooling checks) is unchanged.
 *
 * Text form, one line, for files, JSON strings and e-mail to auditors:
 *
 *   opentp-sth v1 <tree_size> <timestamp_ms> <root: 64 hex> <signature: 128 hex>
 *
 * Decimal numbers without sign or leading zeros ("0" alone for zero), lower-case hex, single
 * spaces, nothing before or after (no newline). It is canonical: one head has exactly one text,
 * so texts can be compared and hashed as they are. The parser refuses anything else.
 *
 * Keys: the signing key is derived from a 32-byte seed (crypto_sign_seed_keypair), so that
 * only the seed needs storing. Seeds and secret keys are secrets: keep them in sodium_malloc'd
 * memory, wipe them after use and never log them; the functions here keep no copy. Public keys
 * and heads are public.
 *
 * Thread-safety: every function is reentrant (no global state beyond sodium_init, which is
 * thread-safe and called as needed). */
#ifndef TP_AUDIT_STH_H
#define TP_AUDIT_STH_H

#include <stddef.h>
#include <stdint.h>

#include "audit/merkle.h"
#include "core/err.h"

#define TP_STH_SEED_LEN 32       /* crypto_sign_SEEDBYTES */
#define TP_STH_PUBLIC_KEY_LEN 32 /* crypto_sign_PUBLICKEYBYTES */
#define TP_STH_SECRET_KEY_LEN 64 /* crypto_sign_SECRETKEYBYTES (seed and public key) */
#define TP_STH_SIG_LEN 64        /* crypto_sign_BYTES */
#define TP_STH_MESSAGE_LEN 62    /* the signed bytes, above */
/* Longest text: 14 + 19 (2^63) + 1 + 20 (2^64 - 1) + 1 + 64 + 1 + 128 = 248, plus the NUL. */
#define TP_STH_TEXT_MAX 256

struct tp_sth {
    uint64_t tree_size;    /* ≤ TP_MERKLE_SIZE_MAX */
    uint64_t timestamp_ms; /* when the head was issued, ms since the Unix epoch */
    struct tp_merkle_hash root;
    uint8_t signature[TP_STH_SIG_LEN];
};

/* Derives the Ed25519 key pair of a seed. TP_ERR_CRYPTO if libsodium fails to initialise or
 * derive (then both outputs are zeroed). */
enum tp_err tp_sth_keypair_from_seed(const uint8_t seed[TP_STH_SEED_LEN],
                                     uint8_t public_key[TP_STH_PUBLIC_KEY_LEN],
                                     uint8_t secret_key[TP_STH_SECRET_KEY_LEN]) TP_MUST_USE;

/* Writes the canonical signed message of sth (its signature is not part of it).
 * TP_ERR_INVALID if tree_size > TP_MERKLE_SIZE_MAX. */
enum tp_err tp_sth_message(const struct tp_sth *sth, uint8_t out[TP_STH_MESSAGE_LEN]) TP_MUST_USE;

/* Signs sth's size, timestamp and root, filling sth->signature (Ed25519 is deterministic: the
 * same head and key give the same signature). TP_ERR_INVALID if tree_size >
 * TP_MERKLE_SIZE_MAX; TP_ERR_CRYPTO if libsodium fails (signature zeroed). */
enum tp_err tp_sth_sign(struct tp_sth *sth,
                        const uint8_t secret_key[TP_STH_SECRET_KEY_LEN]) TP_MUST_USE;

/* TP_OK iff sth->signature is public_key's signature of sth's message; TP_ERR_CRYPTO
 * otherwise (including a bad public key); TP_ERR_INVALID if tree_size > TP_MERKLE_SIZE_MAX.
 * Checks nothing about the tree: compare sth->root with a recomputed root or verify proofs
 * against it. */
enum tp_err tp_sth_verify(const struct tp_sth *sth,
                          const uint8_t public_key[TP_STH_PUBLIC_KEY_LEN]) TP_MUST_USE;

/* Writes the text form and a NUL into out. TP_ERR_TOO_BIG (out set to "" if outsize > 0) if it
 * does not fit (TP_STH_TEXT_MAX always does); TP_ERR_INVALID if tree_size >
 * TP_MERKLE_SIZE_MAX. */
enum tp_err tp_sth_format(const struct tp_sth *sth, char *out, size_t outsize) TP_MUST_USE;

/* Parses exactly len bytes of text (no NUL needed; text may be NULL when len is 0) in the text
 * form. TP_OK fills *out; TP_ERR_INVALID for anything else (*out zeroed). Does not check the
 * signature: call tp_sth_verify with the log's public key. */
enum tp_err tp_sth_parse(const char *text, size_t len, struct tp_sth *out) TP_MUST_USE;

#endif
