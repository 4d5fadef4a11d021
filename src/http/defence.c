/* Inline detection on the request path (contract in defence.h). */
#include "http/defence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/detect_state.h"
#include "security/keys.h"

static int tracked(const struct tp_http_request *req)
{
    return req->app->detect && req->who && req->who->role == TP_ROLE_PS;
}

static uint64_t key_of(const struct tp_principal *who)
{
    return who->token_id ? tp_detect_key_token(who->token_id)
                         : tp_detect_key_account(who->account_id);
}

/* Containment: nothing the attacker holds works any more. The account (if a session) is
 * disabled and its sessions revoked; a token is revoked. A human lifts it (security console). */
static void suspend(const struct tp_http_request *req, const struct tp_detect_decision *d)
{
    struct tp_store *st = req->app->store;
    const struct tp_store_ops *ops = tp_store_ops(st);
    void *impl = tp_store_impl(st);
    const struct tp_principal *who = req->who;
    if (who->token_id) {
        (void)ops->token_revoke(impl, who->token_id, req->now_ms / 1000);
    } else {
        (void)ops->account_set_disabled(impl, who->account_id, 1);
        (void)ops->sessions_revoke_all(impl, who->account_id, 0, req->now_ms, NULL);
    }
    tp_http_auth_event(req->app, req, who->account_id, NULL, "detection", "suspended",
                       tp_detect_rule_name(d->rule));
}

/* Fills resp with the refusal a decision calls for; 0 for ALLOW. */
static int refuse(const struct tp_http_request *req, const struct tp_detect_decision *d,
                  struct tp_http_response *resp)
{
    char msg[TP_DETECT_REASON_MAX + 96];
    switch (d->action) {
    case TP_DETECT_DELAY:
        tp_http_respond_error(resp, TP_ERR_BUSY, "slow_down", d->reason);
        resp->status = 429;
        resp->retry_after_s = (int)((d->delay_ms + 999) / 1000);
        return 1;
    case TP_DETECT_STEP_UP:
        snprintf(msg, sizeof msg,
                 "confirm with a fresh TOTP code first (POST /api/v1/auth/step-up): %s", d->reason);
        tp_http_respond_error(resp, TP_ERR_FORBIDDEN, "step_up_required", msg);
        tp_http_auth_event(req->app, req, req->who->account_id, NULL, "detection", "step_up",
                           tp_detect_rule_name(d->rule));
        return 1;
    case TP_DETECT_SUSPEND:
        snprintf(msg, sizeof msg,
                 "this account is suspended by the platform's security team (%s); call the "
                 "platform's support",
                 d->reason);
        tp_http_respond_error(resp, TP_ERR_FORBIDDEN, "account_suspended", msg);
        return 1;
    default:
        return 0;
    }
}

int tp_defence_precheck(const struct tp_http_request *req, enum tp_detect_kind kind,
                        struct tp_http_response *resp)
{
    if (!tracked(req))
        return 0;
    struct tp_detect_decision d;
    tp_detect_precheck(req->app->detect, key_of(req->who), (enum tp_profession)req->who->profession,
                       kind, req->now_ms, &d);
    if (d.action == TP_DETECT_SUSPEND)
        suspend(req, &d); /* a decision of an earlier request: make sure it is persisted */
    return refuse(req, &d, resp);
}

int tp_defence_observe(const struct tp_http_request *req, enum tp_detect_kind kind,
                       const uint8_t *ref, enum tp_detect_outcome outcome,
                       struct tp_http_response *resp)
{
    if (!tracked(req))
        return 0;
    struct tp_detect_decision d;
    tp_detect_observe_request(
        req->app->detect, key_of(req->who), (enum tp_profession)req->who->profession, req->now_ms,
        tp_detect_network_of(req->source), kind, ref, ref ? TP_BIDX_LEN : 0, outcome, &d);
    /* A slow-down applies to the next requests (the precheck); this answer goes out. */
    if (d.action != TP_DETECT_STEP_UP && d.action != TP_DETECT_SUSPEND)
        return 0;
    if (d.action == TP_DETECT_SUSPEND)
        suspend(req, &d);
    /* Withhold: no engagement, the access event says the answer was withheld. */
    struct tp_write_intent keep = resp->wi;
    int had_event = resp->has_write && keep.has_event;
    free(resp->body);
    resp->body = NULL;
    refuse(req, &d, resp);
    memset(&resp->wi, 0, sizeof resp->wi);
    if (had_event) {
        resp->has_write = 1;
        resp->wi.has_event = 1;
        resp->wi.event = keep.event;
        snprintf(resp->wi.event.outcome, sizeof resp->wi.event.outcome, "withheld_by_detection");
        resp->wi.event.fields[0] = 0;
    } else {
        resp->has_write = 0;
    }
    return 1;
}

void tp_defence_step_up(const struct tp_http_request *req)
{
    if (!tracked(req) || req->who->token_id)
        return;
    tp_detect_observe_step_up(req->app->detect, key_of(req->who), req->now_ms,
                              tp_detect_network_of(req->source));
}
