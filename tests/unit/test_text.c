/* The rule for text people see (lib/core/text.c): control characters, invisible characters that
 * spoof display, joiners where scripts need them, lengths in characters, and what counts as
 * showing something. From every entry point: tests/integration/test_input_rules.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/register/form.h"
#include "admit/core/text.h"

static void expect(const char *s, unsigned flags, size_t max, enum admit_text_verdict want)
{
    size_t chars = 99;
    enum admit_text_verdict got = admit_text_check(s, flags, max, &chars);
    if (got != want)
        fail_msg("\"%s\" (flags %u): verdict %d, want %d", s, flags, got, want);
    if (got != ADMIT_TEXT_OK && got != ADMIT_TEXT_TOO_LONG)
        assert_int_equal(chars, 0);
}

static void test_invisible_refused(void **state)
{
    (void)state;
    static const char *const spoofs[] = {
        "Ada\u202Eexe.txt",   /* right-to-left override */
        "\u202AAda",          /* left-to-right embedding */
        "\u202BAda",          /* right-to-left embedding */
        "Ada\u202C",          /* pop directional formatting */
        "\u202DAda",          /* left-to-right override */
        "\u2066Ada",          /* left-to-right isolate */
        "\u2067Ada",          /* right-to-left isolate */
        "\u2068Ada",          /* first strong isolate */
        "Ada\u2069",          /* pop directional isolate */
        "Ada\u200E",          /* left-to-right mark */
        "Ada\u200F",          /* right-to-left mark */
        "Ada\u061C",          /* Arabic letter mark */
        "A\u200Bda",          /* zero-width space */
        "A\u2060da",          /* word joiner */
        "\uFEFFAda",          /* byte order mark */
        "Lov\u00ADelace",     /* soft hyphen */
        "Ada\U000E0041",      /* tag latin capital letter a */
        "Ada\u2028",          /* line separator */
        "Ada\u2029",          /* paragraph separator */
        "Ada\u3164",          /* Hangul filler */
        "Ada\u115F",          /* Hangul choseong filler */
        "\u200CAda",          /* zero-width non-joiner at the start */
        "Ada\u200D",          /* zero-width joiner at the end */
        "Ada\u200D Lovelace", /* a joiner before a space */
        "1\u200D2",           /* nor between digits */
    };
    for (size_t i = 0; i < sizeof spoofs / sizeof spoofs[0]; i++) {
        expect(spoofs[i], 0, 100, ADMIT_TEXT_INVISIBLE);
        expect(spoofs[i], ADMIT_TEXT_MULTILINE, 100, ADMIT_TEXT_INVISIBLE);
        expect(spoofs[i], ADMIT_TEXT_ANY, 100, ADMIT_TEXT_OK); /* a password may hold them */
    }
}

static void test_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "Ada Lovelace",
        "Ren\u00E9e O'Brien-Smith",
        "\u674E\u5C0F\u9F99",                         /* Chinese */
        "\u0641\u0627\u0637\u0645\u0629",             /* Arabic */
        "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647", /* Persian, with a non-joiner */
        "\u0915\u094D\u200D\u0937",                   /* Devanagari, with a joiner */
        "\U0001F469\u200D\U0001F52C",                 /* woman scientist */
        "\U0001F469\U0001F3FD\u200D\U0001F52C",       /* with a skin tone */
        "\u2764\uFE0F\u200D\U0001F525",               /* heart, VS16, fire */
        "\u8FBB\U000E0100",                           /* an ideographic variation selector */
        "Cafe\u0301",                                 /* a combining accent */
        "\u00A0spaced\u3000out",                      /* no-break and ideographic spaces */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        expect(good[i], 0, 100, ADMIT_TEXT_OK);
        assert_true(admit_text_visible(good[i]));
    }
}

static void test_controls_and_lengths(void **state)
{
    size_t chars = 0;
    (void)state;
    expect("a\nb", 0, 100, ADMIT_TEXT_NOT_TEXT);
    expect("a\nb\r\n\tc", ADMIT_TEXT_MULTILINE, 100, ADMIT_TEXT_OK);
    expect("a\x01", ADMIT_TEXT_MULTILINE, 100, ADMIT_TEXT_NOT_TEXT);
    expect("a\x7f", 0, 100, ADMIT_TEXT_NOT_TEXT);
    expect("a\xc2\x85", 0, 100, ADMIT_TEXT_NOT_TEXT); /* U+0085, a C1 control */
    expect("\xff", 0, 100, ADMIT_TEXT_NOT_TEXT);
    expect("\xc0\xaf", 0, 100, ADMIT_TEXT_NOT_TEXT);     /* overlong */
    expect("\xed\xa0\x80", 0, 100, ADMIT_TEXT_NOT_TEXT); /* a surrogate */
    expect("\xf4\x90\x80\x80", 0, 100, ADMIT_TEXT_NOT_TEXT);
    expect("\xe2\x80", 0, 100, ADMIT_TEXT_NOT_TEXT); /* cut short */
    /* A control character is reported before an invisible one, that before the length. */
    expect("\u200B\x01", 0, 1, ADMIT_TEXT_NOT_TEXT);
    expect("\u200Babc", 0, 1, ADMIT_TEXT_INVISIBLE);
    /* Characters, not bytes. */
    assert_int_equal(admit_text_check("\u00E9\U0001F600", 0, 2, &chars), ADMIT_TEXT_OK);
    assert_int_equal(chars, 2);
    assert_int_equal(admit_text_check("\u00E9\U0001F600", 0, 1, &chars), ADMIT_TEXT_TOO_LONG);
    assert_int_equal(chars, 2);
    assert_int_equal(admit_form_text_chars("\u00E9\u202E", 0), 2);
    assert_int_equal(admit_form_text_chars("a\nb", 0), -1);
    assert_int_equal(admit_form_text_chars("a\nb", 1), 3);
    assert_string_equal(admit_text_message(ADMIT_TEXT_NOT_TEXT, 0),
                        "Use ordinary text on one line (no control characters)");
    assert_string_equal(admit_text_message(ADMIT_TEXT_NOT_TEXT, ADMIT_TEXT_MULTILINE),
                        "Use ordinary text (no control characters)");
    assert_string_equal(admit_text_message(ADMIT_TEXT_TOO_LONG, 0), "This is too long");
    assert_non_null(strstr(admit_text_message(ADMIT_TEXT_INVISIBLE, 0), "invisible"));
    assert_null(admit_text_message(ADMIT_TEXT_OK, 0));
}

static void test_visible(void **state)
{
    (void)state;
    static const char *const blank[] = {
        "",
        "   ",
        "\u00A0\u00A0", /* no-break spaces */
        "\u3000",       /* ideographic space */
        "\u2800",       /* braille pattern blank */
        "\u0301",       /* a combining accent on nothing */
        "\uFE0F",       /* a variation selector on nothing */
        "\u200B\u200B",
        "\u3164", /* Hangul filler */
        "\xff",
    };
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++)
        if (admit_text_visible(blank[i]))
            fail_msg("blank %zu shows something", i);
    assert_true(admit_text_visible(" . "));
    assert_true(admit_text_visible("\u00A0x"));
    assert_true(admit_text_visible("0"));
    assert_true(admit_text_visible("\U0001F600"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invisible_refused),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_controls_and_lengths),
        cmocka_unit_test(test_visible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
