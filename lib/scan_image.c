#include "admit/scan_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zbar.h>

#include "admit/mem.h"

static void set_why(char *why, size_t whylen, const char *text)
{
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", text);
}

enum admit_rc admit_scan_image_decode(const char *path,
                                      void (*found)(void *ctx, const char *text, size_t len),
                                      void *ctx, size_t *count, char *why, size_t whylen)
{
    png_image image;
    unsigned char *pixels = NULL;
    zbar_image_scanner_t *scanner = NULL;
    zbar_image_t *zimage = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    *count = 0;
    set_why(why, whylen, "");
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ADMIT_ERR_IO;
    /* libpng's simplified API reports errors in image.message, never on stderr. */
    if (!png_image_begin_read_from_stdio(&image, f)) {
        set_why(why, whylen, image.message[0] ? image.message : "not a PNG image");
        goto done;
    }
    if ((unsigned long long)image.width * image.height > ADMIT_SCAN_IMAGE_MAX_PIXELS) {
        rc = ADMIT_ERR_TOO_LARGE;
        set_why(why, whylen, "the picture is too large");
        goto done;
    }
    image.format = PNG_FORMAT_GRAY; /* 8-bit luminance: what zbar's Y800 format is */
    pixels = admit_xmalloc(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        set_why(why, whylen, image.message[0] ? image.message : "a damaged PNG image");
        goto done;
    }
    zbar_set_verbosity(0);
    scanner = zbar_image_scanner_create();
    zimage = zbar_image_create();
    if (scanner == NULL || zimage == NULL)
        abort();
    /* Tickets are QR codes: other symbologies would only add false readings. */
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
    zbar_image_set_format(zimage, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(zimage, image.width, image.height);
    zbar_image_set_data(zimage, pixels, (unsigned long)image.width * image.height, NULL);
    if (zbar_scan_image(scanner, zimage) < 0) {
        set_why(why, whylen, "libzbar could not scan the picture");
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
    png_image_free(&image);
    free(pixels);
    fclose(f);
    return rc;
}
