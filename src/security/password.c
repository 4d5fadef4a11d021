/* argon2id password hashing (password.h). */
#include "security/password.h"

#include <sodium.h>
#include <string.h>

_Static_assert(TP_PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "hash string size");
_Static_assert(TP_PASSWORD_MAX_BYTES <= crypto_pwhash_argon2id_PASSWD_MAX, "password bound");
_Static_assert(TP_PASSWORD_MEMLIMIT >= crypto_pwhash_argon2id_MEMLIMIT_MIN, "memlimit");
_Static_assert(TP_PASSWORD_OPSLIMIT >= crypto_pwhash_argon2id_OPSLIMIT_MIN, "opslimit");

/* libsodium declares its password arguments nonnull; an empty password may come as NULL. */
static const char *nonnull(const char *pw)
{
    return pw ? pw : "";
}

enum tp_err tp_password_hash(const char *pw, size_t len, char out[TP_PASSWORD_HASH_MAX])
{
    out[0] = '\0';
    if (len > TP_PASSWORD_MAX_BYTES)
        return TP_ERR_TOO_BIG;
    if (sodium_init() < 0)
        return TP_ERR_CRYPTO;
    if (crypto_pwhash_str_alg(out, nonnull(pw), len, TP_PASSWORD_OPSLIMIT, TP_PASSWORD_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return TP_ERR_NOMEM; /* the only runtime failure: allocating the memory */
    }
    return TP_OK;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum tp_err tp_password_verify(const char *hash, const char *pw, size_t len)
{
    if (!hash || memchr(hash, '\0', TP_PASSWORD_HASH_MAX) == NULL ||
        !(has_prefix(hash, crypto_pwhash_argon2id_STRPREFIX) ||
          has_prefix(hash, crypto_pwhash_argon2i_STRPREFIX)))
        return TP_ERR_INVALID;
    if (len > TP_PASSWORD_MAX_BYTES)
        return TP_ERR_AUTH;
    if (sodium_init() < 0)
        return TP_ERR_AUTH;
    return crypto_pwhash_str_verify(hash, nonnull(pw), len) == 0 ? TP_OK : TP_ERR_AUTH;
}

int tp_password_needs_rehash(const char *hash)
{
    if (!hash || memchr(hash, '\0', TP_PASSWORD_HASH_MAX) == NULL)
        return 1;
    if (sodium_init() < 0)
        return 1;
    /* The argon2id-specific function, not crypto_pwhash_str_needs_rehash: the generic one
     * dispatches on the prefix and calls an argon2i string with the same limits current,
     * whereas we want every hash to become argon2id. -1 (not argon2id, unparsable) and 1
     * (other limits) both mean "store a new hash". */
    return crypto_pwhash_argon2id_str_needs_rehash(hash, TP_PASSWORD_OPSLIMIT,
                                                   TP_PASSWORD_MEMLIMIT) != 0;
}

enum tp_err tp_password_dummy_verify(const char *pw, size_t len)
{
    if (len > TP_PASSWORD_MAX_BYTES)
        return TP_ERR_AUTH;
    if (sodium_init() < 0)
        return TP_ERR_AUTH;
    /* A verification is: parse the string, one argon2id computation with its limits and
     * salt into a 32-byte tag, a constant-time compare. The parse and the compare take
     * microseconds; the computation is the whole cost, so doing it with the current limits
     * and a fixed salt costs what verifying a current hash costs. The result is discarded,
     * so the salt need not be secret or random. */
    static const unsigned char salt[crypto_pwhash_SALTBYTES] = "opentp-dummy-vf";
    unsigned char tag[32];
    if (crypto_pwhash(tag, sizeof tag, nonnull(pw), len, salt, TP_PASSWORD_OPSLIMIT,
                      TP_PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) == 0)
        sodium_memzero(tag, sizeof tag);
    return TP_ERR_AUTH;
}
