/* Personal data's life cycle against a real PostgreSQL (sql/migrations/014_privacy.sql, issue
 * 18): retention anonymises in place and leaves the attendance report and the per-list counts
 * exactly as they were; admit purge is idempotent and its dry run changes nothing; erasure on
 * request revokes the QR code at once and reaches offline scanners at their next sync; erasure
 * racing a check-in and an export; an organiser erases only in the events they may see. Every
 * test ends by searching every table of the database for the erased people's names and emails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "admit/core/buf.h"
#include "admit/register/privacy.h"
#include "admit/register/report.h"
#include "checkin_fixture.h"

static struct pgtest pg;
static struct admit_signing_key key;
static struct admit_keyring ring;
static int conf_id, other_id;

static int setup(void **state)
{
    (void)state;
    if (checkin_fixture_create(&pg, "privacy", &key, &ring, &conf_id, &other_id) != 0)
        return -1;
    pgtest_value(pg.dsn, "SELECT admit_device_add('conf', 'Privacy door', sha256('privacy'))");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    checkin_fixture_drop(&pg, &key, &ring);
    return 0;
}

static PGconn *connect_db(void)
{
    PGconn *conn = PQconnectdb(pg.dsn);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    return conn;
}

static void run(PGconn *conn, const char *sql, ExecStatusType expected)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != expected)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

static const char *value(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *value(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return pgtest_value(pg.dsn, sql);
}

/* Registers "Zelda<n> Quux<n>" <zq<n>@example.org> for slug on its Day 1 (and Day 2 if both),
 * with a dietary note; returns the registration id. */
static int reg(const char *slug, int n, bool both)
{
    return atoi(value("SELECT registration_id FROM admit_register('%s', 'nonce-privacy-%s-%d', "
                      "'tok-privacy-%s-%d-aaaaaaaaaaaa', 'Zelda%d', 'Quux%d', "
                      "'zq%d@example.org', 'Secret Org %d', 'research', '%s', 'no nuts %d', "
                      "'wheelchair %d', (SELECT array_agg(l.id ORDER BY l.position) FROM "
                      "checkin_lists l JOIN events e ON e.id = l.event_id WHERE e.slug = '%s' "
                      "AND (%s OR l.name = 'Day 1')))",
                      slug, slug, n, slug, n, n, n, n, n, n % 2 ? "BE" : "FR", n, n, slug,
                      both ? "true" : "false"));
}

/* SQL of the conf door's entry scan of registration r on list (nonce from n): its verdict. */
static void checkin_sql(char *sql, size_t size, int r, const char *list, int n)
{
    snprintf(sql, size,
             "SELECT admit_checkin(sha256('privacy'), '[{\"nonce\": \"privacy-%08d\", "
             "\"list\": \"%s\", \"direction\": \"entry\", \"scanned_at\": "
             "\"2099-10-29T09:00:%02dZ\", \"offline\": false, \"event_id\": %d, "
             "\"registration_id\": %d, \"reissue\": 0}]') -> 0 ->> 'verdict'",
             n, list, n % 60, conf_id, r);
}

static const char *checkin(int r, const char *list, int n)
{
    char sql[512];
    checkin_sql(sql, sizeof sql, r, list, n);
    return pgtest_value(pg.dsn, sql);
}

/* How many rows of every table of the database hold needle in any column. */
static int held(const char *needle)
{
    return atoi(
        value("SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format("
              "'SELECT count(*) AS c FROM %%I.%%I t WHERE t::text ILIKE %%L', table_schema, "
              "table_name, '%%%s%%'), false, true, '')))[1]::text::integer), 0) "
              "FROM information_schema.tables WHERE table_schema = 'public' "
              "AND table_type = 'BASE TABLE'",
              needle));
}

/* The attendance report (as admit export report and /admin render it) and the per-list counts
 * of an event, as text. */
