/* What the organisers' pages read (server/admin*.c): each one query answering one JSON document
 * (sql/queries/admin_*.sql) for the template of its page, and only within the events the admin
 * may see: an event they may not see is ADMIT_ERR_NOT_FOUND, exactly like one that does not
 * exist (the permission model of sql/migrations/003_admin.sql). Every function gives its
 * document in *out, which the caller owns; errors as admit_db_query_json. */
#ifndef ADMIT_ADMIN_VIEW_H
#define ADMIT_ADMIN_VIEW_H

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/csv.h"
#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

/* The events admin admin_id may see, newest first, with their figures: a JSON array (empty when
 * none). */
enum admit_rc admit_admin_view_events(struct admit_db *db, int admin_id,
                                      json_t **out) ADMIT_MUST_CHECK;

/* The views of one event. */
enum admit_admin_view {
    ADMIT_ADMIN_VIEW_OVERVIEW, /* the public description, figures, per list registered, checked
                                  in and inside (admin_event.sql) */
    ADMIT_ADMIN_VIEW_FORM,     /* as its edit form shows it (admin_event_form.sql) */
    ADMIT_ADMIN_VIEW_LIVE,     /* the live door figures (admin_live.sql) */
};

/* The view of the event slug. */
enum admit_rc admit_admin_view_event(struct admit_db *db, int admin_id, const char *slug,
                                     enum admit_admin_view view, json_t **out) ADMIT_MUST_CHECK;

/* Attendees on one page of the attendee list. */
#define ADMIT_ADMIN_ATTENDEES_PAGE 50
/* The longest search text, in characters. */
#define ADMIT_ADMIN_SEARCH_MAX 200

/* A search of the attendee list, as the page's query string gives it ("" for what is not
 * given). */
struct admit_admin_search {
    const char *text;    /* name, email or organisation, anywhere, any case */
    const char *status;  /* "confirmed", "waitlisted", "cancelled" */
    const char *list;    /* a check-in list id */
    const char *checked; /* "yes", "no": checked in (on that list, or on any) */
    const char *page;    /* 1 to 100000 */
};

/* One page of the attendee list: the event, the matches and their rows. */
struct admit_admin_attendees {
    json_t *data; /* owned: {"event", "total", "rows"} (admin_attendees.sql) */
    long page;    /* the page shown, from 1 */
    long pages;   /* pages in all, at least 1 */
    long total;   /* matches in all */
};

/* One page of the attendees of the event slug matching search. ADMIT_ERR_INVALID, with err
 * saying so for a person, when the search is not one (too long, not ordinary text, a filter
 * that is not among the page's choices, a page out of range); ADMIT_ERR_NOT_FOUND for an event
 * the admin may not see. On error out->data is NULL. */
enum admit_rc admit_admin_view_attendees(struct admit_db *db, int admin_id, const char *slug,
                                         const struct admit_admin_search *search,
                                         struct admit_admin_attendees *out,
                                         struct admit_error *err) ADMIT_MUST_CHECK;

/* One attendee of the event slug as the organisers see them: the registration (with
 * "country_name" and "organisation_type_label", the words for its codes), the ticket, the
 * actions refused in its state, every list of the event with whether they are on it and when
 * and where they were first admitted, and every scan per list, entries and exits apart
 * (admin_attendee.sql). */
enum admit_rc admit_admin_view_attendee(struct admit_db *db, int admin_id, const char *slug,
                                        int registration_id, json_t **out) ADMIT_MUST_CHECK;

/* The arrivals chart of the event slug on day ("YYYY-MM-DD"; NULL: the latest day with
 * arrivals), laid out by admit_report_arrivals_chart (admit/register/report.h) from
 * admin_arrivals.sql. ADMIT_ERR_INVALID, with err saying so, for a day that is not a date. */
enum admit_rc admit_admin_view_arrivals(struct admit_db *db, int admin_id, const char *slug,
                                        const char *day, json_t **out,
                                        struct admit_error *err) ADMIT_MUST_CHECK;

/* The attendance report page of the event slug: the event's overview in *event and its report
 * (admit_report_load) in *report, both the caller's. On error both are NULL. */
enum admit_rc admit_admin_view_report(struct admit_db *db, int admin_id, const char *slug,
                                      json_t **event, json_t **report) ADMIT_MUST_CHECK;

/* The attendance report of the event slug written as CSV in flavour (admit_report_write_csv)
 * into csv. ADMIT_ERR_NOT_FOUND for an event the admin may not see; database errors as
 * admit_db_query; otherwise the writer's errors (ADMIT_ERR_TOO_LARGE past csv->max). */
enum admit_rc admit_admin_view_report_csv(struct admit_db *db, int admin_id, const char *slug,
                                          enum admit_csv_flavour flavour,
                                          struct admit_buf *csv) ADMIT_MUST_CHECK;

/* A decimal id of 1 to 9 digits as typed in a URL or form, or 0 when text is not one. */
int admit_admin_parse_id(const char *text);

#endif
