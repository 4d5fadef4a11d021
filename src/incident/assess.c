/* Incident assessment from the access log (contract in assess.h). */
#include "incident/assess.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/log.h"
#include "incident/notice.h"

enum tp_err tp_assess_network_parse(const char *text, struct tp_assess_filter *f)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof addr)
        return TP_ERR_INVALID;
    memcpy(addr, text, n);
    addr[n] = 0;
    memset(f->network, 0, sizeof f->network);
    if (inet_pton(AF_INET, addr, f->network) == 1)
        f->v6 = 0;
    else if (inet_pton(AF_INET6, addr, f->network) == 1)
        f->v6 = 1;
    else
        return TP_ERR_INVALID;
    int max = f->v6 ? 128 : 32;
    f->prefix = max;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || p < 0 || p > max)
            return TP_ERR_INVALID;
        f->prefix = (int)p;
    }
    f->has_network = 1;
    return TP_OK;
}

static int in_network(const struct tp_assess_filter *f, const char *source)
{
    uint8_t a[16] = {0};
    int v6 = strchr(source, ':') != NULL;
    if (v6 != f->v6 || inet_pton(v6 ? AF_INET6 : AF_INET, source, a) != 1)
        return 0;
    int bits = f->prefix;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((a[i] & mask) != (f->network[i] & mask))
            return 0;
    }
    return 1;
}

/* "account:42" -> 42 when the kind matches, else 0. */
static int64_t actor_id(const char *actor, const char *kind)
{
    size_t n = strlen(kind);
    if (strncmp(actor, kind, n) != 0 || actor[n] != ':')
        return 0;
    return strtoll(actor + n + 1, NULL, 10);
}

int tp_assess_matches(const struct tp_assess_filter *f, const struct tp_access_event *ev)
{
    if (ev->at_ms < f->from_ms || ev->at_ms > f->to_ms)
        return 0;
    if (f->account_id && actor_id(ev->actor, "account") != f->account_id)
        return 0;
    if (f->token_id && actor_id(ev->actor, "token") != f->token_id)
        return 0;
    if (f->ps_id && ev->ps_id != f->ps_id)
        return 0;
    if (f->has_network && !in_network(f, ev->source))
        return 0;
    return 1;
}

/* Open addressing on the reference (uniform bytes: its first 8 are the hash). */
struct table {
    struct tp_assess_person *slots;
    uint8_t *used;
    size_t cap, n;
};

static uint64_t hash_ref(const uint8_t *ref)
{
    uint64_t h;
    memcpy(&h, ref, sizeof h);
    return h;
}

static int table_grow(struct table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    struct tp_assess_person *slots = calloc(cap, sizeof *slots);
    uint8_t *used = calloc(cap, 1);
    if (!slots || !used) {
        free(slots);
        free(used);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->used[i])
            continue;
        size_t j = hash_ref(t->slots[i].ref) & (cap - 1);
        while (used[j])
            j = (j + 1) & (cap - 1);
        used[j] = 1;
        slots[j] = t->slots[i];
    }
    free(t->slots);
    free(t->used);
    t->slots = slots;
    t->used = used;
    t->cap = cap;
    return 0;
}

static struct tp_assess_person *table_get(struct table *t, const uint8_t *ref)
{
    if ((t->n + 1) * 4 > t->cap * 3 && table_grow(t) != 0)
        return NULL;
    size_t j = hash_ref(ref) & (t->cap - 1);
    while (t->used[j]) {
        if (memcmp(t->slots[j].ref, ref, TP_EVENT_REF_LEN) == 0)
            return &t->slots[j];
        j = (j + 1) & (t->cap - 1);
    }
    t->used[j] = 1;
    t->n++;
    memset(&t->slots[j], 0, sizeof t->slots[j]);
    memcpy(t->slots[j].ref, ref, TP_EVENT_REF_LEN);
    return &t->slots[j];
}

struct scan {
    const struct tp_assess_filter *f;
    struct table t;
    struct tp_assessment *a;
};

/* Category bits of a field list; names the categories do not know are kept for a warning and
 * counted as coverage (never dropped: a notice must not under-state what was seen). */
