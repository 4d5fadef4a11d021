/* What the server hands to an endpoint handler, and what the handler hands back.
 *
 * Handlers run on MHD poll threads: they must not block on anything slower than an indexed
 * read. A handler that needs durable writes fills resp->wi and sets resp->has_write; the
 * server sends the response only after those writes are committed. */
#ifndef TP_HTTP_HANDLERS_H
#define TP_HTTP_HANDLERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/authz.h"
#include "core/date.h"
#include "core/identity.h"
#include "http/http.h"
#include "store/store.h"

struct tp_http_request {
    struct tp_app *app;
    const char *body;
    size_t body_len;
    size_t body_max;
    const struct tp_principal *who; /* authenticated caller; NULL on public routes */
    int64_t path_id;                /* the {id} of routes that have one */
    const char *request_id;
    const char *source; /* client address, for events and throttling */
    int64_t now_ms;
    tp_day today;
};

struct tp_http_response {
    unsigned status;
    char *body; /* malloc'd, owned by the response */
    size_t body_len;
    const char *content_type;
    const char *error_code; /* for the access log; NULL on success */
    int has_write;
    struct tp_write_intent wi;
    char set_cookie[192]; /* Set-Cookie value, "" for none */
    int retry_after_s;    /* Retry-After on 429/503, 0 for none */
    /* Work to run off the poll threads (argon2id): the server suspends the connection, runs
     * job(job_arg) on the worker pool, then sends what the job left in this response (and
     * commits resp->wi first if the job set has_write). The job owns and frees job_arg. */
    void (*job)(void *job_arg, struct tp_http_response *resp);
    void *job_arg;
    void (*job_free)(void *job_arg); /* frees job_arg when the job cannot run (overload) */
    /* For a response that depends on what the writer computed (claims, PECs): called on the
     * store's thread once resp->wi is durable, before the response goes out. after_arg is
     * freed with free() when the request ends, whatever happened. */
    void (*after_write)(struct tp_http_response *resp);
    void *after_arg;
};

typedef void (*tp_handler)(const struct tp_http_request *req, struct tp_http_response *resp);

/* Finds who owns the object a request targets, for the authorisation decision. TP_ERR_NOT_FOUND
 * when there is no such object (answered like another tenant's: 404). */
typedef enum tp_err (*tp_resolver)(const struct tp_http_request *req, struct tp_object *obj);

/* Fills resp with the JSON error shape. */
void tp_http_respond_error(struct tp_http_response *resp, enum tp_err err, const char *code,
                           const char *message);

/* Serialises obj (reference stolen) as the response body with the given status. */
void tp_http_respond_json(struct tp_http_response *resp, unsigned status, json_t *obj);

/* Reads a JSON object body with only the allowed keys; on error fills resp and returns NULL. */
json_t *tp_http_body_object(const struct tp_http_request *req, struct tp_http_response *resp,
                            const char *const *allowed);

/* Optional string field: NULL when absent; on a non-string or a length outside [min, max]
 * fills resp (400) and sets *bad. */
const char *tp_http_str_field(json_t *o, const char *key, size_t min, size_t max,
                              struct tp_http_response *resp, int *bad);

/* Records an authentication or authorisation decision (group commit, never blocks). */
void tp_http_auth_event(struct tp_app *app, const struct tp_http_request *req, int64_t account_id,
                        const char *login, const char *kind, const char *outcome,
                        const char *detail);

/* Failure windows of core/throttle.h for any repeated secret check (sign-in, step-up, current
 * password), keyed by `key` and the caller's network (api_auth.c). */
int64_t tp_auth_throttle_wait(const struct tp_app *app, const char *key, const char *source,
                              int64_t now_ms);
void tp_auth_throttle_record(const struct tp_app *app, const char *key, const char *source,
                             int64_t now_ms, int ok);
/* 429 too_many_attempts with Retry-After. */
void tp_http_respond_throttled(struct tp_http_response *resp, int64_t wait_ms);

/* The endpoints. */
void tp_api_health(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_metrics(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_rights_check(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_login(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_logout(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_me(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_step_up(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_password_change(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_sessions_revoke_all(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_token_create(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_token_list(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_switch_list(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_switch_set(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_security_alerts(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_security_reinstate(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_me_accesses(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_security_assess(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_token_revoke(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_account_create(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_account_force_reset(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_totp_enroll(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_totp_activate(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_pay_run(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_pay_list(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_advance_grant(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_claim_submit(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_claim_get(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_claim_list(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_claim_cancel(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_pec_submit(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_pec_get(const struct tp_http_request *req, struct tp_http_response *resp);
void tp_api_pec_cancel(const struct tp_http_request *req, struct tp_http_response *resp);

/* Resolvers (which tenant owns the target). */
enum tp_err tp_resolve_ps_path(const struct tp_http_request *req, struct tp_object *obj);
enum tp_err tp_resolve_token(const struct tp_http_request *req, struct tp_object *obj);
enum tp_err tp_resolve_account(const struct tp_http_request *req, struct tp_object *obj);
enum tp_err tp_resolve_new_account(const struct tp_http_request *req, struct tp_object *obj);

#endif
