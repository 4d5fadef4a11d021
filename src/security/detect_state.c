/* Scraping detection state (detect_state.h): per-key records in sharded hash tables (and a
 * dense array per shard for sampled eviction), turned into features for the pure scoring
 * of core/detect.c. */
#include "security/detect_state.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/throttle.h"

#define N_NETS 8       /* source networks remembered per key */
#define HOUR_BUCKETS 6 /* 10-minute buckets: the "last hour" counters */
#define HOUR_BUCKET_MS (10 * 60 * 1000LL)
#define LONG_BUCKETS 24    /* the long window in 24 buckets */
#define GAP_CAP_MS 3600000 /* a gap longer than an hour is a pause, not timing */
#define ALERT_REPEAT_S 600 /* same rule, same key: at most one alert per 10 minutes */
#define SET_INITIAL 16
#define BEN_CLAIMED 1u

/* 8 bytes: a full set of 256 is 2 KiB and one scan reads 32 cache lines. The blind index
 * is keyed, so its first 32 bits are uniform and nobody without the key can pick colliding
 * beneficiaries; a chance collision (at most 256 / 2^32 per lookup) only makes one new
 * beneficiary look already seen. */
struct ben {
    uint32_t h;  /* the first 4 bytes of the beneficiary's blind index */
    uint32_t tc; /* last lookup, Unix seconds rounded down to even | BEN_CLAIMED */
};

/* 8 bytes. Counts saturate: 255 "not found" or off-hours lookups in one bucket are far
 * past every threshold. */
struct bucket {
    int32_t idx; /* time / bucket width: which period these counts belong to */
    uint16_t checks;
    uint8_t not_found, off_hours;
};

/* Hot fields first: a lookup touches the first ~8 cache lines and the set; the alert and
 * reason fields only when something is decided. */
struct acct {
    uint64_t key;
    struct acct *hnext; /* hash chain */
    int64_t used_ms;    /* last call about this key: eviction takes the oldest of a sample */
    uint32_t slot;      /* index in the shard's recs */
    struct ben *set;
    uint32_t set_n, set_cap;
    enum tp_profession profession;
    uint8_t suspended, step_up_pending, stepped_up;
    uint8_t paced;      /* precheck delayed a request since the last personal read */
    int64_t tat;        /* GCRA of personal reads */
    int64_t slow_until; /* slowed down until then */
    int64_t last_read_ms;
    int64_t step_up_ms;
    int64_t day;        /* local day of today_new */
    uint32_t today_new; /* distinct beneficiaries first seen today */
    uint32_t own_daily; /* EWMA of today_new over active days */
    uint32_t own_days;
    uint32_t unclaimed_at_step_up;
    uint32_t last_unclaimed_short;
    uint32_t gaps_n, gaps_pos;
    uint16_t gaps[TP_DETECT_GAPS_MAX]; /* tenths of a second */
    struct bucket hour[HOUR_BUCKETS];
    struct bucket lng[LONG_BUCKETS];
    uint64_t nets[N_NETS];
    uint32_t nets_seen[N_NETS];        /* last use, Unix seconds: the oldest is replaced */
    uint32_t alerted[TP_RULE_COUNT];   /* last alert per rule, Unix seconds */
    enum tp_detect_rule standing_rule; /* the rule behind suspended / step_up_pending */
    char standing_reason[TP_DETECT_REASON_MAX];
};

struct shard {
    pthread_mutex_t mu;
    struct acct **table; /* chained hash table */
    uint32_t mask;
    uint32_t n, cap;    /* tracked, capacity */
    struct acct **recs; /* the n tracked records, dense: eviction samples from here */
    uint64_t rng;
};

struct tp_detect_state {
    struct tp_detect_config c;
    struct shard *shards;
    uint32_t shard_mask;
    pthread_mutex_t alert_mu;
    struct tp_detect_alert *alerts; /* ring of c.max_alerts */
    uint64_t alert_seq;             /* last seq given */
    atomic_uint_fast64_t evicted, suspended, step_ups, delayed, n_alerts;
};

/* ---------------------------------------------------------------------------------------
 * Helpers */

