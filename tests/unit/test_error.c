/* The one shape of a failure's detail (admit/core/error.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/error.h"

static void test_set_and_clear(void **state)
{
    (void)state;
    struct admit_error err;
    memset(&err, 'x', sizeof err);
    admit_error_clear(&err);
    assert_string_equal(err.message, "");
    assert_string_equal(err.field, "");
    assert_null(err.code);
    assert_int_equal(err.line, 0);

    err.code = "invalid_value";
    err.line = 7;
    admit_error_set_field(&err, "email");
    admit_error_set(&err, "%s: %d%%", "line", 7);
    assert_string_equal(err.message, "line: 7%");
    assert_string_equal(err.field, "email");
    assert_string_equal(err.code, "invalid_value"); /* set leaves the rest alone */
    assert_int_equal(err.line, 7);
    admit_error_set_field(&err, NULL);
    assert_string_equal(err.field, "");

    /* NULL: the caller did not want the detail. */
    admit_error_clear(NULL);
    admit_error_set(NULL, "%s", "nobody reads this");
    admit_error_set_field(NULL, "email");
}

static void test_cut_at_a_character(void **state)
{
    (void)state;
    struct admit_error err;
    char long_text[2 * ADMIT_ERROR_MESSAGE_SIZE];
    admit_error_clear(&err);

    /* ASCII: cut at the size. */
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    admit_error_set(&err, "%s", long_text);
    assert_int_equal(strlen(err.message), ADMIT_ERROR_MESSAGE_SIZE - 1);

    /* A two-byte character that would straddle the end is left out whole. */
    memset(long_text, 'a', ADMIT_ERROR_MESSAGE_SIZE - 2);
    strcpy(long_text + ADMIT_ERROR_MESSAGE_SIZE - 2, "\xc3\xa9tail");
    admit_error_set(&err, "%s", long_text);
    assert_int_equal(strlen(err.message), ADMIT_ERROR_MESSAGE_SIZE - 2);

    /* One that fits just before the end stays. */
    memset(long_text, 'a', ADMIT_ERROR_MESSAGE_SIZE - 3);
    strcpy(long_text + ADMIT_ERROR_MESSAGE_SIZE - 3, "\xc3\xa9tail");
    admit_error_set(&err, "%s", long_text);
    assert_int_equal(strlen(err.message), ADMIT_ERROR_MESSAGE_SIZE - 1);
    assert_memory_equal(err.message + ADMIT_ERROR_MESSAGE_SIZE - 3, "\xc3\xa9", 2);

    /* A three-byte character cut after its second byte goes too. */
    memset(long_text, 'a', ADMIT_ERROR_MESSAGE_SIZE - 3);
    strcpy(long_text + ADMIT_ERROR_MESSAGE_SIZE - 3, "\xe2\x82\xac tail");
    admit_error_set(&err, "%s", long_text);
    assert_int_equal(strlen(err.message), ADMIT_ERROR_MESSAGE_SIZE - 3);

    /* Fields are cut the same way. */
    memset(long_text, 'f', ADMIT_ERROR_FIELD_SIZE + 5);
    long_text[ADMIT_ERROR_FIELD_SIZE + 5] = '\0';
    admit_error_set_field(&err, long_text);
    assert_int_equal(strlen(err.field), ADMIT_ERROR_FIELD_SIZE - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_clear),
        cmocka_unit_test(test_cut_at_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
