/* Keys and the cryptography of personal data at rest (DESIGN-NOTES "Personal data at rest").
 *
 * One master key (a file created by `opentp init`, mode 0600) is the root; every purpose gets
 * its own subkey through crypto_kdf_derive_from_key, so a leak of one (say, the token-hashing
 * key) tells nothing about another. Keys live in sodium_malloc'd memory, locked and wiped on
 * free. All functions here are thread-safe once the keys are loaded (read-only state). */
#ifndef TP_SECURITY_KEYS_H
#define TP_SECURITY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/model.h"

#define TP_BIDX_LEN 16 /* blind index: 128-bit keyed BLAKE2b */
#define TP_TOKEN_HASH_LEN 32
#define TP_SEALED_MAX 512 /* upper bound of a sealed identity */

struct tp_keys;

/* Creates a new master key file at path (must not exist), mode 0600. */
enum tp_err tp_keys_create_file(const char *path, char *msg, size_t msglen) TP_MUST_USE;

/* Loads the master key file and derives the subkeys. Refuses a file readable by group or
 * others. On success *out owns the keys; free with tp_keys_free. */
enum tp_err tp_keys_load(const char *path, struct tp_keys **out, char *msg,
                         size_t msglen) TP_MUST_USE;

void tp_keys_free(struct tp_keys *k);

/* Key id stored with every ciphertext (rotation: a newer master gets a newer id). */
uint32_t tp_keys_id(const struct tp_keys *k);

/* Blind indexes: keyed BLAKE2b over a canonical, unambiguous encoding of the inputs. Equality
 * lookups only; the NIR never goes into an unkeyed hash (décret 2019-341 pseudonymisation). */
void tp_bidx_member(const struct tp_keys *k, const char *amc, const char *member,
                    uint8_t out[TP_BIDX_LEN]);
void tp_bidx_card_nir(const struct tp_keys *k, const char *amc, const char *member, const char *nir,
                      uint8_t out[TP_BIDX_LEN]);
void tp_bidx_card_birth(const struct tp_keys *k, const char *amc, const char *member,
                        tp_day birth_date, int birth_rank, uint8_t out[TP_BIDX_LEN]);
/* Pseudonymous reference of a beneficiary (amc, member, rank): what the access log stores. */
void tp_bidx_beneficiary_ref(const struct tp_keys *k, const char *amc, const char *member, int rank,
                             uint8_t out[TP_BIDX_LEN]);

/* Hash of an API or session token as stored (keyed, so a database dump cannot be used to
 * test guesses offline). */
void tp_token_hash(const struct tp_keys *k, const char *token, size_t len,
                   uint8_t out[TP_TOKEN_HASH_LEN]);

/* Keyed digest of a whole beneficiary record: re-importing an unchanged row is detected by
 * comparing digests, without decrypting. */
void tp_beneficiary_digest(const struct tp_keys *k, const struct tp_beneficiary *b,
                           uint8_t out[TP_BIDX_LEN]);

/* Encrypts the identity with XChaCha20-Poly1305. `ad` binds the ciphertext to its row (the
 * beneficiary reference), so a ciphertext moved to another row does not decrypt. Writes at
 * most TP_SEALED_MAX bytes into out. */
enum tp_err tp_identity_seal(const struct tp_keys *k, const struct tp_identity *id,
                             const uint8_t *ad, size_t adlen, uint8_t *out,
                             size_t *outlen) TP_MUST_USE;

enum tp_err tp_identity_open(const struct tp_keys *k, const uint8_t *in, size_t inlen,
                             const uint8_t *ad, size_t adlen, struct tp_identity *out) TP_MUST_USE;

/* Small account secrets (TOTP seeds) sealed with their own subkey; `ad` binds them to the
 * account (its login). out must hold TP_SECRET_SEALED_MAX bytes. */
#define TP_SECRET_MAX 64
#define TP_SECRET_SEALED_MAX (TP_SECRET_MAX + 45)
enum tp_err tp_secret_seal(const struct tp_keys *k, const uint8_t *secret, size_t len,
                           const uint8_t *ad, size_t adlen, uint8_t *out,
                           size_t *outlen) TP_MUST_USE;
/* out must hold TP_SECRET_MAX bytes; TP_ERR_CRYPTO when tampered, moved or another key. */
enum tp_err tp_secret_open(const struct tp_keys *k, const uint8_t *in, size_t inlen,
                           const uint8_t *ad, size_t adlen, uint8_t *out,
                           size_t *outlen) TP_MUST_USE;

/* The 32-byte key of recovery-code hashes. Valid as long as k. */
const uint8_t *tp_keys_recovery_key(const struct tp_keys *k);

/* The 32-byte seed of the access log's tree-head signing key (Ed25519) and the 32-byte key of
 * its per-record tags (keyed BLAKE2b). Valid as long as k. */
const uint8_t *tp_keys_audit_sign_seed(const struct tp_keys *k);
const uint8_t *tp_keys_audit_mac_key(const struct tp_keys *k);

/* Fills buf with len random bytes (libsodium's CSPRNG). */
void tp_random(void *buf, size_t len);

/* Hex encoding; out must hold 2*len+1 bytes. */
void tp_hex(const uint8_t *in, size_t len, char *out);

#endif
