/* Recovery codes: the way back in for an account whose TOTP device is lost (PRODUCT.md §5).
 *
 * A set is TP_RECOVERY_COUNT codes of 10 characters from Crockford's base32 alphabet
 * (0-9 A-Z without I, L, O, U), shown as "XXXXX-XXXXX": 50 random bits each, read aloud or
 * typed without confusing 0/O or 1/I/L. When checking, input is forgiving: case, '-' and
 * spaces are ignored, and O is read as 0, I and L as 1 (Crockford's decoding rules).
 *
 * Only a hash of each code is stored: keyed BLAKE2b (crypto_generichash, personalised
 * "opentp-recovery1" so that a key reused elsewhere gives unrelated hashes) under a 32-byte key
 * that the caller keeps outside the database (a subkey of the master key, ideally one per
 * account). Why not argon2id, as for passwords? Recovery codes are not chosen by people: they
 * carry 50 bits each, not the ~20-40 bits of a typical password, and the key already makes a
 * stolen database useless for offline guessing without it. Argon2id would have to be run
 * against every unused code (there is no per-code salt lookup: the user does not say which
 * code they typed), so 10 memory-hard hashes per login attempt: a cheap request that costs
 * the server 10 argon2id runs (64 MiB and ~50 ms each at libsodium's interactive limits), an
 * easy denial-of-service lever on an endpoint reachable with a stolen password. Online guessing is
 * bounded by the login throttling (CNIL 2022-100 limits), against which 10 x 2^-50 per attempt is
 * negligible. The remaining risk, a thief holding both the database and the key, would get only a
 * second factor, and ~2^46 BLAKE2b evaluations per code found.
 *
 * Single use is the caller's job: on TP_OK from tp_recovery_verify it must delete (or mark
 * used) the hash at the matched index in the same transaction that accepts the login
 * (compare-and-delete), and pass only unused hashes next time.
 *
 * Thread-safety: every function is reentrant (libsodium only, no global state). Nothing here
 * logs; codes are secrets (never log them either). */
#ifndef TP_SECURITY_RECOVERY_H
#define TP_SECURITY_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TP_RECOVERY_COUNT 10    /* codes per set */
#define TP_RECOVERY_CHARS 10    /* alphabet characters per code: 50 bits */
#define TP_RECOVERY_CODE_LEN 11 /* "XXXXX-XXXXX" */
#define TP_RECOVERY_CODE_SIZE 12
#define TP_RECOVERY_HASH_LEN 32
#define TP_RECOVERY_KEY_LEN 32
#define TP_RECOVERY_INPUT_MAX 64 /* longer input is refused before any work */

/* Generates n distinct codes (n ≥ 1; TP_RECOVERY_COUNT is the product's choice) into codes[i],
 * formatted "XXXXX-XXXXX" with a NUL, and their hashes under key into hashes[i]. The caller
 * shows the codes once, stores the hashes, and wipes codes with sodium_memzero. Aborts if
 * libsodium cannot initialise (no safe fallback for a secret). */
void tp_recovery_generate(const uint8_t key[TP_RECOVERY_KEY_LEN], size_t n,
                          char codes[][TP_RECOVERY_CODE_SIZE],
                          uint8_t hashes[][TP_RECOVERY_HASH_LEN]);

/* Hash of a code as stored: keyed BLAKE2b-256 of its 10 normalised characters. Accepts the
 * same forgiving input as tp_recovery_verify. Returns TP_ERR_INVALID (out wiped) if input
 * does not normalise to exactly 10 alphabet characters or is longer than
 * TP_RECOVERY_INPUT_MAX bytes. */
enum tp_err tp_recovery_hash(const uint8_t key[TP_RECOVERY_KEY_LEN], const char *input, size_t len,
                             uint8_t out[TP_RECOVERY_HASH_LEN]) TP_MUST_USE;

/* Checks input typed by a user against the n stored hashes. The input is normalised (upper
 * case; '-' and spaces removed; O->0, I->1, L->1) and hashed once; then all n hashes are
 * compared in constant time (sodium_memcmp, no early exit). Returns TP_OK and sets *matched to
 * the index of the matching hash; TP_ERR_AUTH if none matches or the input is malformed
 * (*matched untouched). */
enum tp_err tp_recovery_verify(const uint8_t key[TP_RECOVERY_KEY_LEN], const char *input,
                               size_t len, const uint8_t (*hashes)[TP_RECOVERY_HASH_LEN], size_t n,
                               size_t *matched) TP_MUST_USE;

#endif
