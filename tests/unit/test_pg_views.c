/* What the pages read, in the library, against a real PostgreSQL: the attendee pages
 * (admit/register/page.h: upcoming events, an event, a ticket with its QR code rendered once),
 * the ticket PNG (admit_ticket_image_png), the organisers' views (admit/register/admin_view.h:
 * events, an event's views, the attendee search and its refusals, one attendee, the arrivals
 * chart, the report) only within the events an admin may see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/keys.h"
#include "admit/register/admin.h"
#include "admit/register/admin_review.h"
#include "admit/register/admin_view.h"
#include "admit/register/event.h"
#include "admit/register/page.h"
#include "admit/register/ticket_image.h"
#include "enrol.h"
#include "pgtest.h"

static struct pgtest pg;
static struct admit_db *db;
static struct admit_signing_key key;
static int all_admin, other_admin; /* may see every event; may see only "other" */
static char confirmed[ADMIT_TOKEN_SIZE], waitlisted[ADMIT_TOKEN_SIZE];
static int confirmed_id;

static void create_event(const char *slug, long capacity)
{
    struct admit_event_spec spec = {.slug = slug,
                                    .name = "Views conference",
                                    .time_zone = "Europe/Brussels",
                                    .starts = "2099-10-29 09:00",
                                    .ends = "2099-10-30 17:30",
                                    .capacity = capacity,
                                    .contact_email = "events@example.org"};
    struct admit_error err;
    int id = 0;
    if (admit_event_create(db, &spec, &id, &err) != ADMIT_OK)
        fail_msg("event: %s", err.message);
}

static int add_admin(const char *email, const char *slug)
{
    char sql[200];
    struct admit_error err;
    const char *slugs[1] = {slug};
    if (admit_admin_add(db, email, "a long enough password", slugs, slug != NULL, &err) != ADMIT_OK)
        fail_msg("admin: %s", err.message);
    snprintf(sql, sizeof sql, "SELECT id FROM admins WHERE email = '%s'", email);
    return atoi(pgtest_value(pg.dsn, sql));
}

static int setup(void **state)
{
    struct admit_registration_result res;
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    admit_key_generate(&key);
    pgtest_create(&pg, "views");
    db = admit_db_new(pg.dsn);
    create_event("views", 1);
    create_event("other", 10);
    enrol(db, "views", "first@example.org", &res);
    snprintf(confirmed, sizeof confirmed, "%s", res.token);
    confirmed_id = res.registration_id;
    enrol(db, "views", "second@example.org", &res);
    snprintf(waitlisted, sizeof waitlisted, "%s", res.token);
    all_admin = add_admin("all@example.org", NULL);
    other_admin = add_admin("other@example.org", "other");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    admit_key_wipe(&key);
    admit_db_free(db);
    pgtest_drop(&pg);
    return 0;
}

static void test_event_pages(void **state)
{
    (void)state;
    json_t *out = NULL;
    assert_int_equal(admit_page_upcoming(db, &out), ADMIT_OK);
    assert_true(json_is_array(out));
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    assert_int_equal(admit_page_event(db, "views", &out), ADMIT_OK);
    assert_string_equal(json_string_value(json_object_get(out, "slug")), "views");
    json_decref(out);
    assert_int_equal(admit_page_event(db, "nothing-here", &out), ADMIT_ERR_NOT_FOUND);
    assert_null(out);
}

