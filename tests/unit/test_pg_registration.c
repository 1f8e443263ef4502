/* Registrations against a real PostgreSQL: capacity under concurrency, the waiting list and its
 * promotion, duplicate submissions, one registration per email, windows and bad lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <cmocka.h>

#include "admit/register/event.h"
#include "admit/core/keys.h"
#include "admit/register/registration.h"
#include "pgtest.h"

static struct pgtest pg;

static int setup(void **state)
{
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    pgtest_create(&pg, "registration");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pgtest_drop(&pg);
    return 0;
}

static void create_event(const char *slug, long capacity, const char *opens, const char *closes)
{
    struct admit_event_spec spec = {.slug = slug,
                                    .name = "Test conference",
                                    .time_zone = "Europe/Brussels",
                                    .starts = "2099-10-29 09:00",
                                    .ends = "2099-10-30 17:00",
                                    .opens = opens,
                                    .closes = closes,
                                    .capacity = capacity,
                                    .lists = {{"Day 1", "2099-10-29"}, {"Day 2", "2099-10-30"}},
                                    .nlists = 2};
    struct admit_error err;
    int id = 0;
    struct admit_db *db = admit_db_new(pg.dsn);
    if (admit_event_create(db, &spec, &id, &err) != ADMIT_OK)
        fail_msg("event create: %s", err.message);
    admit_db_free(db);
}

static int list_id(const char *slug, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT l.id FROM checkin_lists l JOIN events e ON e.id = l.event_id "
             "WHERE e.slug = '%s' AND l.name = '%s'",
             slug, name);
    return atoi(pgtest_value(pg.dsn, sql));
}

static struct admit_registration person(char *nonce, char *email, int n)
{
    struct admit_registration r = {.form_nonce = nonce,
                                   .given_name = "Ada",
                                   .family_name = "Lovelace",
                                   .email = email,
                                   .organisation = "Analytical Engines",
                                   .organisation_type = "research",
                                   .country = "BE",
                                   .dietary = "",
                                   .accessibility = "",
                                   .source = "web"};
    admit_token_new(nonce);
    snprintf(email, 64, "person%d@example.org", n);
    return r;
}

static long count(const char *slug, const char *status)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM registrations r JOIN events e ON e.id = r.event_id "
             "WHERE e.slug = '%s' AND r.status = '%s'",
             slug, status);
    return atol(pgtest_value(pg.dsn, sql));
}

/* confirmed + free seats == capacity: no seat is ever lost or invented. */
static void assert_seat_invariant(const char *slug)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT e.capacity = (SELECT count(*) FROM registrations r WHERE r.event_id = e.id "
             "AND r.status = 'confirmed') + (SELECT sum(free) FROM event_seats s "
             "WHERE s.event_id = e.id) FROM events e WHERE e.slug = '%s'",
             slug);
    assert_string_equal(pgtest_value(pg.dsn, sql), "t");
}

struct worker {
    int first, count;
    int created, errors;
};

static void *register_many(void *arg)
{
    struct worker *w = arg;
    struct admit_db *db = admit_db_new(pg.dsn);
    int day1 = list_id("crowd", "Day 1");
    for (int i = w->first; i < w->first + w->count; i++) {
        char nonce[ADMIT_TOKEN_SIZE], email[64];
        struct admit_registration r = person(nonce, email, i);
        struct admit_registration_result res;
        r.list_ids[0] = day1;
        r.nlists = 1;
        enum admit_rc rc = admit_registration_submit(db, "crowd", &r, &res);
        if (rc != ADMIT_OK || res.outcome != ADMIT_REG_CREATED) {
            fprintf(stderr, "registration %d: %s, outcome %d, %s %s\n", i, admit_strerror(rc),
                    (int)res.outcome, admit_db_sqlstate(db), admit_db_error(db));
            w->errors++;
        } else
            w->created++;
    }
    admit_db_free(db);
    return NULL;
}

