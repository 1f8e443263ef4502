/* Personal data's life cycle (issue 18): retention and purge, erasure on request. The rules
 * live in SQL (sql/migrations/014_privacy.sql); these are their doors for the CLI and admitd. */
#ifndef ADMIT_REGISTER_PRIVACY_H
#define ADMIT_REGISTER_PRIVACY_H

#include <stdbool.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/csv.h"
#include "admit/core/db.h"
#include "admit/core/rc.h"

/* Longest retention an event may have, in days (ten years). */
#define ADMIT_RETENTION_DAYS_MAX 3650

/* The retention work due now (admit purge): anonymises the registrations of events past their
 * retention and deletes what has its own schedule. dry_run: counts only, changes nothing.
 * On ADMIT_OK *counts is a JSON object of counts (see admit_purge_now), owned by the caller. */
enum admit_rc admit_privacy_purge(struct admit_db *db, bool dry_run,
                                  json_t **counts) ADMIT_MUST_CHECK;

enum admit_erase_outcome {
    ADMIT_ERASE_DONE,      /* anonymised now */
    ADMIT_ERASE_ALREADY,   /* anonymised before: nothing to do */
    ADMIT_ERASE_NOT_FOUND, /* no such registration in an event the admin may see */
};

/* Erases (anonymises at once) registration id of event slug on request. admin_id 0: the
 * operator's shell (every event). client: the requester's address for the audit log, "" from
 * the shell. */
enum admit_rc admit_privacy_erase_registration(struct admit_db *db, int admin_id, const char *slug,
                                               int id, const char *client,
                                               enum admit_erase_outcome *out) ADMIT_MUST_CHECK;

/* Erases every registration of email in the events admin_id may see (0: every event). On
 * ADMIT_OK *erased is a JSON array of {"event": slug, "registration_id": id}, empty when there
 * was nobody, owned by the caller. */
enum admit_rc admit_privacy_erase_email(struct admit_db *db, int admin_id, const char *email,
                                        const char *client, json_t **erased) ADMIT_MUST_CHECK;

/* What an erasure would erase, for its confirmation step: registration id of event slug (id >
 * 0), or else every registration of email, in the events admin_id may see. On ADMIT_OK
 * *found is a JSON array of {event, event_name, registration_id, name, email, status}, empty
 * when nothing is left to erase, owned by the caller. */
enum admit_rc admit_privacy_erase_preview(struct admit_db *db, int admin_id, const char *slug,
                                          int id, const char *email,
                                          json_t **found) ADMIT_MUST_CHECK;

/* Everything held about the attendee behind a ticket's access token (GDPR Art. 15 and 20), as
 * JSON (see admit_access_json in sql/migrations/014_privacy.sql), owned by the caller.
 * ADMIT_ERR_NOT_FOUND for a malformed or unknown token. */
enum admit_rc admit_privacy_access_token(struct admit_db *db, const char *token,
                                         json_t **out) ADMIT_MUST_CHECK;

/* The same for a person by email, over the events admin_id may see (0: every event, from the
 * shell); recorded in the audit log with client. ADMIT_ERR_NOT_FOUND when nobody has it. */
enum admit_rc admit_privacy_access_email(struct admit_db *db, int admin_id, const char *email,
                                         const char *client, json_t **out) ADMIT_MUST_CHECK;

/* Records an organiser's action in the audit log: who (admin_id; 0: the shell), what (action,
 * lower-case letters, dots and underscores, e.g. "export.scans"), on which event (event_id, 0:
 * none), from which address (client). Never personal data. */
enum admit_rc admit_privacy_audit(struct admit_db *db, int admin_id, const char *action,
                                  int event_id, const char *client) ADMIT_MUST_CHECK;

/* The same for an organiser's change to one registration (a cancellation, a reissue, a move
 * from the waiting list, a check-in by hand, an edit): the event is the registration's. */
enum admit_rc admit_privacy_audit_registration(struct admit_db *db, int admin_id,
                                               const char *action, int registration_id,
                                               const char *client) ADMIT_MUST_CHECK;

/* The audit log, newest first, at most limit entries (0: all), as JSON (see admit_audit_list),
 * owned by the caller. ADMIT_ERR_NOT_FOUND unless admin_id sees every event. */
enum admit_rc admit_privacy_audit_list(struct admit_db *db, int admin_id, int limit,
                                       json_t **out) ADMIT_MUST_CHECK;

/* The whole audit log as CSV (a header row, then one row per entry, newest first) into csv.
 * ADMIT_ERR_NOT_FOUND unless admin_id sees every event. */
enum admit_rc admit_privacy_audit_csv(struct admit_db *db, int admin_id,
                                      enum admit_csv_flavour flavour,
                                      struct admit_buf *csv) ADMIT_MUST_CHECK;

/* Sets event slug's retention to days (0 to ADMIT_RETENTION_DAYS_MAX; -1: unchanged), its
 * privacy notice's address (http(s)://..., "" for none; NULL: unchanged) and its data
 * controller (name and contact, one line; NULL: unchanged). ADMIT_ERR_INVALID for a value out
 * of range (the database checks the address too), ADMIT_ERR_NOT_FOUND for no such event. */
enum admit_rc admit_privacy_set_event(struct admit_db *db, const char *slug, int days,
                                      const char *notice_url,
                                      const char *controller) ADMIT_MUST_CHECK;

#endif
