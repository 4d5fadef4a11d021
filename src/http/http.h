/* The HTTP shell: libmicrohttpd server, routing, authentication, JSON in and out.
 *
 * Request path (docs/ARCHITECTURE.md): MHD poll thread -> server.c collects the body into a
 * capped buffer -> route table -> bearer-token authentication -> handler (api_*.c) validates
 * input, calls the pure core and the store, prepares the response -> if the request produced
 * durable writes (engagement, access event) the connection is suspended and the intent is
 * queued to the group-commit writer -> once committed, the connection resumes and the response
 * is sent. A failed commit turns the prepared response into a 503: nothing is acknowledged
 * that is not on disk. */
#ifndef TP_HTTP_HTTP_H
#define TP_HTTP_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "security/keys.h"
#include "store/store.h"

struct tp_server_config {
    const char *listen_addr; /* dotted IPv4, default 127.0.0.1 */
    uint16_t port;           /* 0 = any free port (written to port_file) */
    unsigned threads;        /* poll threads; 0 = number of CPUs */
    unsigned max_connections;
    unsigned max_per_ip;
    unsigned timeout_s; /* idle connection timeout */
    size_t body_max;    /* bytes */
    const char *port_file;
    FILE *access_log;        /* NULL = no access log */
    unsigned exit_after_s;   /* 0 = run until SIGINT/SIGTERM */
    int banner;              /* print the newcomer's banner on start */
    const char *banner_file; /* text printed after the URL (demo credentials) */
};

void tp_server_config_defaults(struct tp_server_config *c);

struct tp_auth_state; /* login throttling tables (api_auth.c) */
struct tp_password_list;

/* Runs fn(arg) on a worker thread (argon2id must not run on poll threads); TP_ERR_BUSY when
 * the pool's queue is full. */
typedef enum tp_err (*tp_offload_fn)(void *pool, void (*fn)(void *arg), void *arg);

struct tp_app {
    struct tp_store *store;
    const struct tp_keys *keys;
    tp_offload_fn offload;
    void *offload_pool;
    struct tp_auth_state *auth;
    const struct tp_password_list *common_passwords; /* may be NULL */
    int64_t session_idle_ms;                         /* default 15 min */
    int64_t session_max_ms;                          /* default 12 h */
    int cookie_secure; /* add "Secure" to the session cookie (behind TLS) */
    int64_t login_ip_interval_ms; /* per source address: one login attempt per interval... */
    int32_t login_ip_burst;       /* ...with bursts of this many (0: defaults 2000 ms, 10) */
    const char *data_dir;         /* the platform folder: payment runs go to data_dir/payments */
    struct tp_switches *switches; /* kill switches (http/switches.h); NULL: none checked */
    struct tp_detect_state *detect; /* inline detection (http/defence.h); NULL: none */
};

/* Login throttling state for a server; see core/throttle.h. */
struct tp_auth_state *tp_auth_state_new(void);
void tp_auth_state_free(struct tp_auth_state *a);

/* Runs the server until a signal or exit_after_s. Blocks. */
enum tp_err tp_server_run(const struct tp_server_config *cfg, struct tp_app *app, char *msg,
                          size_t msglen) TP_MUST_USE;

#endif
