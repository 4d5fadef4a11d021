/* Synthetic population: determinism, validity of every identifier, uniqueness where the
 * platform relies on it, coherence of families, and realistic proportions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/population.h"
#include "core/population_names.h"
#include "core/validate.h"

#define SEED 20240201u
#define N_BENEF 200000
#define N_PS 10000

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t digits_value(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(s[i] >= '0' && s[i] <= '9');
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

static int in_table(const struct tp_pop_table *t, const char *name)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->names[i], name) == 0)
            return 1;
    return 0;
}

/* Valid UTF-8 and not cut by a buffer: catches truncation in the middle of "é". */
static void assert_text(const char *s, size_t cap)
{
    size_t n = strlen(s);
    assert_true(n > 0);
    assert_true(n < cap - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            continue;
        assert_true(c >= 0xC2 && c <= 0xDF); /* only 2-byte sequences are used */
        assert_true(i + 1 < n && ((unsigned char)s[i + 1] & 0xC0) == 0x80);
        i++;
    }
}

static void reference_day_is_2026_11_23(void **state)
{
    (void)state;
    assert_int_equal(tp_pop_reference_day(), tp_date_from_ymd(2026, 11, 23));
}

static void tables_are_consistent(void **state)
{
    (void)state;
    const struct tp_pop_table *tables[] = {
        &tp_pop_last_names,      &tp_pop_female_names[0], &tp_pop_female_names[1],
        &tp_pop_female_names[2], &tp_pop_male_names[0],   &tp_pop_male_names[1],
        &tp_pop_male_names[2],   &tp_pop_place_table,     &tp_pop_countries,
    };
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++) {
        uint32_t sum = 0;
        for (int i = 0; i < tables[k]->count; i++)
            sum += tables[k]->weights[i];
        assert_int_equal(sum, tables[k]->total);
        assert_true(sum > 0);
    }
    assert_true(tp_pop_last_names.count >= 150);
    assert_true(tp_pop_female_names[0].count >= 100);
    assert_true(tp_pop_male_names[0].count >= 100);
    assert_true(tp_pop_amc_name_count >= TP_POP_AMC_COUNT);
    for (int i = 0; i < tp_pop_place_table.count; i++) {
        const char *c = tp_pop_places[i].insee;
        assert_int_equal(strlen(c), 5);
        /* Overseas communes carry the third digit of the department (971..976). */
        if (c[0] == '9' && c[1] == '7')
            assert_true(c[2] >= '1' && c[2] <= '6');
    }
}

static void check_amcs(uint64_t seed)
{
    const char *numbers[TP_POP_AMC_COUNT];
    const char *names[TP_POP_AMC_COUNT];
    static struct tp_amc all[TP_POP_AMC_COUNT];
    for (int i = 0; i < TP_POP_AMC_COUNT; i++) {
        tp_pop_amc(seed, i, &all[i]);
        const struct tp_amc *amc = &all[i];
        assert_int_equal(tp_amc_check(amc->number, strlen(amc->number), NULL, 0), TP_OK);
        assert_int_equal(tp_iban_check(amc->iban, strlen(amc->iban), NULL, 0), TP_OK);
        assert_int_equal(tp_bic_check(amc->bic, strlen(amc->bic), NULL, 0), TP_OK);
        assert_memory_equal(amc->iban, "FR", 2);
        assert_true(strcmp(amc->convention, "TP_STANDARD") == 0 ||
                    strcmp(amc->convention, "TP_OPTIQUE_AUDIO") == 0);
        assert_string_equal(amc->routing, "AMC");
        assert_text(amc->name, sizeof amc->name);
        assert_text(amc->dpo_name, sizeof amc->dpo_name);
        assert_text(amc->dpo_address, sizeof amc->dpo_address);
        assert_non_null(strchr(amc->dpo_email, '@'));
        for (const char *p = amc->dpo_email; *p; p++)
            assert_true((unsigned char)*p < 0x80 && *p != ' ');
        numbers[i] = all[i].number;
        names[i] = all[i].name;
    }
    qsort(numbers, TP_POP_AMC_COUNT, sizeof numbers[0], cmp_str);
    qsort(names, TP_POP_AMC_COUNT, sizeof names[0], cmp_str);
    for (int i = 1; i < TP_POP_AMC_COUNT; i++) {
        assert_string_not_equal(numbers[i - 1], numbers[i]);
        assert_string_not_equal(names[i - 1], names[i]);
    }
}

