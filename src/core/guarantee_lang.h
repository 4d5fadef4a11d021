/* The guarantee language: a contract's guarantees as data (docs/BENEFITS.md).
 *
 * A small line-based text, stored with the contract and parsed here into a fixed-size
 * struct tp_guarantee_set (about 52 KiB; no allocation). Example:
 *
 *   name=MID_RESP
 *   version from 2026-01-01
 *   responsable=yes
 *   CONSULTATION.* kind=pct_br rate=150% base=incl_amo
 *   OPTIQUE.VERRE basket=LIBRE kind=forfait amount=150.00 per=24m scope=beneficiary
 *   DENTAIRE.PROTHESE basket=LIBRE kind=pct_br rate=250% ceiling=1200.00 per=year
 *   HOSPITALISATION.CHAMBRE kind=forfait amount=60.00 per=act
 *
 * Statements, one per line ('#' starts a comment line, blank lines ignored):
 *   name=CODE                  optional, before the first version; 1-32 of A-Z 0-9 _ -
 *   version from YYYY-MM-DD    starts a version; dates strictly increasing; a claim uses the
 *                              last version whose date is on or before the date of care
 *   responsable=yes|no         once per version, before its rules (default no)
 *   covers_pf=yes|no           the AMC pays participation forfaitaire and franchises (refused
 *                              with responsable=yes: CSS L871-1)
 *   DOMAIN.FAMILY key=value... a rule: care domain (domain.h names), act family of the
 *                              reference data or '*'. Keys:
 *     kind=pct_br|forfait|frais_reels|none   required
 *     basket=RAC0|MODERE|LIBRE|*  (aliases class=A|B|I|II)          default *
 *     rate=P%         pct_br: percent of the BR, up to 2 decimals     required for pct_br
 *     base=incl_amo|excl_amo  pct_br: the rate includes the AMO part (pays rate x BR - AMO)
 *                     or comes on top of it                           default incl_amo
 *     amount=E.CC     forfait: euros per unit (per=act) or per period required for forfait
 *     ceiling=E.CC    pct_br, frais_reels: at most this per period (or per line, per=act)
 *     per=act|year|Nm|Ny  period of amount/ceiling: act (no counter), civil year, or a
 *                     rolling window of N months/years opened by the first use (1-120 months)
 *     scope=beneficiary|family   whose counter the period consumes   default beneficiary
 *     renewal=Nm|Ny   equipment (frame, lens, hearing aid): at most one per N months, on top
 *                     of the regulatory renewal periods of a contrat responsable
 * A line is at most TP_GL_LINE_MAX bytes, a text at most TP_GL_TEXT_MAX. Errors name the line
 * and column: "line 4, column 31: rate must be a percent like 100% or 125.5%". */
#ifndef TP_CORE_GUARANTEE_LANG_H
#define TP_CORE_GUARANTEE_LANG_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/domain.h"
#include "core/err.h"
#include "core/refdata.h"

#define TP_GL_TEXT_MAX 65536
#define TP_GL_LINE_MAX 256
#define TP_GL_RULES_MAX 64
#define TP_GL_VERSIONS_MAX 8
#define TP_GL_NAME_MAX 33
#define TP_GL_PERIOD_MAX 120 /* months */
#define TP_GL_ANY 0xff       /* basket '*' */
#define TP_RULE_KEY_MAX 48   /* "DOMAIN.FAMILY/BASKET" */

enum tp_gl_kind {
    TP_GL_NONE = 0,
    TP_GL_PCT_BR,
    TP_GL_FORFAIT,
    TP_GL_FRAIS_REELS,
    TP_GL_KIND_COUNT
};
enum tp_gl_scope { TP_GL_BENEFICIARY = 0, TP_GL_FAMILY };

struct tp_gl_rule {
    char family[TP_FAMILY_MAX]; /* "*" = every family of the domain */
    char key[TP_RULE_KEY_MAX];  /* counter key, "OPTIQUE.VERRE/LIBRE": stable across versions */
    uint8_t domain;             /* enum tp_domain */
    uint8_t basket;             /* enum tp_basket, or TP_GL_ANY */
    uint8_t kind;               /* enum tp_gl_kind */
    uint8_t incl_amo;           /* pct_br: 1 = rate includes the AMO part */
    uint8_t scope;              /* enum tp_gl_scope */
    uint8_t civil_year;         /* per=year */
    int16_t period_months;      /* 0: per act (no counter); civil_year: 12 */
    int16_t renewal_months;     /* 0: none */
    int32_t rate_bp;            /* pct_br */
    int64_t amount_cents;       /* forfait */
    int64_t ceiling_cents;      /* pct_br / frais_reels, 0 = none */
    uint32_t line;              /* line in the source text, for messages */
};

struct tp_gl_version {
    tp_day from;
    uint8_t responsable;
    uint8_t covers_pf;
    int n_rules;
    struct tp_gl_rule rules[TP_GL_RULES_MAX];
};

struct tp_guarantee_set {
    char name[TP_GL_NAME_MAX];
    int n_versions;
    struct tp_gl_version versions[TP_GL_VERSIONS_MAX];
};

/* Parses text (len bytes, at most TP_GL_TEXT_MAX) into *out. On error, *out is unspecified
 * and msg reads "line L, column C: what" (TP_ERR_INVALID) or names the cap exceeded
 * (TP_ERR_TOO_BIG). At least one version is required. The same selector (domain, family,
 * basket) twice in one version is an error. */
enum tp_err tp_gl_parse(const char *text, size_t len, struct tp_guarantee_set *out, char *msg,
                        size_t msglen) TP_MUST_USE;

/* Writes the canonical text of g into buf (cap bytes, NUL-terminated), its length (without
 * the NUL) into *len. Canonical: every key in a fixed order, defaults written out, class=
 * aliases as basket=, periods as act/year/Nm, money with two decimals. tp_gl_parse of the
 * result gives back an equal set (line numbers aside). TP_ERR_TOO_BIG if cap is too small. */
enum tp_err tp_gl_print(const struct tp_guarantee_set *g, char *buf, size_t cap,
                        size_t *len) TP_MUST_USE;

/* The version in force on `day` (last `from` <= day), or NULL. */
const struct tp_gl_version *tp_gl_version_at(const struct tp_guarantee_set *g, tp_day day);

/* Typical contracts for the demo population and the API, as guarantee-language text (static
 * storage, valid for the program's life). */
enum tp_gl_demo {
    TP_GL_DEMO_ENTRY_RESP = 0, /* entry-level contrat responsable: TM, 100 % Santé, low forfaits */
    TP_GL_DEMO_MID_RESP,       /* mid-range responsable: R871-2 ceilings nearly reached */
    TP_GL_DEMO_HIGH_FREE,      /* high-end non-responsable: larger forfaits, covers PF */
    TP_GL_DEMO_COUNT
};
const char *tp_gl_demo_text(enum tp_gl_demo which);

/* Which demo text suits a contract of the synthetic population (population.h): non-responsable
 * -> HIGH_FREE; responsable level 1-2 -> ENTRY_RESP; 3-5 -> MID_RESP. */
enum tp_gl_demo tp_gl_demo_for(int responsable, int level);

const char *tp_gl_kind_name(enum tp_gl_kind k);

#endif
