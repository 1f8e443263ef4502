/* Base45 against RFC 9285: its worked examples, and every invalid input it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/base45.h"

struct example {
    const char *bytes;
    const char *text;
};

/* RFC 9285 sections 4.3 (encoding examples) and 4.4 (decoding example). */
static const struct example rfc_examples[] = {
    {"AB", "BB8"}, {"Hello!!", "%69 VD92EX0"}, {"base-45", "UJCLQE7W581"}, {"ietf!", "QED8WEX0"},
    {"", ""},
};

static void test_rfc_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc_examples / sizeof rfc_examples[0]; i++) {
        char out[64];
        const char *in = rfc_examples[i].bytes;
        size_t n = admit_base45_encode((const uint8_t *)in, strlen(in), out);
        assert_int_equal(n, ADMIT_BASE45_ENCODED_LEN(strlen(in)));
        assert_string_equal(out, rfc_examples[i].text);
    }
}

static void test_rfc_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc_examples / sizeof rfc_examples[0]; i++) {
        uint8_t out[64];
        size_t len = 99;
        const char *text = rfc_examples[i].text;
        assert_int_equal(admit_base45_decode(text, strlen(text), out, sizeof out, &len),
                         ADMIT_BASE45_OK);
        assert_int_equal(len, strlen(rfc_examples[i].bytes));
        assert_memory_equal(out, rfc_examples[i].bytes, len);
    }
}

static enum admit_base45_error decode(const char *text)
{
    uint8_t out[64];
    size_t len = 0;
    return admit_base45_decode(text, strlen(text), out, sizeof out, &len);
}

static void test_rfc_invalid(void **state)
{
    (void)state;
    /* RFC 9285 section 4.4: "GGW" is 65536, above the largest two-byte value. */
    assert_int_equal(decode("GGW"), ADMIT_BASE45_OVERFLOW);
    assert_int_equal(decode("FGW"), ADMIT_BASE45_OK); /* 65535, the largest valid triplet */
    /* A dangling single character after whole triplets. */
    assert_int_equal(decode("A"), ADMIT_BASE45_BAD_LENGTH);
    assert_int_equal(decode("BB8A"), ADMIT_BASE45_BAD_LENGTH);
    /* A final pair above 255 has no canonical byte. */
    assert_int_equal(decode("::"), ADMIT_BASE45_OVERFLOW);
    assert_int_equal(decode("U5"), ADMIT_BASE45_OK);       /* 30 + 5 * 45 = 255 */
    assert_int_equal(decode("V5"), ADMIT_BASE45_OVERFLOW); /* 256 */
    /* Characters outside the alphabet, lower case included. */
    assert_int_equal(decode("bb8"), ADMIT_BASE45_BAD_CHAR);
    assert_int_equal(decode("BB!"), ADMIT_BASE45_BAD_CHAR);
    assert_int_equal(decode("B\0"
                            "8"),
                     ADMIT_BASE45_BAD_LENGTH); /* strlen stops at NUL */
    uint8_t out[8];
    size_t len = 0;
    assert_int_equal(admit_base45_decode("B\0008", 3, out, sizeof out, &len),
                     ADMIT_BASE45_BAD_CHAR);
    assert_int_equal(admit_base45_decode("BB8BB8", 6, out, 3, &len), ADMIT_BASE45_OUT_TOO_SMALL);
}

static void test_round_trip_all_pairs(void **state)
{
    (void)state;
    /* Every two-byte value and every single byte survive a round trip. */
    for (unsigned v = 0; v <= 0xffff; v++) {
        uint8_t in[2] = {(uint8_t)(v >> 8), (uint8_t)v}, back[2];
        char text[8];
        size_t len = 0;
        size_t n = admit_base45_encode(in, 2, text);
        assert_int_equal(n, 3);
        assert_int_equal(admit_base45_decode(text, n, back, sizeof back, &len), ADMIT_BASE45_OK);
        assert_int_equal(len, 2);
        assert_memory_equal(in, back, 2);
        if (v <= 0xff) {
            n = admit_base45_encode(in + 1, 1, text);
            assert_int_equal(n, 2);
            assert_int_equal(admit_base45_decode(text, n, back, sizeof back, &len),
                             ADMIT_BASE45_OK);
            assert_int_equal(len, 1);
            assert_int_equal(back[0], in[1]);
        }
    }
}

static void test_strerror_distinct(void **state)
{
    (void)state;
    const char *seen[5];
    for (int e = ADMIT_BASE45_OK; e <= ADMIT_BASE45_OUT_TOO_SMALL; e++) {
        seen[e] = admit_base45_strerror((enum admit_base45_error)e);
        for (int j = 0; j < e; j++)
            assert_string_not_equal(seen[e], seen[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_encode),        cmocka_unit_test(test_rfc_decode),
        cmocka_unit_test(test_rfc_invalid),       cmocka_unit_test(test_round_trip_all_pairs),
        cmocka_unit_test(test_strerror_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
