/* Sign-in and sessions (PRODUCT §5: CNIL 2022-100 and 2025-019, OWASP ASVS 6-7).
 *
 * POST /api/v1/auth/login takes the login, the password and, for every role but members, a
 * TOTP code (or a single-use recovery code) in one request, and answers one and the same 401
 * "invalid_credentials" whatever was wrong: a phished password alone tells its holder
 * nothing, not even that it is right. Throttling (core/throttle.h) is applied before any
 * hashing; argon2id runs on the worker pool, never on a poll thread; an unknown login costs
 * the same hashing time as a known one. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/password_policy.h"
#include "core/throttle.h"
#include "http/defence.h"
#include "http/handlers.h"
#include "security/password.h"
#include "security/password_list.h"
#include "security/recovery.h"
#include "security/totp.h"

/* --- throttling state ------------------------------------------------------------------ */

#define FAIL_SETS 16384 /* x FAIL_WAYS entries of (login, network) failure windows */
#define FAIL_WAYS 4
#define IP_SLOTS 16384
/* Per source address, by default: one login attempt per 2 s on average, bursts of 10
 * (`opentp serve --login-ip-interval-ms --login-ip-burst`). */
#define IP_INTERVAL_MS 2000
#define IP_BURST 10

struct fail_entry {
    uint8_t key[16];
    int used;
    struct tp_login_failures f;
};

struct ip_entry {
    uint8_t key[16];
    int used;
    int64_t tat;
};

struct tp_auth_state {
    pthread_mutex_t mu;
    uint8_t hash_key[32];
    struct fail_entry *fails; /* FAIL_SETS * FAIL_WAYS */
    struct ip_entry *ips;     /* IP_SLOTS */
};

struct tp_auth_state *tp_auth_state_new(void)
{
    struct tp_auth_state *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fails = calloc((size_t)FAIL_SETS * FAIL_WAYS, sizeof *a->fails);
    a->ips = calloc(IP_SLOTS, sizeof *a->ips);
    if (!a->fails || !a->ips) {
        tp_auth_state_free(a);
        return NULL;
    }
    randombytes_buf(a->hash_key, sizeof a->hash_key);
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

void tp_auth_state_free(struct tp_auth_state *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a->fails);
    free(a->ips);
    free(a);
}

/* The network of a source address: /24 for IPv4, /64 for IPv6 (the text up to the 4th ':'). */
static void network_of(const char *source, char *out, size_t cap)
{
    snprintf(out, cap, "%s", source);
    if (strchr(out, ':')) {
        int colons = 0;
        for (char *p = out; *p; p++)
            if (*p == ':' && ++colons == 4) {
                *p = '\0';
                break;
            }
    } else {
        char *dot = strrchr(out, '.');
        if (dot)
            *dot = '\0';
    }
}

static void keyed(const struct tp_auth_state *a, const char *x, const char *y, uint8_t out[16])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, a->hash_key, sizeof a->hash_key, 16);
    crypto_generichash_update(&st, (const uint8_t *)x, strlen(x) + 1);
    if (y)
        crypto_generichash_update(&st, (const uint8_t *)y, strlen(y) + 1);
    crypto_generichash_final(&st, out, 16);
}

/* The failure window of (login, network); evicts the entry with the fewest failures of its
 * set when full, so a flood of other logins cannot easily push out a counter that matters. */
static struct tp_login_failures *fail_slot(struct tp_auth_state *a, const uint8_t key[16])
{
    uint32_t set = ((uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16) % FAIL_SETS;
    struct fail_entry *e = &a->fails[(size_t)set * FAIL_WAYS], *victim = e;
    for (int i = 0; i < FAIL_WAYS; i++) {
        if (e[i].used && memcmp(e[i].key, key, 16) == 0)
            return &e[i].f;
        if (!e[i].used || (victim->used && e[i].f.count < victim->f.count))
            victim = &e[i];
    }
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, key, 16);
    victim->used = 1;
    return &victim->f;
}

/* 0 when an attempt may be evaluated now, else the ms to wait. Sign-ins (per_source) also
 * spend the source address's login budget; checks made inside a session (step-up, current
 * password) only have their failure window. */
