/* Password policy (src/core/password_policy.h, CNIL délibération 2022-100) and the
 * common-password list loader (src/security/password_list.h).
 *
 * Every password goes through an exactly-sized heap copy, not NUL-terminated, so that ASan
 * reports a read past len. The "common" list of most cases is a small built-in one, so that
 * each case shows which rule refuses what; the shipped data file is tested at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/password_policy.h"
#include "security/password_list.h"

/* Sorted by strcmp, as the check requires (small_list_is_sorted checks it). */
static const char *const small_words[] = {"azerty",     "céline",   "loulou", "marseille",
                                          "motdepasse", "password", "soleil"};
static const struct tp_password_words small = {small_words,
                                               sizeof small_words / sizeof small_words[0]};

static enum tp_password_reason run(const char *pw, size_t len, const struct tp_password_user *u,
                                   const struct tp_password_words *list)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, pw, len);
    const enum tp_password_reason r = tp_password_policy_check(len ? copy : NULL, len, u, list);
    free(copy);
    return r;
}

/* The policy with the small list and no account. */
static enum tp_password_reason check(const char *pw)
{
    return run(pw, strlen(pw), NULL, &small);
}

static enum tp_password_reason check_login(const char *pw, const char *login, const char *email)
{
    const struct tp_password_user u = {login, login ? strlen(login) : 0, email,
                                       email ? strlen(email) : 0};
    return run(pw, strlen(pw), &u, &small);
}

#define assert_reason(expr, want)                                                                  \
    assert_string_equal(tp_password_reason_name(expr), tp_password_reason_name(want))

/* ---------------------------------------------------------------------------------------
 * CNIL 2022-100 (a): >= 12 characters, upper, lower, digit, special */

static void all_four_classes_at_12_characters_is_accepted(void **state)
{
    (void)state;
    assert_reason(check("Tr0ub4dor&3x"), TP_PASSWORD_OK);
    assert_reason(check("x-Y.z_9 Wq+k"), TP_PASSWORD_OK); /* a space is a special */
}

static void all_four_classes_at_11_characters_is_too_short(void **state)
{
    (void)state;
    assert_reason(check("Tr0ub4dor&3"), TP_PASSWORD_TOO_SHORT);
    assert_reason(check(""), TP_PASSWORD_TOO_SHORT);
    assert_reason(run(NULL, 0, NULL, NULL), TP_PASSWORD_TOO_SHORT);
    assert_reason(check("Aa1!"), TP_PASSWORD_TOO_SHORT);
}

static void twelve_or_thirteen_characters_need_a_special(void **state)
{
    (void)state;
    assert_reason(check("Zebulon7Kay9"), TP_PASSWORD_MISSING_CLASSES);  /* 12, no special */
    assert_reason(check("Zebulon7Kaya9"), TP_PASSWORD_MISSING_CLASSES); /* 13, no special */
    assert_reason(check("zebulon7kay!"), TP_PASSWORD_MISSING_CLASSES);  /* no upper */
    assert_reason(check("ZEBULON7KAY!"), TP_PASSWORD_MISSING_CLASSES);  /* no lower */
    assert_reason(check("Zebulon-Kay!"), TP_PASSWORD_MISSING_CLASSES);  /* no digit */
}

/* ---------------------------------------------------------------------------------------
 * CNIL 2022-100 (b): >= 14 characters, upper, lower, digit */

static void three_classes_at_14_characters_is_accepted(void **state)
{
    (void)state;
    assert_reason(check("Zebulon7Kayak9"), TP_PASSWORD_OK);
    assert_reason(check("Zebulon7Kayak9WithMore"), TP_PASSWORD_OK);
}

