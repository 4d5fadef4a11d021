/* The insurer's bulk load of beneficiaries from a CSV file (docs/IMPORT.md).
 *
 * The shell around src/core/csv.h: reads the file in fixed-size chunks, validates each row,
 * seals it (security/keys.h) and upserts the valid rows through the store in batches, one
 * transaction per batch, on a writer thread while the next batch is parsed and sealed.
 *
 * Memory does not depend on the file size: two batch buffers (about 900 bytes a row: 90 MiB at
 * the default batch size), a 1 MiB read buffer, and the store's bulk-load page cache (store.h).
 * A (member, rank) given twice in the file is found by the store, not in memory: each row is
 * written with this import's run number and its line (store.h, beneficiaries_import), and a
 * later row with the same key is reported as a duplicate of that line.
 *
 * Batch size: every commit rewrites the index pages the batch touched, and with random keys
 * (blind indexes) a batch of 50,000 touches most of them once the table holds a million
 * rows; fewer, larger batches write far less (docs/IMPORT.md has the measurements).
 * The cost is the writer lock, held about a second per batch: on a platform serving requests,
 * a smaller --batch trades import speed for shorter stalls of the server's writes.
 *
 * Guarantees:
 * - a batch is written whole or not at all: a crash leaves complete rows of whole batches;
 * - importing the same file again changes no beneficiary's data (rows are compared by keyed
 *   digest; only the run and line recorded on each row change);
 * - rejected rows are listed (line, column, reason) in a report that holds no personal data;
 *   they do not stop the import. */
#ifndef TP_IMPORT_IMPORT_H
#define TP_IMPORT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "security/keys.h"
#include "store/store.h"

#define TP_IMPORT_CHUNK (1u << 20) /* bytes read at a time */
#define TP_IMPORT_BATCH 50000      /* rows per transaction, by default */
#define TP_IMPORT_BATCH_MAX 100000
#define TP_IMPORT_MAX_ROWS 10000000ull /* data rows per file: split bigger files */
#define TP_IMPORT_MAX_CONTRACTS 4096   /* contracts of one AMC, cached at start */

struct tp_import_opts {
    const char *path;        /* the CSV file */
    const char *amc;         /* AMC number: every row belongs to it */
    const char *report_path; /* NULL: PATH.report.csv, or its base name in the current
                                directory when the input's directory is not writable */
    tp_day today;            /* birth dates after it are rejected */
    size_t batch_rows;       /* 0: TP_IMPORT_BATCH */
    int progress;            /* draw a progress bar on stderr (the caller checks isatty) */
};

struct tp_import_stats {
    uint64_t read;      /* data records (not the header, not empty lines) */
    uint64_t imported;  /* rows inserted, or updated because they differed */
    uint64_t unchanged; /* rows identical to what was stored */
    uint64_t rejected;  /* rows listed in the report */
    uint64_t batches;   /* transactions committed */
    uint64_t bytes;     /* bytes of input read */
    char report_path[4096];
};

/* Imports o->path into the store. Returns TP_OK when the whole file was processed (whether or
 * not rows were rejected: see st->rejected); any other value is a file-level failure (cannot
 * open or read the file, bad header, unknown AMC, database error, too many rows), explained in
 * msg, after which the batches already committed stay committed (re-running is safe). *st is
 * filled in either case. */
enum tp_err tp_import_beneficiaries(const struct tp_keys *keys, struct tp_store *store,
                                    const struct tp_import_opts *o, struct tp_import_stats *st,
                                    char *msg, size_t msglen) TP_MUST_USE;

#endif
