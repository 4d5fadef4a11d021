/* TOTP second factor (src/security/totp.h): RFC 6238 / RFC 4226 vectors, the verification
 * window and replay rules, base32 (RFC 4648), the enrolment URI and its QR code, and a
 * cross-check against oathtool (OATH Toolkit), an independent implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/totp.h"

/* RFC 6238 Appendix B and RFC 4226 Appendix D: the ASCII secret "12345678901234567890". */
static const uint8_t rfc_secret[] = "12345678901234567890";
#define RFC_LEN 20

static uint32_t totp_at(int64_t t, int digits)
{
    return tp_totp_code(rfc_secret, RFC_LEN, (uint64_t)tp_totp_step(t), digits);
}

static void rfc6238_appendix_b_sha1_8_digits(void **state)
{
    (void)state;
    assert_int_equal(totp_at(59, 8), 94287082);
    assert_int_equal(totp_at(1111111109, 8), 7081804);
    assert_int_equal(totp_at(1111111111, 8), 14050471);
    assert_int_equal(totp_at(1234567890, 8), 89005924);
    assert_int_equal(totp_at(2000000000, 8), 69279037);
    assert_int_equal(totp_at(20000000000, 8), 65353130);
}

static void rfc6238_appendix_b_sha1_6_digits(void **state)
{
    (void)state;
    assert_int_equal(totp_at(59, 6), 287082);
    assert_int_equal(totp_at(1111111109, 6), 81804);
    assert_int_equal(totp_at(1111111111, 6), 50471);
    assert_int_equal(totp_at(1234567890, 6), 5924);
    assert_int_equal(totp_at(2000000000, 6), 279037);
    assert_int_equal(totp_at(20000000000, 6), 353130);
}

static void rfc6238_steps_are_floor_of_time_over_30(void **state)
{
    (void)state;
    assert_int_equal(tp_totp_step(0), 0);
    assert_int_equal(tp_totp_step(29), 0);
    assert_int_equal(tp_totp_step(30), 1);
    assert_int_equal(tp_totp_step(59), 1);
    assert_int_equal(tp_totp_step(1111111109), 0x023523EC); /* RFC 6238 Appendix B "T" */
    assert_int_equal(tp_totp_step(20000000000), 0x27BC86AA);
    assert_int_equal(tp_totp_step(-1), -1);
}

static void rfc4226_appendix_d_hotp(void **state)
{
    (void)state;
    static const uint32_t want[10] = {755224, 287082, 359152, 969429, 338314,
                                      254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++)
        assert_int_equal(tp_totp_code(rfc_secret, RFC_LEN, c, 6), want[c]);
}

static void fmt6(uint32_t code, char out[7])
{
    snprintf(out, 7, "%06" PRIu32, code);
}

/* The 6-digit code of step s (for the RFC secret). */
static void code_of(int64_t s, char out[7])
{
    fmt6(tp_totp_code(rfc_secret, RFC_LEN, (uint64_t)s, 6), out);
}

static enum tp_err verify(const char *code, int64_t now, int64_t last_used, int64_t *matched)
{
    return tp_totp_verify(rfc_secret, RFC_LEN, code, code ? strlen(code) : 0, now, last_used,
                          matched);
}

#define NOW 1111111111 /* step 37037037 */

static void verify_accepts_the_current_step_and_one_either_side(void **state)
{
    (void)state;
    int64_t s = tp_totp_step(NOW);
    char code[7];
    for (int64_t d = -1; d <= 1; d++) {
        int64_t matched = -42;
        code_of(s + d, code);
        assert_int_equal(verify(code, NOW, -1, &matched), TP_OK);
        assert_int_equal(matched, s + d);
    }
    /* Anywhere within the current step. */
    int64_t matched = -42;
    code_of(s, code);
    assert_int_equal(verify(code, s * 30, -1, &matched), TP_OK);
    assert_int_equal(verify(code, s * 30 + 29, -1, &matched), TP_OK);
    assert_int_equal(matched, s);
}

static void verify_refuses_two_steps_away(void **state)
{
    (void)state;
    int64_t s = tp_totp_step(NOW);
    char code[7];
    for (int64_t d = -3; d <= 3; d += 1) {
        if (d >= -1 && d <= 1)
            continue;
        int64_t matched = -42;
        code_of(s + d, code);
        assert_int_equal(verify(code, NOW, -1, &matched), TP_ERR_AUTH);
        assert_int_equal(matched, -42);
    }
}