static int64_t throttle_check(const struct tp_app *app, const char *login, const char *source,
                              int64_t now_ms, int per_source)
{
    struct tp_auth_state *a = app->auth;
    int64_t interval = app->login_ip_interval_ms > 0 ? app->login_ip_interval_ms : IP_INTERVAL_MS;
    int32_t burst = app->login_ip_burst > 0 ? app->login_ip_burst : IP_BURST;
    char net[48];
    uint8_t k[16], ik[16];
    network_of(source, net, sizeof net);
    keyed(a, login, net, k);
    keyed(a, source, NULL, ik);
    pthread_mutex_lock(&a->mu);
    int64_t wait = tp_throttle_wait_ms(fail_slot(a, k), now_ms);
    if (wait == 0 && per_source) {
        struct ip_entry *ip = &a->ips[((uint32_t)ik[0] | (uint32_t)ik[1] << 8) % IP_SLOTS];
        if (!ip->used || memcmp(ip->key, ik, 16) != 0) {
            memset(ip, 0, sizeof *ip);
            memcpy(ip->key, ik, 16);
            ip->used = 1;
        }
        wait = tp_gcra(&ip->tat, now_ms, interval, burst);
    }
    pthread_mutex_unlock(&a->mu);
    return wait;
}

static void throttle_outcome(struct tp_auth_state *a, const char *login, const char *source,
                             int64_t now_ms, int ok)
{
    char net[48];
    uint8_t k[16];
    network_of(source, net, sizeof net);
    keyed(a, login, net, k);
    pthread_mutex_lock(&a->mu);
    struct tp_login_failures *f = fail_slot(a, k);
    if (ok)
        tp_throttle_succeeded(f);
    else
        tp_throttle_failed(f, now_ms);
    pthread_mutex_unlock(&a->mu);
}

int64_t tp_auth_throttle_wait(const struct tp_app *app, const char *key, const char *source,
                              int64_t now_ms)
{
    return throttle_check(app, key, source, now_ms, 0);
}

void tp_auth_throttle_record(const struct tp_app *app, const char *key, const char *source,
                             int64_t now_ms, int ok)
{
    throttle_outcome(app->auth, key, source, now_ms, ok);
}

void tp_http_respond_throttled(struct tp_http_response *resp, int64_t wait_ms)
{
    tp_http_respond_error(resp, TP_ERR_BUSY, "too_many_attempts",
                          "too many attempts; wait before trying again");
    resp->status = 429;
    resp->retry_after_s = (int)((wait_ms + 999) / 1000);
}

/* --- sessions --------------------------------------------------------------------------- */

#define SESSION_PREFIX "ots_"

