/* Secret files (the *_FILE variables): the value without its line break, and every refusal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "admit/core/secret_file.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/admit-test-secret-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/secret", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void write_file(const char *content, size_t len, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static enum admit_rc read_it(char *out, size_t cap, size_t *len)
{
    return admit_secret_file_read(path, out, cap, len);
}

static void test_value_without_line_breaks(void **state)
{
    (void)state;
    char out[64];
    size_t len = 99;
    static const struct {
        const char *content;
        mode_t mode;
        const char *value;
    } cases[] = {
        {"s3cret\n", 0600, "s3cret"},
        {"s3cret", 0400, "s3cret"},
        {"s3cret\r\n", 0640, "s3cret"}, /* the group may read: root:admit 0640 */
        {"s3cret\n\n", 0600, "s3cret"},
        {"host=/run/pg dbname=admit password=a b", 0600, "host=/run/pg dbname=admit password=a b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(cases[i].content, strlen(cases[i].content), cases[i].mode);
        assert_int_equal(read_it(out, sizeof out, &len), ADMIT_OK);
        assert_string_equal(out, cases[i].value);
        assert_int_equal(len, strlen(cases[i].value));
    }
}

static void assert_wiped(const char *out, size_t cap)
{
    for (size_t i = 0; i < cap; i++)
        assert_int_equal(out[i], 0);
}

static void test_refusals(void **state)
{
    (void)state;
    char out[16];
    size_t len = 0;
    /* Open to others: refused before it is read. */
    write_file("s3cret\n", 7, 0604);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_PERMISSION);
    write_file("s3cret\n", 7, 0602);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_PERMISSION);
    /* No value, or more than one line, or a NUL. */
    write_file("\n", 1, 0600);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_INVALID);
    write_file("", 0, 0600);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_INVALID);
    write_file("one\ntwo\n", 8, 0600);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_INVALID);
    assert_wiped(out, sizeof out);
    write_file("a\0b", 3, 0600);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_INVALID);
    /* A file of 15 bytes fits in 16; one of 16 does not, even when its last is a line break. */
    write_file("12345678901234\n", 15, 0600);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_OK);
    write_file("123456789012345\n", 16, 0600);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_TOO_LARGE);
    assert_wiped(out, sizeof out);
    /* Missing, or a folder. */
    unlink(path);
    assert_int_equal(read_it(out, sizeof out, &len), ADMIT_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(admit_secret_file_read(dir, out, sizeof out, &len), ADMIT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_without_line_breaks),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
