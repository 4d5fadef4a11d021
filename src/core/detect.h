/* Scraping detection: the pure scoring of one account's (or API token's) recent activity
 * (issue 5, DESIGN-NOTES "Detection", docs/DETECTION.md).
 *
 * The shell (src/security/detect_state.c) keeps, per account and per token, what happened
 * recently — distinct beneficiaries looked up and whether a claim or PEC followed, "not found"
 * answers, timing, source networks — and turns it into a struct tp_detect_features. This
 * module decides from those features, the configuration and the profession's baseline what
 * to do: allow, slow down, demand a fresh TOTP (step-up), or suspend, with a reason a security
 * officer can read. No clock, no I/O, no allocation: everything comes in as arguments.
 *
 * The signal that bounds disclosure at any speed is the number of distinct beneficiaries
 * looked up with no claim or PEC following: a PS's checks are followed by claims for most of
 * the same patients, a scraper files none, so its count grows with every record it obtains,
 * and suspension at a fixed count caps what it gets whatever its pace. */
#ifndef TP_CORE_DETECT_H
#define TP_CORE_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/domain.h"
#include "core/err.h"

/* What a request did, as far as detection cares. */
enum tp_detect_kind {
    TP_DETECT_RIGHTS_CHECK = 0,    /* discloses a beneficiary's coverage */
    TP_DETECT_CLAIM,               /* a claim for a beneficiary: settles earlier checks */
    TP_DETECT_PEC,                 /* a PEC request: settles earlier checks */
    TP_DETECT_OTHER_PERSONAL_READ, /* any other read of a beneficiary's data */
    TP_DETECT_OTHER,               /* no personal data involved */
    TP_DETECT_KIND_COUNT
};

enum tp_detect_outcome {
    TP_DETECT_FOUND = 0, /* the beneficiary was found and data was returned */
    TP_DETECT_NOT_FOUND, /* no such card data: what enumeration produces */
    TP_DETECT_REJECTED,  /* found, but refused (closed rights, domain): existence disclosed */
    TP_DETECT_OUTCOME_COUNT
};

/* Graduated responses, in increasing severity. */
enum tp_detect_action {
    TP_DETECT_ALLOW = 0,
    TP_DETECT_DELAY,   /* slow down: answer 429 with Retry-After = delay_ms (rounded up) */
    TP_DETECT_STEP_UP, /* withhold the answer; a fresh TOTP is required first */
    TP_DETECT_SUSPEND, /* withhold; suspend the account, revoke its sessions and tokens */
};

/* Which rule decided. Stable identifiers: they appear in alerts and metrics. */
enum tp_detect_rule {
    TP_RULE_NONE = 0,
    TP_RULE_RATE,            /* GCRA rate limit of personal reads */
    TP_RULE_UNCLAIMED_SHORT, /* distinct beneficiaries with no claim/PEC, short window */
    TP_RULE_UNCLAIMED_LONG,  /* same, long window */
    TP_RULE_UNCLAIMED_SHARE, /* share of settled-by-now checks with no claim/PEC */
    TP_RULE_ENUMERATION,     /* "not found" answers: count and share */
    TP_RULE_VOLUME_HOUR,     /* distinct beneficiaries in an hour vs the profession */
    TP_RULE_VOLUME_DAY,      /* distinct beneficiaries in a day vs the profession */
    TP_RULE_OWN_BASELINE,    /* distinct per day vs the account's own history */
    TP_RULE_TIMING,          /* machine-regular request timing */
    TP_RULE_NEW_NETWORK,     /* a source network never seen for this account */
    TP_RULE_OFF_HOURS,       /* personal reads outside the profession's usual hours */
    TP_RULE_SUSPENDED,       /* already suspended (precheck) */
    TP_RULE_STEP_UP_PENDING, /* a step-up was demanded and not yet given (precheck) */
    TP_RULE_COUNT
};

#define TP_DETECT_REASON_MAX 192

/* The decision for one request. `reason` is plain text for the security console and the
 * account's owner: counts, thresholds and the profession only, never personal data. */
