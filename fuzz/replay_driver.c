/* Replay driver for the fuzz targets when they are not built with libFuzzer.
 *
 *   fuzz_<name> DIR...    every file of each DIR, then RANDOM_RUNS generated inputs
 *   fuzz_<name> FILE...   only those files (to reproduce a crash)
 *
 * It gives every parser a deterministic smoke run under ASan/UBSan in `make test`, with
 * no dependency on clang. Generated inputs come from a fixed-seed xorshift, so a failure
 * reproduces exactly; they are short (0..64 bytes), biased toward the digits and upper-case
 * letters that identifiers are made of, and half of them are mutations of corpus files,
 * which reach the deeper branches that random bytes never would.
 *
 * Each input is handed over in a heap buffer of exactly its size, so that ASan reports
 * reads past the end. A crash, sanitizer report or abort() prints the input in hex before
 * the process dies; reaching the end means no crash, hence the "0 crashes" line. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional hooks, as in libFuzzer; weak so that targets need not define them. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);
__attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

#define RANDOM_RUNS 200000
#define RANDOM_MAX_LEN 64
#define FILE_MAX (1u << 20) /* corpus files are seeds, not data sets */
#define CORPUS_MAX 4096

struct seed {
    uint8_t *data;
    size_t len;
};

static struct seed corpus[CORPUS_MAX];
static size_t corpus_n;

/* What is running now, for the crash report. */
static const uint8_t *cur_data;
static size_t cur_len;
static const char *cur_file;
static unsigned long cur_index;

/* ---------------------------------------------------------------------------------------
 * Crash report: async-signal-safe (write(2) only), as it may run from a signal handler. */

static void put(const char *s)
{
    ssize_t rc = write(STDERR_FILENO, s, strlen(s));
    (void)rc;
}

static void put_ulong(unsigned long v)
{
    char buf[24];
    size_t i = sizeof buf;
    buf[--i] = '\0';
    do
        buf[--i] = (char)('0' + v % 10);
    while ((v /= 10) && i);
    put(buf + i);
}

static void report_input(void)
{
    static const char hex[] = "0123456789abcdef";
    if (!cur_data && !cur_file)
        return;
    put("fuzz replay: crash on ");
    if (cur_file) {
        put("corpus file ");
        put(cur_file);
    } else {
        put("generated input #");
        put_ulong(cur_index);
    }
    put(" (");
    put_ulong((unsigned long)cur_len);
    put(" bytes): ");
    for (size_t i = 0; cur_data && i < cur_len; i++) {
        char b[2] = {hex[cur_data[i] >> 4], hex[cur_data[i] & 15]};
        ssize_t rc = write(STDERR_FILENO, b, 2);
        (void)rc;
    }
    put("\n");
    cur_data = NULL;
    cur_file = NULL;
}

static void on_signal(int sig)
{
    report_input();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_crash_report(void)
{
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(report_input);
    static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_signal);
}

/* ---------------------------------------------------------------------------------------
 * Running one input */

static unsigned long runs;

static void run_one(const uint8_t *data, size_t len)
{
    /* malloc(0): a zero-byte block, so that ASan reports even a 1-byte read of "". */
    uint8_t *copy = malloc(len);
    if (!copy && len) {
        fprintf(stderr, "fuzz replay: out of memory\n");
        exit(2);
    }
    if (len)
        memcpy(copy, data, len);
    cur_data = copy;
    cur_len = len;
    LLVMFuzzerTestOneInput(copy, len);
    cur_data = NULL;
    free(copy);
    runs++;
}

/* Reads a whole regular file (at most FILE_MAX bytes) into a new buffer. */
static int read_file(const char *path, struct seed *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = malloc(FILE_MAX);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t len = fread(buf, 1, FILE_MAX, f);
    const int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return -1;
    }
    uint8_t *shrunk = realloc(buf, len ? len : 1);
    if (shrunk)
        buf = shrunk;
    out->data = buf;
    out->len = len;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads the regular files of dir, in name order so that the run is the same everywhere. */
static int load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);

    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (w > 0 && (size_t)w < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (corpus_n == CORPUS_MAX) {
                fprintf(stderr, "fuzz replay: more than %d corpus files, rest skipped\n",
                        CORPUS_MAX);
            } else if (read_file(path, &corpus[corpus_n]) != 0) {
                fprintf(stderr, "fuzz replay: cannot read %s\n", path);
            } else {
                cur_file = names[i];
                run_one(corpus[corpus_n].data, corpus[corpus_n].len);
                cur_file = NULL;
                corpus_n++;
            }
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Generated inputs */

static uint64_t rng_state = 0x9e3779b97f4a7c15u; /* fixed: runs are reproducible */

static uint64_t rng(void)
{
    /* xorshift64* (Vigna): small, fast, good enough to pick bytes. */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1du;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rng() % n) : 0;
}