static void test_ticket_pages(void **state)
{
    (void)state;
    struct admit_ticket_page page;
    /* Confirmed: the QR code is made on the first view, then read. */
    assert_int_equal(admit_ticket_page_load(db, &key, confirmed, &page), ADMIT_OK);
    assert_int_equal(page.status, ADMIT_TICKET_CONFIRMED);
    assert_true(page.rendered);
    const char *svg = json_string_value(json_object_get(page.ticket, "qr_svg"));
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    admit_ticket_page_free(&page);
    assert_null(page.ticket);
    assert_int_equal(admit_ticket_page_load(db, &key, confirmed, &page), ADMIT_OK);
    assert_false(page.rendered);
    assert_non_null(json_string_value(json_object_get(page.ticket, "qr_svg")));
    admit_ticket_page_free(&page);
    /* Without a key (the cancel page): no QR code. */
    assert_int_equal(admit_ticket_page_load(db, NULL, confirmed, &page), ADMIT_OK);
    assert_null(json_object_get(page.ticket, "qr_svg"));
    admit_ticket_page_free(&page);
    /* On the waiting list: a page, no QR code. */
    assert_int_equal(admit_ticket_page_load(db, &key, waitlisted, &page), ADMIT_OK);
    assert_int_equal(page.status, ADMIT_TICKET_WAITLISTED);
    assert_false(page.rendered);
    assert_null(json_object_get(page.ticket, "qr_svg"));
    admit_ticket_page_free(&page);
    /* Unknown or malformed tokens. */
    char unknown[ADMIT_TOKEN_SIZE];
    admit_token_new(unknown);
    assert_int_equal(admit_ticket_page_load(db, &key, unknown, &page), ADMIT_ERR_NOT_FOUND);
    assert_null(page.ticket);
    assert_int_equal(admit_ticket_page_load(db, &key, "nope'--", &page), ADMIT_ERR_NOT_FOUND);
}

static void test_ticket_png(void **state)
{
    (void)state;
    struct admit_buf png;
    bool rendered = true;
    admit_buf_init(&png, ADMIT_TICKET_IMAGE_MAX);
    /* Stored by the page view above: read, not made. */
    assert_int_equal(admit_ticket_image_png(db, &key, confirmed, &png, &rendered), ADMIT_OK);
    assert_false(rendered);
    assert_true(png.len > 8);
    assert_memory_equal(png.data, "\x89PNG", 4);
    /* A reissue makes a new version: made now. */
    pgtest_value(pg.dsn, "WITH r AS (UPDATE registrations SET reissue = reissue + 1 WHERE email "
                         "= 'first@example.org' RETURNING 1) SELECT count(*) FROM r");
    admit_buf_reset(&png);
    assert_int_equal(admit_ticket_image_png(db, &key, confirmed, &png, &rendered), ADMIT_OK);
    assert_true(rendered);
    assert_memory_equal(png.data, "\x89PNG", 4);
    /* Not confirmed, or no such ticket. */
    assert_int_equal(admit_ticket_image_png(db, &key, waitlisted, &png, &rendered),
                     ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_ticket_image_png(db, &key, "x", &png, &rendered), ADMIT_ERR_NOT_FOUND);
    admit_buf_free(&png);
}

static void test_admin_views(void **state)
{
    (void)state;
    json_t *out = NULL;
    assert_int_equal(admit_admin_view_events(db, all_admin, &out), ADMIT_OK);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    assert_int_equal(admit_admin_view_events(db, other_admin, &out), ADMIT_OK);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    const enum admit_admin_view views[] = {ADMIT_ADMIN_VIEW_OVERVIEW, ADMIT_ADMIN_VIEW_FORM,
                                           ADMIT_ADMIN_VIEW_LIVE};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        assert_int_equal(admit_admin_view_event(db, all_admin, "views", views[i], &out), ADMIT_OK);
        assert_true(json_is_object(out));
        json_decref(out);
        /* An event this admin may not see is one that does not exist. */
        assert_int_equal(admit_admin_view_event(db, other_admin, "views", views[i], &out),
                         ADMIT_ERR_NOT_FOUND);
        assert_null(out);
    }
    assert_int_equal(admit_admin_view_attendee(db, all_admin, "views", confirmed_id, &out),
                     ADMIT_OK);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "confirmed");
    json_decref(out);
    assert_int_equal(admit_admin_view_attendee(db, other_admin, "views", confirmed_id, &out),
                     ADMIT_ERR_NOT_FOUND);
    /* The door review, all cases or the open ones. */
    for (int open_only = 0; open_only <= 1; open_only++) {
        assert_int_equal(admit_admin_review_view(db, all_admin, "views", open_only, &out),
                         ADMIT_OK);
        assert_true(json_is_array(json_object_get(out, "cases")));
        json_decref(out);
        assert_int_equal(admit_admin_review_view(db, other_admin, "views", open_only, &out),
                         ADMIT_ERR_NOT_FOUND);
        assert_null(out);
    }
}