uint64_t tp_detect_network_of(const char *addr)
{
    if (!addr)
        return 0;
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1)
        return (1ull << 62) | ((uint64_t)b[0] << 16) | ((uint64_t)b[1] << 8) | b[2];
    if (inet_pton(AF_INET6, addr, b) == 1) {
        /* An IPv4-mapped address is its IPv4 network. */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, sizeof mapped) == 0)
            return (1ull << 62) | ((uint64_t)b[12] << 16) | ((uint64_t)b[13] << 8) | b[14];
        uint64_t v = 0;
        for (int i = 0; i < 6; i++)
            v = v << 8 | b[i];
        return (2ull << 62) | v;
    }
    return 0;
}

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser: keys are small sequential ids, spread them over shards/buckets */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint32_t bidx_prefix(const uint8_t *bidx)
{
    uint32_t h;
    memcpy(&h, bidx, sizeof h);
    return h;
}

static int is_personal_read(enum tp_detect_kind k)
{
    return k == TP_DETECT_RIGHTS_CHECK || k == TP_DETECT_OTHER_PERSONAL_READ;
}

static uint32_t unix_s(int64_t now_ms)
{
    return now_ms <= 0 ? 0 : (uint32_t)(now_ms / 1000);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t local_minutes(const struct tp_detect_config *c, int64_t now_ms)
{
    return floor_div(now_ms, 60000) + c->utc_offset_min;
}

static int off_hours(const struct tp_detect_config *c, const struct tp_detect_baseline *b,
                     int64_t now_ms)
{
    int64_t m = local_minutes(c, now_ms) % 1440;
    if (m < 0)
        m += 1440;
    uint32_t hour = (uint32_t)(m / 60);
    return hour < b->open_hour || hour >= b->close_hour;
}

/* ---------------------------------------------------------------------------------------
 * Creation */

uint64_t tp_detect_memory_bound(const struct tp_detect_config *c)
{
    uint64_t per_key = sizeof(struct acct) + (uint64_t)c->max_beneficiaries * sizeof(struct ben) +
                       2 * sizeof(struct acct *); /* its hash table slots */
    return (uint64_t)c->max_accounts * per_key + (uint64_t)c->shards * sizeof(struct shard) +
           (uint64_t)c->max_alerts * sizeof(struct tp_detect_alert) +
           sizeof(struct tp_detect_state);
}

enum tp_err tp_detect_state_new(const struct tp_detect_config *config, struct tp_detect_state **out,
                                char *msg, size_t msglen)
{
    *out = NULL;
    enum tp_err e = tp_detect_config_check(config, msg, msglen);
    if (e != TP_OK)
        return e;
    struct tp_detect_state *s = calloc(1, sizeof *s);
    if (!s)
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "out of memory");
    s->c = *config;
    s->shard_mask = config->shards - 1;
    s->shards = calloc(config->shards, sizeof *s->shards);
    s->alerts = calloc(config->max_alerts, sizeof *s->alerts);
    if (!s->shards || !s->alerts) {
        free(s->shards);
        free(s->alerts);
        free(s);
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "out of memory");
    }
    uint32_t per_shard = (config->max_accounts + config->shards - 1) / config->shards;
    uint32_t buckets = 1;
    while (buckets < 2 * per_shard)
        buckets <<= 1;
    for (uint32_t i = 0; i < config->shards; i++) {
        struct shard *sh = &s->shards[i];
        sh->cap = per_shard;
        sh->mask = buckets - 1;
        sh->table = calloc(buckets, sizeof *sh->table);
        sh->recs = calloc(per_shard, sizeof *sh->recs);
        sh->rng = mix(i + 1);
        if (!sh->table || !sh->recs) {
            free(sh->table);
            free(sh->recs);
            for (uint32_t j = 0; j < i; j++) {
                pthread_mutex_destroy(&s->shards[j].mu);
                free(s->shards[j].table);
                free(s->shards[j].recs);
            }
            free(s->shards);
            free(s->alerts);
            free(s);
            return tp_fail(msg, msglen, TP_ERR_NOMEM, "out of memory");
        }
        pthread_mutex_init(&sh->mu, NULL);
    }
    pthread_mutex_init(&s->alert_mu, NULL);
    *out = s;
    return TP_OK;
}

void tp_detect_state_free(struct tp_detect_state *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->c.shards; i++) {
        struct shard *sh = &s->shards[i];
        for (uint32_t j = 0; j < sh->n; j++) {
            free(sh->recs[j]->set);
            free(sh->recs[j]);
        }
        free(sh->recs);
        free(sh->table);
        pthread_mutex_destroy(&sh->mu);
    }
    pthread_mutex_destroy(&s->alert_mu);
    free(s->shards);
    free(s->alerts);
    free(s);
}

