/* What the attendees' pages read (server/public.c, server/tickets.c): the upcoming events, an
 * event's page and a ticket's page, each one query answering one JSON document
 * (sql/queries/events_upcoming.sql, event_page.sql, ticket_page.sql), which the templates
 * render. */
#ifndef ADMIT_PAGE_H
#define ADMIT_PAGE_H

#include <stdbool.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"

/* The events that have not ended, soonest first, as a JSON array (empty when none) the caller
 * owns. Errors as admit_db_query_json, never ADMIT_ERR_NOT_FOUND. */
enum admit_rc admit_page_upcoming(struct admit_db *db, json_t **out) ADMIT_MUST_CHECK;

/* Everything the page of the event slug shows (admit_event_json in SQL), as a JSON object the
 * caller owns. ADMIT_ERR_NOT_FOUND when there is no such event; otherwise as
 * admit_db_query_json. */
enum admit_rc admit_page_event(struct admit_db *db, const char *slug,
                               json_t **out) ADMIT_MUST_CHECK;

/* A registration's status, as its ticket page shows it. */
enum admit_ticket_status {
    ADMIT_TICKET_CONFIRMED,
    ADMIT_TICKET_WAITLISTED,
    ADMIT_TICKET_CANCELLED,
};

struct admit_ticket_page {
    json_t *ticket; /* owned: the page's JSON (ticket_page.sql), free with admit_ticket_page_free */
    enum admit_ticket_status status;
    bool rendered; /* its QR code was rendered (and stored) by this call */
};

/* The ticket page of the registration behind the access token into *out. With key, the page
 * of a confirmed ticket has its QR code as "qr_svg", rendered and stored now when it was not
 * yet (admit_ticket_image_make); a ticket not confirmed admits no one and has no "qr_svg", nor
 * has any page loaded without key. ADMIT_ERR_NOT_FOUND when no registration has this token (a
 * malformed one included); otherwise as admit_db_query_json and admit_ticket_image_make. On
 * error out->ticket is NULL. */
enum admit_rc admit_ticket_page_load(struct admit_db *db, const struct admit_signing_key *key,
                                     const char *token,
                                     struct admit_ticket_page *out) ADMIT_MUST_CHECK;
void admit_ticket_page_free(struct admit_ticket_page *page);

#endif
