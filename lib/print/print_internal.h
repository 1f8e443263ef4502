/* Shared by the files of lib/print: drawing on a cairo context in points. */
#ifndef ADMIT_PRINT_INTERNAL_H
#define ADMIT_PRINT_INTERNAL_H

#include <cairo.h>
#include <jansson.h>
#include <stdbool.h>

#include "admit/core/buf.h"

#include "admit/print/badge.h"

#define PT_PER_MM (72.0 / 25.4)

/* Draws the QR code of text as a square of side points with its top left corner at (x, y),
 * quiet zone included, dark modules filled in one path. ADMIT_ERR_QR when it cannot be encoded. */
enum admit_rc print_qr_draw(cairo_t *cr, const char *text, double x, double y,
                            double side) ADMIT_MUST_CHECK;

/* A box text is fitted into: at x, width x height points, type from max_pt down to min_pt
 * (then cut with "…"), at most max_lines lines. */
struct print_box {
    double x, width, height;
    double max_pt, min_pt;
    int max_lines;
    bool bold, centre;
};

/* Draws text (UTF-8, any script; "" draws nothing) fitted into box with its top at *y, and moves
 * *y below it (plus a small gap). */
void print_text(cairo_t *cr, const char *text, const struct print_box *box, double *y);

/* Draws badge in layout with its top left corner at the current origin of cr. */
enum admit_rc print_badge_draw(cairo_t *cr, const struct admit_badge_layout *layout,
                               const struct admit_badge *badge) ADMIT_MUST_CHECK;

/* Appends the one-page PDF certificate of page (what the certificate_page query answers) with
 * its signed payload (as a QR code and as text) to out. ADMIT_ERR_TOO_LARGE when out is full,
 * ADMIT_ERR_IO when cairo failed; out is unchanged then. */
enum admit_rc print_certificate_pdf(json_t *page, const char *payload, const char *verify_url,
                                    struct admit_buf *out) ADMIT_MUST_CHECK;

/* Draws the certificate of print_certificate_pdf on cr, an A4 page in points (the pictures of
 * docs/paper.md draw it on an image surface: docs/render_samples.c). */
enum admit_rc print_certificate_draw(cairo_t *cr, json_t *page, const char *payload,
                                     const char *verify_url) ADMIT_MUST_CHECK;

/* The same for the one-page ticket of page (what the ticket_page query answers) with its
 * ticket text payload. */
enum admit_rc print_ticket_pdf(json_t *page, const char *payload,
                               struct admit_buf *out) ADMIT_MUST_CHECK;

#endif
