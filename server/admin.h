/* The organisers' area (/admin): what its handler files share. admin.c holds the sessions
 * (login, logout, the check every handler starts with), the events list and the route table;
 * admin_events.c an event's overview and form; admin_attendees.c the attendee list;
 * admin_attendee.c one attendee and the actions on them, confirmed first; admin_live.c the live
 * door view, the arrivals chart and the attendance report; admin_review.c the door review (the
 * flagged scans); admin_devices.c the door devices; admin_organisers.c the organisers and
 * admin_password.c their password links; admin_export.c the CSV exports, streamed.
 *
 * Every page and export needs a session: without one, a page redirects to the login page and
 * an export or JSON answer is 401. An event the admin may not see answers 404, exactly like an
 * event that does not exist (see the permission model in sql/migrations/003_admin.sql). */
#ifndef ADMITD_ADMIN_H
#define ADMITD_ADMIN_H

#include <stdbool.h>

#include <jansson.h>

#include "admit/register/admin.h"
#include "admit/register/admin_view.h"
#include "http.h"

/* The form id of every admin form's CSRF token (one token serves every form of a page). */
#define ADMIN_CSRF_FORM "admin"

/* The CSP of admin pages: the default one plus the admin's own static script and its
 * same-origin polling. */
#define ADMIN_CSP                                                                                  \
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "                \
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

enum admin_answer {
    ADMIN_PAGE, /* no session: 303 to the login page */
    ADMIN_DATA, /* no session: 401 (exports, JSON, images) */
};

/* Loads the admin behind the request's session cookie into *admin. Without a live session,
 * answers as kind says and returns false; on a database error answers 503/500 and returns
 * false. Every admin handler starts with it:
 *     struct admit_admin admin;
 *     if (!admin_session(req, &admin, ADMIN_PAGE))
 *         return;                                                                           */
bool admin_session(struct http_request *req, struct admit_admin *admin, enum admin_answer kind);

/* Renders an admin page: adds "admin" ({"email", "all_events"}), "csrf_token", the admin CSP
 * and Cache-Control: no-store. tab names the current tab of an event page ("overview",
 * "attendees", "live", "report", "flagged", "devices", "edit") or is NULL. Takes context. */
void admin_render(struct http_request *req, unsigned status, const char *template_name,
                  json_t *context, const struct admit_admin *admin, const char *tab);

/* 404 for an event or attendee this admin cannot see (or that does not exist). */
void admin_not_found(struct http_request *req);

/* Whether a page's data loaded (rc is ADMIT_OK); otherwise answers for it and returns false:
 * 404 (admin_not_found) for ADMIT_ERR_NOT_FOUND, the "could not load" page for the rest. */
bool admin_loaded(struct http_request *req, enum admit_rc rc);

/* Records in the audit log (issue 18) that this organiser changed a registration: action is
 * "registration.cancel", "registration.edit", ...; the client's address with it. A failure to
 * record is logged (note audit-failed), not answered: the change is made already. */
void admin_audit_registration(struct http_request *req, int admin_id, const char *action,
                              int registration_id);

/* The view of the event slug (admit_admin_view_event) in *out. Returns false after answering:
 * 503/500, or 404 when the event does not exist or this admin may not see it. */
bool admin_event_view(struct http_request *req, const struct admit_admin *admin,
                      enum admit_admin_view view, const char *slug, json_t **out);

/* "path?name=VALUE" with value percent-encoded, as a new JSON string. */
json_t *admin_url_with_query(const char *path, const char *name, const char *value);

/* The start of every event page: admin_session, then the route's slug. Returns the slug, or
 * NULL after answering (no session: as admin_session; a slug that cannot be one: 404). */
const char *admin_event_begin(struct http_request *req, struct admit_admin *admin,
                              enum admin_answer kind);
/* The slug of the route, or NULL after answering 404 when it cannot be one. */
const char *admin_slug(struct http_request *req);

/* Handlers of the other admin files, for the route table in admin.c. */
void admin_event_overview(struct http_request *req);
void admin_event_new_page(struct http_request *req);
void admin_event_create(struct http_request *req);
void admin_event_edit_page(struct http_request *req);
void admin_event_update(struct http_request *req);
void admin_attendees_page(struct http_request *req);
void admin_attendee_page(struct http_request *req);
void admin_attendee_cancel(struct http_request *req);
void admin_attendee_reissue(struct http_request *req);
void admin_attendee_promote(struct http_request *req);
void admin_attendee_checkin(struct http_request *req);
void admin_attendee_confirm_cancel(struct http_request *req);
void admin_attendee_confirm_reissue(struct http_request *req);
void admin_attendee_confirm_promote(struct http_request *req);
void admin_attendee_confirm_checkin(struct http_request *req);
void admin_live_page(struct http_request *req);
void admin_live_json(struct http_request *req);
void admin_arrivals_svg(struct http_request *req);
void admin_report_page(struct http_request *req);
void admin_report_csv(struct http_request *req);
void admin_flagged_page(struct http_request *req);
void admin_flagged_review(struct http_request *req);
void admin_export_registrations(struct http_request *req);
void admin_export_attendance(struct http_request *req);
void admin_export_scans(struct http_request *req);
/* Badges as PDF (admin_print.c). */
void admin_print_badges(struct http_request *req);
void admin_print_attendee_badge(struct http_request *req);
void admin_print_sheet(struct http_request *req);
void admin_print_evidence(struct http_request *req);

/* Emails the event's certificates of attendance (admin_certificates.c). */
void admin_certificates_send(struct http_request *req);

#endif
