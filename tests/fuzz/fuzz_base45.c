/* Fuzz target for Base45 (RFC 9285, lib/core/base45.c).
 *
 * Two properties, checked on every input:
 *  - decode, then encode: a text that decodes is the one and only encoding of its bytes, so
 *    encoding the result must give back the very same text (the decoder accepts only canonical
 *    Base45; a ticket parser built on it therefore has one text per ticket);
 *  - encode, then decode: any bytes survive the round trip unchanged.
 * Each buffer is allocated at its exact size so that AddressSanitizer catches one-byte overruns.
 * Checks abort() rather than assert(): the fuzz build defines NDEBUG (RelWithDebInfo). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/base45.h"
#include "admit/core/mem.h"
#include "fuzz.h"

/* Inputs longer than this add no coverage, only time. */
#define INPUT_MAX 4096

static void check_decode_encode(const char *text, size_t len)
{
    size_t cap = (len / 3) * 2 + (len % 3 == 2 ? 1 : 0);
    uint8_t *bytes = admit_xmalloc(cap);
    size_t n = 0;
    enum admit_base45_error err = admit_base45_decode(text, len, bytes, cap, &n);

    CHECK(admit_base45_strerror(err) != NULL);
    if (err == ADMIT_BASE45_OK) {
        char *again = admit_xmalloc(ADMIT_BASE45_ENCODED_LEN(n) + 1);
        CHECK(n == cap);
        CHECK(admit_base45_encode(bytes, n, again) == len);
        CHECK(memcmp(again, text, len) == 0);
        CHECK(again[len] == '\0');
        free(again);
    } else {
        CHECK(err == ADMIT_BASE45_BAD_CHAR || err == ADMIT_BASE45_BAD_LENGTH ||
              err == ADMIT_BASE45_OVERFLOW);
        CHECK((err == ADMIT_BASE45_BAD_LENGTH) == (len % 3 == 1));
    }
    /* One byte too small must be refused, never overrun. */
    if (err == ADMIT_BASE45_OK && cap > 0) {
        uint8_t *small = admit_xmalloc(cap - 1);
        CHECK(admit_base45_decode(text, len, small, cap - 1, &n) == ADMIT_BASE45_OUT_TOO_SMALL);
        free(small);
    }
    free(bytes);
}

static void check_encode_decode(const uint8_t *data, size_t size)
{
    size_t len = ADMIT_BASE45_ENCODED_LEN(size);
    char *text = admit_xmalloc(len + 1);
    uint8_t *back = admit_xmalloc(size);
    size_t n = 0;

    CHECK(admit_base45_encode(data, size, text) == len);
    CHECK(strlen(text) == len);
    CHECK(admit_base45_decode(text, len, back, size, &n) == ADMIT_BASE45_OK);
    CHECK(n == size);
    CHECK(memcmp(back, data, size) == 0);
    free(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return -1; /* keep it out of the corpus */
    /* libFuzzer's buffer is exactly size bytes long, with no terminator. */
    check_decode_encode((const char *)data, size);
    check_encode_decode(data, size);
    return 0;
}
