/* The guarantee language: parser, canonical printer, demo contracts (guarantee_lang.h). */
#include "core/guarantee_lang.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TOKENS_MAX 16

static const char *const kind_names[TP_GL_KIND_COUNT] = {"none", "pct_br", "forfait",
                                                         "frais_reels"};

const char *tp_gl_kind_name(enum tp_gl_kind k)
{
    return (unsigned)k < TP_GL_KIND_COUNT ? kind_names[k] : "?";
}

struct tok {
    const char *p;
    size_t len;
    size_t col; /* 1-based */
};

/* Parser state for error reporting. */
struct ctx {
    unsigned line;
    char *msg;
    size_t msglen;
};

static enum tp_err err_at(const struct ctx *c, size_t col, const char *what)
{
    return tp_fail(c->msg, c->msglen, TP_ERR_INVALID, "line %u, column %zu: %s", c->line, col,
                   what);
}

static int tok_is(const struct tok *t, const char *s)
{
    return strlen(s) == t->len && memcmp(t->p, s, t->len) == 0;
}

static int is_code_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* "Nm" (months) or "Ny" (years) -> months in 1..TP_GL_PERIOD_MAX; -1 when malformed. */
static int months_parse(const char *s, size_t len)
{
    if (len < 2 || len > 4)
        return -1;
    int n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    if (s[len - 1] == 'y')
        n *= 12;
    else if (s[len - 1] != 'm')
        return -1;
    return n >= 1 && n <= TP_GL_PERIOD_MAX ? n : -1;
}

enum key {
    K_KIND = 0,
    K_BASKET,
    K_RATE,
    K_BASE,
    K_AMOUNT,
    K_CEILING,
    K_PER,
    K_SCOPE,
    K_RENEWAL,
    K_COUNT
};
static const char *const key_names[K_COUNT] = {"kind",    "basket", "rate",  "base",   "amount",
                                               "ceiling", "per",    "scope", "renewal"};

static enum tp_err parse_rule(const struct ctx *c, const struct tok *t, int nt,
                              struct tp_gl_version *v)
{
    if (v->n_rules >= TP_GL_RULES_MAX)
        return tp_fail(c->msg, c->msglen, TP_ERR_TOO_BIG,
                       "line %u: more than %d rules in a version", c->line, TP_GL_RULES_MAX);
    struct tp_gl_rule r;
    memset(&r, 0, sizeof r);
    r.line = c->line;
    r.basket = TP_GL_ANY;
    r.incl_amo = 1;
    /* Selector DOMAIN.FAMILY */
    const char *dot = memchr(t[0].p, '.', t[0].len);
    if (!dot)
        return err_at(c, t[0].col, "a rule starts with DOMAIN.FAMILY");
    const size_t dlen = (size_t)(dot - t[0].p);
    int d = tp_domain_parse(t[0].p, dlen);
    if (d < 0)
        return err_at(c, t[0].col,
                      "unknown care domain (PHARMACIE, OPTIQUE, AUDIO, DENTAIRE, "
                      "HOSPITALISATION, CONSULTATION, LABORATOIRE, RADIOLOGIE, "
                      "AUXILIAIRE, TRANSPORT)");
    r.domain = (uint8_t)d;
    const char *fam = dot + 1;
    const size_t flen = t[0].len - dlen - 1;
    const size_t fcol = t[0].col + dlen + 1;
    if (flen == 1 && fam[0] == '*') {
        r.family[0] = '*';
    } else {
        if (flen == 0 || flen >= TP_FAMILY_MAX)
            return err_at(c, fcol, "act family must be 1 to 16 of A-Z 0-9 _, or *");
        for (size_t i = 0; i < flen; i++)
            if (!is_code_char(fam[i]))
                return err_at(c, fcol + i, "act family must be 1 to 16 of A-Z 0-9 _, or *");
        memcpy(r.family, fam, flen);
    }

