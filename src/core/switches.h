/* Kill switches (PRODUCT §5, docs/SECURITY.md "Kill switches"): what the security team can
 * turn off, and what still works when they do.
 *
 * In 2024 the only containment was to switch a whole portal off, which also stopped claims and
 * payments. Here a switch cuts only what discloses personal data on demand — lookups: rights
 * checks, new PEC, a claim identified by card data, a member's own data — for one channel
 * (web portal, PS API, member space), for every channel's rights checks, for one PS or for one
 * AMC's beneficiaries. Care already guaranteed (a claim quoting an engagement or PEC number)
 * and payment runs go on; so do login, logout and the switches themselves.
 *
 * Pure: the state is a value the shell loads and guards; decisions are functions of it. */
#ifndef TP_CORE_SWITCHES_H
#define TP_CORE_SWITCHES_H

#include <stddef.h>
#include <stdint.h>

#include "core/identity.h"

enum tp_channel {
    TP_CH_PORTAL = 0, /* web sessions of PS, insurer and platform staff */
    TP_CH_PS_API,     /* PS software with API tokens */
    TP_CH_MEMBER,     /* the member space */
    TP_CH_RIGHTS,     /* rights checks, whatever the channel */
    TP_CH_COUNT
};

/* What an operation discloses, for the switches. */
enum tp_disclosure {
    TP_DISCLOSE_NONE = 0,   /* nothing personal on demand: login, me, switches, payments */
    TP_DISCLOSE_LOOKUP,     /* finds a person from what the caller types: rights check, PEC */
    TP_DISCLOSE_RIGHTS,     /* a rights check (a LOOKUP also cut by the TP_CH_RIGHTS switch) */
    TP_DISCLOSE_GUARANTEED, /* acts on care already guaranteed (engagement or PEC number) */
    TP_DISCLOSE_MEMBER_SELF /* a member's own data */
};

#define TP_SWITCH_SET_MAX 256 /* PS or AMC switched off at once, each */

struct tp_switch_state {
    uint8_t channel_off[TP_CH_COUNT];
    size_t n_ps, n_amc;
    int64_t ps_off[TP_SWITCH_SET_MAX];
    char amc_off[TP_SWITCH_SET_MAX][10];
};

/* "portal", "ps_api", "member", "rights"; NULL for an out-of-range value. */
const char *tp_channel_name(enum tp_channel c);
/* Inverse; -1 when unknown. */
int tp_channel_parse(const char *s);

/* The channel a principal comes through: API token -> PS API, member session -> member space,
 * any other session -> portal. */
enum tp_channel tp_channel_of(const struct tp_principal *who);

/* NULL when allowed; otherwise a sentence for the caller saying what is switched off (no
 * personal data in it). amc is the AMC number the request is about, or NULL if none yet. */
const char *tp_switch_check(const struct tp_switch_state *st, const struct tp_principal *who,
                            enum tp_disclosure what, const char *amc);

/* Edits of a state value (the shell persists them). Return 0, or -1 when a set is full. */
int tp_switch_set_ps(struct tp_switch_state *st, int64_t ps_id, int off);
int tp_switch_set_amc(struct tp_switch_state *st, const char *amc, int off);

#endif