static void amcs_are_valid_and_unique(void **state)
{
    (void)state;
    const uint64_t seeds[] = {SEED, 0, 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++)
        check_amcs(seeds[k]);
}

static void check_contracts(uint64_t seed)
{
    static struct tp_contract c;
    int total = 0, responsable = 0;
    for (int a = 0; a < TP_POP_AMC_COUNT; a++) {
        struct tp_amc amc;
        tp_pop_amc(seed, a, &amc);
        int n = tp_pop_contract_count(seed, a);
        assert_in_range(n, 2, 5);
        int prev_level = 0;
        for (int j = 0; j < n; j++) {
            tp_pop_contract(seed, a, j, &c);
            total++;
            responsable += c.responsable;
            assert_string_equal(c.amc, amc.number);
            assert_int_equal(strlen(c.code), 3);
            assert_int_equal(c.code[0], 'C');
            assert_int_equal(atoi(c.code + 1), j + 1);
            assert_in_range(c.level, 1, 5);
            assert_true(c.level > prev_level);
            prev_level = c.level;
            assert_int_equal(c.valid_from, tp_date_from_ymd(2025, 1, 1));
            assert_text(c.name, sizeof c.name);
            assert_in_range(c.n_guarantees, TP_DOM_COUNT, TP_GUARANTEES_MAX);
            uint32_t seen = 0;
            for (int g = 0; g < c.n_guarantees; g++) {
                const struct tp_guarantee *gu = &c.guarantees[g];
                assert_in_range(gu->domain, 0, TP_DOM_COUNT - 1);
                seen |= 1u << gu->domain;
                assert_true(gu->act[0] != '\0');
                if (gu->kind == TP_GUAR_PCT_BR)
                    assert_in_range(gu->rate_bp, 10000, 40000);
                if (gu->kind == TP_GUAR_FORFAIT)
                    assert_true(gu->amount_cents > 0);
                if (strcmp(gu->act, "MONTURE") == 0) {
                    assert_int_equal(gu->kind, TP_GUAR_FORFAIT);
                    assert_int_equal(gu->period_months, 24);
                    assert_in_range(gu->amount_cents, 3000, 10000);
                    if (c.responsable) /* CSS R871-2: frame <= 100 EUR */
                        assert_true(gu->amount_cents <= 10000);
                }
                if (strcmp(gu->act, "VERRES") == 0)
                    assert_in_range(gu->amount_cents, 5000, 42000);
                if (strcmp(gu->act, "AIDE_AUDITIVE") == 0) {
                    assert_int_equal(gu->period_months, 48);
                    assert_in_range(gu->amount_cents, 40000, 170000);
                }
                if (strcmp(gu->act, "CHAMBRE") == 0)
                    assert_in_range(gu->amount_cents, 1, 8000);
                if (gu->domain == TP_DOM_CONSULTATION)
                    assert_int_equal(gu->rate_bp, 10000 + (c.level - 1) * 5000);
            }
            assert_int_equal(seen, TP_DOM_ALL);
        }
    }
    /* About 85 % of contracts are responsable. */
    assert_in_range(responsable * 100 / total, 70, 97);
}

static void contracts_cover_every_domain(void **state)
{
    (void)state;
    const uint64_t seeds[] = {SEED, 0, 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++)
        check_contracts(seeds[k]);
}

