/* Identifier validators (src/core/validate.h, PRODUCT §4).
 *
 * Known-good values come from public sources where one exists (the NIR examples printed in
 * French mathematics articles, the ISO 13616 / bank-published IBANs, FINESS numbers of
 * public hospitals); the others were computed by hand and cross-checked with an independent
 * implementation (Python). Every call goes through an exactly-sized heap copy so that ASan
 * reports any read past len. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/validate.h"

typedef enum tp_err (*check_fn)(const char *, size_t, char *, size_t);

static char msg[128];

static enum tp_err run(check_fn fn, const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    msg[0] = '\0';
    enum tp_err rc = fn(copy, len, msg, sizeof msg);
    free(copy);
    return rc;
}

static enum tp_err check(check_fn fn, const char *s)
{
    return run(fn, s, strlen(s));
}

#define assert_ok(fn, s) assert_int_equal(check(fn, s), TP_OK)
#define assert_invalid(fn, s)                                                                      \
    do {                                                                                           \
        assert_int_equal(check(fn, s), TP_ERR_INVALID);                                            \
        assert_true(msg[0] != '\0');                                                               \
    } while (0)

static int nir_key(const char *body13)
{
    assert_int_equal(strlen(body13), 13);
    char *copy = malloc(13);
    assert_non_null(copy);
    memcpy(copy, body13, 13);
    int key = tp_nir_key(copy);
    free(copy);
    return key;
}

/* body13 followed by its computed key, for tests about rules other than the key. */
static const char *with_key(const char *body13)
{
    static char buf[16];
    int key = nir_key(body13);
    assert_in_range(key, 1, 97);
    memcpy(buf, body13, 13);
    buf[13] = (char)('0' + key / 10);
    buf[14] = (char)('0' + key % 10);
    buf[15] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------------------- */
/* NIR                                                                                     */

/* 1 85 05 78 006 084 -> 1850578006084 mod 97 = 6, key 91 (the textbook example). */
static void nir_key_of_published_examples(void **state)
{
    (void)state;
    assert_int_equal(nir_key("1850578006084"), 91);
    assert_int_equal(nir_key("1370476243484"), 15); /* 1370476243484 mod 97 = 82 */
    assert_int_equal(nir_key("2620875032039"), 77); /* 2620875032039 mod 97 = 20 */
    assert_ok(tp_nir_check, "185057800608491");
    assert_ok(tp_nir_check, "137047624348415");
    assert_ok(tp_nir_check, "262087503203977");
}

/* A body that is a multiple of 97 has key 97, not 0. */
static void nir_key_of_multiple_of_97_is_97(void **state)
{
    (void)state;
    assert_int_equal(nir_key("1850578006175"), 97); /* 19078123775 * 97 */
    assert_ok(tp_nir_check, "185057800617597");
}

/* PRODUCT §4: 2A is read as 19 and 2B as 18 for the key. Reading them as Corsica's old
 * code "20" gives another key, which must be refused. */
static void nir_corsica_2a_reads_as_19(void **state)
{
    (void)state;
    /* 1800519004005 mod 97 = 66 -> 31; naive 1800520004005 mod 97 = 93 -> 4 */
    assert_int_equal(nir_key("180052A004005"), 31);
    assert_int_equal(nir_key("1800519004005"), 31);
    assert_int_equal(nir_key("1800520004005"), 4);
    assert_ok(tp_nir_check, "180052A00400531");
    assert_invalid(tp_nir_check, "180052A00400504");
}

static void nir_corsica_2b_reads_as_18(void **state)
{
    (void)state;
    /* 2850318050123 mod 97 = 21 -> 76; naive 2850320050123 -> 22 */
    assert_int_equal(nir_key("285032B050123"), 76);
    assert_int_equal(nir_key("2850318050123"), 76);
    assert_int_equal(nir_key("2850320050123"), 22);
    assert_ok(tp_nir_check, "285032B05012376");
    assert_invalid(tp_nir_check, "285032B05012322");
}

/* Letters are Corsica only at characters 6-7: "2A" in the commune, the order number, the
 * year or the key is not a NIR. */
static void nir_2a_outside_department_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(nir_key("18005202A4005"), -1); /* commune */
    assert_int_equal(nir_key("1800520004A05"), -1); /* order */
    assert_int_equal(nir_key("12A0520004005"), -1); /* year */
    assert_int_equal(nir_key("1800A20004005"), -1); /* month */
    assert_int_equal(nir_key("1800522A04005"), -1); /* shifted by one */
    assert_invalid(tp_nir_check, "18005202A400531");
    assert_invalid(tp_nir_check, "1800522A0400531");
    assert_invalid(tp_nir_check, "18005200040052A");
    assert_invalid(tp_nir_check, "180052C00400531"); /* 2C is no department */
    assert_invalid(tp_nir_check, "180052a00400531"); /* canonical form is upper case */
}

