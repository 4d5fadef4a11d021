/* Accounts through the API: insurer staff create staff and member accounts of their own AMC,
 * operators any account; insurer staff and security officers force a password reset (which
 * also ends the account's sessions). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "security/account_new.h"
#include "security/password_list.h"

enum tp_err tp_resolve_account(const struct tp_http_request *req, struct tp_object *obj)
{
    struct tp_account_row a;
    struct tp_store *st = req->app->store;
    enum tp_err e = tp_store_ops(st)->account_get(tp_store_impl(st), req->path_id, &a);
    if (e != TP_OK)
        return e;
    obj->kind = TP_OWNER_TENANT;
    obj->amc_id = a.amc_id;
    obj->platform = a.role != TP_ROLE_INSURER; /* only insurer staff belong to an AMC */
    return TP_OK;
}

/* The tenant an account is being created in, from the request body (the body is parsed
 * again by the handler). */
/* The tenant an account is being created in, from the request body (the body is parsed
 * again by the handler): an insurer account belongs to its AMC (amc_id), a member account to
 * the AMC of its beneficiary (amc, the AMC number on the card); the others to the platform. */
enum tp_err tp_resolve_new_account(const struct tp_http_request *req, struct tp_object *obj)
{
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
    obj->kind = TP_OWNER_TENANT;
    obj->platform = 1;
    if (o && json_is_object(o)) {
        json_t *role = json_object_get(o, "role"), *amc = json_object_get(o, "amc_id");
        json_t *number = json_object_get(o, "amc");
        const char *r = json_is_string(role) ? json_string_value(role) : "";
        if (strcmp(r, "insurer") == 0 && json_is_integer(amc)) {
            obj->platform = 0;
            obj->amc_id = (int64_t)json_integer_value(amc);
        } else if (strcmp(r, "member") == 0 && json_is_string(number) &&
                   json_string_length(number) < 10) {
            struct tp_store *st = req->app->store;
            int64_t id = 0;
            if (tp_store_ops(st)->amc_find(tp_store_impl(st), json_string_value(number), &id,
                                           NULL) == TP_OK) {
                obj->platform = 0;
                obj->amc_id = id;
            }
        }
    }
    json_decref(o);
    return TP_OK;
}

struct account_job {
    struct tp_app *app;
    struct tp_http_request req;
    char request_id[33], source[48];
    char login[TP_LOGIN_MAX];
    struct tp_new_account in;
    int64_t actor;
};

static void account_job_free(void *arg)
{
    free(arg);
}

static void account_run(void *arg, struct tp_http_response *resp)
{
    struct account_job *j = arg;
    struct tp_new_account_secrets sec;
    char msg[160];
    int64_t id = 0;
    j->req.request_id = j->request_id;
    j->req.source = j->source;
    j->in.login = j->login;
    const struct tp_password_words *common =
        j->app->common_passwords ? tp_password_list_words(j->app->common_passwords) : NULL;
    enum tp_err e = tp_account_new(j->app->store, j->app->keys, &j->in, common, j->req.now_ms, &sec,
                                   &id, msg, sizeof msg);
    tp_http_auth_event(j->app, &j->req, j->actor, NULL, "account_create",
                       e == TP_OK ? "ok" : tp_err_name(e), tp_role_name(j->in.role));
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, e == TP_ERR_CONFLICT ? "login_taken" : "invalid_account",
                              msg);
        account_job_free(j);
        return;
    }
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)id, "login", j->login, "role",
                  tp_role_name(j->in.role), "initial_password", sec.password, "must_reset", 1);
    if (sec.has_totp) {
        json_t *codes = json_array();
        for (int i = 0; i < TP_RECOVERY_COUNT; i++)
            json_array_append_new(codes, json_string(sec.recovery[i]));
        json_object_set_new(o, "totp_secret", json_string(sec.totp_base32));
        json_object_set_new(o, "otpauth_uri", json_string(sec.totp_uri));
        json_object_set_new(o, "recovery_codes", codes);
    }
    sodium_memzero(&sec, sizeof sec);
    tp_http_respond_json(resp, 201, o);
    account_job_free(j);
}

