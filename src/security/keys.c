#include "security/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* File format: "OPENTPK1" magic, key id (4 bytes big-endian), 32-byte master key. */
#define MAGIC "OPENTPK1"
#define MAGIC_LEN 8
#define FILE_LEN (MAGIC_LEN + 4 + crypto_kdf_KEYBYTES)

/* Subkey ids for crypto_kdf_derive_from_key. Never renumber: data depends on them. */
enum {
    SUB_IDENTITY = 1,
    SUB_BIDX_MEMBER = 2,
    SUB_BIDX_NIR = 3,
    SUB_BIDX_BIRTH = 4,
    SUB_REF = 5,
    SUB_TOKEN = 6,
    SUB_DIGEST = 7,
    SUB_SECRET = 8,   /* small account secrets at rest (TOTP seeds) */
    SUB_RECOVERY = 9,    /* keyed hashes of recovery codes */
    SUB_AUDIT_SIGN = 10, /* seed of the access log's Ed25519 tree-head key */
    SUB_AUDIT_MAC = 11,  /* per-record tags of the access log's leaf files */
};
static const char kdf_ctx[crypto_kdf_CONTEXTBYTES] = {'o', 'p', 'e', 'n', 't', 'p', 'k', '1'};

struct tp_keys {
    uint32_t id;
    uint8_t identity[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    uint8_t bidx_member[32];
    uint8_t bidx_nir[32];
    uint8_t bidx_birth[32];
    uint8_t ref[32];
    uint8_t token[32];
    uint8_t digest[32];
    uint8_t secret[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    uint8_t recovery[32];
    uint8_t audit_sign[32];
    uint8_t audit_mac[32];
};

static int sodium_ready(void)
{
    return sodium_init() >= 0;
}

enum tp_err tp_keys_create_file(const char *path, char *msg, size_t msglen)
{
    uint8_t buf[FILE_LEN];
    uint32_t id = 1;
    if (!sodium_ready())
        return tp_fail(msg, msglen, TP_ERR_CRYPTO, "libsodium failed to initialise");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot create key file %s: %s", path,
                       strerror(errno));
    memcpy(buf, MAGIC, MAGIC_LEN);
    buf[8] = (uint8_t)(id >> 24);
    buf[9] = (uint8_t)(id >> 16);
    buf[10] = (uint8_t)(id >> 8);
    buf[11] = (uint8_t)id;
    crypto_kdf_keygen(buf + 12);
    ssize_t w = write(fd, buf, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    if (w != (ssize_t)sizeof buf || fsync(fd) != 0) {
        close(fd);
        unlink(path);
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot write key file %s", path);
    }
    close(fd);
    return TP_OK;
}

enum tp_err tp_keys_load(const char *path, struct tp_keys **out, char *msg, size_t msglen)
{
    uint8_t buf[FILE_LEN + 1];
    struct stat st;
    *out = NULL;
    if (!sodium_ready())
        return tp_fail(msg, msglen, TP_ERR_CRYPTO, "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open key file %s: %s", path,
                       strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return tp_fail(msg, msglen, TP_ERR_CRYPTO,
                       "key file %s must be readable by its owner only (chmod 600)", path);
    }
    ssize_t r = read(fd, buf, sizeof buf);
    close(fd);
    if (r != FILE_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
        sodium_memzero(buf, sizeof buf);
        return tp_fail(msg, msglen, TP_ERR_CRYPTO, "key file %s is not an opentp key", path);
    }
    struct tp_keys *k = sodium_malloc(sizeof *k);
    if (!k) {
        sodium_memzero(buf, sizeof buf);
        return TP_ERR_NOMEM;
    }
    k->id = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
    const uint8_t *master = buf + 12;
    crypto_kdf_derive_from_key(k->identity, sizeof k->identity, SUB_IDENTITY, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->bidx_member, 32, SUB_BIDX_MEMBER, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->bidx_nir, 32, SUB_BIDX_NIR, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->bidx_birth, 32, SUB_BIDX_BIRTH, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->ref, 32, SUB_REF, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->token, 32, SUB_TOKEN, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->digest, 32, SUB_DIGEST, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->secret, sizeof k->secret, SUB_SECRET, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->recovery, 32, SUB_RECOVERY, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->audit_sign, 32, SUB_AUDIT_SIGN, kdf_ctx, master);
    crypto_kdf_derive_from_key(k->audit_mac, 32, SUB_AUDIT_MAC, kdf_ctx, master);
    sodium_memzero(buf, sizeof buf);
    sodium_mprotect_readonly(k);
    *out = k;
    return TP_OK;
}

void tp_keys_free(struct tp_keys *k)
{
    if (k)
        sodium_free(k); /* wipes the memory */
}

uint32_t tp_keys_id(const struct tp_keys *k)
{
    return k->id;
}

/* Canonical encoding: each field is length-prefixed (1 byte) so that ("12", "3") and
 * ("1", "23") never hash alike. */
static void put_str(crypto_generichash_state *st, const char *s)
{
    size_t n = strlen(s);
    uint8_t len = (uint8_t)(n > 255 ? 255 : n);
    crypto_generichash_update(st, &len, 1);
    crypto_generichash_update(st, (const uint8_t *)s, len);
}

static void put_int(crypto_generichash_state *st, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    crypto_generichash_update(st, b, 8);
}

static void bidx_begin(crypto_generichash_state *st, const uint8_t key[32], uint8_t domain)
{
    crypto_generichash_init(st, key, 32, TP_BIDX_LEN);
    crypto_generichash_update(st, &domain, 1);
}

void tp_bidx_member(const struct tp_keys *k, const char *amc, const char *member,
                    uint8_t out[TP_BIDX_LEN])
{
    crypto_generichash_state st;
    bidx_begin(&st, k->bidx_member, 'M');
    put_str(&st, amc);
    put_str(&st, member);
    crypto_generichash_final(&st, out, TP_BIDX_LEN);
}

void tp_bidx_card_nir(const struct tp_keys *k, const char *amc, const char *member, const char *nir,
                      uint8_t out[TP_BIDX_LEN])
{
    crypto_generichash_state st;
    bidx_begin(&st, k->bidx_nir, 'N');
    put_str(&st, amc);
    put_str(&st, member);
    put_str(&st, nir);
    crypto_generichash_final(&st, out, TP_BIDX_LEN);
}

void tp_bidx_card_birth(const struct tp_keys *k, const char *amc, const char *member,
                        tp_day birth_date, int birth_rank, uint8_t out[TP_BIDX_LEN])
{
    crypto_generichash_state st;
    bidx_begin(&st, k->bidx_birth, 'B');
    put_str(&st, amc);
    put_str(&st, member);
    put_int(&st, birth_date);
    put_int(&st, birth_rank);
    crypto_generichash_final(&st, out, TP_BIDX_LEN);
}

void tp_bidx_beneficiary_ref(const struct tp_keys *k, const char *amc, const char *member, int rank,
                             uint8_t out[TP_BIDX_LEN])
{
    crypto_generichash_state st;
    bidx_begin(&st, k->ref, 'R');
    put_str(&st, amc);
    put_str(&st, member);
    put_int(&st, rank);
    crypto_generichash_final(&st, out, TP_BIDX_LEN);
}

void tp_token_hash(const struct tp_keys *k, const char *token, size_t len,
                   uint8_t out[TP_TOKEN_HASH_LEN])
{
    crypto_generichash(out, TP_TOKEN_HASH_LEN, (const uint8_t *)token, len, k->token, 32);
}

void tp_beneficiary_digest(const struct tp_keys *k, const struct tp_beneficiary *b,
                           uint8_t out[TP_BIDX_LEN])
{
    crypto_generichash_state st;
    bidx_begin(&st, k->digest, 'D');
    put_str(&st, b->amc);
    put_str(&st, b->member);
    put_int(&st, b->rank);
    put_int(&st, b->quality);
    put_str(&st, b->id.nir);
    put_str(&st, b->id.last_name);
    put_str(&st, b->id.first_name);
    put_int(&st, b->id.birth_date);
    put_int(&st, b->id.birth_rank);
    put_int(&st, b->nir_own);
    put_str(&st, b->contract);
    put_int(&st, b->coverage_start);
    put_int(&st, b->coverage_end);
    put_int(&st, b->tp_domains);
    crypto_generichash_final(&st, out, TP_BIDX_LEN);
}

/* Plaintext layout of a sealed identity (version 1):
 *   nir[15] | birth_date i32 BE | birth_rank u8 | len u8 | last | len u8 | first
 * Sealed: version u8 | key id u32 BE | nonce[24] | ciphertext+tag. */
#define SEAL_VERSION 1
#define SEAL_HEADER (1 + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)

enum tp_err tp_identity_seal(const struct tp_keys *k, const struct tp_identity *id,
                             const uint8_t *ad, size_t adlen, uint8_t *out, size_t *outlen)
{
    uint8_t pt[15 + 4 + 1 + 1 + TP_NAME_MAX + 1 + TP_NAME_MAX];
    size_t n = 0;
    size_t ln = strnlen(id->last_name, TP_NAME_MAX - 1),
           fn = strnlen(id->first_name, TP_NAME_MAX - 1);
    if (strlen(id->nir) != 15)
        return TP_ERR_INVALID;
    memcpy(pt, id->nir, 15);
    n = 15;
    uint32_t bd = (uint32_t)id->birth_date;
    pt[n++] = (uint8_t)(bd >> 24);
    pt[n++] = (uint8_t)(bd >> 16);
    pt[n++] = (uint8_t)(bd >> 8);
    pt[n++] = (uint8_t)bd;
    pt[n++] = (uint8_t)id->birth_rank;
    pt[n++] = (uint8_t)ln;
    memcpy(pt + n, id->last_name, ln);
    n += ln;
    pt[n++] = (uint8_t)fn;
    memcpy(pt + n, id->first_name, fn);
    n += fn;

    out[0] = SEAL_VERSION;
    out[1] = (uint8_t)(k->id >> 24);
    out[2] = (uint8_t)(k->id >> 16);
    out[3] = (uint8_t)(k->id >> 8);
    out[4] = (uint8_t)k->id;
    uint8_t *nonce = out + 5;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HEADER, &clen, pt, n, ad, adlen, NULL,
                                               nonce, k->identity);
    sodium_memzero(pt, sizeof pt);
    *outlen = SEAL_HEADER + (size_t)clen;
    return TP_OK;
}

enum tp_err tp_identity_open(const struct tp_keys *k, const uint8_t *in, size_t inlen,
                             const uint8_t *ad, size_t adlen, struct tp_identity *out)
{
    uint8_t pt[TP_SEALED_MAX];
    unsigned long long n = 0;
    memset(out, 0, sizeof *out);
    if (inlen < SEAL_HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES || inlen > TP_SEALED_MAX ||
        in[0] != SEAL_VERSION)
        return TP_ERR_CRYPTO;
    uint32_t kid = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
    if (kid != k->id)
        return TP_ERR_CRYPTO;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &n, NULL, in + SEAL_HEADER,
                                                   inlen - SEAL_HEADER, ad, adlen, in + 5,
                                                   k->identity) != 0)
        return TP_ERR_CRYPTO;
    enum tp_err rc = TP_ERR_CRYPTO;
    size_t p = 0;
    if (n < 15 + 4 + 1 + 1)
        goto out;
    memcpy(out->nir, pt, 15);
    p = 15;
    out->birth_date = (tp_day)((uint32_t)pt[p] << 24 | (uint32_t)pt[p + 1] << 16 |
                               (uint32_t)pt[p + 2] << 8 | pt[p + 3]);
    p += 4;
    out->birth_rank = pt[p++];
    size_t ln = pt[p++];
    if (ln >= TP_NAME_MAX || p + ln + 1 > n)
        goto out;
    memcpy(out->last_name, pt + p, ln);
    p += ln;
    size_t fn = pt[p++];
    if (fn >= TP_NAME_MAX || p + fn != n)
        goto out;
    memcpy(out->first_name, pt + p, fn);
    rc = TP_OK;
