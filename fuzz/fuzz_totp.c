/* Fuzz target for the second-factor parsers (src/security/totp.h, src/security/recovery.h).
 *
 * The input is taken as: base32 text to decode (its outcome re-checked against the RFC 4648
 * rules, and an accepted text re-encoded to itself); raw bytes to encode and decode back; a
 * TOTP code typed by a user, at a time and last used step drawn from the input and at t = 59
 * (where the seeds hold valid codes), the outcome re-checked against an independent
 * computation; and a recovery code, checked against a list of known codes. A violated
 * invariant aborts like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/recovery.h"
#include "security/totp.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t secret[] = "12345678901234567890"; /* RFC 6238 Appendix B */

static int b32_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

static void check_base32_text(const uint8_t *data, size_t size)
{
    size_t n = size;
    while (n > 0 && data[n - 1] == '=')
        n--;
    size_t pad = size - n, need = n / 8 * 5 + n % 8 * 5 / 8;
    /* The rules, independently: alphabet, length, padding, zero trailing bits. */
    int ok = n % 8 != 1 && n % 8 != 3 && n % 8 != 6;
    if (pad)
        ok &= size % 8 == 0 && pad == (size_t)((8 - n % 8) % 8);
    for (size_t i = 0; i < n; i++)
        ok &= b32_value(data[i]) >= 0;
    if (ok && n % 8) {
        unsigned spare = (unsigned)(n % 8 * 5 % 8);
        ok &= (b32_value(data[n - 1]) & ((1 << spare) - 1)) == 0;
    }
    /* Into a heap buffer of exactly the size needed: ASan sees a write past it. */
    uint8_t *bin = malloc(need ? need : 1);
    CHECK(bin != NULL);
    size_t outlen = 77;
    enum tp_err rc = tp_base32_decode((const char *)data, size, bin, need, &outlen);
    CHECK(rc == (ok ? TP_OK : TP_ERR_INVALID));
    if (rc != TP_OK) {
        CHECK(outlen == 0);
    } else {
        CHECK(outlen == need);
        /* Re-encoding gives the text back, in upper case and without padding. */
        size_t tlen = tp_base32_len(outlen);
        CHECK(tlen == n);
        char *text = malloc(tlen + 1);
        CHECK(text != NULL);
        CHECK(tp_base32_encode(bin, outlen, text, tlen + 1) == TP_OK);
        for (size_t i = 0; i < n; i++) {
            uint8_t c = data[i] >= 'a' && data[i] <= 'z' ? (uint8_t)(data[i] - 32) : data[i];
            CHECK((uint8_t)text[i] == c);
        }
        CHECK(text[n] == '\0');
        free(text);
        /* One byte short of room: refused. */
        if (need) {
            CHECK(tp_base32_decode((const char *)data, size, bin, need - 1, &outlen) ==
                  TP_ERR_TOO_BIG);
            CHECK(outlen == 0);
        }
    }
    free(bin);
}

static void check_base32_bytes(const uint8_t *data, size_t size)
{
    if (size > 512)
        size = 512;
    size_t tlen = tp_base32_len(size);
    char *text = malloc(tlen + 1);
    uint8_t *back = malloc(size ? size : 1);
    CHECK(text && back);
    CHECK(tp_base32_encode(data, size, text, tlen + 1) == TP_OK);
    CHECK(strlen(text) == tlen);
    size_t n = 0;
    CHECK(tp_base32_decode(text, tlen, back, size, &n) == TP_OK);
    CHECK(n == size && memcmp(back, data, size) == 0);
    free(text);
    free(back);
}

static uint64_t fnv(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    return h;
}

/* Checks tp_totp_verify against an independent computation and returns the matched step, or
 * -1 when refused. */
static int64_t check_totp(const char *code, size_t len, int64_t now, int64_t last)
{
    /* Expected: 6 ASCII digits equal to the code of a step in [s-1, s+1], s ≥ 0, s > last;
     * the latest such step wins. */
    int64_t s = now < 0 ? -1 : now / 30, want = -1;
    int digits = len == 6;
    for (size_t i = 0; digits && i < len; i++)
        digits = code[i] >= '0' && code[i] <= '9';
    for (int64_t c = s - 1; digits && s >= 0 && c <= s + 1; c++) {
        char buf[8];
        snprintf(buf, sizeof buf, "%06u", (unsigned)tp_totp_code(secret, 20, (uint64_t)c, 6));
        if (c >= 0 && c > last && memcmp(buf, code, 6) == 0)
            want = c;
    }
    int64_t matched = -42;
    enum tp_err rc = tp_totp_verify(secret, 20, code, len, now, last, &matched);
    CHECK(rc == (want >= 0 ? TP_OK : TP_ERR_AUTH));
    CHECK(matched == (want >= 0 ? want : -42));
    return want;
}

static const char *const known_codes[] = {"ABCDE-FGHJK", "01234-56789", "ZZZZZ-00000"};
#define NKNOWN (sizeof known_codes / sizeof known_codes[0])

static void check_recovery(const uint8_t *data, size_t size)
{
    static const uint8_t key[TP_RECOVERY_KEY_LEN] = {1, 2, 3};
    static uint8_t hashes[NKNOWN][TP_RECOVERY_HASH_LEN];
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < NKNOWN; i++)
            CHECK(tp_recovery_hash(key, known_codes[i], strlen(known_codes[i]), hashes[i]) ==
                  TP_OK);
        ready = 1;
    }
    /* Expected: the input, normalised by Crockford's rules, is one of the known codes. */
    char norm[11] = {0};
    size_t n = 0;
    int ok = size <= TP_RECOVERY_INPUT_MAX;
    for (size_t i = 0; ok && i < size; i++) {
        char c = (char)data[i];
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        c = c == 'O' ? '0' : c == 'I' || c == 'L' ? '1' : c;
        ok = n < 10 && c != '\0' && strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", c) != NULL;
        if (ok)
            norm[n++] = c;
    }
    ok &= n == 10;
    long want = -1;
    for (size_t i = 0; ok && i < NKNOWN; i++) {
        const char *k = known_codes[i];
        if (memcmp(norm, k, 5) == 0 && memcmp(norm + 5, k + 6, 5) == 0)
            want = (long)i;
    }
    size_t matched = 42;
    enum tp_err rc = tp_recovery_verify(key, (const char *)data, size, hashes, NKNOWN, &matched);
    CHECK(rc == (want >= 0 ? TP_OK : TP_ERR_AUTH));
    CHECK(matched == (want >= 0 ? (size_t)want : 42));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_base32_text(data, size);
    check_base32_bytes(data, size);

    const char *code = (const char *)data;
    uint64_t h = fnv(data, size);
    check_totp(code, size, 59, -1); /* the seeds' codes are valid here */
    /* A time from the input (up to the year 2603, sometimes before the epoch), and a last
     * used step around it. */
    int64_t now = (int64_t)(h % 20000000000u) - (h >> 63 ? 60 : 0);
    int64_t last = now / 30 - 2 + (int64_t)(h >> 40 & 3);
    check_totp(code, size, now, last);
    /* The right code at that time is accepted, unless replayed. */
    if (now >= 30) {
        char right[8];
        snprintf(right, sizeof right, "%06u",
                 (unsigned)tp_totp_code(secret, 20, (uint64_t)(now / 30), 6));
        int64_t m = check_totp(right, 6, now, last);
        CHECK(last >= now / 30 || m >= now / 30);
    }
    check_recovery(data, size);
    return 0;
}
