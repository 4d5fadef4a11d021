/* Reference data parser and lookups (refdata.h). */
#include "core/refdata.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX 17

static const char *const param_names[TP_P_COUNT] = {
    [TP_P_PF] = "PF",
    [TP_P_PF_DAY_MAX] = "PF_DAY_MAX",
    [TP_P_PF_YEAR_MAX] = "PF_YEAR_MAX",
    [TP_P_FR_MED] = "FR_MED",
    [TP_P_FR_PARA] = "FR_PARA",
    [TP_P_FR_PARA_DAY_MAX] = "FR_PARA_DAY_MAX",
    [TP_P_FR_TRANSPORT] = "FR_TRANSPORT",
    [TP_P_FR_TRANSPORT_DAY_MAX] = "FR_TRANSPORT_DAY_MAX",
    [TP_P_FR_YEAR_MAX] = "FR_YEAR_MAX",
    [TP_P_CHARGES_MIN_AGE] = "CHARGES_MIN_AGE",
    [TP_P_FJH] = "FJH",
    [TP_P_FJH_PSY] = "FJH_PSY",
    [TP_P_PAV] = "PAV",
    [TP_P_PAV_THRESHOLD] = "PAV_THRESHOLD",
    [TP_P_FPU] = "FPU",
    [TP_P_OPT_FRAME_MAX] = "OPT_FRAME_MAX",
    [TP_P_OPT_MAX_A] = "OPT_MAX_A",
    [TP_P_OPT_MAX_B] = "OPT_MAX_B",
    [TP_P_OPT_MAX_C] = "OPT_MAX_C",
    [TP_P_OPT_MAX_D] = "OPT_MAX_D",
    [TP_P_OPT_MAX_E] = "OPT_MAX_E",
    [TP_P_OPT_MAX_F] = "OPT_MAX_F",
    [TP_P_OPT_RENEW_ADULT] = "OPT_RENEW_ADULT",
    [TP_P_OPT_RENEW_CHILD] = "OPT_RENEW_CHILD",
    [TP_P_OPT_CHILD_AGE] = "OPT_CHILD_AGE",
    [TP_P_OPT_RENEW_VISION] = "OPT_RENEW_VISION",
    [TP_P_AUDIO_MAX] = "AUDIO_MAX",
    [TP_P_AUDIO_RENEW] = "AUDIO_RENEW",
};

/* Parameters counted in months or years rather than cents. */
static int param_is_count(enum tp_param p)
{
    return p == TP_P_CHARGES_MIN_AGE || p == TP_P_OPT_RENEW_ADULT || p == TP_P_OPT_RENEW_CHILD ||
           p == TP_P_OPT_CHILD_AGE || p == TP_P_OPT_RENEW_VISION || p == TP_P_AUDIO_RENEW;
}

int tp_param_is_money(enum tp_param p)
{
    return (unsigned)p < TP_P_COUNT && !param_is_count(p);
}

static const char *const basket_names[TP_BASKET_COUNT] = {"-", "RAC0", "MODERE", "LIBRE"};
static const char *const kind_names[TP_ACT_KIND_COUNT] = {"CARE", "REF_FORFAIT", "FRAME", "LENS",
                                                          "HEARING_AID"};
static const char *const grade_names[TP_GRADE_COUNT] = {"-", "S", "C", "TC"};
static const char *const charge_names[TP_CHARGE_COUNT] = {"-", "PF", "FR_MED", "FR_PARA",
                                                          "FR_TRANSPORT"};

const char *tp_param_name(enum tp_param p)
{
    return (unsigned)p < TP_P_COUNT ? param_names[p] : "?";
}
const char *tp_basket_name(enum tp_basket b)
{
    return (unsigned)b < TP_BASKET_COUNT ? basket_names[b] : "?";
}
const char *tp_act_kind_name(enum tp_act_kind k)
{
    return (unsigned)k < TP_ACT_KIND_COUNT ? kind_names[k] : "?";
}
const char *tp_grade_name(enum tp_lens_grade g)
{
    return (unsigned)g < TP_GRADE_COUNT ? grade_names[g] : "?";
}
const char *tp_charge_name(enum tp_charge c)
{
    return (unsigned)c < TP_CHARGE_COUNT ? charge_names[c] : "?";
}

