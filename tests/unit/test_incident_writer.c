/* Incident output folder (src/incident/writer.h): the expected file set, named by AMC number
 * and pseudonymous reference; mode 0600 files in 0700 directories; a manifest whose SHA-256
 * lines match the files (checked here with libsodium and with `sha256sum -c`); the folder
 * appears whole or not at all; bad input writes nothing.
 *
 * TP_INCIDENT_BENCH_PEOPLE=N (optional) adds a run with N people and prints notices per
 * second (informative only, never asserted). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "incident/pdf.h"
#include "incident/writer.h"

/* Fontconfig keeps its configuration cache for the life of the process on purpose. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\nleak:libpango\nleak:libglib\nleak:libgobject\n";
}

#define T_START INT64_C(1705881600000)  /* 2024-01-22T00:00:00Z */
#define T_END INT64_C(1706486399000)    /* 2024-01-28T23:59:59Z */
#define T_DETECT INT64_C(1706522400000) /* 2024-01-29T10:00:00Z */

static char root[64]; /* a fresh scratch directory per test */

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/tp_incident_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_incident(struct tp_incident *inc)
{
    memset(inc, 0, sizeof *inc);
    snprintf(inc->id, sizeof inc->id, "INC-2024-0007");
    snprintf(inc->platform, sizeof inc->platform, "opentp Santé");
    snprintf(inc->description, sizeof inc->description,
             "Un jeton d'accès d'un opticien a été utilisé depuis un réseau inconnu.");
    snprintf(inc->token, sizeof inc->token, "jeton 42 (caisse 2)");
    inc->window_start_ms = T_START;
    inc->window_end_ms = T_END;
    inc->detected_ms = T_DETECT;
    inc->report_ms = T_DETECT + 3600000;
    inc->n_measures = 1;
    snprintf(inc->measures[0], TP_INCIDENT_MEASURE_MAX, "Le jeton a été révoqué.");
    snprintf(inc->contact_name, sizeof inc->contact_name, "Équipe sécurité");
    snprintf(inc->contact_email, sizeof inc->contact_email, "securite@opentp.example");
}

static void make_amc(struct tp_incident_amc *a, const char *number, const char *name)
{
    memset(a, 0, sizeof *a);
    snprintf(a->number, sizeof a->number, "%s", number);
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->dpo_name, sizeof a->dpo_name, "DPO de %s", name);
    snprintf(a->dpo_email, sizeof a->dpo_email, "dpo@%s.example", number);
    snprintf(a->dpo_address, sizeof a->dpo_address, "1 place de la Mairie, 75001 Paris");
}

static void make_person(struct tp_exposed_person *p, int amc, unsigned i, uint32_t cats)
{
    memset(p, 0, sizeof *p);
    p->amc = amc;
    snprintf(p->ref, sizeof p->ref, "%08x%024x", i * 2654435761u, i);
    snprintf(p->member, sizeof p->member, "M%05u", i);
    p->rank = 1;
    snprintf(p->title, sizeof p->title, "%s", i % 2 ? "Monsieur" : "Madame");
    snprintf(p->first_name, sizeof p->first_name, "Prénom%u", i);
    snprintf(p->last_name, sizeof p->last_name, "Nom%u", i);
    p->categories = cats;
    p->accesses = 1 + i % 3;
    p->first_ms = T_START + (int64_t)i * 60000;
    p->last_ms = p->accesses == 1 ? p->first_ms : p->first_ms + 3600000;
}

/* Two AMCs, three people: two at the first AMC, one at the second. */
struct fixture {
    struct tp_incident inc;
    struct tp_incident_amc amc[2];
    struct tp_exposed_person p[3];
};

