/* Bulk import of beneficiaries (see import.h, docs/IMPORT.md). */
#include "import/import.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/csv.h"
#include "core/validate.h"

/* ---- Progress bar ------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
    int on;
    uint64_t size; /* 0 when unknown (a pipe) */
    double last;
};

/* Redrawn at most 10 times a second: the terminal is not the bottleneck. */
static void progress_draw(struct progress *p, const struct tp_import_stats *st, int final)
{
    if (!p->on)
        return;
    double t = now_s();
    if (!final && t - p->last < 0.1)
        return;
    p->last = t;
    uint64_t rows = st->read;
    if (p->size) {
        uint64_t done = st->bytes < p->size ? st->bytes : p->size; /* the file may grow */
        int pct = (int)(done * 100 / p->size);
        int fill = pct * 30 / 100;
        fprintf(stderr, "\rimport [%.*s%*s] %3d%% %llu rows", fill,
                "==============================", 30 - fill, "", pct, (unsigned long long)rows);
    } else {
        fprintf(stderr, "\rimport %llu rows", (unsigned long long)rows);
    }
    if (final)
        fputs("\n", stderr);
    fflush(stderr);
}

/* ---- Report ------------------------------------------------------------------------------- */

static void report_row(FILE *f, uint64_t line, const char *column, const char *reason)
{
    /* line,column,reason: the column is a fixed name, the reason a fixed text (never a value
     * from the file), quoted as CSV all the same since it may contain commas. */
    fprintf(f, "%llu,%s,\"", (unsigned long long)line, column);
    for (const char *c = reason; *c; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    fputs("\"\n", f);
}

/* Opens the report: the given path, else PATH.report.csv next to the input, else (the input's
 * directory is not writable, or the input is not a regular file: /dev/stdin, a pipe) the
 * input's base name + .report.csv in the current directory. */
static FILE *report_open(const struct tp_import_opts *o, int regular, struct tp_import_stats *st,
                         char *msg, size_t msglen)
{
    FILE *f = NULL;
    if (o->report_path) {
        snprintf(st->report_path, sizeof st->report_path, "%s", o->report_path);
        f = fopen(st->report_path, "w");
    } else {
        if (regular) {
            snprintf(st->report_path, sizeof st->report_path, "%s.report.csv", o->path);
            f = fopen(st->report_path, "w");
        }
        if (!regular || (!f && (errno == EACCES || errno == EROFS || errno == EPERM))) {
            const char *base = strrchr(o->path, '/');
            snprintf(st->report_path, sizeof st->report_path, "%s.report.csv",
                     base ? base + 1 : o->path);
            f = fopen(st->report_path, "w");
        }
    }
    if (!f) {
        tp_fail(msg, msglen, TP_ERR_IO, "cannot create the report %s: %s", st->report_path,
                strerror(errno));
        return NULL;
    }
    fputs("line,column,reason\n", f);
    return f;
}

/* ---- The import ---------------------------------------------------------------------------
 *
 * Two threads and two batch buffers: the caller's thread reads, parses, validates, sorts and
 * seals rows into one buffer while a writer thread commits the other. Validation and sealing
 * (XChaCha20-Poly1305 and five keyed BLAKE2b per row) then cost no wall time, SQLite being the
 * slower side.
 *
 * A batch is sealed in the order of its member blind index: the (member, rank) index and the
 * digest lookup then walk their B-tree forwards instead of jumping at random.
 *
 * Duplicates: a (member, rank) given twice in the file is found by the store, not in memory.
 * Every row this import writes or finds unchanged is stored with the run's number and its
 * line (store.h, beneficiaries_import), so a later row with the same key, in the same batch
 * or any later one, finds the run's mark and the line of the first occurrence. Memory stays
 * the same whatever the file's length.
 *
 * The report stays in file order although duplicates are only known once their batch is
 * written: the rows rejected while a batch fills travel with it, and the writer, after the
 * commit, writes them merged with the batch's duplicates. Since a batch also goes to the writer
 * when its list of rejections is full, that list is bounded too. */

#define REJECTS_MAX 8192 /* rejections carried by one batch */
#define REASON_MAX 112   /* longest reason: tp_beneficiary_from_csv's are under 96 bytes */

struct sort_key {
    uint8_t bidx[TP_BIDX_LEN]; /* the member blind index */
    uint32_t row;              /* index in rows[] */
    int64_t line;              /* the row's line in the file */
};

struct reject {
    int64_t line;
    const char *column; /* a static column name, "" for the record as a whole */
    char reason[REASON_MAX];
};

struct dup {
    int64_t line, first;
};

struct batch {
    size_t n;
    struct tp_beneficiary *rows;          /* validated, in file order */
    struct sort_key *keys;                /* keys[i] for rows[i], then sorted */
    struct tp_sealed_beneficiary *sealed; /* in key order */
    int64_t *lines;                       /* lines[i]: the line of sealed[i] */
    int *changed;                         /* TP_BEN_* of sealed[i], from the store */
    int64_t *first;                       /* TP_BEN_DUPLICATE: the line of the first occurrence */
    struct reject *rejects;               /* rows rejected while this batch filled, in order */
    size_t nrejects;
    uint64_t first_line, last_line;
    int at_writer; /* handed to the writer and not yet given back */
};

struct importer {
    const struct tp_import_opts *o;
    const struct tp_keys *keys;
    const struct tp_store_ops *ops;
    void *impl;
    struct tp_import_stats *st;
    FILE *report; /* written by the writer thread only, while it runs */
    struct progress progress;
    int64_t run; /* this import's run number (store.h, import_run_begin) */

    struct tp_csv csv;
    struct tp_csv_record rec;
    int have_header;
    struct tp_ben_header header;
    struct tp_ben_rules rules;
    char (*contracts)[TP_CODE_MAX];

    size_t batch_max;
    struct batch buf[2];
    struct batch *fill; /* the buffer being filled */
    struct dup *dups;   /* the writer's: duplicates of the batch being reported */

    /* Hand-over to the writer thread, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *pending; /* waiting for the writer */
    int no_more;           /* the producer is done */
    enum tp_err write_rc;  /* first failure of the writer */
    char write_msg[512];
};

static int key_cmp(const void *a, const void *b)
{
    const struct sort_key *x = a, *y = b;
    int c = memcmp(x->bidx, y->bidx, TP_BIDX_LEN);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int dup_cmp(const void *a, const void *b)
{
    const struct dup *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

/* Writes the report rows of a written batch, in line order: its rejections (already in order)
 * merged with its duplicates (sorted here: the batch was written in key order). Returns how
 * many. On the writer thread. */
static uint64_t report_batch(struct importer *im, const struct batch *b, int written)
{
    size_t nd = 0;
    for (size_t i = 0; written && i < b->n; i++)
        if (b->changed[i] == TP_BEN_DUPLICATE)
            im->dups[nd++] = (struct dup){.line = b->lines[i], .first = b->first[i]};
    qsort(im->dups, nd, sizeof *im->dups, dup_cmp);
    size_t r = 0, d = 0;
    while (r < b->nrejects || d < nd) {
        if (d == nd || (r < b->nrejects && b->rejects[r].line < im->dups[d].line)) {
            const struct reject *x = &b->rejects[r++];
            report_row(im->report, (uint64_t)x->line, x->column, x->reason);
        } else {
            char why[64];
            snprintf(why, sizeof why, "duplicate of line %lld", (long long)im->dups[d].first);
            report_row(im->report, (uint64_t)im->dups[d].line,
                       tp_ben_col_name(TP_COL_MEMBER_NUMBER), why);
            d++;
        }
    }
    return b->nrejects + nd;
}

static void *writer_main(void *arg)
{
    struct importer *im = arg;
    pthread_mutex_lock(&im->mu);
    for (;;) {
        while (!im->pending && !im->no_more)
            pthread_cond_wait(&im->cv, &im->mu);
        struct batch *b = im->pending;
        if (!b)
            break;
        im->pending = NULL;
        pthread_cond_broadcast(&im->cv);
        int failed = im->write_rc != TP_OK;
        pthread_mutex_unlock(&im->mu);

        /* After a failure, later batches are dropped: the rows before the failed batch are
         * imported, the rest is not, and the message says where that boundary is. Their
         * rejections are still reported. */
        enum tp_err rc = TP_OK;
        if (!failed && b->n > 0)
            rc = im->ops->beneficiaries_import(im->impl, b->sealed, b->n, im->run, b->lines,
                                               b->changed, b->first);
        int written = !failed && rc == TP_OK;
        uint64_t imported = 0, dups = 0;
        for (size_t i = 0; written && i < b->n; i++) {
            imported += b->changed[i] == TP_BEN_WRITTEN;
            dups += b->changed[i] == TP_BEN_DUPLICATE;
        }
        uint64_t rejected = report_batch(im, b, written);

        pthread_mutex_lock(&im->mu);
        im->st->rejected += rejected;
        if (!failed && rc != TP_OK) {
            im->write_rc = rc;
            snprintf(im->write_msg, sizeof im->write_msg,
                     "database error (%s) writing the rows of lines %llu to %llu; the rows "
                     "before line %llu are imported, re-run the import to complete it",
                     tp_err_name(rc), (unsigned long long)b->first_line,
                     (unsigned long long)b->last_line, (unsigned long long)b->first_line);
        } else if (written && b->n > 0) {
            im->st->imported += imported;
            im->st->unchanged += b->n - imported - dups;
            im->st->batches++;
        }
        b->at_writer = 0;
        pthread_cond_broadcast(&im->cv);
    }
    pthread_mutex_unlock(&im->mu);
    return NULL;
}

/* Sorts and seals the filled buffer, hands it to the writer and takes the other one, waiting
 * for the writer to give it back. */
static enum tp_err hand_over(struct importer *im, char *msg, size_t msglen)
{
    struct batch *b = im->fill;
    if (b->n > 0) {
        qsort(b->keys, b->n, sizeof *b->keys, key_cmp);
        for (size_t i = 0; i < b->n; i++) {
            enum tp_err rc = tp_beneficiary_seal(im->keys, &b->rows[b->keys[i].row], &b->sealed[i]);
            if (rc != TP_OK) {
                im->fill = NULL;
                return tp_fail(msg, msglen, rc, "cannot seal a row (%s)", tp_err_name(rc));
            }
            b->lines[i] = b->keys[i].line;
        }
    }
    pthread_mutex_lock(&im->mu);
    while (im->pending)
        pthread_cond_wait(&im->cv, &im->mu);
    if (b->n > 0 || b->nrejects > 0) {
        b->at_writer = 1;
        im->pending = b;
        pthread_cond_broadcast(&im->cv);
    }
    struct batch *next = b == &im->buf[0] ? &im->buf[1] : &im->buf[0];
    while (next->at_writer && im->write_rc == TP_OK)
        pthread_cond_wait(&im->cv, &im->mu);
    enum tp_err rc = im->write_rc;
    if (rc != TP_OK)
        tp_fail(msg, msglen, rc, "%s", im->write_msg);
    pthread_mutex_unlock(&im->mu);
    if (rc == TP_OK) {
        next->n = 0;
        next->nrejects = 0;
        im->fill = next;
    } else {
        im->fill = NULL; /* the import stops: nothing more to fill or hand over */
    }
    return rc;
}

/* Lists a row as rejected: it travels with the batch being filled, which goes to the writer
 * first if its list is full. */
static enum tp_err reject(struct importer *im, uint64_t line, const char *column,
                          const char *reason, char *msg, size_t msglen)
{
    if (im->fill->nrejects == REJECTS_MAX) {
        enum tp_err rc = hand_over(im, msg, msglen);
        if (rc != TP_OK)
            return rc;
    }
    struct reject *x = &im->fill->rejects[im->fill->nrejects++];
    x->line = (int64_t)line;
    x->column = column;
    size_t len = strnlen(reason, sizeof x->reason - 1); /* cut, should a reason ever be longer */
    memcpy(x->reason, reason, len);
    x->reason[len] = '\0';
    return TP_OK;
}

static enum tp_err on_record(struct importer *im, enum tp_csv_status cs, char *msg, size_t msglen)
{
    const struct tp_csv_record *r = &im->rec;
    if (!im->have_header) {
        if (cs == TP_CSV_ERROR)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "line %llu: bad header: %s",
                           (unsigned long long)r->line, r->error);
        char hmsg[768];
        if (tp_ben_header_parse(r->fields, r->nfields, &im->header, hmsg, sizeof hmsg) != TP_OK)
            return tp_fail(msg, msglen, TP_ERR_INVALID, "line %llu: bad header: %s",
                           (unsigned long long)r->line, hmsg);
        im->have_header = 1;
        return TP_OK;
    }
    im->st->read++;
    if (im->st->read > TP_IMPORT_MAX_ROWS)
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG,
                       "more than %llu rows: split the file (the rows before line %llu are "
                       "imported)",
                       (unsigned long long)TP_IMPORT_MAX_ROWS, (unsigned long long)r->line);
    if (cs == TP_CSV_ERROR)
        return reject(im, r->line, "", r->error, msg, msglen);
    struct batch *bt = im->fill;
    struct tp_beneficiary *b = &bt->rows[bt->n];
    int bad = -1;
    char reason[160];
    if (tp_beneficiary_from_csv(r->fields, r->nfields, &im->header, &im->rules, b, &bad, reason,
                                sizeof reason) != TP_OK)
        return reject(im, r->line, bad >= 0 ? tp_ben_col_name((enum tp_ben_col)bad) : "", reason,
                      msg, msglen);

    struct sort_key *k = &bt->keys[bt->n];
    tp_bidx_member(im->keys, b->amc, b->member, k->bidx);
    k->row = (uint32_t)bt->n;
    k->line = (int64_t)r->line;
    if (bt->n == 0)
        bt->first_line = r->line;
    bt->last_line = r->line;
    bt->n++;
    if (bt->n == im->batch_max)
        return hand_over(im, msg, msglen);
    return TP_OK;
}

static enum tp_err load_contracts(struct importer *im, char *msg, size_t msglen)
{
    int64_t amc_id = 0;
    enum tp_err rc = im->ops->amc_find(im->impl, im->o->amc, &amc_id, NULL);
    if (rc == TP_ERR_NOT_FOUND)
        return tp_fail(msg, msglen, rc, "no AMC numbered %s on this platform", im->o->amc);
    if (rc != TP_OK)
        return tp_fail(msg, msglen, rc, "cannot look up the AMC (%s)", tp_err_name(rc));
    im->contracts = calloc(TP_IMPORT_MAX_CONTRACTS, sizeof *im->contracts);
    if (!im->contracts)
        return TP_ERR_NOMEM;
    size_t n = 0;
    rc = im->ops->contract_codes(im->impl, im->o->amc, im->contracts, TP_IMPORT_MAX_CONTRACTS, &n);
    if (rc != TP_OK)
        return tp_fail(msg, msglen, rc, "cannot read the contracts of AMC %s (%s)", im->o->amc,
                       tp_err_name(rc));
    if (n == 0)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "AMC %s has no contract: create its contracts before importing", im->o->amc);
    im->rules.amc = im->o->amc;
    im->rules.today = im->o->today;
    im->rules.contracts = (const char(*)[TP_CODE_MAX])im->contracts;
    im->rules.ncontracts = n;
    return TP_OK;
}