static void ps_are_valid_and_spread(void **state)
{
    (void)state;
    static uint64_t rpps[N_PS], finess[N_PS];
    int n_rpps = 0, n_finess = 0;
    int count[TP_PROF_COUNT] = {0};
    struct tp_ps ps;
    for (int64_t i = 0; i < N_PS; i++) {
        tp_pop_ps(SEED, i, &ps);
        assert_in_range(ps.profession, 0, TP_PROF_COUNT - 1);
        count[ps.profession]++;
        if (tp_profession_uses_finess(ps.profession)) {
            assert_string_equal(ps.rpps, "");
            assert_int_equal(tp_finess_check(ps.finess, strlen(ps.finess), NULL, 0), TP_OK);
            finess[n_finess++] = digits_value(ps.finess + 2, 7);
        } else {
            assert_string_equal(ps.finess, "");
            assert_int_equal(tp_rpps_check(ps.rpps, strlen(ps.rpps), NULL, 0), TP_OK);
            rpps[n_rpps++] = digits_value(ps.rpps, 11);
        }
        assert_int_equal(strlen(ps.am_number), 9);
        digits_value(ps.am_number, 9);
        assert_int_equal(tp_iban_check(ps.iban, strlen(ps.iban), NULL, 0), TP_OK);
        assert_int_equal(tp_bic_check(ps.bic, strlen(ps.bic), NULL, 0), TP_OK);
        assert_text(ps.name, sizeof ps.name);
        assert_text(ps.address, sizeof ps.address);
        if (ps.profession == TP_PROF_PHARMACIE)
            assert_non_null(strstr(ps.name, "Pharmacie"));
    }
    /* Unique identifiers (FINESS digits after the department are unique on their own). */
    qsort(rpps, (size_t)n_rpps, sizeof rpps[0], cmp_u64);
    qsort(finess, (size_t)n_finess, sizeof finess[0], cmp_u64);
    for (int i = 1; i < n_rpps; i++)
        assert_true(rpps[i - 1] != rpps[i]);
    for (int i = 1; i < n_finess; i++)
        assert_true(finess[i - 1] != finess[i]);
    assert_in_range(count[TP_PROF_PHARMACIE], N_PS * 20 / 100, N_PS * 30 / 100);
    assert_in_range(count[TP_PROF_MEDECIN], N_PS * 25 / 100, N_PS * 35 / 100);
    for (int p = 0; p < TP_PROF_COUNT; p++)
        assert_true(count[p] > 0);
    assert_true(count[TP_PROF_AUDIOPROTHESISTE] < count[TP_PROF_OPTICIEN]);

    /* Any index works, and the same index gives the same PS. */
    struct tp_ps again;
    tp_pop_ps(SEED, 123456789, &ps);
    tp_pop_ps(SEED, 123456789, &again);
    assert_memory_equal(&ps, &again, sizeof ps);
}

static void same_seed_same_population(void **state)
{
    (void)state;
    struct tp_pop_iter a, b, c;
    struct tp_beneficiary x, y, z;
    int differ = 0;
    tp_pop_iter_init(&a, SEED);
    tp_pop_iter_init(&b, SEED);
    tp_pop_iter_init(&c, SEED + 1);
    for (int i = 0; i < 20000; i++) {
        tp_pop_next(&a, &x);
        tp_pop_next(&b, &y);
        tp_pop_next(&c, &z);
        assert_memory_equal(&x, &y, sizeof x);
        differ += strcmp(x.id.nir, z.id.nir) != 0;
    }
    assert_true(differ > 19000);

    struct tp_amc am1, am2;
    tp_pop_amc(SEED, 5, &am1);
    tp_pop_amc(SEED, 5, &am2);
    assert_memory_equal(&am1, &am2, sizeof am1);
    tp_pop_amc(SEED + 1, 5, &am2);
    assert_true(strcmp(am1.iban, am2.iban) != 0);

    static struct tp_contract k1, k2;
    tp_pop_contract(SEED, 7, 1, &k1);
    tp_pop_contract(SEED, 7, 1, &k2);
    assert_memory_equal(&k1, &k2, sizeof k1);
}

