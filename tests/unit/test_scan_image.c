/* Reading tickets from pictures (lib/door/scan_image.c): a rendered ticket QR decodes to its text
 * from PNG, from JPEG (a phone's screenshot: the code small in a larger, lossy picture) and from
 * the ticket's own SVG; files in other formats, damaged or missing files and pictures without a
 * code are told apart. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <png.h>

#include "admit/core/buf.h"
#include "admit/core/fileio.h"
#include "admit/core/keys.h"
#include "admit/core/mem.h"
#include "admit/core/qr.h"
#include "admit/door/scan_image.h"
#include "admit/core/ticket.h"

struct found {
    char texts[4][256];
    size_t n;
};

static void on_found(void *ctx, const char *text, size_t len)
{
    struct found *f = ctx;
    if (f->n < 4)
        snprintf(f->texts[f->n++], sizeof f->texts[0], "%.*s", (int)len, text);
}

static void write_file(const char *path, const void *data, size_t len)
{
    assert_int_equal(admit_file_write_atomic(path, data, len, 0644), ADMIT_OK);
}

/* A new ticket (signed with a throwaway key) into ticket, and its QR code. */
static struct admit_qr *ticket_qr(uint32_t event, uint32_t attendee, uint16_t reissue,
                                  char ticket[ADMIT_TICKET_TEXT_MAX])
{
    struct admit_signing_key key;
    struct admit_qr *qr = NULL;
    assert_int_equal(admit_init(), ADMIT_OK);
    admit_key_generate(&key);
    assert_int_equal(admit_ticket_sign(&key, event, attendee, reissue, ticket), ADMIT_OK);
    admit_key_wipe(&key);
    assert_int_equal(admit_qr_encode(ticket, &qr), ADMIT_OK);
    return qr;
}

static void test_ticket_png_round_trip(void **state)
{
    struct admit_qr *qr = NULL;
    struct admit_buf png;
    char ticket[ADMIT_TICKET_TEXT_MAX], path[128];
    struct admit_error why;
    struct found f = {0};
    size_t count = 0;
    (void)state;
    /* The size the ticket page serves (10 pixels per module) and the CLI's smallest (2). */
    static const unsigned sizes[] = {10, 2};
    for (size_t i = 0; i < 2; i++) {
        unsigned px = sizes[i];
        qr = ticket_qr(3, 1234, 1, ticket);
        admit_buf_init(&png, 1u << 22);
        assert_int_equal(admit_qr_png(qr, px, &png), ADMIT_OK);
        snprintf(path, sizeof path, "/tmp/admit-test-scan-image-%ld.png", (long)getpid());
        write_file(path, png.data, png.len);
        memset(&f, 0, sizeof f);
        assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_OK);
        assert_int_equal(count, 1);
        assert_string_equal(f.texts[0], ticket);
        unlink(path);
        admit_buf_free(&png);
        admit_qr_free(qr);
    }
}

/* A phone's screenshot of the ticket page: the code in the middle of a larger picture, saved as
 * JPEG at a phone's quality. */
static void test_ticket_jpeg_screenshot(void **state)
{
    struct admit_buf png;
    char ticket[ADMIT_TICKET_TEXT_MAX], path[128];
    struct admit_error why;
    struct found f = {0};
    size_t count = 0;
    GError *error = NULL;
    (void)state;
    struct admit_qr *qr = ticket_qr(3, 77, 0, ticket);
    admit_buf_init(&png, 1u << 22);
    assert_int_equal(admit_qr_png(qr, 6, &png), ADMIT_OK);
    snprintf(path, sizeof path, "/tmp/admit-test-scan-image-%ld.png", (long)getpid());
    write_file(path, png.data, png.len);
    GdkPixbuf *code = gdk_pixbuf_new_from_file(path, &error);
    assert_non_null(code);
    GdkPixbuf *screen = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 1080, 1920);
    gdk_pixbuf_fill(screen, 0xf4f4f4ff);
    int side = gdk_pixbuf_get_width(code);
    gdk_pixbuf_copy_area(code, 0, 0, side, side, screen, (1080 - side) / 2, 700);
    snprintf(path, sizeof path, "/tmp/admit-test-scan-image-%ld.jpg", (long)getpid());
    assert_true(gdk_pixbuf_save(screen, path, "jpeg", &error, "quality", "80", NULL));
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_OK);
    assert_int_equal(count, 1);
    assert_string_equal(f.texts[0], ticket);
    unlink(path);
    snprintf(path, sizeof path, "/tmp/admit-test-scan-image-%ld.png", (long)getpid());
    unlink(path);
    g_object_unref(screen);
    g_object_unref(code);
    admit_buf_free(&png);
    admit_qr_free(qr);
}

