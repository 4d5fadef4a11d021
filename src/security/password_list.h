/* The list of common passwords that the policy refuses (PRODUCT §5, CNIL 2022-100; the
 * check itself is in src/core/password_policy.h).
 *
 * The list is data: a text file, one password per line, UTF-8, LF or CRLF line ends; lines
 * that are empty or start with '#' are ignored. The server loads
 * `<source or install dir>/data/common-passwords.txt` once at start-up and shares it
 * read-only between threads. Entries are case-folded (tp_password_fold), sorted and
 * deduplicated in memory; the file is held in one buffer that the entries point into, so
 * a list costs its file size plus one pointer per entry.
 *
 * Bounds: a file larger than TP_PASSWORD_LIST_MAX_FILE is refused. A line longer than
 * TP_PASSWORD_MAX_BYTES, or that is not valid UTF-8, is skipped (a password that long, or
 * that is not UTF-8, is refused by the policy anyway, so such an entry could never match). */
#ifndef TP_SECURITY_PASSWORD_LIST_H
#define TP_SECURITY_PASSWORD_LIST_H

#include <stddef.h>

#include "core/err.h"
#include "core/password_policy.h"

#define TP_PASSWORD_LIST_MAX_FILE ((size_t)64 << 20) /* 64 MiB: ~5 M typical entries */

struct tp_password_list;

/* Reads the list at path. On success *out owns it (free with tp_password_list_free);
 * otherwise *out is NULL and msg says why (TP_ERR_IO: cannot open or read, not a regular
 * file; TP_ERR_TOO_BIG: larger than the cap; TP_ERR_NOMEM). A file with no entry is
 * valid (an empty list). */
enum tp_err tp_password_list_load(const char *path, struct tp_password_list **out, char *msg,
                                  size_t msglen) TP_MUST_USE;

/* Frees the list; NULL is allowed. The words view must not be used afterwards. */
void tp_password_list_free(struct tp_password_list *list);

/* The entries in the form tp_password_policy_check takes. Valid until the list is freed;
 * read-only, so any number of threads may use it at once. */
const struct tp_password_words *tp_password_list_words(const struct tp_password_list *list);

/* Lines skipped at load (too long or not UTF-8), for a start-up log line. */
size_t tp_password_list_skipped(const struct tp_password_list *list);

#endif
