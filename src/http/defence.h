/* Inline detection on the request path (docs/DETECTION.md): the shell around
 * security/detect_state.h. Only PS principals are tracked (PS sessions and PS API tokens).
 *
 *   before the handler    tp_defence_precheck: a suspension or slow-down already decided
 *   once the outcome is   tp_defence_observe: scores this lookup; a STEP_UP or SUSPEND
 *   known, before the     withholds the answer (the prepared response is replaced, the
 *   response              engagement dropped, the access event kept with outcome
 *                         "withheld_by_detection") and SUSPEND contains the account: disabled,
 *                         sessions revoked, the token revoked, an auth event with the rule.
 *
 * Thread-safe (the detection state has its own locks; the store calls are synchronous). */
#ifndef TP_HTTP_DEFENCE_H
#define TP_HTTP_DEFENCE_H

#include <stdint.h>

#include "core/detect.h"
#include "http/handlers.h"

/* 1 when resp was filled (refused: 403 account_suspended / step_up_required, or 429). */
int tp_defence_precheck(const struct tp_http_request *req, enum tp_detect_kind kind,
                        struct tp_http_response *resp);

/* ref: the beneficiary's reference (TP_BIDX_LEN bytes) or NULL when not found. Returns 1 when
 * the answer was withheld (resp replaced by the refusal). */
int tp_defence_observe(const struct tp_http_request *req, enum tp_detect_kind kind,
                       const uint8_t *ref, enum tp_detect_outcome outcome,
                       struct tp_http_response *resp);

/* After a successful step-up (POST /api/v1/auth/step-up) of an account. */
void tp_defence_step_up(const struct tp_http_request *req);

#endif