static void test_capacity_under_concurrency(void **state)
{
    (void)state;
    enum { THREADS = 30, EACH = 10 };
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    create_event("crowd", 20, NULL, NULL);
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){t * EACH, EACH, 0, 0};
        pthread_create(&threads[t], NULL, register_many, &workers[t]);
    }
    int created = 0, errors = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        created += workers[t].created;
        errors += workers[t].errors;
    }
    assert_int_equal(errors, 0);
    assert_int_equal(created, 300);
    assert_int_equal(count("crowd", "confirmed"), 20);
    assert_int_equal(count("crowd", "waitlisted"), 280);
    assert_seat_invariant("crowd");

    /* Cancelling confirmed registrations promotes the earliest waitlisted ones, in order. */
    const char *first_waiting =
        pgtest_value(pg.dsn, "SELECT min(id) FROM registrations WHERE status = 'waitlisted'");
    int first = atoi(first_waiting);
    char token[64];
    snprintf(token, sizeof token, "%s",
             pgtest_value(pg.dsn, "SELECT token FROM registrations WHERE status = 'confirmed' "
                                  "ORDER BY id LIMIT 1"));
    struct admit_db *db = admit_db_new(pg.dsn);
    struct admit_cancel_result c;
    assert_int_equal(admit_registration_cancel(db, token, &c), ADMIT_OK);
    assert_int_equal(c.outcome, ADMIT_CANCEL_DONE);
    assert_int_equal(c.promoted_id, first);
    assert_int_equal(admit_registration_cancel(db, token, &c), ADMIT_OK);
    assert_int_equal(c.outcome, ADMIT_CANCEL_ALREADY);
    assert_int_equal(c.promoted_id, 0);
    assert_int_equal(admit_registration_cancel(db, "AAAAAAAAAAAAAAAAAAAAAA", &c), ADMIT_OK);
    assert_int_equal(c.outcome, ADMIT_CANCEL_NOT_FOUND);
    assert_int_equal(count("crowd", "confirmed"), 20);
    assert_int_equal(count("crowd", "waitlisted"), 279);
    /* Cancelling a waitlisted registration frees no seat. */
    snprintf(token, sizeof token, "%s",
             pgtest_value(pg.dsn, "SELECT token FROM registrations WHERE status = 'waitlisted' "
                                  "ORDER BY id DESC LIMIT 1"));
    assert_int_equal(admit_registration_cancel(db, token, &c), ADMIT_OK);
    assert_int_equal(c.promoted_id, 0);
    assert_int_equal(count("crowd", "confirmed"), 20);
    assert_seat_invariant("crowd");
    admit_db_free(db);
}

static void test_duplicates_and_email(void **state)
{
    (void)state;
    struct admit_db *db = admit_db_new(pg.dsn);
    char nonce[ADMIT_TOKEN_SIZE], email[64];
    struct admit_registration_result a, b;
    create_event("dupes", 5, NULL, NULL);
    struct admit_registration r = person(nonce, email, 1);
    r.list_ids[0] = list_id("dupes", "Day 2");
    r.nlists = 1;
    assert_int_equal(admit_registration_submit(db, "dupes", &r, &a), ADMIT_OK);
    assert_int_equal(a.outcome, ADMIT_REG_CREATED);
    assert_false(a.waitlisted);
    assert_true(admit_token_valid(a.token));
    /* The same form again: the same registration and token, no second seat. */
    assert_int_equal(admit_registration_submit(db, "dupes", &r, &b), ADMIT_OK);
    assert_int_equal(b.outcome, ADMIT_REG_DUPLICATE);
    assert_int_equal(b.registration_id, a.registration_id);
    assert_string_equal(b.token, a.token);
    assert_int_equal(count("dupes", "confirmed"), 1);
    /* Another form, same email in another case: a clear refusal. */
    char nonce2[ADMIT_TOKEN_SIZE], email2[64];
    struct admit_registration r2 = person(nonce2, email2, 1);
    r2.email = "PERSON1@Example.org";
    r2.list_ids[0] = r.list_ids[0];
    r2.nlists = 1;
    assert_int_equal(admit_registration_submit(db, "dupes", &r2, &b), ADMIT_OK);
    assert_int_equal(b.outcome, ADMIT_REG_EMAIL_TAKEN);
    assert_int_equal(count("dupes", "confirmed"), 1);
    /* After cancelling, the same person may register again. */
    struct admit_cancel_result c;
    assert_int_equal(admit_registration_cancel(db, a.token, &c), ADMIT_OK);
    assert_int_equal(admit_registration_submit(db, "dupes", &r2, &b), ADMIT_OK);
    assert_int_equal(b.outcome, ADMIT_REG_CREATED);
    assert_seat_invariant("dupes");
    admit_db_free(db);
}

