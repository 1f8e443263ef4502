/* Countries (lib/core/country.c): every ISO 3166-1 code and Kosovo, found by code, in the order
 * people read the names, which is ICU's root collation (PostgreSQL's "und-x-icu"), checked with
 * ICU itself: "Åland Islands" with the A's, "Côte d'Ivoire" before "Croatia". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <unicode/ucol.h>

#include "admit/core/country.h"

static void test_found_by_code(void **state)
{
    (void)state;
    assert_true(admit_country_count() > 240);
    assert_string_equal(admit_country_find("BE")->name, "Belgium");
    assert_string_equal(admit_country_find("XK")->name, "Kosovo");
    assert_null(admit_country_find("ZZ"));
    assert_null(admit_country_find("be"));
    assert_null(admit_country_at(admit_country_count()));
}

static void test_reading_order(void **state)
{
    UErrorCode status = U_ZERO_ERROR;
    (void)state;
    UCollator *root = ucol_open("", &status);
    assert_true(U_SUCCESS(status));
    for (size_t i = 1; i < admit_country_count(); i++) {
        const char *a = admit_country_at(i - 1)->name, *b = admit_country_at(i)->name;
        status = U_ZERO_ERROR;
        UCollationResult order = ucol_strcollUTF8(root, a, -1, b, -1, &status);
        assert_true(U_SUCCESS(status));
        if (order == UCOL_GREATER)
            fail_msg("\"%s\" is listed before \"%s\"", a, b);
    }
    ucol_close(root);
    size_t aland = 0, austria = 0;
    for (size_t i = 0; i < admit_country_count(); i++) {
        aland = strcmp(admit_country_at(i)->code, "AX") == 0 ? i : aland;
        austria = strcmp(admit_country_at(i)->code, "AT") == 0 ? i : austria;
    }
    assert_true(aland < austria); /* "Åland" with the A's, not after Zimbabwe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_by_code),
        cmocka_unit_test(test_reading_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