    int seen[K_COUNT] = {0};
    size_t where[K_COUNT] = {0};
    int per_act = 1;
    for (int i = 1; i < nt; i++) {
        const char *eq = memchr(t[i].p, '=', t[i].len);
        if (!eq)
            return err_at(c, t[i].col, "expected key=value");
        const size_t klen = (size_t)(eq - t[i].p);
        const char *val = eq + 1;
        const size_t vlen = t[i].len - klen - 1;
        const size_t vcol = t[i].col + klen + 1;
        int k = -1;
        int is_class = 0;
        for (int j = 0; j < K_COUNT; j++)
            if (strlen(key_names[j]) == klen && memcmp(key_names[j], t[i].p, klen) == 0)
                k = j;
        if (k < 0 && klen == 5 && memcmp(t[i].p, "class", 5) == 0) {
            k = K_BASKET;
            is_class = 1;
        }
        if (k < 0)
            return err_at(c, t[i].col,
                          "unknown key (kind, basket, class, rate, base, amount, ceiling, per, "
                          "scope, renewal)");
        if (seen[k])
            return err_at(c, t[i].col, "key given twice");
        seen[k] = 1;
        where[k] = t[i].col;
        const struct tok vt = {val, vlen, vcol};
        switch ((enum key)k) {
        case K_KIND: {
            int found = -1;
            for (int j = 0; j < TP_GL_KIND_COUNT; j++)
                if (tok_is(&vt, kind_names[j]))
                    found = j;
            if (found < 0)
                return err_at(c, vcol, "kind must be pct_br, forfait, frais_reels or none");
            r.kind = (uint8_t)found;
            break;
        }
        case K_BASKET:
            if (is_class) {
                if (tok_is(&vt, "A") || tok_is(&vt, "I"))
                    r.basket = TP_BASKET_RAC0;
                else if (tok_is(&vt, "B") || tok_is(&vt, "II"))
                    r.basket = TP_BASKET_LIBRE;
                else
                    return err_at(c, vcol, "class must be A, B (optique) or I, II (audio)");
            } else if (tok_is(&vt, "*")) {
                r.basket = TP_GL_ANY;
            } else if (tok_is(&vt, "RAC0")) {
                r.basket = TP_BASKET_RAC0;
            } else if (tok_is(&vt, "MODERE")) {
                r.basket = TP_BASKET_MODERE;
            } else if (tok_is(&vt, "LIBRE")) {
                r.basket = TP_BASKET_LIBRE;
            } else {
                return err_at(c, vcol, "basket must be RAC0, MODERE, LIBRE or *");
            }
            break;
        case K_RATE:
            if (vlen == 0 || val[vlen - 1] != '%' ||
                tp_percent_parse(val, vlen, &r.rate_bp) != TP_OK)
                return err_at(c, vcol,
                              "rate must be a percent like 100% or 125.5% (at most "
                              "10000%)");
            break;
        case K_BASE:
            if (tok_is(&vt, "incl_amo"))
                r.incl_amo = 1;
            else if (tok_is(&vt, "excl_amo"))
                r.incl_amo = 0;
            else
                return err_at(c, vcol, "base must be incl_amo or excl_amo");
            break;
        case K_AMOUNT:
        case K_CEILING: {
            int64_t cents;
            if (tp_money_parse(val, vlen, &cents) != TP_OK || cents > 100000000)
                return err_at(c, vcol,
                              "amount must be euros like 150 or 150.00 (at most "
                              "1000000.00)");
            if (k == K_AMOUNT)
                r.amount_cents = cents;
            else
                r.ceiling_cents = cents;
            break;
        }
        case K_PER:
            if (tok_is(&vt, "act")) {
                r.period_months = 0;
            } else if (tok_is(&vt, "year")) {
                r.civil_year = 1;
                r.period_months = 12;
                per_act = 0;
            } else {
                int m = months_parse(val, vlen);
                if (m < 0)
                    return err_at(c, vcol,
                                  "per must be act, year, or a period like 24m or 2y "
                                  "(1 to 120 months)");
                r.period_months = (int16_t)m;
                per_act = 0;
            }
            break;
        case K_SCOPE:
            if (tok_is(&vt, "beneficiary"))
                r.scope = TP_GL_BENEFICIARY;
            else if (tok_is(&vt, "family"))
                r.scope = TP_GL_FAMILY;
            else
                return err_at(c, vcol, "scope must be beneficiary or family");
            break;
        case K_RENEWAL: {
            int m = months_parse(val, vlen);
            if (m < 0)
                return err_at(c, vcol, "renewal must be a period like 24m or 2y (1 to 120 months)");
            r.renewal_months = (int16_t)m;
            break;
        }
        case K_COUNT:
            break;
        }
    }
    if (!seen[K_KIND])
        return err_at(c, t[0].col, "kind= is required");
    static const char *const not_for_kind = "key not allowed with this kind";
    switch ((enum tp_gl_kind)r.kind) {
    case TP_GL_PCT_BR:
        if (!seen[K_RATE])
            return err_at(c, t[0].col, "kind=pct_br needs rate=");
        if (seen[K_AMOUNT])
            return err_at(c, where[K_AMOUNT], not_for_kind);
        break;
    case TP_GL_FORFAIT:
        if (!seen[K_AMOUNT])
            return err_at(c, t[0].col, "kind=forfait needs amount=");
        for (int k = K_RATE; k <= K_CEILING; k++)
            if (k != K_AMOUNT && seen[k])
                return err_at(c, where[k], not_for_kind);
        break;
    case TP_GL_FRAIS_REELS:
        for (int k = K_RATE; k <= K_AMOUNT; k++)
            if (seen[k])
                return err_at(c, where[k], not_for_kind);
        break;
    case TP_GL_NONE:
    case TP_GL_KIND_COUNT:
        for (int k = K_RATE; k < K_COUNT; k++)
            if (seen[k])
                return err_at(c, where[k], not_for_kind);
        break;
    }
    if (seen[K_SCOPE] && per_act)
        return err_at(c, where[K_SCOPE], "scope= needs a period (per=year or per=Nm)");
    for (int i = 0; i < v->n_rules; i++) {
        const struct tp_gl_rule *o = &v->rules[i];
        if (o->domain == r.domain && o->basket == r.basket && strcmp(o->family, r.family) == 0)
            return err_at(c, t[0].col,
                          "same domain, family and basket as an earlier rule of "
                          "this version");
    }
    snprintf(r.key, sizeof r.key, "%s.%s/%s", tp_domain_name((enum tp_domain)r.domain), r.family,
             r.basket == TP_GL_ANY ? "*" : tp_basket_name((enum tp_basket)r.basket));
    v->rules[v->n_rules++] = r;
    return TP_OK;
}