static void verify_refuses_the_same_step_twice(void **state)
{
    (void)state;
    int64_t s = tp_totp_step(NOW), matched = -42;
    char code[7];
    code_of(s, code);
    assert_int_equal(verify(code, NOW, -1, &matched), TP_OK);
    assert_int_equal(matched, s);
    int64_t again = -42;
    assert_int_equal(verify(code, NOW, matched, &again), TP_ERR_AUTH);
    assert_int_equal(verify(code, NOW + 30, matched, &again), TP_ERR_AUTH); /* still in window */
    assert_int_equal(again, -42);
    /* The next step's code is still good. */
    code_of(s + 1, code);
    assert_int_equal(verify(code, NOW + 30, matched, &again), TP_OK);
    assert_int_equal(again, s + 1);
}

static void verify_refuses_an_older_step_after_a_newer_one(void **state)
{
    (void)state;
    int64_t s = tp_totp_step(NOW), matched = -42;
    char newer[7], older[7];
    code_of(s + 1, newer); /* a phone a little ahead */
    code_of(s, older);
    assert_int_equal(verify(newer, NOW, -1, &matched), TP_OK);
    assert_int_equal(matched, s + 1);
    int64_t m2 = -42;
    assert_int_equal(verify(older, NOW, matched, &m2), TP_ERR_AUTH);
    code_of(s - 1, older);
    assert_int_equal(verify(older, NOW, matched, &m2), TP_ERR_AUTH);
    assert_int_equal(m2, -42);
}

/* Rare (10^-6 per pair) but real: two steps of the window with the same code. The latest is
 * taken, so that the replay rule then covers both. Found by search for the RFC secret. */
static void verify_takes_the_latest_of_two_matching_steps(void **state)
{
    (void)state;
    char a[7], b[7];
    int64_t s = 37079356, matched = -42; /* steps s and s+1 both give 186519 */
    code_of(s, a);
    code_of(s + 1, b);
    assert_string_equal(a, "186519");
    assert_string_equal(b, "186519");
    assert_int_equal(verify(a, s * 30, -1, &matched), TP_OK);
    assert_int_equal(matched, s + 1);
    assert_int_equal(verify(a, s * 30, matched, &matched), TP_ERR_AUTH);
    assert_int_equal(verify(a, (s + 1) * 30, s, &matched), TP_OK);
    assert_int_equal(matched, s + 1);
    s = 37353814; /* steps s and s+2 both give 137227 */
    code_of(s, a);
    code_of(s + 2, b);
    assert_string_equal(a, "137227");
    assert_string_equal(b, "137227");
    assert_int_equal(verify(a, (s + 1) * 30, -1, &matched), TP_OK);
    assert_int_equal(matched, s + 2);
}