/* ---------------------------------------------------------------------------------------
 * Shards: hash table + dense record array. Everything here runs under the shard's lock. */

static struct shard *shard_of(struct tp_detect_state *s, uint64_t key, uint64_t *h)
{
    *h = mix(key);
    return &s->shards[(*h >> 40) & s->shard_mask];
}

static void table_remove(struct shard *sh, struct acct *a)
{
    struct acct **pp = &sh->table[mix(a->key) & sh->mask];
    while (*pp && *pp != a)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = a->hnext;
    a->hnext = NULL;
}

static struct acct *find(struct shard *sh, uint64_t key, uint64_t h)
{
    for (struct acct *a = sh->table[h & sh->mask]; a; a = a->hnext)
        if (a->key == key)
            return a;
    return NULL;
}

static void acct_init(struct acct *a, uint64_t key, enum tp_profession p)
{
    struct ben *set = a->set;
    uint32_t cap = a->set_cap;
    memset(a, 0, sizeof *a);
    a->key = key;
    a->profession = (unsigned)p < TP_PROF_COUNT ? p : TP_PROF_MEDECIN;
    a->day = INT64_MIN;
    a->set = set; /* a recycled record keeps its set's memory */
    a->set_cap = cap;
    for (int i = 0; i < HOUR_BUCKETS; i++)
        a->hour[i].idx = INT32_MIN;
    for (int i = 0; i < LONG_BUCKETS; i++)
        a->lng[i].idx = INT32_MIN;
}

#define EVICT_SAMPLE 8

/* Approximate LRU, as Redis does it: the least recently used of a random sample. An exact
 * LRU list costs every call three records' cache lines (the neighbours' links); with 8
 * samples the victim is older than ~90 % of the shard's records. */
static struct acct *evict(struct tp_detect_state *s, struct shard *sh)
{
    if (sh->n == 0)
        return NULL;
    struct acct *victim = NULL;
    for (int i = 0; i < EVICT_SAMPLE; i++) {
        sh->rng = mix(sh->rng);
        struct acct *a = sh->recs[sh->rng % sh->n];
        if (!victim || a->used_ms < victim->used_ms)
            victim = a;
    }
    table_remove(sh, victim);
    atomic_fetch_add(&s->evicted, 1);
    return victim; /* keeps its slot */
}

/* Finds key, or creates its record (evicting an old one when the shard is full). NULL only
 * when memory is exhausted and the shard is empty. */
static struct acct *get(struct tp_detect_state *s, struct shard *sh, uint64_t key, uint64_t h,
                        enum tp_profession p, int64_t now_ms)
{
    struct acct *a = find(sh, key, h);
    if (!a) {
        uint32_t slot = 0;
        if (sh->n < sh->cap && (a = calloc(1, sizeof *a)) != NULL) {
            slot = sh->n++;
            sh->recs[slot] = a;
        } else if ((a = evict(s, sh)) != NULL) {
            slot = a->slot;
        } else {
            return NULL;
        }
        acct_init(a, key, p);
        a->slot = slot;
        a->hnext = sh->table[h & sh->mask];
        sh->table[h & sh->mask] = a;
    }
    if (now_ms > a->used_ms)
        a->used_ms = now_ms;
    return a;
}

/* ---------------------------------------------------------------------------------------
 * Counters */

static struct bucket *bucket_at(struct bucket *ring, int n, int32_t idx)
{
    int64_t pos = idx % n;
    struct bucket *b = &ring[pos < 0 ? pos + n : pos];
    if (b->idx != idx) {
        b->idx = idx;
        b->checks = b->not_found = b->off_hours = 0;
    }
    return b;
}

static void add16(uint16_t *v)
{
    if (*v < UINT16_MAX)
        (*v)++;
}

static void add8(uint8_t *v)
{
    if (*v < UINT8_MAX)
        (*v)++;
}

/* Period index of a time: int32 holds 10-minute periods (and the long buckets, 2.5 min at
 * least) for thousands of years either side of 1970. */
static int32_t period(int64_t now_ms, int64_t width_ms)
{
    return (int32_t)floor_div(now_ms, width_ms);
}

