#include "admit/register/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/mem.h"

const struct admit_export_column admit_registration_columns[] = {
    {"id", ADMIT_COLUMN_EXPORT_ONLY},
    {"status", ADMIT_COLUMN_EXPORT_ONLY},
    {"given_name", ADMIT_COLUMN_REQUIRED},
    {"family_name", ADMIT_COLUMN_REQUIRED},
    {"email", ADMIT_COLUMN_REQUIRED},
    {"organisation", ADMIT_COLUMN_REQUIRED},
    {"organisation_type", ADMIT_COLUMN_REQUIRED},
    {"country", ADMIT_COLUMN_REQUIRED},
    {"dietary", ADMIT_COLUMN_OPTIONAL},
    {"accessibility", ADMIT_COLUMN_OPTIONAL},
    {"lists", ADMIT_COLUMN_OPTIONAL},
    {"source", ADMIT_COLUMN_EXPORT_ONLY},
    {"registered_at", ADMIT_COLUMN_EXPORT_ONLY},
};
const size_t admit_registration_column_count =
    sizeof admit_registration_columns / sizeof admit_registration_columns[0];

static const char *const attendance_header[] = {
    "id",      "given_name", "family_name", "email",       "organisation", "organisation_type",
    "country", "list",       "attended",    "first_entry", "gate",
};
static const char *const scans_header[] = {
    "id",         "scanned_at",  "received_at", "list",    "registration_id",
    "given_name", "family_name", "direction",   "verdict", "gate",
    "device",     "source",      "offline",     "flagged", "reason",
};

static const struct {
    const char *name;
    enum admit_query query;
} kinds[] = {
    [ADMIT_EXPORT_REGISTRATIONS] = {"registrations", ADMIT_Q_EXPORT_REGISTRATIONS},
    [ADMIT_EXPORT_ATTENDANCE] = {"attendance", ADMIT_Q_EXPORT_ATTENDANCE},
    [ADMIT_EXPORT_SCANS] = {"scans", ADMIT_Q_EXPORT_SCANS},
};

bool admit_export_kind_parse(const char *text, enum admit_export_kind *out)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(text, kinds[i].name) == 0) {
            *out = (enum admit_export_kind)i;
            return true;
        }
    }
    return false;
}

const char *admit_export_kind_name(enum admit_export_kind kind)
{
    return kinds[kind].name;
}

enum admit_rc admit_export_download_name(struct admit_buf *out, const char *slug, const char *what,
                                         enum admit_csv_flavour flavour)
{
    admit_buf_reset(out);
    return admit_buf_printf(out, "%s-%s%s.csv", slug, what,
                            flavour == ADMIT_CSV_EXCEL ? "-excel" : "");
}

enum admit_rc admit_export_find(struct admit_db *db, const char *slug, const char *list_name,
                                int admin_id, int *event_id, int *list_id)
{
    char admin[16];
    PGresult *res = NULL;
    *event_id = 0;
    *list_id = 0;
    snprintf(admin, sizeof admin, "%d", admin_id);
    const char *params[3] = {slug, list_name, admin_id > 0 ? admin : NULL};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EXPORT_EVENT, 3, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    if (PQntuples(res) == 0 || (list_name != NULL && PQgetisnull(res, 0, 1))) {
        PQclear(res);
        return ADMIT_ERR_NOT_FOUND;
    }
    *event_id = atoi(PQgetvalue(res, 0, 0));
    *list_id = list_name != NULL ? atoi(PQgetvalue(res, 0, 1)) : 0;
    PQclear(res);
    return ADMIT_OK;
}

/* Bytes the writer's output may pile up before read() hands them out: its own buffer and one
 * row at most, in practice. */
#define PENDING_MAX (4u << 20)

struct admit_export {
    struct admit_db *db;
    enum admit_export_kind kind;
    enum admit_rc rc; /* the first failure, returned by every later read */
    struct admit_csv_writer writer;
    struct admit_buf pending; /* written by the CSV writer, not yet read */
    size_t pending_off;
    bool header_done, rows_done, flushed;
    unsigned long rows;
    PGresult *questions; /* registrations: the question columns' headers (export_questions.sql) */
    PGresult *first;     /* the query's first result, read by admit_export_open; NULL once used */
};