struct tp_detect_decision {
    enum tp_detect_action action;
    int64_t delay_ms;         /* TP_DETECT_DELAY: how long to wait before the next request */
    int alert;                /* raise an alert on the security console */
    enum tp_detect_rule rule; /* the rule that decided (TP_RULE_NONE when nothing fired) */
    char reason[TP_DETECT_REASON_MAX];
};

/* What a profession normally does (one PS account or token of that profession). */
struct tp_detect_baseline {
    uint32_t rate_per_min;           /* sustained personal reads per minute (GCRA) */
    uint32_t burst;                  /* GCRA burst */
    uint32_t max_distinct_hour;      /* more distinct beneficiaries in 1 h: slow down */
    uint32_t max_distinct_day;       /* more in the long window: step-up */
    uint32_t unclaimed_step_up;      /* unclaimed distinct (short window): step-up from here */
    uint32_t unclaimed_suspend;      /* unclaimed distinct (short window): suspend here */
    uint32_t unclaimed_long_suspend; /* unclaimed distinct (long window): suspend here */
    uint32_t open_hour, close_hour;  /* usual hours, local time, [open, close); 0/24 = always */
    /* Settlement credit: the short-window thresholds rise by settled_short x permille / 1000,
     * at most credit_max. For establishments whose PEC follow by up to an hour: what they
     * keep pending grows with what they settle. A scraper alone settles nothing and gets no
     * credit; inside a working account it gets at most credit_max more. */
    uint32_t credit_permille;
    uint32_t credit_max;
};

/* Every threshold. Defaults: tp_detect_config_defaults; file: data/detect.conf. */
struct tp_detect_config {
    /* memory bounds */
    uint32_t max_accounts;      /* tracked accounts and tokens (idle ones are evicted) */
    uint32_t max_beneficiaries; /* distinct beneficiaries remembered per account */
    uint32_t shards;            /* lock shards (power of two) */
    uint32_t max_alerts;        /* alerts kept for the console (ring) */
    /* windows */
    uint32_t short_window_min; /* unclaimed distinct, short window */
    uint32_t long_window_min;  /* unclaimed and distinct, long window (<= 7 days) */
    uint32_t claim_grace_min;  /* a claim/PEC usually follows a check within this delay */
    int32_t utc_offset_min;    /* local time for the usual hours (no DST: a fixed offset) */
    /* graduated responses */
    uint32_t step_up_increment;    /* after a step-up, unclaimed growth before asking again */
    uint32_t step_up_cooldown_min; /* soft signals do not ask again within this delay */
    uint32_t slow_delay_ms;        /* the pace imposed once an account is slowed down */
    uint32_t slow_duration_min;    /* how long the slower pace lasts */
    /* share of checks with no claim/PEC once the grace delay is over */
    uint32_t unclaimed_share_min_checks;
    uint32_t unclaimed_share_permille;
    /* long window, nearly nothing settled: a scraper too slow for the short window, held to
     * this count when at least this share of the distinct looked up has no claim/PEC (a PS
     * bills most of them; the profession's unclaimed_long_suspend is for the rest) */
    uint32_t unclaimed_long_share_suspend;
    uint32_t unclaimed_long_share_permille;
    /* enumeration: "not found" answers */
    uint32_t not_found_step_up_hour;
    uint32_t not_found_suspend_hour;
    uint32_t not_found_suspend_long;
    uint32_t not_found_share_permille; /* and at least this share of the checks */
    /* machine-like timing: coefficient of variation of inter-request gaps */
    uint32_t timing_min_gaps;
    uint32_t timing_cv_permille;
    /* the account's own history */
    uint32_t own_baseline_factor;
    uint32_t own_baseline_floor;
    uint32_t own_baseline_min_days;
    /* off-hours */
    uint32_t off_hours_alert;
    struct tp_detect_baseline prof[TP_PROF_COUNT];
};

