#include "admit/core/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/core/mem.h"
#include "admit/sql.h"

/* Key of the advisory lock that serialises concurrent migration runs ("admi"). */
#define MIGRATE_LOCK "1634954601"

static void checksum(const char *text, char out[65])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(out, 65, hash, sizeof hash);
}

/* Runs a statement without parameters; returns 0 when it succeeded. */
static int exec_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

/* Reads the applied versions and their checksums: *count rows, checksums[i] for version i+1
 * (NULL when that version is missing). The table may not exist yet: then *count is 0. */
static enum admit_rc read_applied(PGconn *conn, char ***sums, int *count)
{
    *sums = NULL;
    *count = 0;
    PGresult *res = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return PQstatus(conn) == CONNECTION_OK ? ADMIT_ERR_DB : ADMIT_ERR_DB_UNAVAILABLE;
    }
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists) {
        *sums = admit_xcalloc((size_t)admit_migration_count + 1, sizeof(char *));
        return ADMIT_OK;
    }
    res = PQexec(conn, "SELECT version, checksum FROM schema_migrations ORDER BY version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return ADMIT_ERR_DB;
    }
    int n = PQntuples(res);
    int max = n > 0 ? atoi(PQgetvalue(res, n - 1, 0)) : 0;
    int slots = max > admit_migration_count ? max : admit_migration_count;
    *sums = admit_xcalloc((size_t)slots + 1, sizeof(char *));
    for (int i = 0; i < n; i++) {
        int v = atoi(PQgetvalue(res, i, 0));
        if (v >= 1 && v <= slots)
            (*sums)[v - 1] = admit_xstrdup(PQgetvalue(res, i, 1));
    }
    *count = max;
    PQclear(res);
    return ADMIT_OK;
}

static void free_sums(char **sums, int count)
{
    if (sums == NULL)
        return;
    int slots = count > admit_migration_count ? count : admit_migration_count;
    for (int i = 0; i < slots; i++)
        free(sums[i]);
    free(sums);
}

enum admit_rc admit_migrate_check(struct admit_db *db, int *applied, int *expected)
{
    char **sums = NULL;
    int count = 0;
    *expected = admit_migration_count;
    *applied = 0;
    enum admit_rc rc = admit_db_connect(db);
    if (rc != ADMIT_OK)
        return rc;
    rc = read_applied(admit_db_conn(db), &sums, &count);
    if (rc != ADMIT_OK)
        return rc;
    int contiguous = 0;
    while (contiguous < count && sums[contiguous] != NULL)
        contiguous++;
    *applied = contiguous;
    free_sums(sums, count);
    return contiguous == admit_migration_count && count == admit_migration_count ? ADMIT_OK
                                                                                 : ADMIT_ERR_STATE;
}

static void describe(struct admit_error *err, const char *what, PGconn *conn)
{
    const char *msg = PQerrorMessage(conn);
    size_t n = strcspn(msg, "\n");
    admit_error_set(err, "%s: %.*s", what, (int)n, msg);
}

static enum admit_rc apply_one(PGconn *conn, int index, const char *sum, struct admit_error *err)
{
    char version[16];
    snprintf(version, sizeof version, "%d", index + 1);
    const char *params[3] = {version, admit_migrations[index].name, sum};
    if (exec_ok(conn, "BEGIN") != 0)
        return ADMIT_ERR_DB;
    if (exec_ok(conn, admit_migrations[index].text) != 0) {
        describe(err, admit_migrations[index].name, conn);
        goto fail;
    }
    PGresult *res = PQexecParams(conn,
                                 "INSERT INTO schema_migrations (version, name, checksum) "
                                 "VALUES ($1, $2, $3)",
                                 3, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok || exec_ok(conn, "COMMIT") != 0) {
        describe(err, admit_migrations[index].name, conn);
        goto fail;
    }
    return ADMIT_OK;
fail:
    exec_ok(conn, "ROLLBACK");
    return ADMIT_ERR_DB;
}

enum admit_rc admit_migrate_apply(struct admit_db *db, void (*report)(const char *name, void *ctx),
                                  void *ctx, struct admit_error *err)
{
    char **sums = NULL;
    int count = 0;
    admit_error_clear(err);
    enum admit_rc rc = admit_db_connect(db);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(db));
        return rc;
    }
    PGconn *conn = admit_db_conn(db);
    if (exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") != 0) {
        describe(err, "cannot take the migration lock", conn);
        return ADMIT_ERR_DB_UNAVAILABLE;
    }
    rc = ADMIT_ERR_DB;
    if (exec_ok(conn,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())") != 0) {
        describe(err, "cannot create schema_migrations", conn);
        goto done;
    }
    rc = read_applied(conn, &sums, &count);
    if (rc != ADMIT_OK)
        goto done;
    if (count > admit_migration_count) {
        admit_error_set(err, "the database has migration %d; this binary knows only %d", count,
                        admit_migration_count);
        rc = ADMIT_ERR_STATE;
        goto done;
    }
    for (int i = 0; i < admit_migration_count; i++) {
        char sum[65];
        checksum(admit_migrations[i].text, sum);
        if (sums[i] != NULL) {
            if (strcmp(sums[i], sum) != 0) {
                admit_error_set(err,
                                "migration %s was applied with a different text: migrations are "
                                "forward-only, add a new one instead of editing it",
                                admit_migrations[i].name);
                rc = ADMIT_ERR_STATE;
                goto done;
            }
            continue;
        }
        rc = apply_one(conn, i, sum, err);
        if (rc != ADMIT_OK)
            goto done;
        if (report != NULL)
            report(admit_migrations[i].name, ctx);
    }
    rc = ADMIT_OK;
done:
    if (rc == ADMIT_ERR_DB && PQstatus(conn) != CONNECTION_OK)
        rc = ADMIT_ERR_DB_UNAVAILABLE;
    exec_ok(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")");
    free_sums(sums, count);
    return rc;
}