/* Sums the buckets of the last n periods ending with idx (the current one included). */
static void sum_buckets(const struct bucket *ring, int n, int32_t idx, uint32_t *checks,
                        uint32_t *nf, uint32_t *offh)
{
    *checks = *nf = *offh = 0;
    for (int i = 0; i < n; i++) {
        if ((int64_t)ring[i].idx > (int64_t)idx - n && ring[i].idx <= idx) {
            *checks += ring[i].checks;
            *nf += ring[i].not_found;
            *offh += ring[i].off_hours;
        }
    }
}

static int64_t long_bucket_ms(const struct tp_detect_config *c)
{
    return (int64_t)c->long_window_min * 60000 / LONG_BUCKETS;
}

static void count_request(const struct tp_detect_config *c, struct acct *a, int64_t now_ms,
                          enum tp_detect_outcome outcome, int offh)
{
    struct bucket *hb = bucket_at(a->hour, HOUR_BUCKETS, period(now_ms, HOUR_BUCKET_MS));
    struct bucket *lb = bucket_at(a->lng, LONG_BUCKETS, period(now_ms, long_bucket_ms(c)));
    add16(&hb->checks);
    add16(&lb->checks);
    if (outcome == TP_DETECT_NOT_FOUND) {
        add8(&hb->not_found);
        add8(&lb->not_found);
    }
    if (offh)
        add8(&lb->off_hours);
}

static void count_gap(struct acct *a, int64_t now_ms)
{
    if (a->paced) {
        /* This request waited for its turn: its timing is ours (Retry-After), not the
         * client's, and would look machine-regular. */
        a->paced = 0;
    } else if (a->last_read_ms > 0 && now_ms >= a->last_read_ms) {
        int64_t g = now_ms - a->last_read_ms;
        if (g > GAP_CAP_MS) {
            a->gaps_n = 0; /* a pause: timing starts again */
        } else {
            a->gaps[a->gaps_pos] = (uint16_t)(g / 100); /* <= 36,000 */
            a->gaps_pos = (a->gaps_pos + 1) % TP_DETECT_GAPS_MAX;
            if (a->gaps_n < TP_DETECT_GAPS_MAX)
                a->gaps_n++;
        }
    }
    a->last_read_ms = now_ms;
}

/* Coefficient of variation (standard deviation / mean) of the last n gaps, x 1000. */
static uint32_t gap_cv_permille(const struct acct *a, uint32_t n)
{
    if (n < 2)
        return 0;
    double sum = 0, sq = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = (a->gaps_pos + TP_DETECT_GAPS_MAX - 1 - i) % TP_DETECT_GAPS_MAX;
        double g = a->gaps[pos];
        sum += g;
        sq += g * g;
    }
    double mean = sum / n;
    if (mean <= 0)
        return 0; /* every request in the same millisecond: as regular as it gets */
    double var = sq / n - mean * mean;
    double cv = var > 0 ? sqrt(var) / mean : 0;
    return cv > 100 ? 100000u : (uint32_t)(cv * 1000 + 0.5);
}

/* Known networks: 1 when net is new for this key (and there was a known one before). The
 * first network a key is seen from is learned silently. */
static int network_is_new(struct acct *a, uint64_t net, uint32_t now_s)
{
    if (!net)
        return 0;
    int any = 0;
    for (int i = 0; i < N_NETS; i++) {
        if (a->nets[i] == net) {
            a->nets_seen[i] = now_s;
            return 0;
        }
        any |= a->nets[i] != 0;
    }
    return any;
}

static void network_learn(struct acct *a, uint64_t net, uint32_t now_s)
{
    if (!net)
        return;
    int slot = 0;
    for (int i = 0; i < N_NETS; i++) {
        if (a->nets[i] == net) {
            a->nets_seen[i] = now_s;
            return;
        }
        if (a->nets[slot] == 0)
            continue; /* an empty slot is taken first */
        if (a->nets[i] == 0 || a->nets_seen[i] < a->nets_seen[slot])
            slot = i;
    }
    a->nets[slot] = net;
    a->nets_seen[slot] = now_s;
}

static void day_roll(const struct tp_detect_config *c, struct acct *a, int64_t now_ms)
{
    int64_t day = floor_div(local_minutes(c, now_ms), 1440);
    if (day == a->day)
        return;
    if (a->day != INT64_MIN && a->today_new > 0) {
        /* EWMA with weight 1/8 over active days (weekends and holidays do not count). */
        a->own_daily = a->own_days == 0 ? a->today_new : (a->own_daily * 7 + a->today_new) / 8;
        a->own_days++;
    }
    a->day = day;
    a->today_new = 0;
}

