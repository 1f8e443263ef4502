/* One badge on a cairo context: the name shrunk and wrapped until it fits its box, the
 * organisation and its type below, the ticket's QR code at the bottom (the bottom right on a
 * landscape badge). Text is laid out by pango, so any script and the fonts' fallback work. */
#include <pango/pangocairo.h>

#include "admit/core/qr.h"
#include "print_internal.h"

#define MARGIN_MM   4.0
#define GAP_MM      2.0
#define MIN_NAME_PT 7.0
#define MIN_TEXT_PT 5.0
#define FONT_FAMILY "DejaVu Sans, Noto Sans, Noto Sans Arabic, sans-serif"

enum admit_rc print_qr_draw(cairo_t *cr, const char *text, double x, double y, double side)
{
    struct admit_qr *qr = NULL;
    enum admit_rc rc = admit_qr_encode(text, &qr);
    if (rc != ADMIT_OK)
        return rc;
    double module = side / (qr->width + 2 * ADMIT_QR_QUIET_ZONE);
    double x0 = x + ADMIT_QR_QUIET_ZONE * module;
    double y0 = y + ADMIT_QR_QUIET_ZONE * module;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, y, side, side);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int row = 0; row < qr->width; row++) {
        int col = 0;
        while (col < qr->width) { /* one rectangle per run of dark modules */
            if (!qr->modules[row * qr->width + col]) {
                col++;
                continue;
            }
            int start = col;
            while (col < qr->width && qr->modules[row * qr->width + col])
                col++;
            cairo_rectangle(cr, x0 + start * module, y0 + row * module, (col - start) * module,
                            module);
        }
    }
    cairo_fill(cr);
    cairo_restore(cr);
    admit_qr_free(qr);
    return ADMIT_OK;
}

/* A layout of text set in the largest size from max_pt down to min_pt at which it fits width x
 * height in at most max_lines lines; at min_pt, whatever still does not fit ends in "…". The
 * caller unrefs it. */
static PangoLayout *fit_text(cairo_t *cr, const char *text, bool bold, double max_pt, double min_pt,
                             double width, double height, int max_lines, bool centre)
{
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *font = pango_font_description_from_string(FONT_FAMILY);
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_text(layout, text, -1);
    pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, centre ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
    for (double size = max_pt;; size *= 0.9) {
        if (size < min_pt)
            size = min_pt;
        pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
        pango_layout_set_font_description(layout, font);
        PangoRectangle ink, logical;
        pango_layout_get_extents(layout, &ink, &logical);
        bool fits = pango_layout_get_line_count(layout) <= max_lines &&
                    logical.height <= height * PANGO_SCALE && logical.width <= width * PANGO_SCALE;
        if (fits)
            break;
        if (size <= min_pt) { /* the smallest type: cut what does not fit */
            /* at most max_lines lines, and no more than the box's height holds */
            int lines = pango_layout_get_line_count(layout);
            double line_h = (double)logical.height / (lines > 0 ? lines : 1);
            int fit = (int)(height * PANGO_SCALE / (line_h > 0 ? line_h : 1));
            pango_layout_set_height(layout, -(fit < max_lines ? (fit > 0 ? fit : 1) : max_lines));
            pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
            break;
        }
    }
    pango_font_description_free(font);
    return layout;
}

void print_text(cairo_t *cr, const char *text, const struct print_box *box, double *y)
{
    if (text[0] == '\0')
        return;
    PangoLayout *layout = fit_text(cr, text, box->bold, box->max_pt, box->min_pt, box->width,
                                   box->height, box->max_lines, box->centre);
    int w, h;
    pango_layout_get_size(layout, &w, &h);
    double used = (double)h / PANGO_SCALE;
    if (used > box->height)
        used = box->height;
    cairo_move_to(cr, box->x, *y);
    pango_cairo_show_layout(cr, layout);
    g_object_unref(layout);
    *y += used + GAP_MM * PT_PER_MM;
}

/* A badge's text: centred, in at most max_lines lines. */
static void draw_text(cairo_t *cr, const char *text, bool bold, double max_pt, double min_pt,
                      double x, double *y, double width, double height, int max_lines)
{
    struct print_box box = {x, width, height, max_pt, min_pt, max_lines, bold, true};
    print_text(cr, text, &box, y);
}

static void join_name(const struct admit_badge *badge, char *out, size_t cap)
{
    g_snprintf(out, cap, "%s%s%s", badge->given_name,
               badge->given_name[0] && badge->family_name[0] ? "\n" : "", badge->family_name);
}

enum admit_rc print_badge_draw(cairo_t *cr, const struct admit_badge_layout *l,
                               const struct admit_badge *badge)
{
    double w = l->width_mm * PT_PER_MM, h = l->height_mm * PT_PER_MM;
    double m = MARGIN_MM * PT_PER_MM, gap = GAP_MM * PT_PER_MM, q = l->qr_mm * PT_PER_MM;
    bool landscape = w > h;
    char name[1024];
    join_name(badge, name, sizeof name);
    cairo_save(cr);
    cairo_rectangle(cr, 0, 0, w, h);
    cairo_clip(cr); /* belt and braces: nothing drawn leaves the badge */
    cairo_set_source_rgb(cr, 0, 0, 0);
    double top = h - 2 * m - q - gap; /* the height above the QR code */
    double y = m;
    const char *marker = badge->marker != NULL ? badge->marker : "";
    bool marked = marker[0] != '\0';
    if (landscape) {
        draw_text(cr, name, true, l->name_pt, MIN_NAME_PT, m, &y, w - 2 * m, top, 3);
        double below = h - m - q, bw = w - 3 * m - q;
        draw_text(cr, badge->organisation, false, l->org_pt, MIN_TEXT_PT, m, &below, bw,
                  q * (marked ? 0.45 : 0.6), 2);
        draw_text(cr, badge->type, true, l->type_pt, MIN_TEXT_PT, m, &below, bw,
                  q * (marked ? 0.2 : 0.3), 1);
        if (marked)
            draw_text(cr, marker, true, l->type_pt, MIN_TEXT_PT, m, &below, bw, q * 0.3, 2);
    } else {
        draw_text(cr, name, true, l->name_pt, MIN_NAME_PT, m, &y, w - 2 * m,
                  top * (marked ? 0.5 : 0.6), 3);
        draw_text(cr, badge->organisation, false, l->org_pt, MIN_TEXT_PT, m, &y, w - 2 * m,
                  top * (marked ? 0.2 : 0.25), 2);
        draw_text(cr, badge->type, true, l->type_pt, MIN_TEXT_PT, m, &y, w - 2 * m,
                  top * (marked ? 0.12 : 0.15) - (marked ? 0 : gap), 1);
        if (marked)
            draw_text(cr, marker, true, l->type_pt, MIN_TEXT_PT, m, &y, w - 2 * m, top * 0.18 - gap,
                      2);
    }
    enum admit_rc rc = ADMIT_OK;
    if (badge->qr_text[0] != '\0')
        rc = print_qr_draw(cr, badge->qr_text, landscape ? w - m - q : (w - q) / 2, h - m - q, q);
    cairo_restore(cr);
    return rc;
}
