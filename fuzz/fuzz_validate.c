/* Fuzz target for the identifier validators and the date parser (src/core/validate.h,
 * src/core/date.h).
 *
 * The input is copied into a buffer of exactly its size, so that ASan flags any read past
 * len, and fed to every validator, whole and as every prefix up to the longest identifier.
 * Beyond "no crash", each acceptance is checked against an independent consequence of the
 * rule it claims to enforce; a violated invariant aborts like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/validate.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef enum tp_err (*check_fn)(const char *, size_t, char *, size_t);

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum_upper(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z');
}

/* Runs one validator with a message buffer, and with none, and checks that both agree and
 * that a failure always explains itself. */
static enum tp_err run(check_fn fn, const char *s, size_t len)
{
    char msg[96];
    msg[0] = '\0';
    const enum tp_err rc = fn(s, len, msg, sizeof msg);
    CHECK(rc == TP_OK || rc == TP_ERR_INVALID);
    CHECK(fn(s, len, NULL, 0) == rc);
    CHECK(rc == TP_OK || msg[0] != '\0');
    CHECK(memchr(msg, '\0', sizeof msg) != NULL);
    return rc;
}

static void nir(const char *s, size_t len)
{
    if (len >= 13) {
        const int key = tp_nir_key(s);
        CHECK(key == -1 || (key >= 1 && key <= 97));
    }
    if (run(tp_nir_check, s, len) != TP_OK)
        return;
    CHECK(len == TP_NIR_LEN);
    const int key = tp_nir_key(s);
    CHECK(key >= 1 && key <= 97);
    CHECK(is_digit(s[13]) && is_digit(s[14]));
    CHECK((s[13] - '0') * 10 + (s[14] - '0') == key);
    /* Letters only as the Corsican department. */
    for (size_t i = 0; i < len; i++)
        CHECK(is_digit(s[i]) || ((i == 6) && s[5] == '2' && (s[6] == 'A' || s[6] == 'B')));
}

static void luhn_ids(const char *s, size_t len)
{
    if (run(tp_rpps_check, s, len) == TP_OK) {
        CHECK(len == TP_RPPS_LEN);
        CHECK(tp_luhn_digit(s, 10) == s[10]);
    }
    if (run(tp_finess_check, s, len) == TP_OK) {
        CHECK(len == TP_FINESS_LEN);
        for (size_t i = 2; i < len; i++)
            CHECK(is_digit(s[i]));
    }
    /* tp_luhn_digit's precondition is digits only. */
    size_t n = 0;
    while (n < len && is_digit(s[n]))
        n++;
    const char k = tp_luhn_digit(s, n);
    CHECK(is_digit(k));
}

static void simple_ids(const char *s, size_t len)
{
    if (run(tp_amc_check, s, len) == TP_OK) {
        CHECK(len == TP_AMC_LEN);
        int nonzero = 0;
        for (size_t i = 0; i < len; i++) {
            CHECK(is_digit(s[i]));
            nonzero |= s[i] != '0';
        }
        CHECK(nonzero);
    }
    if (run(tp_member_check, s, len) == TP_OK) {
        CHECK(len >= 1 && len <= 20);
        for (size_t i = 0; i < len; i++)
            CHECK(is_alnum_upper(s[i]));
    }
    if (run(tp_bic_check, s, len) == TP_OK)
        CHECK(len == 8 || len == 11);
}

/* An accepted IBAN is reproduced by tp_iban_make; any BBAN tp_iban_make accepts yields an
 * IBAN that checks. */
static void iban(const char *s, size_t len)
{
    char cd[3];
    if (run(tp_iban_check, s, len) == TP_OK) {
        CHECK(len >= 15 && len <= TP_IBAN_MAX);
        CHECK(tp_iban_make(s, s + 4, len - 4, cd, sizeof cd) == TP_OK);
        CHECK(cd[0] == s[2] && cd[1] == s[3]);
    }
    if (len >= 2 && len - 2 <= TP_IBAN_MAX - 4 &&
        tp_iban_make(s, s + 2, len - 2, cd, sizeof cd) == TP_OK) {
        char built[TP_IBAN_MAX];
        memcpy(built, s, 2);
        memcpy(built + 2, cd, 2);
        memcpy(built + 4, s + 2, len - 2);
        CHECK(run(tp_iban_check, built, len + 2) == TP_OK);
    }
}

/* An accepted date formats back to the same 10 bytes and lies in the supported range. */
static void date(const char *s, size_t len)
{
    tp_day day = 0;
    if (tp_date_parse(s, len, &day) != TP_OK)
        return;
    CHECK(len == 10);
    CHECK(day >= TP_DAY_MIN && day <= TP_DAY_MAX);
    char buf[11];
    tp_date_format(day, buf);
    CHECK(memcmp(buf, s, 10) == 0);
    int y, m, d;
    tp_date_to_ymd(day, &y, &m, &d);
    CHECK(tp_date_valid(y, m, d) && tp_date_from_ymd(y, m, d) == day);
    /* Month arithmetic stays in range and on a valid date. */
    const int n = (int)(s[9] - '0') * 3 - 13; /* -13..14, input-dependent */
    const tp_day moved = tp_date_add_months(day, n);
    CHECK(moved >= TP_DAY_MIN && moved <= TP_DAY_MAX);
    const int age = tp_date_age(day, moved);
    CHECK(n >= 0 ? age >= 0 && age <= n / 12 + 1 : age <= 0);
}

static void all(const char *s, size_t len)
{
    nir(s, len);
    luhn_ids(s, len);
    simple_ids(s, len);
    iban(s, len);
    date(s, len);
}

/* Exact-size heap copy; calloc(0, 1) gives ASan a zero-byte block, so that even reading
 * the first byte of an empty input is reported. (calloc rather than malloc: gcc -O2 cannot
 * see that a zero-length block is never read and warns.) NULL for n == 0 is fine: every
 * function under test accepts (NULL, 0). */
static char *dup_exact(const uint8_t *data, size_t n)
{
    char *p = calloc(n, 1);
    if (p && n)
        memcpy(p, data, n);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libFuzzer and the replay driver already pass an exact-size buffer, but a caller
     * handing in a slice of a larger one would hide overreads. */
    char *s = dup_exact(data, size);
    if (!s && size)
        return 0;
    all(s, size);
    free(s);
    /* Every prefix up to the longest identifier, each in its own exact-size buffer: length
     * checks are the first line of defence and must hold at every boundary. */
    for (size_t n = 0; n < size && n <= TP_IBAN_MAX; n++) {
        char *p = dup_exact(data, n);
        if (!p && n)
            return 0;
        all(p, n);
        free(p);
    }
    return 0;
}