/* Mostly what identifiers, dates and amounts are made of, sometimes separators, sometimes
 * any byte at all. */
static uint8_t biased_byte(void)
{
    static const char punct[] = "-|/+:. ,;=\"\n\r\t\\%'";
    const size_t r = below(100);
    if (r < 45)
        return (uint8_t)('0' + below(10));
    if (r < 75)
        return (uint8_t)('A' + below(26));
    if (r < 80)
        return (uint8_t)('a' + below(26));
    if (r < 90)
        return (uint8_t)punct[below(sizeof punct - 1)];
    return (uint8_t)below(256);
}

/* Applies one random edit to buf[0..*len) within cap bytes. */
static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
    size_t n = *len;
    switch (below(8)) {
    case 0: /* replace a byte */
        if (n)
            buf[below(n)] = biased_byte();
        break;
    case 1: /* insert a byte */
        if (n < cap) {
            size_t at = below(n + 1);
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = biased_byte();
            n++;
        }
        break;
    case 2: /* delete a byte */
        if (n) {
            size_t at = below(n);
            memmove(buf + at, buf + at + 1, n - at - 1);
            n--;
        }
        break;
    case 3: /* bump a digit: off-by-one keys, dates, lengths */
        if (n) {
            size_t at = below(n);
            if (buf[at] >= '0' && buf[at] <= '9')
                buf[at] = (uint8_t)('0' + (buf[at] - '0' + 1 + below(9)) % 10);
            else
                buf[at] ^= (uint8_t)(1u << below(8));
        }
        break;
    case 4: /* swap two adjacent bytes */
        if (n >= 2) {
            size_t at = below(n - 1);
            uint8_t t = buf[at];
            buf[at] = buf[at + 1];
            buf[at + 1] = t;
        }
        break;
    case 5: /* truncate */
        n = below(n + 1);
        break;
    case 6: /* duplicate a range at the end */
        if (n && n < cap) {
            size_t from = below(n), k = 1 + below(n - from);
            if (k > cap - n)
                k = cap - n;
            memmove(buf + n, buf + from, k);
            n += k;
        }
        break;
    default: /* splice the tail of another seed */
        if (corpus_n) {
            const struct seed *o = &corpus[below(corpus_n)];
            size_t at = below(n + 1), from = below(o->len + 1), k = o->len - from;
            if (k > cap - at)
                k = cap - at;
            memcpy(buf + at, o->data + from, k);
            n = at + k;
        }
        break;
    }
    *len = n;
}

static void run_generated(unsigned long count)
{
    size_t cap = RANDOM_MAX_LEN * 2;
    for (size_t i = 0; i < corpus_n; i++)
        if (corpus[i].len + RANDOM_MAX_LEN > cap)
            cap = corpus[i].len + RANDOM_MAX_LEN;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, "fuzz replay: out of memory\n");
        exit(2);
    }
    for (unsigned long i = 0; i < count; i++) {
        size_t len;
        if (corpus_n && below(2)) {
            const struct seed *s = &corpus[below(corpus_n)];
            memcpy(buf, s->data, s->len);
            len = s->len;
            for (size_t k = 1 + below(4); k > 0; k--)
                mutate(buf, &len, cap);
        } else {
            len = below(RANDOM_MAX_LEN + 1);
            for (size_t k = 0; k < len; k++)
                buf[k] = biased_byte();
        }
        cur_index = i;
        run_one(buf, len);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR... | FILE...\n", argv[0]);
        return 2;
    }
    install_crash_report();
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);

    int dirs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz replay: cannot open %s\n", argv[i]);
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            if (load_dir(argv[i]) != 0) {
                fprintf(stderr, "fuzz replay: cannot read directory %s\n", argv[i]);
                return 2;
            }
            dirs++;
        } else if (corpus_n < CORPUS_MAX && read_file(argv[i], &corpus[corpus_n]) == 0) {
            cur_file = argv[i];
            run_one(corpus[corpus_n].data, corpus[corpus_n].len);
            cur_file = NULL;
            corpus_n++;
        } else {
            fprintf(stderr, "fuzz replay: cannot read %s\n", argv[i]);
            return 2;
        }
    }
    if (dirs)
        run_generated(RANDOM_RUNS);

    for (size_t i = 0; i < corpus_n; i++)
        free(corpus[i].data);
    printf("fuzz replay: %lu inputs, 0 crashes\n", runs);
    return 0;
}
