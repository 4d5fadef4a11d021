#include "core/identity.h"

#include <string.h>

static const char *const role_names[TP_ROLE_COUNT] = {"ps",       "member",   "insurer",
                                                      "operator", "security", "dpo"};

const char *tp_role_name(enum tp_role r)
{
    return (unsigned)r < TP_ROLE_COUNT ? role_names[r] : "unknown";
}

int tp_role_parse(const char *s, size_t len)
{
    for (int i = 0; i < TP_ROLE_COUNT; i++)
        if (strlen(role_names[i]) == len && memcmp(role_names[i], s, len) == 0)
            return i;
    return -1;
}

int tp_role_requires_totp(enum tp_role r)
{
    return r != TP_ROLE_MEMBER;
}
