/* Kill switches of a running server (contract in switches.h). */
#include "http/switches.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct tp_switches {
    pthread_rwlock_t lock;
    struct tp_store *store;
    struct tp_switch_state st;
    int64_t loaded_ms;
    int any_off; /* fast path: nothing switched off, nothing to look at */
};

static int any_off(const struct tp_switch_state *st)
{
    for (int i = 0; i < TP_CH_COUNT; i++)
        if (st->channel_off[i])
            return 1;
    return st->n_ps || st->n_amc;
}

static void reload(struct tp_switches *sw, int64_t now_ms)
{
    struct tp_switch_state *fresh = malloc(sizeof *fresh);
    if (!fresh)
        return;
    const struct tp_store_ops *ops = tp_store_ops(sw->store);
    enum tp_err rc = ops->switches_load(tp_store_impl(sw->store), fresh);
    pthread_rwlock_wrlock(&sw->lock);
    /* On a read error the last known state stays: a switch never turns itself back on. */
    if (rc == TP_OK) {
        sw->st = *fresh;
        sw->any_off = any_off(fresh);
    }
    sw->loaded_ms = now_ms;
    pthread_rwlock_unlock(&sw->lock);
    free(fresh);
}

struct tp_switches *tp_switches_new(struct tp_store *store)
{
    struct tp_switches *sw = calloc(1, sizeof *sw);
    if (!sw)
        return NULL;
    pthread_rwlock_init(&sw->lock, NULL);
    sw->store = store;
    sw->loaded_ms = -TP_SWITCH_RELOAD_MS;
    return sw;
}

void tp_switches_free(struct tp_switches *sw)
{
    if (!sw)
        return;
    pthread_rwlock_destroy(&sw->lock);
    free(sw);
}

static void maybe_reload(struct tp_switches *sw, int64_t now_ms)
{
    pthread_rwlock_rdlock(&sw->lock);
    int stale = now_ms - sw->loaded_ms >= TP_SWITCH_RELOAD_MS || now_ms < sw->loaded_ms;
    pthread_rwlock_unlock(&sw->lock);
    if (stale)
        reload(sw, now_ms);
}

const char *tp_switches_check(struct tp_switches *sw, const struct tp_principal *who,
                              enum tp_disclosure what, const char *amc, int64_t now_ms)
{
    if (what == TP_DISCLOSE_NONE || what == TP_DISCLOSE_GUARANTEED)
        return NULL;
    maybe_reload(sw, now_ms);
    pthread_rwlock_rdlock(&sw->lock);
    const char *why = sw->any_off ? tp_switch_check(&sw->st, who, what, amc) : NULL;
    pthread_rwlock_unlock(&sw->lock);
    return why; /* static strings */
}

enum tp_err tp_switches_set(struct tp_switches *sw, const char *scope, const char *key, int off,
                            const char *reason, int64_t by_account, int64_t now_ms)
{
    const struct tp_store_ops *ops = tp_store_ops(sw->store);
    enum tp_err rc =
        ops->switch_set(tp_store_impl(sw->store), scope, key, off, reason, by_account, now_ms);
    if (rc == TP_OK)
        reload(sw, now_ms);
    return rc;
}

void tp_switches_snapshot(struct tp_switches *sw, struct tp_switch_state *out, int64_t now_ms)
{
    maybe_reload(sw, now_ms);
    pthread_rwlock_rdlock(&sw->lock);
    *out = sw->st;
    pthread_rwlock_unlock(&sw->lock);
}
