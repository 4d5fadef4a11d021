/* GET /api/v1/switches and POST /api/v1/switches — the kill switches (docs/SECURITY.md
 * "Kill switches", docs/API.md). Changing one needs the security team's role and a fresh TOTP
 * (authz table); every change is recorded as an auth event with who, which switch and why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "http/handlers.h"
#include "http/switches.h"

void tp_api_switch_list(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_switch_state *st = malloc(sizeof *st);
    if (!st) {
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "out of memory");
        return;
    }
    tp_switches_snapshot(req->app->switches, st, req->now_ms);
    json_t *ch = json_object();
    for (int i = 0; i < TP_CH_COUNT; i++)
        json_object_set_new(ch, tp_channel_name((enum tp_channel)i),
                            json_string(st->channel_off[i] ? "off" : "on"));
    json_t *ps = json_array(), *amc = json_array();
    for (size_t i = 0; i < st->n_ps; i++)
        json_array_append_new(ps, json_integer(st->ps_off[i]));
    for (size_t i = 0; i < st->n_amc; i++)
        json_array_append_new(amc, json_string(st->amc_off[i]));
    free(st);
    tp_http_respond_json(
        resp, 200, json_pack("{s:o, s:o, s:o}", "channels", ch, "ps_off", ps, "amc_off", amc));
}

void tp_api_switch_set(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"scope", "key", "off", "reason", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *scope = tp_http_str_field(o, "scope", 1, 16, resp, &bad);
    const char *key = bad ? NULL : tp_http_str_field(o, "key", 1, 20, resp, &bad);
    const char *reason = bad ? NULL : tp_http_str_field(o, "reason", 3, 200, resp, &bad);
    json_t *off = json_object_get(o, "off");
    char msg[160], keybuf[24];
    if (!bad && (!scope || !key || !reason || !off || !json_is_boolean(off))) {
        bad = 1;
        tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                              "\"scope\", \"key\", \"off\" (boolean) and \"reason\" are required");
    }
    if (!bad) {
        snprintf(keybuf, sizeof keybuf, "%s", key);
        if (strcmp(scope, "channel") == 0) {
            if (tp_channel_parse(key) < 0) {
                bad = 1;
                tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_key",
                                      "a channel is one of portal, ps_api, member, rights");
            }
        } else if (strcmp(scope, "ps") == 0) {
            char *end;
            long long id = strtoll(key, &end, 10);
            if (*end || id <= 0) {
                bad = 1;
                tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_key",
                                      "a PS switch's key is the PS id (a positive integer)");
            } else {
                snprintf(keybuf, sizeof keybuf, "%lld", id);
            }
        } else if (strcmp(scope, "amc") == 0) {
            if (tp_amc_check(key, strlen(key), msg, sizeof msg) != TP_OK) {
                bad = 1;
                tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_key", msg);
            }
        } else {
            bad = 1;
            tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_scope",
                                  "\"scope\" is one of channel, ps, amc");
        }
    }
    if (bad) {
        json_decref(o);
        return;
    }
    int is_off = json_is_true(off);
    enum tp_err e = tp_switches_set(req->app->switches, scope, keybuf, is_off, reason,
                                    req->who->account_id, req->now_ms);
    if (e != TP_OK) {
        json_decref(o);
        tp_http_respond_error(resp, e, "storage_error", "the switch could not be recorded");
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%s:%s %s", scope, keybuf, is_off ? "off" : "on");
    tp_http_auth_event(req->app, req, req->who->account_id, NULL, "kill_switch",
                       is_off ? "off" : "on", detail);
    tp_http_respond_json(resp, 200,
                         json_pack("{s:s, s:s, s:b, s:s}", "scope", scope, "key", keybuf, "off",
                                   is_off, "reason", reason));
    json_decref(o);
}
