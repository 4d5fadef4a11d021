/* The benefits engine: what the AMC pays on each line of a claim or quote (PRODUCT.md §3.2,
 * §3.3; docs/BENEFITS.md).
 *
 *   tp_benefits_compute(guarantees, reference data, history, claim) -> per line the AMO part,
 *   the AMC part, the patient's remainder, reason codes; the counters consumed.
 *
 * Pure: no I/O, no clock, no allocation; inputs are never modified. Everything the caller
 * must persist after an accepted claim is in struct tp_benefit_result (counters with their
 * deltas, new equipment dates, new yearly totals of participation forfaitaire and franchises),
 * to be written atomically with the claim.
 *
 * Money is integer cents, rates basis points (10000 = 100 %). Every percentage is applied
 * once per line, on the line's total, by tp_round_bp (half-up at the cent): the only rounding
 * in the engine. */
#ifndef TP_CORE_BENEFITS_H
#define TP_CORE_BENEFITS_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "core/guarantee_lang.h"
#include "core/refdata.h"

#define TP_CLAIM_LINES_MAX 64
#define TP_HISTORY_COUNTERS_MAX 256
#define TP_LINE_QTY_MAX 999
#define TP_LINE_PRICE_MAX 10000000 /* 100,000.00 EUR per unit */

/* amount_cents x bp / 10000, rounded half-up at the cent. Precondition: amount_cents >= 0,
 * 0 <= bp <= 1,000,000 and amount_cents <= 10^12 (no overflow). */
int64_t tp_round_bp(int64_t amount_cents, int32_t bp);

/* Reason codes, one bit each; names are stable (API, storage, docs/BENEFITS.md). */
enum tp_reason {
    TP_REASON_NOT_COVERED = 1u << 0,      /* no rule of the contract covers this act */
    TP_REASON_UNKNOWN_ACT = 1u << 1,      /* act code not in the reference data at that date */
    TP_REASON_NO_VERSION = 1u << 2,       /* no contract version in force at that date */
    TP_REASON_CEILING_REACHED = 1u << 3,  /* the rule's ceiling for the period is used up */
    TP_REASON_RENEWAL_TOO_SOON = 1u << 4, /* equipment renewed before the allowed period */
    TP_REASON_PF_NOT_PAID_RESPONSABLE = 1u << 5, /* PF/franchise left to the patient (L871-1) */
    TP_REASON_BASKET_100PS = 1u << 6,        /* 100 % Santé: paid in full up to the price cap */
    TP_REASON_PRICE_ABOVE_CAP = 1u << 7,     /* price above the 100 % Santé / HLF cap */
    TP_REASON_RESPONSABLE_CEILING = 1u << 8, /* limited by a CSS R871-2 maximum */
    TP_REASON_RESPONSABLE_MINIMUM = 1u << 9, /* raised to the TM a responsable contract owes */
    TP_REASON_REFERENCE_AMOUNT = 1u << 10,   /* forfait amount taken from the reference data */
    TP_REASON_PF_PAID = 1u << 11,            /* non-responsable contract paid PF/franchise */
    TP_REASON_COUNT_ = 12
};

/* Stable name of one reason bit ("ceiling_reached"), "?" for anything else. */
const char *tp_reason_name(uint32_t bit);

/* Writes the names of the bits of `mask`, comma-separated, into buf. Returns the length. */
size_t tp_reasons_format(uint32_t mask, char *buf, size_t cap);

/* A claim or quote line as the PS sends it. */
struct tp_claim_line {
    char code[TP_ACT_CODE_MAX]; /* act code of the reference data: "G", "PH7", "OPT_VER_B_S" */
    int32_t quantity;           /* 1..TP_LINE_QTY_MAX (boxes, days, acts, lenses: 1 per line) */
    int64_t unit_price_cents;   /* price charged per unit; REF_FORFAIT lines: 0 = reference */
    int64_t br_cents;           /* BR per unit, -1: from the reference data */
    int32_t amo_rate_bp;        /* -1: from the reference data */
    int64_t amo_cents;          /* AMO part of the whole line, -1: BR x qty x rate */
    char side;                  /* 'L' / 'R' for hearing aids (and lenses, informative), 0 */
    uint8_t vision_changed;     /* lenses: documented change of vision (early renewal) */
};

