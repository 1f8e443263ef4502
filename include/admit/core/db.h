/* PostgreSQL access: one connection per handle, used by one thread at a time (the server keeps
 * one per worker thread). Every query is a named statement from sql/queries/, prepared once per
 * connection and run with parameters; nothing here formats SQL. When PostgreSQL goes away the
 * handle reports ADMIT_ERR_DB_UNAVAILABLE and reconnects by itself on a later call. */
#ifndef ADMIT_DB_H
#define ADMIT_DB_H

#include <jansson.h>
#include <libpq-fe.h>

#include "admit/core/rc.h"
#include "admit/sql.h" /* generated: enum admit_query, one value per sql/queries/NAME.sql */

struct admit_db;

/* A handle for dsn (copied). Does not connect yet. Never NULL. */
struct admit_db *admit_db_new(const char *dsn);
/* Closes the connection and frees the handle. NULL is a no-op. */
void admit_db_free(struct admit_db *db);

/* Makes sure the handle holds a working connection with every statement prepared, connecting
 * or reconnecting if needed. After a failed attempt, further attempts within a short back-off
 * (half a second) fail at once, so a server without its database answers 503 fast.
 * ADMIT_ERR_DB_UNAVAILABLE when PostgreSQL cannot be reached; ADMIT_ERR_DB when it answers but
 * preparing fails (an unmigrated database, for instance). */
enum admit_rc admit_db_ready(struct admit_db *db) ADMIT_MUST_CHECK;

/* Connects if not connected, without preparing statements: for the migration runner, which
 * works on databases the statements do not fit yet. Same errors as admit_db_ready. */
enum admit_rc admit_db_connect(struct admit_db *db) ADMIT_MUST_CHECK;

/* Runs the prepared statement q with nparams text parameters (NULL = SQL NULL). On ADMIT_OK,
 * *out is the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) and the caller PQclear()s it.
 * If the connection was lost, reconnects once and retries once: every business action in
 * sql/ is idempotent (form nonces, client nonces), so a retry never doubles anything.
 * ADMIT_ERR_DB_UNAVAILABLE if PostgreSQL is unreachable, ADMIT_ERR_CONFLICT for a unique or
 * exclusion violation, ADMIT_ERR_DB for other errors (see admit_db_sqlstate/admit_db_error).
 * *out is NULL on every error. */
enum admit_rc admit_db_query(struct admit_db *db, enum admit_query q, int nparams,
                             const char *const *params, PGresult **out) ADMIT_MUST_CHECK;

/* Runs q as admit_db_query does, for the queries whose answer is one JSON value (the pages'
 * queries: "... as JSON" in sql/queries/). On ADMIT_OK *out is that value, parsed (duplicate
 * keys refused), which the caller owns. ADMIT_ERR_NOT_FOUND when there is no row or the value is
 * NULL (no such event, or one the admin may not see); ADMIT_ERR_INVALID when it is not JSON (a
 * bug in the query); database errors as admit_db_query. *out is NULL on every error. */
enum admit_rc admit_db_query_json(struct admit_db *db, enum admit_query q, int nparams,
                                  const char *const *params, json_t **out) ADMIT_MUST_CHECK;

/* What a failed result res of conn means (res may be NULL): ADMIT_ERR_DB_UNAVAILABLE when the
 * connection, not the statement, failed (the connection is bad, the server is shutting down or
 * crashed, or libpq made the error itself because the server never answered: then a retry on a
 * new connection is the remedy, and a client may retry after a 503); ADMIT_ERR_CONFLICT for a
 * unique or exclusion violation; ADMIT_ERR_DB for every other error. For code that runs
 * statements on admit_db_conn itself (streamed exports); admit_db_query uses it. */
enum admit_rc admit_db_failure(PGconn *conn, const PGresult *res) ADMIT_MUST_CHECK;

/* Appends a PostgreSQL array literal of the n items, each quoted and escaped; a NULL item is
 * NULL. For array parameters of prepared statements (text[], date[], integer[], ...). */
struct admit_buf;
enum admit_rc admit_db_array_literal(struct admit_buf *out, const char *const *items, size_t n);

/* The SQLSTATE of the last failed query ("" if none) and a one-line message for logs. The
 * message is PostgreSQL's primary message: it never contains the query parameters. */
const char *admit_db_sqlstate(const struct admit_db *db);
const char *admit_db_error(const struct admit_db *db);

/* What every handle of this process has done, for /metrics (thread-safe counters, C11 atomics). */
struct admit_db_stats {
    unsigned long long open;             /* connections open now */
    unsigned long long connects;         /* connections made */
    unsigned long long connect_failures; /* attempts that found no server (or a refusing one) */
    unsigned long long unavailable;      /* statements that failed because the connection did */
    unsigned long long conflicts; /* statements refused by a unique rule (ADMIT_ERR_CONFLICT) */
    unsigned long long errors;    /* other statement errors (ADMIT_ERR_DB) */
};
void admit_db_stats(struct admit_db_stats *out);

/* The underlying connection (NULL when not connected), for the migration runner. */
PGconn *admit_db_conn(struct admit_db *db);

#endif
