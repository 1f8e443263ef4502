/* application/x-www-form-urlencoded decoding (lib/core/formdata.c): fields, repeated names, and
 * every kind of malformed input the server answers 400 for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/formdata.h"

static void parse_ok(struct admit_formdata *form, const char *text)
{
    struct admit_error why;
    admit_formdata_init(form);
    enum admit_rc rc = admit_formdata_parse(form, text, strlen(text), 100, &why);
    if (rc != ADMIT_OK)
        fail_msg("parsing \"%s\" failed: %s", text, why.message);
}

static void parse_fails(const char *text, size_t len, size_t max_fields, enum admit_rc want,
                        const char *reason)
{
    struct admit_formdata form;
    struct admit_error why;
    admit_formdata_init(&form);
    assert_int_equal(admit_formdata_parse(&form, text, len, max_fields, &why), want);
    assert_string_equal(why.message, reason);
    assert_int_equal(form.count, 0);
    assert_null(form.fields);
    assert_null(form.text);
}

static void test_fields(void **state)
{
    (void)state;
    struct admit_formdata form;
    parse_ok(&form, "name=Ann+Lee&email=ann%40example.org&empty=&flag&note=a%2Bb%3Dc%26d");
    assert_int_equal(form.count, 5);
    assert_string_equal(admit_formdata_get(&form, "name"), "Ann Lee");
    assert_string_equal(admit_formdata_get(&form, "email"), "ann@example.org");
    assert_string_equal(admit_formdata_get(&form, "empty"), "");
    assert_string_equal(admit_formdata_get(&form, "flag"), "");
    assert_string_equal(admit_formdata_get(&form, "note"), "a+b=c&d");
    assert_null(admit_formdata_get(&form, "missing"));
    assert_null(admit_formdata_get(&form, "Name"));
    assert_string_equal(form.fields[0].name, "name");
    assert_int_equal(form.fields[0].value_len, 7);
    admit_formdata_free(&form);
    assert_int_equal(form.count, 0);
}

static void test_repeated_names(void **state)
{
    (void)state;
    struct admit_formdata form;
    const char *values[4];
    parse_ok(&form, "lists=1&name=x&lists=3&lists=7");
    assert_string_equal(admit_formdata_get(&form, "lists"), "1");
    assert_int_equal(admit_formdata_get_all(&form, "lists", values, 4), 3);
    assert_string_equal(values[0], "1");
    assert_string_equal(values[1], "3");
    assert_string_equal(values[2], "7");
    /* More values than room: the count is still the total. */
    assert_int_equal(admit_formdata_get_all(&form, "lists", values, 2), 3);
    assert_string_equal(values[1], "3");
    assert_int_equal(admit_formdata_get_all(&form, "none", values, 4), 0);
    admit_formdata_free(&form);
}