static void verify_refuses_malformed_codes(void **state)
{
    (void)state;
    int64_t s = tp_totp_step(NOW), matched = -42;
    char good[7], buf[16];
    code_of(s, good);
    const char *bad[] = {"",
                         "1",
                         "12345",
                         "1234567",
                         "12345a",
                         "a12345",
                         "      ",
                         "+12345",
                         "-12345",
                         "12 345",
                         "１２３４５６" /* full-width digits */,
                         "\xd9\xa1\xd9\xa2\xd9\xa3" /* 6 bytes: Arabic-Indic 1 2 3 */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(verify(bad[i], NOW, -1, &matched), TP_ERR_AUTH);
    assert_int_equal(verify(NULL, NOW, -1, &matched), TP_ERR_AUTH);
    /* The good code, but with something around it or a NUL inside. */
    snprintf(buf, sizeof buf, " %s", good);
    assert_int_equal(verify(buf, NOW, -1, &matched), TP_ERR_AUTH);
    snprintf(buf, sizeof buf, "%s ", good);
    assert_int_equal(verify(buf, NOW, -1, &matched), TP_ERR_AUTH);
    snprintf(buf, sizeof buf, "%s0", good);
    assert_int_equal(verify(buf, NOW, -1, &matched), TP_ERR_AUTH);
    assert_int_equal(tp_totp_verify(rfc_secret, RFC_LEN, good, 5, NOW, -1, &matched), TP_ERR_AUTH);
    memcpy(buf, good, 7);
    buf[2] = '\0';
    assert_int_equal(tp_totp_verify(rfc_secret, RFC_LEN, buf, 6, NOW, -1, &matched), TP_ERR_AUTH);
    assert_int_equal(matched, -42);
    /* A time before the epoch has no step. */
    assert_int_equal(verify(good, -1, -1, &matched), TP_ERR_AUTH);
    assert_int_equal(matched, -42);
}

static void verify_near_the_epoch_has_no_step_minus_one(void **state)
{
    (void)state;
    char code[7];
    int64_t matched = -42;
    code_of(0, code);
    assert_int_equal(verify(code, 5, -1, &matched), TP_OK);
    assert_int_equal(matched, 0);
    code_of(1, code);
    assert_int_equal(verify(code, 5, -1, &matched), TP_OK);
    assert_int_equal(matched, 1);
}

static void verify_refuses_weak_or_oversized_secrets(void **state)
{
    (void)state;
    uint8_t big[TP_TOTP_SECRET_MAX + 1] = {0};
    int64_t matched = -42;
    assert_int_equal(tp_totp_verify(rfc_secret, 15, "123456", 6, NOW, -1, &matched),
                     TP_ERR_INVALID);
    assert_int_equal(tp_totp_verify(rfc_secret, 0, "123456", 6, NOW, -1, &matched), TP_ERR_INVALID);
    assert_int_equal(tp_totp_verify(big, sizeof big, "123456", 6, NOW, -1, &matched),
                     TP_ERR_INVALID);
    /* The bounds themselves are allowed. */
    char code[7];
    fmt6(tp_totp_code(big, TP_TOTP_SECRET_MAX, (uint64_t)tp_totp_step(NOW), 6), code);
    assert_int_equal(tp_totp_verify(big, TP_TOTP_SECRET_MAX, code, 6, NOW, -1, &matched), TP_OK);
    fmt6(tp_totp_code(rfc_secret, 16, (uint64_t)tp_totp_step(NOW), 6), code);
    assert_int_equal(tp_totp_verify(rfc_secret, 16, code, 6, NOW, -1, &matched), TP_OK);
}

static void new_secrets_are_random(void **state)
{
    (void)state;
    uint8_t a[TP_TOTP_SECRET_LEN], b[TP_TOTP_SECRET_LEN], zero[TP_TOTP_SECRET_LEN] = {0};
    tp_totp_secret_new(a);
    tp_totp_secret_new(b);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    sodium_memzero(a, sizeof a);
    sodium_memzero(b, sizeof b);
}

/* ---- base32 ---- */

static void base32_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10, without the padding (which tp_base32_encode leaves out). */
    static const struct {
        const char *in, *out, *padded;
    } v[] = {
        {"", "", ""},
        {"f", "MY", "MY======"},
        {"fo", "MZXQ", "MZXQ===="},
        {"foo", "MZXW6", "MZXW6==="},
        {"foob", "MZXW6YQ", "MZXW6YQ="},
        {"fooba", "MZXW6YTB", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
    };
    char text[32];
    uint8_t bin[16];
    size_t n;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].in);
        assert_int_equal(tp_base32_len(len), strlen(v[i].out));
        assert_int_equal(tp_base32_encode((const uint8_t *)v[i].in, len, text, sizeof text), TP_OK);
        assert_string_equal(text, v[i].out);
        assert_int_equal(tp_base32_decode(v[i].out, strlen(v[i].out), bin, sizeof bin, &n), TP_OK);
        assert_int_equal(n, len);
        assert_memory_equal(bin, v[i].in, len);
        assert_int_equal(tp_base32_decode(v[i].padded, strlen(v[i].padded), bin, sizeof bin, &n),
                         TP_OK);
        assert_int_equal(n, len);
        assert_memory_equal(bin, v[i].in, len);
    }
    /* The RFC 6238 secret, as authenticator apps get it. */
    assert_int_equal(tp_base32_encode(rfc_secret, RFC_LEN, text, sizeof text), TP_ERR_TOO_BIG);
    char secret_text[TP_TOTP_BASE32_MAX];
    assert_int_equal(tp_base32_encode(rfc_secret, RFC_LEN, secret_text, sizeof secret_text), TP_OK);
    assert_string_equal(secret_text, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

static void base32_decode_accepts_lower_case(void **state)
{
    (void)state;
    uint8_t bin[8];
    size_t n;
    assert_int_equal(tp_base32_decode("mzxw6ytboi", 10, bin, sizeof bin, &n), TP_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(bin, "foobar", 6);
    assert_int_equal(tp_base32_decode("MzXw6YtBoI", 10, bin, sizeof bin, &n), TP_OK);
    assert_memory_equal(bin, "foobar", 6);
}

static void base32_decode_refuses_malformed_text(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "M",         "MZX",        "MZXW6Y",        /* lengths that cannot end a block */
        "MZ",        "MZXR",       "MZXW7",         /* non-zero trailing bits (non-canonical) */
        "MY=",       "MY=====",    "MY=======",     /* padding of the wrong length */
        "MZXW6====", "M=======",   "MY==MY==",      /* ... or in the middle */
        "M1======",  "MZ XW6Y",    "mzxw6yt0",      /* outside the alphabet: 1, space, 0 */
        "MZXW6YT8",  "MZXW\x00YQ", "MZXW6\xc3\x89", /* 8, NUL, UTF-8 */
    };
    uint8_t bin[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]), n = 99;
        if (i == 16)
            len = 7; /* the embedded NUL */
        memset(bin, 0xAA, sizeof bin);
        assert_int_equal(tp_base32_decode(bad[i], len, bin, sizeof bin, &n), TP_ERR_INVALID);
        assert_int_equal(n, 0);
    }
    size_t n = 99;
    assert_int_equal(tp_base32_decode("MZXW6YTBOI", 10, bin, 5, &n), TP_ERR_TOO_BIG);
    assert_int_equal(n, 0);
}

