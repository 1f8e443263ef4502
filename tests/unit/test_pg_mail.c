/* The e-mail outbox at the SQL level (sql/migrations/004_email.sql) against a real PostgreSQL:
 * the deferred trigger queues exactly the final state's message on every path (registering,
 * the waiting list, a full event, cancelling and its promotion, reissues, rollbacks, several
 * changes in one transaction, admit.mail off), and the mailer's side: claiming with leases,
 * finishing, back-off, take-over after a lease, the payload, and "send my ticket again" with
 * its throttling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admit/register/event.h"
#include "admit/core/keys.h"
#include "admit/mail/mail.h"
#include "admit/mail/mail_outbox.h"
#include "admit/register/resend.h"
#include "admit/register/registration.h"
#include "pgtest.h"

static struct pgtest pg;
static PGconn *conn;

static int setup(void **state)
{
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    (void)pgtest_value; /* pgtest.h's helper: this test keeps one connection instead */
    pgtest_create(&pg, "mail");
    conn = PQconnectdb(pg.dsn);
    return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    pgtest_drop(&pg);
    return 0;
}

static void exec(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

/* The first value of a query on the test's connection, as a string (static buffer). */
static const char *value(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *value(const char *fmt, ...)
{
    static char out[8192];
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    snprintf(out, sizeof out, "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

static void create_event(const char *slug, long capacity)
{
    struct admit_event_spec spec = {.slug = slug,
                                    .name = "Mail conference",
                                    .time_zone = "Europe/Brussels",
                                    .starts = "2099-10-29 09:00",
                                    .ends = "2099-10-30 17:30",
                                    .capacity = capacity,
                                    .venue = "Museum",
                                    .venue_address = "Rue Vautier 29, Brussels",
                                    .contact_email = "events@example.org",
                                    .lists = {{"Day 1", "2099-10-29"}},
                                    .nlists = 1};
    struct admit_error err;
    int id = 0;
    struct admit_db *db = admit_db_new(pg.dsn);
    if (admit_event_create(db, &spec, &id, &err) != ADMIT_OK)
        fail_msg("event create: %s", err.message);
    admit_db_free(db);
}

/* Registers person n for slug through admit_register, as the web form does. */
static struct admit_registration_result enrol(const char *slug, int n)
{
    char nonce[ADMIT_TOKEN_SIZE], email[64], sql[256];
    struct admit_registration_result res;
    admit_token_new(nonce);
    snprintf(email, sizeof email, "person%d.%s@example.org", n, slug);
    snprintf(sql, sizeof sql,
             "SELECT l.id FROM checkin_lists l JOIN events e ON e.id = l.event_id WHERE e.slug = "
             "'%s'",
             slug);
    struct admit_registration r = {.form_nonce = nonce,
                                   .given_name = "Ada",
                                   .family_name = "Lovelace",
                                   .email = email,
                                   .organisation = "Analytical Engines",
                                   .organisation_type = "research",
                                   .country = "BE",
                                   .dietary = "",
                                   .accessibility = "",
                                   .source = "web",
                                   .nlists = 1};
    r.list_ids[0] = atoi(value("%s", sql));
    struct admit_db *db = admit_db_new(pg.dsn);
    assert_int_equal(admit_registration_submit(db, slug, &r, &res), ADMIT_OK);
    admit_db_free(db);
    return res;
}

/* The kinds queued for registration id, in order, joined by commas ("" when none). */
static const char *kinds(int id)
{
    return value("SELECT coalesce(string_agg(kind::text, ',' ORDER BY id), '') FROM mail_outbox "
                 "WHERE registration_id = %d",
                 id);
}

static long outbox_count(void)
{
    return atol(value("SELECT count(*) FROM mail_outbox"));
}

static void test_register_confirmed_and_waitlisted(void **state)
{
    (void)state;
    create_event("m-wait", 1);
    struct admit_registration_result a = enrol("m-wait", 1);
    assert_int_equal(a.outcome, ADMIT_REG_CREATED);
    assert_false(a.waitlisted);
    assert_string_equal(kinds(a.registration_id), "confirmation");
    assert_string_equal(value("SELECT recipient || ' ' || state || ' ' || revision || ' ' || "
                              "coalesce(previous_status::text, '-') FROM mail_outbox WHERE "
                              "registration_id = %d",
                              a.registration_id),
                        "person1.m-wait@example.org pending 1 -");
    assert_string_equal(value("SELECT status || ' ' || reissue || ' ' || revision FROM "
                              "mail_notified WHERE registration_id = %d",
                              a.registration_id),
                        "confirmed 0 1");
    /* Inserted as confirmed, turned into waitlisted in the same transaction: one message, of
     * the final state. */
    struct admit_registration_result b = enrol("m-wait", 2);
    assert_true(b.waitlisted);
    assert_string_equal(kinds(b.registration_id), "waitlisted");
    /* A second submission of the same form queues nothing. */
    long before = outbox_count();
    struct admit_db *db = admit_db_new(pg.dsn);
    assert_string_equal(value("SELECT outcome FROM admit_register('m-wait', (SELECT form_nonce "
                              "FROM registrations WHERE id = %d), 'xxxxxxxxxxxxxxxxxxxxxx', 'A', "
                              "'B', 'c@example.org', '', 'research', 'BE', '', '', (SELECT "
                              "array_agg(l.id) FROM checkin_lists l JOIN events e ON e.id = "
                              "l.event_id WHERE e.slug = 'm-wait'))",
                              b.registration_id),
                        "duplicate");
    admit_db_free(db);
    assert_int_equal(outbox_count(), before);

    /* Cancelling the confirmed one: its cancellation, and the promotion of the next in line. */
    struct admit_cancel_result c;
    db = admit_db_new(pg.dsn);
    assert_int_equal(admit_registration_cancel(db, a.token, &c), ADMIT_OK);
    assert_int_equal(c.promoted_id, b.registration_id);
    assert_string_equal(kinds(a.registration_id), "confirmation,cancelled");
    assert_string_equal(kinds(b.registration_id), "waitlisted,promoted");
    assert_string_equal(value("SELECT previous_status || ' ' || revision FROM mail_outbox WHERE "
                              "registration_id = %d AND kind = 'cancelled'",
                              a.registration_id),
                        "confirmed 2");
    /* Cancelling again changes nothing, and tells nothing. */
    before = outbox_count();
    assert_int_equal(admit_registration_cancel(db, a.token, &c), ADMIT_OK);
    assert_int_equal(c.outcome, ADMIT_CANCEL_ALREADY);
    assert_int_equal(outbox_count(), before);
    /* Leaving the waiting list is a cancellation too. */
    struct admit_registration_result d = enrol("m-wait", 3);
    assert_true(d.waitlisted);
    assert_int_equal(admit_registration_cancel(db, d.token, &c), ADMIT_OK);
    assert_string_equal(kinds(d.registration_id), "waitlisted,cancelled");
    admit_db_free(db);
}

static void test_full_and_rollback(void **state)
{
    (void)state;
    create_event("m-full", 1);
    exec("UPDATE events SET waitlist = false WHERE slug = 'm-full'");
    struct admit_registration_result a = enrol("m-full", 1);
    assert_string_equal(kinds(a.registration_id), "confirmation");
    long before = outbox_count();
    long registrations = atol(value("SELECT count(*) FROM registrations"));
    /* Full, no waiting list: the row is inserted and deleted again; nothing is mailed. */
    struct admit_registration_result b = enrol("m-full", 2);
    assert_int_equal(b.outcome, ADMIT_REG_FULL);
    assert_int_equal(outbox_count(), before);
    assert_int_equal(atol(value("SELECT count(*) FROM registrations")), registrations);

    /* A registration that rolls back leaves no message. */
    exec("UPDATE events SET waitlist = true WHERE slug = 'm-full'");
    exec("BEGIN");
    assert_string_equal(value("SELECT outcome FROM admit_register('m-full', "
                              "'nonce-rolled-back-0001', 'tttttttttttttttttttttt', 'A', 'B', "
                              "'rolled@example.org', '', 'research', 'BE', '', '', (SELECT "
                              "array_agg(l.id) FROM checkin_lists l JOIN events e ON e.id = "
                              "l.event_id WHERE e.slug = 'm-full'))"),
                        "created");
    exec("ROLLBACK");
    assert_int_equal(outbox_count(), before);
    assert_int_equal(atol(value("SELECT count(*) FROM mail_outbox WHERE recipient = "
                                "'rolled@example.org'")),
                     0);
    /* A failed transaction's trigger work is gone too: the insert fails after the row. */
    exec("BEGIN");
    exec("UPDATE registrations SET reissue = reissue + 1 WHERE id = (SELECT min(r.id) FROM "
         "registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = 'm-full')");
    exec("ROLLBACK");
    assert_int_equal(outbox_count(), before);
}

static void test_reissue_and_other_changes(void **state)
{
    (void)state;
    create_event("m-reissue", 5);
    struct admit_registration_result a = enrol("m-reissue", 1);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE registrations SET reissue = reissue + 1 WHERE id = %d",
             a.registration_id);
    exec(sql);
    assert_string_equal(kinds(a.registration_id), "confirmation,reissued");
    /* Other columns: nothing to tell. */
    snprintf(sql, sizeof sql, "UPDATE registrations SET given_name = 'Augusta' WHERE id = %d",
             a.registration_id);
    exec(sql);
    assert_string_equal(kinds(a.registration_id), "confirmation,reissued");
    /* Cancelled and reinstated in one transaction: the final state is what was told. */
    exec("BEGIN");
    snprintf(sql, sizeof sql, "UPDATE registrations SET status = 'cancelled' WHERE id = %d",
             a.registration_id);
    exec(sql);
    snprintf(sql, sizeof sql, "UPDATE registrations SET status = 'confirmed' WHERE id = %d",
             a.registration_id);
    exec(sql);
    exec("COMMIT");
    assert_string_equal(kinds(a.registration_id), "confirmation,reissued");
    /* Two reissues in one transaction: one message. */
    exec("BEGIN");
    snprintf(sql, sizeof sql, "UPDATE registrations SET reissue = reissue + 1 WHERE id = %d",
             a.registration_id);
    exec(sql);
    exec(sql);
    exec("COMMIT");
    assert_string_equal(kinds(a.registration_id), "confirmation,reissued,reissued");
    /* A transaction that must not mail. */
    exec("BEGIN");
    exec("SET LOCAL admit.mail = 'off'");
    exec(sql);
    exec("COMMIT");
    assert_string_equal(kinds(a.registration_id), "confirmation,reissued,reissued");
    assert_string_equal(
        value("SELECT reissue FROM mail_notified WHERE registration_id = %d", a.registration_id),
        "4");
    /* A registration inserted directly (an import), then reinstated after a cancellation. */
    exec("INSERT INTO registrations (event_id, token, form_nonce, status, given_name, "
         "family_name, email, organisation_type, country, consent_at, source) SELECT id, "
         "'iiiiiiiiiiiiiiiiiiiiii', 'import-nonce-000001', 'cancelled', 'I', 'M', "
         "'imported@example.org', 'other', 'BE', now(), 'import' FROM events WHERE slug = "
         "'m-reissue'");
    int imported = atoi(value("SELECT id FROM registrations WHERE email = 'imported@example.org'"));
    assert_string_equal(kinds(imported), "");
    snprintf(sql, sizeof sql, "UPDATE registrations SET status = 'confirmed' WHERE id = %d",
             imported);
    exec(sql);
    assert_string_equal(kinds(imported), "confirmation");
    /* The kind table itself, for the transitions the flows above do not reach. */
    assert_string_equal(value("SELECT admit_mail_kind('confirmed', 0::smallint, 'waitlisted', "
                              "0::smallint)"),
                        "waitlisted");
    assert_string_equal(value("SELECT coalesce(admit_mail_kind('waitlisted', 0::smallint, "
                              "'waitlisted', 1::smallint)::text, '-')"),
                        "-");
    assert_string_equal(value("SELECT coalesce(admit_mail_kind(NULL, NULL, 'cancelled', "
                              "0::smallint)::text, '-')"),
                        "-");
    assert_string_equal(value("SELECT admit_mail_kind('cancelled', 0::smallint, 'waitlisted', "
                              "0::smallint)"),
                        "waitlisted");
}

static void test_claim_finish_and_leases(void **state)
{
    (void)state;
    struct admit_mail_claim c1, c2, c3;
    struct admit_mail_backoff backoff = {60, 3600};
    int found = 0, recorded = 0;
    exec("DELETE FROM mail_outbox");
    create_event("m-claim", 5);
    struct admit_registration_result a = enrol("m-claim", 1);
    struct admit_registration_result b = enrol("m-claim", 2);
    struct admit_db *db = admit_db_new(pg.dsn);

    /* Oldest first; a claimed message is not claimed again while its lease runs. */
    assert_int_equal(admit_mail_claim(db, 300, &c1, &found), ADMIT_OK);
    assert_true(found);
    assert_int_equal(c1.attempt, 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(c1.payload, "registration"), "id")),
        a.registration_id);
    assert_int_equal(admit_mail_claim(db, 300, &c2, &found), ADMIT_OK);
    assert_true(found);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(c2.payload, "registration"), "id")),
        b.registration_id);
    assert_int_equal(admit_mail_claim(db, 300, &c3, &found), ADMIT_OK);
    assert_false(found);
    assert_null(c3.payload);

    /* The payload: what the templates and the calendar need. */
    json_t *p = c1.payload;
    assert_string_equal(json_string_value(json_object_get(p, "kind")), "confirmation");
    assert_string_equal(json_string_value(json_object_get(p, "recipient")),
                        "person1.m-claim@example.org");
    assert_int_equal(strlen(json_string_value(json_object_get(p, "message_uuid"))), 36);
    assert_true(json_is_integer(json_object_get(p, "date")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "event"), "name")),
                        "Mail conference");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "registration"), "token")), a.token);
    assert_true(json_is_null(json_object_get(p, "png")));
    json_t *cal = json_object_get(p, "calendar");
    assert_string_equal(json_string_value(json_object_get(cal, "starts")), "20991029T090000");
    assert_string_equal(json_string_value(json_object_get(cal, "ends")), "20991030T173000");
    assert_int_equal(strlen(json_string_value(json_object_get(cal, "stamp"))), 16);
    /* Brussels in 2099: CET from the new year, CEST from 29 March 02:00, CET from 25 October
     * 03:00 (local times before each change), read off PostgreSQL's time zone data. */
    json_t *obs = json_object_get(cal, "observances");
    assert_int_equal(json_array_size(obs), 3);
    static const char *const expected[3][5] = {
        {"20990101T000000", "+0100", "+0100", "CET", "f"},
        {"20990329T020000", "+0100", "+0200", "CEST", "t"},
        {"20991025T030000", "+0200", "+0100", "CET", "f"},
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_array_get(obs, i);
        assert_string_equal(json_string_value(json_object_get(o, "starts")), expected[i][0]);
        assert_string_equal(json_string_value(json_object_get(o, "offset_from")), expected[i][1]);
        assert_string_equal(json_string_value(json_object_get(o, "offset_to")), expected[i][2]);
        assert_string_equal(json_string_value(json_object_get(o, "name")), expected[i][3]);
        assert_int_equal(json_is_true(json_object_get(o, "daylight")), expected[i][4][0] == 't');
    }
    assert_null(admit_mail_superseded(p));
    assert_true(admit_mail_needs_qr(p));

    /* The QR code: rendered, cached in ticket_images, and the payload has it next time. */
    struct admit_signing_key key;
    struct admit_buf png;
    admit_key_generate(&key);
    admit_buf_init(&png, 1 << 20);
    assert_int_equal(admit_mail_ticket_png(db, &key, p, &png), ADMIT_OK);
    assert_true(png.len > 100 && memcmp(png.data, "\x89PNG", 4) == 0);
    assert_int_equal(atol(value("SELECT count(*) FROM ticket_images WHERE registration_id = %d",
                                a.registration_id)),
                     1);
    admit_key_wipe(&key);

    /* A retry: pending again, due after the back-off (60 s, +-25%). */
    assert_int_equal(admit_mail_finish(db, c1.id, c1.attempt, ADMIT_MAIL_RETRY, "421 try later",
                                       &backoff, &recorded),
                     ADMIT_OK);
    assert_true(recorded);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT state || ' ' || (next_attempt_at - now() BETWEEN interval '44 s' AND "
             "interval '76 s') || ' ' || last_error FROM mail_outbox WHERE id = %lld",
             c1.id);
    assert_string_equal(value("%s", sql), "pending true 421 try later");
    assert_int_equal(admit_mail_claim(db, 300, &c3, &found), ADMIT_OK);
    assert_false(found); /* not due yet */
    snprintf(sql, sizeof sql, "UPDATE mail_outbox SET next_attempt_at = now() WHERE id = %lld",
             c1.id);
    exec(sql);
    assert_int_equal(admit_mail_claim(db, 300, &c3, &found), ADMIT_OK);
    assert_true(found);
    assert_int_equal(c3.id, c1.id);
    assert_int_equal(c3.attempt, 2);
    /* The same message: the same Message-ID. */
    assert_string_equal(json_string_value(json_object_get(c3.payload, "message_uuid")),
                        json_string_value(json_object_get(c1.payload, "message_uuid")));
    /* Its Date is the first attempt's. */
    assert_int_equal(json_integer_value(json_object_get(c3.payload, "date")),
                     json_integer_value(json_object_get(c1.payload, "date")));
    /* Now with the cached image. */
    assert_true(json_is_string(json_object_get(c3.payload, "png")));

    /* Its sender dies: after the lease another takes it over, and the dead one's late
     * records are refused, but for 'sent', which is the truth whoever says it. */
    snprintf(sql, sizeof sql,
             "UPDATE mail_outbox SET lease_until = now() - interval '1 s' WHERE id = %lld", c3.id);
    exec(sql);
    struct admit_mail_claim c4;
    assert_int_equal(admit_mail_claim(db, 300, &c4, &found), ADMIT_OK);
    assert_true(found);
    assert_int_equal(c4.id, c3.id);
    assert_int_equal(c4.attempt, 3);
    assert_int_equal(
        admit_mail_finish(db, c3.id, c3.attempt, ADMIT_MAIL_FAILED, "late", &backoff, &recorded),
        ADMIT_OK);
    assert_false(recorded);
    assert_int_equal(
        admit_mail_finish(db, c4.id, c4.attempt, ADMIT_MAIL_SENT, NULL, &backoff, &recorded),
        ADMIT_OK);
    assert_true(recorded);
    snprintf(sql, sizeof sql,
             "SELECT state || ' ' || attempts || ' ' || (finished_at IS NOT NULL) FROM "
             "mail_outbox WHERE id = %lld",
             c4.id);
    assert_string_equal(value("%s", sql), "sent 3 true");

    /* Refused for good, with the server's reply; superseded. */
    assert_int_equal(admit_mail_finish(db, c2.id, c2.attempt, ADMIT_MAIL_FAILED,
                                       "550 5.1.1 mailbox unknown", &backoff, &recorded),
                     ADMIT_OK);
    assert_true(recorded);
    snprintf(sql, sizeof sql, "SELECT state || ' ' || last_error FROM mail_outbox WHERE id = %lld",
             c2.id);
    assert_string_equal(value("%s", sql), "failed 550 5.1.1 mailbox unknown");

    /* A confirmation overtaken by a cancellation goes out as superseded. */
    struct admit_cancel_result cancel;
    struct admit_registration_result d = enrol("m-claim", 3);
    assert_int_equal(admit_registration_cancel(db, d.token, &cancel), ADMIT_OK);
    struct admit_mail_claim c5, c6;
    assert_int_equal(admit_mail_claim(db, 300, &c5, &found), ADMIT_OK);
    assert_true(found);
    assert_string_equal(json_string_value(json_object_get(c5.payload, "kind")), "confirmation");
    assert_non_null(admit_mail_superseded(c5.payload));
    assert_int_equal(admit_mail_finish(db, c5.id, c5.attempt, ADMIT_MAIL_SUPERSEDED,
                                       admit_mail_superseded(c5.payload), &backoff, &recorded),
                     ADMIT_OK);
    assert_int_equal(admit_mail_claim(db, 300, &c6, &found), ADMIT_OK);
    assert_string_equal(json_string_value(json_object_get(c6.payload, "kind")), "cancelled");
    assert_null(admit_mail_superseded(c6.payload));
    assert_false(admit_mail_needs_qr(c6.payload));
    assert_string_equal(json_string_value(json_object_get(c6.payload, "previous_status")),
                        "confirmed");

    json_decref(c1.payload);
    json_decref(c2.payload);
    json_decref(c3.payload);
    json_decref(c4.payload);
    json_decref(c5.payload);
    json_decref(c6.payload);
    admit_buf_free(&png);
    admit_db_free(db);
}

