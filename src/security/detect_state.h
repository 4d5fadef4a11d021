/* Scraping detection: the in-memory state of every account and API token, and the calls the
 * request path makes (issue 5, docs/DETECTION.md). The scoring itself is pure and lives in
 * src/core/detect.c; this module keeps what it needs and applies its decisions.
 *
 * Wiring (see docs/DETECTION.md "Wiring"):
 *   - after authentication, before the handler:    tp_detect_precheck()
 *   - once the outcome is known, before responding: tp_detect_observe_request()
 *   - when a claim or a PEC is accepted:            tp_detect_observe_request(kind CLAIM/PEC)
 *   - after a successful step-up (not the sign-in): tp_detect_observe_step_up()
 *   - when a security officer lifts a suspension:  tp_detect_reset()
 *   - the security console:                         tp_detect_alerts(), tp_detect_stats()
 *
 * Thread-safety: every function may be called from any thread. State is split into
 * config.shards shards, each behind its own mutex; a call takes one shard lock (and the alert
 * lock after it, never the other way round), holds it for a bounded scan and allocates
 * nothing in the steady state.
 *
 * Memory bound: at most config.max_accounts keys are tracked (beyond, the least recently
 * used of 8 sampled records of the shard is evicted; a suspended key's suspension is
 * persisted by the shell, so eviction loses nothing that matters) and at most
 * config.max_beneficiaries beneficiaries per key; see tp_detect_memory_bound(). */
#ifndef TP_SECURITY_DETECT_STATE_H
#define TP_SECURITY_DETECT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/detect.h"
#include "core/err.h"

struct tp_detect_state;

/* Keys: accounts (sessions) and API tokens live in one space. */
static inline uint64_t tp_detect_key_account(int64_t account_id)
{
    return (uint64_t)account_id << 1;
}
static inline uint64_t tp_detect_key_token(int64_t token_id)
{
    return ((uint64_t)token_id << 1) | 1u;
}
static inline int tp_detect_key_is_token(uint64_t key)
{
    return (int)(key & 1u);
}

/* The source network of a textual address: /24 for IPv4, /48 for IPv6 (the granularity an
 * ISP hands a customer), as an opaque non-zero value; 0 when the text is not an address
 * (then the network signal is skipped for that request). */
uint64_t tp_detect_network_of(const char *addr);

/* Creates the state with a copy of config (checked with tp_detect_config_check). */
enum tp_err tp_detect_state_new(const struct tp_detect_config *config, struct tp_detect_state **out,
                                char *msg, size_t msglen) TP_MUST_USE;
void tp_detect_state_free(struct tp_detect_state *s);

/* Worst-case bytes used by a state with this configuration (every key tracked, every set
 * full): what docs/DETECTION.md states as the memory bound. */
uint64_t tp_detect_memory_bound(const struct tp_detect_config *config);

/* Before handling a request of `kind` by `key` (a PS of `profession`; other roles are not
 * tracked): applies what was already decided. Only personal reads start tracking a key. SUSPEND:
 * refuse (the shell has revoked the credentials; this covers the requests in flight). STEP_UP
 * (personal reads only): answer step_up_required. DELAY (personal reads only, GCRA per key, slower
 * once the key was slowed down): answer 429 with Retry-After = ceil(delay_ms / 1000), without
 * handling the request. ALLOW: go on. */
void tp_detect_precheck(struct tp_detect_state *s, uint64_t key, enum tp_profession profession,
                        enum tp_detect_kind kind, int64_t now_ms, struct tp_detect_decision *out);

/* After handling, BEFORE the response is sent: records the request and decides.
 *   key, profession  who (tp_detect_key_account / _token) and their profession
 *   net              tp_detect_network_of(source address), or 0
 *   kind, outcome    what was done, and what came out of it
 *   bidx, bidx_len   the beneficiary: a keyed blind index (the same function for checks and
 *                    claims: tp_bidx_beneficiary_ref), at least 8 bytes; NULL when none
 * Decision: ALLOW — send the response; DELAY — send it, later requests are slowed (precheck
 * enforces the pace); STEP_UP — withhold it and answer step_up_required; SUSPEND — withhold
 * it, suspend the account (or revoke the token), revoke its sessions and tokens, and answer
 * 403. Claims and PECs (kind CLAIM/PEC) settle earlier checks of the same beneficiary and
 * are never refused by detection. With alert set, the alert is already in the console ring. */
void tp_detect_observe_request(struct tp_detect_state *s, uint64_t key,
                               enum tp_profession profession, int64_t now_ms, uint64_t net,
                               enum tp_detect_kind kind, const uint8_t *bidx, size_t bidx_len,
                               enum tp_detect_outcome outcome, struct tp_detect_decision *out);

/* The person behind `key` has just passed a step-up (a fresh TOTP asked in the middle of the
 * session) from `net`: a pending step-up is satisfied, the network becomes known, the
 * unclaimed count at this moment is remembered (a new step-up is asked after
 * config.step_up_increment more) and soft signals rest for config.step_up_cooldown_min.
 * Not for the sign-in: a real-time phishing proxy relays the sign-in's TOTP, and the
 * sign-in must neither whitelist the proxy's network nor quiet the signals. A key not
 * tracked yet is ignored. */
void tp_detect_observe_step_up(struct tp_detect_state *s, uint64_t key, int64_t now_ms,
                               uint64_t net);

/* A security officer lifted the suspension (or cleared the step-up) of `key`: forgets
 * everything about it. Returns 1 when the key was tracked. */
int tp_detect_reset(struct tp_detect_state *s, uint64_t key);

/* One alert for the security console. No personal data: the key, counts, thresholds. */
struct tp_detect_alert {
    uint64_t seq; /* 1, 2, ...: poll with after_seq = the last one seen */
    uint64_t key;
    int64_t at_ms;
    enum tp_profession profession;
    enum tp_detect_action action;
    enum tp_detect_rule rule;
    char reason[TP_DETECT_REASON_MAX];
};

/* Copies into out (at most cap) the alerts with seq > after_seq still in the ring, oldest
 * first; returns how many. An alert of a given rule and key is raised at most once every
 * 10 minutes, except suspensions and step-ups which are always raised. */
size_t tp_detect_alerts(struct tp_detect_state *s, uint64_t after_seq, struct tp_detect_alert *out,
                        size_t cap);

/* The current features of `key` (what the next lookup would be scored on, with kind and
 * outcome of a found rights check and no new network), for the security console's "why"
 * and for tests. Returns 0 when the key is not tracked. */
int tp_detect_features_of(struct tp_detect_state *s, uint64_t key, int64_t now_ms,
                          struct tp_detect_features *out);

struct tp_detect_stats {
    uint64_t tracked;   /* keys tracked now */
    uint64_t evicted;   /* keys evicted since start (the oldest of a sample) */
    uint64_t suspended; /* suspensions decided since start */
    uint64_t step_ups;  /* step-ups demanded since start */
    uint64_t delayed;   /* requests delayed since start */
    uint64_t alerts;    /* alerts raised since start */
};
void tp_detect_stats(struct tp_detect_state *s, struct tp_detect_stats *out);

#endif
