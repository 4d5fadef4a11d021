/* Fuzz target for the CSV parser and the beneficiary row validator (src/core/csv.h).
 *
 * The input is parsed three ways: whole, byte by byte, and in chunks whose sizes come from
 * the input itself; the three must give the same records (chunk independence). Every record
 * must respect the caps. The first record is tried as a header; each following record is
 * validated (against that header, or the canonical column order), and the outcome checked:
 * an accepted row satisfies every rule independently re-checked here, a rejected one names a
 * column and a reason that is one of the fixed texts, never a value from the input. A violated
 * invariant aborts like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/validate.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A cheap digest of a record stream, to compare the three parses. */
struct trace {
    uint64_t h;
    uint64_t n;
};

static void mix(struct trace *t, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        t->h = (t->h ^ b[i]) * 1099511628211ull;
}

static void trace_record(struct trace *t, enum tp_csv_status st, const struct tp_csv_record *r)
{
    t->n++;
    mix(t, &st, sizeof st);
    mix(t, &r->line, sizeof r->line);
    if (st == TP_CSV_ERROR) {
        mix(t, r->error, strlen(r->error));
        return;
    }
    mix(t, &r->nfields, sizeof r->nfields);
    for (int i = 0; i < r->nfields; i++) {
        mix(t, &r->fields[i].len, sizeof r->fields[i].len);
        mix(t, r->fields[i].ptr, r->fields[i].len);
    }
}

static const char *const known_reasons[] = {
    "must be 1 to 20 characters, digits and capital letters",
    "must be a whole number from 1 to 99",
    "must be MEMBER, SPOUSE, CHILD or OTHER",
    "is empty",
    "is longer than 63 bytes",
    "is not valid UTF-8",
    "contains a control character",
    "must be a date YYYY-MM-DD between 1900 and 2099",
    "is in the future",
    "must be a whole number from 1 to 9",
    "must be 1 (own NIR) or 0 (attached to another's NIR)",
    "nir does not match birth date",
    "must be a contract code of 1 to 16 characters",
    "is not a contract of this AMC",
    "is before coverage_start",
    "must be care domain names separated by '|' (PHARMACIE|OPTIQUE...)",
};

static int is_known_reason(const char *reason, const struct tp_csv_field *nir)
{
    for (size_t i = 0; i < sizeof known_reasons / sizeof known_reasons[0]; i++)
        if (strcmp(reason, known_reasons[i]) == 0)
            return 1;
    int a, b;
    char tail;
    if (sscanf(reason, "expected %d fields, found %d%c", &a, &b, &tail) == 2)
        return 1;
    /* The NIR validator's own message: the same as it gives for that field. */
    char m[96] = "";
    if (nir && tp_nir_check(nir->ptr, nir->len, m, sizeof m) != TP_OK && strcmp(m, reason) == 0)
        return 1;
    return 0;
}

static const char contracts[][TP_CODE_MAX] = {"C01", "C02", "GOLD"};

static void check_row(const struct tp_csv_record *r, const struct tp_ben_header *h)
{
    static const struct tp_ben_rules rules = {.amc = "123456782",
                                              .today = 20780 /* 2026-11-23 */,
                                              .contracts = contracts,
                                              .ncontracts = 3};
    struct tp_beneficiary b;
    int bad = -7;
    char reason[160];
    enum tp_err rc =
        tp_beneficiary_from_csv(r->fields, r->nfields, h, &rules, &b, &bad, reason, sizeof reason);
    if (rc != TP_OK) {
        CHECK(rc == TP_ERR_INVALID);
        CHECK(bad >= -1 && bad < TP_COL_COUNT);
        CHECK(memchr(reason, '\0', sizeof reason) != NULL);
        const struct tp_csv_field *nir =
            r->nfields == h->nfields ? &r->fields[h->index[TP_COL_NIR]] : NULL;
        CHECK(is_known_reason(reason, nir));
        CHECK(bad != -1 || r->nfields != h->nfields);
        return;
    }
    CHECK(r->nfields == h->nfields);
    CHECK(strcmp(b.amc, "123456782") == 0);
    CHECK(tp_member_check(b.member, strlen(b.member), NULL, 0) == TP_OK);
    CHECK(b.rank >= 1 && b.rank <= 99);
    CHECK((unsigned)b.quality < TP_QUAL_COUNT);
    CHECK(strlen(b.id.last_name) >= 1 && strlen(b.id.last_name) <= 63);
    CHECK(strlen(b.id.first_name) >= 1 && strlen(b.id.first_name) <= 63);
    CHECK(b.id.birth_date >= TP_DAY_MIN && b.id.birth_date <= rules.today);
    CHECK(b.id.birth_rank >= 1 && b.id.birth_rank <= 9);
    CHECK(tp_nir_check(b.id.nir, strlen(b.id.nir), NULL, 0) == TP_OK);
    CHECK(b.nir_own == 0 || b.nir_own == 1);
    if (b.nir_own) {
        int y, m, d;
        tp_date_to_ymd(b.id.birth_date, &y, &m, &d);
        CHECK((b.id.nir[1] - '0') * 10 + (b.id.nir[2] - '0') == y % 100);
    }
    int known = 0;
    for (size_t i = 0; i < 3; i++)
        known |= strcmp(b.contract, contracts[i]) == 0;
    CHECK(known);
    CHECK(b.coverage_start <= b.coverage_end);
    CHECK(b.tp_domains != 0 && (b.tp_domains & ~TP_DOM_ALL) == 0);
    /* What was stored is what the file said. */
    const struct tp_csv_field *mf = &r->fields[h->index[TP_COL_MEMBER_NUMBER]];
    CHECK(mf->len == strlen(b.member) && memcmp(mf->ptr, b.member, mf->len) == 0);
}