static void fourteen_characters_still_need_upper_lower_and_digit(void **state)
{
    (void)state;
    assert_reason(check("zebulon7kayak9"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("ZEBULON7KAYAK9"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("ZebulonXKayakZ"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("12345678901234567890"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("abcdefghijklmnopqrstuvwxyz"), TP_PASSWORD_MISSING_CLASSES);
}

/* ---------------------------------------------------------------------------------------
 * Characters are code points */

static void length_counts_code_points_not_bytes(void **state)
{
    (void)state;
    /* 16 characters, 18 bytes; É is the upper-case letter. */
    assert_reason(check("Éléphant-Rose-7!"), TP_PASSWORD_OK);
    assert_reason(check("Éléphant-rose-7!"), TP_PASSWORD_OK);
    /* 11 characters in 16 bytes: too short although > 12 bytes. */
    assert_reason(check("Éèçàù-Ab1!x"), TP_PASSWORD_TOO_SHORT);
    /* 10 characters in 12 bytes. */
    assert_reason(check("Éléphant7!"), TP_PASSWORD_TOO_SHORT);
    /* 13 characters (a 4-byte emoji is one, a special), 16 bytes. */
    assert_reason(check("Zebulon7Kaya\xF0\x9F\x98\x80"), TP_PASSWORD_OK);
    /* 11 characters, 14 bytes. */
    assert_reason(check("Zebulon7Ka\xF0\x9F\x98\x80"), TP_PASSWORD_TOO_SHORT);
}

static void accented_latin_letters_have_a_case(void **state)
{
    (void)state;
    /* No ASCII upper case: Œ and Ÿ are the upper-case letters. */
    assert_reason(check("Œuvre-d'art-42x"), TP_PASSWORD_OK);
    assert_reason(check("Ÿvette-d'art-42x"), TP_PASSWORD_OK);
    /* All lower case, accents included: no upper. */
    assert_reason(check("œuvre-d'art-42x"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("éléphant-rose-7!"), TP_PASSWORD_MISSING_CLASSES);
    /* × and ÷ are symbols, not letters. */
    assert_reason(check("ZEBULON×KAYAK÷7x"), TP_PASSWORD_OK);
    assert_reason(check("zebulon×kayak÷7x"), TP_PASSWORD_MISSING_CLASSES);
}

static void letters_of_other_scripts_count_as_special(void **state)
{
    (void)state;
    assert_reason(check("Zebulon7KayaЖ"), TP_PASSWORD_OK);               /* Ж: the special */
    assert_reason(check("ЖЖЖЖЖЖЖЖЖЖЖЖЖЖ"), TP_PASSWORD_MISSING_CLASSES); /* only specials */
}

/* ---------------------------------------------------------------------------------------
 * CNIL 2022-100 (c): passphrase of >= 7 distinct words of >= 3 letters */

static void seven_words_make_a_passphrase(void **state)
{
    (void)state;
    assert_reason(check("cheval agrafe correct batterie piano riviere nuage"), TP_PASSWORD_OK);
    assert_reason(check("cheval-agrafe_correct.batterie piano riviere nuage"), TP_PASSWORD_OK);
    assert_reason(check("  cheval  agrafe correct batterie piano riviere nuage  "), TP_PASSWORD_OK);
    /* Accented words: "été" has 3 letters. */
    assert_reason(check("éléphant hérisson écureuil château forêt rivière été"), TP_PASSWORD_OK);
    /* A common word inside a passphrase is fine. */
    assert_reason(check("soleil cheval agrafe correct batterie piano riviere"), TP_PASSWORD_OK);
}

static void six_words_are_not_a_passphrase(void **state)
{
    (void)state;
    assert_reason(check("cheval agrafe correct batterie piano riviere"),
                  TP_PASSWORD_MISSING_CLASSES);
    /* Words glued by other characters are one word. */
    assert_reason(check("cheval/agrafe/correct/batterie/piano/riviere/nuage"),
                  TP_PASSWORD_MISSING_CLASSES);
}

static void words_under_three_letters_do_not_count(void **state)
{
    (void)state;
    /* Counted: chat, voisine, mange, des, souris (le, de, la do not count). */
    assert_reason(check("le chat de la voisine mange des souris"), TP_PASSWORD_MISSING_CLASSES);
    /* Digits are not letters: "ab1" has 2. */
    assert_reason(check("ab1 cd2 ef3 gh4 ij5 kl6 mn7 op8 qr9"), TP_PASSWORD_MISSING_CLASSES);
    /* With one more real word it is a passphrase. */
    assert_reason(check("le chat de la voisine mange des souris grises et noires"), TP_PASSWORD_OK);
}

static void repeated_words_count_once(void **state)
{
    (void)state;
    assert_reason(check("chat chat chat chat chat chat chat"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("Chat CHAT chat cHaT chaT Chat chAt"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("chat chien chat chien chat chien chat poule"),
                  TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("Château château CHÂTEAU tour pont mur porte fossé"),
                  TP_PASSWORD_MISSING_CLASSES); /* château, tour, pont, mur, porte, fossé */
}

/* ---------------------------------------------------------------------------------------
 * Well-formedness */

static void at_most_256_bytes(void **state)
{
    (void)state;
    char buf[400];
    memcpy(buf, "Aa1!", 4);
    memset(buf + 4, 'x', sizeof buf - 4);
    assert_reason(run(buf, 256, NULL, &small), TP_PASSWORD_OK);
    assert_reason(run(buf, 257, NULL, &small), TP_PASSWORD_TOO_LONG);
    assert_reason(run(buf, sizeof buf, NULL, &small), TP_PASSWORD_TOO_LONG);
    /* 128 two-byte characters are 256 bytes: accepted; one more byte is too long. */
    char acc[258];
    for (int i = 0; i < 128; i++)
        memcpy(acc + 2 * i, i % 2 ? "\xC3\xA9" : "\xC3\x89", 2); /* É é É é ... */
    memcpy(acc + 250, "1!", 2); /* one 2-byte character becomes two: still 256 bytes */
    assert_reason(run(acc, 256, NULL, &small), TP_PASSWORD_OK);
    acc[256] = 'x';
    assert_reason(run(acc, 257, NULL, &small), TP_PASSWORD_TOO_LONG);
    /* Too long wins over everything else, without looking at the bytes. */
    char bad[300];
    memset(bad, 0xFF, sizeof bad);
    assert_reason(run(bad, sizeof bad, NULL, &small), TP_PASSWORD_TOO_LONG);
}

static void control_characters_are_refused(void **state)
{
    (void)state;
    static const char *const controls[] = {"\t",   "\n",       "\r",       "\x1B",
                                           "\x7F", "\xC2\x80", "\xC2\x85", "\xC2\x9F"};
    for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++) {
        char buf[64];
        const int n = snprintf(buf, sizeof buf, "Tr0ub4dor&3x%sMore", controls[i]);
        assert_reason(run(buf, (size_t)n, NULL, &small), TP_PASSWORD_CONTROL_CHARACTER);
    }
    /* NUL inside the (ptr, len) password. */
    assert_reason(run("Tr0ub4dor&3x\0More", 17, NULL, &small), TP_PASSWORD_CONTROL_CHARACTER);
    /* U+00A0 (no-break space) and U+00A1 are not controls. */
    assert_reason(check("Tr0ub4dor\xC2\xA0\xC2\xA1x"), TP_PASSWORD_OK);
}

static void invalid_utf8_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80",             /* lone continuation byte */
        "\xC3",             /* truncated 2-byte sequence, at the end */
        "\xC3(",            /* bad continuation */
        "\xC0\xAF",         /* overlong '/' */
        "\xC1\xBF",         /* overlong */
        "\xE0\x80\xAF",     /* overlong 3-byte */
        "\xED\xA0\x80",     /* surrogate U+D800 */
        "\xED\xBF\xBF",     /* surrogate U+DFFF */
        "\xF0\x80\x80\xAF", /* overlong 4-byte */
        "\xF4\x90\x80\x80", /* U+110000 */
        "\xF5\x80\x80\x80", /* no such lead byte */
        "\xFE",
        "\xFF",
        "\xE2\x82",     /* truncated 3-byte */
        "\xF0\x9F\x98", /* truncated 4-byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        const int n = snprintf(buf, sizeof buf, "Tr0ub4dor&3x%s", bad[i]);
        assert_reason(run(buf, (size_t)n, NULL, &small), TP_PASSWORD_INVALID_UTF8);
    }
    /* The largest code points and those just outside the surrogates are fine. */
    assert_reason(check("Tr0ub4dor&3x\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80"), TP_PASSWORD_OK);
}

/* ---------------------------------------------------------------------------------------
 * Personal data */

static void password_containing_the_login_is_refused(void **state)
{
    (void)state;
    assert_reason(check_login("Jdupont-2024!x", "jdupont", NULL), TP_PASSWORD_CONTAINS_LOGIN);
    assert_reason(check_login("x!JDUPONT2024y", "jdupont", NULL), TP_PASSWORD_CONTAINS_LOGIN);
    assert_reason(check_login("Zebulon7Kayak9", "jdupont", NULL), TP_PASSWORD_OK);
    /* Accented login, compared case-insensitively. */
    assert_reason(check_login("HÉLÈNE-Mars-24", "hélène", NULL), TP_PASSWORD_CONTAINS_LOGIN);
}

static void password_containing_the_email_local_part_is_refused(void **state)
{
    (void)state;
    const char *email = "jean.dupont@example.fr";
    assert_reason(check_login("Jean.Dupont!24", NULL, email), TP_PASSWORD_CONTAINS_LOGIN);
    /* A component of the local part (>= 4 characters) is enough. */
    assert_reason(check_login("Dupont!Mars2024", NULL, email), TP_PASSWORD_CONTAINS_LOGIN);
    assert_reason(check_login("Mars2024!jean", NULL, email), TP_PASSWORD_CONTAINS_LOGIN);
    /* The domain is not the person. */
    assert_reason(check_login("Example!Mars2024", NULL, email), TP_PASSWORD_OK);
    /* A login that is an e-mail address is treated the same way. */
    assert_reason(check_login("Dupont!Mars2024", email, NULL), TP_PASSWORD_CONTAINS_LOGIN);
    /* Both fields are checked. */
    assert_reason(check_login("Marie!Dupont24", "marie", email), TP_PASSWORD_CONTAINS_LOGIN);
}

static void logins_under_four_characters_are_not_looked_for(void **state)
{
    (void)state;
    assert_reason(check_login("Bob!Mars2024xy", "bob", NULL), TP_PASSWORD_OK);
    /* "jo" is too short; "dupont" is not in this password. */
    assert_reason(check_login("Jo!Mars2024xyz", "jo.dupont", NULL), TP_PASSWORD_OK);
    /* Invalid UTF-8 in a login cannot match anything. */
    assert_reason(check_login("Zebulon7Kayak9", "\xFF\xFEzebulon", NULL), TP_PASSWORD_OK);
    /* Empty or NULL fields. */
    assert_reason(check_login("Zebulon7Kayak9", "", ""), TP_PASSWORD_OK);
    assert_reason(check_login("Zebulon7Kayak9", NULL, NULL), TP_PASSWORD_OK);
}

/* ---------------------------------------------------------------------------------------
 * Common passwords */

static void small_list_is_sorted(void **state)
{
    (void)state;
    for (size_t i = 1; i < small.n; i++)
        assert_true(strcmp(small.words[i - 1], small.words[i]) < 0);
}

static void common_password_with_digits_and_symbols_appended(void **state)
{
    (void)state;
    assert_reason(check("Azerty123456!"), TP_PASSWORD_COMMON);
    assert_reason(check("AzErTy123456!"), TP_PASSWORD_COMMON);  /* case-insensitive */
    assert_reason(check("Motdepasse2024"), TP_PASSWORD_COMMON); /* (b) strong, still common */
    assert_reason(check("Soleil-2024!!"), TP_PASSWORD_COMMON);
    assert_reason(check("Céline-1984!!"), TP_PASSWORD_COMMON); /* accented entry */
    assert_reason(check("CÉLINE-1984!!x"), TP_PASSWORD_OK);    /* ends with a letter: kept */
}

static void common_password_with_digits_and_symbols_around(void **state)
{
    (void)state;
    assert_reason(check("2024Marseille!"), TP_PASSWORD_COMMON);
    assert_reason(check("!!1Loulou2024"), TP_PASSWORD_COMMON);
}

static void common_password_with_substitutions(void **state)
{
    (void)state;
    assert_reason(check("P@ssw0rd2024!!"), TP_PASSWORD_COMMON);
    assert_reason(check("M0tdepasse!123"), TP_PASSWORD_COMMON);
    assert_reason(check("L0u1ou-2024!!"), TP_PASSWORD_COMMON); /* 1 for l */
    assert_reason(check("@zerty-2024!!x"), TP_PASSWORD_MISSING_CLASSES);
    assert_reason(check("@Zerty-2024!!"), TP_PASSWORD_COMMON);
}

static void common_word_inside_a_longer_password_is_fine(void **state)
{
    (void)state;
    assert_reason(check("Mon-Soleil-2024x"), TP_PASSWORD_OK);
    assert_reason(check("Soleil2024!abc"), TP_PASSWORD_OK);
    assert_reason(check("Azerty123456!z"), TP_PASSWORD_OK);
}

static void no_list_or_empty_list_skips_the_check(void **state)
{
    (void)state;
    const struct tp_password_words empty = {NULL, 0};
    assert_reason(run("Azerty123456!", 13, NULL, NULL), TP_PASSWORD_OK);
    assert_reason(run("Azerty123456!", 13, NULL, &empty), TP_PASSWORD_OK);
}

static void order_of_the_checks(void **state)
{
    (void)state;
    /* Strength before the list: "azerty" is both, reported as too short. */
    assert_reason(check("azerty"), TP_PASSWORD_TOO_SHORT);
    /* Login before the list. */
    assert_reason(check_login("Azerty123456!", "azerty", NULL), TP_PASSWORD_CONTAINS_LOGIN);
    /* Control character before strength. */
    assert_reason(check("a\tb"), TP_PASSWORD_CONTROL_CHARACTER);
    /* Invalid UTF-8 before control characters. */
    assert_reason(check("\t\xFF"), TP_PASSWORD_INVALID_UTF8);
}

/* ---------------------------------------------------------------------------------------
 * Reasons and folding */

static void reasons_have_stable_names_and_messages(void **state)
{
    (void)state;
    static const struct {
        enum tp_password_reason r;
        const char *name;
    } want[] = {
        {TP_PASSWORD_OK, "ok"},
        {TP_PASSWORD_TOO_LONG, "too_long"},
        {TP_PASSWORD_INVALID_UTF8, "invalid_utf8"},
        {TP_PASSWORD_CONTROL_CHARACTER, "control_character"},
        {TP_PASSWORD_TOO_SHORT, "too_short"},
        {TP_PASSWORD_MISSING_CLASSES, "missing_classes"},
        {TP_PASSWORD_CONTAINS_LOGIN, "contains_login"},
        {TP_PASSWORD_COMMON, "common_password"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_string_equal(tp_password_reason_name(want[i].r), want[i].name);
        const char *m = tp_password_reason_message(want[i].r);
        assert_non_null(m);
        assert_true(strlen(m) > 10);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m, tp_password_reason_message(want[j].r));
    }
    assert_string_equal(tp_password_reason_name((enum tp_password_reason)99), "invalid");
    assert_non_null(tp_password_reason_message((enum tp_password_reason)99));
}

static void fold_lowers_latin_letters_and_keeps_the_length(void **state)
{
    (void)state;
    const char *in = "AZaz09 ÉÀÇÞ×ŒŸĀĹĽŊŽß İЖ😀";
    const char *want = "azaz09 éàçþ×œÿāĺľŋžß ıЖ😀";
    char out[64];
    assert_int_equal(tp_password_fold(in, strlen(in), out), TP_OK);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), strlen(in));
    /* In place. */
    char buf[64];
    strcpy(buf, in);
    assert_int_equal(tp_password_fold(buf, strlen(buf), buf), TP_OK);
    assert_string_equal(buf, want);
    /* Invalid input. */
    assert_int_equal(tp_password_fold("ab\xC3", 3, out), TP_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(tp_password_fold("", 0, out), TP_OK);
    assert_string_equal(out, "");
}

/* ---------------------------------------------------------------------------------------
 * The list loader and the shipped list */

static char tmpdir[64];

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void loader_folds_sorts_dedups_and_skips(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tp_pwlist_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char path[128];
    snprintf(path, sizeof path, "%s/list.txt", tmpdir);

    char data[1024];
    size_t n = 0;
#define PUT(s) (memcpy(data + n, s, sizeof s - 1), n += sizeof s - 1)
    PUT("# a comment\r\nZebra\r\nzebra\nAZERTY\n\n\r\n");
    memset(data + n, 'a', 300); /* too long: skipped */
    n += 300;
    PUT("\n\xFF\xFE\n"); /* not UTF-8: skipped */
    PUT("ÉLÉPHANT\n");
    PUT("with space\n");
    PUT("last-no-newline"); /* no final LF */
#undef PUT
    write_file(path, data, n);

    struct tp_password_list *l = NULL;
    char msg[128];
    assert_int_equal(tp_password_list_load(path, &l, msg, sizeof msg), TP_OK);
    const struct tp_password_words *w = tp_password_list_words(l);
    static const char *const want[] = {"azerty", "last-no-newline", "with space", "zebra",
                                       "éléphant"};
    assert_int_equal(w->n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < w->n; i++)
        assert_string_equal(w->words[i], want[i]);
    assert_int_equal(tp_password_list_skipped(l), 2);
    /* Usable by the check as is. */
    assert_reason(tp_password_policy_check("Éléphant-2024!", strlen("Éléphant-2024!"), NULL, w),
                  TP_PASSWORD_COMMON);
    tp_password_list_free(l);

    /* An empty file is an empty list. */
    write_file(path, "", 0);
    assert_int_equal(tp_password_list_load(path, &l, msg, sizeof msg), TP_OK);
    assert_int_equal(tp_password_list_words(l)->n, 0);
    tp_password_list_free(l);
    tp_password_list_free(NULL);

    unlink(path);
    rmdir(tmpdir);
}

static void loader_reports_missing_files_and_directories(void **state)
{
    (void)state;
    struct tp_password_list *l = (struct tp_password_list *)1;
    char msg[160];
    assert_int_equal(
        tp_password_list_load("/nonexistent/common-passwords.txt", &l, msg, sizeof msg), TP_ERR_IO);
    assert_null(l);
    assert_non_null(strstr(msg, "cannot open"));
    assert_int_equal(tp_password_list_load("/tmp", &l, msg, sizeof msg), TP_ERR_IO);
    assert_null(l);
}

/* data/common-passwords.txt, found from this file's path (the build passes absolute
 * sources), or from $TP_SRC. */
static void shipped_list_path(char *out, size_t len)
{
    const char *src = getenv("TP_SRC");
    if (src) {
        snprintf(out, len, "%s/data/common-passwords.txt", src);
        return;
    }
    const char *self = __FILE__;
    const char *tail = strstr(self, "tests/unit/test_password_policy.c");
    assert_non_null(tail);
    snprintf(out, len, "%.*sdata/common-passwords.txt", (int)(tail - self), self);
}

static void shipped_list_has_1000_sorted_folded_entries(void **state)
{
    (void)state;
    char path[4096];
    shipped_list_path(path, sizeof path);
    struct tp_password_list *l = NULL;
    char msg[256];
    assert_int_equal(tp_password_list_load(path, &l, msg, sizeof msg), TP_OK);
    const struct tp_password_words *w = tp_password_list_words(l);
    assert_true(w->n >= 1000);
    assert_int_equal(tp_password_list_skipped(l), 0);
    for (size_t i = 0; i < w->n; i++) {
        char f[TP_PASSWORD_MAX_BYTES + 1];
        assert_int_equal(tp_password_fold(w->words[i], strlen(w->words[i]), f), TP_OK);
        assert_string_equal(f, w->words[i]);
        if (i > 0)
            assert_true(strcmp(w->words[i - 1], w->words[i]) < 0);
    }
    /* The usual suspects, in the forms people make them "strong". */
    static const char *const refused[] = {
        "Azerty123456!",  "Azertyuiop2024",  "Motdepasse123!", "Marseille13!!",  "Soleil2024!!!",
        "Doudou-1234567", "Loulou!123456",   "Nicolas-2024!",  "Qwertyuiop123!", "P@ssw0rd2024!",
        "Password12345!", "Iloveyou2024!!",  "Jetaime123456!", "Chouchou2024!!", "Céline-1984!!",
        "Bonjour2024!!!", "2024Liverpool!!", "Princesse2024!",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const enum tp_password_reason r = run(refused[i], strlen(refused[i]), NULL, w);
        if (r != TP_PASSWORD_COMMON)
            fail_msg("case %zu: %s", i, tp_password_reason_name(r));
    }
    assert_reason(run("Zebulon7Kayak9", 14, NULL, w), TP_PASSWORD_OK);
    assert_reason(run("Éléphant-Rose-7!", strlen("Éléphant-Rose-7!"), NULL, w), TP_PASSWORD_OK);
    tp_password_list_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_four_classes_at_12_characters_is_accepted),
        cmocka_unit_test(all_four_classes_at_11_characters_is_too_short),
        cmocka_unit_test(twelve_or_thirteen_characters_need_a_special),
        cmocka_unit_test(three_classes_at_14_characters_is_accepted),
        cmocka_unit_test(fourteen_characters_still_need_upper_lower_and_digit),
        cmocka_unit_test(length_counts_code_points_not_bytes),
        cmocka_unit_test(accented_latin_letters_have_a_case),
        cmocka_unit_test(letters_of_other_scripts_count_as_special),
        cmocka_unit_test(seven_words_make_a_passphrase),
        cmocka_unit_test(six_words_are_not_a_passphrase),
        cmocka_unit_test(words_under_three_letters_do_not_count),
        cmocka_unit_test(repeated_words_count_once),
        cmocka_unit_test(at_most_256_bytes),
        cmocka_unit_test(control_characters_are_refused),
        cmocka_unit_test(invalid_utf8_is_refused),
        cmocka_unit_test(password_containing_the_login_is_refused),
        cmocka_unit_test(password_containing_the_email_local_part_is_refused),
        cmocka_unit_test(logins_under_four_characters_are_not_looked_for),
        cmocka_unit_test(small_list_is_sorted),
        cmocka_unit_test(common_password_with_digits_and_symbols_appended),
        cmocka_unit_test(common_password_with_digits_and_symbols_around),
        cmocka_unit_test(common_password_with_substitutions),
        cmocka_unit_test(common_word_inside_a_longer_password_is_fine),
        cmocka_unit_test(no_list_or_empty_list_skips_the_check),
        cmocka_unit_test(order_of_the_checks),
        cmocka_unit_test(reasons_have_stable_names_and_messages),
        cmocka_unit_test(fold_lowers_latin_letters_and_keeps_the_length),
        cmocka_unit_test(loader_folds_sorts_dedups_and_skips),
        cmocka_unit_test(loader_reports_missing_files_and_directories),
        cmocka_unit_test(shipped_list_has_1000_sorted_folded_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