static void base32_round_trip(void **state)
{
    (void)state;
    uint8_t in[TP_TOTP_SECRET_MAX], back[TP_TOTP_SECRET_MAX];
    char text[TP_TOTP_BASE32_MAX];
    for (size_t len = 0; len <= sizeof in; len++) {
        randombytes_buf(in, len);
        assert_int_equal(tp_base32_encode(in, len, text, sizeof text), TP_OK);
        assert_int_equal(strlen(text), tp_base32_len(len));
        size_t n;
        assert_int_equal(tp_base32_decode(text, strlen(text), back, sizeof back, &n), TP_OK);
        assert_int_equal(n, len);
        assert_memory_equal(back, in, len);
        /* One byte short of room is refused, exactly enough is fine. */
        assert_int_equal(tp_base32_encode(in, len, text, tp_base32_len(len)), TP_ERR_TOO_BIG);
        assert_string_equal(text, "");
    }
}

/* ---- Enrolment URI ---- */

static void uri_escapes_issuer_and_account(void **state)
{
    (void)state;
    char uri[TP_TOTP_URI_MAX];
    assert_int_equal(
        tp_totp_uri("ACME Santé", "alice@example.fr", rfc_secret, RFC_LEN, uri, sizeof uri), TP_OK);
    assert_string_equal(uri, "otpauth://totp/ACME%20Sant%C3%A9:alice%40example.fr"
                             "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Sant%C3%A9"
                             "&algorithm=SHA1&digits=6&period=30");
    assert_int_equal(
        tp_totp_uri("opentp", "a+b/c?d&e=f#g%h~i.j_k-l", rfc_secret, RFC_LEN, uri, sizeof uri),
        TP_OK);
    assert_string_equal(uri, "otpauth://totp/opentp:a%2Bb%2Fc%3Fd%26e%3Df%23g%25h~i.j_k-l"
                             "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=opentp"
                             "&algorithm=SHA1&digits=6&period=30");
}

static void uri_refuses_bad_labels_and_small_buffers(void **state)
{
    (void)state;
    char uri[TP_TOTP_URI_MAX], label[TP_TOTP_LABEL_MAX + 2];
    assert_int_equal(tp_totp_uri("ACME:2", "alice", rfc_secret, RFC_LEN, uri, sizeof uri),
                     TP_ERR_INVALID);
    assert_string_equal(uri, "");
    assert_int_equal(tp_totp_uri("ACME", "al:ice", rfc_secret, RFC_LEN, uri, sizeof uri),
                     TP_ERR_INVALID);
    assert_int_equal(tp_totp_uri("", "alice", rfc_secret, RFC_LEN, uri, sizeof uri),
                     TP_ERR_INVALID);
    assert_int_equal(tp_totp_uri("ACME", "", rfc_secret, RFC_LEN, uri, sizeof uri), TP_ERR_INVALID);
    assert_int_equal(tp_totp_uri("ACME", "al\nice", rfc_secret, RFC_LEN, uri, sizeof uri),
                     TP_ERR_INVALID);
    assert_int_equal(tp_totp_uri("AC\x7f", "alice", rfc_secret, RFC_LEN, uri, sizeof uri),
                     TP_ERR_INVALID);
    assert_int_equal(tp_totp_uri("ACME", "alice", rfc_secret, 0, uri, sizeof uri), TP_ERR_INVALID);
    memset(label, 'x', sizeof label - 1);
    label[sizeof label - 1] = '\0';
    assert_int_equal(tp_totp_uri(label, "alice", rfc_secret, RFC_LEN, uri, sizeof uri),
                     TP_ERR_TOO_BIG);
    /* The worst case fits TP_TOTP_URI_MAX: longest labels, all escaped, longest secret. */
    uint8_t big[TP_TOTP_SECRET_MAX] = {0};
    memset(label, '%', TP_TOTP_LABEL_MAX);
    label[TP_TOTP_LABEL_MAX] = '\0';
    assert_int_equal(tp_totp_uri(label, label, big, sizeof big, uri, sizeof uri), TP_OK);
    size_t full = strlen(uri);
    assert_true(full < TP_TOTP_URI_MAX);
    /* One byte short of the exact length is refused, and leaves no partial secret behind. */
    char small[sizeof uri];
    assert_int_equal(tp_totp_uri(label, label, big, sizeof big, small, full), TP_ERR_TOO_BIG);
    assert_string_equal(small, "");
    assert_null(memchr(small, 'A', full)); /* the all-zero secret is "AAAA..." in base32 */
    assert_int_equal(tp_totp_uri(label, label, big, sizeof big, small, full + 1), TP_OK);
    assert_string_equal(small, uri);
}

