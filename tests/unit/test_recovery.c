/* Recovery codes (src/security/recovery.h): format, uniqueness, forgiving input, keyed hashes,
 * constant-time lookup of the matched index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "security/recovery.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint8_t key[TP_RECOVERY_KEY_LEN];
static char codes[TP_RECOVERY_COUNT][TP_RECOVERY_CODE_SIZE];
static uint8_t hashes[TP_RECOVERY_COUNT][TP_RECOVERY_HASH_LEN];

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(key, sizeof key);
    tp_recovery_generate(key, TP_RECOVERY_COUNT, codes, hashes);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sodium_memzero(key, sizeof key);
    sodium_memzero(codes, sizeof codes);
    return 0;
}

static enum tp_err verify(const char *input, size_t *matched)
{
    return tp_recovery_verify(key, input, strlen(input),
                              (const uint8_t(*)[TP_RECOVERY_HASH_LEN])hashes, TP_RECOVERY_COUNT,
                              matched);
}

static void codes_are_two_groups_of_five_unambiguous_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < TP_RECOVERY_COUNT; i++) {
        assert_int_equal(strlen(codes[i]), TP_RECOVERY_CODE_LEN);
        for (size_t k = 0; k < TP_RECOVERY_CODE_LEN; k++) {
            if (k == 5) {
                assert_int_equal(codes[i][k], '-');
                continue;
            }
            assert_non_null(strchr(crockford, codes[i][k]));
            assert_null(strchr("ILOU", codes[i][k]));
        }
    }
}

static void codes_and_hashes_are_distinct(void **state)
{
    (void)state;
    for (size_t i = 0; i < TP_RECOVERY_COUNT; i++)
        for (size_t j = i + 1; j < TP_RECOVERY_COUNT; j++) {
            assert_string_not_equal(codes[i], codes[j]);
            assert_memory_not_equal(hashes[i], hashes[j], TP_RECOVERY_HASH_LEN);
        }
    /* Another set is another set. */
    char other[TP_RECOVERY_COUNT][TP_RECOVERY_CODE_SIZE];
    uint8_t other_h[TP_RECOVERY_COUNT][TP_RECOVERY_HASH_LEN];
    tp_recovery_generate(key, TP_RECOVERY_COUNT, other, other_h);
    for (size_t i = 0; i < TP_RECOVERY_COUNT; i++)
        for (size_t j = 0; j < TP_RECOVERY_COUNT; j++)
            assert_string_not_equal(codes[i], other[j]);
    sodium_memzero(other, sizeof other);
}

static void generated_hash_is_the_hash_of_the_code(void **state)
{
    (void)state;
    uint8_t h[TP_RECOVERY_HASH_LEN];
    for (size_t i = 0; i < TP_RECOVERY_COUNT; i++) {
        assert_int_equal(tp_recovery_hash(key, codes[i], strlen(codes[i]), h), TP_OK);
        assert_memory_equal(h, hashes[i], sizeof h);
    }
}

static void every_code_matches_its_own_index(void **state)
{
    (void)state;
    for (size_t i = 0; i < TP_RECOVERY_COUNT; i++) {
        size_t m = 999;
        assert_int_equal(verify(codes[i], &m), TP_OK);
        assert_int_equal(m, i);
    }
}

static void input_is_normalised(void **state)
{
    (void)state;
    const char *c = codes[3];
    char buf[64];
    size_t m;
    /* Lower case. */
    for (size_t k = 0; k <= TP_RECOVERY_CODE_LEN; k++)
        buf[k] = (char)tolower((unsigned char)c[k]);
    m = 999;
    assert_int_equal(verify(buf, &m), TP_OK);
    assert_int_equal(m, 3);
    /* No dash. */
    snprintf(buf, sizeof buf, "%.5s%.5s", c, c + 6);
    m = 999;
    assert_int_equal(verify(buf, &m), TP_OK);
    assert_int_equal(m, 3);
    /* Spaces and dashes anywhere, as people type or paste. */
    snprintf(buf, sizeof buf, "  %.2s - %.3s %.5s- ", c, c + 2, c + 6);
    m = 999;
    assert_int_equal(verify(buf, &m), TP_OK);
    assert_int_equal(m, 3);
}