/* Creates a session; writes its token (shown once, stored hashed) and the cookie. */
static enum tp_err session_open(struct tp_app *app, const struct tp_http_request *req,
                                int64_t account_id, int64_t stepup_ms, char *token, size_t cap,
                                struct tp_http_response *resp, int64_t *expires_ms)
{
    uint8_t raw[32], hash[TP_TOKEN_HASH_LEN];
    randombytes_buf(raw, sizeof raw); /* 256 bits (ASVS: at least 128) */
    memcpy(token, SESSION_PREFIX, 4);
    sodium_bin2base64(token + 4, cap - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    tp_token_hash(app->keys, token, strlen(token), hash);
    *expires_ms = req->now_ms + app->session_max_ms;
    enum tp_err e = tp_store_ops(app->store)
                        ->session_insert(tp_store_impl(app->store), account_id, hash, req->now_ms,
                                         *expires_ms, stepup_ms, req->source, NULL);
    if (e == TP_OK)
        snprintf(resp->set_cookie, sizeof resp->set_cookie,
                 "opentp_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", token,
                 (long long)(app->session_max_ms / 1000), app->cookie_secure ? "; Secure" : "");
    return e;
}

/* --- login ------------------------------------------------------------------------------ */

struct login_job {
    struct tp_app *app;
    struct tp_http_request req; /* copies of the scalar fields; strings below */
    char request_id[33], source[48];
    char login[TP_LOGIN_MAX];
    char password[TP_PASSWORD_MAX_BYTES + 1];
    size_t password_len;
    char totp[16];
    char recovery[TP_RECOVERY_INPUT_MAX + 1];
    int found;
    struct tp_account_row account;
};

static void login_job_free(void *arg)
{
    struct login_job *j = arg;
    sodium_memzero(j, sizeof *j);
    free(j);
}

static void bad_credentials(struct tp_http_response *resp)
{
    tp_http_respond_error(resp, TP_ERR_AUTH, "invalid_credentials",
                          "sign-in failed: check the login, the password and the code");
}

/* Second factor of an account whose password was right. TP_OK when proven. */
static enum tp_err second_factor(struct login_job *j, int *used_recovery)
{
    struct tp_app *app = j->app;
    const struct tp_store_ops *ops = tp_store_ops(app->store);
    void *impl = tp_store_impl(app->store);
    struct tp_account_row *a = &j->account;
    *used_recovery = 0;
    if (!a->totp_sealed_len)
        return tp_role_requires_totp(a->role) ? TP_ERR_AUTH : TP_OK;
    if (j->totp[0]) {
        uint8_t secret[TP_SECRET_MAX];
        size_t slen = 0;
        enum tp_err e = tp_secret_open(app->keys, a->totp_sealed, a->totp_sealed_len,
                                       (const uint8_t *)a->login, strlen(a->login), secret, &slen);
        int64_t step = 0;
        if (e == TP_OK)
            e = tp_totp_verify(secret, slen, j->totp, strlen(j->totp), j->req.now_ms / 1000,
                               a->totp_last_step, &step);
        sodium_memzero(secret, sizeof secret);
        /* Record the step atomically: a code replayed in a concurrent sign-in loses here. */
        if (e == TP_OK && ops->account_use_totp_step(impl, a->id, step) != TP_OK)
            e = TP_ERR_AUTH;
        return e == TP_OK ? TP_OK : TP_ERR_AUTH;
    }
    if (j->recovery[0]) {
        uint8_t h[TP_RECOVERY_HASH_LEN];
        if (tp_recovery_hash(tp_keys_recovery_key(app->keys), j->recovery, strlen(j->recovery),
                             h) != TP_OK)
            return TP_ERR_AUTH;
        if (ops->recovery_code_use(impl, a->id, h, j->req.now_ms) != TP_OK)
            return TP_ERR_AUTH;
        *used_recovery = 1;
        return TP_OK;
    }
    return TP_ERR_AUTH;
}

static void login_run(void *arg, struct tp_http_response *resp)
{
    struct login_job *j = arg;
    struct tp_app *app = j->app;
    const struct tp_store_ops *ops = tp_store_ops(app->store);
    void *impl = tp_store_impl(app->store);
    struct tp_account_row *a = &j->account;
    j->req.request_id = j->request_id;
    j->req.source = j->source;

    int ok = 0, used_recovery = 0;
    if (j->found && !a->disabled) {
        ok = tp_password_verify(a->password_hash, j->password, j->password_len) == TP_OK;
    } else {
        /* Same work for an unknown login: the answer's timing does not tell. */
        (void)tp_password_dummy_verify(j->password, j->password_len);
    }
    if (ok)
        ok = second_factor(j, &used_recovery) == TP_OK;
    throttle_outcome(app->auth, j->login, j->source, j->req.now_ms, ok);
    if (!ok) {
        tp_http_auth_event(app, &j->req, j->found ? a->id : 0, j->login, "login",
                           "invalid_credentials", "");
        bad_credentials(resp);
        login_job_free(j);
        return;
    }
    /* Parameters raised since this hash was made: rehash now that we have the password. */
    if (tp_password_needs_rehash(a->password_hash)) {
        char h[TP_PASSWORD_HASH_MAX];
        if (tp_password_hash(j->password, j->password_len, h) == TP_OK)
            (void)ops->account_set_password(impl, a->id, h, a->must_reset);
    }
    char token[64];
    int64_t expires = 0;
    /* The TOTP just proven counts as a step-up for the next minutes. */
    int64_t stepup = a->totp_sealed_len && !used_recovery ? j->req.now_ms : 0;
    if (session_open(app, &j->req, a->id, stepup, token, sizeof token, resp, &expires) != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_BUSY, "storage_unavailable",
                              "the session could not be stored; retry");
        login_job_free(j);
        return;
    }
    tp_http_auth_event(app, &j->req, a->id, j->login, "login",
                       used_recovery ? "ok_recovery_code" : "ok", tp_role_name(a->role));
    tp_http_respond_json(resp, 200,
                         json_pack("{s:s, s:s, s:I, s:b}", "session", token, "role",
                                   tp_role_name(a->role), "expires_at_ms", (json_int_t)expires,
                                   "must_reset", a->must_reset));
    sodium_memzero(token, sizeof token);
    login_job_free(j);
}

