/* The kill switches of a running server (core/switches.h for what they cut; docs/SECURITY.md
 * "Kill switches"). The state lives in the database so that `opentp switch` from a shell and
 * the API agree; the server keeps a copy, reloaded at most once a second, and applies a change
 * made through its own API at once. Thread-safe. */
#ifndef TP_HTTP_SWITCHES_H
#define TP_HTTP_SWITCHES_H

#include <stdint.h>

#include "core/err.h"
#include "core/switches.h"
#include "store/store.h"

#define TP_SWITCH_RELOAD_MS 1000

struct tp_switches;

struct tp_switches *tp_switches_new(struct tp_store *store);
void tp_switches_free(struct tp_switches *sw);

/* NULL when allowed, else the sentence to answer with (503 switched_off). Reloads the state
 * from the store when it is older than TP_SWITCH_RELOAD_MS. */
const char *tp_switches_check(struct tp_switches *sw, const struct tp_principal *who,
                              enum tp_disclosure what, const char *amc, int64_t now_ms);

/* Persists one change (durable on return), then applies it. */
enum tp_err tp_switches_set(struct tp_switches *sw, const char *scope, const char *key, int off,
                            const char *reason, int64_t by_account, int64_t now_ms) TP_MUST_USE;

/* A copy of the current state. */
void tp_switches_snapshot(struct tp_switches *sw, struct tp_switch_state *out, int64_t now_ms);

#endif