static void test_attendee_search(void **state)
{
    (void)state;
    struct admit_admin_attendees found;
    struct admit_error err;
    struct admit_admin_search all = {"", "", "", "", ""};
    assert_int_equal(admit_admin_view_attendees(db, all_admin, "views", &all, &found, &err),
                     ADMIT_OK);
    assert_int_equal(found.total, 2);
    assert_int_equal(found.page, 1);
    assert_int_equal(found.pages, 1);
    assert_int_equal(json_array_size(json_object_get(found.data, "rows")), 2);
    json_decref(found.data);

    struct admit_admin_search one = {"SECOND", "waitlisted", "", "no", "1"};
    assert_int_equal(admit_admin_view_attendees(db, all_admin, "views", &one, &found, &err),
                     ADMIT_OK);
    assert_int_equal(found.total, 1);
    json_decref(found.data);

    /* Past the last page: an empty page, still one page in all. */
    struct admit_admin_search far = {"", "", "", "", "7"};
    assert_int_equal(admit_admin_view_attendees(db, all_admin, "views", &far, &found, &err),
                     ADMIT_OK);
    assert_int_equal(found.page, 7);
    assert_int_equal(json_array_size(json_object_get(found.data, "rows")), 0);
    json_decref(found.data);

    const struct admit_admin_search bad[] = {
        {"", "gone", "", "", ""}, {"", "", "x", "", ""},      {"", "", "", "maybe", ""},
        {"", "", "", "", "0"},    {"", "", "", "", "100001"}, {"a\x01", "", "", "", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(admit_admin_view_attendees(db, all_admin, "views", &bad[i], &found, &err),
                         ADMIT_ERR_INVALID);
        assert_null(found.data);
        assert_string_equal(err.message, "This search is not valid: search for at most 200 "
                                         "characters of ordinary text, and choose the filters "
                                         "from the lists.");
    }
    assert_int_equal(admit_admin_view_attendees(db, other_admin, "views", &all, &found, &err),
                     ADMIT_ERR_NOT_FOUND);
}

static void test_chart_and_report(void **state)
{
    (void)state;
    json_t *chart = NULL, *event = NULL, *report = NULL;
    struct admit_error err;
    assert_int_equal(admit_admin_view_arrivals(db, all_admin, "views", NULL, &chart, &err),
                     ADMIT_OK);
    assert_true(json_is_true(json_object_get(chart, "empty")));
    json_decref(chart);
    assert_int_equal(admit_admin_view_arrivals(db, all_admin, "views", "29/10", &chart, &err),
                     ADMIT_ERR_INVALID);
    assert_string_equal(err.message, "day: a date like 2027-10-29.");
    assert_int_equal(admit_admin_view_arrivals(db, other_admin, "views", NULL, &chart, &err),
                     ADMIT_ERR_NOT_FOUND);

    assert_int_equal(admit_admin_view_report(db, all_admin, "views", &event, &report), ADMIT_OK);
    assert_string_equal(json_string_value(json_object_get(event, "slug")), "views");
    assert_true(json_is_array(json_object_get(report, "sections")));
    json_decref(event);
    json_decref(report);
    assert_int_equal(admit_admin_view_report(db, other_admin, "views", &event, &report),
                     ADMIT_ERR_NOT_FOUND);
    assert_null(event);
    assert_null(report);

    struct admit_buf csv;
    admit_buf_init(&csv, 1 << 20);
    assert_int_equal(admit_admin_view_report_csv(db, all_admin, "views", ADMIT_CSV_RFC4180, &csv),
                     ADMIT_OK);
    assert_int_equal(strncmp(admit_buf_cstr(&csv), "section,day,dimension,", 22), 0);
    assert_int_equal(admit_admin_view_report_csv(db, other_admin, "views", ADMIT_CSV_RFC4180, &csv),
                     ADMIT_ERR_NOT_FOUND);
    admit_buf_free(&csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_pages),     cmocka_unit_test(test_ticket_pages),
        cmocka_unit_test(test_ticket_png),      cmocka_unit_test(test_admin_views),
        cmocka_unit_test(test_attendee_search), cmocka_unit_test(test_chart_and_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
