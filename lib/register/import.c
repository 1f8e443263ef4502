#include "admit/register/import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admit/core/buf.h"
#include "admit/core/csv.h"
#include "admit/core/db.h"
#include "admit/core/mem.h"
#include "admit/register/export.h"
#include "admit/register/questions.h"
#include "admit/register/registration.h"
#include "admit/core/token.h"

#define NO_COLUMN   ((size_t)-1)
#define MAX_COLUMNS 32

struct import {
    const struct admit_import_options *opt;
    struct admit_import_result *result;
    size_t column[MAX_COLUMNS]; /* per admit_registration_columns entry: index in the file */
    const struct admit_csv_record *rec;
    bool header_bad;    /* a required column is missing: no row goes to the database */
    unsigned long full; /* guests the database found no seat for */
    unsigned long first_full_line;
    char event_id[16];
    PGconn *conn;
    struct admit_csv_writer tickets;
    FILE *tickets_tmp;
    json_t *questions;                           /* the event's questions (admit_questions_load) */
    size_t question_column[ADMIT_QUESTIONS_MAX]; /* per question: index in the file */
    char *answers;                               /* the current row's answers as JSON, or NULL */
};

static void problem(struct import *im, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct import *im, unsigned long line, const char *fmt, ...)
{
    char message[512];
    int n = snprintf(message, sizeof message, "line %lu: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message + n, sizeof message - (size_t)n, fmt, ap);
    va_end(ap);
    im->result->errors++;
    im->opt->error(im->opt->ctx, message);
}

static size_t find_column(const char *name)
{
    for (size_t i = 0; i < admit_registration_column_count; i++)
        if (strcmp(admit_registration_columns[i].name, name) == 0)
            return i;
    return NO_COLUMN;
}

/* Maps a header column named after one of the event's questions (its label, as the export
 * names it) to that question; a removed question's export column ("LABEL (removed)") is
 * ignored. Returns whether field f was such a column. */
static bool question_header(struct import *im, const struct admit_csv_record *rec, size_t f)
{
    size_t i;
    json_t *q;
    const char *name = rec->fields[f];
    size_t len = strlen(name), mark = strlen(" (removed)");
    if (len > mark && strcmp(name + len - mark, " (removed)") == 0)
        return true;
    json_array_foreach(im->questions, i, q)
    {
        if (i < ADMIT_QUESTIONS_MAX &&
            strcmp(json_string_value(json_object_get(q, "label")), name) == 0) {
            if (im->question_column[i] != NO_COLUMN)
                problem(im, rec->line, "the column \"%s\" appears twice: keep one of them", name);
            im->question_column[i] = f;
            return true;
        }
    }
    return false;
}

/* Checks the row's answers to the event's questions (the form's rules); on success
 * im->answers holds them as JSON. */
static void check_answers(struct import *im, const struct admit_csv_record *rec)
{
    struct admit_form_values v;
    struct admit_form_errors errs = {.count = 0};
    size_t i;
    json_t *q;
    admit_form_values_init(&v, NULL);
    json_array_foreach(im->questions, i, q)
    {
        char name[24];
        size_t f = i < ADMIT_QUESTIONS_MAX ? im->question_column[i] : NO_COLUMN;
        snprintf(name, sizeof name, "q%lld",
                 (long long)json_integer_value(json_object_get(q, "id")));
        v.names = admit_xrealloc(v.names, (v.count + 1) * sizeof *v.names);
        v.values = admit_xrealloc(v.values, (v.count + 1) * sizeof *v.values);
        v.names[v.count] = admit_xstrdup(name);
        v.values[v.count++] =
            admit_form_normalise(f != NO_COLUMN && f < rec->count ? rec->fields[f] : "");
    }
    free(im->answers);
    im->answers = NULL;
    admit_questions_check(im->questions, &v, &errs, &im->answers);
    for (size_t e = 0; e < errs.count; e++) {
        const char *label = "";
        json_array_foreach(im->questions, i, q)
        {
            if (json_integer_value(json_object_get(q, "id")) == atoll(errs.items[e].field + 1))
                label = json_string_value(json_object_get(q, "label"));
        }
        problem(im, rec->line, "%s: %s", label, errs.items[e].message);
    }
    admit_form_values_free(&v);
}

/* Maps the header's columns; reports unknown, repeated and missing ones. */
static void read_header(struct import *im, const struct admit_csv_record *rec)
{
    for (size_t i = 0; i < admit_registration_column_count; i++)
        im->column[i] = NO_COLUMN;
    for (size_t f = 0; f < rec->count; f++) {
        if (question_header(im, rec, f))
            continue;
        size_t c = find_column(rec->fields[f]);
        if (c == NO_COLUMN) {
            problem(im, rec->line,
                    "unknown column \"%s\": rename it to one of the columns of "
                    "registrations.csv, or remove it",
                    rec->fields[f]);
            continue;
        }
        if (im->column[c] != NO_COLUMN) {
            problem(im, rec->line, "the column \"%s\" appears twice: keep one of them",
                    rec->fields[f]);
            continue;
        }
        im->column[c] = f;
    }
    for (size_t i = 0; i < admit_registration_column_count; i++)
        if (admit_registration_columns[i].import == ADMIT_COLUMN_REQUIRED &&
            im->column[i] == NO_COLUMN) {
            im->header_bad = true;
            problem(im, rec->line, "the column \"%s\" is missing: add it to the header",
                    admit_registration_columns[i].name);
        }
}

/* The current record's value of a column by name ("" when the file has no such column). */
static const char *cell(void *ctx, const char *name)
{
    struct import *im = ctx;
    size_t c = find_column(name);
    if (c == NO_COLUMN || im->column[c] == NO_COLUMN || im->column[c] >= im->rec->count)
        return "";
    return im->rec->fields[im->column[c]];
}

/* A PostgreSQL text[] literal (admit_db_array_literal) of the ';'-separated names of cell
 * (spaces around them trimmed, empty ones left out). */
static enum admit_rc list_array(const char *cell_text, struct admit_buf *out)
{
    char *copy = admit_xstrdup(cell_text);
    size_t n = 0, cap = 1;
    for (const char *c = copy; *c != '\0'; c++)
        cap += *c == ';';
    const char **names = admit_xcalloc(cap, sizeof *names);
    for (char *p = copy, *next; p != NULL; p = next) {
        next = strchr(p, ';');
        if (next != NULL)
            *next++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*p != '\0')
            names[n++] = p;
    }
    enum admit_rc rc = admit_db_array_literal(out, names, n);
    free(names);
    free(copy);
    return rc;
}

