/* PS API tokens as handed out: "otp_" + 43 characters of URL-safe base64 (256 random bits). */
#ifndef TP_CLI_TOKEN_H
#define TP_CLI_TOKEN_H

#include <stdint.h>

#include "cli/cli.h"

#define TP_TOKEN_PREFIX "otp_"
#define TP_TOKEN_TEXT_LEN (4 + 43)

/* Creates a token for a PS (scope: rights checks), stores its keyed hash, writes the text
 * into out. Returns 0 or -1. */
int tp_token_create(struct tp_platform *p, int64_t ps_id, const char *label, int expires_days,
                    char out[TP_TOKEN_TEXT_LEN + 1], int64_t *token_id);

#endif