/* yes/no after "key=" in token t; -1 if neither. */
static int yes_no(const struct tok *t, size_t klen)
{
    const struct tok v = {t->p + klen, t->len - klen, t->col + klen};
    return tok_is(&v, "yes") ? 1 : tok_is(&v, "no") ? 0 : -1;
}

static int starts_with(const struct tok *t, const char *s)
{
    const size_t n = strlen(s);
    return t->len >= n && memcmp(t->p, s, n) == 0;
}

enum tp_err tp_gl_parse(const char *text, size_t len, struct tp_guarantee_set *out, char *msg,
                        size_t msglen)
{
    memset(out, 0, sizeof *out);
    if (!text && len)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "no text");
    if (len > TP_GL_TEXT_MAX)
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "guarantee text longer than %d bytes",
                       TP_GL_TEXT_MAX);
    struct ctx c = {0, msg, msglen};
    struct tp_gl_version *v = NULL;
    int header_done = 0; /* responsable= / covers_pf= no longer allowed in this version */
    int seen_resp = 0, seen_pf = 0;
    size_t pos = 0;
    while (pos < len) {
        c.line++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl != NULL);
        if (llen > 0 && line[llen - 1] == '\r')
            llen--;
        if (llen > TP_GL_LINE_MAX)
            return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "line %u: longer than %d bytes", c.line,
                           TP_GL_LINE_MAX);
        struct tok t[TOKENS_MAX];
        int nt = 0;
        for (size_t i = 0; i < llen;) {
            const unsigned char ch = (unsigned char)line[i];
            if (ch == ' ' || ch == '\t') {
                i++;
                continue;
            }
            if (ch < 0x20 || ch >= 0x7f)
                return err_at(&c, i + 1, "only printable ASCII is allowed");
            if (nt == 0 && ch == '#')
                break;
            if (nt == TOKENS_MAX)
                return err_at(&c, i + 1, "too many words on the line");
            size_t j = i;
            while (j < llen && line[j] != ' ' && line[j] != '\t')
                j++;
            t[nt].p = line + i;
            t[nt].len = j - i;
            t[nt].col = i + 1;
            nt++;
            i = j;
        }
        if (nt == 0)
            continue;
        enum tp_err rc;
        if (starts_with(&t[0], "name=")) {
            if (nt != 1)
                return err_at(&c, t[1].col, "nothing may follow name=");
            if (v || out->name[0])
                return err_at(&c, t[0].col, "name= comes once, before the first version");
            const size_t n = t[0].len - 5;
            if (n == 0 || n >= TP_GL_NAME_MAX)
                return err_at(&c, t[0].col + 5, "name must be 1 to 32 of A-Z 0-9 _ -");
            for (size_t i = 0; i < n; i++)
                if (!is_code_char(t[0].p[5 + i]) && t[0].p[5 + i] != '-')
                    return err_at(&c, t[0].col + 5 + i, "name must be 1 to 32 of A-Z 0-9 _ -");
            memcpy(out->name, t[0].p + 5, n);
        } else if (tok_is(&t[0], "version")) {
            tp_day d;
            if (nt != 3 || !tok_is(&t[1], "from"))
                return err_at(&c, t[0].col, "expected: version from YYYY-MM-DD");
            if (tp_date_parse(t[2].p, t[2].len, &d) != TP_OK)
                return err_at(&c, t[2].col, "expected a date YYYY-MM-DD");
            if (out->n_versions == TP_GL_VERSIONS_MAX)
                return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "line %u: more than %d versions",
                               c.line, TP_GL_VERSIONS_MAX);
            if (v && d <= v->from)
                return err_at(&c, t[2].col, "versions must be in increasing date order");
            v = &out->versions[out->n_versions++];
            v->from = d;
            header_done = seen_resp = seen_pf = 0;
        } else if (starts_with(&t[0], "responsable=") || starts_with(&t[0], "covers_pf=")) {
            const int is_resp = t[0].p[0] == 'r';
            const size_t klen = is_resp ? 12 : 10;
            if (!v)
                return err_at(&c, t[0].col, "expected 'version from YYYY-MM-DD' first");
            if (nt != 1)
                return err_at(&c, t[1].col, "one statement per line");
            if (header_done)
                return err_at(&c, t[0].col, "responsable= and covers_pf= come before the rules");
            if (is_resp ? seen_resp : seen_pf)
                return err_at(&c, t[0].col, "given twice in this version");
            const int yn = yes_no(&t[0], klen);
            if (yn < 0)
                return err_at(&c, t[0].col + klen, "expected yes or no");
            if (is_resp) {
                seen_resp = 1;
                v->responsable = (uint8_t)yn;
            } else {
                seen_pf = 1;
                v->covers_pf = (uint8_t)yn;
            }
            if (v->responsable && v->covers_pf)
                return err_at(&c, t[0].col,
                              "a contrat responsable may not cover the "
                              "participation forfaitaire or franchises "
                              "(CSS L871-1)");
        } else {
            if (!v)
                return err_at(&c, t[0].col, "expected 'version from YYYY-MM-DD' before rules");
            header_done = 1;
            rc = parse_rule(&c, t, nt, v);
            if (rc != TP_OK)
                return rc;
        }
    }
    if (out->n_versions == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "line %u: no 'version from' statement",
                       c.line ? c.line : 1);
    return TP_OK;
}

