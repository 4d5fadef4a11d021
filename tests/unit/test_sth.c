/* Signed tree heads (src/audit/sth.h): key derivation (RFC 8032 §7.1 test 1), the canonical
 * message, a signature pinned against OpenSSL (an independent Ed25519), tampering with every
 * signed bit, the text form and its strict parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/sth.h"

/* RFC 8032 §7.1, TEST 1: secret key (our seed) and public key. */
#define RFC8032_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC8032_PK "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
/* The root of the 8-leaf reference tree (RFC 6962 test data, see test_merkle.c). */
#define ROOT8 "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
/* The message of (8, 1700000000000, ROOT8) and its signature with the RFC 8032 key, made
 * with OpenSSL 3: `openssl pkeyutl -sign -inkey k.pem -rawin -in msg.bin`. */
#define MSG8                                                                                       \
    "6f70656e74702d7374682076310000000000000000080000018bcfe568005dc9da79a70659a9ad559cb701ded9"   \
    "a2ab9d823aad2f4960cfe370eff4604328"
#define SIG8                                                                                       \
    "698ce14cf258a15b576a2dc729dc2c9bf63e0a75602452d518cceb208491fe86742bb489d5b08767c62e38cc34"   \
    "47ff3f00fa994095fe4c7ab6422a2a8bc1320b"
#define TEXT8 "opentp-sth v1 8 1700000000000 " ROOT8 " " SIG8

static void unhex(const char *hex, uint8_t *out, size_t len)
{
    size_t n = 0;
    assert_int_equal(strlen(hex), 2 * len);
    assert_int_equal(sodium_hex2bin(out, len, hex, 2 * len, NULL, &n, NULL), 0);
    assert_int_equal(n, len);
}

struct keys {
    uint8_t pk[TP_STH_PUBLIC_KEY_LEN];
    uint8_t sk[TP_STH_SECRET_KEY_LEN];
};

static void rfc8032_keys(struct keys *k)
{
    uint8_t seed[TP_STH_SEED_LEN];
    unhex(RFC8032_SEED, seed, sizeof seed);
    assert_int_equal(tp_sth_keypair_from_seed(seed, k->pk, k->sk), TP_OK);
    sodium_memzero(seed, sizeof seed);
}

static struct tp_sth head8(void)
{
    struct tp_sth sth = {.tree_size = 8, .timestamp_ms = 1700000000000};
    unhex(ROOT8, sth.root.b, sizeof sth.root.b);
    return sth;
}

static void keypair_from_the_rfc8032_seed(void **state)
{
    (void)state;
    struct keys k;
    uint8_t want[TP_STH_PUBLIC_KEY_LEN];
    rfc8032_keys(&k);
    unhex(RFC8032_PK, want, sizeof want);
    assert_memory_equal(k.pk, want, sizeof want);
    sodium_memzero(&k, sizeof k);
}

static void message_is_prefix_and_big_endian_fields(void **state)
{
    (void)state;
    struct tp_sth sth = head8();
    uint8_t msg[TP_STH_MESSAGE_LEN], want[TP_STH_MESSAGE_LEN];
    assert_int_equal(tp_sth_message(&sth, msg), TP_OK);
    unhex(MSG8, want, sizeof want);
    assert_memory_equal(msg, want, sizeof want);
    assert_memory_equal(msg, "opentp-sth v1\0", 14);
    /* The signature is not part of the message. */
    memset(sth.signature, 0xab, sizeof sth.signature);
    assert_int_equal(tp_sth_message(&sth, msg), TP_OK);
    assert_memory_equal(msg, want, sizeof want);
    sth.tree_size = TP_MERKLE_SIZE_MAX + 1;
    assert_int_equal(tp_sth_message(&sth, msg), TP_ERR_INVALID);
}

