/* Incident notification documents: the content (PRODUCT.md §3.7, §5; GDPR art. 33 and 34).
 *
 * An incident assessment (computed elsewhere from the access log) is described here as plain
 * structs: the incident, the AMCs whose members were exposed, and one record per exposed
 * person with exactly the data categories that were disclosed. This module turns them into
 *   - the art. 34 notice to one person, in plain French (text, UTF-8);
 *   - the art. 33 notification draft of one AMC for the CNIL (text, UTF-8);
 *   - the rows of the per-AMC CSV for the insurer.
 * It only formats: libc only, no I/O, no clock, no allocation; everything is written into
 * the caller's buffer and the times it prints come from the input. Rendering to PDF is in
 * incident/pdf.h, writing the output folder in incident/writer.h.
 *
 * Why one art. 33 draft per AMC: each AMC is the controller of its members' data and the one
 * that notifies the CNIL; the platform is its processor (art. 33.2) and hands it a draft with
 * that AMC's own figures.
 *
 * Time zone: dates in letters and drafts are shown in Paris time (CET/CEST, EU summer-time
 * rule: last Sunday of March to last Sunday of October, 01:00 UTC), computed here without a
 * time-zone database; the CSV carries ISO 8601 UTC.
 *
 * Thread-safety: every function is reentrant (no state). */
#ifndef TP_INCIDENT_NOTICE_H
#define TP_INCIDENT_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/model.h"

/* Caps: every text field is a fixed array; a field that is not NUL-terminated inside its
 * array is refused (TP_ERR_TOO_BIG), as is text that is not valid UTF-8 or holds control
 * characters (TP_ERR_INVALID). */
#define TP_INCIDENT_ID_MAX 33          /* "INC-2026-0001": 1-32 of [A-Za-z0-9._-] + NUL */
#define TP_INCIDENT_DESC_MAX 1024      /* what happened, French, may hold line breaks */
#define TP_INCIDENT_LABEL_MAX 128      /* compromised account / PS / token / network, as labels */
#define TP_INCIDENT_MEASURE_MAX 256    /* one measure, one line */
#define TP_INCIDENT_MEASURES_MAX 16    /* measures taken, and measures proposed */
#define TP_INCIDENT_AMC_MAX 1000       /* AMCs in one incident */
#define TP_INCIDENT_PEOPLE_MAX 2000000 /* exposed people written in one run */
#define TP_BEN_REF_HEX 33              /* 32 lower-case hex digits (128-bit reference) + NUL */
#define TP_TITLE_MAX 16                /* "Madame", "Monsieur" or "" */
#define TP_ADDRESS_LINES 4

/* Sizes of the caller's output buffer that always suffice for valid input. */
#define TP_NOTICE_ART34_MAX 16384
#define TP_NOTICE_ART33_MAX 32768
#define TP_NOTICE_CSV_ROW_MAX 512

/* Data categories a person may have had disclosed (bit mask). */
enum tp_data_category {
    TP_CAT_IDENTITY = 1u << 0,     /* last and first names */
    TP_CAT_BIRTH_DATE = 1u << 1,   /* birth date (and birth rank) */
    TP_CAT_NIR = 1u << 2,          /* social security number */
    TP_CAT_MEMBER = 1u << 3,       /* member number (numéro d'adhérent) */
    TP_CAT_AMC_CONTRACT = 1u << 4, /* which AMC covers the person, under which contract */
    TP_CAT_COVERAGE = 1u << 5,     /* guarantees, rights open per domain of care */
    TP_CAT_ENGAGEMENT = 1u << 6,   /* an engagement of payment made in their name */
};
#define TP_CAT_COUNT 7
#define TP_CAT_ALL 0x7fu

