/* Signed tree heads: canonical message, Ed25519, strict text form (contracts in sth.h). */
#include "audit/sth.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* Version and domain separation, NUL included, at the head of every signed message. */
static const char message_prefix[] = "opentp-sth v1";
#define PREFIX_LEN (sizeof message_prefix) /* 14, with the NUL */
/* The text form starts with the same words and a space. */
static const char text_prefix[] = "opentp-sth v1 ";
#define TEXT_PREFIX_LEN (sizeof text_prefix - 1)
#define ROOT_HEX_LEN ((size_t)2 * TP_MERKLE_HASH_LEN)
#define SIG_HEX_LEN ((size_t)2 * TP_STH_SIG_LEN)

_Static_assert(PREFIX_LEN + 8 + 8 + TP_MERKLE_HASH_LEN == TP_STH_MESSAGE_LEN, "message layout");
_Static_assert(TP_STH_SEED_LEN == crypto_sign_SEEDBYTES, "seed length");
_Static_assert(TP_STH_PUBLIC_KEY_LEN == crypto_sign_PUBLICKEYBYTES, "public key length");
_Static_assert(TP_STH_SECRET_KEY_LEN == crypto_sign_SECRETKEYBYTES, "secret key length");
_Static_assert(TP_STH_SIG_LEN == crypto_sign_BYTES, "signature length");

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

enum tp_err tp_sth_keypair_from_seed(const uint8_t seed[TP_STH_SEED_LEN],
                                     uint8_t public_key[TP_STH_PUBLIC_KEY_LEN],
                                     uint8_t secret_key[TP_STH_SECRET_KEY_LEN])
{
    if (sodium_init() < 0 || crypto_sign_seed_keypair(public_key, secret_key, seed) != 0) {
        sodium_memzero(public_key, TP_STH_PUBLIC_KEY_LEN);
        sodium_memzero(secret_key, TP_STH_SECRET_KEY_LEN);
        return TP_ERR_CRYPTO;
    }
    return TP_OK;
}

enum tp_err tp_sth_message(const struct tp_sth *sth, uint8_t out[TP_STH_MESSAGE_LEN])
{
    if (sth->tree_size > TP_MERKLE_SIZE_MAX)
        return TP_ERR_INVALID;
    memcpy(out, message_prefix, PREFIX_LEN);
    put_be64(out + PREFIX_LEN, sth->tree_size);
    put_be64(out + PREFIX_LEN + 8, sth->timestamp_ms);
    memcpy(out + PREFIX_LEN + 16, sth->root.b, TP_MERKLE_HASH_LEN);
    return TP_OK;
}

enum tp_err tp_sth_sign(struct tp_sth *sth, const uint8_t secret_key[TP_STH_SECRET_KEY_LEN])
{
    uint8_t msg[TP_STH_MESSAGE_LEN];
    enum tp_err rc = tp_sth_message(sth, msg);
    if (rc != TP_OK)
        return rc;
    if (sodium_init() < 0 ||
        crypto_sign_detached(sth->signature, NULL, msg, sizeof msg, secret_key) != 0) {
        memset(sth->signature, 0, sizeof sth->signature);
        return TP_ERR_CRYPTO;
    }
    return TP_OK;
}

enum tp_err tp_sth_verify(const struct tp_sth *sth, const uint8_t public_key[TP_STH_PUBLIC_KEY_LEN])
{
    uint8_t msg[TP_STH_MESSAGE_LEN];
    enum tp_err rc = tp_sth_message(sth, msg);
    if (rc != TP_OK)
        return rc;
    if (sodium_init() < 0)
        return TP_ERR_CRYPTO;
    /* libsodium refuses non-canonical signatures and small-order keys: no malleability. */
    return crypto_sign_verify_detached(sth->signature, msg, sizeof msg, public_key) == 0
               ? TP_OK
               : TP_ERR_CRYPTO;
}

/* ---------------------------------------------------------------------------------------
 * Text form */

static void put_hex(char *out, const uint8_t *bin, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
}

enum tp_err tp_sth_format(const struct tp_sth *sth, char *out, size_t outsize)
{
    if (outsize)
        out[0] = '\0';
    if (sth->tree_size > TP_MERKLE_SIZE_MAX)
        return TP_ERR_INVALID;
    char buf[TP_STH_TEXT_MAX];
    int n = snprintf(buf, sizeof buf, "%s%llu %llu ", text_prefix,
                     (unsigned long long)sth->tree_size, (unsigned long long)sth->timestamp_ms);
    assert(n > 0 && (size_t)n + ROOT_HEX_LEN + 1 + SIG_HEX_LEN < sizeof buf);
    size_t len = (size_t)n;
    put_hex(buf + len, sth->root.b, TP_MERKLE_HASH_LEN);
    len += ROOT_HEX_LEN;
    buf[len++] = ' ';
    put_hex(buf + len, sth->signature, TP_STH_SIG_LEN);
    len += SIG_HEX_LEN;
    buf[len] = '\0';
    if (len >= outsize)
        return TP_ERR_TOO_BIG;
    memcpy(out, buf, len + 1);
    return TP_OK;
}

/* A cursor over the text being parsed; every reader below refuses what is not canonical. */
struct cursor {
    const char *p, *end;
};

/* Canonical decimal up to max: digits only, no leading zero except "0" itself, ended by a
 * single space (consumed). */
static int read_u64(struct cursor *c, uint64_t max, uint64_t *out)
{
    const char *start = c->p;
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        const unsigned d = (unsigned)(*c->p - '0');
        if (v > (max - d) / 10)
            return 0; /* above max (and so no overflow) */
        v = v * 10 + d;
        c->p++;
    }
    const size_t digits = (size_t)(c->p - start);
    if (digits == 0 || (digits > 1 && *start == '0'))
        return 0;
    if (c->p == c->end || *c->p != ' ')
        return 0;
    c->p++;
    *out = v;
    return 1;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1; /* upper case too: the text form is canonical */
}

/* Exactly 2 * len lower-case hex digits into out[0..len). */
static int read_hex(struct cursor *c, uint8_t *out, size_t len)
{
    if ((size_t)(c->end - c->p) < 2 * len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        const int hi = hex_value(c->p[2 * i]), lo = hex_value(c->p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    c->p += 2 * len;
    return 1;
}

enum tp_err tp_sth_parse(const char *text, size_t len, struct tp_sth *out)
{
    memset(out, 0, sizeof *out);
    assert(text || len == 0);
    if (len < TEXT_PREFIX_LEN || len >= TP_STH_TEXT_MAX ||
        memcmp(text, text_prefix, TEXT_PREFIX_LEN) != 0)
        return TP_ERR_INVALID;
    struct cursor c = {text + TEXT_PREFIX_LEN, text + len};
    struct tp_sth sth;
    memset(&sth, 0, sizeof sth);
    int ok = read_u64(&c, TP_MERKLE_SIZE_MAX, &sth.tree_size) &&
             read_u64(&c, UINT64_MAX, &sth.timestamp_ms) &&
             read_hex(&c, sth.root.b, TP_MERKLE_HASH_LEN) && c.p < c.end && *c.p++ == ' ' &&
             read_hex(&c, sth.signature, TP_STH_SIG_LEN) && c.p == c.end;
    if (!ok)
        return TP_ERR_INVALID;
    *out = sth;
    return TP_OK;
}
