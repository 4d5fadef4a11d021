#include "store/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIPES 64

struct entry {
    uint8_t key[TP_CACHE_KEY_MAX];
    size_t keylen; /* 0 = empty */
    int64_t stamp_ms;
    /* value_size bytes follow */
};

struct tp_cache {
    size_t slots, value_size, entry_size;
    int64_t ttl_ms;
    pthread_mutex_t stripes[STRIPES];
    unsigned char *entries;
};

static struct entry *slot(struct tp_cache *c, size_t i)
{
    return (struct entry *)(c->entries + i * c->entry_size);
}

/* FNV-1a: the keys are already hashes or small integers; this only spreads them. */
static size_t slot_of(const struct tp_cache *c, const void *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    const uint8_t *p = key;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return (size_t)(h % c->slots);
}

struct tp_cache *tp_cache_new(size_t slots, size_t value_size, int64_t ttl_ms)
{
    struct tp_cache *c = calloc(1, sizeof *c);
    if (!c || slots == 0)
        goto fail;
    c->slots = slots;
    c->value_size = value_size;
    /* Keep values aligned for any type copied through them. */
    c->entry_size = (sizeof(struct entry) + value_size + 15) & ~(size_t)15;
    c->ttl_ms = ttl_ms;
    c->entries = calloc(slots, c->entry_size);
    if (!c->entries)
        goto fail;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripes[i], NULL);
    return c;
fail:
    if (c)
        free(c->entries);
    free(c);
    return NULL;
}

void tp_cache_free(struct tp_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&c->stripes[i]);
    free(c->entries);
    free(c);
}

int tp_cache_get(struct tp_cache *c, const void *key, size_t keylen, void *out, int64_t now_ms)
{
    if (keylen == 0 || keylen > TP_CACHE_KEY_MAX)
        return 0;
    size_t i = slot_of(c, key, keylen);
    pthread_mutex_t *m = &c->stripes[i % STRIPES];
    int hit = 0;
    pthread_mutex_lock(m);
    struct entry *e = slot(c, i);
    if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0 &&
        now_ms - e->stamp_ms < c->ttl_ms && now_ms >= e->stamp_ms) {
        memcpy(out, (unsigned char *)e + sizeof *e, c->value_size);
        hit = 1;
    }
    pthread_mutex_unlock(m);
    return hit;
}

void tp_cache_put(struct tp_cache *c, const void *key, size_t keylen, const void *value,
                  int64_t now_ms)
{
    if (keylen == 0 || keylen > TP_CACHE_KEY_MAX)
        return;
    size_t i = slot_of(c, key, keylen);
    pthread_mutex_t *m = &c->stripes[i % STRIPES];
    pthread_mutex_lock(m);
    struct entry *e = slot(c, i);
    memcpy(e->key, key, keylen);
    e->keylen = keylen;
    e->stamp_ms = now_ms;
    memcpy((unsigned char *)e + sizeof *e, value, c->value_size);
    pthread_mutex_unlock(m);
}

void tp_cache_clear(struct tp_cache *c)
{
    for (size_t i = 0; i < c->slots; i++) {
        pthread_mutex_t *m = &c->stripes[i % STRIPES];
        pthread_mutex_lock(m);
        slot(c, i)->keylen = 0;
        pthread_mutex_unlock(m);
    }
}

int64_t tp_cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
