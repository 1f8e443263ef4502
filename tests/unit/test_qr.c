/* QR rendering: the ticket fits version 7 at level M; SVG shape; PNG decoded by a real decoder
 * (zbarimg from Debian's zbar-tools) gives back exactly the payload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admit/core/fileio.h"
#include "admit/core/keys.h"
#include "admit/core/qr.h"
#include "admit/core/ticket.h"

static struct admit_signing_key key;

static int setup(void **state)
{
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    admit_key_generate(&key);
    return 0;
}

static void test_ticket_fits_version_7_level_m(void **state)
{
    (void)state;
    char text[ADMIT_TICKET_TEXT_MAX];
    int max_version = 0;
    /* The text length is fixed, so every ticket has the same version; check a spread anyway. */
    for (uint32_t i = 1; i <= 200; i++) {
        struct admit_qr *qr = NULL;
        assert_int_equal(admit_ticket_sign(&key, i, UINT32_MAX - i, (uint16_t)i, text), ADMIT_OK);
        assert_int_equal(admit_qr_encode(text, &qr), ADMIT_OK);
        if (qr->version > max_version)
            max_version = qr->version;
        assert_int_equal(qr->width, 17 + 4 * qr->version);
        admit_qr_free(qr);
    }
    assert_true(max_version <= 7);
    print_message("ticket QR: version %d, level M\n", max_version);
}

static void test_svg_single_path_quiet_zone(void **state)
{
    (void)state;
    char text[ADMIT_TICKET_TEXT_MAX];
    struct admit_qr *qr = NULL;
    struct admit_buf svg;
    char view_box[64];
    admit_buf_init(&svg, 1 << 20);
    assert_int_equal(admit_ticket_sign(&key, 1, 2, 3, text), ADMIT_OK);
    assert_int_equal(admit_qr_encode(text, &qr), ADMIT_OK);
    assert_int_equal(admit_qr_svg(qr, &svg), ADMIT_OK);
    const char *s = admit_buf_cstr(&svg);
    snprintf(view_box, sizeof view_box, "viewBox=\"0 0 %d %d\"", qr->width + 8, qr->width + 8);
    assert_non_null(strstr(s, view_box));
    /* A size of its own, so that viewers and converters draw it large enough to scan. */
    char size[64];
    snprintf(size, sizeof size, "width=\"%d\" height=\"%d\"", (qr->width + 8) * 8,
             (qr->width + 8) * 8);
    assert_non_null(strstr(s, size));
    assert_non_null(strstr(s, "shape-rendering=\"crispEdges\""));
    const char *first = strstr(s, "<path");
    assert_non_null(first);
    assert_null(strstr(first + 1, "<path"));
    /* The first dark module of a QR code is the finder pattern's corner, at the quiet zone. */
    assert_non_null(strstr(first, "d=\"M4 4h7v1h-7z"));
    assert_non_null(strstr(s, "</svg>"));
    admit_buf_free(&svg);
    admit_qr_free(qr);
}

/* The label is the SVG's accessible name; one that could break out of the attribute is refused
 * and nothing is appended. */
static void test_svg_label(void **state)
{
    (void)state;
    struct admit_qr *qr = NULL;
    struct admit_buf svg;
    admit_buf_init(&svg, 1 << 20);
    assert_int_equal(admit_qr_encode("HELLO", &qr), ADMIT_OK);
    assert_int_equal(admit_qr_svg(qr, &svg), ADMIT_OK);
    assert_non_null(strstr(admit_buf_cstr(&svg), "aria-label=\"Ticket QR code\""));
    admit_buf_reset(&svg);
    assert_int_equal(admit_qr_svg_labelled(qr, "Device token QR code", &svg), ADMIT_OK);
    assert_non_null(strstr(admit_buf_cstr(&svg), "aria-label=\"Device token QR code\">"));
    admit_buf_reset(&svg);
    const char *bad[] = {"a\"b", "<x>", "a&b", "it's"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(admit_qr_svg_labelled(qr, bad[i], &svg), ADMIT_ERR_INVALID);
        assert_int_equal(svg.len, 0);
    }
    admit_buf_free(&svg);
    admit_qr_free(qr);
}

static char *zbar_decode(const char *path)
{
    char cmd[512];
    static char out[1024];
    snprintf(cmd, sizeof cmd, "zbarimg --quiet --raw '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    size_t n = fread(out, 1, sizeof out - 1, p);
    int status = pclose(p);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return status == 0 ? out : NULL;
}

static void png_round_trip(unsigned module_px)
{
    char text[ADMIT_TICKET_TEXT_MAX];
    char path[] = "/tmp/admit-test-qr-XXXXXX";
    struct admit_qr *qr = NULL;
    struct admit_buf png;
    admit_buf_init(&png, 1 << 22);
    assert_int_equal(admit_ticket_sign(&key, 42, 4242, module_px, text), ADMIT_OK);
    assert_int_equal(admit_qr_encode(text, &qr), ADMIT_OK);
    assert_int_equal(admit_qr_png(qr, module_px, &png), ADMIT_OK);
    assert_memory_equal(png.data, "\x89PNG\r\n\x1a\n", 8);
    /* IHDR width and height, big-endian at bytes 16 and 20. */
    uint32_t side = (uint32_t)(qr->width + 8) * module_px;
    const uint8_t *p = (const uint8_t *)png.data;
    assert_int_equal((uint32_t)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19], side);
    assert_int_equal((uint32_t)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23], side);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(admit_file_write_atomic(path, png.data, png.len, 0600), ADMIT_OK);
    const char *decoded = zbar_decode(path);
    assert_non_null(decoded);
    assert_string_equal(decoded, text);
    unlink(path);
    admit_buf_free(&png);
    admit_qr_free(qr);
}

static void test_png_decodes_with_zbar(void **state)
{
    (void)state;
    png_round_trip(4);
    png_round_trip(8);
    png_round_trip(3);
}

static void test_png_module_size_bounds(void **state)
{
    (void)state;
    struct admit_qr *qr = NULL;
    struct admit_buf png;
    admit_buf_init(&png, 1 << 24);
    assert_int_equal(admit_qr_encode("AD1:TEST", &qr), ADMIT_OK);
    assert_int_equal(admit_qr_png(qr, 0, &png), ADMIT_ERR_INVALID);
    assert_int_equal(admit_qr_png(qr, ADMIT_QR_MODULE_PX_MAX + 1, &png), ADMIT_ERR_INVALID);
    assert_int_equal(png.len, 0);
    assert_int_equal(admit_qr_png(qr, 1, &png), ADMIT_OK);
    admit_buf_reset(&png);
    assert_int_equal(admit_qr_png(qr, ADMIT_QR_MODULE_PX_MAX, &png), ADMIT_OK);
    /* A buffer too small for the image fails cleanly and leaves nothing behind. */
    struct admit_buf small;
    admit_buf_init(&small, 100);
    assert_int_equal(admit_qr_png(qr, 8, &small), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    admit_buf_free(&small);
    admit_buf_free(&png);
    admit_qr_free(qr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticket_fits_version_7_level_m),
        cmocka_unit_test(test_svg_single_path_quiet_zone),
        cmocka_unit_test(test_svg_label),
        cmocka_unit_test(test_png_decodes_with_zbar),
        cmocka_unit_test(test_png_module_size_bounds),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
