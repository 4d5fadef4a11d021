#include "core/domain.h"

#include <string.h>

static const char *const domain_names[TP_DOM_COUNT] = {
    "PHARMACIE",    "OPTIQUE",     "AUDIO",      "DENTAIRE",   "HOSPITALISATION",
    "CONSULTATION", "LABORATOIRE", "RADIOLOGIE", "AUXILIAIRE", "TRANSPORT",
};

static const char *const profession_names[TP_PROF_COUNT] = {
    "PHARMACIE", "OPTICIEN",   "AUDIOPROTHESISTE", "DENTISTE", "HOPITAL",      "LABORATOIRE",
    "MEDECIN",   "RADIOLOGUE", "INFIRMIER",        "KINE",     "TRANSPORTEUR",
};

static const char *const quality_names[TP_QUAL_COUNT] = {"MEMBER", "SPOUSE", "CHILD", "OTHER"};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

const char *tp_domain_name(enum tp_domain d)
{
    return (unsigned)d < TP_DOM_COUNT ? domain_names[d] : "UNKNOWN";
}

int tp_domain_parse(const char *s, size_t len)
{
    return lookup(domain_names, TP_DOM_COUNT, s, len);
}

const char *tp_profession_name(enum tp_profession p)
{
    return (unsigned)p < TP_PROF_COUNT ? profession_names[p] : "UNKNOWN";
}

int tp_profession_parse(const char *s, size_t len)
{
    return lookup(profession_names, TP_PROF_COUNT, s, len);
}

const char *tp_quality_name(enum tp_quality q)
{
    return (unsigned)q < TP_QUAL_COUNT ? quality_names[q] : "UNKNOWN";
}

int tp_quality_parse(const char *s, size_t len)
{
    return lookup(quality_names, TP_QUAL_COUNT, s, len);
}

int64_t tp_domain_mask_parse(const char *s, size_t len)
{
    int64_t mask = 0;
    size_t start = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '|') {
            int d = tp_domain_parse(s + start, i - start);
            if (d < 0)
                return -1;
            mask |= (int64_t)1 << d;
            start = i + 1;
        }
    }
    return mask;
}

uint32_t tp_profession_domains(enum tp_profession p)
{
#define B(d) (1u << (d))
    switch (p) {
    case TP_PROF_PHARMACIE:
        return B(TP_DOM_PHARMACIE);
    case TP_PROF_OPTICIEN:
        return B(TP_DOM_OPTIQUE);
    case TP_PROF_AUDIOPROTHESISTE:
        return B(TP_DOM_AUDIO);
    case TP_PROF_DENTISTE:
        return B(TP_DOM_DENTAIRE);
    case TP_PROF_HOPITAL:
        return B(TP_DOM_HOSPITALISATION) | B(TP_DOM_CONSULTATION) | B(TP_DOM_LABORATOIRE) |
               B(TP_DOM_RADIOLOGIE) | B(TP_DOM_PHARMACIE) | B(TP_DOM_DENTAIRE);
    case TP_PROF_LABORATOIRE:
        return B(TP_DOM_LABORATOIRE);
    case TP_PROF_MEDECIN:
        return B(TP_DOM_CONSULTATION);
    case TP_PROF_RADIOLOGUE:
        return B(TP_DOM_RADIOLOGIE);
    case TP_PROF_INFIRMIER:
    case TP_PROF_KINE:
        return B(TP_DOM_AUXILIAIRE);
    case TP_PROF_TRANSPORTEUR:
        return B(TP_DOM_TRANSPORT);
    case TP_PROF_COUNT:
        break;
    }
    return 0;
#undef B
}

int tp_profession_uses_finess(enum tp_profession p)
{
    return p == TP_PROF_PHARMACIE || p == TP_PROF_HOPITAL || p == TP_PROF_LABORATOIRE ||
           p == TP_PROF_OPTICIEN || p == TP_PROF_AUDIOPROTHESISTE;
}
