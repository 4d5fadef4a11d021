/* libmicrohttpd server: one epoll thread pool, bodies in capped buffers, responses queued on
 * the second (or later) handler call so that keep-alive works (DESIGN-NOTES "HTTP"), and
 * connections suspended while their durable writes are group-committed. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http/clock.h"
#include "http/defence.h"
#include "http/errors.h"
#include "http/handlers.h"
#include "http/switches.h"
#include "http/http.h"
#include "http/metrics.h"

#define MAX_HEADERS 64
#define AUTH_PREFIX "Bearer "

enum req_state { READING = 0, WAITING, READY };

struct req {
    enum req_state state;
    int op; /* enum tp_op, TP_OP_COUNT when no route matched */
    const struct route *rt;
    int64_t path_id;
    struct tp_principal who;
    int has_who;
    int is_post;
    char *body;
    size_t body_len;
    int body_too_big;
    struct timespec started;
    char request_id[33];
    char source[48];
    int64_t ps_id;
    struct MHD_Connection *conn;
    struct tp_http_response resp;
    struct server *srv;
    char allow[64]; /* methods of the path, for a 405's Allow header */
};

struct server {
    const struct tp_server_config *cfg;
    struct tp_app *app;
    uint64_t id_prefix;
    atomic_uint_fast64_t next_id;
    _Atomic int64_t log_flushed_ms;
    atomic_int waiting; /* suspended connections: must all be resumed before MHD stops */
    atomic_int stopping;
};

void tp_server_config_defaults(struct tp_server_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen_addr = "127.0.0.1";
    c->port = 8080;
    c->threads = 0;
    c->max_connections = 4096;
    c->max_per_ip = 256;
    c->timeout_s = 30;
    c->body_max = 16 * 1024;
    c->access_log = stderr;
}

void tp_http_respond_error(struct tp_http_response *resp, enum tp_err err, const char *code,
                           const char *message)
{
    char buf[512];
    size_t n = tp_http_error_body(buf, sizeof buf, code, message);
    free(resp->body);
    resp->body = malloc(n + 1);
    if (resp->body) {
        memcpy(resp->body, buf, n + 1);
        resp->body_len = n;
    } else {
        resp->body_len = 0;
    }
    resp->status = tp_http_status(err);
    resp->content_type = "application/json";
    resp->error_code = code;
}

void tp_http_respond_json(struct tp_http_response *resp, unsigned status, json_t *obj)
{
    free(resp->body);
    resp->body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!resp->body) {
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "response could not be encoded");
        return;
    }
    resp->body_len = strlen(resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    resp->error_code = NULL;
}

/* Real time, or the scaled clock of a simulation platform (http/clock.h). */
static int64_t now_ms(void)
{
    return tp_clock_now_ms();
}

static tp_day today(void)
{
    time_t t = (time_t)(now_ms() / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    return tp_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static uint64_t elapsed_us(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - since->tv_sec) * 1000000u +
           (uint64_t)((now.tv_nsec - since->tv_nsec) / 1000);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                    const char *v)
{
    (void)kind, (void)k, (void)v;
    ++*(int *)cls;
    return MHD_YES;
}

static void client_address(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)cap);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)cap);
    }
}

/* The route table. Every route names an operation of core/authz.h: authentication, the
 * authorisation decision (role, tenant ownership of the target, step-up) and its recording
 * happen here, once, before any handler runs. A path segment "{id}" matches a decimal id. */
struct route {
    const char *method;
    const char *path;
    enum tp_op op;
    tp_handler handler;
    tp_resolver resolver; /* NULL: the operation has no object */
};

