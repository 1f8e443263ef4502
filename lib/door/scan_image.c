/* Pictures of tickets: gdk-pixbuf reads the file (PNG, JPEG with its EXIF orientation, SVG
 * through librsvg's loader), libzbar finds the QR codes in its luminance. Only those three
 * formats are opened: a door has no use for the others, and each is more code reading input. */
#include "admit/door/scan_image.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <zbar.h>

#include "admit/core/mem.h"

/* An SVG is drawn with its longer side at least this many pixels: enough modules per pixel for
 * libzbar whatever size the file declares. */
#define SVG_MIN_SIDE 800

/* The picture as 8-bit luminance (libzbar's Y800), transparency over white. Caller frees. */
static unsigned char *luminance(const GdkPixbuf *pixbuf)
{
    int width = gdk_pixbuf_get_width(pixbuf), height = gdk_pixbuf_get_height(pixbuf);
    int channels = gdk_pixbuf_get_n_channels(pixbuf), stride = gdk_pixbuf_get_rowstride(pixbuf);
    bool alpha = gdk_pixbuf_get_has_alpha(pixbuf);
    const guchar *pixels = gdk_pixbuf_read_pixels(pixbuf);
    unsigned char *gray = admit_xmalloc((size_t)width * (size_t)height);
    for (int y = 0; y < height; y++) {
        const guchar *p = pixels + (size_t)y * (size_t)stride;
        for (int x = 0; x < width; x++, p += channels) {
            unsigned v = (299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u;
            if (alpha)
                v = (v * p[3] + 255u * (255u - p[3])) / 255u;
            gray[(size_t)y * (size_t)width + (size_t)x] = (unsigned char)v;
        }
    }
    return gray;
}

/* Reads path with gdk-pixbuf into *out (upright). why says what went wrong. */
static enum admit_rc load(const char *path, GdkPixbuf **out, struct admit_error *why)
{
    int width = 0, height = 0;
    GError *error = NULL;
    GdkPixbuf *pixbuf = NULL;
    *out = NULL;
    GdkPixbufFormat *format = gdk_pixbuf_get_file_info(path, &width, &height);
    gchar *name = format != NULL ? gdk_pixbuf_format_get_name(format) : NULL;
    bool svg = name != NULL && strcmp(name, "svg") == 0;
    bool raster = name != NULL && (strcmp(name, "png") == 0 || strcmp(name, "jpeg") == 0);
    g_free(name);
    if (!svg && !raster) {
        admit_error_set(why, "not a PNG, JPEG or SVG picture");
        return ADMIT_ERR_INVALID;
    }
    if (width <= 0 || height <= 0) {
        admit_error_set(why, "a damaged picture (no size)");
        return ADMIT_ERR_INVALID;
    }
    if (svg) {
        /* Drawn, not decoded: at a size libzbar reads, whatever size the file declares. */
        int longer = width > height ? width : height;
        double scale = longer < SVG_MIN_SIDE ? (double)SVG_MIN_SIDE / longer : 1.0;
        width = (int)(width * scale);
        height = (int)(height * scale);
    }
    if ((unsigned long long)width * (unsigned long long)height > ADMIT_SCAN_IMAGE_MAX_PIXELS) {
        admit_error_set(why, "the picture is too large");
        return ADMIT_ERR_TOO_LARGE;
    }
    pixbuf = svg ? gdk_pixbuf_new_from_file_at_scale(path, width, height, TRUE, &error)
                 : gdk_pixbuf_new_from_file(path, &error);
    if (pixbuf == NULL) {
        admit_error_set(why, "%s", error != NULL ? error->message : "a damaged picture");
        g_clear_error(&error);
        return ADMIT_ERR_INVALID;
    }
    /* A phone's photo or screenshot says in EXIF which way is up. */
    *out = gdk_pixbuf_apply_embedded_orientation(pixbuf);
    g_object_unref(pixbuf);
    return *out != NULL ? ADMIT_OK : ADMIT_ERR_INVALID;
}

enum admit_rc admit_scan_image_decode(const char *path,
                                      void (*found)(void *ctx, const char *text, size_t len),
                                      void *ctx, size_t *count, struct admit_error *why)
{
    GdkPixbuf *pixbuf = NULL;
    unsigned char *gray = NULL;
    zbar_image_scanner_t *scanner = NULL;
    zbar_image_t *zimage = NULL;
    enum admit_rc rc;
    *count = 0;
    admit_error_clear(why);
    /* gdk-pixbuf does not tell a missing file from a bad one: ask the file system first. */
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ADMIT_ERR_IO;
    fclose(f);
    rc = load(path, &pixbuf, why);
    if (rc != ADMIT_OK)
        goto done;
    unsigned width = (unsigned)gdk_pixbuf_get_width(pixbuf);
    unsigned height = (unsigned)gdk_pixbuf_get_height(pixbuf);
    gray = luminance(pixbuf);
    zbar_set_verbosity(0);
    scanner = zbar_image_scanner_create();
    zimage = zbar_image_create();
    if (scanner == NULL || zimage == NULL)
        abort();
    /* Tickets are QR codes: other symbologies would only add false readings. */
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
    zbar_image_set_format(zimage, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(zimage, width, height);
    zbar_image_set_data(zimage, gray, (unsigned long)width * height, NULL);
    if (zbar_scan_image(scanner, zimage) < 0) {
        rc = ADMIT_ERR_INVALID;
        admit_error_set(why, "libzbar could not scan the picture");
        goto done;
    }
    for (const zbar_symbol_t *sym = zbar_image_first_symbol(zimage); sym != NULL;
         sym = zbar_symbol_next(sym)) {
        found(ctx, zbar_symbol_get_data(sym), zbar_symbol_get_data_length(sym));
        (*count)++;
    }
    rc = ADMIT_OK;
done:
    if (zimage != NULL)
        zbar_image_destroy(zimage);
    if (scanner != NULL)
        zbar_image_scanner_destroy(scanner);
    if (pixbuf != NULL)
        g_object_unref(pixbuf);
    free(gray);
    return rc;
}
