#include "security/recovery.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Crockford's base32: 32 symbols, so one random byte masked to 5 bits picks one uniformly.
 * The table fits one cache line: the lookup leaks nothing through the cache. */
static const char alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const unsigned char personal[crypto_generichash_blake2b_PERSONALBYTES] = "opentp-recovery1";

/* Normalises input into TP_RECOVERY_CHARS symbols (Crockford decoding: case-insensitive, O is
 * 0, I and L are 1, '-' and spaces ignored). Returns 0, or -1 if it is not one code. The input
 * is the user's guess, not the stored secret: branching on it leaks nothing about the codes. */
static int normalise(const char *in, size_t len, char out[TP_RECOVERY_CHARS])
{
    size_t n = 0;
    if (in == NULL || len > TP_RECOVERY_INPUT_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c == 'O')
            c = '0';
        else if (c == 'I' || c == 'L')
            c = '1';
        if (!memchr(alphabet, c, sizeof alphabet) || n == TP_RECOVERY_CHARS)
            return -1;
        out[n++] = c;
    }
    return n == TP_RECOVERY_CHARS ? 0 : -1;
}

static void hash_chars(const uint8_t key[TP_RECOVERY_KEY_LEN], const char chars[TP_RECOVERY_CHARS],
                       uint8_t out[TP_RECOVERY_HASH_LEN])
{
    int rc = crypto_generichash_blake2b_salt_personal(
        out, TP_RECOVERY_HASH_LEN, (const unsigned char *)chars, TP_RECOVERY_CHARS, key,
        TP_RECOVERY_KEY_LEN, NULL, personal);
    assert(rc == 0); /* fails only for out-of-range lengths, which are constants here */
    (void)rc;
}

void tp_recovery_generate(const uint8_t key[TP_RECOVERY_KEY_LEN], size_t n,
                          char codes[][TP_RECOVERY_CODE_SIZE],
                          uint8_t hashes[][TP_RECOVERY_HASH_LEN])
{
    assert(key && codes && hashes && n >= 1);
    if (sodium_init() < 0)
        abort();
    uint8_t raw[TP_RECOVERY_CHARS];
    char chars[TP_RECOVERY_CHARS];
    for (size_t i = 0; i < n; i++) {
        int dup;
        do { /* a repeat (odds n^2 / 2^51) would make two indexes match one code */
            randombytes_buf(raw, sizeof raw);
            for (size_t k = 0; k < TP_RECOVERY_CHARS; k++)
                chars[k] = alphabet[raw[k] & 31];
            hash_chars(key, chars, hashes[i]);
            dup = 0;
            for (size_t j = 0; j < i; j++)
                dup |= sodium_memcmp(hashes[i], hashes[j], TP_RECOVERY_HASH_LEN) == 0;
        } while (dup);
        memcpy(codes[i], chars, 5);
        codes[i][5] = '-';
        memcpy(codes[i] + 6, chars + 5, 5);
        codes[i][TP_RECOVERY_CODE_LEN] = '\0';
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(chars, sizeof chars);
}

enum tp_err tp_recovery_hash(const uint8_t key[TP_RECOVERY_KEY_LEN], const char *input, size_t len,
                             uint8_t out[TP_RECOVERY_HASH_LEN])
{
    char chars[TP_RECOVERY_CHARS];
    assert(key && out);
    if (normalise(input, len, chars) != 0) {
        sodium_memzero(chars, sizeof chars);
        sodium_memzero(out, TP_RECOVERY_HASH_LEN);
        return TP_ERR_INVALID;
    }
    hash_chars(key, chars, out);
    sodium_memzero(chars, sizeof chars);
    return TP_OK;
}

enum tp_err tp_recovery_verify(const uint8_t key[TP_RECOVERY_KEY_LEN], const char *input,
                               size_t len, const uint8_t (*hashes)[TP_RECOVERY_HASH_LEN], size_t n,
                               size_t *matched)
{
    uint8_t h[TP_RECOVERY_HASH_LEN];
    assert(key && matched && (hashes || n == 0));
    if (tp_recovery_hash(key, input, len, h) != TP_OK)
        return TP_ERR_AUTH;
    /* All n comparisons, the match selected with masks: the time does not tell which index. */
    size_t found = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        size_t mask = 0 - (size_t)(sodium_memcmp(h, hashes[i], sizeof h) == 0);
        found = (found & ~mask) | (i & mask);
        any |= mask;
    }
    sodium_memzero(h, sizeof h);
    if (!any)
        return TP_ERR_AUTH;
    *matched = found;
    return TP_OK;
}