void tp_api_login(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"login", "password", "totp", "recovery_code", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *login = tp_http_str_field(o, "login", 1, TP_LOGIN_MAX - 1, resp, &bad);
    const char *pw =
        bad ? NULL : tp_http_str_field(o, "password", 1, TP_PASSWORD_MAX_BYTES, resp, &bad);
    const char *totp = bad ? NULL : tp_http_str_field(o, "totp", 1, 12, resp, &bad);
    const char *rec =
        bad ? NULL : tp_http_str_field(o, "recovery_code", 1, TP_RECOVERY_INPUT_MAX, resp, &bad);
    if (bad) {
        json_decref(o);
        return;
    }
    if (!login || !pw) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                              "\"login\" and \"password\" are required");
        return;
    }
    int64_t wait = throttle_check(req->app, login, req->source, req->now_ms, 1);
    if (wait > 0) {
        tp_http_auth_event(req->app, req, 0, login, "login", "throttled", "");
        tp_http_respond_error(resp, TP_ERR_BUSY, "too_many_attempts",
                              "too many sign-in attempts; wait before trying again");
        resp->status = 429;
        resp->retry_after_s = (int)((wait + 999) / 1000);
        json_decref(o);
        return;
    }
    struct login_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_NOMEM, "internal", "out of memory");
        return;
    }
    j->app = req->app;
    j->req = *req;
    j->req.body = NULL;
    j->req.body_len = 0;
    snprintf(j->request_id, sizeof j->request_id, "%s", req->request_id);
    snprintf(j->source, sizeof j->source, "%s", req->source);
    snprintf(j->login, sizeof j->login, "%s", login);
    j->password_len = strlen(pw);
    memcpy(j->password, pw, j->password_len);
    if (totp)
        snprintf(j->totp, sizeof j->totp, "%s", totp);
    if (rec)
        snprintf(j->recovery, sizeof j->recovery, "%s", rec);
    json_decref(o);
    enum tp_err e = tp_store_ops(req->app->store)
                        ->account_find(tp_store_impl(req->app->store), j->login, &j->account);
    if (e != TP_OK && e != TP_ERR_NOT_FOUND) {
        login_job_free(j);
        tp_http_respond_error(resp, e, "storage_error", "sign-in could not be checked");
        return;
    }
    j->found = e == TP_OK;
    resp->job = login_run;
    resp->job_arg = j;
    resp->job_free = login_job_free;
}

/* --- session operations ----------------------------------------------------------------- */

void tp_api_logout(const struct tp_http_request *req, struct tp_http_response *resp)
{
    if (req->who->session_id) {
        struct tp_store *st = req->app->store;
        (void)tp_store_ops(st)->session_revoke(tp_store_impl(st), req->who->session_id,
                                               req->now_ms);
    }
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             "opentp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    tp_http_respond_json(resp, 200, json_pack("{s:b}", "signed_out", 1));
}

void tp_api_me(const struct tp_http_request *req, struct tp_http_response *resp)
{
    const struct tp_principal *w = req->who;
    json_t *o = json_pack("{s:s, s:b, s:b}", "role", tp_role_name(w->role), "must_reset",
                          w->must_reset, "api_token", w->token_id != 0);
    if (w->account_id) {
        struct tp_account_row a;
        struct tp_store *st = req->app->store;
        if (tp_store_ops(st)->account_get(tp_store_impl(st), w->account_id, &a) == TP_OK) {
            json_object_set_new(o, "login", json_string(a.login));
            json_object_set_new(o, "totp", json_boolean(a.totp_sealed_len > 0));
        }
    }
    if (w->role == TP_ROLE_PS)
        json_object_set_new(o, "ps_id", json_integer(w->ps_id));
    if (w->role == TP_ROLE_INSURER)
        json_object_set_new(o, "amc_id", json_integer(w->amc_id));
    if (w->stepup_ms && req->now_ms - w->stepup_ms <= TP_STEPUP_MS)
        json_object_set_new(o, "step_up_until_ms", json_integer(w->stepup_ms + TP_STEPUP_MS));
    tp_http_respond_json(resp, 200, o);
}

