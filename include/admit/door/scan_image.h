/* Reading a ticket from a picture (admit scan --image): the QR codes of a PNG or JPEG file (a
 * phone's screenshot or photo, upright by its EXIF orientation) or of the ticket's own SVG,
 * read with gdk-pixbuf and decoded with libzbar, for a door without a hand scanner. */
#ifndef ADMIT_SCAN_IMAGE_H
#define ADMIT_SCAN_IMAGE_H

#include <stddef.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"

/* Largest picture decoded, in pixels (a 12-megapixel photo). */
#define ADMIT_SCAN_IMAGE_MAX_PIXELS (12u * 1000u * 1000u)

/* Decodes every QR code in the picture file path (PNG, JPEG or SVG; an SVG is drawn at least
 * 800 pixels wide) and calls found(ctx, text, len) for each, in the order libzbar reports them;
 * *count is how many. ADMIT_ERR_IO (errno set) when the file cannot be read, ADMIT_ERR_INVALID
 * when it is none of those formats or damaged (the reason in err; may be NULL),
 * ADMIT_ERR_TOO_LARGE past ADMIT_SCAN_IMAGE_MAX_PIXELS. A picture without a QR code is ADMIT_OK
 * with *count 0. */
enum admit_rc admit_scan_image_decode(const char *path,
                                      void (*found)(void *ctx, const char *text, size_t len),
                                      void *ctx, size_t *count,
                                      struct admit_error *err) ADMIT_MUST_CHECK;

#endif