/* The incident. Times are unix milliseconds (UTC). */
struct tp_incident {
    char id[TP_INCIDENT_ID_MAX];
    char platform[TP_TEXT_MAX];             /* the operator's name, e.g. "opentp Santé" */
    char description[TP_INCIDENT_DESC_MAX]; /* what happened, short French sentences */
    /* The compromised subject, as labels; at least one non-empty. Never a secret: a login or
     * a token's label and id, not the token. */
    char account[TP_INCIDENT_LABEL_MAX];    /* e.g. "pharmacie@exemple.fr" */
    char ps[TP_INCIDENT_LABEL_MAX];         /* e.g. "Pharmacie du Port (FINESS 123456789)" */
    char token[TP_INCIDENT_LABEL_MAX];      /* e.g. "jeton 42 « caisse 2 »" */
    char network[TP_INCIDENT_LABEL_MAX];    /* e.g. "203.0.113.0/24" */
    int64_t window_start_ms, window_end_ms; /* the period assessed, inclusive */
    int64_t detected_ms;                    /* when the breach became known (art. 33.1) */
    int64_t report_ms;                      /* when these documents are produced */
    int n_measures;                         /* measures taken, 1..TP_INCIDENT_MEASURES_MAX */
    char measures[TP_INCIDENT_MEASURES_MAX][TP_INCIDENT_MEASURE_MAX];
    int n_proposed; /* measures proposed, 0..TP_INCIDENT_MEASURES_MAX */
    char proposed[TP_INCIDENT_MEASURES_MAX][TP_INCIDENT_MEASURE_MAX];
    /* The platform's contact for the incident. */
    char contact_name[TP_TEXT_MAX];
    char contact_email[TP_TEXT_MAX];
    char contact_phone[32]; /* may be empty */
};

/* An AMC whose members were exposed; its DPO contact comes from its record (struct tp_amc). */
struct tp_incident_amc {
    char number[10]; /* 9 digits */
    char name[TP_TEXT_MAX];
    char dpo_name[TP_TEXT_MAX];
    char dpo_email[TP_TEXT_MAX];
    char dpo_address[TP_TEXT_MAX];
    int64_t people;  /* exposed people: must equal the persons listed with this AMC */
    int64_t records; /* access-log records that disclosed data of those people: must equal the
                        sum of their `accesses` (one record names one beneficiary) */
};

/* Fills number, name and DPO contact from the AMC's record; people and records set to 0 (the
 * assessment counts them). */
void tp_incident_amc_from_record(struct tp_incident_amc *out, const struct tp_amc *amc);

/* One exposed person. Identity fields are decrypted for the letter only; any of them may be
 * empty (then the letter opens with "Madame, Monsieur,"). */
struct tp_exposed_person {
    int amc;                    /* index into the AMC array */
    char ref[TP_BEN_REF_HEX];   /* pseudonymous beneficiary reference, lower-case hex */
    char member[TP_MEMBER_MAX]; /* the AMC's own member number, "" if not provided */
    int rank;                   /* rank in the family, 1..99, 0 if not provided */
    char title[TP_TITLE_MAX];   /* "Madame", "Monsieur" or "" */
    char first_name[TP_NAME_MAX];
    char last_name[TP_NAME_MAX];
    char address[TP_ADDRESS_LINES][TP_TEXT_MAX]; /* postal address lines, "" when unknown */
    uint32_t categories;                         /* enum tp_data_category bits, non-zero */
    int64_t accesses;                            /* access-log records that disclosed them, >= 1 */
    int64_t first_ms, last_ms;                   /* first and last such access, inside the window */
};

/* Validates the incident alone. TP_ERR_INVALID / TP_ERR_TOO_BIG with a message naming the
 * field (never its content). */
enum tp_err tp_incident_check(const struct tp_incident *inc, char *msg, size_t len) TP_MUST_USE;

/* Validates one AMC record and one person (against n_amc and the incident's window). */
enum tp_err tp_incident_amc_check(const struct tp_incident_amc *amc, char *msg,
                                  size_t len) TP_MUST_USE;
enum tp_err tp_exposed_person_check(const struct tp_incident *inc,
                                    const struct tp_exposed_person *p, int n_amc, char *msg,
                                    size_t len) TP_MUST_USE;

/* Validates a whole assessment: the incident, every AMC, every person, and the counts: each
 * AMC's `people` and `records` must match its persons; AMC numbers unique; n_amc in
 * 1..TP_INCIDENT_AMC_MAX, n_people in 1..TP_INCIDENT_PEOPLE_MAX ("no exposed person" is an
 * error: there is nothing to notify). */
