/* Erasing a person (DELETE FROM registrations) erases their scans and admissions, also while a
 * door is checking them in: sql/migrations/005_admissions_erasure.sql. Two real connections to a
 * real PostgreSQL; the check-ins go through admit_checkin, which writes the admission before
 * the scan, the order in which a missing foreign key would matter. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "checkin_fixture.h"

static struct pgtest pg;
static struct admit_signing_key key;
static struct admit_keyring ring;
static int first_registration;

static int setup(void **state)
{
    int conf = 0, other = 0;
    (void)state;
    if (checkin_fixture_create(&pg, "erasure", &key, &ring, &conf, &other) != 0)
        return -1;
    first_registration = atoi(pgtest_value(
        pg.dsn, "SELECT min((admit_register('conf', 'nonce-' || md5(g::text), "
                "left(md5(g::text || 't'), 21) || 'A', 'Guest', 'No ' || g, 'g' || g || "
                "'@example.org', 'Org', 'research', 'BE', '', '', "
                "(SELECT ARRAY[min(id)] FROM checkin_lists))).registration_id) "
                "FROM generate_series(1, 5) g"));
    pgtest_value(pg.dsn, "SELECT admit_device_add('conf', 'Eraser door', sha256('erasure'))");
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

/* admit_checkin's SQL for one entry scan of registration reg on Day 1 (nonce from n): its
 * verdict. */
static void checkin_sql(char *sql, size_t size, int reg, int n)
{
    snprintf(sql, size,
             "SELECT admit_checkin(sha256('erasure'), '[{\"nonce\": \"erasure-%08d\", "
             "\"list\": \"Day 1\", \"direction\": \"entry\", \"scanned_at\": "
             "\"2099-10-29T09:00:00Z\", \"offline\": false, \"event_id\": 1, "
             "\"registration_id\": %d, \"reissue\": 0}]') -> 0 ->> 'verdict'",
             n, reg);
}

static int count(const char *table, int reg)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE registration_id = %d", table, reg);
    return atoi(pgtest_value(pg.dsn, sql));
}

/* True while conn's query still waits for its result (after wait_ms). */
static bool still_waiting(PGconn *conn, int wait_ms)
{
    struct timespec pause = {0, (long)wait_ms * 1000000L};
    nanosleep(&pause, NULL);
    assert_int_equal(PQconsumeInput(conn), 1);
    return PQisBusy(conn) == 1;
}

/* The last result of conn's sent query: its status, and its SQLSTATE into state. */
static ExecStatusType finish(PGconn *conn, char state[6])
{
    ExecStatusType status = PGRES_COMMAND_OK;
    PGresult *res;
    state[0] = '\0';
    while ((res = PQgetResult(conn)) != NULL) {
        status = PQresultStatus(res);
        const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (s != NULL)
            snprintf(state, 6, "%s", s);
        PQclear(res);
    }
    return status;
}

static void test_erasure_after_checkin(void **state)
{
    char sql[400];
    int reg = first_registration;
    (void)state;
    checkin_sql(sql, sizeof sql, reg, 1);
    assert_string_equal(pgtest_value(pg.dsn, sql), "valid");
    assert_int_equal(count("admissions", reg), 1);
    assert_int_equal(count("scans", reg), 1);
    PGconn *conn = connect_db();
    snprintf(sql, sizeof sql, "DELETE FROM registrations WHERE id = %d", reg);
    run(conn, sql, PGRES_COMMAND_OK);
    assert_int_equal(count("admissions", reg), 0);
    assert_int_equal(count("scans", reg), 0);
    /* The others keep theirs. */
    checkin_sql(sql, sizeof sql, reg + 1, 2);
    assert_string_equal(pgtest_value(pg.dsn, sql), "valid");
    snprintf(sql, sizeof sql, "DELETE FROM registrations WHERE id = %d", reg + 2);
    run(conn, sql, PGRES_COMMAND_OK);
    assert_int_equal(count("admissions", reg + 1), 1);
    PQfinish(conn);
}

/* A door's check-in in flight: the erasure waits for its commit, then erases what it wrote. */
static void test_erasure_waits_for_a_checkin(void **state)
{
    char sql[400];
    int reg = first_registration + 3;
    (void)state;
    PGconn *door = connect_db(), *eraser = connect_db();
    run(door, "BEGIN", PGRES_COMMAND_OK);
    checkin_sql(sql, sizeof sql, reg, 3);
    run(door, sql, PGRES_TUPLES_OK);
    snprintf(sql, sizeof sql, "DELETE FROM registrations WHERE id = %d", reg);
    assert_int_equal(PQsendQuery(eraser, sql), 1);
    assert_true(still_waiting(eraser, 300));
    run(door, "COMMIT", PGRES_COMMAND_OK);
    char code[6];
    assert_int_equal(finish(eraser, code), PGRES_COMMAND_OK);
    assert_int_equal(count("admissions", reg), 0);
    assert_int_equal(count("scans", reg), 0);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM admissions a WHERE NOT EXISTS "
                                             "(SELECT 1 FROM registrations r WHERE r.id = "
                                             "a.registration_id)"),
                        "0");
    PQfinish(door);
    PQfinish(eraser);
}

/* An erasure in flight: the door's check-in waits for it, then fails whole (the scan's foreign
 * key), and leaves no admission. */
static void test_checkin_during_an_erasure(void **state)
{
    char sql[400];
    int reg = first_registration + 4;
    (void)state;
    PGconn *door = connect_db(), *eraser = connect_db();
    run(eraser, "BEGIN", PGRES_COMMAND_OK);
    snprintf(sql, sizeof sql, "DELETE FROM registrations WHERE id = %d", reg);
    run(eraser, sql, PGRES_COMMAND_OK);
    checkin_sql(sql, sizeof sql, reg, 4);
    assert_int_equal(PQsendQuery(door, sql), 1);
    assert_true(still_waiting(door, 300));
    run(eraser, "COMMIT", PGRES_COMMAND_OK);
    char code[6];
    assert_int_equal(finish(door, code), PGRES_FATAL_ERROR);
    assert_string_equal(code, "23503"); /* foreign_key_violation */
    assert_int_equal(count("admissions", reg), 0);
    assert_int_equal(count("scans", reg), 0);
    PQfinish(door);
    PQfinish(eraser);
}

static void test_truncate(void **state)
{
    (void)state;
    PGconn *conn = connect_db();
    assert_int_not_equal(atoi(pgtest_value(pg.dsn, "SELECT count(*) FROM admissions")), 0);
    run(conn, "TRUNCATE registrations CASCADE", PGRES_COMMAND_OK);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM admissions"), "0");
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erasure_after_checkin),
        cmocka_unit_test(test_erasure_waits_for_a_checkin),
        cmocka_unit_test(test_checkin_during_an_erasure),
        cmocka_unit_test(test_truncate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
