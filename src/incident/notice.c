/* Incident notification documents: art. 34 notices, art. 33 drafts, per-AMC CSV rows.
 * See notice.h for the contracts. Pure formatting: no I/O, no clock, no allocation. */
#include "incident/notice.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/date.h"

/* Unix ms accepted anywhere: 2000-01-01 .. 2099-12-31, so every date has 4 digits and
 * tp_date_to_ymd stays in its range. */
#define MS_MIN INT64_C(946684800000)
#define MS_MAX INT64_C(4102444799999)
#define MS_PER_DAY INT64_C(86400000)
#define MS_72H (INT64_C(72) * 3600 * 1000)

/* ---- text checks --------------------------------------------------------------------- */

/* Length of s if NUL-terminated within cap, else cap. */
static size_t bounded_len(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    return nul ? (size_t)(nul - s) : cap;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) with no control characters
 * (C0 except '\n' when allowed, DEL, C1): such text is printed as is into letters, PDFs
 * and CSV files. */
static bool text_valid(const char *s, size_t n, bool allow_newline)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            if ((c < 0x20 && !(allow_newline && c == '\n')) || c == 0x7f)
                return false;
            i++;
            continue;
        }
        unsigned need, cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((u[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
            return false;
        i += need + 1;
    }
    return true;
}

/* Checks a fixed-size text field: terminated, valid, optionally non-empty. */
static enum tp_err field_check(const char *s, size_t cap, const char *name, bool required,
                               bool allow_newline, char *msg, size_t len)
{
    size_t n = bounded_len(s, cap);
    if (n == cap)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "%s: longer than %zu bytes", name, cap - 1);
    if (required && n == 0)
        return tp_fail(msg, len, TP_ERR_INVALID, "%s: missing", name);
    if (!text_valid(s, n, allow_newline))
        return tp_fail(msg, len, TP_ERR_INVALID,
                       "%s: not valid UTF-8 text (or holds control characters)", name);
    return TP_OK;
}