/* ---- QR code ---- */

/* Parses the SVG produced by tp_totp_qr_svg into a size x size grid of dark (1) modules. */
static unsigned char *svg_modules(const char *svg, unsigned *size)
{
    unsigned w, h;
    const char *vb = strstr(svg, "viewBox=\"0 0 ");
    assert_non_null(vb);
    assert_int_equal(sscanf(vb, "viewBox=\"0 0 %u %u\"", &w, &h), 2);
    assert_int_equal(w, h);
    *size = w;
    const char *path = strstr(svg, "<path");
    assert_non_null(path);
    assert_null(strstr(path + 1, "<path")); /* exactly one path */
    const char *d = strstr(path, " d=\"");
    assert_non_null(d);
    d += 4;
    unsigned char *grid = calloc((size_t)w * w, 1);
    assert_non_null(grid);
    while (*d == 'M') {
        unsigned x, y, n, n2;
        int used = 0;
        assert_int_equal(sscanf(d, "M%u %uh%uv1h-%uz%n", &x, &y, &n, &n2, &used), 4);
        assert_true(used > 0);
        assert_int_equal(n, n2);
        assert_true(n >= 1 && x + n <= w && y < w);
        for (unsigned i = 0; i < n; i++) {
            assert_int_equal(grid[y * w + x + i], 0); /* no overlap */
            grid[y * w + x + i] = 1;
        }
        d += used;
    }
    assert_string_equal(d, "\"/></svg>");
    return grid;
}

static void qr_svg_is_well_formed_and_decodes_to_the_symbol(void **state)
{
    (void)state;
    char uri[TP_TOTP_URI_MAX];
    assert_int_equal(
        tp_totp_uri("opentp", "alice@example.fr", rfc_secret, RFC_LEN, uri, sizeof uri), TP_OK);
    char *svg = NULL;
    size_t len = 0;
    assert_int_equal(tp_totp_qr_svg(uri, &svg, &len), TP_OK);
    assert_non_null(svg);
    assert_int_equal(strlen(svg), len);
    assert_memory_equal(svg, "<svg", 4);
    assert_non_null(strstr(svg, "viewBox"));
    assert_string_equal(svg + len - 6, "</svg>");

    QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    assert_non_null(qr);
    unsigned size;
    unsigned char *grid = svg_modules(svg, &size);
    assert_int_equal(size, 4 * 2 + 21 + 4 * (qr->version - 1));
    assert_int_equal((unsigned)qr->width + 8, size);
    for (unsigned y = 0; y < size; y++)
        for (unsigned x = 0; x < size; x++) {
            int inside = x >= 4 && y >= 4 && x < size - 4 && y < size - 4;
            int dark = inside && (qr->data[(y - 4) * (unsigned)qr->width + (x - 4)] & 1);
            assert_int_equal(grid[y * size + x], dark);
        }
    /* The top-left finder pattern: a dark 7x7 ring, light ring, dark 3x3 core. */
    for (unsigned y = 0; y < 7; y++)
        for (unsigned x = 0; x < 7; x++) {
            int ring = x == 0 || y == 0 || x == 6 || y == 6;
            int core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
            assert_int_equal(grid[(y + 4) * size + x + 4], ring || core);
        }
    QRcode_free(qr);
    free(grid);
    sodium_memzero(svg, len);
    free(svg);
}