static char *report(int event)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    json_t *sections = NULL;
    enum admit_rc rc = admit_report_load(db, event, &sections);
    if (rc != ADMIT_OK)
        fail_msg("report: %s", admit_db_error(db));
    admit_db_free(db);
    char *text = json_dumps(sections, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(sections);
    struct admit_buf out;
    admit_buf_init(&out, 1 << 20);
    assert_int_equal(
        admit_buf_printf(&out, "%s\n%s\n", text, value("SELECT admit_admin_list_stats(%d)", event)),
        ADMIT_OK);
    free(text);
    return admit_buf_steal(&out, NULL);
}

static json_t *purge(bool dry_run)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    json_t *counts = NULL;
    assert_int_equal(admit_privacy_purge(db, dry_run, &counts), ADMIT_OK);
    admit_db_free(db);
    return counts;
}

static long long count_of(json_t *counts, const char *name)
{
    return (long long)json_integer_value(json_object_get(counts, name));
}

/* Moves an event into the past: it ended `days` days ago. */
static void ended_days_ago(const char *slug, int days)
{
    value("WITH u AS (UPDATE events SET registration_opens_at = NULL, "
          "registration_closes_at = NULL, starts_at = now() - interval '%d days 1 hour', "
          "ends_at = now() - interval '%d days' WHERE slug = '%s' RETURNING 1) "
          "SELECT count(*) FROM u",
          days + 1, days, slug);
}

/* Retention: the report and the list counts are identical before and after anonymisation, and
 * the names, emails, organisations, notes and tokens are gone from every table. */
static void test_retention_keeps_the_report(void **state)
{
    (void)state;
    int r[6];
    for (int i = 0; i < 6; i++)
        r[i] = reg("conf", i + 1, i % 2 == 0);
    assert_string_equal(checkin(r[0], "Day 1", 1), "valid");
    assert_string_equal(checkin(r[1], "Day 1", 2), "valid");
    assert_string_equal(checkin(r[2], "Day 2", 3), "valid");
    ended_days_ago("conf", 10);
    value("SELECT admit_event_privacy('conf', 5, NULL, NULL)");
    char *before = report(conf_id);

    json_t *dry = purge(true);
    assert_int_equal(count_of(dry, "registrations_anonymised"), 6);
    assert_int_equal(held("Zelda1"), 1); /* the dry run changed nothing */
    json_decref(dry);

    json_t *done = purge(false);
    assert_int_equal(count_of(done, "registrations_anonymised"), 6);
    assert_int_equal(count_of(done, "notes_cleared"), 6);
    assert_int_equal(count_of(done, "devices_deleted"), 1);
    json_decref(done);
    char *after = report(conf_id);
    assert_string_equal(before, after);
    for (int i = 1; i <= 6; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "Zelda%d", i);
        assert_int_equal(held(needle), 0);
        snprintf(needle, sizeof needle, "zq%d@", i);
        assert_int_equal(held(needle), 0);
    }
    assert_int_equal(held("Secret Org"), 0);
    assert_int_equal(held("no nuts"), 0);
    assert_int_equal(held("tok-privacy"), 0);
    assert_int_equal(atoi(value("SELECT count(*) FROM admissions WHERE event_id = %d", conf_id)),
                     3);

    /* An organiser's later action on an anonymised registration sends nothing. */
    value("SELECT admit_admin_add('late@example.org', '$argon2id$x', '{}')");
    assert_string_equal(value("SELECT outcome FROM admit_admin_reissue((SELECT id FROM admins), "
                              "'conf', %d, 'anonymised-late-token-aaaaaaaaaaaa')",
                              r[4]),
                        "reissued");
    assert_int_equal(
        atoi(value("SELECT count(*) FROM mail_outbox WHERE registration_id = %d", r[4])), 0);

    json_t *again = purge(false); /* idempotent */
    assert_int_equal(count_of(again, "registrations_anonymised"), 0);
    assert_int_equal(count_of(again, "notes_cleared"), 0);
    json_decref(again);
    free(before);
    free(after);
}

/* Before its retention ends an event keeps its data; its notes go once it has ended; an event
 * still to come keeps everything. The other schedules: expired sessions, old throttle rows. */
