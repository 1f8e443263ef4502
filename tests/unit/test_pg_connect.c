/* The private PostgreSQL cluster started by scripts/pg answers libpq over its Unix socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

static void test_connect_and_query(void **state)
{
    (void)state;
    const char *dsn = getenv("ADMIT_TEST_DATABASE_URL");
    if (dsn == NULL)
        fail_msg("ADMIT_TEST_DATABASE_URL is not set: run through ctest (the pg fixture)");
    PGconn *conn = PQconnectdb(dsn);
    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", dsn, PQerrorMessage(conn));
    /* Over the socket in the cluster's folder, not TCP. */
    assert_int_equal(PQhost(conn)[0], '/');
    assert_true(PQserverVersion(conn) >= 150000);

    const char *params[1] = {"41"};
    PGresult *res = PQexecParams(conn, "SELECT $1::int + 1, current_setting('server_encoding')", 1,
                                 NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "42");
    assert_string_equal(PQgetvalue(res, 0, 1), "UTF8");
    PQclear(res);
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_and_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