static void qr_svg_refuses_empty_and_oversized_input(void **state)
{
    (void)state;
    char *svg = (char *)1;
    size_t len = 7;
    assert_int_equal(tp_totp_qr_svg("", &svg, &len), TP_ERR_INVALID);
    assert_null(svg);
    assert_int_equal(len, 0);
    char *big = malloc(TP_TOTP_URI_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', TP_TOTP_URI_MAX);
    big[TP_TOTP_URI_MAX] = '\0';
    assert_int_equal(tp_totp_qr_svg(big, &svg, NULL), TP_ERR_TOO_BIG);
    assert_null(svg);
    /* The longest accepted URI fits a QR code (version ≤ 40 at level M holds 2331 bytes). */
    big[TP_TOTP_URI_MAX - 1] = '\0';
    assert_int_equal(tp_totp_qr_svg(big, &svg, &len), TP_OK);
    assert_int_equal(strlen(svg), len);
    free(svg);
    free(big);
}

/* ---- Cross-check against oathtool ---- */

static void agrees_with_oathtool(void **state)
{
    (void)state;
    if (system("command -v oathtool >/dev/null 2>&1") != 0) {
        print_message("oathtool not installed (scripts/deps.sh test installs it): cross-check "
                      "skipped\n");
        skip();
    }
    for (int i = 0; i < 20; i++) {
        uint8_t secret[TP_TOTP_SECRET_LEN];
        char b32[TP_TOTP_BASE32_MAX], cmd[256], out[32] = "", mine[7];
        uint64_t r;
        tp_totp_secret_new(secret);
        randombytes_buf(&r, sizeof r);
        int64_t t = (int64_t)(r % 20000000001u); /* up to RFC 6238's last vector, year 2603 */
        assert_int_equal(tp_base32_encode(secret, sizeof secret, b32, sizeof b32), TP_OK);
        snprintf(cmd, sizeof cmd, "oathtool --totp -b %s --now @%" PRId64 " 2>/dev/null", b32, t);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(out, sizeof out, p));
        assert_int_equal(pclose(p), 0);
        out[strcspn(out, "\n")] = '\0';
        fmt6(tp_totp_code(secret, sizeof secret, (uint64_t)tp_totp_step(t), 6), mine);
        assert_string_equal(out, mine);
        int64_t matched = -42;
        assert_int_equal(tp_totp_verify(secret, sizeof secret, out, strlen(out), t, -1, &matched),
                         TP_OK);
        assert_true(matched >= tp_totp_step(t) && matched <= tp_totp_step(t) + 1);
        sodium_memzero(secret, sizeof secret);
        sodium_memzero(b32, sizeof b32);
        sodium_memzero(cmd, sizeof cmd);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6238_appendix_b_sha1_8_digits),
        cmocka_unit_test(rfc6238_appendix_b_sha1_6_digits),
        cmocka_unit_test(rfc6238_steps_are_floor_of_time_over_30),
        cmocka_unit_test(rfc4226_appendix_d_hotp),
        cmocka_unit_test(verify_accepts_the_current_step_and_one_either_side),
        cmocka_unit_test(verify_refuses_two_steps_away),
        cmocka_unit_test(verify_refuses_the_same_step_twice),
        cmocka_unit_test(verify_refuses_an_older_step_after_a_newer_one),
        cmocka_unit_test(verify_takes_the_latest_of_two_matching_steps),
        cmocka_unit_test(verify_refuses_malformed_codes),
        cmocka_unit_test(verify_near_the_epoch_has_no_step_minus_one),
        cmocka_unit_test(verify_refuses_weak_or_oversized_secrets),
        cmocka_unit_test(new_secrets_are_random),
        cmocka_unit_test(base32_rfc4648_vectors),
        cmocka_unit_test(base32_decode_accepts_lower_case),
        cmocka_unit_test(base32_decode_refuses_malformed_text),
        cmocka_unit_test(base32_round_trip),
        cmocka_unit_test(uri_escapes_issuer_and_account),
        cmocka_unit_test(uri_refuses_bad_labels_and_small_buffers),
        cmocka_unit_test(qr_svg_is_well_formed_and_decodes_to_the_symbol),
        cmocka_unit_test(qr_svg_refuses_empty_and_oversized_input),
        cmocka_unit_test(agrees_with_oathtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