static void nir_department_20_is_still_valid(void **state)
{
    (void)state;
    assert_ok(tp_nir_check, with_key("1550120004005")); /* Corsica before 1976 */
    assert_ok(tp_nir_check, with_key("1550199004005")); /* born abroad */
    assert_ok(tp_nir_check, with_key("2550197112005")); /* overseas */
    assert_invalid(tp_nir_check, with_key("1550100004005"));
}

static void nir_sex_digit(void **state)
{
    (void)state;
    static const char ok[] = "123478", bad[] = "0569";
    for (const char *c = ok; *c; c++) {
        char body[14] = "x850578006084";
        body[0] = *c;
        assert_ok(tp_nir_check, with_key(body));
    }
    for (const char *c = bad; *c; c++) {
        char body[14] = "x850578006084";
        body[0] = *c;
        assert_invalid(tp_nir_check, with_key(body));
    }
}

/* 01-12, or the conventions for an unknown month: 20-42 and 50-99. */
static void nir_month_ranges(void **state)
{
    (void)state;
    for (int m = 0; m <= 99; m++) {
        char body[14];
        memcpy(body, "1850078006084", 14);
        body[3] = (char)('0' + m / 10);
        body[4] = (char)('0' + m % 10);
        const int want_ok = (m >= 1 && m <= 12) || (m >= 20 && m <= 42) || m >= 50;
        assert_int_equal(check(tp_nir_check, with_key(body)), want_ok ? TP_OK : TP_ERR_INVALID);
    }
}

static void nir_wrong_key_or_digit_is_rejected(void **state)
{
    (void)state;
    assert_invalid(tp_nir_check, "185057800608490");
    assert_invalid(tp_nir_check, "185057800608400");
    assert_invalid(tp_nir_check, "185057800608498");
    assert_invalid(tp_nir_check, "185057800608591"); /* order 084 -> 085 */
    assert_invalid(tp_nir_check, "185057800680491"); /* adjacent digits swapped */
}

static void nir_length_and_characters(void **state)
{
    (void)state;
    assert_invalid(tp_nir_check, "");
    assert_invalid(tp_nir_check, "18505780060849");
    assert_invalid(tp_nir_check, "1850578006084911");
    assert_invalid(tp_nir_check, "1 85 05 78 006 084 91");
    assert_invalid(tp_nir_check, "18505780060849 ");
    assert_invalid(tp_nir_check, "1850578006084-1");
    assert_int_equal(tp_nir_check(NULL, 0, NULL, 0), TP_ERR_INVALID);
    /* len is authoritative: a valid NIR inside a longer buffer. */
    assert_int_equal(run(tp_nir_check, "185057800608491;rest", 15), TP_OK);
    assert_int_equal(run(tp_nir_check, "185057800608491", 14), TP_ERR_INVALID);
}