/* Hard limits of the configuration (the parser refuses values beyond). */
#define TP_DETECT_MAX_ACCOUNTS_CAP 4000000u
#define TP_DETECT_MAX_BENEFICIARIES_CAP 4096u
#define TP_DETECT_SHARDS_CAP 4096u
#define TP_DETECT_MAX_ALERTS_CAP 65536u
#define TP_DETECT_WINDOW_CAP_MIN (7u * 24 * 60)
#define TP_DETECT_GAPS_MAX 32u                 /* inter-request gaps kept per account */
#define TP_DETECT_CONFIG_TEXT_MAX (64u * 1024) /* bytes of a configuration file */

/* The features of one account at the moment of one request, computed by the shell. */
struct tp_detect_features {
    enum tp_profession profession;
    int is_token;             /* an API token: no step-up possible */
    enum tp_detect_kind kind; /* of the current request */
    enum tp_detect_outcome outcome;
    uint32_t distinct_hour;               /* distinct beneficiaries looked up in the last hour */
    uint32_t distinct_long;               /* ... in the long window */
    uint32_t unclaimed_short;             /* distinct with no claim/PEC yet, short window */
    uint32_t unclaimed_long;              /* ... long window */
    uint32_t settled_short;               /* distinct with a claim/PEC, short window */
    uint32_t settled_checks;              /* distinct checked longer ago than the grace delay */
    uint32_t settled_unclaimed;           /* ... of which no claim/PEC followed */
    uint32_t checks_hour, not_found_hour; /* personal reads and "not found" answers, ~1 h */
    uint32_t checks_long, not_found_long; /* ... long window */
    uint32_t gaps;                        /* inter-request gaps measured (recent, capped) */
    uint32_t gap_cv_permille;             /* their coefficient of variation x 1000 */
    uint32_t off_hours_long;              /* personal reads outside usual hours, long window */
    int new_network;                      /* the request comes from a network not seen before */
    uint32_t own_daily_distinct;          /* the account's usual distinct per day (0: unknown) */
    uint32_t own_days;                    /* days of history behind own_daily_distinct */
    int64_t since_step_up_ms;             /* since the last step-up given; -1 = never */
    uint32_t unclaimed_at_step_up;        /* unclaimed_short when it was last given */
};

/* Fills c with the built-in defaults (the same values as data/detect.conf). */
void tp_detect_config_defaults(struct tp_detect_config *c);

/* Parses `key = value` lines (text, len bytes) over the defaults into *out. Blank lines and
 * lines starting with '#' are ignored. Keys: the global field names above; per profession
 * `PROFESSION.field` (PHARMACIE.unclaimed_suspend), or `default.field` for every profession
 * (applied before the per-profession lines, wherever it stands). Values are decimal integers
 * (utc_offset_min may be negative). Unknown key, bad value, out-of-range value, duplicate key
 * or inconsistent thresholds (step-up above suspension, ...): TP_ERR_INVALID with the line
 * number in msg; more than TP_DETECT_CONFIG_TEXT_MAX bytes: TP_ERR_TOO_BIG. *out is only
 * written on success. */
enum tp_err tp_detect_config_parse(const char *text, size_t len, struct tp_detect_config *out,
                                   char *msg, size_t msglen) TP_MUST_USE;

/* Checks the consistency of a configuration (what the parser checks after reading). */
enum tp_err tp_detect_config_check(const struct tp_detect_config *c, char *msg,
                                   size_t msglen) TP_MUST_USE;

/* The decision for one personal read. Pure: same inputs, same decision. `profession` is the
 * baseline of f->profession (normally &c->prof[f->profession]). Suspension rules come first,
 * then step-up, then slow-down, then alert-only signals; the most severe action wins and
 * names its rule and reason. */
struct tp_detect_decision tp_detect_score(const struct tp_detect_features *f,
                                          const struct tp_detect_config *c,
                                          const struct tp_detect_baseline *profession);

const char *tp_detect_action_name(enum tp_detect_action a);
const char *tp_detect_rule_name(enum tp_detect_rule r);
const char *tp_detect_kind_name(enum tp_detect_kind k);

#endif