/* Index of the name equal to (s, len) in names[0..n), or -1. */
static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

/* ---- numbers ------------------------------------------------------------------------------- */

/* Unsigned decimal "I[.F]" with at most `decimals` fraction digits, scaled by 10^decimals.
 * Bounded: at most 12 integer digits, so the value never overflows. */
static enum tp_err decimal_parse(const char *s, size_t len, int decimals, int64_t *out)
{
    size_t i = 0;
    int64_t v = 0;
    int idigits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (++idigits > 12)
            return TP_ERR_INVALID;
        v = v * 10 + (s[i++] - '0');
    }
    if (idigits == 0)
        return TP_ERR_INVALID;
    int fdigits = 0;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (++fdigits > decimals)
                return TP_ERR_INVALID;
            v = v * 10 + (s[i++] - '0');
        }
        if (fdigits == 0)
            return TP_ERR_INVALID;
    }
    if (i != len)
        return TP_ERR_INVALID;
    for (; fdigits < decimals; fdigits++)
        v *= 10;
    *out = v;
    return TP_OK;
}

enum tp_err tp_money_parse(const char *s, size_t len, int64_t *cents)
{
    int64_t v;
    if (!s || decimal_parse(s, len, 2, &v) != TP_OK || v > TP_MONEY_MAX)
        return TP_ERR_INVALID;
    *cents = v;
    return TP_OK;
}

void tp_money_format(int64_t cents, char buf[24])
{
    char tmp[24];
    int n = 0;
    const int neg = cents < 0;
    /* Negate in unsigned arithmetic: INT64_MIN has no positive counterpart. */
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
        if (n == 2)
            tmp[n++] = '.';
    } while (u > 0 || n < 4);
    int k = 0;
    if (neg)
        buf[k++] = '-';
    while (n > 0)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
}

enum tp_err tp_percent_parse(const char *s, size_t len, int32_t *bp)
{
    int64_t v;
    if (!s)
        return TP_ERR_INVALID;
    if (len > 0 && s[len - 1] == '%')
        len--;
    if (decimal_parse(s, len, 2, &v) != TP_OK || v > 1000000)
        return TP_ERR_INVALID;
    *bp = (int32_t)v;
    return TP_OK;
}

/* ---- rows ---------------------------------------------------------------------------------- */

struct field {
    const char *p;
    size_t len;
    size_t col; /* 1-based column of the field's first byte */
};

static int is_code_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int valid_code(const struct field *f, size_t max)
{
    if (f->len == 0 || f->len >= max)
        return 0;
    for (size_t i = 0; i < f->len; i++)
        if (!is_code_char(f->p[i]))
            return 0;
    return 1;
}

static int is_dash(const struct field *f)
{
    return f->len == 1 && f->p[0] == '-';
}

static enum tp_err parse_validity(const struct field *from, const struct field *to, tp_day *vf,
                                  tp_day *vt, const char **what, const struct field **bad)
{
    if (tp_date_parse(from->p, from->len, vf) != TP_OK) {
        *what = "valid_from must be a date YYYY-MM-DD";
        *bad = from;
        return TP_ERR_INVALID;
    }
    if (is_dash(to)) {
        *vt = TP_DAY_NONE;
    } else if (tp_date_parse(to->p, to->len, vt) != TP_OK) {
        *what = "valid_to must be a date YYYY-MM-DD or -";
        *bad = to;
        return TP_ERR_INVALID;
    } else if (*vt < *vf) {
        *what = "valid_to is before valid_from";
        *bad = to;
        return TP_ERR_INVALID;
    }
    return TP_OK;
}

/* Copies the source text: printable bytes only (control characters would end up in reports). */
static int copy_source(char *dst, const struct field *f, const char **what)
{
    if (f->len == 0) {
        *what = "source is empty: every row cites its legal text";
        return 0;
    }
    size_t n = f->len < TP_REF_SOURCE_MAX - 1 ? f->len : TP_REF_SOURCE_MAX - 1;
    /* Do not cut a UTF-8 sequence in the middle. */
    while (n < f->len && n > 0 && ((unsigned char)f->p[n] & 0xC0) == 0x80)
        n--;
    for (size_t i = 0; i < f->len; i++)
        if ((unsigned char)f->p[i] < 0x20 || f->p[i] == 0x7f) {
            *what = "source contains a control character";
            return 0;
        }
    memcpy(dst, f->p, n);
    dst[n] = '\0';
    return 1;
}