#define FIELD(obj, f, req, nl)                                                                     \
    do {                                                                                           \
        enum tp_err e_ = field_check((obj)->f, sizeof(obj)->f, #f, (req), (nl), msg, len);         \
        if (e_ != TP_OK)                                                                           \
            return e_;                                                                             \
    } while (0)

static bool ms_valid(int64_t ms)
{
    return ms >= MS_MIN && ms <= MS_MAX;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool email_plausible(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] != '\0' && !strchr(at + 1, '@') && !strchr(s, ' ');
}

enum tp_err tp_incident_check(const struct tp_incident *inc, char *msg, size_t len)
{
    if (!inc)
        return tp_fail(msg, len, TP_ERR_INVALID, "incident: missing");
    size_t n = bounded_len(inc->id, sizeof inc->id);
    if (n == sizeof inc->id)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "id: longer than %zu bytes", sizeof inc->id - 1);
    if (n == 0)
        return tp_fail(msg, len, TP_ERR_INVALID, "id: missing");
    /* The id goes into file names and letters: a closed alphabet, not starting with '.'. */
    for (size_t i = 0; i < n; i++) {
        char c = inc->id[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (c == '.' && i > 0);
        if (!ok)
            return tp_fail(msg, len, TP_ERR_INVALID, "id: only letters, digits, '-', '_', '.'");
    }
    FIELD(inc, platform, true, false);
    FIELD(inc, description, true, true);
    FIELD(inc, account, false, false);
    FIELD(inc, ps, false, false);
    FIELD(inc, token, false, false);
    FIELD(inc, network, false, false);
    if (!inc->account[0] && !inc->ps[0] && !inc->token[0] && !inc->network[0])
        return tp_fail(msg, len, TP_ERR_INVALID,
                       "compromised subject: give an account, a PS, a token or a network");
    if (!ms_valid(inc->window_start_ms) || !ms_valid(inc->window_end_ms) ||
        !ms_valid(inc->detected_ms) || !ms_valid(inc->report_ms))
        return tp_fail(msg, len, TP_ERR_INVALID, "times: outside 2000-2099");
    if (inc->window_end_ms < inc->window_start_ms)
        return tp_fail(msg, len, TP_ERR_INVALID, "window: ends before it starts");
    if (inc->detected_ms < inc->window_start_ms)
        return tp_fail(msg, len, TP_ERR_INVALID, "detected: before the window starts");
    if (inc->report_ms < inc->detected_ms)
        return tp_fail(msg, len, TP_ERR_INVALID, "report time: before detection");
    if (inc->n_measures < 1 || inc->n_measures > TP_INCIDENT_MEASURES_MAX)
        return tp_fail(msg, len, TP_ERR_INVALID, "measures: give 1 to %d measures taken",
                       TP_INCIDENT_MEASURES_MAX);
    if (inc->n_proposed < 0 || inc->n_proposed > TP_INCIDENT_MEASURES_MAX)
        return tp_fail(msg, len, TP_ERR_INVALID, "proposed: 0 to %d measures",
                       TP_INCIDENT_MEASURES_MAX);
    for (int i = 0; i < inc->n_measures; i++) {
        enum tp_err e = field_check(inc->measures[i], TP_INCIDENT_MEASURE_MAX, "measures[]", true,
                                    false, msg, len);
        if (e != TP_OK)
            return e;
    }
    for (int i = 0; i < inc->n_proposed; i++) {
        enum tp_err e = field_check(inc->proposed[i], TP_INCIDENT_MEASURE_MAX, "proposed[]", true,
                                    false, msg, len);
        if (e != TP_OK)
            return e;
    }
    FIELD(inc, contact_name, true, false);
    FIELD(inc, contact_email, true, false);
    FIELD(inc, contact_phone, false, false);
    if (!email_plausible(inc->contact_email))
        return tp_fail(msg, len, TP_ERR_INVALID, "contact_email: not an e-mail address");
    return TP_OK;
}

enum tp_err tp_incident_amc_check(const struct tp_incident_amc *amc, char *msg, size_t len)
{
    if (!amc)
        return tp_fail(msg, len, TP_ERR_INVALID, "amc: missing");
    size_t n = bounded_len(amc->number, sizeof amc->number);
    if (n != 9 || !all_digits(amc->number, 9))
        return tp_fail(msg, len, TP_ERR_INVALID, "amc number: 9 digits expected");
    FIELD(amc, name, true, false);
    FIELD(amc, dpo_name, true, false);
    FIELD(amc, dpo_email, true, false);
    FIELD(amc, dpo_address, true, false);
    if (!email_plausible(amc->dpo_email))
        return tp_fail(msg, len, TP_ERR_INVALID, "AMC %s: dpo_email: not an e-mail address",
                       amc->number);
    if (amc->people < 1 || amc->people > TP_INCIDENT_PEOPLE_MAX)
        return tp_fail(msg, len, TP_ERR_INVALID, "AMC %s: people: 1 to %d", amc->number,
                       TP_INCIDENT_PEOPLE_MAX);
    if (amc->records < amc->people)
        return tp_fail(msg, len, TP_ERR_INVALID, "AMC %s: fewer records than people", amc->number);
    return TP_OK;
}

void tp_incident_amc_from_record(struct tp_incident_amc *out, const struct tp_amc *amc)
{
    /* Same array sizes on both sides (model.h): plain copies, NUL-terminated by the source. */
    _Static_assert(sizeof out->dpo_address == sizeof amc->dpo_address, "sizes differ");
    _Static_assert(sizeof out->name == sizeof amc->name, "sizes differ");
    memset(out, 0, sizeof *out);
    memcpy(out->number, amc->number, sizeof out->number);
    memcpy(out->name, amc->name, sizeof out->name);
    memcpy(out->dpo_name, amc->dpo_name, sizeof out->dpo_name);
    memcpy(out->dpo_email, amc->dpo_email, sizeof out->dpo_email);
    memcpy(out->dpo_address, amc->dpo_address, sizeof out->dpo_address);
}

enum tp_err tp_exposed_person_check(const struct tp_incident *inc,
                                    const struct tp_exposed_person *p, int n_amc, char *msg,
                                    size_t len)
{
    if (!inc || !p)
        return tp_fail(msg, len, TP_ERR_INVALID, "person: missing");
    if (p->amc < 0 || p->amc >= n_amc)
        return tp_fail(msg, len, TP_ERR_INVALID, "person: AMC index out of range");
    size_t n = bounded_len(p->ref, sizeof p->ref);
    if (n != 32)
        return tp_fail(msg, len, TP_ERR_INVALID, "person: ref: 32 hex digits expected");
    for (size_t i = 0; i < n; i++) {
        char c = p->ref[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return tp_fail(msg, len, TP_ERR_INVALID, "person: ref: lower-case hex expected");
    }
    /* The member number lands in a CSV opened by spreadsheets: letters and digits only, so
     * that it can never be read as a formula. */
    n = bounded_len(p->member, sizeof p->member);
    if (n == sizeof p->member)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "person %s: member: too long", p->ref);
    for (size_t i = 0; i < n; i++) {
        char c = p->member[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return tp_fail(msg, len, TP_ERR_INVALID, "person %s: member: letters and digits",
                           p->ref);
    }
    if (p->rank < 0 || p->rank > 99)
        return tp_fail(msg, len, TP_ERR_INVALID, "person %s: rank: 0 to 99", p->ref);
    FIELD(p, title, false, false);
    FIELD(p, first_name, false, false);
    FIELD(p, last_name, false, false);
    for (int i = 0; i < TP_ADDRESS_LINES; i++) {
        enum tp_err e =
            field_check(p->address[i], TP_TEXT_MAX, "address[]", false, false, msg, len);
        if (e != TP_OK)
            return e;
    }
    if (p->categories == 0 || (p->categories & ~TP_CAT_ALL))
        return tp_fail(msg, len, TP_ERR_INVALID, "person %s: categories: none or unknown bits",
                       p->ref);
    if (p->accesses < 1 || p->accesses > INT64_C(1000000000))
        return tp_fail(msg, len, TP_ERR_INVALID, "person %s: accesses: 1 to 10^9", p->ref);
    if (p->first_ms > p->last_ms || p->first_ms < inc->window_start_ms ||
        p->last_ms > inc->window_end_ms)
        return tp_fail(msg, len, TP_ERR_INVALID,
                       "person %s: accesses not inside the incident window", p->ref);
    if (p->accesses == 1 && p->first_ms != p->last_ms)
        return tp_fail(msg, len, TP_ERR_INVALID, "person %s: one access, two times", p->ref);
    return TP_OK;
}

void tp_incident_tally(const struct tp_exposed_person *people, size_t n_people, int amc_index,
                       struct tp_incident_tally *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n_people; i++) {
        const struct tp_exposed_person *p = &people[i];
        if (p->amc != amc_index)
            continue;
        if (out->people == 0 || p->first_ms < out->first_ms)
            out->first_ms = p->first_ms;
        if (out->people == 0 || p->last_ms > out->last_ms)
            out->last_ms = p->last_ms;
        out->people++;
        out->records += p->accesses;
        out->categories |= p->categories;
        for (int b = 0; b < TP_CAT_COUNT; b++)
            if (p->categories & (1u << b))
                out->people_by_category[b]++;
    }
}

enum tp_err tp_incident_assessment_check(const struct tp_incident *inc,
                                         const struct tp_incident_amc *amcs, int n_amc,
                                         const struct tp_exposed_person *people, size_t n_people,
                                         char *msg, size_t len)
{
    enum tp_err e = tp_incident_check(inc, msg, len);
    if (e != TP_OK)
        return e;
    if (!amcs || n_amc < 1)
        return tp_fail(msg, len, TP_ERR_INVALID, "no AMC: nothing to notify");
    if (n_amc > TP_INCIDENT_AMC_MAX)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "more than %d AMCs", TP_INCIDENT_AMC_MAX);
    if (!people || n_people == 0)
        return tp_fail(msg, len, TP_ERR_INVALID, "no exposed person: nothing to notify");
    if (n_people > TP_INCIDENT_PEOPLE_MAX)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "more than %d exposed people in one run",
                       TP_INCIDENT_PEOPLE_MAX);
    for (int a = 0; a < n_amc; a++) {
        if ((e = tp_incident_amc_check(&amcs[a], msg, len)) != TP_OK)
            return e;
        for (int b = 0; b < a; b++)
            if (strcmp(amcs[a].number, amcs[b].number) == 0)
                return tp_fail(msg, len, TP_ERR_INVALID, "AMC %s listed twice", amcs[a].number);
    }
    for (size_t i = 0; i < n_people; i++)
        if ((e = tp_exposed_person_check(inc, &people[i], n_amc, msg, len)) != TP_OK)
            return e;
    /* One pass for the per-AMC sums (n_amc is small, people may be millions). */
    int64_t sums[2 * TP_INCIDENT_AMC_MAX];
    memset(sums, 0, sizeof sums[0] * 2 * (size_t)n_amc);
    for (size_t i = 0; i < n_people; i++) {
        sums[2 * people[i].amc]++;
        sums[2 * people[i].amc + 1] += people[i].accesses;
    }
    for (int a = 0; a < n_amc; a++) {
        if (sums[2 * a] != amcs[a].people)
            return tp_fail(msg, len, TP_ERR_INVALID, "AMC %s: %lld people announced, %lld listed",
                           amcs[a].number, (long long)amcs[a].people, (long long)sums[2 * a]);
        if (sums[2 * a + 1] != amcs[a].records)
            return tp_fail(msg, len, TP_ERR_INVALID,
                           "AMC %s: %lld records announced, the persons' accesses sum to %lld",
                           amcs[a].number, (long long)amcs[a].records, (long long)sums[2 * a + 1]);
    }
    return TP_OK;
}

