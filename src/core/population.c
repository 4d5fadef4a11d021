/* Deterministic synthetic population (see population.h).
 *
 * Every record is a pure function of (seed, kind of record, index): a splitmix64 state is
 * derived from the three, and the record draws its numbers from that state only. So AMC 17,
 * PS 123456 or family 9999999 can be produced alone, in any order, on any machine, and two
 * runs with the same seed build the same platform.
 *
 * Identifiers that must be unique (AMC numbers, member numbers, RPPS, FINESS) are not drawn
 * at random but obtained by a keyed bijection of the index (a small Feistel network over a
 * decimal domain): random-looking, yet collision-free by construction. */
#include "core/population.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/population_names.h"
#include "core/validate.h"

/* Streams: one per kind of record, so that AMC i and PS i do not share random numbers. */
enum stream {
    STREAM_AMC = 1,
    STREAM_AMC_NUMBER,
    STREAM_AMC_CONTRACTS,
    STREAM_CONTRACT,
    STREAM_PS,
    STREAM_PS_ID,
    STREAM_FAMILY,
    STREAM_MEMBER_NUMBER
};

/* ---- counter-based random numbers -------------------------------------------------------- */

#define GOLDEN 0x9E3779B97F4A7C15ull

/* The splitmix64 finaliser: a bijective 64-bit mix with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t state;
};

/* The generator of record `index` of `stream`: distinct (stream, index) pairs give unrelated
 * sequences because the pair goes through the mixer before being combined with the seed. */
static struct rng rng_at(uint64_t seed, enum stream stream, uint64_t index)
{
    struct rng r = {mix64(seed ^ mix64(index * GOLDEN + (uint64_t)stream * 0xD1B54A32D192ED03ull))};
    return r;
}

static uint64_t next64(struct rng *r)
{
    r->state += GOLDEN;
    return mix64(r->state);
}

/* Uniform in [0, n), n <= 2^32, by multiply-shift (no modulo bias worth mentioning, no
 * division). */