struct member_key {
    uint64_t amc;
    uint64_t member;
};

static int cmp_member(const void *pa, const void *pb)
{
    const struct member_key *a = pa, *b = pb;
    if (a->amc != b->amc)
        return (a->amc > b->amc) - (a->amc < b->amc);
    return (a->member > b->member) - (a->member < b->member);
}

/* Checks one complete family: shared fields, ranks, NIRs, dates, twins, attachment. */
static void check_family(const struct tp_beneficiary *fam, int n, int *twins, int *attached)
{
    const tp_day ref = tp_pop_reference_day();
    const struct tp_beneficiary *m = &fam[0];
    assert_in_range(n, 1, 6);
    assert_int_equal(m->quality, TP_QUAL_MEMBER);
    assert_int_equal(m->nir_own, 1);
    int children = 0;
    for (int k = 0; k < n; k++) {
        const struct tp_beneficiary *b = &fam[k];
        assert_int_equal(b->rank, k + 1); /* ranks 1..n, contiguous */
        assert_string_equal(b->amc, m->amc);
        assert_string_equal(b->member, m->member);
        assert_string_equal(b->contract, m->contract);
        assert_int_equal(b->coverage_start, m->coverage_start);
        assert_int_equal(b->coverage_end, m->coverage_end);
        assert_int_equal(b->tp_domains, m->tp_domains);
        assert_int_equal(tp_member_check(b->member, strlen(b->member), NULL, 0), TP_OK);
        assert_int_equal(tp_nir_check(b->id.nir, strlen(b->id.nir), NULL, 0), TP_OK);
        assert_text(b->id.first_name, sizeof b->id.first_name);
        assert_text(b->id.last_name, sizeof b->id.last_name);
        assert_true(b->coverage_start <= b->coverage_end);
        assert_true(b->id.birth_date < ref);

        int y, mo, d;
        tp_date_to_ymd(b->id.birth_date, &y, &mo, &d);
        if (b->quality == TP_QUAL_CHILD) {
            children++;
            assert_true(k >= 1);
            /* Born when every parent on the contract was 20..45. */
            for (int p = 0; p < n && fam[p].quality != TP_QUAL_CHILD; p++) {
                int age = tp_date_age(fam[p].id.birth_date, b->id.birth_date);
                assert_in_range(age, 20, 45);
            }
            if (b->id.birth_rank == 2) {
                (*twins)++;
                assert_int_equal(fam[k - 1].quality, TP_QUAL_CHILD);
                assert_int_equal(fam[k - 1].id.birth_rank, 1);
                assert_int_equal(fam[k - 1].id.birth_date, b->id.birth_date);
                assert_string_not_equal(fam[k - 1].id.first_name, b->id.first_name);
            } else {
                assert_int_equal(b->id.birth_rank, 1);
            }
        } else {
            assert_in_range(y, 1940, 2004);
            /* A spouse born on the member's birthday is told apart by birth rank 2. */
            assert_int_equal(b->id.birth_rank,
                             k == 1 && fam[0].id.birth_date == b->id.birth_date ? 2 : 1);
            assert_int_equal(b->quality, k == 0 ? TP_QUAL_MEMBER : TP_QUAL_SPOUSE);
            assert_true(k <= 1);
        }

        if (!b->nir_own) {
            (*attached)++;
            assert_int_equal(b->quality, TP_QUAL_CHILD);
            assert_true(tp_date_age(b->id.birth_date, ref) < 16);
            assert_string_equal(b->id.nir, m->id.nir);
            continue;
        }
        /* Own NIR: sex matches the first name, year and month match the birth date. */
        int female = b->id.nir[0] == '2';
        assert_true(b->id.nir[0] == '1' || b->id.nir[0] == '2');
        const struct tp_pop_table *t = female ? &tp_pop_female_names[tp_pop_generation(y)]
                                              : &tp_pop_male_names[tp_pop_generation(y)];
        assert_true(in_table(t, b->id.first_name));
        assert_int_equal(digits_value(b->id.nir + 1, 2), (uint64_t)(y % 100));
        assert_int_equal(digits_value(b->id.nir + 3, 2), (uint64_t)mo);
        /* Corsica: 2A/2B from 1976, 20 before. */
        if (b->id.nir[5] == '2' && (b->id.nir[6] == 'A' || b->id.nir[6] == 'B'))
            assert_true(y >= 1976);
        int key = tp_nir_key(b->id.nir);
        assert_int_equal(digits_value(b->id.nir + 13, 2), (uint64_t)key);
    }
    assert_in_range(children, 0, 4);
}