void tp_api_step_up(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"totp", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *code = tp_http_str_field(o, "totp", 1, 12, resp, &bad);
    if (bad || !code || !req->who->session_id) {
        if (!bad)
            tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                                  "a session and \"totp\" are required");
        json_decref(o);
        return;
    }
    /* A session holder guessing step-up codes: the same failure window as sign-ins, keyed by
     * account, so 10^6 codes cannot be tried at request speed. */
    char key[48];
    snprintf(key, sizeof key, "step-up#%lld", (long long)req->who->account_id);
    int64_t wait = tp_auth_throttle_wait(req->app, key, req->source, req->now_ms);
    if (wait > 0) {
        json_decref(o);
        tp_http_auth_event(req->app, req, req->who->account_id, NULL, "step_up", "throttled", "");
        tp_http_respond_throttled(resp, wait);
        return;
    }
    struct tp_store *st = req->app->store;
    const struct tp_store_ops *ops = tp_store_ops(st);
    void *impl = tp_store_impl(st);
    struct tp_account_row a;
    enum tp_err e = ops->account_get(impl, req->who->account_id, &a);
    int64_t step = 0;
    if (e == TP_OK && a.totp_sealed_len) {
        uint8_t secret[TP_SECRET_MAX];
        size_t slen = 0;
        e = tp_secret_open(req->app->keys, a.totp_sealed, a.totp_sealed_len,
                           (const uint8_t *)a.login, strlen(a.login), secret, &slen);
        if (e == TP_OK)
            e = tp_totp_verify(secret, slen, code, strlen(code), req->now_ms / 1000,
                               a.totp_last_step, &step);
        sodium_memzero(secret, sizeof secret);
        if (e == TP_OK)
            e = ops->account_use_totp_step(impl, a.id, step);
    } else if (e == TP_OK) {
        e = TP_ERR_AUTH; /* no TOTP enrolled: nothing to step up with */
    }
    json_decref(o);
    if (e == TP_OK)
        e = ops->session_step_up(impl, req->who->session_id, req->now_ms);
    tp_auth_throttle_record(req->app, key, req->source, req->now_ms, e == TP_OK);
    tp_http_auth_event(req->app, req, req->who->account_id, NULL, "step_up",
                       e == TP_OK ? "ok" : "invalid_code", "");
    if (e != TP_OK) {
        tp_http_respond_error(resp, TP_ERR_AUTH, "invalid_code", "the code is not valid");
        return;
    }
    tp_defence_step_up(req); /* detection: a TOTP proven mid-session, from this network */
    tp_http_respond_json(
        resp, 200,
        json_pack("{s:I}", "step_up_until_ms", (json_int_t)(req->now_ms + TP_STEPUP_MS)));
}

