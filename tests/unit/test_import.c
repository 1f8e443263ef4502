/* admit import (lib/register/import.c) without a database: it fails cleanly and writes no ticket
 * link. Validation, line numbers, all-or-nothing and seats are tested against PostgreSQL through
 * the admit binary (tests/integration/test_import.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/register/import.h"
#include "admit/core/keys.h"

#define NOWHERE "host=/nonexistent/admit-test dbname=none connect_timeout=1"

static int errors_seen;

static void on_error(void *ctx, const char *message)
{
    (void)ctx;
    (void)message;
    errors_seen++;
}

static void unreachable_database(void **state)
{
    static const char csv[] = "given_name,family_name,email,organisation,organisation_type,"
                              "country\r\nAda,Lovelace,ada@example.org,E,research,BE\r\n";
    (void)state;
    assert_int_equal(admit_init(), ADMIT_OK);
    FILE *in = fmemopen((void *)csv, sizeof csv - 1, "rb");
    FILE *tickets = tmpfile();
    assert_non_null(in);
    assert_non_null(tickets);
    struct admit_db *db = admit_db_new(NOWHERE);
    struct admit_import_options options = {NULL, on_error, NULL, "", tickets};
    struct admit_import_result result;
    assert_int_equal(admit_import_run(db, "ev", in, &options, &result), ADMIT_ERR_DB_UNAVAILABLE);
    assert_int_equal(result.imported, 0);
    assert_int_equal(errors_seen, 0);
    assert_int_equal(ftell(tickets), 0);
    admit_db_free(db);
    fclose(in);
    fclose(tickets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unreachable_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