void tp_api_account_create(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"login", "role",   "amc_id", "ps_id",
                                       "amc",   "member", "rank",   NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *login = tp_http_str_field(o, "login", 3, TP_LOGIN_MAX - 1, resp, &bad);
    const char *role = bad ? NULL : tp_http_str_field(o, "role", 1, 16, resp, &bad);
    int r = role ? tp_role_parse(role, strlen(role)) : -1;
    json_t *amc = json_object_get(o, "amc_id"), *ps = json_object_get(o, "ps_id");
    if (!bad &&
        (!login || r < 0 || (amc && !json_is_integer(amc)) || (ps && !json_is_integer(ps)))) {
        bad = 1;
        tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_field",
                              "\"login\", \"role\" and the tenant (\"ps_id\" or \"amc_id\", "
                              "integers; for a member \"amc\", \"member\" and \"rank\") are "
                              "required");
    }
    /* Platform roles and PS accounts are the operators' business. */
    if (!bad && req->who->role == TP_ROLE_INSURER && r != TP_ROLE_INSURER && r != TP_ROLE_MEMBER) {
        bad = 1;
        tp_http_respond_error(resp, TP_ERR_FORBIDDEN, "forbidden",
                              "insurer staff create accounts of their own AMC only");
    }
    int64_t beneficiary = 0;
    if (!bad && r == TP_ROLE_MEMBER) {
        /* The member's beneficiary, by the card's AMC number, member number and rank. */
        const char *number = tp_http_str_field(o, "amc", 9, 9, resp, &bad);
        const char *member =
            bad ? NULL : tp_http_str_field(o, "member", 1, TP_MEMBER_MAX - 1, resp, &bad);
        json_t *rank = json_object_get(o, "rank");
        uint8_t bidx[TP_BIDX_LEN];
        struct tp_store *st = req->app->store;
        if (!bad && (!number || !member || !json_is_integer(rank))) {
            bad = 1;
            tp_http_respond_error(resp, TP_ERR_INVALID, "invalid_field",
                                  "a member account needs \"amc\", \"member\" and \"rank\"");
        } else if (!bad) {
            tp_bidx_member(req->app->keys, number, member, bidx);
            if (tp_store_ops(st)->beneficiary_id_by_member(tp_store_impl(st), bidx,
                                                           (int)json_integer_value(rank),
                                                           &beneficiary) != TP_OK) {
                bad = 1;
                tp_http_respond_error(resp, TP_ERR_NOT_FOUND, "not_found",
                                      "no such beneficiary in this AMC");
            }
        }
    }
    if (bad) {
        json_decref(o);
        return;
    }
    struct account_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "out of memory");
        return;
    }
    j->app = req->app;
    j->req = *req;
    j->req.body = NULL;
    snprintf(j->request_id, sizeof j->request_id, "%s", req->request_id);
    snprintf(j->source, sizeof j->source, "%s", req->source);
    snprintf(j->login, sizeof j->login, "%s", login);
    j->in.role = (enum tp_role)r;
    j->in.amc_id = amc ? (int64_t)json_integer_value(amc) : 0;
    j->in.ps_id = ps ? (int64_t)json_integer_value(ps) : 0;
    j->in.beneficiary_id = beneficiary;
    if (r == TP_ROLE_MEMBER)
        j->in.amc_id = 0; /* a member is attached to a beneficiary, not to the AMC */
    j->actor = req->who->account_id;
    json_decref(o);
    resp->job = account_run;
    resp->job_arg = j;
    resp->job_free = account_job_free;
}

void tp_api_account_force_reset(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_store *st = req->app->store;
    const struct tp_store_ops *ops = tp_store_ops(st);
    void *impl = tp_store_impl(st);
    int64_t n = 0;
    enum tp_err e = ops->account_set_must_reset(impl, req->path_id, 1);
    if (e == TP_OK)
        e = ops->sessions_revoke_all(impl, req->path_id, 0, req->now_ms, &n);
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "storage_error", "the reset could not be recorded");
        return;
    }
    tp_http_respond_json(
        resp, 200, json_pack("{s:b, s:I}", "must_reset", 1, "sessions_revoked", (json_int_t)n));
}