static void test_retention_not_yet(void **state)
{
    (void)state;
    int a = reg("conf", 1, false), b = reg("other", 2, false);
    ended_days_ago("conf", 10); /* retention 90: kept */
    value("INSERT INTO admin_login_throttle VALUES ('ip', '192.0.2.1', 3, now() - "
          "interval '2 hours'), ('ip', '192.0.2.2', 3, now()) RETURNING 1");
    value("SELECT admit_admin_add('org@example.org', '$argon2id$x', '{}')");
    value(
        "INSERT INTO admin_sessions (id_hash, admin_id, expires_at) SELECT sha256(g::text::bytea), "
        "(SELECT min(id) FROM admins), now() + g * interval '1 hour' FROM "
        "generate_series(-1, 1, 2) g RETURNING 1");
    json_t *done = purge(false);
    assert_int_equal(count_of(done, "registrations_anonymised"), 0);
    assert_int_equal(count_of(done, "notes_cleared"), 1);
    assert_int_equal(count_of(done, "login_throttle_deleted"), 1);
    assert_int_equal(count_of(done, "sessions_deleted"), 1);
    json_decref(done);
    assert_string_equal(value("SELECT given_name || dietary FROM registrations WHERE id = %d", a),
                        "Zelda1");
    assert_string_equal(value("SELECT given_name || dietary FROM registrations WHERE id = %d", b),
                        "Zelda2no nuts 2");
    assert_string_equal(value("SELECT (admit_event_json(e) ->> 'retention_days') FROM events e "
                              "WHERE slug = 'other'"),
                        "90");
}

/* Erasure on request before the event: cancelled (the seat goes to the waiting list), the QR
 * refused at once, no message to the erased address, and the next sync carries the change. */
static void test_erasure_revokes_at_once(void **state)
{
    (void)state;
    value("SELECT admit_seats_resize(%d, 1)", conf_id);
    int a = reg("conf", 1, false), b = reg("conf", 2, false);
    assert_string_equal(value("SELECT status FROM registrations WHERE id = %d", b), "waitlisted");
    const char *cursor =
        value("SELECT body ->> 'cursor' FROM admit_sync(sha256('privacy'), 'conf', NULL, '[]')");
    char since[256];
    snprintf(since, sizeof since, "%s", cursor);

    struct admit_db *db = admit_db_new(pg.dsn);
    enum admit_erase_outcome out;
    assert_int_equal(admit_privacy_erase_registration(db, 0, "conf", a, "", &out), ADMIT_OK);
    assert_int_equal(out, ADMIT_ERASE_DONE);
    assert_int_equal(admit_privacy_erase_registration(db, 0, "conf", a, "", &out), ADMIT_OK);
    assert_int_equal(out, ADMIT_ERASE_ALREADY);
    assert_int_equal(admit_privacy_erase_registration(db, 0, "other", a, "", &out), ADMIT_OK);
    assert_int_equal(out, ADMIT_ERASE_NOT_FOUND);
    admit_db_free(db);

    assert_string_equal(checkin(a, "Day 1", 1), "revoked");
    assert_string_equal(value("SELECT status FROM registrations WHERE id = %d", b), "confirmed");
    assert_string_equal(value("SELECT string_agg(kind || ':' || recipient, ' ' ORDER BY id) "
                              "FROM mail_outbox WHERE created_at > now() - interval '1 hour'"),
                        "waitlisted:zq2@example.org promoted:zq2@example.org");
    char expected[128];
    snprintf(expected, sizeof expected, "Anonymised #%d:cancelled", a);
    assert_string_equal(value("SELECT (r ->> 'name') || ':' || (r ->> 'status') FROM "
                              "admit_sync(sha256('privacy'), 'conf', '%s', '[]') s, "
                              "json_array_elements(s.body -> 'registrations') r "
                              "WHERE (r ->> 'id')::integer = %d",
                              since, a),
                        expected);
    snprintf(expected, sizeof expected, "shell erase.registration %d", a);
    assert_string_equal(value("SELECT actor || ' ' || action || ' ' || registration_id FROM "
                              "audit_log"),
                        expected);
    assert_int_equal(held("Zelda1"), 0);
    assert_int_equal(held("zq1@"), 0);
    assert_int_equal(held("Zelda2"), 1);
}

