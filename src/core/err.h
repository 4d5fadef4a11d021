/* One error type for the whole code base.
 *
 * Every fallible function returns an enum tp_err; details, when useful, go into an optional
 * caller-provided message buffer (never containing personal data). The mapping from
 * tp_err to an HTTP status lives in exactly one place: src/http/errors.c. */
#ifndef TP_CORE_ERR_H
#define TP_CORE_ERR_H

#include <stddef.h>

#define TP_MUST_USE __attribute__((warn_unused_result))

enum tp_err {
    TP_OK = 0,
    TP_ERR_INVALID,   /* malformed or out-of-range input */
    TP_ERR_NOT_FOUND, /* no such object (or: not visible to the caller) */
    TP_ERR_CONFLICT,  /* uniqueness / idempotency conflict */
    TP_ERR_AUTH,      /* missing or bad credentials */
    TP_ERR_FORBIDDEN, /* authenticated but not allowed */
    TP_ERR_CLOSED,    /* rights closed at that date */
    TP_ERR_TOO_BIG,   /* a client-controlled size exceeded its cap */
    TP_ERR_NOMEM,
    TP_ERR_IO,     /* file, database or network failure */
    TP_ERR_CRYPTO, /* authentication of ciphertext failed, key problem */
    TP_ERR_BUSY,   /* overloaded: try again */
    TP_ERR_INTERNAL,
};

/* Stable lower-case name of an error ("invalid", "not_found", ...). Never NULL. */
const char *tp_err_name(enum tp_err err);

/* Writes printf-style text into msg (if msg && len) and returns err, so that callers can
 * write `return tp_fail(msg, len, TP_ERR_INVALID, "bad %s", what);`. */
enum tp_err tp_fail(char *msg, size_t len, enum tp_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
