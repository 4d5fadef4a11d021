#include "security/totp.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define QUIET_ZONE 4 /* modules of light margin around the symbol (ISO/IEC 18004 §6.3.8) */

void tp_totp_secret_new(uint8_t secret[TP_TOTP_SECRET_LEN])
{
    if (sodium_init() < 0)
        abort();
    randombytes_buf(secret, TP_TOTP_SECRET_LEN);
}

/* RFC 4226 §5.3: HS = HMAC-SHA-1(K, C); offset = low nibble of the last byte; the 31 bits at
 * that offset, modulo 10^digits. Returns 0, or -1 if OpenSSL fails. */
static int hotp(const uint8_t *secret, size_t len, uint64_t counter, int digits, uint32_t *out)
{
    static const uint32_t pow10[] = {1,      10,      100,      1000,      10000,
                                     100000, 1000000, 10000000, 100000000, 1000000000};
    static const uint8_t no_key = 0; /* OpenSSL reads a NULL key as "keep the previous one" */
    uint8_t msg[8], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    assert(secret != NULL);
    assert(digits >= 1 && digits <= 9);
    *out = TP_TOTP_CODE_ERROR;
    if (len > INT_MAX)
        return -1;
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (uint8_t)counter; /* the counter is big-endian (RFC 4226 §5.2) */
    if (!HMAC(EVP_sha1(), len ? secret : &no_key, (int)len, msg, sizeof msg, md, &mdlen) ||
        mdlen != 20) {
        sodium_memzero(md, sizeof md);
        return -1;
    }
    unsigned off = md[19] & 0x0f;
    uint32_t bin = (uint32_t)(md[off] & 0x7f) << 24 | (uint32_t)md[off + 1] << 16 |
                   (uint32_t)md[off + 2] << 8 | (uint32_t)md[off + 3];
    *out = bin % pow10[digits];
    sodium_memzero(md, sizeof md);
    sodium_memzero(&bin, sizeof bin);
    return 0;
}

uint32_t tp_totp_code(const uint8_t *secret, size_t len, uint64_t step, int digits)
{
    uint32_t code;
    (void)hotp(secret, len, step, digits, &code); /* on failure, code is TP_TOTP_CODE_ERROR */
    return code;
}

int64_t tp_totp_step(int64_t now_unix)
{
    return now_unix < 0 ? -1 : now_unix / TP_TOTP_PERIOD;
}

/* The zero-padded decimal digits of code, without a NUL (no snprintf: no branch on values). */
static void format_code(uint32_t code, char out[TP_TOTP_DIGITS])
{
    for (int i = TP_TOTP_DIGITS - 1; i >= 0; i--, code /= 10)
        out[i] = (char)('0' + code % 10);
}

enum tp_err tp_totp_verify(const uint8_t *secret, size_t len, const char *code, size_t code_len,
                           int64_t now_unix, int64_t last_used_step, int64_t *matched_step)
{
    assert(secret != NULL && matched_step != NULL);
    if (len < TP_TOTP_SECRET_MIN || len > TP_TOTP_SECRET_MAX)
        return TP_ERR_INVALID;
    /* The format is not secret: checking it first and returning early leaks nothing. */
    if (code == NULL || code_len != TP_TOTP_DIGITS)
        return TP_ERR_AUTH;
    for (size_t i = 0; i < code_len; i++)
        if (code[i] < '0' || code[i] > '9')
            return TP_ERR_AUTH;
    int64_t now = tp_totp_step(now_unix);
    if (now < 0)
        return TP_ERR_AUTH;

    /* Every candidate is computed and compared, and the match selected with masks, so that the
     * time taken does not depend on which step (if any) the code belongs to. The skip of a
     * negative step depends on the clock only. Later steps override earlier ones. */
    uint64_t found = 0, any = 0;
    int failed = 0;
    char want[TP_TOTP_DIGITS];
    for (int64_t s = now - TP_TOTP_WINDOW; s <= now + TP_TOTP_WINDOW; s++) {
        if (s < 0)
            continue;
        uint32_t c;
        failed |= hotp(secret, len, (uint64_t)s, TP_TOTP_DIGITS, &c);
        format_code(c, want);
        sodium_memzero(&c, sizeof c);
        uint64_t same = (uint64_t)(sodium_memcmp(want, code, TP_TOTP_DIGITS) == 0);
        uint64_t fresh = (uint64_t)(s > last_used_step); /* RFC 6238 §5.2: one use per step */
        uint64_t mask = 0 - (same & fresh);
        found = (found & ~mask) | ((uint64_t)s & mask);
        any |= mask;
    }
    sodium_memzero(want, sizeof want);
    if (failed)
        return TP_ERR_CRYPTO;
    if (!any)
        return TP_ERR_AUTH;
    *matched_step = (int64_t)found;
    return TP_OK;
}