/* By email, across the events an organiser may see, and only those. */
static void test_erasure_by_email(void **state)
{
    (void)state;
    int a = reg("conf", 1, false), b = reg("other", 1, false), c = reg("conf", 2, false);
    /* An edit first (migration 13): its change log holds the old and new values, and a new
     * address waits for its confirmation. */
    assert_string_equal(value("SELECT outcome FROM admit_registration_edit("
                              "'tok-privacy-conf-1-aaaaaaaaaaaa', NULL, NULL, NULL, 1, 'Zelda1', "
                              "'Quux1', 'zq1.new@example.org', 'Renamed Org', 'research', 'BE', "
                              "'no nuts 1', 'wheelchair 1', (SELECT array_agg(list_id) FROM "
                              "registration_lists WHERE registration_id = %d), "
                              "'confirm-privacy-aaaaaaaaaaaa')",
                              a),
                        "saved");
    assert_true(held("zq1.new@") > 0); /* the pending change and its message */
    assert_true(held("Renamed Org") > 0);
    value("SELECT admit_admin_add('one@example.org', '$argon2id$x', '{other}')");
    int admin = atoi(value("SELECT id FROM admins WHERE email = 'one@example.org'"));
    struct admit_db *db = admit_db_new(pg.dsn);
    json_t *erased = NULL;
    assert_int_equal(admit_privacy_erase_email(db, admin, "ZQ1@example.org", "192.0.2.7", &erased),
                     ADMIT_OK);
    assert_int_equal(json_array_size(erased), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(erased, 0), "registration_id")), b);
    json_decref(erased);
    assert_string_equal(value("SELECT actor || ' ' || client FROM audit_log"),
                        "one@example.org 192.0.2.7");
    assert_int_equal(held("Zelda1"), 1); /* conf's is not theirs */
    assert_int_equal(admit_privacy_erase_email(db, 0, "zq1@example.org", "", &erased), ADMIT_OK);
    assert_int_equal(json_array_size(erased), 1);
    json_decref(erased);
    assert_int_equal(admit_privacy_erase_email(db, 0, "zq1@example.org", "", &erased), ADMIT_OK);
    assert_int_equal(json_array_size(erased), 0);
    json_decref(erased);
    admit_db_free(db);
    assert_int_equal(held("Zelda1"), 0);
    assert_int_equal(held("zq1@"), 0);
    assert_int_equal(held("zq1.new@"), 0);
    assert_int_equal(held("Renamed Org"), 0);
    assert_int_equal(held("Secret Org 1"), 0);
    assert_int_equal(held("Zelda2"), 1);

    /* An address that is only asked for (its confirmation link not followed) is that person's
     * data, not the registration's: erasing it removes the pending change and its message and
     * leaves the registration as it is. */
    assert_string_equal(value("SELECT outcome FROM admit_registration_edit("
                              "'tok-privacy-conf-2-aaaaaaaaaaaa', NULL, NULL, NULL, 1, 'Zelda2', "
                              "'Quux2', 'pending.only@example.org', 'Secret Org 2', 'research', "
                              "'FR', 'no nuts 2', 'wheelchair 2', (SELECT array_agg(list_id) FROM "
                              "registration_lists "
                              "WHERE registration_id = %d), 'confirm-privacy-bbbbbbbbbbbb')",
                              c),
                        "saved");
    assert_true(held("pending.only@") > 0);
    db = admit_db_new(pg.dsn);
    assert_int_equal(admit_privacy_erase_email(db, 0, "Pending.Only@example.org", "", &erased),
                     ADMIT_OK);
    assert_int_equal(json_array_size(erased), 0);
    json_decref(erased);
    admit_db_free(db);
    assert_int_equal(held("pending.only@"), 0);
    assert_int_equal(held("Zelda2"), 1);
    (void)a;
}

/* True while conn's query still waits for its result (after wait_ms). */
static bool still_waiting(PGconn *conn, int wait_ms)
{
    struct timespec pause = {0, (long)wait_ms * 1000000L};
    nanosleep(&pause, NULL);
    assert_int_equal(PQconsumeInput(conn), 1);
    return PQisBusy(conn) == 1;
}

