#include "http/json.h"

#include <string.h>

/* Depth of nesting, counted outside strings. jansson's own limit is a compile-time constant
 * (2048), far more than any of our requests needs. */
static int depth_ok(const char *s, size_t len, int max)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[') {
            if (++depth > max)
                return 0;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return 1;
}

enum tp_err tp_json_parse_object(const char *text, size_t len, size_t max_len, json_t **out,
                                 const char **code, char *msg, size_t msglen)
{
    json_error_t err;
    *out = NULL;
    if (len > max_len) {
        *code = "body_too_large";
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "request body exceeds %zu bytes", max_len);
    }
    if (len == 0) {
        *code = "malformed_json";
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "request body is empty; a JSON object is expected");
    }
    if (!depth_ok(text, len, TP_JSON_MAX_DEPTH)) {
        *code = "malformed_json";
        return tp_fail(msg, msglen, TP_ERR_INVALID, "JSON nested deeper than %d levels",
                       TP_JSON_MAX_DEPTH);
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        *code = "malformed_json";
        /* Position only: jansson's own text quotes the input near the error, which may be a
         * NIR (PRODUCT §3.1: the NIR is never echoed). */
        return tp_fail(msg, msglen, TP_ERR_INVALID, "malformed JSON at line %d, column %d",
                       err.line, err.column);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *code = "malformed_json";
        return tp_fail(msg, msglen, TP_ERR_INVALID, "a JSON object is expected");
    }
    *out = root;
    return TP_OK;
}

enum tp_err tp_json_only_keys(json_t *obj, const char *const *allowed, char *msg, size_t msglen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        (void)v;
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0) {
                ok = 1;
                break;
            }
        if (!ok) {
            /* Only a short prefix of the key, and only printable ASCII: keys are not data. */
            char safe[33];
            size_t i = 0;
            for (; i < sizeof safe - 1 && key[i]; i++)
                safe[i] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
            safe[i] = '\0';
            return tp_fail(msg, msglen, TP_ERR_INVALID, "unknown field \"%s\"", safe);
        }
    }
    return TP_OK;
}
