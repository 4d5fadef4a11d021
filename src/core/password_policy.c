/* Password policy (CNIL délibération 2022-100). The rules and their order are described in
 * password_policy.h; this file decodes the password once into code points and applies them.
 *
 * Everything works on bounded stack arrays: the password is at most TP_PASSWORD_MAX_BYTES
 * bytes, so it has at most that many code points, and any login that could occur inside it
 * is no longer. */
#include "core/password_policy.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#define MAXCP TP_PASSWORD_MAX_BYTES

enum { C_UPPER = 1, C_LOWER = 2, C_DIGIT = 4, C_SPECIAL = 8 };

const char *tp_password_reason_name(enum tp_password_reason reason)
{
    switch (reason) {
    case TP_PASSWORD_OK:
        return "ok";
    case TP_PASSWORD_TOO_LONG:
        return "too_long";
    case TP_PASSWORD_INVALID_UTF8:
        return "invalid_utf8";
    case TP_PASSWORD_CONTROL_CHARACTER:
        return "control_character";
    case TP_PASSWORD_TOO_SHORT:
        return "too_short";
    case TP_PASSWORD_MISSING_CLASSES:
        return "missing_classes";
    case TP_PASSWORD_CONTAINS_LOGIN:
        return "contains_login";
    case TP_PASSWORD_COMMON:
        return "common_password";
    }
    return "invalid";
}

const char *tp_password_reason_message(enum tp_password_reason reason)
{
    switch (reason) {
    case TP_PASSWORD_OK:
        return "The password meets the policy.";
    case TP_PASSWORD_TOO_LONG:
        return "The password is too long: at most 256 bytes.";
    case TP_PASSWORD_INVALID_UTF8:
        return "The password is not valid UTF-8 text.";
    case TP_PASSWORD_CONTROL_CHARACTER:
        return "The password contains a control character (such as a tab or a line break).";
    case TP_PASSWORD_TOO_SHORT:
        return "The password is too short: use at least 12 characters with upper- and "
               "lower-case letters, digits and special characters, at least 14 with upper- "
               "and lower-case letters and digits, or a passphrase of at least 7 words.";
    case TP_PASSWORD_MISSING_CLASSES:
        return "The password needs more kinds of characters: with 12 or 13 characters, use "
               "upper- and lower-case letters, digits and special characters; with 14 or "
               "more, upper- and lower-case letters and digits; or use a passphrase of at "
               "least 7 different words of 3 letters or more.";
    case TP_PASSWORD_CONTAINS_LOGIN:
        return "The password contains the account's login or e-mail address.";
    case TP_PASSWORD_COMMON:
        return "The password is too common: it appears, possibly with added digits or "
               "symbols, in a list of frequently used passwords.";
    }
    return "The password was refused.";
}

/* ---------------------------------------------------------------------------------------
 * UTF-8 and characters */

/* Decodes one strict UTF-8 sequence (RFC 3629: shortest form, no surrogates, at most
 * U+10FFFF) at s[0..len). Returns its length (1-4) with the code point in *cp, or 0. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    assert(len > 0);
    const unsigned b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    uint32_t c;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        c = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b0 == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        c = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (b0 == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return n;
}

/* Writes cp as UTF-8 into out; returns the number of bytes (1-4). */
static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Lower case of an upper-case letter of ASCII, Latin-1 or Latin Extended-A; any other code
 * point is returned unchanged. Every mapping keeps the UTF-8 length (ASCII to ASCII, the
 * others within U+0080-U+07FF), which tp_password_fold relies on. */
static uint32_t lower_of(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0xC0 || c > 0x17E)
        return c;
    if (c <= 0xDE)
        return c == 0xD7 ? c : c + 0x20; /* U+00D7 is the multiplication sign */
    if (c < 0x100)
        return c;
    if (c <= 0x137)
        return (c & 1) ? c : c + 1;
    if (c >= 0x139 && c <= 0x148)
        return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177)
        return (c & 1) ? c : c + 1;
    if (c == 0x178)
        return 0xFF; /* Ÿ -> ÿ */
    if (c >= 0x179)
        return (c & 1) ? c + 1 : c;
    return c; /* U+0138 kra, U+0149 */
}

static int is_upper(uint32_t c)
{
    return lower_of(c) != c;
}

static int is_lower(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return 1;
    if (c >= 0xDF && c <= 0xFF)
        return c != 0xF7; /* U+00F7 is the division sign */
    if (c >= 0x100 && c <= 0x17F)
        return !is_upper(c); /* every code point of Latin Extended-A is a letter */
    return 0;
}