static const struct route routes[] = {
    {"GET", "/healthz", TP_OP_HEALTH, tp_api_health, NULL},
    {"HEAD", "/healthz", TP_OP_HEALTH, tp_api_health, NULL},
    {"GET", "/metrics", TP_OP_METRICS, tp_api_metrics, NULL},
    {"POST", "/api/v1/auth/login", TP_OP_LOGIN, tp_api_login, NULL},
    {"POST", "/api/v1/auth/logout", TP_OP_LOGOUT, tp_api_logout, NULL},
    {"GET", "/api/v1/me", TP_OP_ME, tp_api_me, NULL},
    {"POST", "/api/v1/auth/step-up", TP_OP_STEP_UP, tp_api_step_up, NULL},
    {"POST", "/api/v1/auth/password", TP_OP_PASSWORD_CHANGE, tp_api_password_change, NULL},
    {"POST", "/api/v1/auth/sessions/revoke-all", TP_OP_SESSIONS_REVOKE_ALL,
     tp_api_sessions_revoke_all, NULL},
    {"POST", "/api/v1/rights/check", TP_OP_RIGHTS_CHECK, tp_api_rights_check, NULL},
    {"POST", "/api/v1/ps/{id}/tokens", TP_OP_TOKEN_CREATE, tp_api_token_create, tp_resolve_ps_path},
    {"GET", "/api/v1/ps/{id}/tokens", TP_OP_TOKEN_LIST, tp_api_token_list, tp_resolve_ps_path},
    {"DELETE", "/api/v1/tokens/{id}", TP_OP_TOKEN_REVOKE, tp_api_token_revoke, tp_resolve_token},
    {"POST", "/api/v1/accounts", TP_OP_ACCOUNT_CREATE, tp_api_account_create,
     tp_resolve_new_account},
    {"POST", "/api/v1/accounts/{id}/force-reset", TP_OP_ACCOUNT_FORCE_RESET,
     tp_api_account_force_reset, tp_resolve_account},
    {"POST", "/api/v1/auth/totp/enroll", TP_OP_TOTP_ENROLL, tp_api_totp_enroll, NULL},
    {"POST", "/api/v1/auth/totp/activate", TP_OP_TOTP_ACTIVATE, tp_api_totp_activate, NULL},
    {"POST", "/api/v1/payments/runs", TP_OP_PAY_RUN, tp_api_pay_run, NULL},
    {"GET", "/api/v1/payments/runs", TP_OP_PAY_LIST, tp_api_pay_list, NULL},
    {"POST", "/api/v1/ps/{id}/advances", TP_OP_ADVANCE_GRANT, tp_api_advance_grant, NULL},
    {"POST", "/api/v1/claims", TP_OP_CLAIM_SUBMIT, tp_api_claim_submit, NULL},
    {"GET", "/api/v1/claims", TP_OP_CLAIM_LIST, tp_api_claim_list, NULL},
    {"GET", "/api/v1/claims/before/{id}", TP_OP_CLAIM_LIST, tp_api_claim_list, NULL},
    {"GET", "/api/v1/claims/{id}", TP_OP_CLAIM_GET, tp_api_claim_get, NULL},
    {"POST", "/api/v1/claims/{id}/cancel", TP_OP_CLAIM_CANCEL, tp_api_claim_cancel, NULL},
    {"POST", "/api/v1/pec", TP_OP_PEC_SUBMIT, tp_api_pec_submit, NULL},
    {"GET", "/api/v1/pec/{id}", TP_OP_PEC_GET, tp_api_pec_get, NULL},
    {"POST", "/api/v1/pec/{id}/cancel", TP_OP_PEC_CANCEL, tp_api_pec_cancel, NULL},
    {"GET", "/api/v1/switches", TP_OP_SWITCH_LIST, tp_api_switch_list, NULL},
    {"POST", "/api/v1/switches", TP_OP_SWITCH_SET, tp_api_switch_set, NULL},
    {"GET", "/api/v1/security/alerts", TP_OP_SECURITY_ALERTS, tp_api_security_alerts, NULL},
    {"GET", "/api/v1/me/accesses", TP_OP_ME_ACCESSES, tp_api_me_accesses, NULL},
    {"POST", "/api/v1/security/incidents/assess", TP_OP_SECURITY_ASSESS, tp_api_security_assess,
     NULL},
    {"POST", "/api/v1/security/accounts/{id}/reinstate", TP_OP_SECURITY_REINSTATE,
     tp_api_security_reinstate, NULL},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

const char *tp_http_route_dump(size_t i, const char **method, int *op);

/* For `opentp routes` and the authorisation matrix test: the i-th route, NULL past the end. */
const char *tp_http_route_dump(size_t i, const char **method, int *op)
{
    if (i >= N_ROUTES)
        return NULL;
    *method = routes[i].method;
    *op = routes[i].op;
    return routes[i].path;
}

/* Matches url against pattern; "{id}" takes 1-18 digits into *id. */
static int path_match(const char *pattern, const char *url, int64_t *id)
{
    while (*pattern && *url) {
        if (strncmp(pattern, "{id}", 4) == 0) {
            int64_t v = 0;
            int n = 0;
            while (*url >= '0' && *url <= '9' && n < 18) {
                v = v * 10 + (*url - '0');
                url++;
                n++;
            }
            if (n == 0 || (*url >= '0' && *url <= '9'))
                return 0;
            *id = v;
            pattern += 4;
            continue;
        }
        if (*pattern != *url)
            return 0;
        pattern++;
        url++;
    }
    return *pattern == '\0' && *url == '\0';
}

/* Finds the route for (method, url). When the path exists with other methods, *allow lists
 * them (for a 405). */
static const struct route *route_of(const char *url, const char *method, int64_t *id, char *allow,
                                    size_t allow_cap)
{
    allow[0] = '\0';
    for (size_t i = 0; i < N_ROUTES; i++) {
        int64_t v = 0;
        if (!path_match(routes[i].path, url, &v))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            *id = v;
            return &routes[i];
        }
        size_t n = strlen(allow);
        snprintf(allow + n, allow_cap - n, "%s%s", n ? ", " : "", routes[i].method);
    }
    return NULL;
}