/* ---------------------------------------------------------------------------------------
 * The beneficiary set */

struct set_counts {
    uint32_t distinct_hour, distinct_long, unclaimed_short, unclaimed_long, settled_short;
    uint32_t settled, settled_unclaimed;
};

/* Drops entries older than the long window, refreshes *h's time when present and returns
 * its index (or -1), counting on the way. One pass over at most max_beneficiaries entries. */
static int64_t set_scan(const struct tp_detect_config *c, struct acct *a, const uint32_t *h,
                        uint32_t now_s, struct set_counts *k)
{
    uint32_t long_cut = now_s > c->long_window_min * 60u ? now_s - c->long_window_min * 60u : 0;
    uint32_t short_cut = now_s > c->short_window_min * 60u ? now_s - c->short_window_min * 60u : 0;
    uint32_t hour_cut = now_s > 3600u ? now_s - 3600u : 0;
    uint32_t grace_cut = now_s > c->claim_grace_min * 60u ? now_s - c->claim_grace_min * 60u : 0;
    /* Counted in locals: stores through a->set could alias k's fields otherwise. */
    uint32_t d_hour = 0, u_long = 0, u_short = 0, settled = 0, s_unclaimed = 0, s_short = 0;
    int64_t found = -1;
    uint32_t w = 0, n = a->set_n, want = h ? *h : 0;
    struct ben *set = a->set;
    for (uint32_t i = 0; i < n; i++) {
        struct ben e = set[i];
        uint32_t t = e.tc & ~BEN_CLAIMED, open = !(e.tc & BEN_CLAIMED);
        if (t < long_cut)
            continue; /* out of every window */
        if (h && e.h == want) {
            found = w;
            t = now_s & ~BEN_CLAIMED; /* looked up again: in every window from now */
            e.tc = t | (e.tc & BEN_CLAIMED);
            set[i] = e;
        }
        if (w != i)
            set[w] = e;
        d_hour += t >= hour_cut;
        u_long += open;
        u_short += open & (t >= short_cut);
        s_short += !open & (t >= short_cut);
        settled += t < grace_cut;
        s_unclaimed += open & (t < grace_cut);
        w++;
    }
    a->set_n = w;
    k->distinct_long = w;
    k->distinct_hour = d_hour;
    k->unclaimed_long = u_long;
    k->unclaimed_short = u_short;
    k->settled_short = s_short;
    k->settled = settled;
    k->settled_unclaimed = s_unclaimed;
    return found;
}

/* Adds h (not present). When the set is full, the oldest settled (claimed) entry makes
 * room, else the oldest: unclaimed counts past every threshold stay past it. */
static void set_add(const struct tp_detect_config *c, struct acct *a, uint32_t h, uint32_t now_s)
{
    if (a->set_n == a->set_cap && a->set_cap < c->max_beneficiaries) {
        uint32_t cap = a->set_cap ? a->set_cap * 2 : SET_INITIAL;
        if (cap > c->max_beneficiaries)
            cap = c->max_beneficiaries;
        struct ben *ns = realloc(a->set, cap * sizeof *ns);
        if (ns) {
            a->set = ns;
            a->set_cap = cap;
        }
    }
    uint32_t slot = a->set_n;
    if (a->set_n == a->set_cap) {
        if (a->set_cap == 0)
            return; /* no memory at all: the request is still counted in the buckets */
        uint32_t oldest = 0, oldest_claimed = UINT32_MAX;
        for (uint32_t i = 0; i < a->set_n; i++) {
            uint32_t t = a->set[i].tc & ~BEN_CLAIMED;
            if (t < (a->set[oldest].tc & ~BEN_CLAIMED))
                oldest = i;
            if ((a->set[i].tc & BEN_CLAIMED) &&
                (oldest_claimed == UINT32_MAX || t < (a->set[oldest_claimed].tc & ~BEN_CLAIMED)))
                oldest_claimed = i;
        }
        slot = oldest_claimed != UINT32_MAX ? oldest_claimed : oldest;
    } else {
        a->set_n++;
    }
    a->set[slot].h = h;
    a->set[slot].tc = now_s & ~BEN_CLAIMED;
}

/* The features of a record at now_ms, from its set counts k. kind, outcome and
 * new_network are the caller's. */