/* The message never contains the NIR or a piece of it (it may reach a log). */
static void nir_message_does_not_echo_input(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "185057800608490", "985057800608491", "185007800608491",
        "185050000608491", "18505780060849X", "18505780060849",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        assert_invalid(tp_nir_check, inputs[i]);
        assert_null(strstr(msg, "850"));
        assert_null(strstr(msg, "6084"));
        assert_null(strstr(msg, inputs[i]));
    }
    /* A NULL or tiny buffer is fine. */
    assert_int_equal(tp_nir_check("1", 1, NULL, 0), TP_ERR_INVALID);
    char tiny[4];
    assert_int_equal(tp_nir_check("1", 1, tiny, sizeof tiny), TP_ERR_INVALID);
    assert_int_equal(strlen(tiny), 3);
}

/* ------------------------------------------------------------------------------------- */
/* Luhn, RPPS                                                                              */

static void luhn_digit_of_known_numbers(void **state)
{
    (void)state;
    assert_int_equal(tp_luhn_digit("7992739871", 10), '3');  /* ISO/IEC 7812 example */
    assert_int_equal(tp_luhn_digit("79927398710", 10), '3'); /* reads n bytes only */
    assert_int_equal(tp_luhn_digit("0", 1), '0');
    assert_int_equal(tp_luhn_digit("", 0), '0');
    assert_int_equal(tp_luhn_digit("1", 1), '8'); /* 1*2 = 2 -> 8 */
    assert_int_equal(tp_luhn_digit("5", 1), '9'); /* 5*2 = 10 -> 1 -> 9 */
    assert_int_equal(tp_luhn_digit("9", 1), '1'); /* 9*2 = 18 -> 9 -> 1 */
}

/* RPPS numbers of persons are 11 digits starting "10"; 10003456786 has the real format
 * (1000345678, key 6); the others were generated with Luhn. */
static void rpps_valid(void **state)
{
    (void)state;
    assert_ok(tp_rpps_check, "10003456786");
    assert_ok(tp_rpps_check, "10100000008");
    assert_ok(tp_rpps_check, "10000000017");
    assert_ok(tp_rpps_check, "81000123455");
}

static void rpps_invalid(void **state)
{
    (void)state;
    assert_invalid(tp_rpps_check, "10003456787"); /* key off by one */
    assert_invalid(tp_rpps_check, "10003456796"); /* one digit changed */
    assert_invalid(tp_rpps_check, "10003465786"); /* adjacent digits swapped */
    assert_invalid(tp_rpps_check, "1000345678");
    assert_invalid(tp_rpps_check, "100034567860");
    assert_invalid(tp_rpps_check, "1000345678A");
    assert_invalid(tp_rpps_check, " 0003456786");
    assert_invalid(tp_rpps_check, "");
    assert_int_equal(run(tp_rpps_check, "10003456786", 10), TP_ERR_INVALID);
}

/* Every single-digit substitution of a valid RPPS is caught (a Luhn property). */
static void rpps_detects_every_single_digit_error(void **state)
{
    (void)state;
    char s[12] = "10003456786";
    for (int i = 0; i < 11; i++) {
        const char orig = s[i];
        for (char c = '0'; c <= '9'; c++) {
            if (c == orig)
                continue;
            s[i] = c;
            assert_int_equal(check(tp_rpps_check, s), TP_ERR_INVALID);
        }
        s[i] = orig;
    }
    assert_ok(tp_rpps_check, s);
}

/* ------------------------------------------------------------------------------------- */
/* FINESS                                                                                  */

/* FINESS of public hospital groups (AP-HP, AP-HM, Hospices civils de Lyon). */
static void finess_real_hospitals(void **state)
{
    (void)state;
    assert_ok(tp_finess_check, "750712184");
    assert_ok(tp_finess_check, "130786049");
    assert_ok(tp_finess_check, "690781810");
}

/* validate.h: the key of a Corsican FINESS is computed with 2A/2B read as 20. */
static void finess_corsica_key_reads_20(void **state)
{
    (void)state;
    assert_int_equal(tp_luhn_digit("20000001", 8), '6');
    assert_ok(tp_finess_check, "2A0000016");
    assert_ok(tp_finess_check, "2B0000057");
    assert_ok(tp_finess_check, "2A0045128");
    assert_ok(tp_finess_check, "200000016"); /* same key as its "20" reading */
    assert_invalid(tp_finess_check, "2A0000017");
}