/* One care event: one beneficiary, one PS, one date. */
struct tp_claim {
    tp_day date;
    int age;           /* beneficiary's age in years on `date` (tp_date_age) */
    uint8_t pf_exempt; /* exempt from PF and franchises (C2S, maternity, ...) */
    int n_lines;       /* 1..TP_CLAIM_LINES_MAX */
    const struct tp_claim_line *lines;
};

/* Consumption of one rule over one period. key = the rule's key (tp_gl_rule.key); side is
 * 'L'/'R' for hearing aids (one counter per ear), 0 otherwise; scope says whether the caller
 * keeps it per beneficiary or per family. */
struct tp_counter {
    char key[TP_RULE_KEY_MAX];
    uint8_t scope; /* enum tp_gl_scope */
    char side;
    tp_day period_start;
    int64_t used_cents;
};

/* What the caller knows of the past. Family-scope counters are the family's (all members). */
struct tp_history {
    const struct tp_counter *counters;
    int n_counters;               /* 0..TP_HISTORY_COUNTERS_MAX */
    tp_day last_frame;            /* last paid optical frame, TP_DAY_NONE */
    tp_day last_lenses;           /* last paid lenses */
    tp_day last_aid[2];           /* last paid hearing aid, [0] left ear, [1] right ear */
    int64_t pf_year_cents;        /* PF already charged in the civil year of the claim */
    int64_t franchise_year_cents; /* franchises already charged in that year */
};

enum tp_line_status { TP_LINE_ACCEPTED = 0, TP_LINE_LIMITED, TP_LINE_REFUSED };

struct tp_line_result {
    int64_t price_cents;     /* unit price x quantity */
    int64_t br_cents;        /* BR x quantity */
    int64_t amo_cents;       /* AMO part (gross, before PF/franchise deduction) */
    int64_t deduction_cents; /* PF or franchise the AMO deducts for this line */
    int64_t amc_cents;       /* what the AMC pays */
    int64_t patient_cents;   /* price - amo - amc + deduction */
    uint32_t reasons;        /* enum tp_reason bits */
    enum tp_line_status status;
    int16_t rule; /* index of the rule in the version, -1 */
};

/* A counter touched by the claim: its state after the claim, and what the claim added. */
struct tp_counter_use {
    struct tp_counter counter; /* used_cents = total after this claim */
    int64_t delta_cents;
};

struct tp_benefit_result {
    int version; /* index of the guarantee version applied, -1 */
    int n_lines;
    struct tp_line_result lines[TP_CLAIM_LINES_MAX];
    int64_t price_cents, amo_cents, amc_cents, patient_cents; /* totals */
    int n_counters;
    struct tp_counter_use counters[TP_CLAIM_LINES_MAX];
    /* The history after the claim (equal to the input where nothing changed). */
    tp_day last_frame, last_lenses, last_aid[2];
    int64_t pf_year_cents, franchise_year_cents;
};

/* Computes the claim. Errors (TP_ERR_INVALID, msg names the line, 1-based): quantity or
 * amounts out of range, AMO part above BR x qty or above the price, a BR the reference data
 * does not give and the line does not either, a hearing aid without side 'L'/'R', a
 * regulated amount missing at the date of care, history out of bounds. Business outcomes
 * (not covered, ceilings, renewal) are not errors: they are reason codes on the lines.
 * Preconditions: rd finished. Thread-safe (no shared state). */
enum tp_err tp_benefits_compute(const struct tp_guarantee_set *g, const struct tp_refdata *rd,
                                const struct tp_history *h, const struct tp_claim *claim,
                                struct tp_benefit_result *out, char *msg,
                                size_t msglen) TP_MUST_USE;

/* An empty history (no counters, no equipment, nothing charged this year). */
void tp_history_empty(struct tp_history *h);

#endif