const struct tp_gl_version *tp_gl_version_at(const struct tp_guarantee_set *g, tp_day day)
{
    for (int i = g->n_versions - 1; i >= 0; i--)
        if (g->versions[i].from <= day)
            return &g->versions[i];
    return NULL;
}

/* ---- printer ------------------------------------------------------------------------------- */

struct out {
    char *buf;
    size_t cap, len;
    int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = 1;
        return;
    }
    o->len += (size_t)n;
}

static void put_percent(struct out *o, int32_t bp)
{
    if (bp % 100 == 0)
        put(o, "%d%%", (int)(bp / 100));
    else
        put(o, "%d.%02d%%", (int)(bp / 100), (int)(bp % 100));
}

static void put_period(struct out *o, const char *key, int civil, int months)
{
    if (civil)
        put(o, " %s=year", key);
    else if (months == 0)
        put(o, " %s=act", key);
    else
        put(o, " %s=%dm", key, months);
}

enum tp_err tp_gl_print(const struct tp_guarantee_set *g, char *buf, size_t cap, size_t *len)
{
    struct out o = {buf, cap, 0, cap == 0};
    if (g->name[0])
        put(&o, "name=%s\n", g->name);
    for (int i = 0; i < g->n_versions; i++) {
        const struct tp_gl_version *v = &g->versions[i];
        char day[11];
        tp_date_format(v->from, day);
        put(&o, "version from %s\nresponsable=%s\ncovers_pf=%s\n", day,
            v->responsable ? "yes" : "no", v->covers_pf ? "yes" : "no");
        for (int j = 0; j < v->n_rules; j++) {
            const struct tp_gl_rule *r = &v->rules[j];
            char money[24];
            put(&o, "%s.%s basket=%s kind=%s", tp_domain_name((enum tp_domain)r->domain), r->family,
                r->basket == TP_GL_ANY ? "*" : tp_basket_name((enum tp_basket)r->basket),
                tp_gl_kind_name((enum tp_gl_kind)r->kind));
            if (r->kind == TP_GL_NONE) {
                put(&o, "\n");
                continue;
            }
            if (r->kind == TP_GL_PCT_BR) {
                put(&o, " rate=");
                put_percent(&o, r->rate_bp);
                put(&o, " base=%s", r->incl_amo ? "incl_amo" : "excl_amo");
            }
            if (r->kind == TP_GL_FORFAIT) {
                tp_money_format(r->amount_cents, money);
                put(&o, " amount=%s", money);
            }
            if (r->ceiling_cents > 0) {
                tp_money_format(r->ceiling_cents, money);
                put(&o, " ceiling=%s", money);
            }
            put_period(&o, "per", r->civil_year, r->period_months);
            if (r->period_months != 0)
                put(&o, " scope=%s", r->scope == TP_GL_FAMILY ? "family" : "beneficiary");
            if (r->renewal_months > 0)
                put(&o, " renewal=%dm", r->renewal_months);
            put(&o, "\n");
        }
    }
    if (o.full) {
        if (cap)
            buf[0] = '\0';
        return TP_ERR_TOO_BIG;
    }
    *len = o.len;
    return TP_OK;
}