static uint32_t below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((next64(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability permille / 1000. */
static int chance(struct rng *r, uint32_t permille)
{
    return below(r, 1000) < permille;
}

/* Index of a weighted pick. A linear scan is enough: surnames and the big cities come first,
 * so the entries drawn most often are found after a few steps. */
static int pick(struct rng *r, const struct tp_pop_table *t)
{
    uint32_t x = below(r, t->total);
    for (int i = 0; i < t->count; i++) {
        if (x < t->weights[i])
            return i;
        x -= t->weights[i];
    }
    return t->count - 1; /* unreachable while total is the sum of the weights */
}

/* A keyed bijection of [0, half*half): a 4-round Feistel network on the two "digits" in base
 * `half`. Each round maps (l, r) to (r, l + F(r) mod half), which is invertible whatever F
 * is, so distinct inputs give distinct outputs. */
static uint64_t permute(uint64_t x, uint64_t half, uint64_t key)
{
    uint64_t l = x / half, r = x % half;
    for (uint64_t round = 0; round < 4; round++) {
        uint64_t t = (l + mix64(key ^ (r + round * GOLDEN)) % half) % half;
        l = r;
        r = t;
    }
    return l * half + r;
}

/* ---- small text helpers (no snprintf on the hot path) ------------------------------------ */

/* Writes v as exactly n decimal digits (zero-padded, high digits dropped). */
static void put_digits(char *dst, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Bounded copy that always terminates: names in the tables all fit, this only guarantees it. */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* "de Lyon", "d'Angers", "du Havre", "des Abymes": French elision before a city name. */
static void of_city(char *dst, size_t size, const char *city)
{
    const unsigned char c = (unsigned char)city[0];
    if (strncmp(city, "Le ", 3) == 0)
        snprintf(dst, size, "du %s", city + 3);
    else if (strncmp(city, "Les ", 4) == 0)
        snprintf(dst, size, "des %s", city + 4);
    else if (strchr("AEIOUY", c) != NULL || c == 0xC3) /* 0xC3: É, Î... in UTF-8 */
        snprintf(dst, size, "d'%s", city);
    else
        snprintf(dst, size, "de %s", city);
}

/* Lower-case ASCII slug of a UTF-8 name for e-mail domains: accents dropped, words joined by
 * '-', short French link words skipped ("Mutuelle des Gens de Mer" -> "mutuelle-gens-mer"). */
static void slugify(char *dst, size_t size, const char *src)
{
    /* ASCII letter for each code point U+00C0..U+00FF ('/' for the two signs). */
    static const char accents[65] = "aaaaaaaceeeeiiiidnooooo/ouuuuyts"
                                    "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
    static const char *const skip[] = {"de", "des", "du", "la", "le", "les", "et", "l", "d", "a"};
    char word[64];
    size_t n = 0, w = 0;
    assert(size > 0);
    for (const unsigned char *p = (const unsigned char *)src;; p++) {
        char c = 0;
        if (*p >= 'A' && *p <= 'Z')
            c = (char)(*p - 'A' + 'a');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            c = (char)*p;
        else if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF)
            c = accents[*++p - 0x80];
        if (c != 0 && c != '/') {
            if (w + 1 < sizeof word)
                word[w++] = c;
            continue;
        }
        /* End of a word: keep it unless it is a link word or there is no room. */
        int keep = w > 0;
        for (size_t i = 0; keep && i < sizeof skip / sizeof skip[0]; i++)
            keep = !(strlen(skip[i]) == w && memcmp(word, skip[i], w) == 0);
        if (keep && n + (n > 0) + w < size) {
            if (n > 0)
                dst[n++] = '-';
            memcpy(dst + n, word, w);
            n += w;
        }
        w = 0;
        if (*p == '\0')
            break;
    }
    dst[n] = '\0';
}

/* ---- bank accounts ------------------------------------------------------------------------ */

/* Value of an RIB character: digits as themselves, letters by the RIB table (A,J -> 1;
 * B,K,S -> 2; ... I,R,Z -> 9), which skips 0 for the second and third runs. */
static unsigned rib_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'A' && c <= 'I')
        return (unsigned)(c - 'A' + 1);
    if (c >= 'J' && c <= 'R')
        return (unsigned)(c - 'J' + 1);
    return (unsigned)(c - 'S' + 2); /* S..Z -> 2..9 */
}

static uint64_t rib_number(const char *s, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + rib_value(s[i]);
    return v;
}

/* A French IBAN: FR kk + BBAN of bank (5) + branch (5) + account (11) + RIB key (2), with the
 * RIB key 97 - ((89 bank + 15 branch + 3 account) mod 97) and the IBAN check digits from
 * ISO 13616. The BIC is the bank's. */
static void make_iban(struct rng *r, char iban[35], char bic[12])
{
    const struct tp_pop_bank *bank = &tp_pop_banks[below(r, (uint32_t)tp_pop_bank_count)];
    char bban[24];
    memcpy(bban, bank->code, 5);
    put_digits(bban + 5, below(r, 100000), 5);
    put_digits(bban + 10, next64(r) % 100000000000ull, 11);
    if (chance(r, 100)) /* some banks (La Banque Postale) put a letter in the account number */
        bban[17] = (char)('A' + below(r, 26));
    uint64_t sum =
        89 * rib_number(bban, 5) + 15 * rib_number(bban + 5, 5) + 3 * rib_number(bban + 10, 11);
    put_digits(bban + 21, 97 - sum % 97, 2);
    bban[23] = '\0';

    char check[3] = {0};
    enum tp_err rc = tp_iban_make("FR", bban, 23, check, sizeof check);
    assert(rc == TP_OK);
    (void)rc;
    iban[0] = 'F';
    iban[1] = 'R';
    iban[2] = check[0];
    iban[3] = check[1];
    memcpy(iban + 4, bban, 24); /* includes the NUL */
    copy_text(bic, 12, bank->bic);
}

/* "12 rue Pasteur, 69003 Lyon" in a place drawn by population weight. */
static const struct tp_pop_place *make_address(struct rng *r, char *dst, size_t size)
{
    const struct tp_pop_place *pl = &tp_pop_places[pick(r, &tp_pop_place_table)];
    unsigned number = 1 + below(r, 120);
    const char *street = tp_pop_streets[below(r, (uint32_t)tp_pop_street_count)];
    snprintf(dst, size, "%u %s, %s %s", number, street, pl->postcode, pl->city);
    return pl;
}

static const char *first_name(struct rng *r, int female, int birth_year)
{
    const struct tp_pop_table *t = female ? &tp_pop_female_names[tp_pop_generation(birth_year)]
                                          : &tp_pop_male_names[tp_pop_generation(birth_year)];
    return t->names[pick(r, t)];
}

static const char *last_name(struct rng *r)
{
    return tp_pop_last_names.names[pick(r, &tp_pop_last_names)];
}

/* ---- AMCs and contracts -------------------------------------------------------------------- */

/* The seed chooses which of the fictitious names are in use; i -> (i + offset) mod count is
 * injective because there are more names than AMCs. */
static const struct tp_pop_amc_name *amc_name(uint64_t seed, int i)
{
    uint64_t offset = mix64(seed ^ 0x414D434E414D4553ull) % (uint64_t)tp_pop_amc_name_count;
    return &tp_pop_amc_names[((uint64_t)i + offset) % (uint64_t)tp_pop_amc_name_count];
}

/* 9 digits: a leading digit by kind, as AMC numbers derived from registration numbers tend to
 * share prefixes by legal form, then 8 digits from a bijection of i (unique across AMCs). */
static void amc_number(uint64_t seed, int i, char out[10])
{
    static const char lead[] = {'7', '3', '4'}; /* mutuelle, institution, assureur */
    out[0] = lead[amc_name(seed, i)->kind];
    put_digits(out + 1, permute((uint64_t)i, 10000, mix64(seed ^ STREAM_AMC_NUMBER)), 8);
    out[9] = '\0';
}

int tp_pop_contract_count(uint64_t seed, int amc_index)
{
    struct rng r = rng_at(seed, STREAM_AMC_CONTRACTS, (uint64_t)amc_index);
    return 2 + (int)below(&r, 4);
}

void tp_pop_amc(uint64_t seed, int i, struct tp_amc *out)
{
    assert(i >= 0 && i < TP_POP_AMC_COUNT);
    struct rng r = rng_at(seed, STREAM_AMC, (uint64_t)i);
    const struct tp_pop_amc_name *nm = amc_name(seed, i);
    char slug[64];

    memset(out, 0, sizeof *out);
    amc_number(seed, i, out->number);
    copy_text(out->name, sizeof out->name, nm->name);
    /* Some insurers run a separate convention for optical and audio networks. */
    copy_text(out->convention, sizeof out->convention,
              chance(&r, 150) ? "TP_OPTIQUE_AUDIO" : "TP_STANDARD");
    copy_text(out->routing, sizeof out->routing, "AMC");

    int female = chance(&r, 550);
    int year = 1960 + (int)below(&r, 35);
    const char *first = first_name(&r, female, year);
    const char *last = last_name(&r);
    snprintf(out->dpo_name, sizeof out->dpo_name, "%s %s %s", female ? "Mme" : "M.", first, last);
    slugify(slug, sizeof slug, nm->name);
    snprintf(out->dpo_email, sizeof out->dpo_email, "dpo@%s.fr", slug);
    char addr[TP_TEXT_MAX - 20];
    make_address(&r, addr, sizeof addr);
    snprintf(out->dpo_address, sizeof out->dpo_address, "DPO, %s", addr);
    make_iban(&r, out->iban, out->bic);
}

/* A guarantee as a function of the contract level: values grow linearly from level 1 to
 * level 5. Rules are data (STYLE.md §8); the amounts follow the market and the contrat
 * responsable limits (CSS R871-2) recalled in PRODUCT.md §4. */
struct guarantee_rule {
    enum tp_domain domain;
    const char *act;
    enum tp_guarantee_kind kind;
    int includes_amo;
    int64_t lo, hi;       /* rate_bp (PCT_BR) or amount_cents (FORFAIT, FRAIS_REELS) */
    int32_t period;       /* months, 0 = per act / per day */
    int min_level;        /* the act family is only offered from this level */
    int responsable_only; /* 100 % Santé baskets, required of responsable contracts */
    int64_t resp_cap;     /* ceiling imposed on responsable contracts (0 = none) */
};

static const struct guarantee_rule guarantee_rules[] = {
    /* Medicines: the whole TM (CSS R871-2); 100 % of BR including the AMO part. */
    {TP_DOM_PHARMACIE, "*", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
    /* Frame: limited to 100 EUR in responsable contracts (CSS R871-2), one per 2 years. */
    {TP_DOM_OPTIQUE, "MONTURE", TP_GUAR_FORFAIT, 0, 3000, 10000, 24, 1, 0, 10000},
    /* Two lenses: from the 50 EUR minimum to the 420 EUR of simple lenses and beyond. */
    {TP_DOM_OPTIQUE, "VERRES", TP_GUAR_FORFAIT, 0, 5000, 42000, 24, 1, 0, 0},
    {TP_DOM_OPTIQUE, "LENTILLES", TP_GUAR_FORFAIT, 0, 0, 20000, 12, 3, 0, 0},
    /* 100 % Santé class A: full coverage up to the price caps. */
    {TP_DOM_OPTIQUE, "100_SANTE", TP_GUAR_FRAIS_REELS, 1, 0, 0, 24, 1, 1, 0},
    /* Class II hearing aid: at most 1,700 EUR per ear incl. AMO and TM, one per 4 years. */
    {TP_DOM_AUDIO, "AIDE_AUDITIVE", TP_GUAR_FORFAIT, 0, 40000, 170000, 48, 1, 0, 170000},
    {TP_DOM_AUDIO, "100_SANTE", TP_GUAR_FRAIS_REELS, 1, 0, 0, 48, 1, 1, 0},
    {TP_DOM_DENTAIRE, "SOINS", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
    {TP_DOM_DENTAIRE, "PROTHESE", TP_GUAR_PCT_BR, 1, 12500, 40000, 0, 1, 0, 0},
    {TP_DOM_DENTAIRE, "ORTHODONTIE", TP_GUAR_PCT_BR, 1, 10000, 30000, 0, 1, 0, 0},
    {TP_DOM_DENTAIRE, "IMPLANT", TP_GUAR_FORFAIT, 0, 0, 60000, 12, 3, 0, 0},
    {TP_DOM_DENTAIRE, "100_SANTE", TP_GUAR_FRAIS_REELS, 1, 0, 0, 0, 1, 1, 0},
    /* Forfait journalier in full and without time limit (CSS R871-2). */
    {TP_DOM_HOSPITALISATION, "FJH", TP_GUAR_FRAIS_REELS, 0, 0, 0, 0, 1, 0, 0},
    {TP_DOM_HOSPITALISATION, "SEJOUR", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
    {TP_DOM_HOSPITALISATION, "HONORAIRES", TP_GUAR_PCT_BR, 1, 10000, 30000, 0, 1, 0, 0},
    /* Private room, per day. */
    {TP_DOM_HOSPITALISATION, "CHAMBRE", TP_GUAR_FORFAIT, 0, 0, 8000, 0, 2, 0, 0},
    /* Doctors: the TM at level 1, up to 300 % of BR incl. AMO for OPTAM extra fees. */
    {TP_DOM_CONSULTATION, "*", TP_GUAR_PCT_BR, 1, 10000, 30000, 0, 1, 0, 0},
    {TP_DOM_LABORATOIRE, "*", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
    {TP_DOM_RADIOLOGIE, "*", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
    {TP_DOM_AUXILIAIRE, "*", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
    {TP_DOM_TRANSPORT, "*", TP_GUAR_PCT_BR, 1, 10000, 10000, 0, 1, 0, 0},
};

/* Level interpolation with a per-contract jitter of about +-10 % for forfaits (insurers do
 * not all price alike), rounded to 5 EUR; rates rounded to 5 points. Clamped to the rule's
 * range and to the responsable cap. */
static int64_t rule_value(const struct guarantee_rule *g, int level, struct rng *r)
{
    int64_t v = g->lo + (g->hi - g->lo) * (level - 1) / 4;
    if (g->kind == TP_GUAR_FORFAIT) {
        v = v * (90 + (int64_t)below(r, 21)) / 100;
        v = (v + 250) / 500 * 500;
    } else if (g->kind == TP_GUAR_PCT_BR) {
        v = (v + 250) / 500 * 500;
    }
    if (v < g->lo)
        v = g->lo;
    if (v > g->hi)
        v = g->hi;
    return v;
}

void tp_pop_contract(uint64_t seed, int amc_index, int j, struct tp_contract *out)
{
    assert(amc_index >= 0 && amc_index < TP_POP_AMC_COUNT);
    int n = tp_pop_contract_count(seed, amc_index);
    assert(j >= 0 && j < n);
    struct rng ra = rng_at(seed, STREAM_AMC_CONTRACTS, (uint64_t)amc_index);
    (void)next64(&ra); /* the draw used by tp_pop_contract_count */
    /* An AMC's range covers consecutive levels, starting low enough to fit n contracts. */
    int first_level = 1 + (int)below(&ra, (uint32_t)(5 - n + 1));
    struct rng r = rng_at(seed, STREAM_CONTRACT, (uint64_t)amc_index * 8 + (uint64_t)j);

    memset(out, 0, sizeof *out);
    amc_number(seed, amc_index, out->amc);
    out->code[0] = 'C';
    put_digits(out->code + 1, (uint64_t)j + 1, 2);
    out->level = first_level + j;
    out->responsable = chance(&r, 850);
    snprintf(out->name, sizeof out->name, "%s%s", tp_pop_contract_names[out->level - 1],
             out->responsable ? "" : " (non responsable)");
    out->valid_from = tp_date_from_ymd(2025, 1, 1);

    for (size_t k = 0; k < sizeof guarantee_rules / sizeof guarantee_rules[0]; k++) {
        const struct guarantee_rule *g = &guarantee_rules[k];
        if (out->level < g->min_level || (g->responsable_only && !out->responsable))
            continue;
        int64_t v = rule_value(g, out->level, &r);
        if (out->responsable && g->resp_cap > 0 && v > g->resp_cap)
            v = g->resp_cap;
        if (g->kind == TP_GUAR_FORFAIT && v == 0)
            continue; /* nothing to pay: the act family is simply not covered */
        assert(out->n_guarantees < TP_GUARANTEES_MAX);
        struct tp_guarantee *gu = &out->guarantees[out->n_guarantees++];
        gu->domain = g->domain;
        copy_text(gu->act, sizeof gu->act, g->act);
        gu->kind = g->kind;
        gu->includes_amo = g->includes_amo;
        gu->period_months = g->period;
        if (g->kind == TP_GUAR_PCT_BR)
            gu->rate_bp = (int32_t)v;
        else
            gu->amount_cents = v;
    }
}

/* ---- PS -------------------------------------------------------------------------------- */

/* Share of each profession among PS doing tiers payant, per mille: pharmacies and doctors
 * dominate the volume, hearing-aid centres and hospitals are few. */
static const struct {
    enum tp_profession prof;
    uint16_t permille;
    char am_category; /* category digit of the AM number */
} professions[] = {
    {TP_PROF_MEDECIN, 300, '1'},
    {TP_PROF_PHARMACIE, 250, '2'},
    {TP_PROF_DENTISTE, 100, '1'},
    {TP_PROF_INFIRMIER, 90, '6'},
    {TP_PROF_KINE, 60, '7'},
    {TP_PROF_OPTICIEN, 60, '4'},
    {TP_PROF_LABORATOIRE, 40, '9'},
    {TP_PROF_RADIOLOGUE, 30, '1'},
    {TP_PROF_AUDIOPROTHESISTE, 30, '4'},
    {TP_PROF_HOPITAL, 20, '0'},
    {TP_PROF_TRANSPORTEUR, 20, '5'},
};

/* Numeric department for AM numbers: Corsica is "20", overseas "97". */
static void am_department(const char *insee, char out[2])
{
    out[0] = insee[0];
    out[1] = (insee[1] == 'A' || insee[1] == 'B') ? '0' : insee[1];
}

void tp_pop_ps(uint64_t seed, int64_t i, struct tp_ps *out)
{
    assert(i >= 0);
    struct rng r = rng_at(seed, STREAM_PS, (uint64_t)i);
    uint64_t id_key = mix64(seed ^ STREAM_PS_ID);
    memset(out, 0, sizeof *out);

    uint32_t x = below(&r, 1000);
    size_t p = 0;
    while (p + 1 < sizeof professions / sizeof professions[0] && x >= professions[p].permille)
        x -= professions[p++].permille;
    out->profession = professions[p].prof;

    const struct tp_pop_place *pl = make_address(&r, out->address, sizeof out->address);

    if (tp_profession_uses_finess(out->profession)) {
        /* Department of the establishment, then 6 digits from a bijection of i (unique for
         * i < 1,000,000), then the Luhn key, computed with 2A/2B read as 20. */
        char digits[9];
        out->finess[0] = pl->insee[0];
        out->finess[1] = pl->insee[1];
        put_digits(out->finess + 2, permute((uint64_t)i % 1000000, 1000, id_key), 6);
        memcpy(digits, out->finess, 8);
        am_department(pl->insee, digits);
        out->finess[8] = tp_luhn_digit(digits, 8);
        out->finess[9] = '\0';
    } else {
        /* "10" + 8 digits from a bijection of i (unique for i < 100,000,000) + Luhn key. */
        out->rpps[0] = '1';
        out->rpps[1] = '0';
        put_digits(out->rpps + 2, permute((uint64_t)i % 100000000, 10000, id_key), 8);
        out->rpps[10] = tp_luhn_digit(out->rpps, 10);
        out->rpps[11] = '\0';
    }

    /* AM number: department, category, 5-digit sequence, Luhn key. */
    am_department(pl->insee, out->am_number);
    out->am_number[2] = professions[p].am_category;
    put_digits(out->am_number + 3, below(&r, 100000), 5);
    out->am_number[8] = tp_luhn_digit(out->am_number, 8);
    out->am_number[9] = '\0';

    int female = chance(&r, 500);
    const char *first = first_name(&r, female, 1950 + (int)below(&r, 48));
    const char *last = last_name(&r);
    char of[80];
    of_city(of, sizeof of, pl->city);
    uint32_t style = below(&r, 10);
    switch (out->profession) {
    case TP_PROF_PHARMACIE:
        if (style < 7)
            snprintf(out->name, sizeof out->name, "Pharmacie %s",
                     tp_pop_pharmacy_names[below(&r, (uint32_t)tp_pop_pharmacy_name_count)]);
        else if (style < 9)
            snprintf(out->name, sizeof out->name, "Pharmacie %s", last);
        else
            snprintf(out->name, sizeof out->name, "Grande Pharmacie %s", of);
        break;
    case TP_PROF_OPTICIEN:
        snprintf(out->name, sizeof out->name, "Optique %s",
                 style < 7 ? tp_pop_optician_names[below(&r, (uint32_t)tp_pop_optician_name_count)]
                           : last);
        break;
    case TP_PROF_AUDIOPROTHESISTE:
        if (style < 6)
            snprintf(out->name, sizeof out->name, "%s",
                     tp_pop_audio_names[below(&r, (uint32_t)tp_pop_audio_name_count)]);
        else
            snprintf(out->name, sizeof out->name, "Centre auditif %s", of);
        break;
    case TP_PROF_HOPITAL:
        if (style < 5)
            snprintf(out->name, sizeof out->name, "Centre hospitalier %s", of);
        else if (style < 8)
            snprintf(out->name, sizeof out->name, "Clinique %s",
                     tp_pop_clinic_names[below(&r, (uint32_t)tp_pop_clinic_name_count)]);
        else
            snprintf(out->name, sizeof out->name, "Hôpital privé %s", of);
        break;
    case TP_PROF_LABORATOIRE:
        if (style < 6)
            snprintf(out->name, sizeof out->name, "Laboratoire de biologie médicale %s", of);
        else
            snprintf(out->name, sizeof out->name, "Laboratoire %s", last);
        break;
    case TP_PROF_MEDECIN:
        snprintf(out->name, sizeof out->name, "Dr %s %s", first, last);
        break;
    case TP_PROF_DENTISTE:
        snprintf(out->name, sizeof out->name, "Dr %s %s, chirurgien-dentiste", first, last);
        break;
    case TP_PROF_RADIOLOGUE:
        snprintf(out->name, sizeof out->name, "Dr %s %s, radiologue", first, last);
        break;
    case TP_PROF_INFIRMIER:
        snprintf(out->name, sizeof out->name, "%s %s, %s", first, last,
                 female ? "infirmière" : "infirmier");
        break;
    case TP_PROF_KINE:
        snprintf(out->name, sizeof out->name, "%s %s, %s", first, last,
                 female ? "masseuse-kinésithérapeute" : "masseur-kinésithérapeute");
        break;
    case TP_PROF_TRANSPORTEUR:
        if (style < 7)
            snprintf(out->name, sizeof out->name, "Ambulances %s", last);
        else
            snprintf(out->name, sizeof out->name, "Taxi conventionné %s", last);
        break;
    case TP_PROF_COUNT:
        break;
    }
    make_iban(&r, out->iban, out->bic);
}

/* ---- beneficiaries ------------------------------------------------------------------------ */

tp_day tp_pop_reference_day(void)
{
    return tp_date_from_ymd(2026, 11, 23);
}

/* Member numbers are 10 digits, a bijection of the family index: unique over the first
 * 10^10 families, hence unique within each AMC. */
#define MEMBER_SPACE 10000000000ull

/* Where someone was born: the 5 characters of the NIR after sex, year and month. */
static void birth_place(struct rng *r, const char *home, uint32_t abroad_permille, char out[5])
{
    if (chance(r, abroad_permille)) {
        out[0] = '9';
        out[1] = '9';
        memcpy(out + 2, tp_pop_countries.names[pick(r, &tp_pop_countries)], 3);
    } else if (home != NULL && chance(r, 600)) {
        memcpy(out, home, 5);
    } else {
        memcpy(out, tp_pop_places[pick(r, &tp_pop_place_table)].insee, 5);
    }
}

/* Writes the 2-digit key after the 13 first characters of nir. */
static void nir_seal(char nir[16])
{
    nir[13] = '\0';
    int key = tp_nir_key(nir);
    assert(key >= 0);
    put_digits(nir + 13, (uint64_t)key, 2);
    nir[15] = '\0';
}

/* NIR: sex, year, month, place of birth, order, key (PRODUCT.md §4). Corsica was split into
 * 2A and 2B on 1 January 1976; people born there before keep department 20. */
static void make_nir(char nir[16], int female, int y, int m, const char place[5], unsigned order)
{
    nir[0] = female ? '2' : '1';
    put_digits(nir + 1, (uint64_t)y % 100, 2);
    put_digits(nir + 3, (uint64_t)m, 2);
    memcpy(nir + 5, place, 5);
    if (nir[5] == '2' && (nir[6] == 'A' || nir[6] == 'B') && y < 1976)
        nir[6] = '0';
    put_digits(nir + 10, order, 3);
    nir_seal(nir);
}

/* Everything one family shares, and the draws that decide its shape. */
struct family {
    struct rng r;
    const struct tp_beneficiary *member;
    char home[5];
    const char *family_name;
};

/* Identity of one person of the family; returns the year of birth. */
static int person(struct family *fam, struct tp_beneficiary *b, int female, tp_day birth,
                  uint32_t abroad_permille)
{
    int y, m, d;
    tp_date_to_ymd(birth, &y, &m, &d);
    char place[5];
    birth_place(&fam->r, fam->home, abroad_permille, place);
    b->id.birth_date = birth;
    b->id.birth_rank = 1;
    copy_text(b->id.first_name, sizeof b->id.first_name, first_name(&fam->r, female, y));
    make_nir(b->id.nir, female, y, m, place, 1 + below(&fam->r, 999));
    b->nir_own = 1;
    return y;
}

/* Children are born when both parents are 20..45 and, to be on the contract, are at most
 * 25 on the reference day; siblings at least ~10 months apart unless twins. */
static int make_children(struct family *fam, struct tp_beneficiary *buf, int n, tp_day ref)
{
    /* 0..4 children wished, from INSEE family sizes (many 2-child families). */
    static const uint16_t wish_permille[] = {300, 220, 280, 140, 60};
    uint32_t x = below(&fam->r, 1000);
    int wish = 0;
    while (wish < 4 && x >= wish_permille[wish])
        x -= wish_permille[wish++];

    tp_day lo = tp_date_add_months(ref, -25 * 12), hi = ref - 1;
    for (int k = 0; k < n; k++) {
        tp_day a = tp_date_add_months(buf[k].id.birth_date, 20 * 12);
        tp_day b = tp_date_add_months(buf[k].id.birth_date, 45 * 12);
        lo = a > lo ? a : lo;
        hi = b < hi ? b : hi;
    }
    if (wish == 0 || hi < lo)
        return n;

    tp_day dates[4];
    for (int k = 0; k < wish; k++) {
        tp_day v = lo + (tp_day)below(&fam->r, (uint32_t)(hi - lo + 1));
        int at = k;
        while (at > 0 && dates[at - 1] > v) {
            dates[at] = dates[at - 1];
            at--;
        }
        dates[at] = v;
    }

    int born = 0;
    tp_day last = 0;
    for (int k = 0; k < wish && born < 4; k++) {
        if (born > 0 && dates[k] - last < 300)
            continue;
        last = dates[k];
        /* About 1.7 % of births in France are twins. */
        int twins = (born + 2 <= 4) && chance(&fam->r, 17);
        for (int t = 0; t <= twins; t++) {
            struct tp_beneficiary *c = &buf[n];
            *c = *fam->member;
            c->rank = n + 1;
            c->quality = TP_QUAL_CHILD;
            copy_text(c->id.last_name, sizeof c->id.last_name, fam->family_name);
            int female = chance(&fam->r, 488);
            int y = person(fam, c, female, dates[k], 10);
            /* Siblings get different first names (twins above all). */
            for (int tries = 0; tries < 16; tries++) {
                int clash = 0;
                for (int s = n - born; s < n; s++)
                    clash |= strcmp(buf[s].id.first_name, c->id.first_name) == 0;
                if (!clash)
                    break;
                copy_text(c->id.first_name, sizeof c->id.first_name,
                          first_name(&fam->r, female, y));
            }
            if (t == 1) {
                /* Same birth, same registry: same month and place, consecutive order. */
                const char *first = buf[n - 1].id.nir;
                unsigned order = (unsigned)((first[10] - '0') * 100 + (first[11] - '0') * 10 +
                                            (first[12] - '0'));
                memcpy(c->id.nir, first, 10);
                c->id.nir[0] = female ? '2' : '1';
                put_digits(c->id.nir + 10, order % 999 + 1, 3);
                nir_seal(c->id.nir);
                c->id.birth_rank = 2;
            }
            n++;
            born++;
        }
    }

    /* Children under 16 are often on a parent's card under the member's NIR (ayant droit
     * rattaché); from 16 they have their own Vitale card. */
    for (int k = 0; k < n; k++) {
        if (buf[k].quality != TP_QUAL_CHILD || tp_date_age(buf[k].id.birth_date, ref) >= 16)
            continue;
        if (chance(&fam->r, 700)) {
            memcpy(buf[k].id.nir, fam->member->id.nir, sizeof buf[k].id.nir);
            buf[k].nir_own = 0;
        }
    }
    return n;
}

/* AMC of family f: a skewed draw (u^2 puts ~11 % of families in the largest AMC and under
 * 1 % in the smallest), then a seed-dependent relabelling so that the largest AMC is not
 * always index 0. 29 is coprime with 84, so the relabelling is a permutation. */
static int family_amc(struct rng *r, uint64_t seed)
{
    uint64_t u = next64(r) >> 32;
    uint64_t rankv = (((u * u) >> 32) * TP_POP_AMC_COUNT) >> 32;
    return (int)((rankv * 29 + mix64(seed ^ 0x534B4557ull) % TP_POP_AMC_COUNT) % TP_POP_AMC_COUNT);
}

static void build_family(struct tp_pop_iter *it)
{
    struct tp_beneficiary *buf = it->family_buf;
    struct family fam;
    tp_day ref = tp_pop_reference_day();
    uint64_t f = (uint64_t)it->family;

    fam.r = rng_at(it->seed, STREAM_FAMILY, f);
    fam.member = &buf[0];
    memset(&buf[0], 0, sizeof buf[0]);

    /* What the whole family shares: AMC, member number, contract, coverage, domains. */
    int amc = family_amc(&fam.r, it->seed);
    amc_number(it->seed, amc, buf[0].amc);
    put_digits(buf[0].member,
               permute(f % MEMBER_SPACE, 100000, mix64(it->seed ^ STREAM_MEMBER_NUMBER)), 10);
    int contract = (int)below(&fam.r, (uint32_t)tp_pop_contract_count(it->seed, amc));
    buf[0].contract[0] = 'C';
    put_digits(buf[0].contract + 1, (uint64_t)contract + 1, 2);

    uint32_t c = below(&fam.r, 1000);
    if (c < 50) { /* left the insurer at the end of 2025 */
        buf[0].coverage_start = tp_date_from_ymd(2025, 1, 1);
        buf[0].coverage_end = tp_date_from_ymd(2025, 12, 31);
    } else if (c < 70) { /* joins next year */
        buf[0].coverage_start = tp_date_from_ymd(2027, 1, 1);
        buf[0].coverage_end = tp_date_from_ymd(2027, 12, 31);
    } else {
        buf[0].coverage_start = tp_date_from_ymd(c < 770 ? 2025 : 2026, 1, 1);
        buf[0].coverage_end = tp_date_from_ymd(2027, 12, 31);
    }
    uint32_t dm = below(&fam.r, 100);
    buf[0].tp_domains = TP_DOM_ALL;
    if (dm < 4) /* the AMC does not use the platform for audio for these */
        buf[0].tp_domains &= ~(1u << TP_DOM_AUDIO);
    else if (dm < 7)
        buf[0].tp_domains &= ~((1u << TP_DOM_AUDIO) | (1u << TP_DOM_OPTIQUE));

    /* The member. Adults born 1940..2004. */
    struct tp_beneficiary *m = &buf[0];
    tp_day adult_lo = tp_date_from_ymd(1940, 1, 1), adult_hi = tp_date_from_ymd(2004, 12, 31);
    const struct tp_pop_place *home = &tp_pop_places[pick(&fam.r, &tp_pop_place_table)];
    memcpy(fam.home, home->insee, 5);
    fam.family_name = last_name(&fam.r);
    m->rank = 1;
    m->quality = TP_QUAL_MEMBER;
    copy_text(m->id.last_name, sizeof m->id.last_name, fam.family_name);
    int m_female = chance(&fam.r, 500);
    person(&fam, m, m_female, adult_lo + (tp_day)below(&fam.r, (uint32_t)(adult_hi - adult_lo + 1)),
           70);
    int n = 1;

    /* A spouse for 45 % of members: usually of the other sex, a few years apart, and most
     * often using the same family name. */
    if (chance(&fam.r, 450)) {
        struct tp_beneficiary *s = &buf[n];
        *s = *m;
        s->rank = ++n;
        s->quality = TP_QUAL_SPOUSE;
        int s_female = chance(&fam.r, 950) ? !m_female : m_female;
        tp_day birth = m->id.birth_date + (tp_day)below(&fam.r, 8 * 365) - (tp_day)(4 * 365) +
                       (m_female ? 365 : -365);
        birth = birth < adult_lo ? adult_lo : birth > adult_hi ? adult_hi : birth;
        if (!chance(&fam.r, 700))
            copy_text(s->id.last_name, sizeof s->id.last_name, last_name(&fam.r));
        person(&fam, s, s_female, birth, 70);
    }

    n = make_children(&fam, buf, n, ref);
    /* Card data tells apart the people of one family born on the same day by their birth
     * rank (rang de naissance): twins, but also a spouse born on the member's birthday. */
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++)
            if (buf[j].id.birth_date == buf[i].id.birth_date &&
                buf[j].id.birth_rank == buf[i].id.birth_rank) {
                buf[i].id.birth_rank++;
                j = -1; /* check the new rank against everyone again */
            }
    it->family_len = n;
    it->pending = n;
}

void tp_pop_iter_init(struct tp_pop_iter *it, uint64_t seed)
{
    memset(it, 0, sizeof *it);
    it->seed = seed;
}

void tp_pop_next(struct tp_pop_iter *it, struct tp_beneficiary *out)
{
    if (it->pending == 0) {
        if (it->family_len > 0)
            it->family++; /* the previous family is fully emitted */
        build_family(it);
    }
    *out = it->family_buf[it->family_len - it->pending];
    it->pending--;
    it->emitted++;
}
