/* Vocabulary of the domain: care domains, professions, beneficiary qualities.
 *
 * Names are the stable wire and storage spellings; lookups are exact (upper-case). */
#ifndef TP_CORE_DOMAIN_H
#define TP_CORE_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

/* Care domains for which tiers payant can be opened. Stored as a bit mask (1u << d). */
enum tp_domain {
    TP_DOM_PHARMACIE = 0,
    TP_DOM_OPTIQUE,
    TP_DOM_AUDIO,
    TP_DOM_DENTAIRE,
    TP_DOM_HOSPITALISATION,
    TP_DOM_CONSULTATION,
    TP_DOM_LABORATOIRE,
    TP_DOM_RADIOLOGIE,
    TP_DOM_AUXILIAIRE, /* nurses, physiotherapists */
    TP_DOM_TRANSPORT,
    TP_DOM_COUNT
};
#define TP_DOM_ALL ((1u << TP_DOM_COUNT) - 1u)

/* Professions of PS. */
enum tp_profession {
    TP_PROF_PHARMACIE = 0,
    TP_PROF_OPTICIEN,
    TP_PROF_AUDIOPROTHESISTE,
    TP_PROF_DENTISTE,
    TP_PROF_HOPITAL,
    TP_PROF_LABORATOIRE,
    TP_PROF_MEDECIN,
    TP_PROF_RADIOLOGUE,
    TP_PROF_INFIRMIER,
    TP_PROF_KINE,
    TP_PROF_TRANSPORTEUR,
    TP_PROF_COUNT
};

/* Quality of a beneficiary within a family (the "qualité" on the card). */
enum tp_quality { TP_QUAL_MEMBER = 0, TP_QUAL_SPOUSE, TP_QUAL_CHILD, TP_QUAL_OTHER, TP_QUAL_COUNT };

/* Name <-> enum. *_parse returns -1 for an unknown name; *_name never returns NULL for a
 * valid value. */
const char *tp_domain_name(enum tp_domain d);
int tp_domain_parse(const char *s, size_t len);
const char *tp_profession_name(enum tp_profession p);
int tp_profession_parse(const char *s, size_t len);
const char *tp_quality_name(enum tp_quality q);
int tp_quality_parse(const char *s, size_t len);

/* Parses a '|'-separated list of domain names ("PHARMACIE|OPTIQUE") into a bit mask.
 * Returns -1 on an unknown or empty name. */
int64_t tp_domain_mask_parse(const char *s, size_t len);

/* Care domains a profession may check rights for (data minimisation: a pharmacy has no
 * business learning about a patient's optical coverage). */
uint32_t tp_profession_domains(enum tp_profession p);

/* True when this profession is identified by a FINESS (establishments) rather than RPPS. */
int tp_profession_uses_finess(enum tp_profession p);

#endif
