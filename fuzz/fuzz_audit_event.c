/* Fuzz target for the parsers of the access log's readers: the event decoder
 * (src/audit/event.h), the incident's network filter (src/incident/assess.h) and the data
 * categories of an event's field list (src/incident/notice.h).
 *
 * The first byte picks the parser; the rest is its input. Invariants (a violation aborts):
 *   0  an event the decoder accepts encodes back to exactly the same bytes (one event, one
 *      encoding), and its strings are NUL-terminated inside their arrays;
 *   1  a network the parser accepts has a prefix within the family's width, and the
 *      filter matches its own base address;
 *   2  categories parsed from a list are a subset of the known bits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "audit/event.h"
#include "incident/assess.h"
#include "incident/notice.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant violated: %s\n", #cond);                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t which = data[0] % 3;
    data++, size--;
    if (which == 0) {
        struct tp_access_event ev;
        if (tp_event_decode(data, size, &ev) == TP_OK) {
            uint8_t again[TP_EVENT_LEAF_MAX];
            size_t len = 0;
            CHECK(tp_event_encode(&ev, again, &len) == TP_OK);
            CHECK(len == size && memcmp(again, data, size) == 0);
            CHECK(memchr(ev.fields, 0, sizeof ev.fields) && memchr(ev.source, 0, sizeof ev.source));
        }
        return 0;
    }
    char text[128];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = 0;
    if (which == 1) {
        struct tp_assess_filter f;
        memset(&f, 0, sizeof f);
        if (tp_assess_network_parse(text, &f) == TP_OK) {
            CHECK(f.has_network && f.prefix >= 0 && f.prefix <= (f.v6 ? 128 : 32));
            char addr[INET6_ADDRSTRLEN]; /* 46: fits ev.source (48) */
            CHECK(inet_ntop(f.v6 ? AF_INET6 : AF_INET, f.network, addr, sizeof addr));
            struct tp_access_event ev;
            memset(&ev, 0, sizeof ev);
            memcpy(ev.source, addr, strlen(addr) + 1);
            f.to_ms = INT64_MAX;
            CHECK(tp_assess_matches(&f, &ev));
        }
        return 0;
    }
    uint32_t bits = 0;
    if (tp_data_categories_parse(text, &bits) == TP_OK)
        CHECK((bits & ~(uint32_t)TP_CAT_ALL) == 0);
    return 0;
}