static void signature_agrees_with_openssl(void **state)
{
    (void)state;
    struct keys k;
    rfc8032_keys(&k);
    struct tp_sth sth = head8();
    uint8_t want[TP_STH_SIG_LEN];
    assert_int_equal(tp_sth_sign(&sth, k.sk), TP_OK);
    unhex(SIG8, want, sizeof want);
    assert_memory_equal(sth.signature, want, sizeof want);
    assert_int_equal(tp_sth_verify(&sth, k.pk), TP_OK);
    char text[TP_STH_TEXT_MAX];
    assert_int_equal(tp_sth_format(&sth, text, sizeof text), TP_OK);
    assert_string_equal(text, TEXT8);
    sodium_memzero(&k, sizeof k);
}

static void sign_and_verify_round_trip(void **state)
{
    (void)state;
    struct keys k;
    assert_int_equal(crypto_sign_keypair(k.pk, k.sk), 0);
    static const uint64_t sizes[] = {0, 1, 7, 1u << 20, TP_MERKLE_SIZE_MAX - 1, TP_MERKLE_SIZE_MAX};
    static const uint64_t times[] = {0, 1700000000000, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof times / sizeof times[0]; j++) {
            struct tp_sth sth = {.tree_size = sizes[i], .timestamp_ms = times[j]};
            randombytes_buf(sth.root.b, sizeof sth.root.b);
            assert_int_equal(tp_sth_sign(&sth, k.sk), TP_OK);
            assert_int_equal(tp_sth_verify(&sth, k.pk), TP_OK);
            /* Deterministic: signing again gives the same bytes. */
            struct tp_sth again = sth;
            assert_int_equal(tp_sth_sign(&again, k.sk), TP_OK);
            assert_memory_equal(again.signature, sth.signature, TP_STH_SIG_LEN);
        }
    sodium_memzero(&k, sizeof k);
}

static void any_flipped_bit_fails_verification(void **state)
{
    (void)state;
    struct keys k;
    rfc8032_keys(&k);
    struct tp_sth good = head8(), t;
    assert_int_equal(tp_sth_sign(&good, k.sk), TP_OK);
    for (unsigned bit = 0; bit < 64; bit++) {
        t = good;
        t.tree_size ^= UINT64_C(1) << bit;
        /* Bit 63 makes the size exceed the cap: refused as invalid rather than forged. */
        assert_int_equal(tp_sth_verify(&t, k.pk), bit == 63 ? TP_ERR_INVALID : TP_ERR_CRYPTO);
        t = good;
        t.timestamp_ms ^= UINT64_C(1) << bit;
        assert_int_equal(tp_sth_verify(&t, k.pk), TP_ERR_CRYPTO);
    }
    for (unsigned bit = 0; bit < 8 * TP_MERKLE_HASH_LEN; bit++) {
        t = good;
        t.root.b[bit / 8] ^= (uint8_t)(1u << bit % 8);
        assert_int_equal(tp_sth_verify(&t, k.pk), TP_ERR_CRYPTO);
    }
    for (unsigned bit = 0; bit < 8 * TP_STH_SIG_LEN; bit++) {
        t = good;
        t.signature[bit / 8] ^= (uint8_t)(1u << bit % 8);
        assert_int_equal(tp_sth_verify(&t, k.pk), TP_ERR_CRYPTO);
    }
    /* Another key; a flipped bit in the key. */
    struct keys other;
    assert_int_equal(crypto_sign_keypair(other.pk, other.sk), 0);
    assert_int_equal(tp_sth_verify(&good, other.pk), TP_ERR_CRYPTO);
    for (unsigned bit = 0; bit < 8 * TP_STH_PUBLIC_KEY_LEN; bit += 7) {
        uint8_t pk[TP_STH_PUBLIC_KEY_LEN];
        memcpy(pk, k.pk, sizeof pk);
        pk[bit / 8] ^= (uint8_t)(1u << bit % 8);
        assert_int_equal(tp_sth_verify(&good, pk), TP_ERR_CRYPTO);
    }
    /* An all-zero signature and key (small order) are refused, not crashed on. */
    t = good;
    memset(t.signature, 0, sizeof t.signature);
    assert_int_equal(tp_sth_verify(&t, k.pk), TP_ERR_CRYPTO);
    uint8_t zero[TP_STH_PUBLIC_KEY_LEN] = {0};
    assert_int_equal(tp_sth_verify(&good, zero), TP_ERR_CRYPTO);
    sodium_memzero(&k, sizeof k);
    sodium_memzero(&other, sizeof other);
}

