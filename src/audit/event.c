/* Canonical encoding of access events (contract in event.h). */
#include "audit/event.h"

#include <string.h>

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Appends one length-prefixed string read from a fixed array; -1 if not NUL-terminated. */
static int put_str(uint8_t *out, size_t *at, const char *s, size_t cap)
{
    const char *nul = memchr(s, 0, cap);
    if (!nul)
        return -1;
    size_t n = (size_t)(nul - s);
    out[(*at)++] = (uint8_t)n; /* cap <= 64 < 256 */
    memcpy(out + *at, s, n);
    *at += n;
    return 0;
}

static int get_str(const uint8_t *in, size_t len, size_t *at, char *s, size_t cap)
{
    if (*at >= len)
        return -1;
    size_t n = in[(*at)++];
    if (n >= cap || len - *at < n || memchr(in + *at, 0, n))
        return -1;
    memcpy(s, in + *at, n);
    s[n] = 0;
    *at += n;
    return 0;
}

enum tp_err tp_event_encode(const struct tp_access_event *ev, uint8_t *out, size_t *len)
{
    *len = 0;
    if (ev->at_ms < 0 || ev->ps_id < 0)
        return TP_ERR_INVALID;
    size_t at = 0;
    out[at++] = 1;
    put_u64(out + at, (uint64_t)ev->at_ms);
    put_u64(out + at + 8, (uint64_t)ev->ps_id);
    at += 16;
    out[at++] = ev->has_beneficiary ? 1 : 0;
    if (ev->has_beneficiary) {
        memcpy(out + at, ev->beneficiary_ref, TP_EVENT_REF_LEN);
        at += TP_EVENT_REF_LEN;
    }
    /* 34 + 8 length bytes + the arrays' sizes (10+33+24+12+24+24+64+48) < TP_EVENT_LEAF_MAX */
    if (put_str(out, &at, ev->amc, sizeof ev->amc) ||
        put_str(out, &at, ev->request_id, sizeof ev->request_id) ||
        put_str(out, &at, ev->actor, sizeof ev->actor) ||
        put_str(out, &at, ev->role, sizeof ev->role) ||
        put_str(out, &at, ev->operation, sizeof ev->operation) ||
        put_str(out, &at, ev->outcome, sizeof ev->outcome) ||
        put_str(out, &at, ev->fields, sizeof ev->fields) ||
        put_str(out, &at, ev->source, sizeof ev->source))
        return TP_ERR_INVALID;
    *len = at;
    return TP_OK;
}

enum tp_err tp_event_decode(const uint8_t *in, size_t len, struct tp_access_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (len < 18 || in[0] != 1)
        return TP_ERR_INVALID;
    uint64_t at_ms = get_u64(in + 1), ps = get_u64(in + 9);
    if (at_ms > INT64_MAX || ps > INT64_MAX || in[17] > 1)
        return TP_ERR_INVALID;
    ev->at_ms = (int64_t)at_ms;
    ev->ps_id = (int64_t)ps;
    size_t at = 18;
    ev->has_beneficiary = in[17];
    if (ev->has_beneficiary) {
        if (len - at < TP_EVENT_REF_LEN)
            goto bad;
        memcpy(ev->beneficiary_ref, in + at, TP_EVENT_REF_LEN);
        at += TP_EVENT_REF_LEN;
    }
    if (get_str(in, len, &at, ev->amc, sizeof ev->amc) ||
        get_str(in, len, &at, ev->request_id, sizeof ev->request_id) ||
        get_str(in, len, &at, ev->actor, sizeof ev->actor) ||
        get_str(in, len, &at, ev->role, sizeof ev->role) ||
        get_str(in, len, &at, ev->operation, sizeof ev->operation) ||
        get_str(in, len, &at, ev->outcome, sizeof ev->outcome) ||
        get_str(in, len, &at, ev->fields, sizeof ev->fields) ||
        get_str(in, len, &at, ev->source, sizeof ev->source) || at != len)
        goto bad;
    return TP_OK;
bad:
    memset(ev, 0, sizeof *ev);
    return TP_ERR_INVALID;
}

int tp_event_disclosed(const struct tp_access_event *ev, const char *category)
{
    size_t n = strlen(category);
    const char *p = ev->fields;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, category, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}
