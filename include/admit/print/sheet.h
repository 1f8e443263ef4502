/* Signed attendance sheets: per check-in list (a day or a session), every person on it with
 * their name, organisation, organisation type, country and check-in time (blank when they were
 * not scanned in), a column for a signature on paper, totals by organisation type and by
 * country at the end, the event's details and "page N of M" on every page. A4 landscape, one
 * PDF per list. */
#ifndef ADMIT_PRINT_SHEET_H
#define ADMIT_PRINT_SHEET_H

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/print/badge.h"

/* Called once per list with its id and name, before its sheet is written: returns the writer
 * and its closure for that list's PDF through *write and *closure, or -1 to stop (ADMIT_ERR_IO).
 * done(closure, ok) is called after the list's PDF is complete (ok 1) or broken off (ok 0). */
struct admit_sheet_sink {
    int (*open)(void *sink, int list_id, const char *list_name, admit_print_write_fn *write,
                void **closure);
    int (*done)(void *sink, void *closure, int ok);
    void *sink;
};

/* Writes the sheet of each check-in list of event event_id (list_id 0: every list; a list
 * nobody is on gets no sheet) through sink. *lists (when not NULL) is how many were written.
 * Database errors as admit_db_query; ADMIT_ERR_IO when a writer or cairo failed; err says
 * why in words. */
enum admit_rc admit_sheets_write(struct admit_db *db, int event_id, int list_id,
                                 const struct admit_sheet_sink *sink, size_t *lists,
                                 struct admit_error *err) ADMIT_MUST_CHECK;

#endif
