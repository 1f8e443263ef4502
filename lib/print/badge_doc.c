/* A PDF of badges, streamed: cairo's PDF surface writes each page through the caller's writer
 * as it is finished, so memory holds one page (and the fonts' subsets), whatever the count. */
#include <cairo-pdf.h>
#include <stdlib.h>

#include "admit/core/mem.h"
#include "print_internal.h"

#define A4_W_MM 210.0
#define A4_H_MM 297.0
#define CROP_MM 4.0 /* length of a crop mark, drawn in the page's margin */

struct admit_badge_doc {
    struct admit_badge_layout layout;
    struct admit_badge_doc_options options;
    admit_print_write_fn write;
    void *closure;
    int write_failed;
    cairo_surface_t *surface;
    cairo_t *cr;
    int cols, rows; /* badges across and down a sheet (1 x 1 alone) */
    double x0, y0;  /* the grid's top left corner on a sheet, in points */
    size_t count;   /* badges added */
    size_t on_page; /* badges on the current page */
};

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
    struct admit_badge_doc *doc = closure;
    if (doc->write_failed || doc->write(doc->closure, data, len) != 0) {
        doc->write_failed = 1;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

static void grid(struct admit_badge_doc *doc)
{
    const struct admit_badge_layout *l = &doc->layout;
    doc->cols = doc->rows = 1;
    if (!doc->options.sheet)
        return;
    doc->cols = (int)(A4_W_MM / l->width_mm);
    doc->rows = (int)(A4_H_MM / l->height_mm);
    if (doc->cols < 1)
        doc->cols = 1;
    if (doc->rows < 1)
        doc->rows = 1;
    doc->x0 = (A4_W_MM - doc->cols * l->width_mm) / 2 * PT_PER_MM;
    doc->y0 = (A4_H_MM - doc->rows * l->height_mm) / 2 * PT_PER_MM;
}

enum admit_rc admit_badge_doc_open(struct admit_badge_doc **out,
                                   const struct admit_badge_layout *layout,
                                   const struct admit_badge_doc_options *options,
                                   admit_print_write_fn write, void *closure)
{
    struct admit_badge_doc *doc = admit_xcalloc(1, sizeof *doc);
    doc->layout = *layout;
    doc->options = *options;
    doc->write = write;
    doc->closure = closure;
    grid(doc);
    double w = options->sheet ? A4_W_MM : layout->width_mm;
    double h = options->sheet ? A4_H_MM : layout->height_mm;
    doc->surface = cairo_pdf_surface_create_for_stream(write_cb, doc, w * PT_PER_MM, h * PT_PER_MM);
    cairo_pdf_surface_set_metadata(doc->surface, CAIRO_PDF_METADATA_TITLE, "Badges");
    cairo_pdf_surface_set_metadata(doc->surface, CAIRO_PDF_METADATA_CREATOR, "admit");
    doc->cr = cairo_create(doc->surface);
    if (cairo_status(doc->cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(doc->cr);
        cairo_surface_destroy(doc->surface);
        free(doc);
        *out = NULL;
        return ADMIT_ERR_IO;
    }
    *out = doc;
    return ADMIT_OK;
}

/* Short lines in the page's margin where the cuts between and around the badges go. */
static void crop_marks(struct admit_badge_doc *doc)
{
    cairo_t *cr = doc->cr;
    double bw = doc->layout.width_mm * PT_PER_MM, bh = doc->layout.height_mm * PT_PER_MM;
    double len = CROP_MM * PT_PER_MM;
    double right = doc->x0 + doc->cols * bw, bottom = doc->y0 + doc->rows * bh;
    cairo_save(cr);
    cairo_set_line_width(cr, 0.3);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int c = 0; c <= doc->cols; c++) {
        double x = doc->x0 + c * bw;
        cairo_move_to(cr, x, doc->y0 - len - 2);
        cairo_line_to(cr, x, doc->y0 - 2);
        cairo_move_to(cr, x, bottom + 2);
        cairo_line_to(cr, x, bottom + len + 2);
    }
    for (int r = 0; r <= doc->rows; r++) {
        double y = doc->y0 + r * bh;
        cairo_move_to(cr, doc->x0 - len - 2, y);
        cairo_line_to(cr, doc->x0 - 2, y);
        cairo_move_to(cr, right + 2, y);
        cairo_line_to(cr, right + len + 2, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void end_page(struct admit_badge_doc *doc)
{
    if (doc->options.sheet && doc->options.crop_marks)
        crop_marks(doc);
    cairo_show_page(doc->cr);
    doc->on_page = 0;
}

enum admit_rc admit_badge_doc_add(struct admit_badge_doc *doc, const struct admit_badge *badge)
{
    size_t per_page = (size_t)doc->cols * (size_t)doc->rows;
    if (doc->on_page == per_page)
        end_page(doc);
    int col = (int)(doc->on_page % (size_t)doc->cols);
    int row = (int)(doc->on_page / (size_t)doc->cols);
    cairo_save(doc->cr);
    cairo_translate(doc->cr, doc->x0 + col * doc->layout.width_mm * PT_PER_MM,
                    doc->y0 + row * doc->layout.height_mm * PT_PER_MM);
    enum admit_rc rc = print_badge_draw(doc->cr, &doc->layout, badge);
    cairo_restore(doc->cr);
    doc->on_page++;
    doc->count++;
    if (rc == ADMIT_OK && cairo_status(doc->cr) != CAIRO_STATUS_SUCCESS)
        rc = ADMIT_ERR_IO;
    return rc;
}

enum admit_rc admit_badge_doc_close(struct admit_badge_doc *doc, size_t *count)
{
    if (doc == NULL)
        return ADMIT_OK;
    if (doc->on_page > 0 || doc->count == 0)
        end_page(doc);
    cairo_destroy(doc->cr);
    cairo_surface_finish(doc->surface);
    enum admit_rc rc =
        cairo_surface_status(doc->surface) == CAIRO_STATUS_SUCCESS && !doc->write_failed
            ? ADMIT_OK
            : ADMIT_ERR_IO;
    cairo_surface_destroy(doc->surface);
    if (count != NULL)
        *count = doc->count;
    free(doc);
    return rc;
}
