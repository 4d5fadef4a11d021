#include "core/rights.h"

#include <assert.h>
#include <string.h>

struct tp_rights_decision tp_rights_decide(const struct tp_beneficiary *b, enum tp_domain domain,
                                           enum tp_profession profession, tp_day date_of_care)
{
    struct tp_rights_decision d = {.outcome = TP_RIGHTS_OPEN, .valid_until = 0};
    assert((unsigned)domain < TP_DOM_COUNT);
    /* Checked first, before anything about the beneficiary is used: a PS learns nothing
     * about a domain it has no business in (data minimisation). */
    if (!(tp_profession_domains(profession) & (1u << domain))) {
        d.outcome = TP_RIGHTS_DOMAIN_FORBIDDEN;
        return d;
    }
    if (date_of_care < b->coverage_start || date_of_care > b->coverage_end) {
        d.outcome = TP_RIGHTS_CLOSED;
        return d;
    }
    if (!(b->tp_domains & (1u << domain))) {
        d.outcome = TP_RIGHTS_DOMAIN_NOT_OPEN;
        return d;
    }
    d.valid_until = date_of_care + TP_ENGAGEMENT_VALIDITY_DAYS;
    return d;
}

int tp_rights_date_acceptable(tp_day date_of_care, tp_day today)
{
    return date_of_care >= today - TP_RIGHTS_PAST_DAYS &&
           date_of_care <= today + TP_RIGHTS_FUTURE_DAYS;
}

int tp_rights_coverage(const struct tp_contract *c, enum tp_domain domain,
                       const struct tp_guarantee **out, int max)
{
    int n = 0;
    for (int i = 0; i < c->n_guarantees && n < max; i++)
        if (c->guarantees[i].domain == domain)
            out[n++] = &c->guarantees[i];
    return n;
}

/* Crockford base32: no I, L, O, U, so a number read aloud at the counter is not misread. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void tp_engagement_format(const uint8_t random10[10], char out[TP_ENGAGEMENT_LEN + 1])
{
    out[0] = 'E';
    /* 80 bits = 16 groups of 5 bits. */
    for (int i = 0; i < 16; i++) {
        int bit = i * 5;
        int byte = bit / 8, off = bit % 8;
        unsigned v = (unsigned)random10[byte] << 8;
        if (byte + 1 < 10)
            v |= random10[byte + 1];
        out[1 + i] = crockford[(v >> (11 - off)) & 31u];
    }
    out[TP_ENGAGEMENT_LEN] = '\0';
}

int tp_engagement_well_formed(const char *s, size_t len)
{
    if (len != TP_ENGAGEMENT_LEN || s[0] != 'E')
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!memchr(crockford, s[i], 32))
            return 0;
    return 1;
}