/* ---- categories ---------------------------------------------------------------------- */

static const char *const cat_names[TP_CAT_COUNT] = {
    "identity", "birth_date", "nir", "member", "amc_contract", "coverage", "engagement",
};

const char *tp_data_category_name(uint32_t bit)
{
    for (int b = 0; b < TP_CAT_COUNT; b++)
        if (bit == (1u << b))
            return cat_names[b];
    return NULL;
}

enum tp_err tp_data_categories_parse(const char *fields, uint32_t *out)
{
    *out = 0;
    if (!fields)
        return TP_ERR_INVALID;
    const char *s = fields;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        uint32_t bit = 0;
        for (int b = 0; b < TP_CAT_COUNT && !bit; b++)
            if (strlen(cat_names[b]) == n && memcmp(cat_names[b], s, n) == 0)
                bit = 1u << b;
        if (!bit && n == 13 && memcmp(s, "rights_status", 13) == 0)
            bit = TP_CAT_AMC_CONTRACT;
        if (!bit)
            return TP_ERR_INVALID;
        *out |= bit;
        if (!end)
            break;
        s = end + 1;
        if (!*s)
            return TP_ERR_INVALID; /* trailing comma */
    }
    return TP_OK;
}

/* ---- dates ---------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* 0 = Sunday. 1970-01-01 was a Thursday. */
static int weekday(tp_day d)
{
    return (int)(((int64_t)d % 7 + 7 + 4) % 7);
}