out:
    sodium_memzero(pt, sizeof pt);
    if (rc != TP_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

void tp_random(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}

void tp_hex(const uint8_t *in, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, in, len);
}

/* Sealed secret: version u8 | key id u32 BE | nonce[24] | ciphertext+tag. */
enum tp_err tp_secret_seal(const struct tp_keys *k, const uint8_t *secret, size_t len,
                           const uint8_t *ad, size_t adlen, uint8_t *out, size_t *outlen)
{
    if (len > TP_SECRET_MAX)
        return TP_ERR_INVALID;
    out[0] = SEAL_VERSION;
    out[1] = (uint8_t)(k->id >> 24);
    out[2] = (uint8_t)(k->id >> 16);
    out[3] = (uint8_t)(k->id >> 8);
    out[4] = (uint8_t)k->id;
    randombytes_buf(out + 5, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HEADER, &clen, secret, len, ad, adlen,
                                               NULL, out + 5, k->secret);
    *outlen = SEAL_HEADER + (size_t)clen;
    return TP_OK;
}

enum tp_err tp_secret_open(const struct tp_keys *k, const uint8_t *in, size_t inlen,
                           const uint8_t *ad, size_t adlen, uint8_t *out, size_t *outlen)
{
    unsigned long long n = 0;
    if (inlen < SEAL_HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
        inlen > TP_SECRET_SEALED_MAX || in[0] != SEAL_VERSION)
        return TP_ERR_CRYPTO;
    uint32_t kid = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
    if (kid != k->id)
        return TP_ERR_CRYPTO;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &n, NULL, in + SEAL_HEADER,
                                                   inlen - SEAL_HEADER, ad, adlen, in + 5,
                                                   k->secret) != 0)
        return TP_ERR_CRYPTO;
    *outlen = (size_t)n;
    return TP_OK;
}

const uint8_t *tp_keys_recovery_key(const struct tp_keys *k)
{
    return k->recovery;
}

const uint8_t *tp_keys_audit_sign_seed(const struct tp_keys *k)
{
    return k->audit_sign;
}

const uint8_t *tp_keys_audit_mac_key(const struct tp_keys *k)
{
    return k->audit_mac;
}
