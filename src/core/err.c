#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *tp_err_name(enum tp_err err)
{
    switch (err) {
    case TP_OK:
        return "ok";
    case TP_ERR_INVALID:
        return "invalid";
    case TP_ERR_NOT_FOUND:
        return "not_found";
    case TP_ERR_CONFLICT:
        return "conflict";
    case TP_ERR_AUTH:
        return "unauthenticated";
    case TP_ERR_FORBIDDEN:
        return "forbidden";
    case TP_ERR_CLOSED:
        return "rights_closed";
    case TP_ERR_TOO_BIG:
        return "too_big";
    case TP_ERR_NOMEM:
        return "out_of_memory";
    case TP_ERR_IO:
        return "io_error";
    case TP_ERR_CRYPTO:
        return "crypto_error";
    case TP_ERR_BUSY:
        return "busy";
    case TP_ERR_INTERNAL:
        return "internal";
    }
    return "internal";
}

enum tp_err tp_fail(char *msg, size_t len, enum tp_err err, const char *fmt, ...)
{
    if (msg && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, len, fmt, ap);
        va_end(ap);
    }
    return err;
}