static void sizes_above_the_cap_are_refused(void **state)
{
    (void)state;
    struct keys k;
    rfc8032_keys(&k);
    struct tp_sth sth = head8();
    sth.tree_size = TP_MERKLE_SIZE_MAX + 1;
    assert_int_equal(tp_sth_sign(&sth, k.sk), TP_ERR_INVALID);
    assert_int_equal(tp_sth_verify(&sth, k.pk), TP_ERR_INVALID);
    char text[TP_STH_TEXT_MAX] = "x";
    assert_int_equal(tp_sth_format(&sth, text, sizeof text), TP_ERR_INVALID);
    assert_string_equal(text, "");
    sodium_memzero(&k, sizeof k);
}

static void text_form_round_trip(void **state)
{
    (void)state;
    struct keys k;
    rfc8032_keys(&k);
    static const uint64_t sizes[] = {0, 8, TP_MERKLE_SIZE_MAX};
    static const uint64_t times[] = {0, 1700000000000, UINT64_MAX};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            struct tp_sth sth = {.tree_size = sizes[i], .timestamp_ms = times[j]}, back;
            randombytes_buf(sth.root.b, sizeof sth.root.b);
            assert_int_equal(tp_sth_sign(&sth, k.sk), TP_OK);
            char text[TP_STH_TEXT_MAX];
            assert_int_equal(tp_sth_format(&sth, text, sizeof text), TP_OK);
            assert_int_equal(tp_sth_parse(text, strlen(text), &back), TP_OK);
            assert_memory_equal(&back, &sth, sizeof sth);
            assert_int_equal(tp_sth_verify(&back, k.pk), TP_OK);
            /* Exactly enough room, and one byte less. */
            const size_t len = strlen(text);
            char *exact = malloc(len + 1);
            assert_non_null(exact);
            assert_int_equal(tp_sth_format(&sth, exact, len + 1), TP_OK);
            assert_string_equal(exact, text);
            assert_int_equal(tp_sth_format(&sth, exact, len), TP_ERR_TOO_BIG);
            assert_string_equal(exact, "");
            free(exact);
        }
    /* The longest text fits TP_STH_TEXT_MAX. */
    struct tp_sth big = {.tree_size = TP_MERKLE_SIZE_MAX, .timestamp_ms = UINT64_MAX};
    char text[TP_STH_TEXT_MAX];
    assert_int_equal(tp_sth_format(&big, text, sizeof text), TP_OK);
    assert_int_equal(strlen(text), 248);
    struct tp_sth back;
    assert_int_equal(tp_sth_parse(TEXT8, strlen(TEXT8), &back), TP_OK);
    struct tp_sth want = head8();
    unhex(SIG8, want.signature, TP_STH_SIG_LEN);
    assert_memory_equal(&back, &want, sizeof want);
    sodium_memzero(&k, sizeof k);
}

/* TEXT8 with its fields replaced. */
static void text_of(char *out, size_t outsize, const char *head, const char *size, const char *time,
                    const char *root, const char *sig)
{
    int n = snprintf(out, outsize, "%s %s %s %s %s", head, size, time, root, sig);
    assert_true(n > 0 && (size_t)n < outsize);
}

static void expect_invalid(const char *text, size_t len)
{
    struct tp_sth out;
    memset(&out, 0x5a, sizeof out);
    assert_int_equal(tp_sth_parse(text, len, &out), TP_ERR_INVALID);
    static const struct tp_sth zero;
    assert_memory_equal(&out, &zero, sizeof out); /* nothing half-parsed left behind */
}

static void expect_text(const char *text, int ok)
{
    struct tp_sth out;
    if (ok)
        assert_int_equal(tp_sth_parse(text, strlen(text), &out), TP_OK);
    else
        expect_invalid(text, strlen(text));
}