/* ---- demo contracts ------------------------------------------------------------------------ */

/* Shared by the three: the care every contract covers at least at the TM. */
#define COMMON_TM                                                                                  \
    "LABORATOIRE.* kind=pct_br rate=100% base=incl_amo\n"                                          \
    "RADIOLOGIE.* kind=pct_br rate=100% base=incl_amo\n"                                           \
    "AUXILIAIRE.* kind=pct_br rate=100% base=incl_amo\n"                                           \
    "TRANSPORT.* kind=pct_br rate=100% base=incl_amo\n"                                            \
    "PHARMACIE.MEDICAMENT kind=pct_br rate=100% base=incl_amo\n"                                   \
    "DENTAIRE.SOINS kind=pct_br rate=100% base=incl_amo\n"                                         \
    "HOSPITALISATION.SEJOUR kind=pct_br rate=100% base=incl_amo\n"                                 \
    "HOSPITALISATION.FJH kind=frais_reels\n"                                                       \
    "HOSPITALISATION.FORFAIT_AL kind=frais_reels\n"                                                \
    "HOSPITALISATION.URGENCES kind=frais_reels\n"                                                  \
    "DENTAIRE.PROTHESE basket=RAC0 kind=frais_reels\n"                                             \
    "OPTIQUE.* basket=RAC0 kind=frais_reels\n"                                                     \
    "AUDIO.* basket=RAC0 kind=frais_reels\n"

