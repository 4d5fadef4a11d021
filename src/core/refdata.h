/* Regulatory reference data: act classification and regulated amounts, each row with its
 * validity period and the legal text it comes from (docs/BENEFITS.md).
 *
 * Pure: the shell reads each data/reference file and hands the bytes to tp_refdata_load(); no
 * allocation (struct tp_refdata is a fixed-size value, about 100 KiB: allocate it once, on
 * the heap or statically). After tp_refdata_finish() the tables are sorted and read-only, so
 * any number of threads may look them up at once.
 *
 * File format: UTF-8 text, one row per line, fields separated by '|', spaces around fields
 * ignored, '#' starts a comment line. Two row types:
 *
 *   param | NAME | VALUE | VALID_FROM | VALID_TO | SOURCE
 *   act   | CODE | DOMAIN | FAMILY | KIND | BASKET | GRADE | CHARGE | TM | AMO_RATE | BR |
 *           PRICE_CAP | PARAM | VALID_FROM | VALID_TO | SOURCE
 *
 * Dates are YYYY-MM-DD; VALID_TO is inclusive, "-" for open-ended. Money is euros with at
 * most two decimals ("23.00"), "-" for none; rates are percents ("65%"). The act table is the
 * act-family classification (code -> care domain, family, basket), kept as data rather than
 * as a switch in the engine. */
#ifndef TP_CORE_REFDATA_H
#define TP_CORE_REFDATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/domain.h"
#include "core/err.h"

#define TP_ACT_CODE_MAX 16   /* act code: 1-15 of [A-Z0-9_] + NUL */
#define TP_FAMILY_MAX 17     /* act family: 1-16 of [A-Z0-9_] + NUL */
#define TP_REF_SOURCE_MAX 96 /* source reference, truncated beyond (bytes incl. NUL) */
#define TP_REF_ACTS_MAX 512
#define TP_REF_PARAMS_MAX 128
#define TP_REF_TEXT_MAX (1u << 20) /* one file handed to tp_refdata_load */
#define TP_REF_LINE_MAX 512
#define TP_DAY_NONE INT32_MIN       /* "no date": open validity end, no previous equipment */
#define TP_MONEY_MAX 100000000000LL /* 1,000,000,000.00 EUR: larger amounts are input errors */

/* 100 % Santé baskets (dental RAC 0 / modéré / libre; optical class A = RAC0, class B = LIBRE;
 * hearing aids class I = RAC0, class II = LIBRE). */
enum tp_basket {
    TP_BASKET_NONE = 0,
    TP_BASKET_RAC0,
    TP_BASKET_MODERE,
    TP_BASKET_LIBRE,
    TP_BASKET_COUNT
};

/* What the engine must do beyond the guarantee rule: the regulated special cases. */
enum tp_act_kind {
    TP_ACT_CARE = 0,    /* an ordinary act or product */
    TP_ACT_REF_FORFAIT, /* amount set by a parameter (forfait journalier, heavy-act forfait) */
    TP_ACT_FRAME,       /* spectacle frame (optical equipment) */
    TP_ACT_LENS,        /* spectacle lens, one per line, with its grade */
    TP_ACT_HEARING_AID, /* one hearing aid (one ear) */
    TP_ACT_KIND_COUNT
};

/* Optical lens grade of CSS R871-2 (simple / complex / very complex). */
enum tp_lens_grade {
    TP_GRADE_NONE = 0,
    TP_GRADE_SIMPLE,
    TP_GRADE_COMPLEX,
    TP_GRADE_VERY_COMPLEX,
    TP_GRADE_COUNT
};

/* What the AMO deducts from its payment for this act (CSS L160-13 II and III). */
enum tp_charge {
    TP_CHARGE_NONE = 0,
    TP_CHARGE_PF,
    TP_CHARGE_FR_MED,
    TP_CHARGE_FR_PARA,
    TP_CHARGE_FR_TRANSPORT,
    TP_CHARGE_COUNT
};

/* Regulated amounts and limits. Money parameters are cents; the others are plain integers
 * (months, years of age). The names are the file spellings. */