static tp_day last_sunday(int y, int m, int last_dom)
{
    tp_day d = tp_date_from_ymd(y, m, last_dom);
    return d - weekday(d);
}

/* Offset of Paris from UTC in minutes at `ms`: 60 (CET), or 120 (CEST) from the last Sunday
 * of March 01:00 UTC to the last Sunday of October 01:00 UTC (EU directive 2000/84/EC). */
static int paris_offset_min(int64_t ms)
{
    tp_day day = (tp_day)floor_div(ms, MS_PER_DAY);
    int y, m, d;
    tp_date_to_ymd(day, &y, &m, &d);
    int64_t start = (int64_t)last_sunday(y, 3, 31) * MS_PER_DAY + 3600000;
    int64_t end = (int64_t)last_sunday(y, 10, 31) * MS_PER_DAY + 3600000;
    return (ms >= start && ms < end) ? 120 : 60;
}

struct civil {
    int y, mo, d, h, mi, s;
};

static struct civil civil_of(int64_t ms)
{
    struct civil c;
    tp_day day = (tp_day)floor_div(ms, MS_PER_DAY);
    int64_t rem = ms - (int64_t)day * MS_PER_DAY;
    tp_date_to_ymd(day, &c.y, &c.mo, &c.d);
    c.h = (int)(rem / 3600000);
    c.mi = (int)(rem / 60000 % 60);
    c.s = (int)(rem / 1000 % 60);
    return c;
}

void tp_notice_iso_utc(int64_t ms, char buf[21])
{
    struct civil c = civil_of(ms);
    snprintf(buf, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)c.y % 10000u,
             (unsigned)c.mo % 100u, (unsigned)c.d % 100u, (unsigned)c.h % 100u,
             (unsigned)c.mi % 100u, (unsigned)c.s % 100u);
}

static const char *const months_fr[12] = {
    "janvier", "février", "mars",      "avril",   "mai",      "juin",
    "juillet", "août",    "septembre", "octobre", "novembre", "décembre",
};

static void fr_date(int64_t ms, char buf[40], bool with_time)
{
    struct civil c = civil_of(ms + (int64_t)paris_offset_min(ms) * 60000);
    char day[8];
    if (c.d == 1)
        snprintf(day, sizeof day, "1er");
    else
        snprintf(day, sizeof day, "%u", (unsigned)c.d % 100u);
    if (with_time)
        snprintf(buf, 40, "%s %s %04d à %d h %02d", day, months_fr[(c.mo - 1) % 12], c.y % 10000,
                 c.h % 100, c.mi % 100);
    else
        snprintf(buf, 40, "%s %s %04u", day, months_fr[(unsigned)(c.mo - 1) % 12u],
                 (unsigned)c.y % 10000u);
}

void tp_notice_fr_datetime(int64_t ms, char buf[40])
{
    fr_date(ms, buf, true);
}