static void parser_refuses_malformed_text(void **state)
{
    (void)state;
    char t[512];
    const char *h = "opentp-sth v1";
    const char *root = ROOT8, *sig = SIG8;
    char root_upper[65], sig_upper[129], root_g[65];
    strcpy(root_upper, ROOT8);
    root_upper[0] = 'D'; /* 5dc9… → Dd… : a letter, upper case */
    root_upper[1] = 'D';
    strcpy(sig_upper, SIG8);
    sig_upper[127] = 'B';
    strcpy(root_g, ROOT8);
    root_g[10] = 'g';

    expect_text(TEXT8, 1);
    expect_invalid("", 0);
    expect_invalid(NULL, 0);
    expect_text("opentp-sth v1", 0);
    expect_text("opentp-sth v1 ", 0);
    /* Version and words. */
    text_of(t, sizeof t, "opentp-sth v2", "8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, "opentp-sth v10", "8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, "OPENTP-STH v1", "8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, "opentp-sth  v1", "8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, "opentp-sth\tv1", "8", "1700000000000", root, sig);
    expect_text(t, 0);
    /* Spaces: doubled, leading, trailing, tabs, line ends. */
    text_of(t, sizeof t, h, " 8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", " 1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", root, " " SIG8);
    expect_text(t, 0);
    expect_text(" " TEXT8, 0);
    expect_text(TEXT8 " ", 0);
    expect_text(TEXT8 "\n", 0);
    expect_text(TEXT8 "\r\n", 0);
    expect_text("opentp-sth v1 8\t1700000000000 " ROOT8 " " SIG8, 0);
    /* Numbers: empty, signs, leading zeros, out of range, not digits. */
    text_of(t, sizeof t, h, "", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "08", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "00", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "0", "0", root, sig);
    expect_text(t, 1);
    text_of(t, sizeof t, h, "8", "01700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "+8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "-8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8a", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "0x8", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "9223372036854775808", "1700000000000", root, sig); /* 2^63 */
    expect_text(t, 1);
    text_of(t, sizeof t, h, "9223372036854775809", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "18446744073709551616", "1700000000000", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "18446744073709551615", root, sig); /* 2^64 - 1 */
    expect_text(t, 1);
    text_of(t, sizeof t, h, "8", "18446744073709551616", root, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "99999999999999999999999", root, sig);
    expect_text(t, 0);
    /* Hex: short, long, upper case, not hex, fields swapped or missing. */
    text_of(t, sizeof t, h, "8", "1700000000000", root + 1, sig); /* 63 digits */
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", ROOT8 "0", sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", root, sig + 1); /* 127 digits */
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", root, SIG8 "0");
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", root_upper, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", root, sig_upper);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", root_g, sig);
    expect_text(t, 0);
    text_of(t, sizeof t, h, "8", "1700000000000", sig, root);
    expect_text(t, 0);
    expect_text("opentp-sth v1 8 1700000000000 " ROOT8, 0);
    expect_text("opentp-sth v1 8 " ROOT8 " " SIG8, 0);
    expect_text(TEXT8 " 0", 0);
    /* An embedded NUL, a length shorter or longer than the text. */
    char nul[300];
    memcpy(nul, TEXT8, sizeof TEXT8);
    nul[40] = '\0';
    expect_invalid(nul, sizeof TEXT8 - 1);
    expect_invalid(TEXT8, sizeof TEXT8 - 2);
    expect_invalid(TEXT8, sizeof TEXT8); /* the NUL counted in */
    /* Every truncation is refused. */
    for (size_t len = 0; len < sizeof TEXT8 - 1; len++)
        expect_invalid(TEXT8, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keypair_from_the_rfc8032_seed),
        cmocka_unit_test(message_is_prefix_and_big_endian_fields),
        cmocka_unit_test(signature_agrees_with_openssl),
        cmocka_unit_test(sign_and_verify_round_trip),
        cmocka_unit_test(any_flipped_bit_fails_verification),
        cmocka_unit_test(sizes_above_the_cap_are_refused),
        cmocka_unit_test(text_form_round_trip),
        cmocka_unit_test(parser_refuses_malformed_text),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
