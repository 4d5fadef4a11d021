/* Writing an incident's notification folder (PRODUCT.md §3.7; GDPR art. 33 and 34).
 *
 * Given a validated assessment (incident/notice.h), writes:
 *
 *   DIR/amc-<AMC number>.csv                 the exposed members of that AMC (notice.h CSV)
 *   DIR/art33-<AMC number>.txt               that AMC's art. 33 notification draft
 *   DIR/notices/<AMC number>/<ref>.txt       one art. 34 notice per exposed person, text
 *   DIR/notices/<AMC number>/<ref>.pdf       the same notice as PDF (incident/pdf.h)
 *   DIR/MANIFEST.sha256                      SHA-256 of every file above, in the format of
 *                                            `sha256sum` (check with `sha256sum -c`)
 *
 * Files are named by AMC number and pseudonymous beneficiary reference, never by name. Every
 * file is created with mode 0600 and every directory 0700: they hold personal data.
 *
 * Atomicity: everything is written into a fresh sibling directory "DIR.tmp-XXXXXX", flushed
 * to disk (syncfs), and that directory is then renamed to DIR in one rename(2). Readers see
 * either no DIR or the complete folder with its manifest; on any error the temporary
 * directory is removed. DIR must not exist, or be an empty directory (TP_ERR_CONFLICT
 * otherwise): an earlier assessment is never overwritten.
 *
 * Speed: notices are rendered on up to 8 threads (one per online CPU, fewer for small runs),
 * each with its own long-lived PDF renderer (incident/pdf.h); CSV files and art. 33 drafts
 * are written first, on the calling thread. Figures in docs/INCIDENT.md.
 *
 * Thread-safety: reentrant; one call at a time per DIR. */
#ifndef TP_INCIDENT_WRITER_H
#define TP_INCIDENT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "incident/notice.h"

#define TP_INCIDENT_MANIFEST "MANIFEST.sha256"

struct tp_incident_write_result {
    size_t files;      /* files listed in the manifest */
    size_t notices;    /* people notified (one .txt and one .pdf each) */
    int64_t pdf_pages; /* pages over every PDF */
    uint64_t bytes;    /* bytes over every file listed */
};

/* Validates the assessment (tp_incident_assessment_check: its errors and messages) and writes
 * the folder described above. `res` may be NULL. Errors: TP_ERR_INVALID / TP_ERR_TOO_BIG (bad
 * input, nothing written), TP_ERR_CONFLICT (DIR exists and is not an empty directory),
 * TP_ERR_IO (with the failing step and errno text in msg), TP_ERR_NOMEM, TP_ERR_INTERNAL. */
enum tp_err tp_incident_write(const char *dir, const struct tp_incident *inc,
                              const struct tp_incident_amc *amcs, int n_amc,
                              const struct tp_exposed_person *people, size_t n_people,
                              struct tp_incident_write_result *res, char *msg,
                              size_t len) TP_MUST_USE;

#endif
