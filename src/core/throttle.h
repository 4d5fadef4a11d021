/* Throttling of authentication attempts (CNIL 2022-100, OWASP OAT-008). Pure state machines;
 * the shell keeps the states and the clock.
 *
 * Two mechanisms:
 * - per source address, a GCRA rate limit on login attempts (credential stuffing from one
 *   place is slowed to a trickle before any password is hashed);
 * - per (account, source network), failures counted over a sliding 24 h window: from the 5th
 *   failure on, each further attempt must wait 2^(n-5) s (growing delay), and at 25 failures
 *   the pair is locked until the window's oldest failure is 24 h old.
 * Keying the account counter by source network is the answer to lock-out floods: an attacker
 * who floods an account from their networks locks the account for those networks only; its
 * owner, from their usual network, still signs in. Unknown logins are counted exactly like
 * existing ones, so throttling reveals nothing about which accounts exist. */
#ifndef TP_CORE_THROTTLE_H
#define TP_CORE_THROTTLE_H

#include <stdint.h>

#define TP_THROTTLE_FREE_FAILURES 5
#define TP_THROTTLE_MAX_FAILURES 25
#define TP_THROTTLE_WINDOW_MS (24LL * 3600 * 1000)
#define TP_THROTTLE_MAX_DELAY_MS (15LL * 60 * 1000)

/* Failures of one (account, network) pair. Zero-initialised = no failure. */
struct tp_login_failures {
    int64_t first_ms; /* start of the current 24 h window */
    int64_t last_ms;  /* last failure */
    int32_t count;    /* failures since first_ms */
};

/* 0 when an attempt may be evaluated now; otherwise how many ms to wait. */
int64_t tp_throttle_wait_ms(const struct tp_login_failures *f, int64_t now_ms);
void tp_throttle_failed(struct tp_login_failures *f, int64_t now_ms);
void tp_throttle_succeeded(struct tp_login_failures *f);

/* GCRA (generic cell rate algorithm): `tat` is the theoretical arrival time, 0 initially.
 * Allows a long-run rate of one event per interval_ms with bursts of `burst` events.
 * Returns 0 and advances tat when allowed, else the ms to wait. */
int64_t tp_gcra(int64_t *tat, int64_t now_ms, int64_t interval_ms, int32_t burst);

#endif