static void beneficiaries_are_coherent(void **state)
{
    (void)state;
    struct member_key *keys = calloc(N_BENEF, sizeof *keys);
    struct tp_beneficiary *fam = calloc(8, sizeof *fam);
    int *per_amc = calloc(TP_POP_AMC_COUNT, sizeof *per_amc);
    struct tp_amc amcs[TP_POP_AMC_COUNT];
    assert_non_null(keys);
    assert_non_null(fam);
    assert_non_null(per_amc);
    for (int a = 0; a < TP_POP_AMC_COUNT; a++)
        tp_pop_amc(SEED, a, &amcs[a]);

    struct tp_pop_iter it;
    struct tp_beneficiary b;
    tp_pop_iter_init(&it, SEED);
    int n = 0, families = 0, twins = 0, attached = 0, spouses = 0, children = 0;
    int covered = 0, ended = 0, future = 0, corsica_20 = 0, corsica_2ab = 0, overseas = 0;
    int abroad = 0, females = 0, own = 0, no_audio = 0;
    const tp_day ref = tp_pop_reference_day();
    for (int i = 0; i <= N_BENEF; i++) {
        if (i < N_BENEF)
            tp_pop_next(&it, &b);
        if (i == N_BENEF || (b.rank == 1 && n > 0)) {
            check_family(fam, n, &twins, &attached);
            n = 0;
        }
        if (i == N_BENEF)
            break;
        assert_true(n < 8);
        fam[n++] = b;
        assert_int_equal(it.emitted, i + 1);
        if (b.rank == 1) {
            int a;
            for (a = 0; a < TP_POP_AMC_COUNT; a++)
                if (strcmp(amcs[a].number, b.amc) == 0)
                    break;
            assert_true(a < TP_POP_AMC_COUNT);
            per_amc[a]++;
            keys[families].amc = (uint64_t)a;
            keys[families].member = digits_value(b.member, strlen(b.member));
            families++;
            assert_true(b.contract[0] == 'C' && atoi(b.contract + 1) >= 1 &&
                        atoi(b.contract + 1) <= tp_pop_contract_count(SEED, a));
            if (b.coverage_start <= ref && ref <= b.coverage_end)
                covered++;
            else if (b.coverage_end < ref)
                ended++;
            else
                future++;
            no_audio += (b.tp_domains & (1u << TP_DOM_AUDIO)) == 0;
        }
        spouses += b.quality == TP_QUAL_SPOUSE;
        children += b.quality == TP_QUAL_CHILD;
        if (b.nir_own) {
            own++;
            females += b.id.nir[0] == '2';
            corsica_20 += memcmp(b.id.nir + 5, "20", 2) == 0;
            corsica_2ab += b.id.nir[5] == '2' && (b.id.nir[6] == 'A' || b.id.nir[6] == 'B');
            overseas += memcmp(b.id.nir + 5, "97", 2) == 0;
            abroad += memcmp(b.id.nir + 5, "99", 2) == 0;
        }
    }

    /* Member numbers unique within an AMC (in fact unique overall). */
    qsort(keys, (size_t)families, sizeof keys[0], cmp_member);
    for (int i = 1; i < families; i++)
        assert_true(cmp_member(&keys[i - 1], &keys[i]) != 0);

    /* Proportions. */
    assert_in_range(spouses * 100 / families, 40, 50);
    assert_true(children > families / 2);
    assert_true(twins > 0);
    assert_true(attached > 0);
    assert_in_range(covered * 100 / families, 88, 96);
    assert_in_range(ended * 1000 / families, 35, 65);
    assert_in_range(future * 1000 / families, 10, 30);
    assert_true(no_audio > 0 && no_audio < families / 10);
    assert_true(corsica_20 > 0 && corsica_2ab > 0 && overseas > 0 && abroad > 0);
    assert_in_range(females * 100 / own, 45, 55);
    /* Every AMC has members, and sizes are skewed: the largest has several times the
     * smallest. */
    int lo = N_BENEF, hi = 0;
    for (int a = 0; a < TP_POP_AMC_COUNT; a++) {
        lo = per_amc[a] < lo ? per_amc[a] : lo;
        hi = per_amc[a] > hi ? per_amc[a] : hi;
    }
    assert_true(lo > 0);
    assert_true(hi > 5 * lo);

    free(keys);
    free(fam);
    free(per_amc);
}

