/* Validators for the identifiers of the French health system (PRODUCT §4).
 *
 * Every check reads exactly `len` bytes and nothing beyond, so that HTTP and CSV fields can
 * be validated in place. Messages are constant strings: an identifier, even a wrong one,
 * is personal data and must not reach a log through an error message (STYLE §6). */
#include "core/validate.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* Canonical alphanumerics only: lower case is rejected rather than folded, so that one
 * identifier has one spelling in storage and in signatures. */
static bool is_alnum_upper(char c)
{
    return is_digit(c) || is_upper(c);
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static bool all_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_upper(s[i]))
            return false;
    return true;
}

static bool all_alnum_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_upper(s[i]))
            return false;
    return true;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool is_corsica(const char *dep)
{
    return dep[0] == '2' && (dep[1] == 'A' || dep[1] == 'B');
}

/* ---------------------------------------------------------------------------------------
 * NIR */

#define NIR_DEP 5 /* 0-based offset of the department, characters 6-7 */

/* The body is well formed when it is 13 digits, except that the department may be 2A or
 * 2B. The semantic rules (sex, month, department 00) belong to tp_nir_check: the key is
 * defined for any such body.
 *
 * The number has 13 digits (< 10^13), far inside 64 bits, so it is built in full and reduced
 * once; 2A/2B are substituted by 19/18 (PRODUCT §4), which is the INSEE rule "subtract
 * 1 000 000 / 2 000 000 from the number read with 20". Letters anywhere else make the body
 * invalid: "2A" in the commune or the order number is not Corsica. */
int tp_nir_key(const char *nir13)
{
    uint64_t n = 0;
    for (int i = 0; i < 13; i++) {
        const char c = nir13[i];
        unsigned v;
        if (is_digit(c)) {
            v = (unsigned)(c - '0');
        } else if (i == NIR_DEP + 1 && is_corsica(nir13 + NIR_DEP)) {
            /* Rewrite "2A" as "19" and "2B" as "18": the '2' already counted becomes '1'. */
            n -= 1;
            v = c == 'A' ? 9 : 8;
        } else {
            return -1;
        }
        n = n * 10 + v;
    }
    const int key = 97 - (int)(n % 97);
    assert(key >= 1 && key <= 97);
    return key;
}

/* 1/2: man/woman; 3/4 and 7/8: provisional numbers (NIA) for the same. */
static bool nir_sex_ok(char c)
{
    return c == '1' || c == '2' || c == '3' || c == '4' || c == '7' || c == '8';
}

/* Months 20-42 and 50-99 are the INSEE conventions for a birth month that is unknown or
 * for a provisional registration; 00 and 13-19 are never issued. */
static bool nir_month_ok(int m)
{
    return (m >= 1 && m <= 12) || (m >= 20 && m <= 42) || (m >= 50 && m <= 99);
}

/* The department is 01-99 (96/97/98/99: overseas and born abroad, with the commune code
 * continuing in the next digits), or 2A/2B for Corsica. 2A/2B only exist for births since
 * 1976 (20 before), but the century is not in the NIR and re-registrations keep the new
 * code, so both are accepted for every year. */
static bool nir_department_ok(const char *dep)
{
    if (is_corsica(dep))
        return true;
    return is_digit(dep[0]) && is_digit(dep[1]) && two_digits(dep) != 0;
}

enum tp_err tp_nir_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || len != TP_NIR_LEN)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "NIR must be 15 characters");
    const int key = tp_nir_key(s);
    if (key < 0 || !all_digits(s + 13, 2))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "NIR must be digits, with 2A or 2B only as the department");
    if (!nir_sex_ok(s[0]))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "NIR sex digit must be 1, 2, 3, 4, 7 or 8");
    if (!nir_month_ok(two_digits(s + 3)))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "NIR birth month is out of range");
    if (!nir_department_ok(s + NIR_DEP))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "NIR department is out of range");
    if (two_digits(s + 13) != key)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "NIR key does not match");
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Luhn: RPPS, FINESS */

/* ISO/IEC 7812-1 annex B. Weights alternate 2, 1, ... from the rightmost payload digit,
 * because the check digit will take the rightmost position (weight 1). */
char tp_luhn_digit(const char *s, size_t n)
{
    unsigned sum = 0;
    bool twice = true;
    for (size_t i = n; i-- > 0;) {
        assert(is_digit(s[i]));
        unsigned v = (unsigned)(unsigned char)s[i] - '0';
        v %= 10; /* keeps a precondition violation harmless under NDEBUG */
        if (twice) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        twice = !twice;
    }
    return (char)('0' + (10 - sum % 10) % 10);
}

enum tp_err tp_rpps_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || len != TP_RPPS_LEN || !all_digits(s, len))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "RPPS must be 11 digits");
    if (tp_luhn_digit(s, TP_RPPS_LEN - 1) != s[TP_RPPS_LEN - 1])
        return tp_fail(msg, msglen, TP_ERR_INVALID, "RPPS key does not match");
    return TP_OK;
}

/* FINESS: department (2 digits or 2A/2B), 6 digits, Luhn key. The key of a Corsican
 * FINESS is computed with the department read as "20" (validate.h): Corsica's code before
 * the 1976 split, which the key algorithm, being digits-only, has to use. This is the
 * reading the header commits to; it differs from the NIR, where 2A and 2B are 19 and 18. */
enum tp_err tp_finess_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || len != TP_FINESS_LEN)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "FINESS must be 9 characters");
    const bool corsica = is_corsica(s);
    if ((!corsica && !all_digits(s, 2)) || !all_digits(s + 2, TP_FINESS_LEN - 2))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "FINESS must be digits, with 2A or 2B only as the department");
    char body[TP_FINESS_LEN - 1];
    memcpy(body, s, sizeof body);
    if (corsica)
        body[1] = '0';
    if (tp_luhn_digit(body, sizeof body) != s[TP_FINESS_LEN - 1])
        return tp_fail(msg, msglen, TP_ERR_INVALID, "FINESS key does not match");
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * AMC, member number */