static void confusable_letters_read_as_digits(void **state)
{
    (void)state;
    uint8_t a[TP_RECOVERY_HASH_LEN], b[TP_RECOVERY_HASH_LEN];
    assert_int_equal(tp_recovery_hash(key, "01234-56789", 11, a), TP_OK);
    assert_int_equal(tp_recovery_hash(key, "oI234-56789", 11, b), TP_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(tp_recovery_hash(key, "OL234 56789", 11, b), TP_OK);
    assert_memory_equal(a, b, sizeof a);
}

static void wrong_or_malformed_codes_are_refused(void **state)
{
    (void)state;
    char buf[TP_RECOVERY_INPUT_MAX + 16];
    size_t m = 999;
    /* One character changed (to another alphabet symbol). */
    memcpy(buf, codes[0], TP_RECOVERY_CODE_SIZE);
    buf[0] = buf[0] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(buf, &m), TP_ERR_AUTH);
    const char *bad[] = {"",
                         "-",
                         "ABCDE",
                         "ABCDE-FGHJ",
                         "ABCDE-FGHJKM",
                         "ABCDE-FGHJU",
                         "ABCDE_FGHJK",
                         "ABCDE\tFGHJK",
                         "ABCDÉ-FGHJK"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(verify(bad[i], &m), TP_ERR_AUTH);
    /* The right code with something more. */
    snprintf(buf, sizeof buf, "%sA", codes[0]);
    assert_int_equal(verify(buf, &m), TP_ERR_AUTH);
    /* The right code, padded past the input cap. */
    memset(buf, ' ', sizeof buf);
    memcpy(buf, codes[0], TP_RECOVERY_CODE_LEN);
    assert_int_equal(tp_recovery_verify(key, buf, TP_RECOVERY_INPUT_MAX + 1,
                                        (const uint8_t(*)[TP_RECOVERY_HASH_LEN])hashes,
                                        TP_RECOVERY_COUNT, &m),
                     TP_ERR_AUTH);
    assert_int_equal(tp_recovery_verify(key, buf, TP_RECOVERY_INPUT_MAX,
                                        (const uint8_t(*)[TP_RECOVERY_HASH_LEN])hashes,
                                        TP_RECOVERY_COUNT, &m),
                     TP_OK);
    assert_int_equal(m, 0);
    m = 999;
    assert_int_equal(tp_recovery_verify(key, NULL, 0,
                                        (const uint8_t(*)[TP_RECOVERY_HASH_LEN])hashes,
                                        TP_RECOVERY_COUNT, &m),
                     TP_ERR_AUTH);
    assert_int_equal(m, 999);
    uint8_t h[TP_RECOVERY_HASH_LEN];
    memset(h, 0xAA, sizeof h);
    assert_int_equal(tp_recovery_hash(key, "ABCDE", 5, h), TP_ERR_INVALID);
    uint8_t zero[TP_RECOVERY_HASH_LEN] = {0};
    assert_memory_equal(h, zero, sizeof h);
}

static void hashes_are_keyed(void **state)
{
    (void)state;
    uint8_t other[TP_RECOVERY_KEY_LEN];
    memcpy(other, key, sizeof other);
    other[0] ^= 1;
    size_t m = 999;
    assert_int_equal(tp_recovery_verify(other, codes[0], strlen(codes[0]),
                                        (const uint8_t(*)[TP_RECOVERY_HASH_LEN])hashes,
                                        TP_RECOVERY_COUNT, &m),
                     TP_ERR_AUTH);
    assert_int_equal(m, 999);
}

static void single_use_is_the_callers_but_the_index_says_which(void **state)
{
    (void)state;
    /* The caller consumes the matched hash; with it removed, the same code no longer works
     * and the others keep their (shifted) positions. */
    uint8_t left[TP_RECOVERY_COUNT - 1][TP_RECOVERY_HASH_LEN];
    size_t m = 999;
    assert_int_equal(verify(codes[4], &m), TP_OK);
    assert_int_equal(m, 4);
    size_t n = 0;
    for (size_t i = 0; i < TP_RECOVERY_COUNT; i++)
        if (i != m)
            memcpy(left[n++], hashes[i], TP_RECOVERY_HASH_LEN);
    m = 999;
    assert_int_equal(tp_recovery_verify(key, codes[4], strlen(codes[4]),
                                        (const uint8_t(*)[TP_RECOVERY_HASH_LEN])left, n, &m),
                     TP_ERR_AUTH);
    assert_int_equal(m, 999);
    assert_int_equal(tp_recovery_verify(key, codes[7], strlen(codes[7]),
                                        (const uint8_t(*)[TP_RECOVERY_HASH_LEN])left, n, &m),
                     TP_OK);
    assert_int_equal(m, 6);
    /* An empty list matches nothing. */
    m = 999;
    assert_int_equal(tp_recovery_verify(key, codes[7], strlen(codes[7]), NULL, 0, &m), TP_ERR_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_are_two_groups_of_five_unambiguous_characters),
        cmocka_unit_test(codes_and_hashes_are_distinct),
        cmocka_unit_test(generated_hash_is_the_hash_of_the_code),
        cmocka_unit_test(every_code_matches_its_own_index),
        cmocka_unit_test(input_is_normalised),
        cmocka_unit_test(confusable_letters_read_as_digits),
        cmocka_unit_test(wrong_or_malformed_codes_are_refused),
        cmocka_unit_test(hashes_are_keyed),
        cmocka_unit_test(single_use_is_the_callers_but_the_index_says_which),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