static void check_record(const struct tp_csv_record *r, enum tp_csv_status st)
{
    CHECK(r->line >= 1);
    if (st == TP_CSV_ERROR) {
        CHECK(r->error != NULL && r->error[0] != '\0');
        return;
    }
    CHECK(r->error == NULL);
    CHECK(r->nfields >= 1 && r->nfields <= TP_CSV_FIELDS_MAX);
    size_t total = 0;
    for (int i = 0; i < r->nfields; i++)
        total += r->fields[i].len;
    CHECK(total <= TP_CSV_RECORD_MAX);
}

/* Parses data in chunks: sizes[] cycled (0: whole); validates records when `rows` is set. */
static struct trace parse(const uint8_t *data, size_t size, const uint8_t *sizes, size_t nsizes,
                          int rows)
{
    static struct tp_csv p;
    struct tp_csv_record rec;
    struct trace t = {1469598103934665603ull, 0};
    struct tp_ben_header h;
    int have_header = 0, header_ok = 0;
    tp_csv_init(&p);
    size_t off = 0, k = 0;
    for (;;) {
        enum tp_csv_status st;
        size_t used = 0, n;
        if (off < size) {
            n = nsizes ? (size_t)sizes[k++ % nsizes] % 17 + 1 : size - off;
            if (n > size - off)
                n = size - off;
            /* An exact-size copy of the chunk, so that ASan sees reads past it (byte by byte,
             * the input itself: a read past a 1-byte chunk would go unseen, but the whole-input
             * parse catches reads past the end, and the cut parse past any chunk). */
            const int copy = n > 1;
            uint8_t *c = copy ? malloc(n) : (uint8_t *)(uintptr_t)(data + off);
            if (!c)
                abort();
            if (copy)
                memcpy(c, data + off, n);
            size_t at = 0;
            while (at < n) {
                st = tp_csv_feed(&p, (const char *)c + at, n - at, &used, &rec);
                CHECK(used >= 1 && used <= n - at);
                at += used;
                if (st == TP_CSV_NEED_MORE) {
                    CHECK(at == n);
                    continue;
                }
                check_record(&rec, st);
                trace_record(&t, st, &rec);
                if (rows && st == TP_CSV_RECORD) {
                    if (!have_header) {
                        have_header = 1;
                        char m[768];
                        header_ok =
                            tp_ben_header_parse(rec.fields, rec.nfields, &h, m, sizeof m) == TP_OK;
                        CHECK(memchr(m, '\0', sizeof m) != NULL);
                        if (header_ok)
                            CHECK(h.nfields == TP_COL_COUNT);
                    } else if (header_ok) {
                        check_row(&rec, &h);
                    } else if (rec.nfields == TP_COL_COUNT) {
                        struct tp_ben_header canon = {.nfields = TP_COL_COUNT};
                        for (int col = 0; col < TP_COL_COUNT; col++)
                            canon.index[col] = col;
                        check_row(&rec, &canon);
                    }
                }
            }
            if (copy)
                free(c);
            off += n;
            continue;
        }
        st = tp_csv_finish(&p, &rec);
        if (st != TP_CSV_NEED_MORE) {
            check_record(&rec, st);
            trace_record(&t, st, &rec);
        }
        break;
    }
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t one[1] = {0};
    struct trace whole = parse(data, size, NULL, 0, 1);
    struct trace bytes = parse(data, size, one, 1, 0);
    /* Chunk sizes taken from the input's last bytes: fuzzed cut points. */
    size_t ns = size < 8 ? size : 8;
    struct trace cuts = ns ? parse(data, size, data + size - ns, ns, 0) : whole;
    CHECK(whole.n == bytes.n && whole.h == bytes.h);
    CHECK(whole.n == cuts.n && whole.h == cuts.h);
    return 0;
}