static enum tp_err parse_param(struct tp_refdata *rd, const struct field *f, int nf,
                               const char **what, const struct field **bad)
{
    if (nf != 6) {
        *what = "a param row has 6 fields: param|NAME|VALUE|VALID_FROM|VALID_TO|SOURCE";
        *bad = &f[0];
        return TP_ERR_INVALID;
    }
    if (rd->n_params >= TP_REF_PARAMS_MAX) {
        *what = "too many param rows";
        *bad = &f[0];
        return TP_ERR_TOO_BIG;
    }
    struct tp_param_ref *r = &rd->params[rd->n_params];
    memset(r, 0, sizeof *r);
    int p = lookup(param_names, TP_P_COUNT, f[1].p, f[1].len);
    if (p < 0) {
        *what = "unknown parameter name";
        *bad = &f[1];
        return TP_ERR_INVALID;
    }
    r->param = (uint8_t)p;
    if (param_is_count((enum tp_param)p)) {
        if (decimal_parse(f[2].p, f[2].len, 0, &r->value) != TP_OK || r->value > 1200) {
            *what = "value must be a whole number from 0 to 1200";
            *bad = &f[2];
            return TP_ERR_INVALID;
        }
    } else if (tp_money_parse(f[2].p, f[2].len, &r->value) != TP_OK) {
        *what = "value must be an amount in euros (12.34)";
        *bad = &f[2];
        return TP_ERR_INVALID;
    }
    enum tp_err rc = parse_validity(&f[3], &f[4], &r->valid_from, &r->valid_to, what, bad);
    if (rc != TP_OK)
        return rc;
    if (!copy_source(r->source, &f[5], what)) {
        *bad = &f[5];
        return TP_ERR_INVALID;
    }
    rd->n_params++;
    return TP_OK;
}

static enum tp_err parse_act(struct tp_refdata *rd, const struct field *f, int nf,
                             const char **what, const struct field **bad)
{
    if (nf != 16) {
        *what = "an act row has 16 fields: act|CODE|DOMAIN|FAMILY|KIND|BASKET|GRADE|CHARGE|TM|"
                "AMO_RATE|BR|PRICE_CAP|PARAM|VALID_FROM|VALID_TO|SOURCE";
        *bad = &f[0];
        return TP_ERR_INVALID;
    }
    if (rd->n_acts >= TP_REF_ACTS_MAX) {
        *what = "too many act rows";
        *bad = &f[0];
        return TP_ERR_TOO_BIG;
    }
    struct tp_act_ref *r = &rd->acts[rd->n_acts];
    memset(r, 0, sizeof *r);
    int v;
#define BAD(i, text)                                                                               \
    do {                                                                                           \
        *what = (text);                                                                            \
        *bad = &f[i];                                                                              \
        return TP_ERR_INVALID;                                                                     \
    } while (0)
    if (!valid_code(&f[1], TP_ACT_CODE_MAX))
        BAD(1, "code must be 1 to 15 of A-Z 0-9 _");
    memcpy(r->code, f[1].p, f[1].len);
    if ((v = tp_domain_parse(f[2].p, f[2].len)) < 0)
        BAD(2, "unknown care domain");
    r->domain = (uint8_t)v;
    if (!valid_code(&f[3], TP_FAMILY_MAX))
        BAD(3, "family must be 1 to 16 of A-Z 0-9 _");
    memcpy(r->family, f[3].p, f[3].len);
    if ((v = lookup(kind_names, TP_ACT_KIND_COUNT, f[4].p, f[4].len)) < 0)
        BAD(4, "kind must be CARE, REF_FORFAIT, FRAME, LENS or HEARING_AID");
    r->kind = (uint8_t)v;
    if ((v = lookup(basket_names, TP_BASKET_COUNT, f[5].p, f[5].len)) < 0)
        BAD(5, "basket must be -, RAC0, MODERE or LIBRE");
    r->basket = (uint8_t)v;
    if ((v = lookup(grade_names, TP_GRADE_COUNT, f[6].p, f[6].len)) < 0)
        BAD(6, "grade must be -, S, C or TC");
    r->grade = (uint8_t)v;
    if ((r->kind == TP_ACT_LENS) != (r->grade != TP_GRADE_NONE))
        BAD(6, "a LENS row has a grade (S, C, TC), other rows -");
    if ((v = lookup(charge_names, TP_CHARGE_COUNT, f[7].p, f[7].len)) < 0)
        BAD(7, "charge must be -, PF, FR_MED, FR_PARA or FR_TRANSPORT");
    r->charge = (uint8_t)v;
    if (f[8].len == 2 && memcmp(f[8].p, "TM", 2) == 0)
        r->tm_optional = 0;
    else if (f[8].len == 6 && memcmp(f[8].p, "TM_OPT", 6) == 0)
        r->tm_optional = 1;
    else
        BAD(8, "tm must be TM or TM_OPT");
    if (tp_percent_parse(f[9].p, f[9].len, &r->amo_bp) != TP_OK || r->amo_bp > 10000)
        BAD(9, "amo rate must be a percent from 0% to 100%");
    if (is_dash(&f[10]))
        r->br_cents = -1;
    else if (tp_money_parse(f[10].p, f[10].len, &r->br_cents) != TP_OK)
        BAD(10, "br must be an amount in euros or -");
    if (is_dash(&f[11]))
        r->cap_cents = 0;
    else if (tp_money_parse(f[11].p, f[11].len, &r->cap_cents) != TP_OK)
        BAD(11, "price cap must be an amount in euros or -");
    if (r->kind == TP_ACT_REF_FORFAIT) {
        if ((v = lookup(param_names, TP_P_COUNT, f[12].p, f[12].len)) < 0 ||
            !tp_param_is_money((enum tp_param)v))
            BAD(12, "a REF_FORFAIT row names the money parameter giving its amount");
        r->param = (uint8_t)v;
    } else if (!is_dash(&f[12])) {
        BAD(12, "param is - except on REF_FORFAIT rows");
    }
#undef BAD
    enum tp_err rc = parse_validity(&f[13], &f[14], &r->valid_from, &r->valid_to, what, bad);
    if (rc != TP_OK)
        return rc;
    if (!copy_source(r->source, &f[15], what)) {
        *bad = &f[15];
        return TP_ERR_INVALID;
    }
    rd->n_acts++;
    return TP_OK;
}

