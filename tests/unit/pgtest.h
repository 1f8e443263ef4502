/* For test_pg_* tests: a fresh, migrated database in the ctest PostgreSQL cluster, dropped at
 * the end. Header-only so each test stays one file. */
#ifndef ADMIT_TEST_PGTEST_H
#define ADMIT_TEST_PGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "admit/core/db.h"
#include "admit/core/migrate.h"

struct pgtest {
    char name[64];
    char dsn[512];
};

static void pgtest_exec_admin(const char *sql)
{
    const char *base = getenv("ADMIT_TEST_DATABASE_URL");
    if (base == NULL) {
        fprintf(stderr, "ADMIT_TEST_DATABASE_URL is not set: run through ctest (pg fixture)\n");
        exit(1);
    }
    PGconn *conn = PQconnectdb(base);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to %s: %s", base, PQerrorMessage(conn));
        exit(1);
    }
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
        exit(1);
    }
    PQclear(res);
    PQfinish(conn);
}

/* Creates and migrates a database named after the test and the process. */
static void pgtest_create(struct pgtest *t, const char *label)
{
    char sql[160];
    struct admit_error err;
    snprintf(t->name, sizeof t->name, "t_%s_%ld", label, (long)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", t->name);
    pgtest_exec_admin(sql);
    snprintf(t->dsn, sizeof t->dsn, "%s dbname=%s", getenv("ADMIT_TEST_DATABASE_URL"), t->name);
    struct admit_db *db = admit_db_new(t->dsn);
    if (admit_migrate_apply(db, NULL, NULL, &err) != ADMIT_OK) {
        fprintf(stderr, "migrate: %s\n", err.message);
        exit(1);
    }
    admit_db_free(db);
}

static void pgtest_drop(struct pgtest *t)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
    pgtest_exec_admin(sql);
}

/* Runs one SQL text on dsn and returns the first value of the first row (static buffer). */
static const char *pgtest_value(const char *dsn, const char *sql)
{
    static char value[256];
    PGconn *conn = PQconnectdb(dsn);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
        exit(1);
    }
    snprintf(value, sizeof value, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return value;
}

#endif