/* Checks one row with the registration form's validators; true when valid. *email_ok: whether
 * its email is an address (so that the database can still say whether it is taken). */
static bool check_row(struct import *im, const struct admit_csv_record *rec, size_t header_count,
                      bool *email_ok)
{
    struct admit_form_errors errs = {.count = 0};
    unsigned long before = im->result->errors;
    *email_ok = false;
    if (rec->count != header_count) {
        problem(im, rec->line,
                "%zu fields where the header has %zu: give the line the header's columns (a value "
                "holding a comma or a semicolon needs double quotes around it)",
                rec->count, header_count);
        return false;
    }
    admit_form_validate(admit_registration_fields, admit_registration_field_count, cell, im, &errs);
    *email_ok = !im->header_bad;
    for (size_t i = 0; i < errs.count; i++) {
        const char *field = errs.items[i].field;
        const char *value = cell(im, field);
        size_t c = find_column(field);
        if (strcmp(field, "email") == 0)
            *email_ok = false;
        if (c != NO_COLUMN && im->column[c] == NO_COLUMN)
            continue; /* the header's problem says it once for every line */
        if (strcmp(field, "country") == 0 && value[0] != '\0')
            problem(im, rec->line, "country \"%s\": use a two-letter code like BE", value);
        else if (strcmp(field, "organisation_type") == 0 && value[0] != '\0')
            problem(im, rec->line,
                    "organisation_type \"%s\": use research, industry, public_body, "
                    "association or other",
                    value);
        else
            problem(im, rec->line, "%s: %s", field, errs.items[i].message);
    }
    check_answers(im, rec);
    const char *lists = cell(im, "lists");
    if (admit_form_valid_line(lists, 4000) != NULL)
        problem(im, rec->line, "lists: write list names separated by \";\", on one line");
    return im->result->errors == before && !im->header_bad;
}

static enum admit_rc exec(struct import *im, enum admit_query q, int n, const char *const *params,
                          PGresult **out)
{
    PGresult *res = PQexecPrepared(im->conn, admit_queries[q].name, n, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        if (out != NULL)
            *out = res;
        else
            PQclear(res);
        return ADMIT_OK;
    }
    if (PQstatus(im->conn) != CONNECTION_OK) {
        PQclear(res);
        return ADMIT_ERR_DB_UNAVAILABLE;
    }
    /* Rows are checked before they are sent, so this is unexpected: say what PostgreSQL said
     * (its primary message names the rule, never the data). */
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char message[300];
    snprintf(message, sizeof message, "the database refused the import: %s",
             primary != NULL ? primary : "unknown error");
    im->opt->error(im->opt->ctx, message);
    PQclear(res);
    return ADMIT_ERR_DB;
}

/* Reports line's email when it is taken: by a guest of an earlier line of the file, or by
 * someone registered for the event already. */