/* ---- output buffer -------------------------------------------------------------------- */

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        o->p[o->len] = '\0';
        return;
    }
    o->len += (size_t)n;
}

static enum tp_err finish(struct out *o, size_t *out_len)
{
    if (o->full) {
        o->p[0] = '\0';
        if (out_len)
            *out_len = 0;
        return TP_ERR_TOO_BIG;
    }
    if (out_len)
        *out_len = o->len;
    return TP_OK;
}

static enum tp_err out_init(struct out *o, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return TP_ERR_INVALID;
    o->p = buf;
    o->cap = cap;
    o->len = 0;
    o->full = false;
    buf[0] = '\0';
    return TP_OK;
}

/* ---- art. 34 notice ------------------------------------------------------------------- */

/* What the person reads for each category: plain words, in the order of the bits. */
static const char *const cat_fr[TP_CAT_COUNT] = {
    "vos nom et prénom",
    "votre date de naissance",
    "votre numéro de sécurité sociale (NIR)",
    "votre numéro d'adhérent",
    "le nom de votre complémentaire santé et votre contrat",
    "vos garanties : ce que votre contrat prend en charge en tiers payant",
    ("une prise en charge (accord de paiement) établie à votre nom auprès d'un professionnel "
     "de santé"),
};

static void put_contact_block(struct out *o, const struct tp_incident *inc,
                              const struct tp_incident_amc *amc)
{
    put(o, "%s — délégué à la protection des données\n%s\n%s\n%s\n", amc->name, amc->dpo_name,
        amc->dpo_email, amc->dpo_address);
    put(o, "Plateforme de tiers payant %s : %s, %s", inc->platform, inc->contact_name,
        inc->contact_email);
    if (inc->contact_phone[0])
        put(o, ", %s", inc->contact_phone);
    put(o, "\n\n");
}

static void put_measures(struct out *o, const struct tp_incident *inc)
{
    for (int i = 0; i < inc->n_measures; i++)
        put(o, "- %s\n", inc->measures[i]);
}