void tp_refdata_init(struct tp_refdata *rd)
{
    rd->finished = 0;
    rd->n_acts = 0;
    rd->n_params = 0;
    for (int i = 0; i < TP_P_COUNT; i++) {
        rd->param_first[i] = -1;
        rd->param_count[i] = 0;
    }
}

enum tp_err tp_refdata_load(struct tp_refdata *rd, const char *text, size_t len, char *msg,
                            size_t msglen)
{
    assert(!rd->finished);
    if (!text && len)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "no text");
    if (len > TP_REF_TEXT_MAX)
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "reference file larger than %u bytes",
                       TP_REF_TEXT_MAX);
    const int acts0 = rd->n_acts, params0 = rd->n_params;
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl != NULL);
        if (llen > 0 && line[llen - 1] == '\r')
            llen--;
        enum tp_err rc = TP_OK;
        const char *what = NULL;
        size_t col = 1;
        if (llen > TP_REF_LINE_MAX) {
            rc = TP_ERR_TOO_BIG;
            what = "line longer than 512 bytes";
        } else if (memchr(line, '\0', llen)) {
            rc = TP_ERR_INVALID;
            what = "NUL byte";
        } else {
            size_t i = 0;
            while (i < llen && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i == llen || line[i] == '#')
                continue;
            struct field f[FIELDS_MAX];
            int nf = 0;
            size_t start = 0;
            for (size_t k = 0; k <= llen; k++) {
                if (k < llen && line[k] != '|')
                    continue;
                if (nf == FIELDS_MAX) {
                    rc = TP_ERR_INVALID;
                    what = "too many fields";
                    col = k + 1;
                    break;
                }
                size_t a = start, b = k;
                while (a < b && (line[a] == ' ' || line[a] == '\t'))
                    a++;
                while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
                    b--;
                f[nf].p = line + a;
                f[nf].len = b - a;
                f[nf].col = a + 1;
                nf++;
                start = k + 1;
            }
            if (rc == TP_OK) {
                const struct field *bad = &f[0];
                if (f[0].len == 5 && memcmp(f[0].p, "param", 5) == 0)
                    rc = parse_param(rd, f, nf, &what, &bad);
                else if (f[0].len == 3 && memcmp(f[0].p, "act", 3) == 0)
                    rc = parse_act(rd, f, nf, &what, &bad);
                else {
                    rc = TP_ERR_INVALID;
                    what = "a row starts with param or act";
                }
                col = bad->col;
            }
        }
        if (rc != TP_OK) {
            rd->n_acts = acts0;
            rd->n_params = params0;
            return tp_fail(msg, msglen, rc, "line %u, column %zu: %s", lineno, col, what);
        }
    }
    return TP_OK;
}