#define SESSION_PREFIX "ots_"
#define TOKEN_PREFIX "otp_"
#define SESSION_COOKIE "opentp_session"
#define SESSION_TOUCH_MS 60000 /* last_seen is written at most once a minute */

/* The credential of a request: a Bearer token (API token or session token) or the session
 * cookie. NULL when none. */
static const char *credential(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    /* RFC 9110 §11.1: the scheme name is case-insensitive. */
    if (h && strncasecmp(h, AUTH_PREFIX, strlen(AUTH_PREFIX)) == 0)
        return h + strlen(AUTH_PREFIX);
    return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
}

/* Credential -> principal. TP_ERR_AUTH for anything missing, malformed, unknown, revoked or
 * expired: one answer, so that a guesser learns nothing. */
static enum tp_err authenticate(struct server *s, struct MHD_Connection *c, int64_t now_ms,
                                struct tp_principal *who)
{
    const char *tok = credential(c);
    memset(who, 0, sizeof *who);
    if (!tok)
        return TP_ERR_AUTH;
    size_t len = strlen(tok);
    if (len < 16 || len > 128)
        return TP_ERR_AUTH;
    uint8_t hash[TP_TOKEN_HASH_LEN];
    tp_token_hash(s->app->keys, tok, len, hash);
    const struct tp_store_ops *ops = tp_store_ops(s->app->store);
    void *impl = tp_store_impl(s->app->store);
    if (strncmp(tok, SESSION_PREFIX, strlen(SESSION_PREFIX)) != 0) {
        struct tp_token_info t;
        enum tp_err e = tp_store_token_find(s->app->store, hash, &t);
        if (e == TP_ERR_NOT_FOUND)
            return TP_ERR_AUTH;
        if (e != TP_OK)
            return e;
        if (t.revoked || (t.expires_at && t.expires_at <= now_ms / 1000))
            return TP_ERR_AUTH;
        who->token_id = t.token_id;
        who->role = TP_ROLE_PS;
        who->ps_id = t.ps_id;
        who->profession = t.profession;
        who->scopes = ((t.scopes & TP_SCOPE_RIGHTS) ? TP_SCOPE_RIGHTS_CHECK : 0) |
                      (t.scopes & TP_SCOPE_CLAIMS);
        return TP_OK;
    }
    struct tp_session_row ss;
    enum tp_err e = ops->session_find(impl, hash, &ss);
    if (e == TP_ERR_NOT_FOUND)
        return TP_ERR_AUTH;
    if (e != TP_OK)
        return e;
    if (ss.revoked_ms || now_ms >= ss.expires_ms ||
        now_ms - ss.last_seen_ms > s->app->session_idle_ms)
        return TP_ERR_AUTH; /* revoked, absolute or idle timeout */
    struct tp_account_row a;
    e = ops->account_get(impl, ss.account_id, &a);
    if (e != TP_OK)
        return e == TP_ERR_NOT_FOUND ? TP_ERR_AUTH : e;
    if (a.disabled)
        return TP_ERR_AUTH;
    if (now_ms - ss.last_seen_ms > SESSION_TOUCH_MS)
        (void)ops->session_touch(impl, ss.id, now_ms); /* best effort: idle clock */
    who->account_id = a.id;
    who->session_id = ss.id;
    who->role = a.role;
    who->ps_id = a.ps_id;
    who->amc_id = a.amc_id;
    who->beneficiary_id = a.beneficiary_id;
    who->stepup_ms = ss.stepup_ms;
    who->must_reset = a.must_reset;
    if (a.role == TP_ROLE_PS) {
        struct tp_ps ps;
        if (ops->ps_get(impl, a.ps_id, &ps) == TP_OK)
            who->profession = (int)ps.profession;
    }
    return TP_OK;
}