enum tp_err tp_notice_art34(const struct tp_incident *inc, const struct tp_incident_amc *amc,
                            const struct tp_exposed_person *p, char *out, size_t cap,
                            size_t *out_len)
{
    struct out o;
    if (out_len)
        *out_len = 0;
    if (out_init(&o, out, cap) != TP_OK)
        return TP_ERR_INVALID;
    if (!inc || !amc || !p || p->categories == 0 || (p->categories & ~TP_CAT_ALL) ||
        p->accesses < 1)
        return TP_ERR_INVALID;

    char when[40], first[40], last[40], start[40], end[40], detected[40];
    fr_date(inc->report_ms, when, false);
    fr_date(p->first_ms, first, true);
    fr_date(p->last_ms, last, true);
    fr_date(inc->window_start_ms, start, true);
    fr_date(inc->window_end_ms, end, true);
    fr_date(inc->detected_ms, detected, true);
    uint32_t cats = p->categories;

    /* Heading, then the contact block (paragraphs 1 and 2, see notice.h). */
    put(&o, "Information sur une violation de vos données personnelles\n\n");
    put_contact_block(&o, inc, amc);

    /* Recipient. */
    bool named = p->last_name[0] != '\0';
    if (named || p->address[0][0]) {
        if (named) {
            const char *parts[3] = {p->title, p->first_name, p->last_name};
            const char *sep = "";
            for (int i = 0; i < 3; i++)
                if (parts[i][0]) {
                    put(&o, "%s%s", sep, parts[i]);
                    sep = " ";
                }
            put(&o, "\n");
        }
        for (int i = 0; i < TP_ADDRESS_LINES; i++)
            if (p->address[i][0])
                put(&o, "%s\n", p->address[i]);
        put(&o, "\n");
    }
    put(&o,
        "Le %s\n\nObjet : violation de vos données personnelles\nRéférence à rappeler : "
        "%s / %s\n\n",
        when, inc->id, p->ref);

    if (strcmp(p->title, "Madame") == 0 || strcmp(p->title, "Monsieur") == 0)
        put(&o, "%s,\n\n", p->title);
    else
        put(&o, "Madame, Monsieur,\n\n");

    put(&o,
        "Des données personnelles vous concernant ont été consultées sans autorisation. "
        "Cela s'est passé sur la plateforme de tiers payant %s. %s l'utilise pour que votre "
        "pharmacien, votre opticien ou un autre professionnel de santé vérifie vos droits.\n\n",
        inc->platform, amc->name);
    put(&o, "Ce qui s'est passé\n%s\n", inc->description);
    put(&o,
        "Nous avons examiné le journal des accès du %s au %s (heure de Paris). "
        "L'incident a été détecté le %s.\n\n",
        start, end, detected);

    /* Exactly what was seen: one line per disclosed category, nothing else. */
    put(&o, "Les données vous concernant qui ont été vues\n");
    for (int b = 0; b < TP_CAT_COUNT; b++)
        if (cats & (1u << b))
            put(&o, "- %s\n", cat_fr[b]);
    if (p->accesses == 1)
        put(&o, "Ces données ont été consultées une fois, le %s.\n\n", first);
    else
        put(&o,
            "Ces données ont été consultées %lld fois, la première fois le %s, la dernière fois "
            "le %s.\n\n",
            (long long)p->accesses, first, last);

    put(&o, "Ce qui n'a pas été vu\n");
    if ((cats & TP_CAT_ALL) != TP_CAT_ALL) {
        put(&o, "Ces données vous concernant n'ont pas été consultées :\n");
        for (int b = 0; b < TP_CAT_COUNT; b++)
            if (!(cats & (1u << b)))
                put(&o, "- %s\n", cat_fr[b]);
    }
    put(&o, "La plateforme ne détient ni vos coordonnées bancaires, ni votre adresse, ni votre "
            "numéro de téléphone, ni votre adresse e-mail, ni vos remboursements ou données "
            "médicales : ils n'ont donc pas pu être vus.\n\n");

    /* What to watch for, adapted to what was seen. */
    put(&o, "Ce à quoi vous devez faire attention\n");
    put(&o,
        "- Quelqu'un peut vous appeler, vous envoyer un SMS ou un e-mail en se faisant "
        "passer pour %s, pour l'Assurance maladie (Ameli) ou pour un professionnel de santé. "
        "Il peut citer ces informations pour paraître sérieux.\n",
        amc->name);
    put(&o,
        "- %s, l'Assurance maladie et %s ne vous demanderont jamais un mot de passe, un "
        "code reçu par SMS ou vos coordonnées bancaires. Ne les donnez à personne.\n",
        amc->name, inc->platform);
    put(&o, "- Méfiez-vous d'un message qui annonce un remboursement (« 48,50 € à percevoir ») "
            "ou demande de payer des frais (« 1,49 € pour votre nouvelle carte ») : c'est une "
            "escroquerie courante. Ne cliquez pas sur le lien.\n");
    put(&o, "- En cas de doute, raccrochez. Rappelez vous-même le numéro inscrit sur votre carte "
            "de tiers payant ou sur ameli.fr.\n");
    if (cats & (TP_CAT_NIR | TP_CAT_BIRTH_DATE | TP_CAT_IDENTITY)) {
        put(&o,
            "- Usurpation d'identité : avec %s, un fraudeur peut essayer de se faire passer "
            "pour vous auprès d'organismes.",
            (cats & TP_CAT_NIR) ? "votre numéro de sécurité sociale" : "ces informations");
        if (cats & TP_CAT_NIR)
            put(&o, " Changez le mot de passe des comptes dont l'identifiant est ce numéro "
                    "(ameli.fr, FranceConnect).");
        put(&o, "\n");
    }
    put(&o, "- Vérifiez votre compte Ameli (ameli.fr) : remboursements que vous n'avez pas "
            "demandés, coordonnées bancaires ou adresse modifiées.\n");
    put(&o, "- Si vous êtes victime : gardez les preuves (messages, numéros, captures d'écran). "
            "Prévenez votre banque. Signalez les SMS frauduleux au 33700 et les escroqueries "
            "sur cybermalveillance.gouv.fr. Vous pouvez porter plainte, et être aidé "
            "gratuitement par France Victimes au 116 006.\n\n");

    put(&o, "Ce qui a été fait\n");
    put_measures(&o, inc);
    put(&o, "\n");

    put(&o, "Qui contacter\n");
    put(&o,
        "Le délégué à la protection des données de %s répond à vos questions : %s, %s, "
        "%s. Rappelez la référence %s / %s.\n",
        amc->name, amc->dpo_name, amc->dpo_email, amc->dpo_address, inc->id, p->ref);
    put(&o, "Vous avez aussi le droit d'adresser une réclamation à la CNIL : www.cnil.fr, "
            "ou CNIL, 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07.\n\n");
    put(&o,
        "Nous vous prions de nous excuser pour cet incident. Votre carte de tiers payant "
        "reste valable.\n\n%s\n",
        amc->name);
    return finish(&o, out_len);
}

