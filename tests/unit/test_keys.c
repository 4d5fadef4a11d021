/* Personal data at rest: key file handling, blind indexes, sealed identities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "security/keys.h"

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static char dir[64];
static char keypath[128];
static struct tp_keys *keys;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tp_keys_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(keypath, sizeof keypath, "%s/master.key", dir);
    if (tp_keys_create_file(keypath, NULL, 0) != TP_OK)
        return -1;
    return tp_keys_load(keypath, &keys, NULL, 0) == TP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tp_keys_free(keys);
    unlink(keypath);
    rmdir(dir);
    return 0;
}

static void key_file_is_private_and_not_overwritten(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(keypath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char msg[200];
    assert_int_equal(tp_keys_create_file(keypath, msg, sizeof msg), TP_ERR_IO);
}

static void key_file_readable_by_others_is_refused(void **state)
{
    (void)state;
    struct tp_keys *k = NULL;
    char msg[200];
    chmod(keypath, 0644);
    assert_int_equal(tp_keys_load(keypath, &k, msg, sizeof msg), TP_ERR_CRYPTO);
    assert_null(k);
    assert_non_null(strstr(msg, "chmod 600"));
    chmod(keypath, 0600);
}

static void blind_indexes_are_keyed_and_unambiguous(void **state)
{
    (void)state;
    uint8_t a[TP_BIDX_LEN], b[TP_BIDX_LEN], c[TP_BIDX_LEN];
    tp_bidx_card_nir(keys, "123456789", "12", "185057800608491", a);
    tp_bidx_card_nir(keys, "123456789", "12", "185057800608491", b);
    assert_memory_equal(a, b, TP_BIDX_LEN);
    /* Field boundaries matter: ("12","3...") vs ("1","23..."). */
    tp_bidx_member(keys, "123456789", "12", a);
    tp_bidx_member(keys, "12345678", "912", b);
    assert_memory_not_equal(a, b, TP_BIDX_LEN);
    /* Another master key gives unrelated indexes: a stolen database can't be matched against a
     * list of NIRs without the key. */
    char other[160];
    snprintf(other, sizeof other, "%s/other.key", dir);
    struct tp_keys *k2 = NULL;
    assert_int_equal(tp_keys_create_file(other, NULL, 0), TP_OK);
    assert_int_equal(tp_keys_load(other, &k2, NULL, 0), TP_OK);
    tp_bidx_card_nir(k2, "123456789", "12", "185057800608491", c);
    tp_bidx_card_nir(keys, "123456789", "12", "185057800608491", a);
    assert_memory_not_equal(a, c, TP_BIDX_LEN);
    tp_keys_free(k2);
    unlink(other);
    /* Purposes are separated: same inputs, different index families. */
    tp_bidx_card_birth(keys, "123456789", "12", 5000, 1, b);
    tp_bidx_beneficiary_ref(keys, "123456789", "12", 1, c);
    assert_memory_not_equal(b, c, TP_BIDX_LEN);
}

static struct tp_identity sample_identity(void)
{
    struct tp_identity id;
    memset(&id, 0, sizeof id);
    snprintf(id.nir, sizeof id.nir, "%s", "285052A00412345");
    snprintf(id.last_name, sizeof id.last_name, "%s", "Lefèvre");
    snprintf(id.first_name, sizeof id.first_name, "%s", "Hélène");
    id.birth_date = 5600;
    id.birth_rank = 2;
    return id;
}

static void identity_round_trip(void **state)
{
    (void)state;
    struct tp_identity id = sample_identity(), back;
    uint8_t ad[TP_BIDX_LEN] = {1, 2, 3};
    uint8_t sealed[TP_SEALED_MAX];
    size_t n = 0;
    assert_int_equal(tp_identity_seal(keys, &id, ad, sizeof ad, sealed, &n), TP_OK);
    assert_true(n > 0 && n <= TP_SEALED_MAX);
    /* No plaintext in the ciphertext. */
    assert_false(contains(sealed, n, "Lef"));
    assert_false(contains(sealed, n, "285052A"));
    assert_int_equal(tp_identity_open(keys, sealed, n, ad, sizeof ad, &back), TP_OK);
    assert_string_equal(back.nir, id.nir);
    assert_string_equal(back.last_name, id.last_name);
    assert_string_equal(back.first_name, id.first_name);
    assert_int_equal(back.birth_date, id.birth_date);
    assert_int_equal(back.birth_rank, id.birth_rank);
}

static void sealed_identity_is_bound_to_its_row_and_tamper_evident(void **state)
{
    (void)state;
    struct tp_identity id = sample_identity(), back;
    uint8_t ad[TP_BIDX_LEN] = {1}, other_ad[TP_BIDX_LEN] = {2};
    uint8_t sealed[TP_SEALED_MAX];
    size_t n = 0;
    assert_int_equal(tp_identity_seal(keys, &id, ad, sizeof ad, sealed, &n), TP_OK);
    assert_int_equal(tp_identity_open(keys, sealed, n, other_ad, sizeof other_ad, &back),
                     TP_ERR_CRYPTO);
    sealed[n - 1] ^= 1;
    assert_int_equal(tp_identity_open(keys, sealed, n, ad, sizeof ad, &back), TP_ERR_CRYPTO);
    assert_string_equal(back.nir, ""); /* nothing half-decrypted is left behind */
    assert_int_equal(tp_identity_open(keys, sealed, 3, ad, sizeof ad, &back), TP_ERR_CRYPTO);
}

static void two_seals_differ(void **state)
{
    (void)state;
    struct tp_identity id = sample_identity();
    uint8_t ad[TP_BIDX_LEN] = {0};
    uint8_t s1[TP_SEALED_MAX], s2[TP_SEALED_MAX];
    size_t n1, n2;
    assert_int_equal(tp_identity_seal(keys, &id, ad, sizeof ad, s1, &n1), TP_OK);
    assert_int_equal(tp_identity_seal(keys, &id, ad, sizeof ad, s2, &n2), TP_OK);
    assert_int_equal(n1, n2);
    assert_memory_not_equal(s1, s2, n1); /* random nonces */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_file_is_private_and_not_overwritten),
        cmocka_unit_test(key_file_readable_by_others_is_refused),
        cmocka_unit_test(blind_indexes_are_keyed_and_unambiguous),
        cmocka_unit_test(identity_round_trip),
        cmocka_unit_test(sealed_identity_is_bound_to_its_row_and_tamper_evident),
        cmocka_unit_test(two_seals_differ),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
