/* Finding a check-in list from what a person typed (lib/core/list_match.c): case, dashes that look
 * alike, spaces, numbers, and the refusals when the typing could mean two lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/list_match.h"

static const char *const lists[] = {
    "Day 1 \xe2\x80\x93 Plenary", /* en dash */
    "Day 2 \xe2\x80\x94 Plenary", /* em dash */
    "Cluster session",
    "D\xc3\xaen\xc3\xa9 de gala",                       /* "Dîné de gala" */
    "\xce\x94\xce\xb5\xce\xaf\xcf\x80\xce\xbd\xce\xbf", /* "Δείπνο" */
};
#define NLISTS (sizeof lists / sizeof lists[0])

static void found(const char *typed, size_t want)
{
    size_t index = 99;
    assert_int_equal(admit_list_match(lists, NLISTS, typed, &index), 0);
    assert_int_equal(index, want);
}

static void test_typed_names(void **state)
{
    (void)state;
    found("Day 1 \xe2\x80\x93 Plenary", 0); /* exact */
    found("Day 1 - Plenary", 0);            /* a hyphen for the en dash */
    found("day 1 - plenary", 0);            /* any case */
    found("  DAY 1   -   PLENARY\t", 0);    /* spaces anywhere, repeated */
    found("Day 2 \xe2\x88\x92 plenary", 1); /* a minus sign for the em dash */
    found("day\xc2\xa0"
          "2 - plenary",
          1); /* a no-break space */
    found("CLUSTER SESSION", 2);
    found("D\xc3\x8eN\xc3\x89 DE GALA", 3); /* "DÎNÉ DE GALA": Unicode case */
    found("\xce\x94\xce\x95\xce\x8a\xce\xa0\xce\x9d\xce\x9f", 4); /* "ΔΕΊΠΝΟ" */
}

static void test_numbers(void **state)
{
    (void)state;
    found("1", 0);
    found(" 3 ", 2);
    found("5", 4);
    size_t index = 99;
    assert_int_equal(admit_list_match(lists, NLISTS, "6", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, NLISTS, "0", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, NLISTS, "01", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, NLISTS, "99999999999999999999999", &index),
                     ADMIT_ERR_NOT_FOUND);
    /* A list whose name is a number: the name wins over the position. */
    static const char *const numbered[] = {"2", "1"};
    assert_int_equal(admit_list_match(numbered, 2, "1", &index), 0);
    assert_int_equal(index, 1);
}

static void test_refusals(void **state)
{
    size_t index = 99;
    (void)state;
    assert_int_equal(admit_list_match(lists, NLISTS, "Day 3", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, NLISTS, "", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, NLISTS, "   ", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, NLISTS, "Day 1", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_list_match(lists, 0, "Day 1", &index), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(index, 99);
    /* Two lists that fold to the same name: only the exact name or the number chooses. */
    static const char *const twins[] = {"Day 1 - Plenary", "day 1 \xe2\x80\x93 plenary"};
    assert_int_equal(admit_list_match(twins, 2, "DAY 1 - PLENARY", &index), ADMIT_ERR_CONFLICT);
    assert_int_equal(admit_list_match(twins, 2, "day 1 \xe2\x80\x93 plenary", &index), 0);
    assert_int_equal(index, 1);
    assert_int_equal(admit_list_match(twins, 2, "1", &index), 0);
    assert_int_equal(index, 0);
}

static void test_fold(void **state)
{
    char key[16];
    (void)state;
    admit_list_name_fold("  A \xe2\x80\x94  B ", key, sizeof key);
    assert_string_equal(key, "a-b");
    admit_list_name_fold("Day  1 -Plenary", key, sizeof key);
    assert_string_equal(key, "day 1-plenary");
    /* Bytes that are not UTF-8 are kept; a key too long is cut at a character. */
    admit_list_name_fold("X\xff\xc3", key, sizeof key);
    assert_string_equal(key, "x\xff\xc3");
    admit_list_name_fold("\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3\x89", key,
                         sizeof key);
    assert_string_equal(key, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    admit_list_name_fold("abc", key, 1);
    assert_string_equal(key, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_names),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