static void fill_features(const struct tp_detect_config *c, struct acct *a,
                          const struct set_counts *k, int64_t now_ms, struct tp_detect_features *f)
{
    memset(f, 0, sizeof *f);
    f->profession = a->profession;
    f->is_token = tp_detect_key_is_token(a->key);
    f->kind = TP_DETECT_RIGHTS_CHECK;
    f->outcome = TP_DETECT_FOUND;
    f->distinct_hour = k->distinct_hour;
    f->distinct_long = k->distinct_long;
    f->unclaimed_short = k->unclaimed_short;
    f->unclaimed_long = k->unclaimed_long;
    f->settled_short = k->settled_short;
    f->settled_checks = k->settled;
    f->settled_unclaimed = k->settled_unclaimed;
    uint32_t dummy;
    sum_buckets(a->hour, HOUR_BUCKETS, period(now_ms, HOUR_BUCKET_MS), &f->checks_hour,
                &f->not_found_hour, &dummy);
    sum_buckets(a->lng, LONG_BUCKETS, period(now_ms, long_bucket_ms(c)), &f->checks_long,
                &f->not_found_long, &f->off_hours_long);
    f->gaps = a->gaps_n < c->timing_min_gaps ? a->gaps_n : c->timing_min_gaps;
    f->gap_cv_permille = gap_cv_permille(a, f->gaps);
    f->own_daily_distinct = a->own_daily;
    f->own_days = a->own_days;
    f->since_step_up_ms = a->stepped_up ? now_ms - a->step_up_ms : -1;
    if (f->since_step_up_ms < -1)
        f->since_step_up_ms = 0; /* clock went back */
    f->unclaimed_at_step_up = a->unclaimed_at_step_up;
}

int tp_detect_features_of(struct tp_detect_state *s, uint64_t key, int64_t now_ms,
                          struct tp_detect_features *out)
{
    uint64_t h;
    struct shard *sh = shard_of(s, key, &h);
    pthread_mutex_lock(&sh->mu);
    struct acct *a = find(sh, key, h);
    if (a) {
        struct set_counts k;
        (void)set_scan(&s->c, a, NULL, unix_s(now_ms), &k);
        fill_features(&s->c, a, &k, now_ms, out);
    }
    pthread_mutex_unlock(&sh->mu);
    return a != NULL;
}

/* ---------------------------------------------------------------------------------------
 * Alerts */

static void raise_alert(struct tp_detect_state *s, struct acct *a, int64_t now_ms,
                        const struct tp_detect_decision *d)
{
    uint32_t now_s = unix_s(now_ms);
    int always = d->action >= TP_DETECT_STEP_UP;
    if (!always && a->alerted[d->rule] && now_s - a->alerted[d->rule] < ALERT_REPEAT_S)
        return;
    a->alerted[d->rule] = now_s ? now_s : 1;
    pthread_mutex_lock(&s->alert_mu);
    uint64_t seq = ++s->alert_seq;
    struct tp_detect_alert *al = &s->alerts[(seq - 1) % s->c.max_alerts];
    al->seq = seq;
    al->key = a->key;
    al->at_ms = now_ms;
    al->profession = a->profession;
    al->action = d->action;
    al->rule = d->rule;
    memcpy(al->reason, d->reason, sizeof al->reason);
    pthread_mutex_unlock(&s->alert_mu);
    atomic_fetch_add(&s->n_alerts, 1);
}

size_t tp_detect_alerts(struct tp_detect_state *s, uint64_t after_seq, struct tp_detect_alert *out,
                        size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&s->alert_mu);
    uint64_t last = s->alert_seq;
    uint64_t first = last > s->c.max_alerts ? last - s->c.max_alerts + 1 : 1;
    if (after_seq + 1 > first)
        first = after_seq + 1;
    for (uint64_t q = first; q <= last && n < cap; q++)
        out[n++] = s->alerts[(q - 1) % s->c.max_alerts];
    pthread_mutex_unlock(&s->alert_mu);
    return n;
}

void tp_detect_stats(struct tp_detect_state *s, struct tp_detect_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < s->c.shards; i++) {
        pthread_mutex_lock(&s->shards[i].mu);
        out->tracked += s->shards[i].n;
        pthread_mutex_unlock(&s->shards[i].mu);
    }
    out->evicted = atomic_load(&s->evicted);
    out->suspended = atomic_load(&s->suspended);
    out->step_ups = atomic_load(&s->step_ups);
    out->delayed = atomic_load(&s->delayed);
    out->alerts = atomic_load(&s->n_alerts);
}