static void finess_invalid(void **state)
{
    (void)state;
    assert_invalid(tp_finess_check, "750712185"); /* key */
    assert_invalid(tp_finess_check, "750712814"); /* swapped */
    assert_invalid(tp_finess_check, "75071218");
    assert_invalid(tp_finess_check, "7507121840");
    assert_invalid(tp_finess_check, "2C0000016");
    assert_invalid(tp_finess_check, "2a0000016");
    assert_invalid(tp_finess_check, "A20000016");
    assert_invalid(tp_finess_check, "752A00016"); /* 2A outside the department */
    assert_invalid(tp_finess_check, "75071218A");
    assert_invalid(tp_finess_check, "");
}

/* ------------------------------------------------------------------------------------- */
/* AMC, member number                                                                      */

static void amc_number(void **state)
{
    (void)state;
    assert_ok(tp_amc_check, "123456789");
    assert_ok(tp_amc_check, "000000001");
    assert_ok(tp_amc_check, "100000000");
    assert_invalid(tp_amc_check, "000000000");
    assert_invalid(tp_amc_check, "12345678");
    assert_invalid(tp_amc_check, "1234567890");
    assert_invalid(tp_amc_check, "12345678A");
    assert_invalid(tp_amc_check, "");
    /* Zeros beyond len do not count. */
    assert_int_equal(run(tp_amc_check, "0000000001", 9), TP_ERR_INVALID);
    assert_int_equal(run(tp_amc_check, "1000000000", 9), TP_OK);
}

static void member_number(void **state)
{
    (void)state;
    assert_ok(tp_member_check, "A");
    assert_ok(tp_member_check, "0");
    assert_ok(tp_member_check, "AB12CD34");
    assert_ok(tp_member_check, "ABCDEFGHIJ0123456789");       /* 20 */
    assert_invalid(tp_member_check, "ABCDEFGHIJ01234567890"); /* 21 */
    assert_invalid(tp_member_check, "");
    assert_invalid(tp_member_check, "ab12");
    assert_invalid(tp_member_check, "AB-12");
    assert_invalid(tp_member_check, "AB 12");
    assert_invalid(tp_member_check, "\xc3\x89"); /* É in UTF-8 */
    assert_int_equal(run(tp_member_check, "AB\0CD", 5), TP_ERR_INVALID);
}

/* ------------------------------------------------------------------------------------- */
/* IBAN, BIC                                                                               */

/* Examples published by ISO 13616 / the SWIFT registry and by banks. */
static void iban_published_examples(void **state)
{
    (void)state;
    assert_ok(tp_iban_check, "FR7630006000011234567890189");
    assert_ok(tp_iban_check, "GB82WEST12345698765432");
    assert_ok(tp_iban_check, "DE89370400440532013000");
    assert_ok(tp_iban_check, "BE68539007547034");
    assert_ok(tp_iban_check, "NL91ABNA0417164300");
    assert_ok(tp_iban_check, "CH9300762011623852957");
    assert_ok(tp_iban_check, "ES9121000418450200051332");
    assert_ok(tp_iban_check, "IT60X0542811101000000123456");
    assert_ok(tp_iban_check, "LU280019400644750000");
    assert_ok(tp_iban_check, "MC5811222000010123456789030");
}

static void iban_one_digit_changed_fails(void **state)
{
    (void)state;
    assert_invalid(tp_iban_check, "FR7630006000011234567890188");
    assert_invalid(tp_iban_check, "FR7730006000011234567890189");
    assert_invalid(tp_iban_check, "GB82WEST12345698765433");
    assert_invalid(tp_iban_check, "DE89370400440532013001");
    assert_invalid(tp_iban_check, "DE98370400440532013000"); /* check digits swapped */
    assert_invalid(tp_iban_check, "GB82WEST12345698765423"); /* adjacent swapped */
}