/* ---- Base32 (RFC 4648 §6) ----
 * The character mappings are branch-free, as in libsodium's base64: a secret being encoded
 * or decoded does not steer branches or table lookups. */

/* All ones iff lo <= c <= hi (all below 256): a difference that goes negative sets bit 8+. */
static uint32_t in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
    return 0u - ((((c - lo) | (hi - c)) >> 8 & 1u) ^ 1u);
}

static char b32_char(uint32_t v)
{
    /* 0..25 -> 'A'..'Z', 26..31 -> '2'..'7' */
    return (char)(v + 'A' + (in_range(v, 26, 31) & (uint32_t)('2' - 'A' - 26)));
}

/* 0..31, or 32 + something for a character outside the alphabet (either case accepted). */
static uint32_t b32_value(unsigned char ch)
{
    uint32_t c = ch;
    uint32_t up = in_range(c, 'A', 'Z'), lo = in_range(c, 'a', 'z'), dig = in_range(c, '2', '7');
    uint32_t v = (up & (c - 'A')) | (lo & (c - 'a')) | (dig & (c - '2' + 26));
    return v | (~(up | lo | dig) & 32u);
}

size_t tp_base32_len(size_t len)
{
    return len / 5 * 8 + (len % 5 * 8 + 4) / 5;
}

enum tp_err tp_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsize)
{
    size_t need = tp_base32_len(len);
    if (outsize == 0 || need >= outsize || need < len) {
        if (outsize)
            out[0] = '\0';
        return TP_ERR_TOO_BIG;
    }
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[n++] = b32_char(acc >> bits & 31u);
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[n++] = b32_char(acc << (5 - bits) & 31u);
    out[n] = '\0';
    assert(n == need);
    sodium_memzero(&acc, sizeof acc);
    return TP_OK;
}

enum tp_err tp_base32_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                             size_t *outlen)
{
    *outlen = 0;
    /* Padding, if any, is what the encoder with padding would have written: the text is a
     * whole number of 8-character blocks, and the pad length follows from the data length. */
    size_t data = len;
    while (data > 0 && in[data - 1] == '=')
        data--;
    if (data < len) {
        static const unsigned pad_for[8] = {0, 9, 6, 9, 4, 3, 9, 1}; /* 9: impossible */
        if (len % 8 != 0 || len - data != pad_for[data % 8])
            return TP_ERR_INVALID;
    }
    /* 1, 3 or 6 characters in the last block would leave a whole character of padding bits. */
    if (data % 8 == 1 || data % 8 == 3 || data % 8 == 6)
        return TP_ERR_INVALID;
    size_t need = data / 8 * 5 + data % 8 * 5 / 8;
    if (need > outsize)
        return TP_ERR_TOO_BIG;
    uint32_t acc = 0, bad = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < data; i++) {
        uint32_t v = b32_value((unsigned char)in[i]);
        bad |= v & 32u;
        acc = acc << 5 | (v & 31u);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    bad |= acc; /* RFC 4648 §3.5: the unused trailing bits must be zero (canonical text) */
    sodium_memzero(&acc, sizeof acc);
    assert(n == need);
    if (bad) {
        sodium_memzero(out, n);
        return TP_ERR_INVALID;
    }
    *outlen = n;
    return TP_OK;
}

/* ---- Enrolment URI ---- */

/* A bounded string builder: once full, it only counts. */
struct sbuf {
    char *p;
    size_t cap, n;
};

static void put(struct sbuf *b, const char *s, size_t len)
{
    if (b->n < b->cap && len < b->cap - b->n)
        memcpy(b->p + b->n, s, len);
    b->n += len;
}

static void put_str(struct sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* RFC 3986 §2.3: only unreserved characters go unescaped. */
static void put_escaped(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            put(b, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(b, e, 3);
        }
    }
}

static enum tp_err check_label(const char *s)
{
    size_t len = strnlen(s, TP_TOTP_LABEL_MAX + 1);
    if (len == 0)
        return TP_ERR_INVALID;
    if (len > TP_TOTP_LABEL_MAX)
        return TP_ERR_TOO_BIG;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == ':')
            return TP_ERR_INVALID;
    }
    return TP_OK;
}

