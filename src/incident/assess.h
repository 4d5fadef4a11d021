/* Incident assessment: from the access log, the exact set of people a compromised subject
 * (an account, a token, a PS or a source network) saw in a time window, and what of each
 * (docs/INCIDENT.md "Assessment").
 *
 * One pass over the log (tp_audit_scan), in memory one entry per exposed person (about 64
 * bytes), so a 10,000,000-event log is assessed in the time it takes to read it. Events that
 * disclosed nothing are left out: "not_found" answers and answers withheld by detection. */
#ifndef TP_INCIDENT_ASSESS_H
#define TP_INCIDENT_ASSESS_H

#include <stddef.h>
#include <stdint.h>

#include "audit/event.h"
#include "core/err.h"

struct tp_assess_filter {
    int64_t account_id; /* actor "account:<id>"; 0 = any */
    int64_t token_id;   /* actor "token:<id>"; 0 = any */
    int64_t ps_id;      /* the PS the actor acted for; 0 = any */
    int has_network;    /* source address inside network/prefix */
    uint8_t network[16];
    int prefix, v6;
    int64_t from_ms, to_ms; /* inclusive window */
};

/* "203.0.113.0/24", "2001:db8::/48", or a single address (/32, /128). */
enum tp_err tp_assess_network_parse(const char *text, struct tp_assess_filter *f) TP_MUST_USE;

/* Does ev match f (subject and window; not whether it disclosed anything)? */
int tp_assess_matches(const struct tp_assess_filter *f, const struct tp_access_event *ev);

struct tp_assess_person {
    uint8_t ref[TP_EVENT_REF_LEN];
    char amc[10];
    uint32_t categories; /* TP_CAT_* bits (incident/notice.h) */
    int64_t accesses;    /* disclosing events */
    int64_t first_ms, last_ms;
};

struct tp_assessment {
    struct tp_assess_person *people; /* malloc'd, sorted by AMC then reference */
    size_t n_people;
    uint64_t events_read, events_matched, events_disclosing;
    int64_t actors[64]; /* accounts seen acting (for containment of a PS or network) */
    size_t n_actors;
    int64_t tokens[64]; /* API tokens seen acting */
    size_t n_tokens;
    char unknown_fields[128]; /* field names the categories did not know ("" if none) */
};

/* Scans the log in dir. TP_ERR_CRYPTO if the log is damaged (msg names the entry: run
 * `opentp audit verify`). Free with tp_assessment_free. */
enum tp_err tp_assess(const char *dir, const struct tp_assess_filter *f, struct tp_assessment *out,
                      char *msg, size_t msglen) TP_MUST_USE;
void tp_assessment_free(struct tp_assessment *a);

#endif