static void iban_canonical_form_only(void **state)
{
    (void)state;
    assert_invalid(tp_iban_check, "FR76 3000 6000 0112 3456 7890 189");
    assert_invalid(tp_iban_check, "fr7630006000011234567890189");
    assert_invalid(tp_iban_check, "GB82west12345698765432");
    assert_invalid(tp_iban_check, "7630006000011234567890189FR");
    assert_invalid(tp_iban_check, "FRX630006000011234567890189");
    assert_invalid(tp_iban_check, "");
    assert_int_equal(run(tp_iban_check, "GB82WEST12345698765432\n", 22), TP_OK);
    assert_int_equal(run(tp_iban_check, "GB82WEST12345698765432\n", 23), TP_ERR_INVALID);
}

/* Known countries have one length; others only the ISO bounds 15..34. */
static void iban_length_per_country(void **state)
{
    (void)state;
    assert_invalid(tp_iban_check, "FR763000600001123456789018"); /* 26 */
    assert_invalid(tp_iban_check, "DE8937040044053201300");      /* 21 */
    /* "ZZ" is not in the table: 15 characters is the minimum. */
    assert_ok(tp_iban_check, "ZZ03ABCDE123456");
    assert_invalid(tp_iban_check, "ZZ03ABCDE12345");
    assert_invalid(tp_iban_check, "ZZ03ABCDE1234567890123456789012"
                                  "3456"); /* 35 */
}

/* 00, 01 and 99 pass the mod 97 test (they are 97, 98 and 2 mod 97) but are never issued. */
static void iban_check_digits_00_01_99_are_refused(void **state)
{
    (void)state;
    assert_ok(tp_iban_check, "FR0230006000010000000000029");
    assert_invalid(tp_iban_check, "FR9930006000010000000000029");
    assert_ok(tp_iban_check, "FR9730006000010000000000065");
    assert_invalid(tp_iban_check, "FR0030006000010000000000065");
    assert_ok(tp_iban_check, "FR9830006000010000000000047");
    assert_invalid(tp_iban_check, "FR0130006000010000000000047");
}

static void iban_make_computes_check_digits(void **state)
{
    (void)state;
    char out[3];
    assert_int_equal(tp_iban_make("FR", "30006000011234567890189", 23, out, sizeof out), TP_OK);
    assert_string_equal(out, "76");
    assert_int_equal(tp_iban_make("GB", "WEST12345698765432", 18, out, sizeof out), TP_OK);
    assert_string_equal(out, "82");
    assert_int_equal(tp_iban_make("DE", "370400440532013000", 18, out, sizeof out), TP_OK);
    assert_string_equal(out, "89");
    assert_int_equal(tp_iban_make("FR", "30006000010000000000029", 23, out, sizeof out), TP_OK);
    assert_string_equal(out, "02");
    /* Exactly 2 bytes: no NUL written. */
    char two[2] = {'x', 'x'};
    assert_int_equal(tp_iban_make("ZZ", "ABCDE123456", 11, two, sizeof two), TP_OK);
    assert_memory_equal(two, "03", 2);
}

static void iban_make_refuses_what_check_refuses(void **state)
{
    (void)state;
    char out[3];
    assert_int_equal(tp_iban_make("FR", "3000600001123456789018", 22, out, 3), TP_ERR_INVALID);
    assert_int_equal(tp_iban_make("fr", "30006000011234567890189", 23, out, 3), TP_ERR_INVALID);
    assert_int_equal(tp_iban_make("FR", "30006000011234567890 89", 23, out, 3), TP_ERR_INVALID);
    assert_int_equal(tp_iban_make("ZZ", "ABCDE12345", 10, out, 3), TP_ERR_INVALID);
    assert_int_equal(tp_iban_make("FR", "30006000011234567890189", 23, out, 1), TP_ERR_INVALID);
    assert_int_equal(tp_iban_make("FR", NULL, 0, out, 3), TP_ERR_INVALID);
}