static void handle(struct server *s, struct req *r)
{
    struct tp_http_response *resp = &r->resp;
    if (r->body_too_big) {
        char m[96];
        snprintf(m, sizeof m, "request body exceeds %zu bytes", s->cfg->body_max);
        tp_http_respond_error(resp, TP_ERR_TOO_BIG, "body_too_large", m);
        return;
    }
    const struct route *rt = r->rt;
    if (!rt) {
        tp_http_respond_error(resp, TP_ERR_NOT_FOUND, "no_such_endpoint", "no such endpoint");
        return;
    }
    int64_t now = now_ms();
    struct tp_http_request hr = {
        .app = s->app,
        .body = r->body ? r->body : "",
        .body_len = r->body_len,
        .body_max = s->cfg->body_max,
        .who = NULL,
        .path_id = r->path_id,
        .request_id = r->request_id,
        .source = r->source,
        .now_ms = now,
        .today = today(),
    };
    const struct tp_authz_rule *rule = tp_authz_rule(rt->op);
    if (!rule->public_op) {
        enum tp_err e = authenticate(s, r->conn, now, &r->who);
        if (e == TP_ERR_AUTH) {
            tp_http_auth_event(s->app, &hr, 0, NULL, "authz", "unauthenticated",
                               tp_op_name(rt->op));
            tp_http_respond_error(resp, e, "unauthenticated",
                                  "a valid session or API token is required "
                                  "(Authorization: Bearer <token>)");
            return;
        }
        if (e != TP_OK) {
            tp_http_respond_error(resp, e, "storage_error", "authentication could not be checked");
            return;
        }
        r->has_who = 1;
        r->ps_id = r->who.ps_id;
        hr.who = &r->who;
    }
    struct tp_object obj;
    memset(&obj, 0, sizeof obj);
    /* Role and credential first, without the object: a caller whose role may not do this at
     * all learns nothing about which objects exist (same 403 for any id). */
    enum tp_authz_result pre = tp_authz_decide(rt->op, hr.who, NULL, now);
    if (rt->resolver && (pre == TP_AUTHZ_FORBIDDEN || pre == TP_AUTHZ_UNAUTHENTICATED)) {
        tp_http_auth_event(s->app, &hr, r->who.account_id, NULL, "authz", tp_authz_result_name(pre),
                           tp_op_name(rt->op));
        tp_http_respond_error(resp, pre == TP_AUTHZ_FORBIDDEN ? TP_ERR_FORBIDDEN : TP_ERR_AUTH,
                              tp_authz_result_name(pre),
                              "this operation is not allowed for this account");
        return;
    }
    if (rt->resolver && hr.who) {
        enum tp_err e = rt->resolver(&hr, &obj);
        if (e == TP_ERR_NOT_FOUND) {
            tp_http_auth_event(s->app, &hr, r->who.account_id, NULL, "authz", "not_found",
                               tp_op_name(rt->op));
            tp_http_respond_error(resp, e, "not_found", "no such object");
            return;
        }
        if (e != TP_OK) {
            if (!resp->body)
                tp_http_respond_error(resp, e, "invalid", "the request could not be read");
            return;
        }
    }
    enum tp_authz_result az = tp_authz_decide(rt->op, hr.who, rt->resolver ? &obj : NULL, now);
    if (az == TP_AUTHZ_ALLOW && hr.who && r->who.must_reset && rt->op != TP_OP_PASSWORD_CHANGE &&
        rt->op != TP_OP_LOGOUT && rt->op != TP_OP_ME) {
        tp_http_auth_event(s->app, &hr, r->who.account_id, NULL, "authz", "password_reset_required",
                           tp_op_name(rt->op));
        tp_http_respond_error(resp, TP_ERR_FORBIDDEN, "password_reset_required",
                              "the password must be changed first (POST /api/v1/auth/password)");
        return;
    }
    if (az != TP_AUTHZ_ALLOW) {
        tp_http_auth_event(s->app, &hr, r->who.account_id, NULL, "authz", tp_authz_result_name(az),
                           tp_op_name(rt->op));
        switch (az) {
        case TP_AUTHZ_UNAUTHENTICATED:
            tp_http_respond_error(resp, TP_ERR_AUTH, "unauthenticated", "authentication required");
            break;
        case TP_AUTHZ_NOT_FOUND:
            tp_http_respond_error(resp, TP_ERR_NOT_FOUND, "not_found", "no such object");
            break;
        case TP_AUTHZ_STEP_UP:
            tp_http_respond_error(resp, TP_ERR_FORBIDDEN, "step_up_required",
                                  "confirm with a fresh TOTP code first "
                                  "(POST /api/v1/auth/step-up)");
            break;
        default:
            tp_http_respond_error(resp, TP_ERR_FORBIDDEN, "forbidden",
                                  "this operation is not allowed for this account");
            break;
        }
        return;
    }
    /* Kill switches: an operation that discloses personal data on demand stops here when its
     * channel, the caller's PS (or, in the handler, the AMC asked about) is switched off. */
    if (hr.who && s->app->switches) {
        const char *off = tp_switches_check(s->app->switches, hr.who,
                                            tp_authz_rule(rt->op)->disclose, NULL, now);
        if (off) {
            tp_http_auth_event(s->app, &hr, r->who.account_id, NULL, "authz", "switched_off",
                               tp_op_name(rt->op));
            tp_http_respond_error(resp, TP_ERR_BUSY, "switched_off", off);
            return;
        }
    }
    /* Detection (docs/DETECTION.md): a suspension or slow-down already decided for this PS
     * account or token applies before anything is looked up. */
    if (tp_defence_precheck(&hr, rt->op == TP_OP_RIGHTS_CHECK ? TP_DETECT_RIGHTS_CHECK
                                                               : TP_DETECT_OTHER,
                            resp))
        return;
    /* Allowed. Rights checks are recorded by their access event; public operations and the
     * login (which records its own outcome) need no authorisation record. */
    if (hr.who && rt->op != TP_OP_RIGHTS_CHECK &&
        (rt->op < TP_OP_CLAIM_SUBMIT || rt->op > TP_OP_PEC_CANCEL)) /* claims, PECs: idem */
        tp_http_auth_event(s->app, &hr, r->who.account_id, NULL, "authz", "allow",
                           tp_op_name(rt->op));
    rt->handler(&hr, resp);
}

