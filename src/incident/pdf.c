/* Text document -> PDF with cairo and pango. See pdf.h for the contract. */
#include "incident/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A4 portrait in PostScript points (cairo's PDF user unit), 20 mm margins. */
#define PAGE_W 595.2756
#define PAGE_H 841.8898
#define MARGIN 56.6929
#define FOOT_Y (PAGE_H - MARGIN / 2)
#define TEXT_W (PAGE_W - 2 * MARGIN)

struct tp_pdf {
    PangoFontMap *fontmap;
    PangoContext *ctx;
    PangoLayout *layout; /* reused for every paragraph of every document */
    PangoLayout *foot;   /* page numbers: apart, so a page break never disturbs `layout` */
    PangoFontDescription *body, *heading, *small;
    double dash_width; /* width of "- " in the body font: the hanging indent of list items */
    int last_pages;
};

enum tp_err tp_pdf_new(struct tp_pdf **out, char *msg, size_t len)
{
    *out = NULL;
    struct tp_pdf *r = calloc(1, sizeof *r);
    if (!r)
        return tp_fail(msg, len, TP_ERR_NOMEM, "pdf: out of memory");
    r->fontmap = pango_cairo_font_map_new();
    if (!r->fontmap) {
        free(r);
        return tp_fail(msg, len, TP_ERR_INTERNAL, "pdf: no font map (fontconfig?)");
    }
    /* 72 dpi: one pango point is one PDF user unit, so "11" means an 11 pt font on paper. */
    pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(r->fontmap), 72.0);
    r->ctx = pango_font_map_create_context(r->fontmap);
    /* Vector output: glyph positions must not snap to a screen's pixel grid. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(r->ctx, fo);
    cairo_font_options_destroy(fo);
    r->layout = pango_layout_new(r->ctx);
    r->foot = pango_layout_new(r->ctx);
    r->body = pango_font_description_from_string("DejaVu Sans 11");
    r->heading = pango_font_description_from_string("DejaVu Sans Bold 14");
    r->small = pango_font_description_from_string("DejaVu Sans 9");
    if (!r->ctx || !r->layout || !r->foot || !r->body || !r->heading || !r->small) {
        tp_pdf_free(r);
        return tp_fail(msg, len, TP_ERR_INTERNAL, "pdf: cannot create a pango layout");
    }
    pango_layout_set_width(r->layout, (int)(TEXT_W * PANGO_SCALE));
    pango_layout_set_wrap(r->layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_width(r->foot, (int)(TEXT_W * PANGO_SCALE));
    pango_layout_set_alignment(r->foot, PANGO_ALIGN_CENTER);
    pango_layout_set_font_description(r->foot, r->small);
    pango_layout_set_font_description(r->layout, r->body);
    pango_layout_set_text(r->layout, "- ", 2);
    int dash_w = 0;
    pango_layout_get_size(r->layout, &dash_w, NULL);
    r->dash_width = (double)dash_w / PANGO_SCALE;
    *out = r;
    return TP_OK;
}

void tp_pdf_free(struct tp_pdf *r)
{
    if (!r)
        return;
    if (r->body)
        pango_font_description_free(r->body);
    if (r->heading)
        pango_font_description_free(r->heading);
    if (r->small)
        pango_font_description_free(r->small);
    if (r->layout)
        g_object_unref(r->layout);
    if (r->foot)
        g_object_unref(r->foot);
    if (r->ctx)
        g_object_unref(r->ctx);
    if (r->fontmap)
        g_object_unref(r->fontmap);
    free(r);
}

int tp_pdf_last_pages(const struct tp_pdf *r)
{
    return r ? r->last_pages : 0;
}

struct sink {
    FILE *f;
    bool failed;
};

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int n)
{
    struct sink *s = closure;
    if (fwrite(data, 1, n, s->f) != n) {
        s->failed = true;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

/* Text we agree to typeset: valid UTF-8, no NUL, no control character but '\n' and '\t'. */
static bool text_ok(const char *text, size_t n)
{
    if (!g_utf8_validate(text, (gssize)n, NULL))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* A body paragraph whose first line is short, without final punctuation and without
 * " : ", and followed by more lines, is a section title: its first line is set in bold. */
static size_t section_title_len(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    if (!nl || nl == p)
        return 0;
    size_t l = (size_t)(nl - p);
    char last = p[l - 1];
    if (l > 80 || last == '.' || last == ',' || last == ':' || last == ';')
        return 0;
    for (size_t i = 0; i + 2 < l; i++)
        if (p[i] == ' ' && p[i + 1] == ':' && p[i + 2] == ' ')
            return 0;
    return l;
}

struct page {
    cairo_t *cr;
    struct tp_pdf *r;
    double y;
    int pages;
};

static void page_footer(struct page *pg)
{
    char num[16];
    snprintf(num, sizeof num, "%d", pg->pages);
    PangoLayout *l = pg->r->foot;
    pango_layout_set_text(l, num, -1);
    cairo_save(pg->cr);
    cairo_set_source_rgb(pg->cr, 0.4, 0.4, 0.4);
    cairo_move_to(pg->cr, MARGIN, FOOT_Y - 9);
    pango_cairo_show_layout(pg->cr, l);
    cairo_restore(pg->cr);
}

/* Ends the current page (footer, show_page) and starts the next one. */
static void page_break(struct page *pg)
{
    page_footer(pg);
    cairo_show_page(pg->cr);
    pg->pages++;
    pg->y = MARGIN;
}

/* Lays out one block of text with the given font, line by line at each line's baseline,
 * breaking pages as needed. `bold_len` leading bytes are bold; `hang` (points) indents every
 * line but the first (list items). */
static bool block(struct page *pg, const char *p, size_t n, const PangoFontDescription *font,
                  size_t bold_len, double hang)
{
    PangoLayout *l = pg->r->layout;
    PangoAttrList *attrs = NULL;
    if (bold_len) {
        attrs = pango_attr_list_new();
        PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
        a->start_index = 0;
        a->end_index = (guint)bold_len;
        pango_attr_list_insert(attrs, a);
    }
    pango_layout_set_font_description(l, font);
    pango_layout_set_attributes(l, attrs);
    pango_layout_set_indent(l, -(int)(hang * PANGO_SCALE));
    pango_layout_set_text(l, p, (int)n);
    if (attrs)
        pango_attr_list_unref(attrs);

    bool fits = true;
    PangoLayoutIter *it = pango_layout_get_iter(l);
    do {
        PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
        PangoRectangle logical; /* in layout coordinates: includes the indent */
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        double above = (double)(pango_layout_iter_get_baseline(it) - logical.y) / PANGO_SCALE;
        double h = (double)logical.height / PANGO_SCALE;
        if (pg->y + h > PAGE_H - MARGIN) {
            if (pg->pages >= TP_PDF_PAGES_MAX) {
                fits = false;
                break;
            }
            page_break(pg);
        }
        cairo_move_to(pg->cr, MARGIN + (double)logical.x / PANGO_SCALE, pg->y + above);
        pango_cairo_show_layout_line(pg->cr, line);
        pg->y += h;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    return fits;
}

/* A paragraph: its lines that start with "- " are list items, each its own block with a
 * hanging indent so that wrapped lines align after the dash; other lines are grouped. */
static bool paragraph(struct page *pg, const char *p, size_t n, const PangoFontDescription *font,
                      size_t bold_len)
{
    size_t i = 0;
    while (i < n) {
        bool item = n - i >= 2 && p[i] == '-' && p[i + 1] == ' ';
        size_t j = i;
        do {
            const char *nl = memchr(p + j, '\n', n - j);
            j = nl ? (size_t)(nl - p) + 1 : n;
        } while (!item && j < n && !(n - j >= 2 && p[j] == '-' && p[j + 1] == ' '));
        size_t seg = j - i;
        if (seg > 0 && p[i + seg - 1] == '\n')
            seg--;
        if (!block(pg, p + i, seg, font, i == 0 ? (bold_len < seg ? bold_len : seg) : 0,
                   item ? pg->r->dash_width : 0))
            return false;
        i = j;
    }
    return true;
}

enum tp_err tp_pdf_render(struct tp_pdf *r, const char *text, size_t text_len, const char *title,
                          FILE *out, char *msg, size_t len)
{
    if (!r || !text || !out)
        return tp_fail(msg, len, TP_ERR_INVALID, "pdf: missing argument");
    if (text_len == 0)
        return tp_fail(msg, len, TP_ERR_INVALID, "pdf: empty document");
    if (text_len > TP_PDF_TEXT_MAX)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "pdf: text over %d bytes", TP_PDF_TEXT_MAX);
    if (!text_ok(text, text_len))
        return tp_fail(msg, len, TP_ERR_INVALID,
                       "pdf: text is not UTF-8 or holds control characters");
    if (title && (strlen(title) > 200 || !text_ok(title, strlen(title))))
        return tp_fail(msg, len, TP_ERR_INVALID, "pdf: bad title");

    struct sink sink = {out, false};
    cairo_surface_t *surface =
        cairo_pdf_surface_create_for_stream(sink_write, &sink, PAGE_W, PAGE_H);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return tp_fail(msg, len, TP_ERR_INTERNAL, "pdf: cannot create a PDF surface");
    }
    if (title && title[0])
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "opentp");
    cairo_t *cr = cairo_create(surface);
    pango_cairo_update_context(cr, r->ctx);
    pango_layout_context_changed(r->layout);
    pango_layout_context_changed(r->foot);

    struct page pg = {cr, r, MARGIN, 1};
    bool fits = true;
    size_t i = 0;
    int index = 0;
    while (i < text_len && fits) {
        /* Skip blank lines, then take the paragraph up to the next blank line. */
        while (i < text_len && text[i] == '\n')
            i++;
        if (i >= text_len)
            break;
        size_t start = i;
        while (i < text_len && !(text[i] == '\n' && i + 1 < text_len && text[i + 1] == '\n'))
            i++;
        size_t n = i - start;
        while (n > 0 && text[start + n - 1] == '\n')
            n--;
        const char *p = text + start;
        if (index == 0) {
            fits = paragraph(&pg, p, n, r->heading, 0);
            pg.y += 10;
        } else if (index == 1) {
            cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
            fits = paragraph(&pg, p, n, r->small, 0);
            cairo_set_source_rgb(cr, 0, 0, 0);
            pg.y += 6;
            cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
            cairo_set_line_width(cr, 0.5);
            cairo_move_to(cr, MARGIN, pg.y);
            cairo_line_to(cr, PAGE_W - MARGIN, pg.y);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
            pg.y += 14;
        } else {
            fits = paragraph(&pg, p, n, r->body, section_title_len(p, n));
            pg.y += 8;
        }
        index++;
    }
    if (fits) {
        page_footer(&pg);
        cairo_show_page(cr);
    }
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (!fits)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "pdf: more than %d pages", TP_PDF_PAGES_MAX);
    if (sink.failed)
        return tp_fail(msg, len, TP_ERR_IO, "pdf: write failed");
    if (st != CAIRO_STATUS_SUCCESS)
        return tp_fail(msg, len, TP_ERR_INTERNAL, "pdf: %s", cairo_status_to_string(st));
    r->last_pages = pg.pages;
    return TP_OK;
}
