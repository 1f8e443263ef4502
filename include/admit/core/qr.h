/* QR codes for tickets: encoding with libqrencode (error correction level M), and rendering as
 * SVG (one path for all dark modules, 4-module quiet zone, crisp at any size) or PNG (libpng,
 * one-bit greyscale, configurable module size). */
#ifndef ADMIT_QR_H
#define ADMIT_QR_H

#include <stddef.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"

#define ADMIT_QR_QUIET_ZONE    4
#define ADMIT_QR_MODULE_PX_MAX 64
/* Pixels per module of an SVG's own width and height (a version 5 code: 360 px): the size
 * viewers and converters draw it at, large enough for a phone or webcam to read. Pages size it
 * with CSS. */
#define ADMIT_QR_SVG_MODULE_PX 8

struct admit_qr {
    int version;            /* 1..40 */
    int width;              /* modules per side, without quiet zone */
    unsigned char *modules; /* width * width bytes, row-major, 1 = dark; owned */
};

/* Encodes text at level M with the smallest version that fits (alphanumeric mode when the text
 * allows it). On success *out is a new code to release with admit_qr_free. ADMIT_ERR_QR when
 * libqrencode refuses (text too long, out of memory inside the library). */
enum admit_rc admit_qr_encode(const char *text, struct admit_qr **out) ADMIT_MUST_CHECK;
void admit_qr_free(struct admit_qr *qr);

/* Appends a standalone SVG document to out: one module per unit of its viewBox, drawn at
 * ADMIT_QR_SVG_MODULE_PX pixels per module (its width and height), labelled "Ticket QR code"
 * for screen readers. */
enum admit_rc admit_qr_svg(const struct admit_qr *qr, struct admit_buf *out) ADMIT_MUST_CHECK;
/* The same with another label (role="img" aria-label): plain text without the characters
 * < > & " ' (ADMIT_ERR_INVALID otherwise, nothing appended). */
enum admit_rc admit_qr_svg_labelled(const struct admit_qr *qr, const char *label,
                                    struct admit_buf *out) ADMIT_MUST_CHECK;

/* Appends a PNG file (module_px pixels per module, 1..ADMIT_QR_MODULE_PX_MAX) to out.
 * ADMIT_ERR_INVALID for a bad module size, ADMIT_ERR_QR if libpng fails. */
enum admit_rc admit_qr_png(const struct admit_qr *qr, unsigned module_px,
                           struct admit_buf *out) ADMIT_MUST_CHECK;

#endif