/* The ticket's SVG download, with its size (as served now) and without (as cached before). */
static void test_ticket_svg(void **state)
{
    struct admit_buf svg;
    char ticket[ADMIT_TICKET_TEXT_MAX], path[128];
    struct admit_error why;
    size_t count = 0;
    (void)state;
    struct admit_qr *qr = ticket_qr(9, 4242, 2, ticket);
    admit_buf_init(&svg, 1u << 20);
    assert_int_equal(admit_qr_svg(qr, &svg), ADMIT_OK);
    snprintf(path, sizeof path, "/tmp/admit-test-scan-image-%ld.svg", (long)getpid());
    for (int sized = 1; sized >= 0; sized--) {
        struct found f = {0};
        char *text = admit_xstrdup(admit_buf_cstr(&svg));
        if (!sized) { /* drop ' width="…" height="…"' */
            char *w = strstr(text, " width=");
            char *v = strstr(text, " viewBox=");
            assert_true(w != NULL && v != NULL && w < v);
            memmove(w, v, strlen(v) + 1);
        }
        write_file(path, text, strlen(text));
        free(text);
        assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_OK);
        assert_int_equal(count, 1);
        assert_string_equal(f.texts[0], ticket);
    }
    unlink(path);
    admit_buf_free(&svg);
    admit_qr_free(qr);
}

static void test_not_tickets(void **state)
{
    char path[128];
    struct admit_error why;
    struct found f = {0};
    size_t count = 7;
    (void)state;
    snprintf(path, sizeof path, "/tmp/admit-test-scan-image-%ld.txt", (long)getpid());
    write_file(path, "not a picture\n", 14);
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_ERR_INVALID);
    assert_int_equal(count, 0);
    assert_true(strlen(why.message) > 0);
    assert_string_equal(why.message, "not a PNG, JPEG or SVG picture");
    /* A picture in a format a door does not read (a 1x1 GIF). */
    write_file(path,
               "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01"
               "\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
               43);
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_ERR_INVALID);
    assert_string_equal(why.message, "not a PNG, JPEG or SVG picture");
    /* A truncated PNG: the signature and nothing else. */
    write_file(path, "\x89PNG\r\n\x1a\n", 8);
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_ERR_INVALID);
    unlink(path);
    errno = 0;
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, NULL), ADMIT_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(f.n, 0);

    /* A QR code of something else is still read: the door says "invalid", not "no code". */
    struct admit_qr *qr = NULL;
    struct admit_buf png;
    assert_int_equal(admit_qr_encode("HELLO DOOR", &qr), ADMIT_OK);
    admit_buf_init(&png, 1u << 20);
    assert_int_equal(admit_qr_png(qr, 4, &png), ADMIT_OK);
    write_file(path, png.data, png.len);
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_OK);
    assert_int_equal(count, 1);
    assert_string_equal(f.texts[0], "HELLO DOOR");
    admit_qr_free(qr);
    admit_buf_free(&png);

    /* A white picture: no code at all. */
    static unsigned char white[64 * 48];
    memset(white, 0xff, sizeof white);
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = 64;
    image.height = 48;
    image.format = PNG_FORMAT_GRAY;
    assert_true(png_image_write_to_file(&image, path, 0, white, 0, NULL));
    memset(&f, 0, sizeof f);
    assert_int_equal(admit_scan_image_decode(path, on_found, &f, &count, &why), ADMIT_OK);
    assert_int_equal(count, 0);
    assert_int_equal(f.n, 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticket_png_round_trip),
        cmocka_unit_test(test_ticket_jpeg_screenshot),
        cmocka_unit_test(test_ticket_svg),
        cmocka_unit_test(test_not_tickets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