enum tp_err tp_incident_assessment_check(const struct tp_incident *inc,
                                         const struct tp_incident_amc *amcs, int n_amc,
                                         const struct tp_exposed_person *people, size_t n_people,
                                         char *msg, size_t len) TP_MUST_USE;

/* Per-AMC figures for the art. 33 draft, tallied from the persons of that AMC. */
struct tp_incident_tally {
    int64_t people;
    int64_t records;
    uint32_t categories;                      /* union of the persons' categories */
    int64_t people_by_category[TP_CAT_COUNT]; /* index = bit position */
    int64_t first_ms, last_ms;                /* first and last disclosing access */
};

/* Tallies the persons with p->amc == amc_index. The persons must have passed the checks. */
void tp_incident_tally(const struct tp_exposed_person *people, size_t n_people, int amc_index,
                       struct tp_incident_tally *out);

/* The art. 34 notice to one person, plain French, UTF-8, into out[cap] (NUL-terminated,
 * length in *out_len). Document convention shared with incident/pdf.h: paragraphs separated
 * by one blank line; the first paragraph is the heading, the second the contact block.
 * It names exactly the categories in p->categories (and, apart, those that were not seen),
 * the number and dates of the accesses, what to watch for, what was done, the DPO contact of
 * the person's AMC and the right to complain to the CNIL. Inputs must have passed the checks
 * (asserted cheaply again: TP_ERR_INVALID). TP_ERR_TOO_BIG if cap is too small
 * (TP_NOTICE_ART34_MAX always suffices). */
enum tp_err tp_notice_art34(const struct tp_incident *inc, const struct tp_incident_amc *amc,
                            const struct tp_exposed_person *p, char *out, size_t cap,
                            size_t *out_len) TP_MUST_USE;

/* The art. 33 notification draft of one AMC, from its tally; same conventions
 * (TP_NOTICE_ART33_MAX always suffices). States the 72-hour deadline counted from
 * inc->detected_ms and whether inc->report_ms is past it. */
enum tp_err tp_notice_art33(const struct tp_incident *inc, const struct tp_incident_amc *amc,
                            const struct tp_incident_tally *tally, char *out, size_t cap,
                            size_t *out_len) TP_MUST_USE;

/* The per-AMC CSV (RFC 4180, CRLF). Columns:
 *   amc,member,rank,beneficiary_ref,categories,accesses,first_access_utc,last_access_utc
 * categories are the names of tp_data_category_name joined by ';'. Neither names nor NIR:
 * the insurer finds its members by its own member number and rank (empty when not
 * provided); the reference is the platform's pseudonymous id, to quote back to the platform.
 * Header and rows are written into out[cap] with the line ending, NUL-terminated
 * (TP_NOTICE_CSV_ROW_MAX always suffices). */
enum tp_err tp_notice_csv_header(char *out, size_t cap, size_t *out_len) TP_MUST_USE;
enum tp_err tp_notice_csv_row(const struct tp_incident_amc *amc, const struct tp_exposed_person *p,
                              char *out, size_t cap, size_t *out_len) TP_MUST_USE;

/* Stable machine name of one category bit ("identity", "birth_date", "nir", "member",
 * "amc_contract", "coverage", "engagement"); NULL for anything else. */
const char *tp_data_category_name(uint32_t bit);

/* Parses the access log's comma-separated field list (struct tp_access_event.fields) into
 * category bits: the names above, plus "rights_status" (the answer reveals which AMC covers
 * the person: TP_CAT_AMC_CONTRACT). Empty list: 0. Unknown name: TP_ERR_INVALID, so that a
 * new field cannot be silently left out of a notice. */
enum tp_err tp_data_categories_parse(const char *fields, uint32_t *out) TP_MUST_USE;

/* "2024-01-22T13:05:07Z" (21 bytes with NUL) of unix milliseconds, UTC, seconds truncated. */
void tp_notice_iso_utc(int64_t ms, char buf[21]);

/* "22 janvier 2024 à 14 h 05" in Paris time (at most 40 bytes with NUL). */
void tp_notice_fr_datetime(int64_t ms, char buf[40]);

#endif
