/* Kill-switch decisions (contract in switches.h). */
#include "core/switches.h"

#include <string.h>

static const char *const channel_names[TP_CH_COUNT] = {
    [TP_CH_PORTAL] = "portal",
    [TP_CH_PS_API] = "ps_api",
    [TP_CH_MEMBER] = "member",
    [TP_CH_RIGHTS] = "rights",
};

const char *tp_channel_name(enum tp_channel c)
{
    return (unsigned)c < TP_CH_COUNT ? channel_names[c] : NULL;
}

int tp_channel_parse(const char *s)
{
    for (int i = 0; i < TP_CH_COUNT; i++)
        if (strcmp(s, channel_names[i]) == 0)
            return i;
    return -1;
}

enum tp_channel tp_channel_of(const struct tp_principal *who)
{
    if (who->token_id)
        return TP_CH_PS_API;
    return who->role == TP_ROLE_MEMBER ? TP_CH_MEMBER : TP_CH_PORTAL;
}

static int ps_is_off(const struct tp_switch_state *st, int64_t ps)
{
    for (size_t i = 0; i < st->n_ps; i++)
        if (st->ps_off[i] == ps)
            return 1;
    return 0;
}

static int amc_is_off(const struct tp_switch_state *st, const char *amc)
{
    for (size_t i = 0; i < st->n_amc; i++)
        if (strcmp(st->amc_off[i], amc) == 0)
            return 1;
    return 0;
}

const char *tp_switch_check(const struct tp_switch_state *st, const struct tp_principal *who,
                            enum tp_disclosure what, const char *amc)
{
    if (what == TP_DISCLOSE_NONE || what == TP_DISCLOSE_GUARANTEED || !who)
        return NULL; /* guaranteed care and payments go on whatever is switched off */
    enum tp_channel ch = tp_channel_of(who);
    if (st->channel_off[ch]) {
        switch (ch) {
        case TP_CH_PORTAL:
            return "the web portal's lookups are switched off by the platform's security team; "
                   "claims for care already guaranteed (engagement or PEC) still work";
        case TP_CH_PS_API:
            return "the PS API's lookups are switched off by the platform's security team; "
                   "claims for care already guaranteed (engagement or PEC) still work";
        default:
            return "the member space is switched off by the platform's security team";
        }
    }
    if (what == TP_DISCLOSE_RIGHTS && st->channel_off[TP_CH_RIGHTS])
        return "rights checks are switched off by the platform's security team; claims for care "
               "already guaranteed (engagement or PEC) still work";
    if (who->role == TP_ROLE_PS && who->ps_id && ps_is_off(st, who->ps_id))
        return "lookups are switched off for this health professional by the platform's security "
               "team; claims for care already guaranteed still work";
    if (amc && amc[0] && amc_is_off(st, amc))
        return "lookups of this insurer's members are switched off by the platform's security "
               "team; claims for care already guaranteed still work";
    return NULL;
}

int tp_switch_set_ps(struct tp_switch_state *st, int64_t ps_id, int off)
{
    for (size_t i = 0; i < st->n_ps; i++)
        if (st->ps_off[i] == ps_id) {
            if (!off)
                st->ps_off[i] = st->ps_off[--st->n_ps];
            return 0;
        }
    if (!off)
        return 0;
    if (st->n_ps == TP_SWITCH_SET_MAX)
        return -1;
    st->ps_off[st->n_ps++] = ps_id;
    return 0;
}

int tp_switch_set_amc(struct tp_switch_state *st, const char *amc, int off)
{
    for (size_t i = 0; i < st->n_amc; i++)
        if (strcmp(st->amc_off[i], amc) == 0) {
            if (!off) {
                st->n_amc--;
                memcpy(st->amc_off[i], st->amc_off[st->n_amc], sizeof st->amc_off[i]);
            }
            return 0;
        }
    if (!off)
        return 0;
    if (st->n_amc == TP_SWITCH_SET_MAX || strlen(amc) >= sizeof st->amc_off[0])
        return -1;
    memcpy(st->amc_off[st->n_amc++], amc, strlen(amc) + 1);
    return 0;
}