enum tp_param {
    TP_P_PF = 0,          /* participation forfaitaire per act (money) */
    TP_P_PF_DAY_MAX,      /* per day and PS (money) */
    TP_P_PF_YEAR_MAX,     /* per civil year (money) */
    TP_P_FR_MED,          /* franchise per medicine box (money) */
    TP_P_FR_PARA,         /* franchise per paramedical act (money) */
    TP_P_FR_PARA_DAY_MAX, /* (money) */
    TP_P_FR_TRANSPORT,    /* franchise per transport (money) */
    TP_P_FR_TRANSPORT_DAY_MAX,
    TP_P_FR_YEAR_MAX,     /* all franchises, per civil year (money) */
    TP_P_CHARGES_MIN_AGE, /* PF and franchises are not charged below this age (years) */
    TP_P_FJH,             /* forfait journalier hospitalier, per day (money) */
    TP_P_FJH_PSY,         /* same, psychiatry (money) */
    TP_P_PAV,             /* forfait on heavy acts (money) */
    TP_P_PAV_THRESHOLD,   /* BR from which an act is heavy (money) */
    TP_P_FPU,             /* forfait patient urgences (money) */
    TP_P_OPT_FRAME_MAX,   /* responsable: frame, AMO + AMC (money) */
    TP_P_OPT_MAX_A,       /* responsable: equipment maxima a..f of R871-2 (money) */
    TP_P_OPT_MAX_B,
    TP_P_OPT_MAX_C,
    TP_P_OPT_MAX_D,
    TP_P_OPT_MAX_E,
    TP_P_OPT_MAX_F,
    TP_P_OPT_RENEW_ADULT,  /* months between two equipments, adult */
    TP_P_OPT_RENEW_CHILD,  /* months, below TP_P_OPT_CHILD_AGE */
    TP_P_OPT_CHILD_AGE,    /* years */
    TP_P_OPT_RENEW_VISION, /* months, lenses only, on a change of vision */
    TP_P_AUDIO_MAX,        /* responsable: class II aid, AMO + AMC per ear (money) */
    TP_P_AUDIO_RENEW,      /* months between two aids for the same ear */
    TP_P_COUNT
};

/* One act code over one validity period. */
struct tp_act_ref {
    char code[TP_ACT_CODE_MAX];
    char family[TP_FAMILY_MAX];
    uint8_t domain;      /* enum tp_domain */
    uint8_t kind;        /* enum tp_act_kind */
    uint8_t basket;      /* enum tp_basket */
    uint8_t grade;       /* enum tp_lens_grade */
    uint8_t charge;      /* enum tp_charge */
    uint8_t tm_optional; /* a contrat responsable need not cover the TM (R871-2: 30 %/15 % drugs) */
    uint8_t param;       /* TP_ACT_REF_FORFAIT: the enum tp_param giving the amount */
    int32_t amo_bp;      /* default AMO rate, basis points */
    int64_t br_cents;    /* BR per unit, -1 when the line must give it */
    int64_t cap_cents;   /* price cap per unit (100 % Santé, HLF), 0 = none */
    tp_day valid_from;
    tp_day valid_to; /* inclusive; TP_DAY_NONE = open */
    char source[TP_REF_SOURCE_MAX];
};

struct tp_param_ref {
    uint8_t param; /* enum tp_param */
    int64_t value;
    tp_day valid_from;
    tp_day valid_to;
    char source[TP_REF_SOURCE_MAX];
};

struct tp_refdata {
    int finished;
    int n_acts;
    int n_params;
    struct tp_act_ref acts[TP_REF_ACTS_MAX];
    struct tp_param_ref params[TP_REF_PARAMS_MAX];
    int16_t param_first[TP_P_COUNT]; /* after finish: first row of each parameter, -1 */
    int16_t param_count[TP_P_COUNT];
};

/* Empties rd. */
void tp_refdata_init(struct tp_refdata *rd);

/* Parses one file's bytes (at most TP_REF_TEXT_MAX) and appends its rows. On error nothing
 * of this file is kept, and msg says "line L, column C: what" (TP_ERR_INVALID) or which cap
 * was exceeded (TP_ERR_TOO_BIG). Precondition: not yet finished. */
enum tp_err tp_refdata_load(struct tp_refdata *rd, const char *text, size_t len, char *msg,
                            size_t msglen) TP_MUST_USE;

/* Sorts the tables and checks them as a whole: two rows of the same code or parameter may not
 * overlap in time, and every parameter must have at least one row. TP_ERR_INVALID + msg. */
enum tp_err tp_refdata_finish(struct tp_refdata *rd, char *msg, size_t msglen) TP_MUST_USE;

/* The row of act `code` (len bytes) in force on `day`, or NULL. Binary search, no
 * allocation. Precondition: finished. */
const struct tp_act_ref *tp_refdata_act(const struct tp_refdata *rd, const char *code, size_t len,
                                        tp_day day);

/* The row of parameter p in force on `day`, or NULL. Precondition: finished. */
const struct tp_param_ref *tp_refdata_param(const struct tp_refdata *rd, enum tp_param p,
                                            tp_day day);

/* Stable names (file spellings). Never NULL for a valid value; "?" otherwise. */
const char *tp_param_name(enum tp_param p);
const char *tp_basket_name(enum tp_basket b);
const char *tp_act_kind_name(enum tp_act_kind k);
const char *tp_grade_name(enum tp_lens_grade g);
const char *tp_charge_name(enum tp_charge c);
int tp_param_is_money(enum tp_param p);

/* Money "123", "123.4", "123.45" (euros, no sign, no thousands separator) -> cents, at most
 * TP_MONEY_MAX. TP_ERR_INVALID otherwise. */
enum tp_err tp_money_parse(const char *s, size_t len, int64_t *cents) TP_MUST_USE;

/* Writes cents as "123.45" (always two decimals, '-' for negatives) into buf (>= 24 bytes). */
void tp_money_format(int64_t cents, char buf[24]);

/* Percent "65", "65%", "12.5%", "33.33%" -> basis points (0..1,000,000 i.e. up to 10000 %). */
enum tp_err tp_percent_parse(const char *s, size_t len, int32_t *bp) TP_MUST_USE;

#endif