/* The producer side: reads, parses, validates, hands batches over. */
static enum tp_err produce(struct importer *im, int fd, char *msg, size_t msglen)
{
    char *buf = malloc(TP_IMPORT_CHUNK);
    if (!buf)
        return TP_ERR_NOMEM;
    enum tp_err rc = TP_OK;
    tp_csv_init(&im->csv);
    for (;;) {
        ssize_t got = read(fd, buf, TP_IMPORT_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc =
                tp_fail(msg, msglen, TP_ERR_IO, "cannot read %s: %s", im->o->path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        im->st->bytes += (uint64_t)got;
        size_t at = 0;
        while (rc == TP_OK && at < (size_t)got) {
            size_t used = 0;
            enum tp_csv_status cs =
                tp_csv_feed(&im->csv, buf + at, (size_t)got - at, &used, &im->rec);
            at += used;
            if (cs != TP_CSV_NEED_MORE)
                rc = on_record(im, cs, msg, msglen);
        }
        if (rc != TP_OK)
            break;
        progress_draw(&im->progress, im->st, 0);
    }
    if (rc == TP_OK) {
        enum tp_csv_status cs = tp_csv_finish(&im->csv, &im->rec);
        if (cs != TP_CSV_NEED_MORE)
            rc = on_record(im, cs, msg, msglen);
    }
    if (rc == TP_OK && !im->have_header)
        rc = tp_fail(msg, msglen, TP_ERR_INVALID, "%s is empty: expected a header line",
                     im->o->path);
    /* The last, partial batch; also after a read error or too many rows, so that the rows
     * before the failure are imported and reported, as the message says. */
    if (rc == TP_OK) {
        rc = hand_over(im, msg, msglen);
    } else if (im->fill && (rc == TP_ERR_TOO_BIG || rc == TP_ERR_IO)) {
        char hmsg[512];
        enum tp_err hrc = hand_over(im, hmsg, sizeof hmsg);
        if (hrc != TP_OK)
            tp_fail(msg, msglen, hrc, "%s", hmsg);
    }
    sodium_memzero(buf, TP_IMPORT_CHUNK);
    free(buf);
    return rc;
}

/* Runs the writer thread around the producer; returns once every handed batch is committed
 * (or the first failure). */
static enum tp_err run(struct importer *im, int fd, char *msg, size_t msglen)
{
    pthread_t writer;
    if (pthread_create(&writer, NULL, writer_main, im) != 0)
        return tp_fail(msg, msglen, TP_ERR_INTERNAL, "cannot start the writer thread");
    enum tp_err rc = produce(im, fd, msg, msglen);
    pthread_mutex_lock(&im->mu);
    im->no_more = 1;
    pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
    pthread_join(writer, NULL);
    if (rc == TP_OK && im->write_rc != TP_OK)
        rc = tp_fail(msg, msglen, im->write_rc, "%s", im->write_msg);
    return rc;
}

static enum tp_err batch_alloc(struct batch *b, size_t n)
{
    b->rows = calloc(n, sizeof *b->rows);
    b->keys = calloc(n, sizeof *b->keys);
    b->sealed = calloc(n, sizeof *b->sealed);
    b->lines = calloc(n, sizeof *b->lines);
    b->changed = calloc(n, sizeof *b->changed);
    b->first = calloc(n, sizeof *b->first);
    b->rejects = calloc(REJECTS_MAX, sizeof *b->rejects);
    return b->rows && b->keys && b->sealed && b->lines && b->changed && b->first && b->rejects
               ? TP_OK
               : TP_ERR_NOMEM;
}

static void batch_free(struct batch *b, size_t n)
{
    /* The identities are personal data: wiped before release. */
    if (b->rows)
        sodium_memzero(b->rows, n * sizeof *b->rows);
    free(b->rows);
    free(b->keys);
    free(b->sealed);
    free(b->lines);
    free(b->changed);
    free(b->first);
    free(b->rejects);
}

enum tp_err tp_import_beneficiaries(const struct tp_keys *keys, struct tp_store *store,
                                    const struct tp_import_opts *o, struct tp_import_stats *st,
                                    char *msg, size_t msglen)
{
    memset(st, 0, sizeof *st);
    struct importer im = {
        .o = o, .keys = keys, .ops = tp_store_ops(store), .impl = tp_store_impl(store), .st = st};
    im.batch_max = o->batch_rows ? o->batch_rows : TP_IMPORT_BATCH;
    if (im.batch_max > TP_IMPORT_BATCH_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "batch size above %d", TP_IMPORT_BATCH_MAX);
    if (tp_amc_check(o->amc, strlen(o->amc), NULL, 0) != TP_OK)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "--amc must be an AMC number (9 digits)");
    pthread_mutex_init(&im.mu, NULL);
    pthread_cond_init(&im.cv, NULL);

    enum tp_err rc = load_contracts(&im, msg, msglen);
    if (rc == TP_OK && !im.ops->import_run_begin)
        rc = tp_fail(msg, msglen, TP_ERR_INTERNAL, "this store cannot import");
    if (rc == TP_OK) {
        rc = im.ops->import_run_begin(im.impl, &im.run);
        if (rc != TP_OK)
            tp_fail(msg, msglen, rc, "cannot start the import (%s)", tp_err_name(rc));
    }
    int fd = -1;
    if (rc == TP_OK) {
        fd = open(o->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            rc = tp_fail(msg, msglen, TP_ERR_IO, "cannot open %s: %s", o->path, strerror(errno));
    }
    struct stat sb;
    if (rc == TP_OK && fstat(fd, &sb) != 0)
        rc = tp_fail(msg, msglen, TP_ERR_IO, "cannot stat %s: %s", o->path, strerror(errno));
    if (rc == TP_OK && S_ISDIR(sb.st_mode))
        rc = tp_fail(msg, msglen, TP_ERR_IO, "%s is a directory", o->path);
    if (rc == TP_OK) {
        im.progress.on = o->progress;
        im.progress.size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
        if (batch_alloc(&im.buf[0], im.batch_max) != TP_OK ||
            batch_alloc(&im.buf[1], im.batch_max) != TP_OK ||
            !(im.dups = calloc(im.batch_max, sizeof *im.dups)))
            rc = tp_fail(msg, msglen, TP_ERR_NOMEM, "out of memory");
        im.fill = &im.buf[0];
    }
    if (rc == TP_OK) {
        im.report = report_open(o, S_ISREG(sb.st_mode), st, msg, msglen);
        if (!im.report)
            rc = TP_ERR_IO;
    }
    int bulk = 0;
    if (rc == TP_OK && im.ops->bulk_load && im.ops->bulk_load(im.impl, 1) == TP_OK)
        bulk = 1;
    if (rc == TP_OK)
        rc = run(&im, fd, msg, msglen);
    if (bulk && im.ops->bulk_load(im.impl, 0) != TP_OK && rc == TP_OK)
        rc = tp_fail(msg, msglen, TP_ERR_IO, "cannot leave bulk-load mode");
    if (im.report) {
        int werr = ferror(im.report);
        if ((fclose(im.report) != 0 || werr) && rc == TP_OK)
            rc = tp_fail(msg, msglen, TP_ERR_IO, "cannot write the report %s: %s", st->report_path,
                         strerror(errno));
    }
    progress_draw(&im.progress, st, 1);
    if (fd >= 0)
        close(fd);
    sodium_memzero(&im.csv, sizeof im.csv);
    sodium_memzero(&im.rec, sizeof im.rec);
    batch_free(&im.buf[0], im.batch_max);
    batch_free(&im.buf[1], im.batch_max);
    free(im.dups);
    free(im.contracts);
    pthread_mutex_destroy(&im.mu);
    pthread_cond_destroy(&im.cv);
    return rc;
}