static char *finish_value(PGconn *conn)
{
    PGresult *res;
    char *out = NULL;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
            out = strdup(PQgetvalue(res, 0, 0));
        else if (PQresultStatus(res) != PGRES_COMMAND_OK)
            fail_msg("%s", PQerrorMessage(conn));
        PQclear(res);
    }
    return out;
}

/* An erasure in flight: a check-in of the person waits for it (the cancellation locks the row),
 * then goes on with what it read; the next scan is refused, and nothing of the person is left
 * but their check-in. */
static void test_erasure_racing_a_checkin(void **state)
{
    (void)state;
    char sql[512], erase[160];
    int a = reg("conf", 1, false);
    PGconn *door = connect_db(), *eraser = connect_db();
    run(eraser, "BEGIN", PGRES_COMMAND_OK);
    snprintf(erase, sizeof erase, "SELECT * FROM admit_erase_registration(NULL, 'conf', %d, '')",
             a);
    run(eraser, erase, PGRES_TUPLES_OK);
    checkin_sql(sql, sizeof sql, a, "Day 1", 1);
    assert_int_equal(PQsendQuery(door, sql), 1);
    bool waited = still_waiting(door, 300);
    run(eraser, "COMMIT", PGRES_COMMAND_OK);
    char *verdict = finish_value(door);
    assert_non_null(verdict);
    /* Either order is a correct history: admitted just before the erasure, or refused. */
    assert_true(strcmp(verdict, "valid") == 0 || strcmp(verdict, "revoked") == 0);
    (void)waited;
    free(verdict);
    assert_string_equal(checkin(a, "Day 1", 2), "revoked");
    assert_int_equal(held("Zelda1"), 0);
    assert_int_equal(held("zq1@"), 0);

    /* A check-in in flight: the erasure waits for its commit, then erases. */
    int b = reg("conf", 2, false);
    run(door, "BEGIN", PGRES_COMMAND_OK);
    checkin_sql(sql, sizeof sql, b, "Day 1", 3);
    run(door, sql, PGRES_TUPLES_OK);
    snprintf(erase, sizeof erase, "SELECT * FROM admit_erase_registration(NULL, 'conf', %d, '')",
             b);
    assert_int_equal(PQsendQuery(eraser, erase), 1);
    assert_true(still_waiting(eraser, 300));
    run(door, "COMMIT", PGRES_COMMAND_OK);
    char *outcome = finish_value(eraser);
    assert_string_equal(outcome, "erased");
    free(outcome);
    assert_int_equal(atoi(value("SELECT count(*) FROM admissions WHERE registration_id = %d", b)),
                     1);
    assert_int_equal(held("Zelda2"), 0);
    PQfinish(door);
    PQfinish(eraser);
}

/* An export in flight (one snapshot, as the streamed exports take) neither blocks the erasure
 * nor is torn by it: it shows the person as they were when it began; the next export does not
 * show them. */
static void test_erasure_racing_an_export(void **state)
{
    (void)state;
    int a = reg("conf", 1, false);
    PGconn *exporter = connect_db();
    run(exporter, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK);
    run(exporter, "SELECT count(*) FROM registrations", PGRES_TUPLES_OK);
    struct admit_db *db = admit_db_new(pg.dsn);
    enum admit_erase_outcome out;
    assert_int_equal(admit_privacy_erase_registration(db, 0, "conf", a, "", &out), ADMIT_OK);
    assert_int_equal(out, ADMIT_ERASE_DONE);
    admit_db_free(db);
    PGresult *res = PQexec(exporter, "SELECT string_agg(given_name, ',') FROM registrations");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "Zelda1");
    PQclear(res);
    run(exporter, "COMMIT", PGRES_COMMAND_OK);
    PQfinish(exporter);
    assert_string_equal(value("SELECT string_agg(given_name, ',') FROM registrations"),
                        "Anonymised");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retention_keeps_the_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_not_yet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_revokes_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_by_email, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_racing_a_checkin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erasure_racing_an_export, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
