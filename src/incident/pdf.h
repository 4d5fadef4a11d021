/* Rendering a text document to PDF (cairo + pango), for incident notices.
 *
 * Input is UTF-8 text in the convention of incident/notice.h: paragraphs separated by one
 * blank line; the first paragraph is the heading (bold, larger), the second the contact
 * block (smaller, grey rule below), the others the body. Lines inside a paragraph are kept;
 * pango wraps long lines to the text width and shapes the text with "DejaVu Sans 11" (a font
 * with every French accent and €; Debian package fonts-dejavu-core). A4 portrait, 20 mm
 * margins, a page number at the foot of each page, a new page whenever the text runs past the
 * bottom margin. The text is shown with pango_layout_set_text, never parsed as markup.
 *
 * Tens of thousands of notices may be rendered for one incident: a renderer keeps its font
 * map, pango context, layout and font descriptions for its whole life, so each document costs
 * only its own PDF surface.
 *
 * Thread-safety: a renderer is used by one thread at a time; separate renderers may run in
 * separate threads. */
#ifndef TP_INCIDENT_PDF_H
#define TP_INCIDENT_PDF_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

#define TP_PDF_TEXT_MAX 65536 /* bytes of input text */
#define TP_PDF_PAGES_MAX 40   /* a notice is 2-3 pages; beyond this the input is absurd */

struct tp_pdf;

/* Creates a renderer. TP_ERR_NOMEM, or TP_ERR_INTERNAL if pango cannot build a context. */
enum tp_err tp_pdf_new(struct tp_pdf **out, char *msg, size_t len) TP_MUST_USE;

/* Frees the renderer (NULL is fine). */
void tp_pdf_free(struct tp_pdf *r);

/* Renders text[0..text_len) as one PDF written to `out` (which stays open; the caller checks
 * fflush/fsync). `title` goes into the PDF metadata (never put personal data there; may be
 * NULL). Errors: TP_ERR_INVALID (NULL, empty, not UTF-8, control characters other than
 * newline and tab, embedded NUL), TP_ERR_TOO_BIG (over TP_PDF_TEXT_MAX bytes or
 * TP_PDF_PAGES_MAX pages), TP_ERR_IO (writing failed), TP_ERR_INTERNAL (cairo failure).
 * On error, bytes may already have been written to `out`: write to a temporary file. */
enum tp_err tp_pdf_render(struct tp_pdf *r, const char *text, size_t text_len, const char *title,
                          FILE *out, char *msg, size_t len) TP_MUST_USE;

/* Pages of the last successful tp_pdf_render (0 before the first). */
int tp_pdf_last_pages(const struct tp_pdf *r);

#endif
