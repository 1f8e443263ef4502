/* Shared by the files of lib/print: drawing on a cairo context in points. */
#ifndef ADMIT_PRINT_INTERNAL_H
#define ADMIT_PRINT_INTERNAL_H

#include <cairo.h>

#include "admit/print/badge.h"

#define PT_PER_MM (72.0 / 25.4)

/* Draws the QR code of text as a square of side points with its top left corner at (x, y),
 * quiet zone included, dark modules filled in one path. ADMIT_ERR_QR when it cannot be encoded. */
enum admit_rc print_qr_draw(cairo_t *cr, const char *text, double x, double y,
                            double side) ADMIT_MUST_CHECK;

/* Draws badge in layout with its top left corner at the current origin of cr. */
enum admit_rc print_badge_draw(cairo_t *cr, const struct admit_badge_layout *layout,
                               const struct admit_badge *badge) ADMIT_MUST_CHECK;

#endif
