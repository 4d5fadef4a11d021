/* An access to personal data, and its canonical bytes: the leaves of the access log
 * (docs/AUDIT-LOG.md "Leaves").
 *
 * An event names who (actor, role, PS, AMC), whom (the beneficiary's pseudonymous reference,
 * a keyed blind index: never a NIR, a name or a birth date), what (operation, outcome, the
 * categories of data disclosed), when, from where and under which request id. No plaintext
 * personal data: the log can be handed to an auditor as it is.
 *
 * Encoding, version 1, big-endian, every field always present so one event has exactly one
 * encoding:
 *
 *   u8  version (1)
 *   u64 at_ms              u64 ps_id
 *   u8  has_beneficiary (0|1), then 16 bytes of reference when 1
 *   then, each as u8 length + bytes (no NUL): amc, request_id, actor, role, operation,
 *   outcome, fields, source
 *
 * Pure functions, thread-safe. */
#ifndef TP_AUDIT_EVENT_H
#define TP_AUDIT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TP_EVENT_REF_LEN 16 /* = TP_BIDX_LEN */
#define TP_EVENT_LEAF_MAX 512

struct tp_access_event {
    int64_t at_ms; /* unix milliseconds */
    char request_id[33];
    char actor[24]; /* "token:<id>" or "account:<id>" */
    char role[12];  /* "ps", "member", "insurer", ... ("" when a PS API token) */
    int64_t ps_id;  /* 0 if none */
    char amc[10];   /* AMC number of the beneficiary ("" if none) */
    int has_beneficiary;
    uint8_t beneficiary_ref[TP_EVENT_REF_LEN];
    char operation[24]; /* "rights.check", "claim.submit", "member.accesses", ... */
    char outcome[24];   /* "covered", "not_covered", "not_found", "rights_closed", ... */
    char fields[64];    /* categories disclosed, comma-separated: "coverage,engagement" */
    char source[48];    /* source address */
};

/* Canonical bytes of ev into out (room for TP_EVENT_LEAF_MAX bytes); *len set. Strings are
 * read up to their NUL, within their arrays. TP_ERR_INVALID if a string is not terminated
 * inside its array or at_ms/ps_id are negative. */
enum tp_err tp_event_encode(const struct tp_access_event *ev, uint8_t *out,
                            size_t *len) TP_MUST_USE;

/* Inverse: TP_ERR_INVALID for anything that is not exactly the encoding of an event (unknown
 * version, truncated, trailing bytes, overlong or NUL-bearing strings, has_beneficiary not 0
 * or 1). ev is zeroed first. */
enum tp_err tp_event_decode(const uint8_t *in, size_t len, struct tp_access_event *ev) TP_MUST_USE;

/* Is `category` one of the comma-separated names of ev->fields? */
int tp_event_disclosed(const struct tp_access_event *ev, const char *category);

#endif