static void test_windows_lists_and_full(void **state)
{
    (void)state;
    struct admit_db *db = admit_db_new(pg.dsn);
    char nonce[ADMIT_TOKEN_SIZE], email[64];
    struct admit_registration_result res;
    struct admit_registration r = person(nonce, email, 7);

    assert_int_equal(admit_registration_submit(db, "no-such-event", &r, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_NOT_FOUND);

    create_event("later", 5, "2099-01-01 00:00", NULL);
    assert_int_equal(admit_registration_submit(db, "later", &r, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_NOT_OPEN);

    create_event("past", 5, "2000-01-01 00:00", "2000-02-01 00:00");
    assert_int_equal(admit_registration_submit(db, "past", &r, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_CLOSED);

    create_event("lists", 5, NULL, NULL);
    r.list_ids[0] = list_id("crowd", "Day 1"); /* another event's list */
    r.nlists = 1;
    assert_int_equal(admit_registration_submit(db, "lists", &r, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_BAD_LIST);
    assert_int_equal(count("lists", "confirmed"), 0);

    /* No waiting list: past capacity the answer is "full" and nothing is stored. */
    create_event("tiny", 1, NULL, NULL);
    assert_string_equal(pgtest_value(pg.dsn, "UPDATE events SET waitlist = false "
                                             "WHERE slug = 'tiny' RETURNING 'ok'"),
                        "ok");
    r.nlists = 0;
    assert_int_equal(admit_registration_submit(db, "tiny", &r, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_NO_LIST); /* the event has lists: choose one */
    r.list_ids[0] = list_id("tiny", "Day 2");
    r.nlists = 1;
    assert_int_equal(admit_registration_submit(db, "tiny", &r, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_CREATED);
    char nonce2[ADMIT_TOKEN_SIZE], email2[64];
    struct admit_registration r2 = person(nonce2, email2, 8);
    r2.list_ids[0] = r.list_ids[0];
    r2.nlists = 1;
    assert_int_equal(admit_registration_submit(db, "tiny", &r2, &res), ADMIT_OK);
    assert_int_equal(res.outcome, ADMIT_REG_FULL);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM registrations r JOIN events e "
                                             "ON e.id = r.event_id WHERE e.slug = 'tiny'"),
                        "1");
    assert_seat_invariant("tiny");
    admit_db_free(db);
}

struct raiser {
    int first, count; /* people registering while the capacity goes up */
    int confirmed;
};

static void *register_while_raising(void *arg)
{
    struct raiser *w = arg;
    struct admit_db *db = admit_db_new(pg.dsn);
    int day1 = list_id("raise", "Day 1");
    for (int i = w->first; i < w->first + w->count; i++) {
        char nonce[ADMIT_TOKEN_SIZE], email[64];
        struct admit_registration r = person(nonce, email, i);
        struct admit_registration_result res;
        r.list_ids[0] = day1;
        r.nlists = 1;
        assert_int_equal(admit_registration_submit(db, "raise", &r, &res), ADMIT_OK);
        w->confirmed += res.outcome == ADMIT_REG_CREATED && !res.waitlisted;
    }
    admit_db_free(db);
    return NULL;
}

/* Seats a larger capacity adds go to the waiting list first, in order, in the same transaction
 * (migration 9), and are told by email: capacity 6 full, 3 waiting, raised to 8 while others
 * register at the same time. Nobody registering meanwhile takes one of those seats. */
static void test_capacity_raise_serves_the_waiting_list(void **state)
{
    (void)state;
    enum { THREADS = 6, EACH = 5 };
    create_event("raise", 6, NULL, NULL);
    struct raiser before = {1000, 9, 0};
    register_while_raising(&before);
    assert_int_equal(before.confirmed, 6);
    char waiting[256];
    snprintf(waiting, sizeof waiting, "%s",
             pgtest_value(pg.dsn, "SELECT string_agg(r.id::text, ',' ORDER BY r.id) FROM "
                                  "registrations r JOIN events e ON e.id = r.event_id WHERE "
                                  "e.slug = 'raise' AND r.status = 'waitlisted'"));
    pthread_t threads[THREADS];
    struct raiser workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct raiser){2000 + t * EACH, EACH, 0};
        pthread_create(&threads[t], NULL, register_while_raising, &workers[t]);
    }
    pgtest_value(pg.dsn, "SELECT admit_seats_resize(id, 8) IS NULL FROM events "
                         "WHERE slug = 'raise'");
    int late = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        late += workers[t].confirmed;
    }
    assert_int_equal(late, 0);
    assert_int_equal(count("raise", "confirmed"), 8);
    assert_seat_invariant("raise");
    /* The first two who waited have the seats, and a "you have a seat" email each. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(id::text, ',' ORDER BY id) FROM registrations "
             "WHERE id = ANY ('{%s}'::int[]) AND status = 'confirmed'",
             waiting);
    char promoted[256];
    snprintf(promoted, sizeof promoted, "%s", pgtest_value(pg.dsn, sql));
    char *third = strrchr(waiting, ',');
    assert_non_null(third);
    *third = '\0';
    assert_string_equal(promoted, waiting);
    snprintf(sql, sizeof sql,
             "SELECT string_agg(registration_id::text, ',' ORDER BY registration_id) FROM "
             "mail_outbox WHERE kind = 'promoted' AND registration_id = ANY ('{%s}'::int[])",
             waiting);
    assert_string_equal(pgtest_value(pg.dsn, sql), waiting);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_under_concurrency),
        cmocka_unit_test(test_capacity_raise_serves_the_waiting_list),
        cmocka_unit_test(test_duplicates_and_email),
        cmocka_unit_test(test_windows_lists_and_full),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
