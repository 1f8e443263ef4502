#include "admit/core/db.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/core/buf.h"
#include "admit/core/mem.h"

/* After a failed connection attempt, fail fast for this long before trying again. */
#define RETRY_AFTER_NS 500000000LL

struct admit_db {
    char *dsn;
    PGconn *conn;
    int prepared;           /* every statement prepared on this connection */
    int counted_open;       /* conn is counted in admit_db_stats' open */
    long long failed_at_ns; /* monotonic time of the last failed attempt, 0 if none */
    char sqlstate[6];
    char error[256];
};

/* admit_db_stats: every handle of the process counts here. */
static atomic_ullong stat_open, stat_connects, stat_connect_failures, stat_unavailable,
    stat_conflicts, stat_errors;

void admit_db_stats(struct admit_db_stats *out)
{
    out->open = atomic_load(&stat_open);
    out->connects = atomic_load(&stat_connects);
    out->connect_failures = atomic_load(&stat_connect_failures);
    out->unavailable = atomic_load(&stat_unavailable);
    out->conflicts = atomic_load(&stat_conflicts);
    out->errors = atomic_load(&stat_errors);
}

/* Counts a failed statement by what it means. */
static void count_failure(enum admit_rc rc)
{
    atomic_ullong *counter = rc == ADMIT_ERR_DB_UNAVAILABLE ? &stat_unavailable
                             : rc == ADMIT_ERR_CONFLICT     ? &stat_conflicts
                                                            : &stat_errors;
    atomic_fetch_add(counter, 1);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Keeps the first line of a libpq message (they end with a newline and may carry details). */
static void set_error(struct admit_db *db, const char *sqlstate, const char *message)
{
    size_t n = 0;
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", sqlstate ? sqlstate : "");
    if (message == NULL)
        message = "";
    while (message[n] != '\0' && message[n] != '\n' && n + 1 < sizeof db->error) {
        db->error[n] = message[n];
        n++;
    }
    db->error[n] = '\0';
}

struct admit_db *admit_db_new(const char *dsn)
{
    struct admit_db *db = admit_xcalloc(1, sizeof *db);
    db->dsn = admit_xstrdup(dsn);
    return db;
}

static void disconnect(struct admit_db *db)
{
    if (db->counted_open)
        atomic_fetch_sub(&stat_open, 1);
    db->counted_open = 0;
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db->prepared = 0;
}

void admit_db_free(struct admit_db *db)
{
    if (db == NULL)
        return;
    disconnect(db);
    free(db->dsn);
    free(db);
}

PGconn *admit_db_conn(struct admit_db *db)
{
    return db->conn;
}

const char *admit_db_sqlstate(const struct admit_db *db)
{
    return db->sqlstate;
}

const char *admit_db_error(const struct admit_db *db)
{
    return db->error;
}

/* libpq prints notices (RAISE NOTICE, "relation already exists, skipping") on stderr by
 * default; the library never prints. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static enum admit_rc prepare_all(struct admit_db *db)
{
    for (int i = 0; i < ADMIT_Q_COUNT; i++) {
        PGresult *res = PQprepare(db->conn, admit_queries[i].name, admit_queries[i].text, 0, NULL);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK) {
            char message[200];
            const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            snprintf(message, sizeof message, "cannot prepare %s: %s", admit_queries[i].name,
                     primary ? primary : PQerrorMessage(db->conn));
            set_error(db, PQresultErrorField(res, PG_DIAG_SQLSTATE), message);
            enum admit_rc rc = admit_db_failure(db->conn, res);
            PQclear(res);
            rc = rc == ADMIT_ERR_DB_UNAVAILABLE ? rc : ADMIT_ERR_DB;
            count_failure(rc);
            return rc;
        }
        PQclear(res);
    }
    db->prepared = 1;
    return ADMIT_OK;
}

static enum admit_rc connect_now(struct admit_db *db)
{
    disconnect(db);
    /* Bounded connection attempts: a request must not hang on a dead database. */
    /* Later entries override earlier ones: the DSN may set its own timeout or name. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *values[] = {"3", "admit", db->dsn, NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        set_error(db, "08006", PQerrorMessage(db->conn));
        atomic_fetch_add(&stat_connect_failures, 1);
        disconnect(db);
        db->failed_at_ns = now_ns();
        return ADMIT_ERR_DB_UNAVAILABLE;
    }
    PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
    atomic_fetch_add(&stat_connects, 1);
    atomic_fetch_add(&stat_open, 1);
    db->counted_open = 1;
    db->failed_at_ns = 0;
    return ADMIT_OK;
}

enum admit_rc admit_db_connect(struct admit_db *db)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return ADMIT_OK;
    return connect_now(db);
}

enum admit_rc admit_db_ready(struct admit_db *db)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK && db->prepared)
        return ADMIT_OK;
    if (db->failed_at_ns != 0 && now_ns() - db->failed_at_ns < RETRY_AFTER_NS)
        return ADMIT_ERR_DB_UNAVAILABLE;
    enum admit_rc rc = connect_now(db);
    if (rc != ADMIT_OK)
        return rc;
    rc = prepare_all(db);
    if (rc != ADMIT_OK) {
        disconnect(db);
        db->failed_at_ns = now_ns();
    }
    return rc;
}

enum admit_rc admit_db_failure(PGconn *conn, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
        return ADMIT_ERR_DB_UNAVAILABLE;
    /* Every error the server sends carries a SQLSTATE; one without was made by libpq itself,
     * because the server never answered. libpq 15 reports "server closed the connection
     * unexpectedly" that way with the connection still CONNECTION_OK: the first statement
     * sent on a connection whose server was stopped with -m immediate meanwhile. */
    if (state == NULL || state[0] == '\0')
        return ADMIT_ERR_DB_UNAVAILABLE;
    /* 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, class 08. */
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return ADMIT_ERR_DB_UNAVAILABLE;
    if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
        return ADMIT_ERR_CONFLICT;
    return ADMIT_ERR_DB;
}