static void test_empty_and_odd_separators(void **state)
{
    (void)state;
    struct admit_formdata form;
    parse_ok(&form, "");
    assert_int_equal(form.count, 0);
    admit_formdata_free(&form);
    parse_ok(&form, "&&a=1&&&b=2&");
    assert_int_equal(form.count, 2);
    assert_string_equal(admit_formdata_get(&form, "b"), "2");
    admit_formdata_free(&form);
    /* Only the first '=' separates; later ones belong to the value. */
    parse_ok(&form, "a==b=c");
    assert_string_equal(admit_formdata_get(&form, "a"), "=b=c");
    admit_formdata_free(&form);
    /* UTF-8, encoded or not, and upper- or lower-case hex. */
    parse_ok(&form, "city=M%C3%BCnchen&city2=M\xc3\xbcnchen&x=%e2%82%ac");
    assert_string_equal(admit_formdata_get(&form, "city"), "M\xc3\xbcnchen");
    assert_string_equal(admit_formdata_get(&form, "city2"), "M\xc3\xbcnchen");
    assert_string_equal(admit_formdata_get(&form, "x"), "\xe2\x82\xac");
    admit_formdata_free(&form);
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    /* The parser reads len bytes only: a body is not a C string. */
    const char text[] = {'a', '=', '1', '&', 'b', '=', '%', '4', '1'};
    struct admit_formdata form;
    admit_formdata_init(&form);
    assert_int_equal(admit_formdata_parse(&form, text, sizeof text, 10, NULL), ADMIT_OK);
    assert_string_equal(admit_formdata_get(&form, "b"), "A");
    admit_formdata_free(&form);
    /* A '%' cut off by len is malformed even if the bytes after len would complete it. */
    parse_fails("a=%41", 4, 10, ADMIT_ERR_INVALID, "malformed percent-encoding");
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad_percent[] = {"a=%",    "a=%4",   "a=%zz", "a=%4g", "%=1",
                                 "a=1&b%", "a=%%41", "a=% 1", "a=%+1"};
    for (size_t i = 0; i < sizeof bad_percent / sizeof bad_percent[0]; i++)
        parse_fails(bad_percent[i], strlen(bad_percent[i]), 10, ADMIT_ERR_INVALID,
                    "malformed percent-encoding");
    parse_fails("a=x%00y", 7, 10, ADMIT_ERR_INVALID, "NUL byte in a field");
    parse_fails("a=x\0y", 5, 10, ADMIT_ERR_INVALID, "NUL byte in a field");
    parse_fails("a%00=1", 6, 10, ADMIT_ERR_INVALID, "NUL byte in a field");
    const char *bad_utf8[] = {
        "a=%ff",          /* never valid */
        "a=%c3",          /* truncated */
        "a=%c3%28",       /* bad continuation */
        "a=%80",          /* lone continuation */
        "a=%c0%af",       /* overlong '/' */
        "a=%e0%80%af",    /* overlong */
        "a=%ed%a0%80",    /* surrogate U+D800 */
        "a=%f4%90%80%80", /* above U+10FFFF */
        "a=\xe9t\xe9",    /* Latin-1 sent raw */
        "n%e9=1",         /* in a name */
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++)
        parse_fails(bad_utf8[i], strlen(bad_utf8[i]), 10, ADMIT_ERR_INVALID,
                    "invalid UTF-8 in a field");
    parse_fails("=1", 2, 10, ADMIT_ERR_INVALID, "a field without a name");
    parse_fails("a=1&=2", 6, 10, ADMIT_ERR_INVALID, "a field without a name");
    char long_name[ADMIT_FORMDATA_MAX_NAME + 4];
    memset(long_name, 'n', ADMIT_FORMDATA_MAX_NAME + 1);
    memcpy(long_name + ADMIT_FORMDATA_MAX_NAME + 1, "=1", 3);
    parse_fails(long_name, strlen(long_name), 10, ADMIT_ERR_INVALID, "a field name is too long");
    struct admit_formdata form;
    parse_ok(&form, long_name + 1); /* exactly the maximum */
    admit_formdata_free(&form);
}

static void test_too_many_fields(void **state)
{
    (void)state;
    struct admit_formdata form;
    admit_formdata_init(&form);
    assert_int_equal(admit_formdata_parse(&form, "a=1&b=2&c=3", 11, 3, NULL), ADMIT_OK);
    admit_formdata_free(&form);
    parse_fails("a=1&b=2&c=3&d=4", 15, 3, ADMIT_ERR_TOO_LARGE, "too many fields");
    /* Empty fields do not count. */
    admit_formdata_init(&form);
    assert_int_equal(admit_formdata_parse(&form, "&&&a=1&&b=2&&&c=3&&", 19, 3, NULL), ADMIT_OK);
    admit_formdata_free(&form);
    /* A large body of tiny fields. */
    size_t n = 100000;
    char *text = malloc(2 * n);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = 'a';
        text[2 * i + 1] = '&';
    }
    parse_fails(text, 2 * n, 1000, ADMIT_ERR_TOO_LARGE, "too many fields");
    admit_formdata_init(&form);
    assert_int_equal(admit_formdata_parse(&form, text, 2 * n, n, NULL), ADMIT_OK);
    assert_int_equal(form.count, n);
    admit_formdata_free(&form);
    free(text);
}

static void test_text_valid(void **state)
{
    (void)state;
    assert_true(admit_formdata_text_valid("", 0));
    assert_true(admit_formdata_text_valid("plain ascii\t\n", 13));
    assert_true(admit_formdata_text_valid("\xf0\x9f\x8e\xab", 4)); /* U+1F3AB ticket */
    assert_true(admit_formdata_text_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    assert_true(admit_formdata_text_valid("\xed\x9f\xbf", 3));     /* U+D7FF */
    assert_false(admit_formdata_text_valid("\xf0\x9f\x8e", 3));
    assert_false(admit_formdata_text_valid("a\0b", 3));
    assert_false(admit_formdata_text_valid("\xf5\x80\x80\x80", 4));
    assert_false(admit_formdata_text_valid("\xf0\x80\x80\x80", 4)); /* overlong */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_repeated_names),
        cmocka_unit_test(test_empty_and_odd_separators),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_text_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
