#include "http/errors.h"

#include <stdio.h>

unsigned tp_http_status(enum tp_err err)
{
    switch (err) {
    case TP_OK:
        return 200;
    case TP_ERR_INVALID:
        return 400;
    case TP_ERR_AUTH:
        return 401;
    case TP_ERR_FORBIDDEN:
        return 403;
    case TP_ERR_NOT_FOUND:
        return 404;
    case TP_ERR_CONFLICT:
        return 409;
    case TP_ERR_TOO_BIG:
        return 413;
    case TP_ERR_CLOSED:
        return 422;
    case TP_ERR_BUSY:
        return 503;
    case TP_ERR_NOMEM:
    case TP_ERR_IO:
    case TP_ERR_CRYPTO:
    case TP_ERR_INTERNAL:
        return 500;
    }
    return 500;
}

size_t tp_http_error_body(char *buf, size_t cap, const char *code, const char *message)
{
    size_t n = 0;
    int w = snprintf(buf, cap, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    if (w < 0 || (size_t)w >= cap)
        return 0;
    n = (size_t)w;
    /* Messages are ours, but escape anyway so the body is always valid JSON. */
    for (const char *p = message; *p && n + 8 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    w = snprintf(buf + n, cap - n, "\"}}");
    return n + (size_t)w;
}
