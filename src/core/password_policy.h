/* Password policy: which passwords an account may choose (PRODUCT §5, CNIL délibération
 * 2022-100, case "password used alone"). Pure: no I/O, no allocation, no locale.
 *
 * A password is accepted when it is well-formed and strong enough, and is none of the
 * obviously guessable ones:
 *
 *   well-formed   at most TP_PASSWORD_MAX_BYTES bytes (bounds the hashing work a client can
 *                 ask for), valid UTF-8 (no overlong forms, surrogates or code points past
 *                 U+10FFFF), no control character (U+0000-U+001F, U+007F, U+0080-U+009F:
 *                 a tab or newline is a copy-paste accident, never a chosen character).
 *                 Spaces are allowed (passphrases).
 *   strong        one of the three CNIL 2022-100 examples of ~80 bits of entropy:
 *                 (a) >= 12 characters with upper case, lower case, digit and special;
 *                 (b) >= 14 characters with upper case, lower case and digit;
 *                 (c) a passphrase of >= 7 distinct words (below).
 *                 Characters are Unicode code points, not bytes: "é" is one character.
 *   not personal  does not contain the account's login or the local part of its e-mail
 *                 address, nor any of their components (split at . - _ +), compared
 *                 case-insensitively; only identifiers of >= 4 characters are checked
 *                 (shorter ones occur in strong passwords by chance).
 *   not common    not in the caller's list of common passwords, compared case-insensitively,
 *                 also after removing trailing non-letters ("Azerty123456!" is "azerty"),
 *                 leading and trailing non-letters ("2024Marseille!" is "marseille"), and
 *                 after undoing the usual digit/symbol-for-letter substitutions on that core
 *                 ("P@ssw0rd!" is "password").
 *
 * Character classes. Upper and lower case are the ASCII letters plus the Latin letters of
 * Latin-1 and Latin Extended-A (all of French: é, È, ç, œ, Ÿ...); digits are ASCII 0-9;
 * every other code point, including a space and letters of other scripts, is "special":
 * what the class stands for in the entropy count is "a character outside the 62
 * alphanumerics". Case folding for comparisons uses the same letters. No Unicode
 * normalisation is done: a decomposed "e + U+0301" is two characters (browsers send NFC).
 *
 * Passphrase rule. Words are the runs of characters between separators (space, '-', '_',
 * '.'); a word counts when it holds at least 3 letters (upper or lower case as above) and
 * differs, case-insensitively, from every word counted before it. Seven counted words make a
 * passphrase; short words ("a", "de", "la") are allowed but do not count, and a repeated
 * word counts once ("chat chat chat ..." is not a passphrase).
 *
 * Order of the checks, hence which reason is reported when several apply: well-formedness,
 * then strength, then personal data, then the common list. The password itself never
 * appears in a reason or message. */
#ifndef TP_CORE_PASSWORD_POLICY_H
#define TP_CORE_PASSWORD_POLICY_H

#include <stddef.h>

#include "core/err.h"

#define TP_PASSWORD_MAX_BYTES 256        /* longer inputs are refused before any other work */
#define TP_PASSWORD_MIN_ALL_CLASSES 12   /* CNIL 2022-100 (a) */
#define TP_PASSWORD_MIN_THREE_CLASSES 14 /* CNIL 2022-100 (b) */
#define TP_PASSWORD_PASSPHRASE_WORDS 7   /* CNIL 2022-100 (c) */
#define TP_PASSWORD_WORD_MIN_LETTERS 3
#define TP_PASSWORD_IDENT_MIN 4 /* shortest login / e-mail part looked for in a password */

/* Why a password was refused. Values and names are stable (API, logs, tests). */
enum tp_password_reason {
    TP_PASSWORD_OK = 0,
    TP_PASSWORD_TOO_LONG,          /* "too_long": more than TP_PASSWORD_MAX_BYTES bytes */
    TP_PASSWORD_INVALID_UTF8,      /* "invalid_utf8" */
    TP_PASSWORD_CONTROL_CHARACTER, /* "control_character" */
    TP_PASSWORD_TOO_SHORT,         /* "too_short": fewer than 12 characters */
    TP_PASSWORD_MISSING_CLASSES,   /* "missing_classes": long enough, too few classes */
    TP_PASSWORD_CONTAINS_LOGIN,    /* "contains_login": login or e-mail part inside */
    TP_PASSWORD_COMMON,            /* "common_password": in the common-password list */
};

/* Stable lower-case name of a reason ("ok", "too_short", ...). Never NULL. */
const char *tp_password_reason_name(enum tp_password_reason reason);

/* One-sentence explanation for the person choosing the password. Never NULL; a static
 * string that does not depend on the password. */
const char *tp_password_reason_message(enum tp_password_reason reason);

/* A sorted list of common passwords, as the check expects it: `n` NUL-terminated words,
 * each folded with tp_password_fold, sorted by strcmp (byte order), without duplicates.
 * A view: the owner (src/security/password_list.h) keeps the memory. */
struct tp_password_words {
    const char *const *words;
    size_t n;
};

/* Who the password is for. Either field may be NULL (length 0): not checked. `login` is
 * the account's login; `email` its address, of which the part before the last '@' is used
 * (a login that is an e-mail address is handled the same way). Not NUL-terminated. */
struct tp_password_user {
    const char *login;
    size_t login_len;
    const char *email;
    size_t email_len;
};

/* Applies the policy to the len bytes at pw (not NUL-terminated; NULL when len is 0).
 * `user` and `common` may be NULL: those checks are then skipped. Returns TP_PASSWORD_OK or
 * the first failing rule in the order given above. When len > TP_PASSWORD_MAX_BYTES no byte
 * of pw is read. Bounded time (the login search is quadratic in at most 256 characters, the
 * list lookups are a handful of binary searches); about 4 KiB of stack; thread-safe. */
enum tp_password_reason
tp_password_policy_check(const char *pw, size_t len, const struct tp_password_user *user,
                         const struct tp_password_words *common) TP_MUST_USE;

/* Case-folds the len bytes of UTF-8 at in into out, which must hold len + 1 bytes and may be
 * in itself (folding in place). ASCII and the Latin-1 / Latin Extended-A letters are lowered,
 * every other code point is copied; the folded text has exactly len bytes and is
 * NUL-terminated. TP_ERR_INVALID (out then starts with a NUL, the rest is unspecified) when
 * in is not valid UTF-8. The list loader folds its entries with this so that both sides of
 * the comparison agree. */
enum tp_err tp_password_fold(const char *in, size_t len, char *out) TP_MUST_USE;

#endif
