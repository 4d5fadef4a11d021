/* The platform's domain objects as plain C structs (PRODUCT.md §2).
 *
 * Fixed-size, NUL-terminated text fields: every size a client controls is capped here once,
 * and records can be copied by value. Personal data (tp_identity) is kept apart from the
 * rest so that the storage layer encrypts exactly that part. */
#ifndef TP_CORE_MODEL_H
#define TP_CORE_MODEL_H

#include <stdint.h>

#include "core/date.h"
#include "core/domain.h"

#define TP_NAME_MAX 64      /* bytes incl. NUL, UTF-8 */
#define TP_MEMBER_MAX 21    /* member number, 1-20 chars + NUL */
#define TP_CODE_MAX 17      /* contract codes, act families: 1-16 chars + NUL */
#define TP_TEXT_MAX 128     /* names of organisations, addresses, e-mails */
#define TP_GUARANTEES_MAX 48

/* An insurer (AMC). */
struct tp_amc {
    char number[10];              /* 9 digits */
    char name[TP_TEXT_MAX];
    char convention[TP_CODE_MAX]; /* convention type, e.g. "TP_STANDARD" */
    char routing[TP_CODE_MAX];    /* routing criterion, e.g. "AMC", "MEMBER_PREFIX" */
    char dpo_name[TP_TEXT_MAX];
    char dpo_email[TP_TEXT_MAX];
    char dpo_address[TP_TEXT_MAX];
    char iban[35];
    char bic[12];
};

/* How a guarantee pays. Issue-level detail of the engine lives in the benefits module; here
 * the rule is only described, as data. */
enum tp_guarantee_kind {
    TP_GUAR_PCT_BR = 0, /* rate_bp of the BR (base de remboursement) */
    TP_GUAR_FORFAIT,    /* fixed amount_cents per period */
    TP_GUAR_FRAIS_REELS /* actual cost, up to amount_cents if > 0 */
};

struct tp_guarantee {
    enum tp_domain domain;
    char act[TP_CODE_MAX];  /* act family within the domain, "*" for the whole domain */
    enum tp_guarantee_kind kind;
    int32_t rate_bp;        /* TP_GUAR_PCT_BR: 10000 = 100 % of BR */
    int includes_amo;       /* TP_GUAR_PCT_BR: the rate includes the AMO part */
    int64_t amount_cents;   /* forfait, or ceiling (0 = none) */
    int32_t period_months;  /* period of the ceiling / renewal (0 = per act) */
    int per_family;         /* ceiling counted per family rather than per beneficiary */
};

/* A contract (product) of an AMC, with its guarantees stored as rows. */
struct tp_contract {
    char amc[10];
    char code[TP_CODE_MAX];
    char name[TP_TEXT_MAX];
    int responsable; /* contrat responsable (CSS L871-1) */
    int level;       /* 1 (basic) .. 5 (top) */
    tp_day valid_from;
    int n_guarantees;
    struct tp_guarantee guarantees[TP_GUARANTEES_MAX];
};

/* The personal part of a beneficiary: encrypted at rest, never logged. */
struct tp_identity {
    char nir[16]; /* 15 characters: 13 + key */
    char last_name[TP_NAME_MAX];
    char first_name[TP_NAME_MAX];
    tp_day birth_date;
    int birth_rank; /* 1 for a single birth, 2.. for twins */
};

struct tp_beneficiary {
    char amc[10];
    char member[TP_MEMBER_MAX]; /* member number (numéro d'adhérent) */
    int rank;                   /* 1..99 within the family, 1 = the member */
    enum tp_quality quality;
    struct tp_identity id;
    int nir_own; /* 1 when id.nir is this person's own NIR, 0 when attached to a parent's */
    char contract[TP_CODE_MAX];
    tp_day coverage_start;
    tp_day coverage_end; /* inclusive */
    uint32_t tp_domains; /* bit mask of enum tp_domain open for tiers payant */
};

/* A health professional or establishment (PS). */
struct tp_ps {
    enum tp_profession profession;
    char finess[10]; /* establishments; "" otherwise */
    char rpps[12];   /* individuals; "" otherwise */
    char am_number[10];
    char name[TP_TEXT_MAX];
    char address[TP_TEXT_MAX];
    char iban[35];
    char bic[12];
};

#endif
