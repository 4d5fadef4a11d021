/* Password storage: argon2id through libsodium (PRODUCT §5, CNIL délibération 2022-100).
 *
 * A stored password is libsodium's self-describing string ("$argon2id$v=19$m=65536,t=2,p=1$
 * salt$hash", at most TP_PASSWORD_HASH_MAX bytes with its NUL), so hashes made with older
 * parameters keep verifying, and tp_password_needs_rehash tells the login code to store a
 * new hash while it holds the cleartext (rehash on login).
 *
 * Each hash or verification takes ~100 ms of one core and TP_PASSWORD_MEMLIMIT bytes of
 * memory: call these only from the worker pool (src/security/worker_pool.h), never from an
 * HTTP poll thread; the pool's size bounds the memory (threads x 64 MiB).
 *
 * Passwords are passed as (pointer, length), need not be NUL-terminated and are never
 * copied, logged or kept by these functions. The caller owns the bytes and wipes them
 * (sodium_memzero) as soon as the call returns. A password longer than
 * TP_PASSWORD_MAX_BYTES is refused by every function without being hashed, so a client
 * cannot make the server hash megabytes (the policy refuses such passwords when they are
 * chosen, so no account has one).
 *
 * All functions are thread-safe (libsodium is initialised on first use). */
#ifndef TP_SECURITY_PASSWORD_H
#define TP_SECURITY_PASSWORD_H

#include <stddef.h>

#include "core/err.h"
#include "core/password_policy.h"

/* argon2id parameters (libsodium always uses one lane, p = 1).
 *
 * OWASP Password Storage Cheat Sheet, minimum for argon2id: m = 19 MiB, t = 2, p = 1 (or an
 * equivalent trade such as m = 46 MiB, t = 1). We take 64 MiB and two passes, which is also
 * libsodium's crypto_pwhash_*_INTERACTIVE: 3.4x the memory and the same passes as the OWASP
 * minimum.
 *
 * Measured with bench/login_hash.sh (bench/argon2_bench.c: crypto_pwhash_str_alg, libsodium
 * 1.0.18, 2-vCPU AMD EPYC, -O2): t=2, m=64 MiB takes 79-92 ms per hash on one core when the
 * machine is quiet, 100-110 ms with other builds and tests running on it; ~10-12 hashes/s
 * on 1 thread, ~18 hashes/s on 2. Neighbours (1 thread, medians): 64 MiB t=1 59-68 ms,
 * t=3 135-150 ms, t=4 169-200 ms; 128 MiB t=1 133-156 ms. t=2 is the most work that fits
 * the ~100 ms a login can afford. Re-measure on new hardware; a change here makes every
 * older hash "need rehash", and each is upgraded at its account's next login. */
#define TP_PASSWORD_OPSLIMIT 2ULL
#define TP_PASSWORD_MEMLIMIT ((size_t)64 << 20)

#define TP_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES, NUL included */

/* Hashes the password with argon2id, the parameters above and a random salt; writes the
 * NUL-terminated string into out. TP_ERR_TOO_BIG when len > TP_PASSWORD_MAX_BYTES;
 * TP_ERR_NOMEM when the 64 MiB could not be allocated; TP_ERR_CRYPTO when libsodium cannot
 * be initialised. On failure out holds "". */
enum tp_err tp_password_hash(const char *pw, size_t len,
                             char out[TP_PASSWORD_HASH_MAX]) TP_MUST_USE;

/* Checks the password against a stored string (NUL-terminated, from tp_password_hash or
 * any libsodium argon2i/argon2id string). TP_OK when it matches; TP_ERR_AUTH when it does
 * not, when len > TP_PASSWORD_MAX_BYTES, or when the work memory could not be allocated
 * (libsodium does not tell the two apart; failing closed is right); TP_ERR_INVALID when
 * `hash` is not an argon2 string at all (a corrupt record: log it, do not count a failed
 * login). Takes the time of one hash with the parameters recorded in `hash`. */
enum tp_err tp_password_verify(const char *hash, const char *pw, size_t len) TP_MUST_USE;

/* 1 when `hash` was not made by tp_password_hash with the current parameters (older
 * limits, argon2i, or unparsable): after a successful verify, store tp_password_hash of
 * the same password. 0 when it is current. Cheap (parses the string). */
int tp_password_needs_rehash(const char *hash) TP_MUST_USE;

/* For a login naming an account that does not exist (or has no password): does the same
 * work as tp_password_verify on a hash made with the current parameters, then returns
 * TP_ERR_AUTH. A failed login thus takes about the same time whether or not the account
 * exists (OWASP ASVS: failed logins do not reveal whether an account exists). Like
 * tp_password_verify, it returns at once when len > TP_PASSWORD_MAX_BYTES. */
enum tp_err tp_password_dummy_verify(const char *pw, size_t len);

#endif