static int is_letter(uint32_t c)
{
    return is_upper(c) || is_lower(c);
}

static int char_class(uint32_t c)
{
    if (c >= '0' && c <= '9')
        return C_DIGIT;
    if (is_upper(c))
        return C_UPPER;
    if (is_lower(c))
        return C_LOWER;
    return C_SPECIAL;
}

static int is_control(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F);
}

/* Decodes s[0..len) into at most max code points. Returns the count, or -1 when the text is
 * not valid UTF-8 or has more than max code points. */
static long decode_all(const char *s, size_t len, uint32_t *cp, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (n == max)
            return -1;
        const size_t k = utf8_decode((const unsigned char *)s + i, len - i, &cp[n]);
        if (k == 0)
            return -1;
        i += k;
        n++;
    }
    return (long)n;
}

enum tp_err tp_password_fold(const char *in, size_t len, char *out)
{
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        const size_t k = utf8_decode((const unsigned char *)in + i, len - i, &c);
        if (k == 0) {
            out[0] = '\0';
            return TP_ERR_INVALID;
        }
        const size_t w = utf8_encode(lower_of(c), out + i);
        assert(w == k);
        (void)w;
        i += k;
    }
    out[len] = '\0';
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Strength (CNIL 2022-100) */

static int is_separator(uint32_t c)
{
    return c == ' ' || c == '-' || c == '_' || c == '.';
}

/* Same word, case-insensitively: a[0..n) against b[0..n). */
static int same_folded(const uint32_t *a, const uint32_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower_of(a[i]) != lower_of(b[i]))
            return 0;
    return 1;
}

/* CNIL 2022-100 (c): at least 7 distinct words of at least 3 letters (header comment). */
static int is_passphrase(const uint32_t *cp, size_t n)
{
    size_t start[TP_PASSWORD_PASSPHRASE_WORDS], wlen[TP_PASSWORD_PASSPHRASE_WORDS];
    size_t counted = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_separator(cp[i]))
            i++;
        const size_t s = i;
        size_t letters = 0;
        while (i < n && !is_separator(cp[i]))
            letters += (size_t)is_letter(cp[i++]);
        if (letters < TP_PASSWORD_WORD_MIN_LETTERS)
            continue;
        int seen = 0;
        for (size_t w = 0; w < counted && !seen; w++)
            seen = wlen[w] == i - s && same_folded(cp + start[w], cp + s, i - s);
        if (seen)
            continue;
        start[counted] = s;
        wlen[counted] = i - s;
        if (++counted == TP_PASSWORD_PASSPHRASE_WORDS)
            return 1;
    }
    return 0;
}

static enum tp_password_reason strength(const uint32_t *cp, size_t n)
{
    int classes = 0;
    for (size_t i = 0; i < n; i++)
        classes |= char_class(cp[i]);
    const int uld = C_UPPER | C_LOWER | C_DIGIT;
    if (n >= TP_PASSWORD_MIN_ALL_CLASSES && classes == (uld | C_SPECIAL))
        return TP_PASSWORD_OK; /* (a) */
    if (n >= TP_PASSWORD_MIN_THREE_CLASSES && (classes & uld) == uld)
        return TP_PASSWORD_OK; /* (b) */
    if (is_passphrase(cp, n))
        return TP_PASSWORD_OK; /* (c) */
    /* A passphrase has at least 7 * 3 letters, so below 12 characters nothing passes. */
    return n < TP_PASSWORD_MIN_ALL_CLASSES ? TP_PASSWORD_TOO_SHORT : TP_PASSWORD_MISSING_CLASSES;
}

/* ---------------------------------------------------------------------------------------
 * Personal data */

/* Whether the folded needle[0..m) occurs in hay[0..n) (hay already folded). */
static int contains_folded(const uint32_t *hay, size_t n, const uint32_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && hay[i + j] == lower_of(needle[j]))
            j++;
        if (j == m)
            return 1;
    }
    return 0;
}

static int is_ident_separator(uint32_t c)
{
    return c == '.' || c == '-' || c == '_' || c == '+';
}

/* Whether the identifier s[0..len) (a login or an e-mail address: only the part before the
 * last '@' is used), or one of its components, occurs in the folded password. An identifier
 * that is not valid UTF-8, or longer than the password can be, cannot be found: skipped. */
