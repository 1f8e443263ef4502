/* CSV exports (lib/register/export.c): the shared column table, export kinds, and failing cleanly
 * when the database is away. The rows themselves are checked over HTTP and from the shell, parsed
 * back by Python's csv module (tests/integration/test_export.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/register/export.h"
#include "admit/core/keys.h"
#include "admit/register/registration.h"

#define NOWHERE "host=/nonexistent/admit-test dbname=none connect_timeout=1"

static int setup(void **state)
{
    (void)state;
    return admit_init() == ADMIT_OK ? 0 : -1;
}

static const struct admit_form_field *form_field(const char *name)
{
    for (size_t i = 0; i < admit_registration_field_count; i++)
        if (strcmp(admit_registration_fields[i].name, name) == 0)
            return &admit_registration_fields[i];
    return NULL;
}

/* Every column the import reads is a registration form field (whose validator checks it), or
 * "lists"; required columns are exactly the form's required fields. */
static void columns_match_the_registration_form(void **state)
{
    size_t readable = 0;
    (void)state;
    assert_string_equal(admit_registration_columns[0].name, "id");
    for (size_t i = 0; i < admit_registration_column_count; i++) {
        const struct admit_export_column *c = &admit_registration_columns[i];
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(c->name, admit_registration_columns[j].name);
        if (c->import == ADMIT_COLUMN_EXPORT_ONLY)
            continue;
        readable++;
        if (strcmp(c->name, "lists") == 0) {
            assert_int_equal(c->import, ADMIT_COLUMN_OPTIONAL);
            continue;
        }
        const struct admit_form_field *f = form_field(c->name);
        if (f == NULL) {
            fail_msg("column %s is no registration form field", c->name);
            return;
        }
        assert_int_equal(c->import,
                         f->missing != NULL ? ADMIT_COLUMN_REQUIRED : ADMIT_COLUMN_OPTIONAL);
    }
    /* And every form field has its column. */
    assert_int_equal(readable, admit_registration_field_count + 1);
}

static void kinds(void **state)
{
    enum admit_export_kind kind;
    struct admit_buf name;
    (void)state;
    admit_buf_init(&name, 160);
    assert_true(admit_export_kind_parse("registrations", &kind));
    assert_int_equal(kind, ADMIT_EXPORT_REGISTRATIONS);
    assert_string_equal(admit_export_kind_name(kind), "registrations");
    assert_int_equal(
        admit_export_download_name(&name, "final-2027", "registrations", ADMIT_CSV_RFC4180),
        ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&name), "final-2027-registrations.csv");
    assert_int_equal(
        admit_export_download_name(&name, "final-2027", "registrations", ADMIT_CSV_EXCEL),
        ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&name), "final-2027-registrations-excel.csv");
    assert_true(admit_export_kind_parse("attendance", &kind));
    assert_string_equal(admit_export_kind_name(kind), "attendance");
    assert_true(admit_export_kind_parse("scans", &kind));
    assert_string_equal(admit_export_kind_name(kind), "scans");
    admit_buf_free(&name);
    assert_false(admit_export_kind_parse("Scans", &kind));
    assert_false(admit_export_kind_parse("", &kind));
    assert_false(admit_export_kind_parse("registrations.csv", &kind));
}

static void unreachable_database(void **state)
{
    struct admit_export *x = (struct admit_export *)&x;
    struct admit_db *db = admit_db_new(NOWHERE);
    struct admit_error err;
    int event_id = -1, list_id = -1;
    (void)state;
    assert_int_equal(
        admit_export_open(&x, NOWHERE, ADMIT_EXPORT_SCANS, 1, 0, ADMIT_CSV_RFC4180, &err),
        ADMIT_ERR_DB_UNAVAILABLE);
    assert_null(x);
    assert_true(strlen(err.message) > 0);
    assert_int_equal(admit_export_find(db, "ev", NULL, 0, &event_id, &list_id),
                     ADMIT_ERR_DB_UNAVAILABLE);
    assert_int_equal(event_id, 0);
    assert_int_equal(list_id, 0);
    admit_export_close(NULL);
    admit_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_match_the_registration_form),
        cmocka_unit_test(kinds),
        cmocka_unit_test(unreachable_database),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