/* ---------------------------------------------------------------------------------------
 * The calls of the request path */

static void decide(struct tp_detect_decision *out, enum tp_detect_action action,
                   enum tp_detect_rule rule, int64_t delay_ms, const char *reason)
{
    memset(out, 0, sizeof *out);
    out->action = action;
    out->rule = rule;
    out->delay_ms = delay_ms;
    if (reason) /* always a TP_DETECT_REASON_MAX buffer, NUL-terminated */
        memcpy(out->reason, reason, sizeof out->reason);
}

void tp_detect_precheck(struct tp_detect_state *s, uint64_t key, enum tp_profession profession,
                        enum tp_detect_kind kind, int64_t now_ms, struct tp_detect_decision *out)
{
    uint64_t h;
    struct shard *sh = shard_of(s, key, &h);
    decide(out, TP_DETECT_ALLOW, TP_RULE_NONE, 0, NULL);
    pthread_mutex_lock(&sh->mu);
    /* Only personal reads start tracking a key: the other calls of PS who never look anyone
     * up cost no memory. */
    struct acct *a =
        is_personal_read(kind) ? get(s, sh, key, h, profession, now_ms) : find(sh, key, h);
    if (!a) {
        pthread_mutex_unlock(&sh->mu);
        return; /* untracked, or no memory: fail open, tiers payant must go on */
    }
    if (a->suspended) {
        decide(out, TP_DETECT_SUSPEND, TP_RULE_SUSPENDED, 0, a->standing_reason);
    } else if (is_personal_read(kind)) {
        if (a->step_up_pending) {
            decide(out, TP_DETECT_STEP_UP, TP_RULE_STEP_UP_PENDING, 0, a->standing_reason);
        } else {
            const struct tp_detect_baseline *b = &s->c.prof[a->profession];
            int64_t interval = 60000 / b->rate_per_min;
            int32_t burst = (int32_t)b->burst;
            if (now_ms < a->slow_until && interval < (int64_t)s->c.slow_delay_ms) {
                interval = s->c.slow_delay_ms;
                burst = 1;
            }
            int64_t wait = tp_gcra(&a->tat, now_ms, interval, burst);
            if (wait > 0) {
                char r[TP_DETECT_REASON_MAX] = {0};
                snprintf(r, sizeof r, "more lookups than %s allows (%lld a minute)",
                         tp_profession_name(a->profession),
                         (long long)(60000 / (interval > 0 ? interval : 1)));
                decide(out, TP_DETECT_DELAY, TP_RULE_RATE, wait, r);
                a->paced = 1;
                atomic_fetch_add(&s->delayed, 1);
            }
        }
    }
    pthread_mutex_unlock(&sh->mu);
}

void tp_detect_observe_request(struct tp_detect_state *s, uint64_t key,
                               enum tp_profession profession, int64_t now_ms, uint64_t net,
                               enum tp_detect_kind kind, const uint8_t *bidx, size_t bidx_len,
                               enum tp_detect_outcome outcome, struct tp_detect_decision *out)
{
    const struct tp_detect_config *c = &s->c;
    uint64_t h;
    struct shard *sh = shard_of(s, key, &h);
    decide(out, TP_DETECT_ALLOW, TP_RULE_NONE, 0, NULL);
    if (bidx && bidx_len < 8)
        bidx = NULL; /* not a blind index */
    if ((unsigned)outcome >= TP_DETECT_OUTCOME_COUNT)
        outcome = TP_DETECT_FOUND;
    pthread_mutex_lock(&sh->mu);
    /* A claim for a key never seen looking anyone up has nothing to settle. */
    struct acct *a =
        is_personal_read(kind) ? get(s, sh, key, h, profession, now_ms) : find(sh, key, h);
    if (!a) {
        pthread_mutex_unlock(&sh->mu);
        return;
    }
    if (a->suspended) {
        decide(out, TP_DETECT_SUSPEND, TP_RULE_SUSPENDED, 0, a->standing_reason);
        pthread_mutex_unlock(&sh->mu);
        return;
    }
    /* The set is the next cache miss: start it while the record's counters are updated. */
    for (uint32_t i = 0; i < a->set_n && i < 32; i += 8)
        __builtin_prefetch(&a->set[i]);
    uint32_t now_s = unix_s(now_ms);
    uint32_t bh = bidx ? bidx_prefix(bidx) : 0;
    if (kind == TP_DETECT_CLAIM || kind == TP_DETECT_PEC) {
        /* Settles the earlier lookup of this beneficiary. Never refused here. */
        if (bidx) {
            for (uint32_t i = 0; i < a->set_n; i++) {
                if (a->set[i].h == bh) {
                    a->set[i].tc |= BEN_CLAIMED;
                    break;
                }
            }
        }
        pthread_mutex_unlock(&sh->mu);
        return;
    }
    if (!is_personal_read(kind)) {
        pthread_mutex_unlock(&sh->mu);
        return;
    }
    const struct tp_detect_baseline *b = &c->prof[a->profession];
    day_roll(c, a, now_ms);
    count_request(c, a, now_ms, outcome, off_hours(c, b, now_ms));
    count_gap(a, now_ms);
    /* A "not found" answer disclosed nobody: it is counted, not remembered. */
    int remember = bidx && outcome != TP_DETECT_NOT_FOUND;
    struct set_counts k;
    int64_t at = set_scan(c, a, remember ? &bh : NULL, now_s, &k);
    if (remember) {
        if (at < 0) {
            set_add(c, a, bh, now_s);
            a->today_new++;
            k.distinct_long++;
            k.distinct_hour++;
            k.unclaimed_long++;
            k.unclaimed_short++;
        }
    }
    a->last_unclaimed_short = k.unclaimed_short;
    int known_any = a->nets[0] != 0; /* slots fill from the first */
    struct tp_detect_features f;
    fill_features(c, a, &k, now_ms, &f);
    f.kind = kind;
    f.outcome = outcome;
    f.new_network = network_is_new(a, net, now_s);