static void make_fixture(struct fixture *f)
{
    make_incident(&f->inc);
    make_amc(&f->amc[0], "111111111", "Mutuelle Alpha");
    make_amc(&f->amc[1], "222222222", "Assurance Bêta");
    make_person(&f->p[0], 0, 1, TP_CAT_NIR | TP_CAT_IDENTITY);
    make_person(&f->p[1], 1, 2, TP_CAT_COVERAGE);
    make_person(&f->p[2], 0, 3, TP_CAT_BIRTH_DATE);
    for (int a = 0; a < 2; a++)
        f->amc[a].people = f->amc[a].records = 0;
    for (int i = 0; i < 3; i++) {
        f->amc[f->p[i].amc].people++;
        f->amc[f->p[i].amc].records += f->p[i].accesses;
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Every regular file under `dir`: mode 0600; every directory: 0700. Returns file count. */
static int modes_files;
static int check_mode(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_F) {
        if ((sb->st_mode & 07777) != 0600)
            fail_msg("%s: mode %o", path, (unsigned)(sb->st_mode & 07777));
        modes_files++;
    } else if (flag == FTW_D) {
        if ((sb->st_mode & 07777) != 0700)
            fail_msg("%s: mode %o", path, (unsigned)(sb->st_mode & 07777));
    } else {
        fail_msg("%s: unexpected entry type", path);
    }
    return 0;
}

static void writes_the_expected_files_with_a_correct_manifest(void **state)
{
    (void)state;
    struct fixture f;
    make_fixture(&f);
    char out[128], msg[256] = "";
    snprintf(out, sizeof out, "%s/incident", root);
    struct tp_incident_write_result res;
    enum tp_err e = tp_incident_write(out, &f.inc, f.amc, 2, f.p, 3, &res, msg, sizeof msg);
    if (e != TP_OK)
        fail_msg("write: %s", msg);
    assert_int_equal(res.notices, 3);
    assert_int_equal(res.files, 2 + 2 + 3 * 2);
    assert_true(res.pdf_pages >= 3);

    /* The file set, by name: AMC numbers and references only. */
    const char *expected[] = {
        "amc-111111111.csv",
        "amc-222222222.csv",
        "art33-111111111.txt",
        "art33-222222222.txt",
        "notices/111111111/" /* p[0] */,
        "notices/222222222/" /* p[1] */,
        "notices/111111111/" /* p[2] */,
    };
    char path[256];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", out, expected[i]);
        assert_int_equal(access(path, F_OK), 0);
    }
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/%s%s.%s", out, expected[4 + i], f.p[i].ref,
                     k ? "pdf" : "txt");
            assert_int_equal(access(path, F_OK), 0);
        }
    }
    assert_int_equal(count_entries(out), 6); /* 2 csv, 2 art33, notices/, manifest */
    snprintf(path, sizeof path, "%s/notices", out);
    assert_int_equal(count_entries(path), 2);
    snprintf(path, sizeof path, "%s/notices/111111111", out);
    assert_int_equal(count_entries(path), 4);
    /* No temporary directory left beside it. */
    assert_int_equal(count_entries(root), 1);

    /* Modes. */
    modes_files = 0;
    assert_int_equal(nftw(out, check_mode, 16, FTW_PHYS), 0);
    assert_int_equal(modes_files, (int)res.files + 1);

    /* The manifest lists every file once with its SHA-256. */
    snprintf(path, sizeof path, "%s/" TP_INCIDENT_MANIFEST, out);
    char *man = slurp(path, NULL);
    int lines = 0;
    for (char *line = strtok(man, "\n"); line; line = strtok(NULL, "\n")) {
        assert_true(strlen(line) > 66);
        assert_memory_equal(line + 64, "  ", 2);
        char file[256];
        snprintf(file, sizeof file, "%s/%s", out, line + 66);
        size_t n;
        char *data = slurp(file, &n);
        unsigned char h[crypto_hash_sha256_BYTES];
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        crypto_hash_sha256(h, (const unsigned char *)data, n);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        assert_memory_equal(hex, line, 64);
        assert_null(strstr(line + 66, "Nom")); /* never named after a person */
        free(data);
        lines++;
    }
    assert_int_equal(lines, (int)res.files);
    free(man);
    /* And the standard tool agrees. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd %s && sha256sum --quiet -c " TP_INCIDENT_MANIFEST, out);
    assert_int_equal(system(cmd), 0);

    /* Content: each AMC's CSV holds its own members only, no names; the art. 33 draft its
     * own counts; a notice its person's name and AMC's DPO. */
    snprintf(path, sizeof path, "%s/amc-111111111.csv", out);
    char *csv = slurp(path, NULL);
    assert_non_null(strstr(csv, f.p[0].ref));
    assert_non_null(strstr(csv, f.p[2].ref));
    assert_null(strstr(csv, f.p[1].ref));
    assert_null(strstr(csv, "Nom"));
    assert_non_null(strstr(csv, ",M00001,1,"));
    free(csv);
    snprintf(path, sizeof path, "%s/art33-222222222.txt", out);
    char *a33 = slurp(path, NULL);
    assert_non_null(strstr(a33, "Nombre de personnes concernées : 1 "));
    assert_non_null(strstr(a33, "Assurance Bêta"));
    assert_null(strstr(a33, "Mutuelle Alpha"));
    free(a33);
    snprintf(path, sizeof path, "%s/notices/222222222/%s.txt", out, f.p[1].ref);
    char *n34 = slurp(path, NULL);
    assert_non_null(strstr(n34, "Madame Prénom2 Nom2"));
    assert_non_null(strstr(n34, "dpo@222222222.example"));
    free(n34);
    snprintf(path, sizeof path, "%s/notices/222222222/%s.pdf", out, f.p[1].ref);
    char *pdf = slurp(path, NULL);
    assert_memory_equal(pdf, "%PDF-", 5);
    free(pdf);
}

