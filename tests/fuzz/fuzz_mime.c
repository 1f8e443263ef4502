/* Fuzz target for the writers of e-mail (lib/mail/mime.c) and iCalendar lines (lib/mail/ics.c):
 * they do not parse, but they put what attendees and organisers typed into headers and content
 * lines, where a stray CR or LF, an over-long line or a split character would break the message.
 *
 * Properties, on every input (the whole input is the value):
 *  - header_text and header_address either refuse (invalid UTF-8) or write printable ASCII
 *    lines ending in CRLF, within 998 characters, every line break but the last followed by a
 *    space (a fold), so nothing typed can start a header of its own;
 *  - quoted_printable writes printable ASCII lines of at most 76 characters;
 *  - ics_fold writes CRLF lines of at most 75 octets, continuations starting with a space.
 * Checks abort() rather than assert(): the fuzz build defines NDEBUG. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/mail/ics.h"
#include "admit/core/mem.h"
#include "admit/mail/mime.h"
#include "fuzz.h"

#define INPUT_MAX 2048

/* CRLF lines of at most max characters; printable (tab too when allow_tab) between. When
 * folded, every line break but the last is followed by a space. */
static void check_lines(const struct admit_buf *b, size_t max, int printable, int folded)
{
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (c == '\r') {
            CHECK(i + 1 < b->len && b->data[i + 1] == '\n');
            CHECK(i - start <= max);
            if (folded && i + 2 < b->len)
                CHECK(b->data[i + 2] == ' ');
            start = i + 2;
            i++;
            continue;
        }
        CHECK(c != '\n');
        if (printable)
            CHECK(c >= 0x20 && c < 0x7F);
    }
    CHECK(b->len - start <= max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    char *value = admit_xstrndup((const char *)data, size); /* stops at a NUL, like C strings */
    struct admit_buf b;
    admit_buf_init(&b, 1 << 20);

    enum admit_rc rc = admit_mime_header_text(&b, "Subject", value);
    CHECK(rc == ADMIT_OK || rc == ADMIT_ERR_INVALID);
    if (rc == ADMIT_OK) {
        CHECK(b.len >= 2 && b.data[b.len - 1] == '\n');
        check_lines(&b, ADMIT_MIME_LINE_LIMIT, 1, 1);
    } else {
        CHECK(b.len == 0);
    }

    admit_buf_reset(&b);
    rc = admit_mime_header_address(&b, "To", value, "someone@example.org");
    CHECK(rc == ADMIT_OK || rc == ADMIT_ERR_INVALID);
    if (rc == ADMIT_OK)
        check_lines(&b, ADMIT_MIME_LINE_MAX, 1, 1);

    admit_buf_reset(&b);
    CHECK(admit_mime_quoted_printable(&b, (const char *)data, size) == ADMIT_OK);
    check_lines(&b, 76, 0, 0);
    for (size_t i = 0; i < b.len; i++)
        CHECK(b.data[i] == '\r' || b.data[i] == '\n' || b.data[i] == '\t' ||
              (b.data[i] >= 0x20 && b.data[i] < 0x7F));

    admit_buf_reset(&b);
    rc = admit_ics_fold(&b, (const char *)data, size);
    CHECK(rc == ADMIT_OK || rc == ADMIT_ERR_INVALID);
    if (rc == ADMIT_OK)
        check_lines(&b, ADMIT_ICS_LINE_OCTETS, 0, 0);

    admit_buf_free(&b);
    free(value);
    return 0;
}
