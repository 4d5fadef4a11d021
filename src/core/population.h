/* Deterministic synthetic population for demos, tests and benchmarks.
 *
 * Pure: everything is derived from (seed, index) with a counter-based PRNG, so the same seed
 * gives the same platform on every machine, and any record can be produced without
 * producing the ones before it (except beneficiaries, which come by family in order).
 * No I/O; the CLI writes what this produces into a store. */
#ifndef TP_CORE_POPULATION_H
#define TP_CORE_POPULATION_H

#include <stdint.h>

#include "core/model.h"

#define TP_POP_AMC_COUNT 84

/* Number of contracts AMC i offers (2..5). */
int tp_pop_contract_count(uint64_t seed, int amc_index);

/* Fills the i-th AMC (0 <= i < TP_POP_AMC_COUNT): unique valid 9-digit number, a realistic
 * mutuelle/institution/assureur name, DPO contact, valid FR IBAN and BIC. */
void tp_pop_amc(uint64_t seed, int i, struct tp_amc *out);

/* Fills contract j (0 <= j < tp_pop_contract_count) of AMC i: responsable or not, level 1-5,
 * guarantees in every domain scaled by level (e.g. OPTIQUE forfait per 24 months,
 * AUDIO per ear per 48 months, DENTAIRE % of BR, PHARMACIE 100 % TM, HOSPITALISATION FJH). */
void tp_pop_contract(uint64_t seed, int amc_index, int j, struct tp_contract *out);

/* Fills PS number i (any i >= 0): professions spread realistically (many pharmacies and
 * doctors, fewer hearing-aid centres), valid FINESS or RPPS, AM number, name, address, IBAN. */
void tp_pop_ps(uint64_t seed, int64_t i, struct tp_ps *out);

/* Iterator over beneficiaries, produced family by family: a member, maybe a spouse, 0-4
 * children (some attached to a parent's NIR, some twins with birth_rank 2). French first and
 * last names, birth dates consistent with the quality, NIRs with valid keys consistent with
 * sex, birth year, month and department. Member numbers are unique per AMC. */
struct tp_pop_iter {
    uint64_t seed;
    int64_t family;  /* index of the current family */
    int64_t emitted; /* beneficiaries produced so far */
    int pending;     /* beneficiaries of the current family still to emit */
    struct tp_beneficiary family_buf[8];
    int family_len;
};

void tp_pop_iter_init(struct tp_pop_iter *it, uint64_t seed);

/* Writes the next beneficiary into *out. Never fails; the sequence is infinite. */
void tp_pop_next(struct tp_pop_iter *it, struct tp_beneficiary *out);

/* "Today" as the population sees it: coverage periods are laid around this day, so that most
 * beneficiaries are covered on it, some have ended, and a few start later. */
tp_day tp_pop_reference_day(void);

#endif