enum admit_rc admit_db_query(struct admit_db *db, enum admit_query q, int nparams,
                             const char *const *params, PGresult **out)
{
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        enum admit_rc rc = admit_db_ready(db);
        if (rc != ADMIT_OK)
            return rc;
        PGresult *res =
            PQexecPrepared(db->conn, admit_queries[q].name, nparams, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            db->sqlstate[0] = '\0';
            db->error[0] = '\0';
            *out = res;
            return ADMIT_OK;
        }
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        set_error(db, state, primary ? primary : PQerrorMessage(db->conn));
        rc = admit_db_failure(db->conn, res);
        PQclear(res);
        count_failure(rc);
        if (rc == ADMIT_ERR_DB_UNAVAILABLE) {
            disconnect(db);
            db->failed_at_ns = 0; /* reconnect at once for the retry */
            continue;
        }
        return rc;
    }
    db->failed_at_ns = now_ns();
    return ADMIT_ERR_DB_UNAVAILABLE;
}

enum admit_rc admit_db_array_literal(struct admit_buf *out, const char *const *items, size_t n)
{
    enum admit_rc rc = admit_buf_putc(out, '{');
    for (size_t i = 0; i < n && rc == ADMIT_OK; i++) {
        const char *item = items[i];
        if (i > 0)
            rc = admit_buf_putc(out, ',');
        if (rc != ADMIT_OK)
            break;
        if (item == NULL) {
            rc = admit_buf_puts(out, "NULL");
            continue;
        }
        rc = admit_buf_putc(out, '"');
        for (const char *p = item; *p != '\0' && rc == ADMIT_OK; p++) {
            if (*p == '"' || *p == '\\')
                rc = admit_buf_putc(out, '\\');
            if (rc == ADMIT_OK)
                rc = admit_buf_putc(out, *p);
        }
        if (rc == ADMIT_OK)
            rc = admit_buf_putc(out, '"');
    }
    if (rc == ADMIT_OK)
        rc = admit_buf_putc(out, '}');
    return rc;
}