static int contains_ident(const uint32_t *pw, size_t n, const char *s, size_t len)
{
    if (!s)
        return 0;
    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == '@') {
            len = i - 1;
            break;
        }
    if (len > MAXCP)
        return 0;
    uint32_t id[MAXCP];
    const long m = decode_all(s, len, id, MAXCP);
    if (m < TP_PASSWORD_IDENT_MIN)
        return 0;
    if (contains_folded(pw, n, id, (size_t)m))
        return 1;
    size_t i = 0;
    while (i < (size_t)m) {
        while (i < (size_t)m && is_ident_separator(id[i]))
            i++;
        const size_t start = i;
        while (i < (size_t)m && !is_ident_separator(id[i]))
            i++;
        if (i - start >= TP_PASSWORD_IDENT_MIN && i - start < (size_t)m &&
            contains_folded(pw, n, id + start, i - start))
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Common passwords */

static int in_list(const struct tp_password_words *list, const char *word)
{
    if (word[0] == '\0')
        return 0;
    size_t lo = 0, hi = list->n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(list->words[mid], word);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The letter a digit or symbol usually stands for ("p@ssw0rd"); 0 for none. `one` is the
 * letter tried for '1' (both 'i' and 'l' are common). */
static char unleet(char c, char one)
{
    switch (c) {
    case '0':
        return 'o';
    case '1':
        return one;
    case '3':
        return 'e';
    case '4':
    case '@':
        return 'a';
    case '5':
    case '$':
        return 's';
    case '7':
        return 't';
    case '!':
        return 'i';
    default:
        return 0;
    }
}

/* Looks up folded[from..to) as is and with the substitutions undone. */
static int core_in_list(const struct tp_password_words *list, const char *folded, size_t from,
                        size_t to)
{
    char buf[MAXCP + 1];
    assert(from <= to && to <= MAXCP);
    memcpy(buf, folded + from, to - from);
    buf[to - from] = '\0';
    if (in_list(list, buf))
        return 1;
    static const char ones[] = {'i', 'l'};
    for (size_t k = 0; k < sizeof ones; k++) {
        int changed = 0;
        for (size_t i = 0; i < to - from; i++) {
            const char l = unleet(folded[from + i], ones[k]);
            changed |= l != 0;
            buf[i] = l ? l : folded[from + i];
        }
        if (changed && in_list(list, buf))
            return 1;
    }
    return 0;
}

/* Whether the password, folded, is in the list whole, without its trailing non-letters, or
 * without its leading and trailing non-letters (header comment). */
static int is_common(const struct tp_password_words *list, const char *pw, size_t len,
                     const uint32_t *cp, size_t n)
{
    char folded[MAXCP + 1];
    if (tp_password_fold(pw, len, folded) != TP_OK)
        return 0; /* cannot happen: pw was decoded already */
    if (in_list(list, folded))
        return 1;
    /* Byte offsets of the first letter and of the end of the last one. */
    size_t first = len, end = 0, off = 0;
    for (size_t i = 0; i < n; i++) {
        char tmp[4];
        const size_t w = utf8_encode(cp[i], tmp);
        if (is_letter(cp[i])) {
            if (first == len)
                first = off;
            end = off + w;
        }
        off += w;
    }
    assert(off == len);
    if (first == len)
        return 0; /* no letter: nothing to strip to */
    return core_in_list(list, folded, 0, end) || core_in_list(list, folded, first, end);
}

/* ---------------------------------------------------------------------------------------
 * The check */

enum tp_password_reason tp_password_policy_check(const char *pw, size_t len,
                                                 const struct tp_password_user *user,
                                                 const struct tp_password_words *common)
{
    if (len > TP_PASSWORD_MAX_BYTES)
        return TP_PASSWORD_TOO_LONG;
    uint32_t cp[MAXCP];
    const long decoded = decode_all(pw, len, cp, MAXCP);
    if (decoded < 0)
        return TP_PASSWORD_INVALID_UTF8;
    const size_t n = (size_t)decoded;
    for (size_t i = 0; i < n; i++)
        if (is_control(cp[i]))
            return TP_PASSWORD_CONTROL_CHARACTER;

    const enum tp_password_reason r = strength(cp, n);
    if (r != TP_PASSWORD_OK)
        return r;

    if (user) {
        uint32_t folded[MAXCP];
        for (size_t i = 0; i < n; i++)
            folded[i] = lower_of(cp[i]);
        if (contains_ident(folded, n, user->login, user->login_len) ||
            contains_ident(folded, n, user->email, user->email_len))
            return TP_PASSWORD_CONTAINS_LOGIN;
    }

    if (common && common->n > 0 && is_common(common, pw, len, cp, n))
        return TP_PASSWORD_COMMON;
    return TP_PASSWORD_OK;
}