static uint32_t categories_of(struct scan *sc, const char *fields)
{
    uint32_t bits = 0;
    if (tp_data_categories_parse(fields, &bits) == TP_OK)
        return bits;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", fields);
    bits = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        uint32_t one = 0;
        if (tp_data_categories_parse(tok, &one) == TP_OK) {
            bits |= one;
            continue;
        }
        bits |= TP_CAT_COVERAGE;
        char *u = sc->a->unknown_fields;
        if (!strstr(u, tok) && strlen(u) + strlen(tok) + 2 < sizeof sc->a->unknown_fields) {
            if (*u)
                strcat(u, ",");
            strcat(u, tok);
        }
    }
    return bits;
}

static enum tp_err on_leaf(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                           const struct tp_merkle_hash *lh)
{
    (void)index, (void)lh;
    struct scan *sc = ctx;
    struct tp_assessment *a = sc->a;
    a->events_read++;
    /* Cheap tests on the encoding (event.h: version, at_ms, ps_id) before decoding. */
    if (len >= 17 && leaf[0] == 1) {
        uint64_t at = 0, ps = 0;
        for (int i = 0; i < 8; i++) {
            at = at << 8 | leaf[1 + i];
            ps = ps << 8 | leaf[9 + i];
        }
        if ((int64_t)at < sc->f->from_ms || (int64_t)at > sc->f->to_ms ||
            (sc->f->ps_id && (int64_t)ps != sc->f->ps_id))
            return TP_OK;
    }
    struct tp_access_event ev;
    if (tp_event_decode(leaf, len, &ev) != TP_OK || !tp_assess_matches(sc->f, &ev))
        return TP_OK;
    a->events_matched++;
    int64_t acct = actor_id(ev.actor, "account");
    if (acct) {
        size_t i = 0;
        while (i < a->n_actors && a->actors[i] != acct)
            i++;
        if (i == a->n_actors && a->n_actors < sizeof a->actors / sizeof a->actors[0])
            a->actors[a->n_actors++] = acct;
    }
    int64_t tok = actor_id(ev.actor, "token");
    if (tok) {
        size_t i = 0;
        while (i < a->n_tokens && a->tokens[i] != tok)
            i++;
        if (i == a->n_tokens && a->n_tokens < sizeof a->tokens / sizeof a->tokens[0])
            a->tokens[a->n_tokens++] = tok;
    }
    if (!ev.has_beneficiary || !ev.fields[0] || strcmp(ev.outcome, "withheld_by_detection") == 0)
        return TP_OK;
    uint32_t cats = categories_of(sc, ev.fields);
    if (!cats)
        return TP_OK;
    a->events_disclosing++;
    struct tp_assess_person *p = table_get(&sc->t, ev.beneficiary_ref);
    if (!p)
        return TP_ERR_NOMEM;
    if (!p->accesses) {
        memcpy(p->amc, ev.amc, sizeof p->amc);
        p->first_ms = ev.at_ms;
    }
    p->categories |= cats;
    p->accesses++;
    if (ev.at_ms < p->first_ms)
        p->first_ms = ev.at_ms;
    if (ev.at_ms > p->last_ms)
        p->last_ms = ev.at_ms;
    return TP_OK;
}

static int by_amc_ref(const void *x, const void *y)
{
    const struct tp_assess_person *a = x, *b = y;
    int c = strcmp(a->amc, b->amc);
    return c ? c : memcmp(a->ref, b->ref, TP_EVENT_REF_LEN);
}

enum tp_err tp_assess(const char *dir, const struct tp_assess_filter *f, struct tp_assessment *out,
                      char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    struct scan sc = {.f = f, .a = out};
    uint64_t bad = 0;
    enum tp_err rc = tp_audit_read(dir, on_leaf, &sc, &bad, msg, msglen);
    if (rc != TP_OK) {
        free(sc.t.slots);
        free(sc.t.used);
        return rc;
    }
    out->people = malloc((sc.t.n ? sc.t.n : 1) * sizeof *out->people);
    if (!out->people) {
        free(sc.t.slots);
        free(sc.t.used);
        return TP_ERR_NOMEM;
    }
    for (size_t i = 0; i < sc.t.cap; i++)
        if (sc.t.used[i])
            out->people[out->n_people++] = sc.t.slots[i];
    free(sc.t.slots);
    free(sc.t.used);
    if (out->n_people)
        qsort(out->people, out->n_people, sizeof *out->people, by_amc_ref);
    return TP_OK;
}

void tp_assessment_free(struct tp_assessment *a)
{
    free(a->people);
    a->people = NULL;
    a->n_people = 0;
}