/* The member number is a bijection of the family index: check a window far into the
 * sequence (families 19,999,000..20,000,000 never collide with 0..1000) cheaply by
 * generating those families directly. */
static void member_numbers_unique_far_away(void **state)
{
    (void)state;
    enum { W = 2000 };
    static uint64_t seen[2 * W];
    struct tp_pop_iter it;
    struct tp_beneficiary b;
    int n = 0;
    for (int part = 0; part < 2; part++) {
        tp_pop_iter_init(&it, SEED);
        if (part == 1)
            it.family = 19999000; /* families can be addressed directly */
        int64_t start = it.family;
        while (it.family < start + W) {
            tp_pop_next(&it, &b);
            if (b.rank == 1 && it.family < start + W)
                seen[n++] = digits_value(b.member, 10);
        }
    }
    qsort(seen, (size_t)n, sizeof seen[0], cmp_u64);
    for (int i = 1; i < n; i++)
        assert_true(seen[i - 1] != seen[i]);
}

/* Birth date and birth rank identify a beneficiary within a family (the card's data for
 * children on a parent's NIR): never two people with the same pair. */
static void birth_data_unique_within_family(void **state)
{
    (void)state;
    struct tp_pop_iter it;
    struct tp_beneficiary fam[16], b;
    int n = 0, same_day_pairs = 0;
    tp_pop_iter_init(&it, 2024);
    for (int i = 0; i < 300000; i++) {
        tp_pop_next(&it, &b);
        if (b.rank == 1)
            n = 0;
        for (int j = 0; j < n; j++) {
            assert_false(fam[j].id.birth_date == b.id.birth_date &&
                         fam[j].id.birth_rank == b.id.birth_rank);
            same_day_pairs += fam[j].id.birth_date == b.id.birth_date;
        }
        if (n < 16)
            fam[n++] = b;
    }
    assert_true(same_day_pairs > 0); /* twins exist, so the check above was exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_day_is_2026_11_23),
        cmocka_unit_test(tables_are_consistent),
        cmocka_unit_test(amcs_are_valid_and_unique),
        cmocka_unit_test(contracts_cover_every_domain),
        cmocka_unit_test(ps_are_valid_and_spread),
        cmocka_unit_test(same_seed_same_population),
        cmocka_unit_test(beneficiaries_are_coherent),
        cmocka_unit_test(member_numbers_unique_far_away),
        cmocka_unit_test(birth_data_unique_within_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