static void refuses_a_folder_that_is_not_empty_and_accepts_an_empty_one(void **state)
{
    (void)state;
    struct fixture f;
    make_fixture(&f);
    char out[128], msg[256] = "";
    snprintf(out, sizeof out, "%s/incident", root);
    assert_int_equal(tp_incident_write(out, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_OK);
    /* A second run never overwrites the first. */
    assert_int_equal(tp_incident_write(out, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_CONFLICT);
    assert_non_null(strstr(msg, "not an empty directory"));
    /* A plain file in the way. */
    char file[160];
    snprintf(file, sizeof file, "%s/file", root);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(tp_incident_write(file, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_CONFLICT);
    /* An empty directory (made ahead, e.g. on a mounted volume) is filled; a trailing slash
     * is fine. */
    char empty[160];
    snprintf(empty, sizeof empty, "%s/empty", root);
    assert_int_equal(mkdir(empty, 0700), 0);
    strcat(empty, "/");
    assert_int_equal(tp_incident_write(empty, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_OK);
    assert_int_equal(count_entries(empty), 6);
    assert_int_equal(count_entries(root), 3); /* incident, file, empty: no leftovers */
}

static void bad_input_writes_nothing(void **state)
{
    (void)state;
    struct fixture f;
    char out[128], msg[256];
    snprintf(out, sizeof out, "%s/incident", root);

    make_fixture(&f);
    assert_int_equal(tp_incident_write(out, &f.inc, f.amc, 2, f.p, 0, NULL, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "no exposed person"));
    assert_int_equal(tp_incident_write(out, NULL, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_incident_write(NULL, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_int_equal(tp_incident_write("", &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_INVALID);
    memset(f.inc.description, 'x', sizeof f.inc.description);
    assert_int_equal(tp_incident_write(out, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_TOO_BIG);
    assert_non_null(strstr(msg, "description"));
    make_fixture(&f);
    f.amc[0].people = 3; /* the count disagrees with the list */
    assert_int_equal(tp_incident_write(out, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "people announced"));

    /* A person listed twice passes the counts but collides on its file name: the error is
     * found mid-way, and the partial folder is removed. */
    make_fixture(&f);
    f.p[2] = f.p[0];
    f.amc[0].records = 2 * f.p[0].accesses;
    struct tp_incident_write_result res;
    assert_int_equal(tp_incident_write(out, &f.inc, f.amc, 2, f.p, 3, &res, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "twice"));
    assert_int_equal(res.files, 0);

    /* A directory that cannot be created (its parent is missing). */
    make_fixture(&f);
    char deep[160];
    snprintf(deep, sizeof deep, "%s/missing/incident", root);
    assert_int_equal(tp_incident_write(deep, &f.inc, f.amc, 2, f.p, 3, NULL, msg, sizeof msg),
                     TP_ERR_IO);

    assert_int_equal(count_entries(root), 0);
}

/* Enough people for several writer threads: every notice once, manifest right; a duplicate
 * found by one thread stops the others and nothing is left behind. */
static void many_people_on_several_threads(void **state)
{
    (void)state;
    enum { N = 40 };
    struct tp_incident inc;
    struct tp_incident_amc amc[2];
    struct tp_exposed_person p[N];
    make_incident(&inc);
    make_amc(&amc[0], "444444444", "Mutuelle Delta");
    make_amc(&amc[1], "555555555", "Mutuelle Epsilon");
    for (unsigned i = 0; i < N; i++) {
        make_person(&p[i], (int)(i % 3 == 0), i, (i % TP_CAT_ALL) + 1);
        amc[p[i].amc].people++;
        amc[p[i].amc].records += p[i].accesses;
    }
    char out[128], msg[256] = "", path[160];
    snprintf(out, sizeof out, "%s/many", root);
    struct tp_incident_write_result res;
    enum tp_err e = tp_incident_write(out, &inc, amc, 2, p, N, &res, msg, sizeof msg);
    if (e != TP_OK)
        fail_msg("write: %s", msg);
    assert_int_equal(res.notices, N);
    assert_int_equal(res.files, 4 + 2 * N);
    snprintf(path, sizeof path, "%s/notices/444444444", out);
    assert_int_equal(count_entries(path), 2 * amc[0].people);
    snprintf(path, sizeof path, "%s/notices/555555555", out);
    assert_int_equal(count_entries(path), 2 * amc[1].people);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd %s && sha256sum --quiet -c " TP_INCIDENT_MANIFEST, out);
    assert_int_equal(system(cmd), 0);

    /* The last person repeats the first one: a collision late in the run. */
    p[N - 1] = p[0];
    memset(amc, 0, sizeof amc);
    make_amc(&amc[0], "444444444", "Mutuelle Delta");
    make_amc(&amc[1], "555555555", "Mutuelle Epsilon");
    for (unsigned i = 0; i < N; i++) {
        amc[p[i].amc].people++;
        amc[p[i].amc].records += p[i].accesses;
    }
    snprintf(out, sizeof out, "%s/many2", root);
    assert_int_equal(tp_incident_write(out, &inc, amc, 2, p, N, &res, msg, sizeof msg),
                     TP_ERR_INVALID);
    assert_non_null(strstr(msg, "twice"));
    assert_int_equal(count_entries(root), 1); /* only the first folder */
}

/* Informative throughput figure: TP_INCIDENT_BENCH_PEOPLE=N. */
static void volume_run(void **state)
{
    (void)state;
    const char *env = getenv("TP_INCIDENT_BENCH_PEOPLE");
    long n = env ? strtol(env, NULL, 10) : 0;
    if (n <= 0) {
        skip();
        return;
    }
    struct tp_incident inc;
    struct tp_incident_amc amc;
    make_incident(&inc);
    make_amc(&amc, "333333333", "Mutuelle Gamma");
    struct tp_exposed_person *p = calloc((size_t)n, sizeof *p);
    assert_non_null(p);
    for (long i = 0; i < n; i++) {
        make_person(&p[i], 0, (unsigned)i, (uint32_t)(i % TP_CAT_ALL) + 1);
        amc.people++;
        amc.records += p[i].accesses;
    }
    char out[128], msg[256] = "";
    snprintf(out, sizeof out, "%s/volume", root);
    struct tp_incident_write_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum tp_err e = tp_incident_write(out, &inc, &amc, 1, p, (size_t)n, &res, msg, sizeof msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (e != TP_OK)
        fail_msg("write: %s", msg);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("incident writer: %ld notices (txt+pdf), %lld pages, %.1f MB in %.2f s: %.0f "
           "notices/s\n",
           n, (long long)res.pdf_pages, (double)res.bytes / 1e6, s, (double)n / s);
    assert_int_equal(res.notices, (size_t)n);

    /* Rendering alone, the renderer reused (as the writer does) against the reference: a new
     * renderer (font map, context, layout) per notice. Same text, same run. */
    static char text[TP_NOTICE_ART34_MAX];
    size_t len;
    assert_int_equal(tp_notice_art34(&inc, &amc, &p[0], text, sizeof text, &len), TP_OK);
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    long m = n < 500 ? n : 500;
    double secs[2];
    for (int fresh = 0; fresh < 2; fresh++) {
        struct tp_pdf *r = NULL;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < m; i++) {
            if (!r || fresh)
                assert_int_equal(tp_pdf_new(&r, msg, sizeof msg), TP_OK);
            assert_int_equal(tp_pdf_render(r, text, len, NULL, devnull, msg, sizeof msg), TP_OK);
            if (fresh) {
                tp_pdf_free(r);
                r = NULL;
            }
        }
        tp_pdf_free(r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        secs[fresh] = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
    fclose(devnull);
    printf("pdf rendering, one thread: %.0f notices/s with the renderer reused, %.0f/s with a "
           "new renderer each (reference): ratio %.2f\n",
           (double)m / secs[0], (double)m / secs[1], secs[1] / secs[0]);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_the_expected_files_with_a_correct_manifest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refuses_a_folder_that_is_not_empty_and_accepts_an_empty_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(many_people_on_several_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(volume_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