void tp_api_sessions_revoke_all(const struct tp_http_request *req, struct tp_http_response *resp)
{
    struct tp_store *st = req->app->store;
    int64_t n = 0;
    enum tp_err e = tp_store_ops(st)->sessions_revoke_all(tp_store_impl(st), req->who->account_id,
                                                          req->who->session_id, req->now_ms, &n);
    if (e != TP_OK) {
        tp_http_respond_error(resp, e, "storage_error", "sessions could not be revoked");
        return;
    }
    tp_http_respond_json(resp, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
}

/* --- password change -------------------------------------------------------------------- */

struct password_job {
    struct tp_app *app;
    struct tp_http_request req;
    char request_id[33], source[48];
    int64_t account_id, session_id;
    char current[TP_PASSWORD_MAX_BYTES + 1], next[TP_PASSWORD_MAX_BYTES + 1];
    size_t current_len, next_len;
    char hash[TP_PASSWORD_HASH_MAX];
};

static void password_job_free(void *arg)
{
    sodium_memzero(arg, sizeof(struct password_job));
    free(arg);
}

static void password_run(void *arg, struct tp_http_response *resp)
{
    struct password_job *j = arg;
    const struct tp_store_ops *ops = tp_store_ops(j->app->store);
    void *impl = tp_store_impl(j->app->store);
    j->req.request_id = j->request_id;
    j->req.source = j->source;
    char h[TP_PASSWORD_HASH_MAX];
    enum tp_err e = tp_password_verify(j->hash, j->current, j->current_len);
    char key[48];
    snprintf(key, sizeof key, "password#%lld", (long long)j->account_id);
    tp_auth_throttle_record(j->app, key, j->source, j->req.now_ms, e == TP_OK);
    if (e == TP_OK)
        e = tp_password_hash(j->next, j->next_len, h);
    if (e == TP_OK)
        e = ops->account_set_password(impl, j->account_id, h, 0);
    int64_t n = 0;
    if (e == TP_OK) /* a changed password ends every other session */
        (void)ops->sessions_revoke_all(impl, j->account_id, j->session_id, j->req.now_ms, &n);
    tp_http_auth_event(j->app, &j->req, j->account_id, NULL, "password_change",
                       e == TP_OK ? "ok" : "refused", "");
    if (e == TP_ERR_AUTH)
        tp_http_respond_error(resp, e, "invalid_credentials", "the current password is wrong");
    else if (e != TP_OK)
        tp_http_respond_error(resp, e, "storage_error", "the password could not be changed");
    else
        tp_http_respond_json(
            resp, 200,
            json_pack("{s:b, s:I}", "changed", 1, "other_sessions_revoked", (json_int_t)n));
    password_job_free(j);
}

void tp_api_password_change(const struct tp_http_request *req, struct tp_http_response *resp)
{
    static const char *const keys[] = {"current_password", "new_password", NULL};
    json_t *o = tp_http_body_object(req, resp, keys);
    if (!o)
        return;
    int bad = 0;
    const char *cur =
        tp_http_str_field(o, "current_password", 1, TP_PASSWORD_MAX_BYTES, resp, &bad);
    const char *nxt =
        bad ? NULL : tp_http_str_field(o, "new_password", 1, TP_PASSWORD_MAX_BYTES, resp, &bad);
    if (bad || !cur || !nxt || !req->who->account_id) {
        if (!bad)
            tp_http_respond_error(resp, TP_ERR_INVALID, "missing_field",
                                  "\"current_password\" and \"new_password\" are required");
        json_decref(o);
        return;
    }
    char key[48];
    snprintf(key, sizeof key, "password#%lld", (long long)req->who->account_id);
    int64_t wait = tp_auth_throttle_wait(req->app, key, req->source, req->now_ms);
    if (wait > 0) {
        json_decref(o);
        tp_http_respond_throttled(resp, wait);
        return;
    }
    struct tp_account_row a;
    struct tp_store *st = req->app->store;
    if (tp_store_ops(st)->account_get(tp_store_impl(st), req->who->account_id, &a) != TP_OK) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_INTERNAL, "storage_error", "account unreadable");
        return;
    }
    struct tp_password_user user = {.login = a.login, .login_len = strlen(a.login)};
    if (strchr(a.login, '@')) {
        user.email = a.login;
        user.email_len = strlen(a.login);
    }
    const struct tp_password_words *common =
        req->app->common_passwords ? tp_password_list_words(req->app->common_passwords) : NULL;
    enum tp_password_reason why = tp_password_policy_check(nxt, strlen(nxt), &user, common);
    if (why != TP_PASSWORD_OK) {
        json_decref(o);
        tp_http_respond_error(resp, TP_ERR_INVALID, tp_password_reason_name(why),
                              tp_password_reason_message(why));
        return;
    }
    struct password_job *j = calloc(1, sizeof *j);
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
    j->account_id = a.id;
    j->session_id = req->who->session_id;
    j->current_len = strlen(cur);
    memcpy(j->current, cur, j->current_len);
    j->next_len = strlen(nxt);
    memcpy(j->next, nxt, j->next_len);
    memcpy(j->hash, a.password_hash, sizeof j->hash);
    json_decref(o);
    resp->job = password_run;
    resp->job_arg = j;
    resp->job_free = password_job_free;
}