enum tp_err tp_amc_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || len != TP_AMC_LEN || !all_digits(s, len))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "AMC number must be 9 digits");
    /* 000000000 is what an empty card field reads as, never an organisation. */
    size_t zeros = 0;
    while (zeros < TP_AMC_LEN && s[zeros] == '0')
        zeros++;
    if (zeros == TP_AMC_LEN)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "AMC number must not be all zeros");
    return TP_OK;
}

enum tp_err tp_member_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || len < 1 || len > 20)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "member number must be 1 to 20 characters");
    if (!all_alnum_upper(s, len))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "member number must be digits and upper-case letters");
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * IBAN, BIC */

#define IBAN_MIN 15 /* 2 letters + 2 check digits + at least 11 BBAN characters */

/* Lengths from the SWIFT IBAN registry for the countries we pay into. The French overseas
 * territories have their own ISO codes but French-format IBANs (27). Unknown countries
 * only get the ISO 13616 bounds. */
static const struct {
    char cc[3];
    unsigned char len;
} iban_lengths[] = {
    {"FR", 27}, {"MC", 27}, {"GP", 27}, {"MQ", 27}, {"GF", 27}, {"RE", 27}, {"YT", 27},
    {"PM", 27}, {"NC", 27}, {"PF", 27}, {"WF", 27}, {"BL", 27}, {"MF", 27}, {"TF", 27},
    {"DE", 22}, {"BE", 16}, {"ES", 24}, {"IT", 27}, {"LU", 20}, {"NL", 18}, {"CH", 21},
    {"GB", 22}, {"AT", 20}, {"PT", 25}, {"IE", 22}, {"LI", 21}, {"AD", 24}, {"SM", 27},
};

/* The expected total length for country cc, or 0 when the country is not in the table. */
static size_t iban_country_len(const char *cc)
{
    for (size_t i = 0; i < sizeof iban_lengths / sizeof iban_lengths[0]; i++)
        if (iban_lengths[i].cc[0] == cc[0] && iban_lengths[i].cc[1] == cc[1])
            return iban_lengths[i].len;
    return 0;
}

/* Feeds one character into a running mod 97, letters counting as two digits (A=10 ...
 * Z=35) as ISO 13616 / ISO 7064 MOD 97-10 prescribe. The remainder stays below 97, so the
 * intermediate value stays below 9700: no big numbers needed. */
static unsigned mod97_step(unsigned r, char c)
{
    if (is_digit(c))
        return (r * 10 + (unsigned)(c - '0')) % 97;
    assert(is_upper(c));
    return (r * 100 + (unsigned)(c - 'A') + 10) % 97;
}

static unsigned mod97(unsigned r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r = mod97_step(r, s[i]);
    return r;
}

enum tp_err tp_iban_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || len < IBAN_MIN || len > TP_IBAN_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "IBAN must be 15 to 34 characters");
    if (!all_upper(s, 2) || !all_digits(s + 2, 2) || !all_alnum_upper(s + 4, len - 4))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "IBAN must be a country code, 2 check digits, then digits and "
                       "upper-case letters, without spaces");
    const size_t want = iban_country_len(s);
    if (want && want != len)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "IBAN length does not match its country");
    /* 00, 01 and 99 are never computed (98 - r lies in 2..98), yet 99 = 2 and 00 = 97 mod 97,
     * so the mod 97 test alone would accept them. */
    const int cd = two_digits(s + 2);
    if (cd < 2 || cd > 98)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "IBAN check digits are out of range");
    /* ISO 13616-1: move the first 4 characters to the end, the result mod 97 must be 1. */
    if (mod97(mod97(0, s + 4, len - 4), s, 4) != 1)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "IBAN check digits do not match");
    return TP_OK;
}

/* ISO 13616-1: check digits = 98 - (BBAN + country + "00") mod 97. Refuses what
 * tp_iban_check would refuse (a BBAN of the wrong length for a known country), so that a
 * made IBAN always checks. Writes 2 characters, plus a NUL when outlen > 2. */
enum tp_err tp_iban_make(const char cc[2], const char *bban, size_t bban_len, char *out,
                         size_t outlen)
{
    if (!cc || !bban || !out || outlen < 2)
        return TP_ERR_INVALID;
    if (!all_upper(cc, 2) || bban_len < IBAN_MIN - 4 || bban_len > TP_IBAN_MAX - 4 ||
        !all_alnum_upper(bban, bban_len))
        return TP_ERR_INVALID;
    const size_t want = iban_country_len(cc);
    if (want && want != bban_len + 4)
        return TP_ERR_INVALID;
    const unsigned r = mod97(mod97(mod97(0, bban, bban_len), cc, 2), "00", 2);
    const unsigned cd = 98 - r;
    out[0] = (char)('0' + cd / 10);
    out[1] = (char)('0' + cd % 10);
    if (outlen > 2)
        out[2] = '\0';
    return TP_OK;
}

/* ISO 9362: bank code 4 letters, country 2 letters, location 2 alphanumerics, branch 3
 * alphanumerics (optional; "XXX" is the head office). */
enum tp_err tp_bic_check(const char *s, size_t len, char *msg, size_t msglen)
{
    if (!s || (len != 8 && len != 11))
        return tp_fail(msg, msglen, TP_ERR_INVALID, "BIC must be 8 or 11 characters");
    if (!all_upper(s, 6) || !all_alnum_upper(s + 6, len - 6))
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "BIC must be 6 upper-case letters then upper-case letters or digits");
    return TP_OK;
}
