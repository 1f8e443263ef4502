/* CSV exports of an event: registrations, attendance per check-in list, the scan log.
 *
 * An export is a pull stream: admit_export_read hands out the next bytes of the CSV file, in
 * constant memory whatever the number of rows. It owns a database connection of its own (the
 * rows come one at a time in libpq's single-row mode), so that an HTTP server can feed it to a
 * client at the client's pace while its worker thread's connection serves other requests, and
 * the command line can write it to a file: the same code for both. Cells go through the CSV
 * writer (admit/csv.h): RFC 4180 or the Excel flavour, quoting, formula neutralisation.
 *
 * The registrations export and the guest import (admit/import.h) share one column table,
 * admit_registration_columns: a file exported here can be edited and imported again. */
#ifndef ADMIT_EXPORT_H
#define ADMIT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "admit/core/buf.h"
#include "admit/core/csv.h"
#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

enum admit_export_kind {
    ADMIT_EXPORT_REGISTRATIONS, /* every registration, the columns below */
    ADMIT_EXPORT_ATTENDANCE,    /* per list, one row per attendee: attended, first entry, gate */
    ADMIT_EXPORT_SCANS,         /* the full scan log */
};

/* How the importer treats a column of the registrations export. */
enum admit_column_import {
    ADMIT_COLUMN_EXPORT_ONLY, /* written by the export, ignored by the import */
    ADMIT_COLUMN_REQUIRED,    /* the import needs the column (its cells are validated) */
    ADMIT_COLUMN_OPTIONAL,    /* the import reads it when present */
};

struct admit_export_column {
    const char *name; /* the header cell */
    enum admit_column_import import;
};

/* The columns of registrations.csv, in file order; for the importer, a column's name is also
 * the registration form field (admit_registration_fields) that validates it, except "lists":
 * check-in list names separated by ";" (empty: every list). */
extern const struct admit_export_column admit_registration_columns[];
extern const size_t admit_registration_column_count;

/* "registrations", "attendance", "scans" into *out; false for anything else. */
bool admit_export_kind_parse(const char *text, enum admit_export_kind *out);
/* The name of an export kind: "registrations", "attendance", "scans". */
const char *admit_export_kind_name(enum admit_export_kind kind);
/* The file name a download is offered under, into out (cleared first): "SLUG-WHAT.csv", or
 * "SLUG-WHAT-excel.csv" for the Excel flavour, so that both downloads of one export can sit in
 * one folder and be told apart. what: an export kind's name, or "report". ADMIT_ERR_TOO_LARGE
 * when out cannot hold it. */
enum admit_rc admit_export_download_name(struct admit_buf *out, const char *slug, const char *what,
                                         enum admit_csv_flavour flavour) ADMIT_MUST_CHECK;

/* What an export is about, looked up by slug (and list name when list_name is not NULL).
 * admin_id 0: no restriction (the shell); otherwise only events that admin may see.
 * ADMIT_ERR_NOT_FOUND when there is no such event (or list) for them. */
enum admit_rc admit_export_find(struct admit_db *db, const char *slug, const char *list_name,
                                int admin_id, int *event_id, int *list_id) ADMIT_MUST_CHECK;

struct admit_export;

/* Starts the export kind of event event_id (list_id: the attendance of one check-in list; 0:
 * every list) on a new connection to dsn, written in flavour. On ADMIT_OK *out is an export to
 * close with admit_export_close; on error *out is NULL and err (admit/core/error.h) says why
 * (ADMIT_ERR_DB_UNAVAILABLE, ADMIT_ERR_DB). */
enum admit_rc admit_export_open(struct admit_export **out, const char *dsn,
                                enum admit_export_kind kind, int event_id, int list_id,
                                enum admit_csv_flavour flavour,
                                struct admit_error *err) ADMIT_MUST_CHECK;

/* Copies the next bytes of the file (at most max, max > 0) into buf and stores how many in
 * *len: 0 means the file is complete. A database failure in the middle is ADMIT_ERR_DB or
 * ADMIT_ERR_DB_UNAVAILABLE (the file is then incomplete: do not present it as whole); every
 * later call returns it again. */
enum admit_rc admit_export_read(struct admit_export *x, char *buf, size_t max,
                                size_t *len) ADMIT_MUST_CHECK;

/* Rows written so far (header excluded). */
unsigned long admit_export_rows(const struct admit_export *x);

/* Closes the connection and frees x (an unfinished query is abandoned). NULL is a no-op. */
void admit_export_close(struct admit_export *x);

/* Reads x to the end into out (not closed, flushed). ADMIT_ERR_IO (errno set) when writing
 * fails; errors of admit_export_read. */
enum admit_rc admit_export_write_file(struct admit_export *x, FILE *out) ADMIT_MUST_CHECK;

#endif