static enum admit_rc report_taken(struct import *im, unsigned long line)
{
    PGresult *res = NULL;
    const char *email = cell(im, "email");
    const char *params[2] = {im->event_id, email};
    enum admit_rc rc = exec(im, ADMIT_Q_IMPORT_TAKEN, 2, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    bool taken = PQntuples(res) == 1;
    bool in_file = taken && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (in_file && !PQgetisnull(res, 0, 1))
        problem(im, line, "%s is also on line %s: keep one of the two lines", email,
                PQgetvalue(res, 0, 1));
    else if (in_file)
        problem(im, line, "%s appears twice in the file: keep one of the two lines", email);
    else if (taken)
        problem(im, line,
                "%s is already registered for this event: remove the line (the person has a "
                "ticket; \"resend\" on the event page sends it again)",
                email);
    PQclear(res);
    return ADMIT_OK;
}

/* Stores one valid row (inside the transaction). */
static enum admit_rc store_row(struct import *im, unsigned long line)
{
    char token[ADMIT_TOKEN_SIZE], random[ADMIT_TOKEN_SIZE], nonce[64];
    struct admit_buf lists, url;
    PGresult *res = NULL;
    admit_buf_init(&lists, 16384);
    admit_buf_init(&url, 4096);
    enum admit_rc rc = list_array(cell(im, "lists"), &lists);
    if (rc != ADMIT_OK) {
        problem(im, line, "lists: too long");
        rc = ADMIT_OK;
        goto done;
    }
    admit_token_new(token);
    admit_token_new(random);
    /* The nonce names the line, so that a duplicate further down can say where the first is. */
    snprintf(nonce, sizeof nonce, "import-line-%lu-%.22s", line, random);
    const char *params[12] = {im->event_id,
                              token,
                              nonce,
                              cell(im, "given_name"),
                              cell(im, "family_name"),
                              cell(im, "email"),
                              cell(im, "organisation"),
                              cell(im, "organisation_type"),
                              cell(im, "country"),
                              cell(im, "dietary"),
                              cell(im, "accessibility"),
                              admit_buf_cstr(&lists)};
    rc = exec(im, ADMIT_Q_IMPORT_GUEST, 12, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "email_taken") == 0) {
        rc = report_taken(im, line);
    } else if (strcmp(outcome, "bad_list") == 0) {
        problem(im, line,
                "the event has no check-in list named \"%s\": correct the name (lists are "
                "separated by \";\"), or leave lists empty for every list",
                PQgetvalue(res, 0, 1));
    } else if (strcmp(outcome, "full") == 0) {
        if (im->full++ == 0)
            im->first_full_line = line; /* said once, at the end: how many do not fit */
    } else {
        const char *answer_params[2] = {token, im->answers != NULL ? im->answers : "{}"};
        if (im->answers != NULL && strcmp(im->answers, "{}") != 0)
            rc = exec(im, ADMIT_Q_IMPORT_ANSWERS, 2, answer_params, NULL);
        if (rc != ADMIT_OK)
            goto done;
        im->result->imported++;
        rc = admit_buf_printf(&url, "%s/tickets/%s", im->opt->base_url ? im->opt->base_url : "",
                              token);
        const char *row[4] = {cell(im, "email"), cell(im, "given_name"), cell(im, "family_name"),
                              admit_buf_cstr(&url)};
        if (rc == ADMIT_OK)
            rc = admit_csv_write_row(&im->tickets, row, 4);
    }
done:
    PQclear(res);
    admit_buf_free(&lists);
    admit_buf_free(&url);
    return rc;
}

static long file_size(FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        return (long)st.st_size;
    return 0;
}

