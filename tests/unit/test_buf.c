/* The growable, bounded text buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/buf.h"

static void test_append_and_limit(void **state)
{
    (void)state;
    struct admit_buf b;
    admit_buf_init(&b, 10);
    assert_string_equal(admit_buf_cstr(&b), "");
    assert_int_equal(admit_buf_puts(&b, "hello"), ADMIT_OK);
    assert_int_equal(admit_buf_putc(&b, ' '), ADMIT_OK);
    assert_int_equal(admit_buf_printf(&b, "%d", 1234), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "hello 1234");
    assert_int_equal(b.len, 10);
    /* At the limit: nothing more is appended, and the content is unchanged. */
    assert_int_equal(admit_buf_putc(&b, 'x'), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(admit_buf_printf(&b, "%s", "y"), ADMIT_ERR_TOO_LARGE);
    assert_int_equal(admit_buf_append(&b, "zz", SIZE_MAX), ADMIT_ERR_TOO_LARGE);
    assert_string_equal(admit_buf_cstr(&b), "hello 1234");
    admit_buf_truncate(&b, 5);
    assert_string_equal(admit_buf_cstr(&b), "hello");
    admit_buf_truncate(&b, 50);
    assert_int_equal(b.len, 5);
    admit_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(admit_buf_cstr(&b), "");
    admit_buf_free(&b);
}

static void test_growth_and_steal(void **state)
{
    (void)state;
    struct admit_buf b;
    size_t len = 0;
    admit_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(admit_buf_printf(&b, "%04d", i % 10000), ADMIT_OK);
    assert_int_equal(b.len, 40000);
    assert_memory_equal(b.data + 39996, "9999", 4);
    char *s = admit_buf_steal(&b, &len);
    assert_int_equal(len, 40000);
    assert_int_equal(strlen(s), 40000);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    s = admit_buf_steal(&b, &len); /* empty: still a string to free */
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_limit),
        cmocka_unit_test(test_growth_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