/* ---- art. 33 draft -------------------------------------------------------------------- */

static const char *const cat_fr33[TP_CAT_COUNT] = {
    "état civil (nom, prénom)",
    "date de naissance",
    "numéro d'inscription au répertoire (NIR)",
    "numéro d'adhérent",
    "organisme complémentaire et contrat",
    "garanties ouvertes en tiers payant",
    "engagements de prise en charge",
};

enum tp_err tp_notice_art33(const struct tp_incident *inc, const struct tp_incident_amc *amc,
                            const struct tp_incident_tally *t, char *out, size_t cap,
                            size_t *out_len)
{
    struct out o;
    if (out_len)
        *out_len = 0;
    if (out_init(&o, out, cap) != TP_OK)
        return TP_ERR_INVALID;
    if (!inc || !amc || !t || t->people < 1 || t->categories == 0)
        return TP_ERR_INVALID;

    char start[40], end[40], detected[40], deadline[40], report[40], first[40], last[40];
    char iso_det[21], iso_dead[21];
    int64_t deadline_ms = inc->detected_ms + MS_72H;
    fr_date(inc->window_start_ms, start, true);
    fr_date(inc->window_end_ms, end, true);
    fr_date(inc->detected_ms, detected, true);
    fr_date(deadline_ms, deadline, true);
    fr_date(inc->report_ms, report, true);
    fr_date(t->first_ms, first, true);
    fr_date(t->last_ms, last, true);
    tp_notice_iso_utc(inc->detected_ms, iso_det);
    tp_notice_iso_utc(deadline_ms, iso_dead);

    put(&o, "PROJET de notification de violation de données personnelles à la CNIL "
            "(RGPD, article 33)\n\n");
    put_contact_block(&o, inc, amc);
    put(&o, "Responsable du traitement : %s (AMC n° %s)\n", amc->name, amc->number);
    put(&o, "Sous-traitant (plateforme de tiers payant) : %s\n", inc->platform);
    put(&o, "Référence de l'incident : %s\nProjet établi le %s (heure de Paris)\n\n", inc->id,
        report);

    put(&o, "1. Chronologie\n");
    put(&o, "- Période examinée : du %s au %s\n", start, end);
    put(&o, "- Accès constatés aux données des membres de %s : du %s au %s\n", amc->name, first,
        last);
    put(&o, "- Prise de connaissance de la violation : %s (%s)\n", detected, iso_det);
    put(&o,
        "- Échéance de notification, 72 heures après la prise de connaissance (art. 33.1) : "
        "%s (%s)\n",
        deadline, iso_dead);
    if (inc->report_ms > deadline_ms) {
        put(&o, "- Le délai de 72 heures est dépassé : la notification doit être accompagnée "
                "des motifs du retard (art. 33.1).\n\n");
    } else {
        int64_t left_min = (deadline_ms - inc->report_ms) / 60000;
        put(&o, "- Temps restant à l'établissement de ce projet : %lld h %02lld min\n\n",
            (long long)(left_min / 60), (long long)(left_min % 60));
    }

    put(&o, "2. Nature de la violation\n");
    put(&o,
        "Violation de la confidentialité : consultation non autorisée de données de "
        "bénéficiaires au moyen de la plateforme de tiers payant.\n%s\n",
        inc->description);
    put(&o, "Origine identifiée :\n");
    if (inc->account[0])
        put(&o, "- compte utilisé : %s\n", inc->account);
    if (inc->ps[0])
        put(&o, "- professionnel de santé : %s\n", inc->ps);
    if (inc->token[0])
        put(&o, "- jeton d'accès : %s\n", inc->token);
    if (inc->network[0])
        put(&o, "- réseau d'origine : %s\n", inc->network);
    put(&o, "\n");

    put(&o, "3. Personnes et enregistrements concernés\n");
    put(&o,
        "- Catégorie de personnes : bénéficiaires de contrats de complémentaire santé de %s "
        "(adhérents et ayants droit).\n",
        amc->name);
    put(&o,
        "- Nombre de personnes concernées : %lld (nombre exact, établi personne par "
        "personne à partir du journal des accès, et non une estimation).\n",
        (long long)t->people);
    put(&o,
        "- Nombre d'enregistrements concernés : %lld consultations enregistrées au journal "
        "des accès.\n\n",
        (long long)t->records);

    put(&o, "4. Catégories de données concernées (nombre de personnes)\n");
    for (int b = 0; b < TP_CAT_COUNT; b++)
        if (t->categories & (1u << b))
            put(&o, "- %s : %lld\n", cat_fr33[b], (long long)t->people_by_category[b]);
    if (t->categories & (TP_CAT_COVERAGE | TP_CAT_ENGAGEMENT))
        put(&o, "Les garanties et les prises en charge peuvent révéler un recours à des soins "
                "(optique, audition, hospitalisation...) : à apprécier comme données concernant "
                "la santé (art. 9).\n");
    put(&o, "Aucune donnée bancaire, coordonnée (adresse, téléphone, e-mail) ni donnée de "
            "remboursement n'est détenue par la plateforme.\n\n");

    put(&o, "5. Conséquences probables\n");
    put(&o,
        "- Hameçonnage ciblé (appels, SMS, e-mails) se réclamant de %s ou de l'Assurance "
        "maladie, rendu crédible par les données consultées, pour obtenir des codes ou des "
        "coordonnées bancaires.\n",
        amc->name);
    if (t->categories & TP_CAT_NIR)
        put(&o, "- Usurpation d'identité et fraude aux prestations à l'aide du NIR, en "
                "particulier combiné au nom et à la date de naissance.\n");
    if (t->categories & (TP_CAT_COVERAGE | TP_CAT_ENGAGEMENT))
        put(&o, "- Divulgation d'informations sur la couverture santé ou les soins des "
                "personnes.\n");
    bool high = (t->categories & (TP_CAT_NIR | TP_CAT_ENGAGEMENT)) ||
                ((t->categories & TP_CAT_IDENTITY) && (t->categories & TP_CAT_BIRTH_DATE));
    put(&o, "Appréciation du risque pour les personnes : %s\n\n",
        high ? "élevé ; les personnes sont informées individuellement (art. 34)."
             : "à apprécier par le responsable du traitement ; l'information individuelle "
               "des personnes (art. 34) est préparée.");

    put(&o, "6. Mesures prises\n");
    put_measures(&o, inc);
    put(&o, "\nMesures proposées\n");
    for (int i = 0; i < inc->n_proposed; i++)
        put(&o, "- %s\n", inc->proposed[i]);
    put(&o,
        "- Information individuelle des %lld personnes concernées (art. 34) : une notice "
        "nominative par personne, jointe (texte et PDF).\n",
        (long long)t->people);
    put(&o, "- Liste des personnes concernées remise à %s (fichier CSV, sans NIR ni nom).\n\n",
        amc->name);

    put(&o, "7. Contacts\n");
    put(&o, "- Délégué à la protection des données de %s : %s, %s, %s\n", amc->name, amc->dpo_name,
        amc->dpo_email, amc->dpo_address);
    put(&o, "- Plateforme %s : %s, %s", inc->platform, inc->contact_name, inc->contact_email);
    if (inc->contact_phone[0])
        put(&o, ", %s", inc->contact_phone);
    put(&o, "\n");
    return finish(&o, out_len);
}

