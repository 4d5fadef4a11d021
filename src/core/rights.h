/* The rights check (vérification des droits, PRODUCT §3.1) as a pure decision.
 *
 * The shell finds the beneficiary from the card data through blind indexes; this module
 * says, for that beneficiary, a date of care, a care domain and the checking PS's
 * profession, whether tiers payant is open and what an engagement guarantees. */
#ifndef TP_CORE_RIGHTS_H
#define TP_CORE_RIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

/* An engagement guarantees payment of a claim for care on the checked date that reaches the
 * platform within this many days. */
#define TP_ENGAGEMENT_VALIDITY_DAYS 90

/* Length of an engagement number: "E" + 16 Crockford base32 characters (80 bits). The HTTP
 * shell fills them with a 50-bit time-ordered sequence and 30 random bits (api_rights.c): an
 * engagement number is a reference, not a credential; using one is checked against the PS
 * and beneficiary it was issued to. */
#define TP_ENGAGEMENT_LEN 17

enum tp_rights_outcome {
    TP_RIGHTS_OPEN = 0,         /* covered: an engagement is issued */
    TP_RIGHTS_DOMAIN_NOT_OPEN,  /* rights open, but tiers payant not open for that domain */
    TP_RIGHTS_CLOSED,           /* date of care outside the coverage period */
    TP_RIGHTS_DOMAIN_FORBIDDEN, /* this profession may not check this domain */
};

struct tp_rights_decision {
    enum tp_rights_outcome outcome;
    tp_day valid_until; /* TP_RIGHTS_OPEN only: last day a claim may reach us */
};

/* Decides. `today` is the day the check is made (the date of care may be up to
 * TP_RIGHTS_PAST_DAYS before it, or TP_RIGHTS_FUTURE_DAYS after it; the HTTP layer rejects
 * other dates as invalid input before any lookup). */
struct tp_rights_decision tp_rights_decide(const struct tp_beneficiary *b, enum tp_domain domain,
                                           enum tp_profession profession, tp_day date_of_care);

#define TP_RIGHTS_PAST_DAYS 365
#define TP_RIGHTS_FUTURE_DAYS 180

/* True when a date of care is acceptable for a check made on `today`. */
int tp_rights_date_acceptable(tp_day date_of_care, tp_day today);

/* The guarantees of contract c that apply to `domain`, copied into out (at most max); returns
 * how many. */
int tp_rights_coverage(const struct tp_contract *c, enum tp_domain domain,
                       const struct tp_guarantee **out, int max);

/* Formats 10 random bytes as an engagement number ("E" + 16 base32 chars + NUL). */
void tp_engagement_format(const uint8_t random10[10], char out[TP_ENGAGEMENT_LEN + 1]);

/* Checks the shape of an engagement number. */
int tp_engagement_well_formed(const char *s, size_t len);

#endif
