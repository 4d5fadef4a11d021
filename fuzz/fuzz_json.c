/* Fuzz target: the bounded JSON reader used for every request body (depth pre-scan, jansson
 * with duplicate-key rejection, allowed-keys check). Must never crash, leak or accept a
 * non-object. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const allowed[] = {"amc",  "member", "nir",    "birth_date",
                                          "birth_rank", "date", "domain", NULL};
    char msg[200];
    const char *code = NULL;
    json_t *o = NULL;
    /* An exact-size heap copy, so that ASan sees any read past the end. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    enum tp_err e = tp_json_parse_object(text, size, 16 * 1024, &o, &code, msg, sizeof msg);
    if (e == TP_OK) {
        assert(json_is_object(o));
        e = tp_json_only_keys(o, allowed, msg, sizeof msg);
        assert(e == TP_OK || e == TP_ERR_INVALID);
        json_decref(o);
    } else {
        assert(o == NULL);
        assert(code != NULL);
        assert(e == TP_ERR_INVALID || e == TP_ERR_TOO_BIG);
    }
    free(text);
    return 0;
}