/* Round trip over BBANs of every length, digits and letters: make then check. */
static void iban_make_then_check_round_trip(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char iban[TP_IBAN_MAX + 1];
    uint32_t x = 2463534242u;
    for (size_t bban_len = 11; bban_len <= 30; bban_len++) {
        for (int round = 0; round < 50; round++) {
            memcpy(iban, "ZZ", 2);
            for (size_t i = 0; i < bban_len; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                iban[4 + i] = alphabet[x % 36];
            }
            /* A digit last: changing one digit is always caught (10^k is prime to 97),
             * whereas a letter -> digit change is caught only with probability 96/97. */
            iban[4 + bban_len - 1] = alphabet[x % 10];
            assert_int_equal(tp_iban_make(iban, iban + 4, bban_len, iban + 2, 2), TP_OK);
            assert_int_equal(run(tp_iban_check, iban, 4 + bban_len), TP_OK);
            iban[4 + bban_len - 1] = iban[4 + bban_len - 1] == '7' ? '8' : '7';
            assert_int_equal(run(tp_iban_check, iban, 4 + bban_len), TP_ERR_INVALID);
        }
    }
}

static void bic(void **state)
{
    (void)state;
    assert_ok(tp_bic_check, "BNPAFRPP");
    assert_ok(tp_bic_check, "BNPAFRPPXXX");
    assert_ok(tp_bic_check, "DEUTDEFF500");
    assert_ok(tp_bic_check, "AGRIFRPP882");
    assert_ok(tp_bic_check, "CEPAFRPP1C2");
    assert_invalid(tp_bic_check, "BNPAFRP");
    assert_invalid(tp_bic_check, "BNPAFRPPX");
    assert_invalid(tp_bic_check, "BNPAFRPPXX");
    assert_invalid(tp_bic_check, "BNPAFRPPXXXX");
    assert_invalid(tp_bic_check, "bnpafrpp");
    assert_invalid(tp_bic_check, "BNP1FRPP"); /* bank code letters only */
    assert_invalid(tp_bic_check, "BNPAF1PP"); /* country letters only */
    assert_invalid(tp_bic_check, "BNPAFRP-");
    assert_invalid(tp_bic_check, "BNPAFRPPxxx");
    assert_invalid(tp_bic_check, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nir_key_of_published_examples),
        cmocka_unit_test(nir_key_of_multiple_of_97_is_97),
        cmocka_unit_test(nir_corsica_2a_reads_as_19),
        cmocka_unit_test(nir_corsica_2b_reads_as_18),
        cmocka_unit_test(nir_2a_outside_department_is_rejected),
        cmocka_unit_test(nir_department_20_is_still_valid),
        cmocka_unit_test(nir_sex_digit),
        cmocka_unit_test(nir_month_ranges),
        cmocka_unit_test(nir_wrong_key_or_digit_is_rejected),
        cmocka_unit_test(nir_length_and_characters),
        cmocka_unit_test(nir_message_does_not_echo_input),
        cmocka_unit_test(luhn_digit_of_known_numbers),
        cmocka_unit_test(rpps_valid),
        cmocka_unit_test(rpps_invalid),
        cmocka_unit_test(rpps_detects_every_single_digit_error),
        cmocka_unit_test(finess_real_hospitals),
        cmocka_unit_test(finess_corsica_key_reads_20),
        cmocka_unit_test(finess_invalid),
        cmocka_unit_test(amc_number),
        cmocka_unit_test(member_number),
        cmocka_unit_test(iban_published_examples),
        cmocka_unit_test(iban_one_digit_changed_fails),
        cmocka_unit_test(iban_canonical_form_only),
        cmocka_unit_test(iban_length_per_country),
        cmocka_unit_test(iban_check_digits_00_01_99_are_refused),
        cmocka_unit_test(iban_make_computes_check_digits),
        cmocka_unit_test(iban_make_refuses_what_check_refuses),
        cmocka_unit_test(iban_make_then_check_round_trip),
        cmocka_unit_test(bic),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
