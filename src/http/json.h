/* Bounded JSON input: size and nesting depth capped before jansson sees the text; duplicate
 * keys and trailing garbage rejected. */
#ifndef TP_HTTP_JSON_H
#define TP_HTTP_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

#define TP_JSON_MAX_DEPTH 8

/* Parses an object. On error returns TP_ERR_INVALID (or TP_ERR_TOO_BIG) with a code such as
 * "malformed_json" in *code and a human message in msg. *out is a new reference. */
enum tp_err tp_json_parse_object(const char *text, size_t len, size_t max_len, json_t **out,
                                 const char **code, char *msg, size_t msglen) TP_MUST_USE;

/* Checks that every key of obj is in the NULL-terminated list `allowed`; otherwise writes the
 * first unknown key (truncated, escaped by the caller's JSON encoder) into msg. */
enum tp_err tp_json_only_keys(json_t *obj, const char *const *allowed, char *msg,
                              size_t msglen) TP_MUST_USE;

#endif