/* Writer thread: the batch holding this request's writes is committed (or failed). */
static void write_done(struct tp_write_intent *wi, enum tp_err rc)
{
    struct req *r = wi->arg;
    if (rc == TP_OK && r->resp.after_write)
        r->resp.after_write(&r->resp);
    if (rc != TP_OK) {
        r->resp.has_write = 0;
        tp_http_respond_error(&r->resp, TP_ERR_BUSY, "storage_unavailable",
                              "the result could not be stored; nothing was recorded, try again");
    }
    r->state = READY;
    struct server *s = r->srv;
    MHD_resume_connection(r->conn);
    atomic_fetch_sub(&s->waiting, 1);
}

/* Worker thread: runs the handler's slow part (argon2id), then commits its writes or resumes
 * the connection. */
static void job_runner(void *arg)
{
    struct req *r = arg;
    struct server *s = r->srv;
    r->resp.job(r->resp.job_arg, &r->resp);
    r->resp.job = NULL;
    if (r->resp.has_write) {
        r->resp.wi.done = write_done;
        r->resp.wi.arg = r;
        if (tp_store_submit(s->app->store, &r->resp.wi) == TP_OK)
            return; /* write_done resumes */
        r->resp.has_write = 0;
        tp_http_respond_error(&r->resp, TP_ERR_BUSY, "overloaded",
                              "the platform is overloaded; nothing was recorded, retry");
    }
    r->state = READY;
    MHD_resume_connection(r->conn);
    atomic_fetch_sub(&s->waiting, 1);
}

