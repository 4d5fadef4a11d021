/* A small read-through cache with a time-to-live, for data read on every request that
 * changes rarely: API tokens (1 s: a revocation takes effect within a second, even when made
 * by another process) and contracts with their guarantees (10 s).
 *
 * Direct-mapped: a key has one slot, a newer entry evicts an older one. Values are copied in
 * and out (no pointers into the cache escape), under one of 64 striped mutexes.
 * Thread-safe. */
#ifndef TP_STORE_CACHE_H
#define TP_STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define TP_CACHE_KEY_MAX 32

struct tp_cache;

/* slots: number of entries; value_size: bytes per value. NULL on allocation failure. */
struct tp_cache *tp_cache_new(size_t slots, size_t value_size, int64_t ttl_ms);
void tp_cache_free(struct tp_cache *c);

/* Copies the value for key into out and returns 1 if present and younger than the TTL. */
int tp_cache_get(struct tp_cache *c, const void *key, size_t keylen, void *out, int64_t now_ms);

/* Stores a copy of value under key, stamped now_ms. Keys longer than TP_CACHE_KEY_MAX are not
 * cached. */
void tp_cache_put(struct tp_cache *c, const void *key, size_t keylen, const void *value,
                  int64_t now_ms);

/* Forgets every entry (after a local change that must be seen at once). */
void tp_cache_clear(struct tp_cache *c);

/* Milliseconds of a monotonic clock, for the TTL. */
int64_t tp_cache_now_ms(void);

#endif