    *out = tp_detect_score(&f, c, b);
    if (a->step_up_pending && out->action <= TP_DETECT_STEP_UP) {
        /* A request that passed precheck before the demand: withheld like the others, and
         * not alerted on again. */
        decide(out, TP_DETECT_STEP_UP, TP_RULE_STEP_UP_PENDING, 0, a->standing_reason);
    }

    /* Apply. */
    /* The first network is learned silently; a new one is learned by a session at its
     * step-up (tp_detect_observe_step_up), by a token at once (it can only be alerted on). */
    if (!known_any || (f.new_network && f.is_token))
        network_learn(a, net, now_s);
    switch (out->action) {
    case TP_DETECT_SUSPEND:
        a->suspended = 1;
        a->standing_rule = out->rule;
        memcpy(a->standing_reason, out->reason, sizeof a->standing_reason);
        atomic_fetch_add(&s->suspended, 1);
        break;
    case TP_DETECT_STEP_UP:
        if (a->step_up_pending)
            break;
        a->step_up_pending = 1;
        a->standing_rule = out->rule;
        memcpy(a->standing_reason, out->reason, sizeof a->standing_reason);
        atomic_fetch_add(&s->step_ups, 1);
        break;
    case TP_DETECT_DELAY:
        a->slow_until = now_ms + (int64_t)c->slow_duration_min * 60000;
        atomic_fetch_add(&s->delayed, 1);
        break;
    case TP_DETECT_ALLOW:
        break;
    }
    if (out->alert)
        raise_alert(s, a, now_ms, out);
    pthread_mutex_unlock(&sh->mu);
}

void tp_detect_observe_step_up(struct tp_detect_state *s, uint64_t key, int64_t now_ms,
                               uint64_t net)
{
    uint64_t h;
    struct shard *sh = shard_of(s, key, &h);
    pthread_mutex_lock(&sh->mu);
    struct acct *a = find(sh, key, h);
    if (a && !a->suspended) {
        a->step_up_pending = 0;
        a->stepped_up = 1;
        a->step_up_ms = now_ms;
        a->unclaimed_at_step_up = a->last_unclaimed_short;
        network_learn(a, net, unix_s(now_ms));
    }
    pthread_mutex_unlock(&sh->mu);
}

int tp_detect_reset(struct tp_detect_state *s, uint64_t key)
{
    uint64_t h;
    struct shard *sh = shard_of(s, key, &h);
    pthread_mutex_lock(&sh->mu);
    struct acct *a = find(sh, key, h);
    if (a) {
        table_remove(sh, a);
        sh->recs[a->slot] = sh->recs[sh->n - 1];
        sh->recs[a->slot]->slot = a->slot;
        sh->n--;
        free(a->set);
        free(a);
    }
    pthread_mutex_unlock(&sh->mu);
    return a != NULL;
}