static enum MHD_Result queue(struct req *r)
{
    struct tp_http_response *resp = &r->resp;
    struct MHD_Response *m = MHD_create_response_from_buffer(
        resp->body_len, resp->body ? resp->body : (char *)"", MHD_RESPMEM_MUST_FREE);
    if (!m)
        return MHD_NO;
    resp->body = NULL; /* MHD owns it now */
    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(m, "X-Request-Id", r->request_id);
    MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    if (resp->status == 401)
        MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (resp->set_cookie[0])
        MHD_add_response_header(m, MHD_HTTP_HEADER_SET_COOKIE, resp->set_cookie);
    if (resp->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%d", resp->retry_after_s);
        MHD_add_response_header(m, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (resp->status == 405 && r->allow[0])
        MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, r->allow); /* RFC 9110 §15.5.6 */
    enum MHD_Result ret = MHD_queue_response(r->conn, resp->status, m);
    MHD_destroy_response(m);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    (void)version;
    if (!r) {
        /* First call: headers only. Answering here would make MHD close keep-alive
         * connections, so set up and wait for the next call. */
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &r->started);
        r->conn = conn;
        r->srv = s;
        uint64_t n = atomic_fetch_add_explicit(&s->next_id, 1, memory_order_relaxed);
        snprintf(r->request_id, sizeof r->request_id, "%016llx%016llx",
                 (unsigned long long)s->id_prefix, (unsigned long long)n);
        client_address(conn, r->source, sizeof r->source);
        char allow[64];
        r->rt = route_of(url, method, &r->path_id, allow, sizeof allow);
        r->op = r->rt ? (int)r->rt->op : TP_OP_COUNT;
        r->is_post = strcmp(method, "POST") == 0;
        *con_cls = r;
        int nh = 0;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &nh);
        if (nh > MAX_HEADERS) {
            tp_http_respond_error(&r->resp, TP_ERR_INVALID, "too_many_headers",
                                  "too many request headers");
            r->resp.status = 431;
            r->state = READY;
        } else if (!r->rt && allow[0]) {
            tp_http_respond_error(&r->resp, TP_ERR_INVALID, "method_not_allowed",
                                  "method not allowed on this endpoint");
            r->resp.status = 405;
            snprintf(r->allow, sizeof r->allow, "%s", allow);
            r->state = READY;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* Body chunk: keep up to the cap, count (and drop) the rest so we can say so. */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->state != READING || r->body_too_big)
            return MHD_YES;
        if (r->body_len + n > s->cfg->body_max) {
            r->body_too_big = 1;
            free(r->body);
            r->body = NULL;
            r->body_len = 0;
            return MHD_YES;
        }
        char *nb = realloc(r->body, r->body_len + n + 1);
        if (!nb)
            return MHD_NO;
        memcpy(nb + r->body_len, upload_data, n);
        r->body = nb;
        r->body_len += n;
        r->body[r->body_len] = '\0';
        return MHD_YES;
    }
    if (r->state == READING) {
        handle(s, r);
        if (r->resp.job) {
            int stopping = atomic_load(&s->stopping);
            r->state = WAITING;
            atomic_fetch_add(&s->waiting, 1);
            MHD_suspend_connection(conn);
            if (stopping || !s->app->offload ||
                s->app->offload(s->app->offload_pool, job_runner, r) != TP_OK) {
                if (r->resp.job_free)
                    r->resp.job_free(r->resp.job_arg);
                r->resp.job = NULL;
                tp_http_respond_error(&r->resp, TP_ERR_BUSY, "overloaded",
                                      "too many sign-ins at once; retry in a moment");
                r->resp.retry_after_s = 1;
                r->state = READY;
                MHD_resume_connection(conn);
                atomic_fetch_sub(&s->waiting, 1);
            }
            return MHD_YES;
        }
        if (r->resp.has_write && atomic_load(&s->stopping)) {
            r->resp.has_write = 0;
            tp_http_respond_error(&r->resp, TP_ERR_BUSY, "shutting_down",
                                  "the server is stopping; nothing was recorded, retry");
        }
        if (r->resp.has_write) {
            r->resp.wi.done = write_done;
            r->resp.wi.arg = r;
            r->state = WAITING;
            atomic_fetch_add(&s->waiting, 1);
            MHD_suspend_connection(conn);
            if (tp_store_submit(s->app->store, &r->resp.wi) != TP_OK) {
                r->resp.has_write = 0;
                tp_http_respond_error(&r->resp, TP_ERR_BUSY, "overloaded",
                                      "the platform is overloaded; nothing was recorded, retry");
                r->state = READY;
                MHD_resume_connection(conn);
                atomic_fetch_sub(&s->waiting, 1);
            }
            return MHD_YES;
        }
        r->state = READY;
    }
    if (r->state == WAITING)
        return MHD_YES; /* spurious call while suspended */
    return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    (void)conn;
    if (!r)
        return;
    uint64_t us = elapsed_us(&r->started);
    unsigned status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? r->resp.status : 499;
    tp_metrics_request(r->op, status, us);
    if (s->cfg->access_log) {
        /* No query string, no body, no header values: nothing personal can reach this line. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char line[256];
        int n = snprintf(line, sizeof line,
                         "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ req=%s route=%s status=%u us=%llu "
                         "ps=%lld err=%s\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, r->request_id,
                         (r->op < TP_OP_COUNT ? tp_op_name((enum tp_op)r->op) : "unknown"), status,
                         (unsigned long long)us, (long long)r->ps_id,
                         r->resp.error_code ? r->resp.error_code : "-");
        if (n > 0)
            fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1,
                   s->cfg->access_log);
        /* A log file is block-buffered (one write() per request would cost more than the
         * request's own reads); flush at least every 200 ms of activity, and at exit. */
        int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int64_t last = atomic_load_explicit(&s->log_flushed_ms, memory_order_relaxed);
        if (ms - last >= 200 && atomic_compare_exchange_strong(&s->log_flushed_ms, &last, ms))
            fflush(s->cfg->access_log);
    }
    free(r->resp.body);
    free(r->resp.after_arg);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* libmicrohttpd's messages: its format strings, passed through. */