static void test_resend_requests(void **state)
{
    (void)state;
    enum admit_resend_outcome out;
    struct admit_db *db = admit_db_new(pg.dsn);
    create_event("m-resend", 5);
    create_event("m-resend-2", 5);
    struct admit_registration_result a = enrol("m-resend", 7);
    (void)a;
    exec("UPDATE registrations SET email = 'Someone@Example.org' WHERE email = "
         "'person7.m-resend@example.org'");
    /* The same person in a second event. */
    struct admit_registration_result b = enrol("m-resend-2", 7);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE registrations SET email = 'someone@example.org' WHERE id = %d",
             b.registration_id);
    exec(sql);
    exec("DELETE FROM mail_outbox");

    assert_int_equal(admit_resend_request(db, "SOMEONE@example.org", "192.0.2.1", 3, 100, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_QUEUED);
    assert_string_equal(value("SELECT kind || ' ' || recipient || ' ' || (registration_id IS "
                              "NULL) FROM mail_outbox"),
                        "resend someone@example.org true");
    struct admit_mail_claim c;
    int found = 0;
    assert_int_equal(admit_mail_claim(db, 300, &c, &found), ADMIT_OK);
    assert_true(found);
    /* Both registrations, whatever the case of the address. */
    assert_int_equal(json_array_size(json_object_get(c.payload, "registrations")), 2);
    assert_null(admit_mail_superseded(c.payload));
    json_decref(c.payload);

    /* Unknown address: nothing queued. */
    assert_int_equal(admit_resend_request(db, "nobody@example.org", "192.0.2.1", 3, 100, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_NONE);
    assert_int_equal(outbox_count(), 1);
    /* Per address: the third request of the hour is the last honoured. */
    assert_int_equal(admit_resend_request(db, "someone@example.org", "192.0.2.2", 3, 100, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_QUEUED);
    assert_int_equal(admit_resend_request(db, "someone@example.org", "192.0.2.3", 3, 100, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_QUEUED);
    assert_int_equal(admit_resend_request(db, "someone@example.org", "192.0.2.4", 3, 100, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_THROTTLED);
    assert_int_equal(outbox_count(), 3);
    /* Per client. */
    for (int i = 0; i < 3; i++) {
        char email[64];
        snprintf(email, sizeof email, "stranger%d@example.org", i);
        assert_int_equal(admit_resend_request(db, email, "198.51.100.9", 3, 3, &out), ADMIT_OK);
        assert_int_equal(out, i < 3 ? ADMIT_RESEND_NONE : ADMIT_RESEND_THROTTLED);
    }
    assert_int_equal(admit_resend_request(db, "stranger9@example.org", "198.51.100.9", 3, 3, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_THROTTLED);
    /* An hour later the counts start again; nothing of a stranger's address is kept. */
    exec("UPDATE resend_requests SET requested_at = now() - interval '61 minutes'");
    assert_int_equal(admit_resend_request(db, "someone@example.org", "192.0.2.2", 3, 100, &out),
                     ADMIT_OK);
    assert_int_equal(out, ADMIT_RESEND_QUEUED);
    assert_int_equal(atol(value("SELECT count(*) FROM resend_requests")), 1);
    assert_int_equal(atol(value("SELECT count(*) FROM resend_requests WHERE address_hash = "
                                "convert_to('someone@example.org', 'UTF8')")),
                     0);
    admit_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_confirmed_and_waitlisted),
        cmocka_unit_test(test_full_and_rollback),
        cmocka_unit_test(test_reissue_and_other_changes),
        cmocka_unit_test(test_claim_finish_and_leases),
        cmocka_unit_test(test_resend_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
