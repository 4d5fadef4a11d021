/* Reference data of the synthetic population (internal to population.c and its tests).
 *
 * French surnames, first names, communes, streets, banks and insurer names, as read-only
 * tables. Weights are relative frequencies (roughly births per thousand over the period for
 * names, inhabitants per ten thousand for communes): a weighted pick makes "Martin" and
 * "Paris" common and "Laporte" and "Mende" rare, as in a real member file. Every string is
 * UTF-8. Nothing here is mutable. */
#ifndef TP_CORE_POPULATION_NAMES_H
#define TP_CORE_POPULATION_NAMES_H

#include <stdint.h>

/* A weighted list: weights[i] is the relative frequency of entry i (0 = never picked), total
 * is the sum of the weights (a compile-time constant, kept consistent by construction). */
struct tp_pop_table {
    const char *const *names; /* may be NULL when the entries live in a parallel array */
    const uint16_t *weights;
    int count;
    uint32_t total;
};

/* Surnames, most frequent first. */
extern const struct tp_pop_table tp_pop_last_names;

/* First names by sex and generation: fashions change, so a woman born in 1950 is more likely
 * a Monique and a girl born in 2015 a Léa. Index with tp_pop_generation(). Unisex names
 * (Dominique) appear in both lists. */
#define TP_POP_GENERATIONS 3
extern const struct tp_pop_table tp_pop_female_names[TP_POP_GENERATIONS];
extern const struct tp_pop_table tp_pop_male_names[TP_POP_GENERATIONS];

/* 0: born before 1970, 1: 1970-1999, 2: from 2000. */
int tp_pop_generation(int birth_year);

/* Communes, weighted by population. insee is the 5-character INSEE code, which is also the
 * department + commune part of the NIR of someone born there: "2A004" for Ajaccio, and for
 * overseas departments "97411" (department "97", commune "411" starting with the third digit
 * of 974). Paris, Lyon and Marseille appear by arrondissement, as births are registered. */
struct tp_pop_place {
    const char *insee;
    const char *postcode;
    const char *city;
};
extern const struct tp_pop_place tp_pop_places[];
extern const struct tp_pop_table tp_pop_place_table; /* weights of tp_pop_places */

/* Countries of birth abroad: NIR department "99" + the 3-digit INSEE country code. */
extern const struct tp_pop_table tp_pop_countries; /* names are the 3-digit codes */

/* Unweighted lists. */
extern const char *const tp_pop_streets[];
extern const int tp_pop_street_count;
extern const char *const tp_pop_pharmacy_names[]; /* "du Marché" -> "Pharmacie du Marché" */
extern const int tp_pop_pharmacy_name_count;
extern const char *const tp_pop_optician_names[];
extern const int tp_pop_optician_name_count;
extern const char *const tp_pop_audio_names[];
extern const int tp_pop_audio_name_count;
extern const char *const tp_pop_clinic_names[];
extern const int tp_pop_clinic_name_count;

/* French banks: 5-digit bank code (code banque of the RIB) and the bank's BIC. */
struct tp_pop_bank {
    const char *code;
    const char *bic;
};
extern const struct tp_pop_bank tp_pop_banks[];
extern const int tp_pop_bank_count;

/* Fictitious insurers. More names than TP_POP_AMC_COUNT so that the seed can choose. */
enum tp_pop_amc_kind { TP_POP_MUTUELLE = 0, TP_POP_INSTITUTION, TP_POP_ASSUREUR };
struct tp_pop_amc_name {
    enum tp_pop_amc_kind kind;
    const char *name;
};
extern const struct tp_pop_amc_name tp_pop_amc_names[];
extern const int tp_pop_amc_name_count;

/* Contract names by level (1..5 -> index 0..4). */
extern const char *const tp_pop_contract_names[5];

#endif