static const char demo_entry[] =
    "# Entry-level contrat responsable: the ticket modérateur, the forfait journalier and the\n"
    "# 100 % Santé baskets in full (CSS R871-2), modest forfaits elsewhere.\n"
    "name=ENTRY_RESP\n"
    "version from 2025-01-01\n"
    "responsable=yes\n"
    "CONSULTATION.* kind=pct_br rate=100% base=incl_amo\n" COMMON_TM
    "HOSPITALISATION.HONORAIRES kind=pct_br rate=100% base=incl_amo\n"
    "DENTAIRE.PROTHESE basket=LIBRE kind=pct_br rate=125% base=incl_amo\n"
    "OPTIQUE.MONTURE basket=LIBRE kind=forfait amount=30.00 per=24m\n"
    "OPTIQUE.VERRE basket=LIBRE kind=forfait amount=50.00 per=24m\n"
    "AUDIO.AIDE_AUDITIVE basket=LIBRE kind=pct_br rate=100% base=incl_amo\n";

static const char demo_mid[] =
    "# Mid-range contrat responsable: extra fees, optical and audio forfaits close to the\n"
    "# R871-2 ceilings, dental prosthesis at 250 % of the BR within a yearly ceiling.\n"
    "name=MID_RESP\n"
    "version from 2025-01-01\n"
    "responsable=yes\n"
    "CONSULTATION.* kind=pct_br rate=150% base=incl_amo\n" COMMON_TM
    "HOSPITALISATION.HONORAIRES kind=pct_br rate=150% base=incl_amo\n"
    "HOSPITALISATION.CHAMBRE kind=forfait amount=50.00 per=act\n"
    "DENTAIRE.PROTHESE basket=LIBRE kind=pct_br rate=250% base=incl_amo ceiling=1200.00 "
    "per=year\n"
    "OPTIQUE.MONTURE basket=LIBRE kind=forfait amount=100.00 per=24m\n"
    "OPTIQUE.VERRE basket=LIBRE kind=forfait amount=250.00 per=24m\n"
    "OPTIQUE.LENTILLE kind=forfait amount=100.00 per=year\n"
    "AUDIO.AIDE_AUDITIVE basket=LIBRE kind=forfait amount=1000.00 per=48m\n";

static const char demo_high[] =
    "# High-end non-responsable contract: large forfaits without the R871-2 ceilings, pays the\n"
    "# participation forfaitaire and franchises, dental ceiling shared by the family.\n"
    "name=HIGH_FREE\n"
    "version from 2025-01-01\n"
    "responsable=no\n"
    "covers_pf=yes\n"
    "CONSULTATION.* kind=pct_br rate=300% base=incl_amo\n" COMMON_TM
    "HOSPITALISATION.HONORAIRES kind=pct_br rate=300% base=incl_amo\n"
    "HOSPITALISATION.CHAMBRE kind=forfait amount=90.00 per=act\n"
    "DENTAIRE.PROTHESE basket=LIBRE kind=pct_br rate=400% base=incl_amo ceiling=2500.00 "
    "per=year scope=family\n"
    "OPTIQUE.MONTURE basket=LIBRE kind=forfait amount=200.00 per=24m\n"
    "OPTIQUE.VERRE basket=LIBRE kind=forfait amount=500.00 per=24m\n"
    "OPTIQUE.LENTILLE kind=forfait amount=250.00 per=year\n"
    "AUDIO.AIDE_AUDITIVE basket=LIBRE kind=forfait amount=1800.00 per=48m\n"
    "PHARMACIE.NON_REMB kind=forfait amount=50.00 per=year\n";

const char *tp_gl_demo_text(enum tp_gl_demo which)
{
    switch (which) {
    case TP_GL_DEMO_ENTRY_RESP:
        return demo_entry;
    case TP_GL_DEMO_MID_RESP:
        return demo_mid;
    case TP_GL_DEMO_HIGH_FREE:
    case TP_GL_DEMO_COUNT:
        break;
    }
    return demo_high;
}

enum tp_gl_demo tp_gl_demo_for(int responsable, int level)
{
    if (!responsable)
        return TP_GL_DEMO_HIGH_FREE;
    return level <= 2 ? TP_GL_DEMO_ENTRY_RESP : TP_GL_DEMO_MID_RESP;
}
