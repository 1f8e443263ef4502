/* admit import: invited guests from a CSV file with the columns of the registrations export
 * (admit_registration_columns in admit/export.h; export-only columns such as id and status are
 * ignored, so an exported file can be edited and imported into another event).
 *
 * Every row is validated with the registration form's validators (admit_registration_fields)
 * and, inside the import's transaction, by the database (emails taken by someone registered or
 * by an earlier line, unknown check-in lists, free seats), whatever problems earlier lines had:
 * every problem of the file is reported in one pass, each with its line number and what to do.
 * The import is all or nothing: one transaction, committed only when every row is valid, no
 * email is taken and every guest got a seat; otherwise nothing at all is stored. A file with
 * more guests than free seats is refused whole, said once ("raise the capacity by N first"). Each
 * imported guest is a confirmed registration (source "import") with its own access token; after the
 * commit the list of ticket links is written out as CSV (email, given_name, family_name,
 * ticket_url) so the organiser can send them.
 *
 * The file is read once, front to back (standard input works), in constant memory: the ticket
 * links wait in a temporary file until the commit. */
#ifndef ADMIT_IMPORT_H
#define ADMIT_IMPORT_H

#include <stdio.h>

#include "admit/core/db.h"
#include "admit/core/rc.h"

struct admit_import_options {
    /* Called now and then with the bytes read so far, the file's size (0 when unknown, e.g. a
     * pipe) and the rows read; may be NULL. */
    void (*progress)(void *ctx, long done, long total, unsigned long rows);
    /* Called once per problem with one line for a person: "line 7: email: Enter an email
     * address like name@example.org". Required. */
    void (*error)(void *ctx, const char *message);
    void *ctx;
    /* Prefix of the ticket links: "https://tickets.example.org" (no trailing slash; admit import
     * requires it, so that the links work wherever they are sent), or "" for "/tickets/TOKEN". */
    const char *base_url;
    /* Where the ticket links go after the commit (CSV, RFC 4180); may be NULL. */
    FILE *tickets;
};

struct admit_import_result {
    unsigned long rows;     /* data rows read */
    unsigned long imported; /* guests stored (0 unless everything was) */
    unsigned long errors;   /* problems reported */
};

/* Imports the guests of in (read from its current position) into the event slug. ADMIT_OK when
 * every guest was stored; ADMIT_ERR_INVALID when the file had problems (each reported through
 * options->error; nothing stored); ADMIT_ERR_NOT_FOUND for an unknown event; ADMIT_ERR_IO when
 * reading the file or writing the links failed (errno set); database errors as admit_db_query
 * (nothing stored). */
enum admit_rc admit_import_run(struct admit_db *db, const char *slug, FILE *in,
                               const struct admit_import_options *options,
                               struct admit_import_result *out) ADMIT_MUST_CHECK;

#endif
