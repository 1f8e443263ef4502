/* The organisers' event form (create and edit an event with its check-in lists): its fields
 * with their validators, and saving it in one round trip (admit_admin_event_save in SQL, which
 * also owns the rules that need the database: a real date, a known time zone, a capacity not
 * below the confirmed registrations, lists in use that cannot be removed). */
#ifndef ADMIT_ADMIN_EVENT_H
#define ADMIT_ADMIN_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "admit/core/db.h"
#include "admit/register/event.h"
#include "admit/register/form.h"
#include "admit/core/rc.h"

/* The form's fields in page order ("slug" only when creating). Times are local to the event's
 * time zone, "YYYY-MM-DD HH:MM" or as <input type="datetime-local"> sends them. */
extern const struct admit_form_field admit_admin_event_fields[];
extern const size_t admit_admin_event_field_count;

/* One row of the form's check-in lists: an existing list (id) or a new one (id ""); an existing
 * list with an empty name is to be removed. */
struct admit_admin_event_list {
    const char *id, *name, *day; /* day "" for none */
    /* Sessions with seats (issue 17): capacity "" for unlimited, session times local
     * "YYYY-MM-DD HH:MM" or "" for none (both or neither). */
    const char *capacity, *session_starts, *session_ends;
};

/* The list rows of a submitted form, as parallel arrays of n values. caps, starts and ends may
 * be NULL (a form without session settings: each list keeps its own). */
struct admit_admin_event_rows {
    const char *const *ids, *const *names, *const *days;
    const char *const *caps, *const *starts, *const *ends;
    size_t n;
};

/* A checked form; the strings point into the submitted values. */
struct admit_admin_event_form {
    const char *slug, *name, *description, *venue, *venue_address, *organiser, *contact_email;
    const char *time_zone, *starts, *ends, *opens, *closes, *capacity; /* opens/closes: "" */
    const char *edits_close;    /* until when attendees may edit their registration; "": default */
    const char *retention_days; /* "": the default (90) for a new event, unchanged for an edit */
    /* NULL when the form did not send them (unchanged); "" for none. */
    const char *privacy_notice_url, *controller;
    bool waitlist;
    bool attach_pdf_ticket; /* ticket emails attach the PDF ticket (migration 16) */
    struct admit_admin_event_list lists[ADMIT_EVENT_MAX_LISTS];
    size_t nlists;
    bool sessions; /* the form sent session settings */
};

/* Validates the submitted form: every field through get(ctx, name) (the slug only when
 * creating), the waiting-list box ("waitlist" = "yes"), the PDF ticket box
 * ("attach_pdf_ticket" = "yes"), and the list rows given as parallel arrays (rows). Rows with
 * neither id nor name are blank and skipped. Fills *out and returns the number of errors added
 * to errs (0: valid). */
size_t admit_admin_event_check(admit_form_lookup get, void *ctx, bool creating,
                               const struct admit_admin_event_rows *rows,
                               struct admit_admin_event_form *out, struct admit_form_errors *errs);

enum admit_admin_event_outcome {
    ADMIT_ADMIN_EVENT_CREATED,
    ADMIT_ADMIN_EVENT_UPDATED,
    ADMIT_ADMIN_EVENT_INVALID,    /* field and message say what to correct; nothing changed */
    ADMIT_ADMIN_EVENT_SLUG_TAKEN, /* creating: another event has this slug */
    ADMIT_ADMIN_EVENT_NOT_FOUND,  /* no such event for this admin (or creating without
                                     all_events) */
};

struct admit_admin_event_saved {
    enum admit_admin_event_outcome outcome;
    char slug[65];
    /* INVALID and SLUG_TAKEN: the field to correct and what to tell the organiser next to it
     * ("Another event has this address: choose another"); else empty. */
    struct admit_error error;
};

/* Creates (slug NULL) or updates the event slug from a checked form, as admin admin_id, then
 * (created or updated) sets its PDF ticket setting with a second statement, kept apart from the
 * form's save function (admit_event_attach_pdf_ticket, migration 16): the setting is idempotent,
 * so a failure there leaves the event saved and the form sent again repairs it.
 * ADMIT_OK with the outcome in *out; database errors as admit_db_query. */
enum admit_rc admit_admin_event_save(struct admit_db *db, int admin_id, const char *slug,
                                     const struct admit_admin_event_form *form,
                                     struct admit_admin_event_saved *out) ADMIT_MUST_CHECK;

#endif
