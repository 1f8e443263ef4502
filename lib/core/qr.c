#include "admit/core/qr.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>

#include "admit/core/mem.h"

enum admit_rc admit_qr_encode(const char *text, struct admit_qr **out)
{
    /* Case-sensitive so that libqrencode never folds the text; it picks alphanumeric mode for
     * runs of the 45-character set on its own. */
    QRcode *code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (code == NULL)
        return ADMIT_ERR_QR;
    struct admit_qr *qr = admit_xmalloc(sizeof *qr);
    size_t n = (size_t)code->width * (size_t)code->width;
    qr->version = code->version;
    qr->width = code->width;
    qr->modules = admit_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        qr->modules[i] = code->data[i] & 1;
    QRcode_free(code);
    *out = qr;
    return ADMIT_OK;
}

void admit_qr_free(struct admit_qr *qr)
{
    if (qr == NULL)
        return;
    free(qr->modules);
    free(qr);
}

/* Appends prefix (unless 0) and a non-negative integer: path data is mostly digits, and vsnprintf
 * (which admit_buf_printf runs twice per call) dominated SVG rendering. */
static enum admit_rc put_uint(struct admit_buf *out, char prefix, unsigned v)
{
    char digits[12];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (prefix != 0)
        digits[--n] = prefix;
    return admit_buf_append(out, digits + n, sizeof digits - n);
}

enum admit_rc admit_qr_svg(const struct admit_qr *qr, struct admit_buf *out)
{
    return admit_qr_svg_labelled(qr, "Ticket QR code", out);
}

enum admit_rc admit_qr_svg_labelled(const struct admit_qr *qr, const char *label,
                                    struct admit_buf *out)
{
    if (label[strcspn(label, "<>&\"'")] != '\0')
        return ADMIT_ERR_INVALID;
    int side = qr->width + 2 * ADMIT_QR_QUIET_ZONE;
    enum admit_rc rc = admit_buf_printf(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
        "%d\" "
        "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"%s\">"
        "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
        side * ADMIT_QR_SVG_MODULE_PX, side * ADMIT_QR_SVG_MODULE_PX, side, side, label, side,
        side);
    /* One subpath per horizontal run of dark modules keeps the path short. */
    for (int y = 0; y < qr->width && rc == ADMIT_OK; y++) {
        const unsigned char *row = qr->modules + (size_t)y * (size_t)qr->width;
        int x = 0;
        while (x < qr->width && rc == ADMIT_OK) {
            if (!row[x]) {
                x++;
                continue;
            }
            int start = x;
            while (x < qr->width && row[x])
                x++;
            /* "M<x> <y>h<run>v1h-<run>z" */
            unsigned run = (unsigned)(x - start);
            rc = put_uint(out, 'M', (unsigned)(start + ADMIT_QR_QUIET_ZONE));
            if (rc == ADMIT_OK)
                rc = put_uint(out, ' ', (unsigned)(y + ADMIT_QR_QUIET_ZONE));
            if (rc == ADMIT_OK)
                rc = put_uint(out, 'h', run);
            if (rc == ADMIT_OK)
                rc = admit_buf_append(out, "v1h-", 4);
            if (rc == ADMIT_OK)
                rc = put_uint(out, '\0', run);
            if (rc == ADMIT_OK)
                rc = admit_buf_putc(out, 'z');
        }
    }
    if (rc == ADMIT_OK)
        rc = admit_buf_puts(out, "\"/></svg>\n");
    return rc;
}

struct png_sink {
    struct admit_buf *out;
    enum admit_rc rc;
};

static void png_write(png_structp png, png_bytep data, png_size_t len)
{
    struct png_sink *sink = png_get_io_ptr(png);
    if (sink->rc == ADMIT_OK)
        sink->rc = admit_buf_append(sink->out, data, len);
    if (sink->rc != ADMIT_OK)
        png_error(png, "output buffer full");
}

static void png_flush(png_structp png)
{
    (void)png;
}

/* libadmit never prints: libpng errors become a return value through the setjmp below. */
static void png_fail(png_structp png, png_const_charp message)
{
    (void)message;
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* Everything libpng may longjmp over lives in this struct, outside the setjmp frame. */
struct png_job {
    png_structp png;
    png_infop info;
    unsigned char *row;
};

static enum admit_rc write_png(struct png_job *job, const struct admit_qr *qr, unsigned px,
                               struct png_sink *sink)
{
    size_t side = ((size_t)qr->width + 2 * ADMIT_QR_QUIET_ZONE) * px;
    size_t row_bytes = (side + 7) / 8;

    if (setjmp(png_jmpbuf(job->png)))
        return sink->rc != ADMIT_OK ? sink->rc : ADMIT_ERR_QR;
    png_set_write_fn(job->png, sink, png_write, png_flush);
    png_set_IHDR(job->png, job->info, (png_uint_32)side, (png_uint_32)side, 1, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(job->png, job->info);
    /* Each row of modules becomes one row of pixels, written px times. */
    for (size_t my = 0; my < (size_t)qr->width + 2 * ADMIT_QR_QUIET_ZONE; my++) {
        /* One bit per pixel, 1 = white: start from a white row, clear the dark modules. */
        memset(job->row, 0xff, row_bytes);
        if (my >= ADMIT_QR_QUIET_ZONE && my < ADMIT_QR_QUIET_ZONE + (size_t)qr->width) {
            const unsigned char *mrow =
                qr->modules + (my - ADMIT_QR_QUIET_ZONE) * (size_t)qr->width;
            for (size_t mx = 0; mx < (size_t)qr->width; mx++) {
                if (!mrow[mx])
                    continue;
                size_t x0 = (mx + ADMIT_QR_QUIET_ZONE) * px;
                for (size_t x = x0; x < x0 + px; x++)
                    job->row[x / 8] &= (unsigned char)~(0x80u >> (x % 8));
            }
        }
        for (unsigned r = 0; r < px; r++)
            png_write_row(job->png, job->row);
    }
    png_write_end(job->png, NULL);
    return ADMIT_OK;
}

enum admit_rc admit_qr_png(const struct admit_qr *qr, unsigned module_px, struct admit_buf *out)
{
    if (module_px < 1 || module_px > ADMIT_QR_MODULE_PX_MAX)
        return ADMIT_ERR_INVALID;
    enum admit_rc rc = ADMIT_ERR_QR;
    struct png_sink sink = {out, ADMIT_OK};
    struct png_job job = {NULL, NULL, NULL};
    size_t side = ((size_t)qr->width + 2 * ADMIT_QR_QUIET_ZONE) * module_px;
    size_t start_len = out->len;

    job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_warn);
    if (job.png == NULL)
        goto done;
    job.info = png_create_info_struct(job.png);
    if (job.info == NULL)
        goto done;
    job.row = admit_xmalloc((side + 7) / 8);
    rc = write_png(&job, qr, module_px, &sink);
done:
    png_destroy_write_struct(job.png != NULL ? &job.png : NULL,
                             job.info != NULL ? &job.info : NULL);
    free(job.row);
    if (rc != ADMIT_OK)
        admit_buf_truncate(out, start_len);
    return rc;
}