static enum admit_rc pending_sink(void *ctx, const char *data, size_t len)
{
    struct admit_export *x = ctx;
    if (x->pending_off == x->pending.len) {
        admit_buf_reset(&x->pending);
        x->pending_off = 0;
    }
    return admit_buf_append(&x->pending, data, len);
}

static enum admit_rc write_header(struct admit_export *x)
{
    if (x->kind == ADMIT_EXPORT_REGISTRATIONS) {
        enum admit_rc rc = admit_csv_begin_row(&x->writer);
        for (size_t i = 0; i < admit_registration_column_count && rc == ADMIT_OK; i++)
            rc = admit_csv_add_field(&x->writer, admit_registration_columns[i].name,
                                     strlen(admit_registration_columns[i].name));
        for (int i = 0; i < PQntuples(x->questions) && rc == ADMIT_OK; i++)
            rc = admit_csv_add_field(&x->writer, PQgetvalue(x->questions, i, 0),
                                     (size_t)PQgetlength(x->questions, i, 0));
        return rc == ADMIT_OK ? admit_csv_end_row(&x->writer) : rc;
    }
    if (x->kind == ADMIT_EXPORT_ATTENDANCE)
        return admit_csv_write_row(&x->writer, attendance_header,
                                   sizeof attendance_header / sizeof attendance_header[0]);
    return admit_csv_write_row(&x->writer, scans_header,
                               sizeof scans_header / sizeof scans_header[0]);
}

static size_t column_count(enum admit_export_kind kind)
{
    /* registrations: and the answers, as one JSON array (answer_fields) */
    return kind == ADMIT_EXPORT_REGISTRATIONS ? admit_registration_column_count + 1
           : kind == ADMIT_EXPORT_ATTENDANCE
               ? sizeof attendance_header / sizeof attendance_header[0]
               : sizeof scans_header / sizeof scans_header[0];
}

static enum admit_rc db_failure(struct admit_export *x, const PGresult *res)
{
    enum admit_rc rc = admit_db_failure(admit_db_conn(x->db), res);
    return rc == ADMIT_ERR_DB_UNAVAILABLE ? rc : ADMIT_ERR_DB;
}

enum admit_rc admit_export_open(struct admit_export **out, const char *dsn,
                                enum admit_export_kind kind, int event_id, int list_id,
                                enum admit_csv_flavour flavour, struct admit_error *err)
{
    char event[16], list[16];
    struct admit_export *x = admit_xcalloc(1, sizeof *x);
    *out = NULL;
    admit_error_clear(err);
    x->db = admit_db_new(dsn);
    x->kind = kind;
    admit_buf_init(&x->pending, PENDING_MAX);
    admit_csv_writer_init(&x->writer, flavour, pending_sink, x);
    enum admit_rc rc = admit_db_ready(x->db);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(x->db));
        goto fail;
    }
    PGresult *res = NULL;
    rc = admit_db_query(x->db, ADMIT_Q_EXPORT_SETUP, 0, NULL, &res);
    PQclear(res);
    snprintf(event, sizeof event, "%d", event_id);
    snprintf(list, sizeof list, "%d", list_id);
    const char *params[2] = {event, list_id > 0 ? list : NULL};
    if (rc == ADMIT_OK && kind == ADMIT_EXPORT_REGISTRATIONS)
        rc = admit_db_query(x->db, ADMIT_Q_EXPORT_QUESTIONS, 1, params, &x->questions);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(x->db));
        goto fail;
    }
    PGconn *conn = admit_db_conn(x->db);
    int nparams = kind == ADMIT_EXPORT_ATTENDANCE ? 2 : 1;
    if (!PQsendQueryPrepared(conn, admit_queries[kinds[kind].query].name, nparams, params, NULL,
                             NULL, 0) ||
        !PQsetSingleRowMode(conn)) {
        admit_error_set(err, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
                        PQerrorMessage(conn));
        rc = db_failure(x, NULL);
        goto fail;
    }
    /* Waits for the first row (or the end of none): a query that fails at its start is
     * answered as such (a 503 when the database went away), not as a truncated file. */
    x->first = PQgetResult(conn);
    ExecStatusType st = PQresultStatus(x->first);
    if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
        admit_error_set(err, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
                        PQerrorMessage(conn));
        rc = db_failure(x, x->first);
        goto fail;
    }
    *out = x;
    return ADMIT_OK;
