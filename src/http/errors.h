/* Error responses: one JSON shape, {"error":{"code":"...","message":"..."}}, and the single
 * mapping from enum tp_err to an HTTP status. */
#ifndef TP_HTTP_ERRORS_H
#define TP_HTTP_ERRORS_H

#include "core/err.h"

/* HTTP status for an error. */
unsigned tp_http_status(enum tp_err err);

/* Builds the error body into buf (NUL-terminated, JSON-escaped message); returns its length.
 * The code is a stable machine-readable identifier, the message a sentence for humans. */
size_t tp_http_error_body(char *buf, size_t cap, const char *code, const char *message);

#endif