/* Copies the ticket links from the temporary file to the caller's. */
static enum admit_rc copy_tickets(FILE *from, FILE *to)
{
    char buf[65536];
    size_t n;
    rewind(from);
    while ((n = fread(buf, 1, sizeof buf, from)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            return ADMIT_ERR_IO;
    return ferror(from) ? ADMIT_ERR_IO : ADMIT_OK;
}

/* Reads the header and checks every row, storing the valid ones while the database can still
 * take them; every problem is reported and counted. ADMIT_OK once the file is read through
 * (whatever its problems); ADMIT_ERR_IO when it cannot be read; a database error as store_row. */
static enum admit_rc read_rows(struct import *im, struct admit_csv_reader *reader, FILE *in,
                               long total)
{
    const struct admit_import_options *options = im->opt;
    struct admit_import_result *out = im->result;
    struct admit_csv_record rec;
    size_t header_count = 0;
    for (;;) {
        enum admit_rc rc = admit_csv_read_record(reader, &rec);
        if (rc == ADMIT_ERR_NOT_FOUND)
            break;
        if (rc == ADMIT_ERR_IO)
            return rc;
        if (rc != ADMIT_OK) {
            /* The reader cannot find the next record after malformed CSV: say so. */
            char message[ADMIT_ERROR_MESSAGE_SIZE + 100];
            snprintf(message, sizeof message,
                     "%s (the lines after it could not be read: correct it and import again)",
                     admit_csv_reader_error(reader)->message);
            out->errors++;
            options->error(options->ctx, message);
            break;
        }
        im->rec = &rec;
        if (header_count == 0) {
            header_count = rec.count;
            read_header(im, &rec);
            continue;
        }
        out->rows++;
        bool email_ok = false;
        if (check_row(im, &rec, header_count, &email_ok))
            rc = store_row(im, rec.line);
        else if (email_ok)
            rc = report_taken(im, rec.line); /* the row's other problems do not hide this one */
        if (rc != ADMIT_OK)
            return rc;
        if (options->progress != NULL && out->rows % 256 == 0)
            options->progress(options->ctx, ftell(in), total, out->rows);
    }
    if (header_count == 0)
        problem(im, 1, "the file is empty: start it with the header row of registrations.csv");
    else if (out->rows == 0 && out->errors == 0)
        problem(im, 2, "the file has a header but no guests: add one line per guest");
    if (im->full > 0)
        problem(im, im->first_full_line,
                "no free seat is left for this guest%s: the event has %lu free seat%s for %lu "
                "guests; raise the capacity by %lu first, or import fewer guests",
                im->full > 1 ? " and the others after it" : "", out->imported,
                out->imported == 1 ? "" : "s", out->imported + im->full, im->full);
    return ADMIT_OK;
}

enum admit_rc admit_import_run(struct admit_db *db, const char *slug, FILE *in,
                               const struct admit_import_options *options,
                               struct admit_import_result *out)
{
    struct import im = {.opt = options, .result = out};
    struct admit_csv_reader *reader = NULL;
    bool in_transaction = false;
    long total = file_size(in);
    int event_id = 0, list_id = 0;
    memset(out, 0, sizeof *out);

    enum admit_rc rc = admit_export_find(db, slug, NULL, 0, &event_id, &list_id);
    if (rc != ADMIT_OK)
        return rc;
    snprintf(im.event_id, sizeof im.event_id, "%d", event_id);
    for (size_t i = 0; i < ADMIT_QUESTIONS_MAX; i++)
        im.question_column[i] = NO_COLUMN;
    rc = admit_questions_load(db, slug, &im.questions);
    if (rc != ADMIT_OK)
        return rc;
    im.tickets_tmp = tmpfile();
    if (im.tickets_tmp == NULL) {
        json_decref(im.questions);
        return ADMIT_ERR_IO;
    }
    admit_csv_writer_init(&im.tickets, ADMIT_CSV_RFC4180, admit_csv_sink_file, im.tickets_tmp);
    static const char *const ticket_header[4] = {"email", "given_name", "family_name",
                                                 "ticket_url"};
    rc = admit_csv_write_row(&im.tickets, ticket_header, 4);
    if (rc != ADMIT_OK)
        goto done;

    rc = admit_csv_reader_open_file(&reader, in, NULL);
    if (rc != ADMIT_OK)
        goto done;
    rc = admit_db_ready(db);
    if (rc != ADMIT_OK)
        goto done;
    im.conn = admit_db_conn(db);
    rc = exec(&im, ADMIT_Q_IMPORT_BEGIN, 0, NULL, NULL);
    if (rc != ADMIT_OK)
        goto done;
    in_transaction = true;

    rc = read_rows(&im, reader, in, total);
    if (rc != ADMIT_OK)
        goto done;
    if (options->progress != NULL)
        options->progress(options->ctx, total, total, out->rows);
    if (out->errors > 0) {
        rc = ADMIT_ERR_INVALID;
        goto done;
    }
    rc = admit_csv_flush(&im.tickets);
    if (rc == ADMIT_OK && fflush(im.tickets_tmp) != 0)
        rc = ADMIT_ERR_IO;
    if (rc != ADMIT_OK)
        goto done;
    rc = exec(&im, ADMIT_Q_IMPORT_COMMIT, 0, NULL, NULL);
    if (rc != ADMIT_OK)
        goto done;
    in_transaction = false;
    if (options->tickets != NULL)
        rc = copy_tickets(im.tickets_tmp, options->tickets);
done:
    if (in_transaction) {
        PGresult *res = PQexecPrepared(im.conn, admit_queries[ADMIT_Q_IMPORT_ROLLBACK].name, 0,
                                       NULL, NULL, NULL, 0);
        PQclear(res);
    }
    if (rc != ADMIT_OK && rc != ADMIT_ERR_IO)
        out->imported = 0;
    if (rc == ADMIT_ERR_IO && in_transaction)
        out->imported = 0;
    admit_csv_reader_close(reader);
    json_decref(im.questions);
    free(im.answers);
    if (im.tickets_tmp != NULL)
        fclose(im.tickets_tmp);
    return rc;
}
