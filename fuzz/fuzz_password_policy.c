/* Fuzz target for the password policy (src/core/password_policy.h).
 *
 * The input is a password (an exact-size heap copy, so ASan flags any read past len);
 * inputs holding a '\n' are split: the bytes before it are the login, the rest the password.
 * Beyond "no crash", every verdict is checked against an independent reading of the rule it
 * claims, and the checks that the header puts last must only ever turn an acceptance into
 * their own refusal. A violated invariant aborts like a crash. Passwords are never printed
 * by the target (the replay driver prints a crashing input in hex, which is test data). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/password_policy.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Sorted by strcmp, folded, unique: what tp_password_policy_check expects. */
static const char *const tiny_words[] = {"azerty", "motdepasse", "password", "soleil"};
static const struct tp_password_words tiny = {tiny_words, 4};

/* An independent count of code points: UTF-8 bytes that are not continuation bytes. */
static size_t count_chars(const uint8_t *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (s[i] & 0xC0) != 0x80;
    return n;
}

/* No byte that is (or starts) a C0/C1 control or DEL, in valid UTF-8. */
static int has_control(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7F)
            return 1;
        if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            return 1;
    }
    return 0;
}

static int has_byte(const uint8_t *s, size_t len, uint8_t b)
{
    return memchr(s, b, len) != NULL;
}

static char *dup_exact(const uint8_t *data, size_t n)
{
    char *p = calloc(n, 1);
    if (p && n)
        memcpy(p, data, n);
    return p;
}

static void check(const char *pw, size_t len, const char *login, size_t login_len)
{
    const uint8_t *u = (const uint8_t *)pw;
    const enum tp_password_reason bare = tp_password_policy_check(pw, len, NULL, NULL);
    CHECK(bare >= TP_PASSWORD_OK && bare <= TP_PASSWORD_COMMON);
    CHECK(bare != TP_PASSWORD_CONTAINS_LOGIN && bare != TP_PASSWORD_COMMON);
    CHECK(strcmp(tp_password_reason_name(bare), "invalid") != 0);
    CHECK(tp_password_reason_message(bare) != NULL);
    CHECK((bare == TP_PASSWORD_TOO_LONG) == (len > TP_PASSWORD_MAX_BYTES));
    if (len > TP_PASSWORD_MAX_BYTES)
        return;

    /* Folding: valid UTF-8 exactly when the policy gets past that check; same length,
     * idempotent. */
    char folded[TP_PASSWORD_MAX_BYTES + 1];
    const enum tp_err frc = tp_password_fold(pw, len, folded);
    CHECK((frc == TP_OK) == (bare != TP_PASSWORD_INVALID_UTF8));
    if (frc == TP_OK) {
        CHECK(strlen(folded) == len || has_byte(u, len, 0));
        char again[TP_PASSWORD_MAX_BYTES + 1];
        CHECK(tp_password_fold(folded, len, again) == TP_OK);
        CHECK(memcmp(folded, again, len) == 0);
        CHECK(count_chars((const uint8_t *)folded, len) == count_chars(u, len));
    }
    if (bare == TP_PASSWORD_INVALID_UTF8)
        return;
    CHECK((bare == TP_PASSWORD_CONTROL_CHARACTER) == has_control(u, len));
    if (bare == TP_PASSWORD_TOO_SHORT)
        CHECK(count_chars(u, len) < TP_PASSWORD_MIN_ALL_CLASSES);
    if (bare == TP_PASSWORD_MISSING_CLASSES)
        CHECK(count_chars(u, len) >= TP_PASSWORD_MIN_ALL_CLASSES);

    /* The account and list checks come last: they keep every earlier refusal and can only
     * turn an acceptance into their own reason. */
    const struct tp_password_user user = {login, login_len, NULL, 0};
    const enum tp_password_reason with_login = tp_password_policy_check(pw, len, &user, NULL);
    const enum tp_password_reason with_list = tp_password_policy_check(pw, len, NULL, &tiny);
    const enum tp_password_reason both = tp_password_policy_check(pw, len, &user, &tiny);
    if (bare != TP_PASSWORD_OK) {
        CHECK(with_login == bare && with_list == bare && both == bare);
        return;
    }
    CHECK(with_login == TP_PASSWORD_OK || with_login == TP_PASSWORD_CONTAINS_LOGIN);
    CHECK(with_list == TP_PASSWORD_OK || with_list == TP_PASSWORD_COMMON);
    CHECK(both == (with_login != TP_PASSWORD_OK ? with_login : with_list));

    /* An accepted password with no '@' contains itself as a login. */
    if (!has_byte(u, len, '@')) {
        const struct tp_password_user self = {pw, len, NULL, 0};
        CHECK(tp_password_policy_check(pw, len, &self, NULL) == TP_PASSWORD_CONTAINS_LOGIN);
    }
    /* An accepted password is refused by a list holding it (folded). */
    const char *one_word[] = {folded};
    const struct tp_password_words one = {one_word, 1};
    CHECK(tp_password_policy_check(pw, len, NULL, &one) == TP_PASSWORD_COMMON);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    const size_t login_len = nl ? (size_t)(nl - data) : 0;
    const uint8_t *pwd = nl ? nl + 1 : data;
    const size_t len = nl ? size - login_len - 1 : size;
    char *login = dup_exact(data, login_len);
    char *pw = dup_exact(pwd, len);
    if ((!login && login_len) || (!pw && len)) {
        free(login);
        free(pw);
        return 0;
    }
    check(pw, len, login, login_len);
    free(login);
    free(pw);
    return 0;
}