enum tp_err tp_totp_uri(const char *issuer, const char *account, const uint8_t *secret, size_t len,
                        char *out, size_t outsize)
{
    assert(issuer && account && secret && out);
    enum tp_err rc = check_label(issuer);
    if (rc == TP_OK)
        rc = check_label(account);
    if (rc == TP_OK && (len == 0 || len > TP_TOTP_SECRET_MAX))
        rc = TP_ERR_INVALID;
    if (rc != TP_OK) {
        if (outsize)
            out[0] = '\0';
        return rc;
    }
    char b32[TP_TOTP_BASE32_MAX];
    rc = tp_base32_encode(secret, len, b32, sizeof b32);
    assert(rc == TP_OK);
    struct sbuf b = {out, outsize, 0};
    put_str(&b, "otpauth://totp/");
    put_escaped(&b, issuer);
    put_str(&b, ":");
    put_escaped(&b, account);
    put_str(&b, "?secret=");
    put_str(&b, b32);
    put_str(&b, "&issuer=");
    put_escaped(&b, issuer);
    put_str(&b, "&algorithm=SHA1&digits=6&period=30");
    sodium_memzero(b32, sizeof b32);
    if (b.n >= outsize) {
        sodium_memzero(out, outsize); /* what fitted may hold part of the secret */
        return TP_ERR_TOO_BIG;
    }
    out[b.n] = '\0';
    return TP_OK;
}

/* ---- QR code as SVG ---- */

static void put_uint(struct sbuf *b, unsigned v)
{
    char d[12];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, d + i, sizeof d - i);
}

/* Writes the SVG of qr into b (or only counts, when b->cap is 0). Each row's runs of dark
 * modules become one "M x y h n v1 h -n z" rectangle: far smaller than one square each. */
static void render_svg(struct sbuf *b, const QRcode *qr)
{
    unsigned w = (unsigned)qr->width, size = w + 2 * QUIET_ZONE;
    put_str(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
    put_uint(b, size);
    put_str(b, " ");
    put_uint(b, size);
    put_str(b, "\" shape-rendering=\"crispEdges\"><rect width=\"");
    put_uint(b, size);
    put_str(b, "\" height=\"");
    put_uint(b, size);
    put_str(b, "\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
    for (unsigned y = 0; y < w; y++) {
        const unsigned char *row = qr->data + (size_t)y * w;
        for (unsigned x = 0; x < w;) {
            if (!(row[x] & 1)) { /* bit 0: dark module (qrencode.h) */
                x++;
                continue;
            }
            unsigned x0 = x;
            while (x < w && (row[x] & 1))
                x++;
            put_str(b, "M");
            put_uint(b, x0 + QUIET_ZONE);
            put_str(b, " ");
            put_uint(b, y + QUIET_ZONE);
            put_str(b, "h");
            put_uint(b, x - x0);
            put_str(b, "v1h-");
            put_uint(b, x - x0);
            put_str(b, "z");
        }
    }
    put_str(b, "\"/></svg>");
}

enum tp_err tp_totp_qr_svg(const char *uri, char **svg_out, size_t *len)
{
    assert(uri && svg_out);
    *svg_out = NULL;
    if (len)
        *len = 0;
    size_t ulen = strnlen(uri, TP_TOTP_URI_MAX);
    if (ulen == 0)
        return TP_ERR_INVALID;
    if (ulen >= TP_TOTP_URI_MAX)
        return TP_ERR_TOO_BIG;
    errno = 0;
    QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return errno == ENOMEM ? TP_ERR_NOMEM : errno == ERANGE ? TP_ERR_TOO_BIG : TP_ERR_INVALID;
    /* Count, then write into a buffer of the exact size: no realloc leaving copies behind. */
    struct sbuf count = {NULL, 0, 0};
    render_svg(&count, qr);
    char *svg = malloc(count.n + 1);
    enum tp_err rc = TP_ERR_NOMEM;
    if (svg) {
        struct sbuf b = {svg, count.n + 1, 0};
        render_svg(&b, qr);
        assert(b.n == count.n);
        svg[b.n] = '\0';
        *svg_out = svg;
        if (len)
            *len = b.n;
        rc = TP_OK;
    }
    sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width); /* it encodes the secret */
    QRcode_free(qr);
    return rc;
}