/* ---- CSV -------------------------------------------------------------------------------- */

enum tp_err tp_notice_csv_header(char *out, size_t cap, size_t *out_len)
{
    struct out o;
    if (out_init(&o, out, cap) != TP_OK)
        return TP_ERR_INVALID;
    put(&o, "amc,member,rank,beneficiary_ref,categories,accesses,first_access_utc,"
            "last_access_utc\r\n");
    return finish(&o, out_len);
}

enum tp_err tp_notice_csv_row(const struct tp_incident_amc *amc, const struct tp_exposed_person *p,
                              char *out, size_t cap, size_t *out_len)
{
    struct out o;
    if (out_len)
        *out_len = 0;
    if (out_init(&o, out, cap) != TP_OK)
        return TP_ERR_INVALID;
    if (!amc || !p || p->categories == 0 || (p->categories & ~TP_CAT_ALL))
        return TP_ERR_INVALID;
    /* Every value is digits, hex, [A-Za-z0-9] or a fixed name (checked): nothing to quote. */
    char first[21], last[21];
    tp_notice_iso_utc(p->first_ms, first);
    tp_notice_iso_utc(p->last_ms, last);
    put(&o, "%s,%s,", amc->number, p->member);
    if (p->rank > 0)
        put(&o, "%d", p->rank);
    put(&o, ",%s,", p->ref);
    const char *sep = "";
    for (int b = 0; b < TP_CAT_COUNT; b++)
        if (p->categories & (1u << b)) {
            put(&o, "%s%s", sep, cat_names[b]);
            sep = ";";
        }
    put(&o, ",%lld,%s,%s\r\n", (long long)p->accesses, first, last);
    return finish(&o, out_len);
}