static int cmp_act(const void *a, const void *b)
{
    const struct tp_act_ref *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    if (c)
        return c;
    return (x->valid_from > y->valid_from) - (x->valid_from < y->valid_from);
}

static int cmp_param(const void *a, const void *b)
{
    const struct tp_param_ref *x = a, *y = b;
    if (x->param != y->param)
        return (x->param > y->param) - (x->param < y->param);
    return (x->valid_from > y->valid_from) - (x->valid_from < y->valid_from);
}

/* True when a row valid [from1, to1] overlaps the next one starting at from2 (sorted). */
static int overlaps(tp_day to1, tp_day from2)
{
    return to1 == TP_DAY_NONE || to1 >= from2;
}

enum tp_err tp_refdata_finish(struct tp_refdata *rd, char *msg, size_t msglen)
{
    qsort(rd->acts, (size_t)rd->n_acts, sizeof rd->acts[0], cmp_act);
    qsort(rd->params, (size_t)rd->n_params, sizeof rd->params[0], cmp_param);
    for (int i = 1; i < rd->n_acts; i++)
        if (strcmp(rd->acts[i - 1].code, rd->acts[i].code) == 0 &&
            overlaps(rd->acts[i - 1].valid_to, rd->acts[i].valid_from))
            return tp_fail(msg, msglen, TP_ERR_INVALID, "act %s: two rows in force on the same day",
                           rd->acts[i].code);
    for (int i = 0; i < TP_P_COUNT; i++) {
        rd->param_first[i] = -1;
        rd->param_count[i] = 0;
    }
    for (int i = 0; i < rd->n_params; i++) {
        const int p = rd->params[i].param;
        if (rd->param_first[p] < 0)
            rd->param_first[p] = (int16_t)i;
        else if (overlaps(rd->params[i - 1].valid_to, rd->params[i].valid_from))
            return tp_fail(msg, msglen, TP_ERR_INVALID,
                           "parameter %s: two rows in force on the same day", param_names[p]);
        rd->param_count[p]++;
    }
    for (int p = 0; p < TP_P_COUNT; p++)
        if (rd->param_count[p] == 0)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "parameter %s has no row", param_names[p]);
    rd->finished = 1;
    return TP_OK;
}

static int in_force(tp_day from, tp_day to, tp_day day)
{
    return from <= day && (to == TP_DAY_NONE || day <= to);
}

const struct tp_act_ref *tp_refdata_act(const struct tp_refdata *rd, const char *code, size_t len,
                                        tp_day day)
{
    assert(rd->finished);
    if (len == 0 || len >= TP_ACT_CODE_MAX)
        return NULL;
    /* Lower bound of the code; rows of one code are consecutive, sorted by valid_from. */
    int lo = 0, hi = rd->n_acts;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        const char *c = rd->acts[mid].code;
        int cmp = strncmp(c, code, len);
        if (cmp == 0 && c[len] != '\0')
            cmp = 1;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < rd->n_acts; i++) {
        const struct tp_act_ref *a = &rd->acts[i];
        if (strncmp(a->code, code, len) != 0 || a->code[len] != '\0')
            break;
        if (in_force(a->valid_from, a->valid_to, day))
            return a;
    }
    return NULL;
}

const struct tp_param_ref *tp_refdata_param(const struct tp_refdata *rd, enum tp_param p,
                                            tp_day day)
{
    assert(rd->finished && (unsigned)p < TP_P_COUNT);
    const int first = rd->param_first[p];
    for (int i = first; first >= 0 && i < first + rd->param_count[p]; i++)
        if (in_force(rd->params[i].valid_from, rd->params[i].valid_to, day))
            return &rd->params[i];
    return NULL;
}