__attribute__((format(printf, 2, 0))) static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("opentp: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

enum tp_err tp_server_run(const struct tp_server_config *cfg, struct tp_app *app, char *msg,
                          size_t msglen)
{
    struct server s = {.cfg = cfg, .app = app};
    tp_random(&s.id_prefix, sizeof s.id_prefix);
    atomic_init(&s.next_id, 1);
    atomic_init(&s.waiting, 0);
    atomic_init(&s.stopping, 0);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->listen_addr, &addr.sin_addr) != 1)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "bad listen address %s", cfg->listen_addr);
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;

    /* Signals are taken synchronously by this thread; block them before MHD starts its own. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, cfg->port,
        NULL, NULL, on_request, &s, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)16 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!d)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot listen on %s:%u (%s)", cfg->listen_addr,
                       cfg->port, strerror(errno));
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : cfg->port;
    if (cfg->port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", cfg->port_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%u\n", port);
            fclose(f);
            rename(tmp, cfg->port_file);
        }
    }
    if (cfg->banner) {
        printf("\nopentp is serving on http://%s:%u  (health: /healthz, metrics: /metrics)\n",
               cfg->listen_addr, port);
        if (cfg->banner_file) {
            FILE *f = fopen(cfg->banner_file, "r");
            if (f) {
                char buf[1024];
                size_t n;
                while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                    fwrite(buf, 1, n, stdout);
                fclose(f);
            }
        }
        printf("Press Ctrl-C to stop.\n");
    }
    fflush(stdout);

    struct timespec wait = {.tv_sec = cfg->exit_after_s ? cfg->exit_after_s : 3600, .tv_nsec = 0};
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        if (sig < 0 && errno == EAGAIN && cfg->exit_after_s)
            break;
    }
    /* Stop accepting; requests arriving on open connections from now on get a 503 without
     * being suspended; wait for the queued writes to be committed and their connections
     * resumed (MHD must not stop with suspended connections), then stop. */
    MHD_quiesce_daemon(d);
    atomic_store(&s.stopping, 1);
    for (int i = 1; atomic_load(&s.waiting) > 0; i++) {
        usleep(1000);
        if (i % 5000 == 0)
            fprintf(stderr, "opentp: serve: waiting for %d requests' writes to finish\n",
                    atomic_load(&s.waiting));
    }
    MHD_stop_daemon(d);
    return TP_OK;
}