fail:
    admit_export_close(x);
    return rc;
}

/* The answers of a row (a JSON array of strings) as one field per question column; a question
 * added since the header was read is left out, one removed meanwhile left empty. */
static enum admit_rc answer_fields(struct admit_export *x, const char *answers)
{
    json_t *list = json_loads(answers, 0, NULL);
    enum admit_rc rc = json_is_array(list) ? ADMIT_OK : ADMIT_ERR_STATE;
    for (int i = 0; i < PQntuples(x->questions) && rc == ADMIT_OK; i++) {
        json_t *v = json_array_get(list, (size_t)i);
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        rc = admit_csv_add_field(&x->writer, s, json_is_string(v) ? json_string_length(v) : 0);
    }
    json_decref(list);
    return rc;
}

/* Writes the next row of the result into the writer, or notes the end of the rows. */
static enum admit_rc next_row(struct admit_export *x)
{
    PGconn *conn = admit_db_conn(x->db);
    PGresult *res = x->first != NULL ? x->first : PQgetResult(conn);
    enum admit_rc rc = ADMIT_OK;
    x->first = NULL;
    ExecStatusType st = PQresultStatus(res);
    if (res != NULL && st == PGRES_SINGLE_TUPLE) {
        int n = PQnfields(res);
        if ((size_t)n != column_count(x->kind)) {
            rc = ADMIT_ERR_STATE; /* the query and the header disagree: a bug */
            goto done;
        }
        if (x->kind == ADMIT_EXPORT_REGISTRATIONS)
            n--; /* the answers: answer_fields */
        rc = admit_csv_begin_row(&x->writer);
        for (int i = 0; i < n && rc == ADMIT_OK; i++)
            rc = admit_csv_add_field(&x->writer,
                                     PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i),
                                     (size_t)PQgetlength(res, 0, i));
        if (rc == ADMIT_OK && x->kind == ADMIT_EXPORT_REGISTRATIONS)
            rc = answer_fields(x, PQgetvalue(res, 0, n));
        if (rc == ADMIT_OK)
            rc = admit_csv_end_row(&x->writer);
        x->rows++;
        goto done;
    }
    if (res != NULL && st != PGRES_TUPLES_OK) {
        rc = db_failure(x, res);
        goto done;
    }
    /* The end: PGRES_TUPLES_OK (no more rows), then NULL. */
    while (res != NULL) {
        PQclear(res);
        res = PQgetResult(conn);
    }
    x->rows_done = true;
done:
    PQclear(res);
    return rc;
}

enum admit_rc admit_export_read(struct admit_export *x, char *buf, size_t max, size_t *len)
{
    *len = 0;
    while (x->rc == ADMIT_OK && x->pending_off == x->pending.len && !x->flushed) {
        if (!x->header_done) {
            x->rc = write_header(x);
            x->header_done = true;
        } else if (!x->rows_done) {
            x->rc = next_row(x);
        } else {
            x->rc = admit_csv_flush(&x->writer);
            x->flushed = true;
        }
    }
    if (x->rc != ADMIT_OK)
        return x->rc;
    size_t n = x->pending.len - x->pending_off;
    if (n > max)
        n = max;
    memcpy(buf, x->pending.data + x->pending_off, n);
    x->pending_off += n;
    *len = n;
    return ADMIT_OK;
}

unsigned long admit_export_rows(const struct admit_export *x)
{
    return x->rows;
}

void admit_export_close(struct admit_export *x)
{
    if (x == NULL)
        return;
    PQclear(x->first);
    PQclear(x->questions);
    admit_db_free(x->db);
    admit_buf_free(&x->pending);
    free(x);
}

enum admit_rc admit_export_write_file(struct admit_export *x, FILE *out)
{
    char buf[65536];
    for (;;) {
        size_t n = 0;
        enum admit_rc rc = admit_export_read(x, buf, sizeof buf, &n);
        if (rc != ADMIT_OK)
            return rc;
        if (n == 0)
            return ADMIT_OK;
        if (fwrite(buf, 1, n, out) != n) {
            if (errno == 0)
                errno = EIO;
            return ADMIT_ERR_IO;
        }
    }
}
