/* iCalendar content lines: CRLF, blank lines dropped, folding at 75 octets without splitting a
 * UTF-8 character, and unfolding gives the line back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/mail/ics.h"

static char *fold(const char *in, enum admit_rc expected)
{
    struct admit_buf b;
    admit_buf_init(&b, 1 << 16);
    assert_int_equal(admit_ics_fold(&b, in, strlen(in)), expected);
    return admit_buf_steal(&b, NULL);
}

/* Checks the folded form: CRLF everywhere, physical lines within 75 octets, continuation lines
 * starting with one space, no split character; returns the unfolded text (LF line ends). */
static char *check_and_unfold(const char *folded)
{
    size_t len = strlen(folded), n = 0, start = 0;
    char *out = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        if (folded[i] != '\n')
            continue;
        assert_true(i > 0 && folded[i - 1] == '\r');
        size_t line = i - 1 - start;
        assert_true(line <= ADMIT_ICS_LINE_OCTETS);
        assert_true(line > 0);
        const char *p = folded + start;
        size_t skip = 0;
        if (p[0] == ' ') {
            skip = 1; /* a continuation: joins the previous line */
            assert_true(n > 0 && out[n - 1] == '\n');
            n--;
        }
        /* A physical line never starts inside a UTF-8 sequence. */
        assert_false(((unsigned char)p[skip] & 0xC0) == 0x80);
        memcpy(out + n, p + skip, line - skip);
        n += line - skip;
        out[n++] = '\n';
        start = i + 1;
    }
    assert_int_equal(start, len);
    out[n] = '\0';
    return out;
}

static void test_short_lines(void **state)
{
    (void)state;
    char *out = fold("BEGIN:VCALENDAR\nVERSION:2.0\r\n\n   \nEND:VCALENDAR", ADMIT_OK);
    assert_string_equal(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n");
    free(out);
    out = fold("", ADMIT_OK);
    assert_string_equal(out, "");
    free(out);
}

static void test_folding(void **state)
{
    (void)state;
    char line[400];
    /* Exactly 75 octets: not folded; 76: folded after 75. */
    memset(line, 'a', 75);
    line[75] = '\0';
    char *out = fold(line, ADMIT_OK);
    assert_int_equal(strlen(out), 77);
    free(out);
    line[75] = 'b';
    line[76] = '\0';
    out = fold(line, ADMIT_OK);
    assert_int_equal(strncmp(out + 75, "\r\n b\r\n", 6), 0);
    free(out);

    /* Long lines of ASCII, two-, three- and four-octet characters, at every alignment. */
    static const char *const pieces[] = {"x", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\x9f"};
    for (size_t shift = 0; shift < 5; shift++) {
        for (size_t p = 0; p < 4; p++) {
            char text[1200];
            size_t n = 0;
            memcpy(text, "DESCRIPTION:", 12);
            n = 12 + shift;
            memset(text + 12, 'y', shift);
            while (n + 4 < 1000) {
                size_t k = strlen(pieces[p]);
                memcpy(text + n, pieces[p], k);
                n += k;
            }
            text[n] = '\0';
            out = fold(text, ADMIT_OK);
            char *back = check_and_unfold(out);
            assert_int_equal(strlen(back), n + 1);
            assert_memory_equal(back, text, n);
            free(back);
            free(out);
        }
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    struct admit_buf b;
    admit_buf_init(&b, 1024);
    assert_int_equal(admit_buf_puts(&b, "kept"), ADMIT_OK);
    assert_int_equal(admit_ics_fold(&b, "A:1\nB:lone\rcr\n", 15), ADMIT_ERR_INVALID);
    assert_string_equal(admit_buf_cstr(&b), "kept");
    /* Not UTF-8 at all: still folded within 75 octets, and nothing lost. */
    char junk[200];
    memset(junk, 0x80, sizeof junk - 1);
    junk[sizeof junk - 1] = '\0';
    admit_buf_reset(&b);
    assert_int_equal(admit_ics_fold(&b, junk, strlen(junk)), ADMIT_OK);
    assert_int_equal(b.len, 199 + 2 * 3 + 2); /* 75 + 74 + 50 octets, two folds, one CRLF */
    /* Over the buffer's limit. */
    struct admit_buf small;
    admit_buf_init(&small, 10);
    assert_int_equal(admit_ics_fold(&small, "SUMMARY:too long for this", 25), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    admit_buf_free(&small);
    admit_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_lines),
        cmocka_unit_test(test_folding),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
