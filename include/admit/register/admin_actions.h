/* What organisers do to one registration: cancel it, reissue its ticket, move it from the
 * waiting list, check its holder in by name. Each is one SQL function (one round trip, one
 * transaction: sql/migrations/003_admin.sql) and acts only within an event the admin may see;
 * anything else is ADMIT_ADMIN_NOT_FOUND, exactly like a registration that does not exist. */
#ifndef ADMIT_ADMIN_ACTIONS_H
#define ADMIT_ADMIN_ACTIONS_H

#include <stdbool.h>

#include "admit/core/db.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"

enum admit_admin_outcome {
    ADMIT_ADMIN_DONE,               /* cancelled, reissued, promoted, checked in */
    ADMIT_ADMIN_NOT_FOUND,          /* no such registration (or list) in an event of this admin */
    ADMIT_ADMIN_ALREADY_CANCELLED,  /* cancel: nothing to do */
    ADMIT_ADMIN_IS_CANCELLED,       /* reissue, check in: the registration is cancelled */
    ADMIT_ADMIN_REISSUE_LIMIT,      /* reissue: the counter is exhausted */
    ADMIT_ADMIN_NOT_WAITLISTED,     /* promote: not on the waiting list */
    ADMIT_ADMIN_FULL,               /* promote: no free seat (raise the capacity first) */
    ADMIT_ADMIN_ALREADY_CHECKED_IN, /* check in: first_at and first_gate say when and where */
    ADMIT_ADMIN_NOT_ON_LIST,        /* check in: not registered for this list (force to admit) */
    ADMIT_ADMIN_IS_WAITLISTED,      /* check in: no seat yet */
};

struct admit_admin_result {
    enum admit_admin_outcome outcome;
    int promoted_id;              /* cancel: who got the seat, 0 if nobody */
    int reissue;                  /* reissue: the new counter */
    char token[ADMIT_TOKEN_SIZE]; /* reissue: the new access token */
    char first_at[40];            /* check in: when they were first admitted (ISO 8601) */
    char first_gate[101];         /* check in: where */
};

/* Each fills *out and returns ADMIT_OK, or a database error as admit_db_query (nothing done).
 * admin_id: the admin acting; slug: the event in the URL; registration_id: the attendee. */
enum admit_rc admit_admin_cancel(struct admit_db *db, int admin_id, const char *slug,
                                 int registration_id,
                                 struct admit_admin_result *out) ADMIT_MUST_CHECK;
/* Raises the reissue counter (the old QR code becomes invalid everywhere) and replaces the
 * access token (the old ticket link stops working). */
enum admit_rc admit_admin_reissue(struct admit_db *db, int admin_id, const char *slug,
                                  int registration_id,
                                  struct admit_admin_result *out) ADMIT_MUST_CHECK;
enum admit_rc admit_admin_promote(struct admit_db *db, int admin_id, const char *slug,
                                  int registration_id,
                                  struct admit_admin_result *out) ADMIT_MUST_CHECK;
/* Checks the attendee in on list_id (a scan of source "manual" by this admin, and the
 * admission: the first accepted entry wins). force admits someone who is not on the list, and
 * flags the scan for review. */
enum admit_rc admit_admin_checkin(struct admit_db *db, int admin_id, const char *slug,
                                  int registration_id, int list_id, bool force,
                                  struct admit_admin_result *out) ADMIT_MUST_CHECK;

/* A short English sentence for an outcome, for the page that reports it. */
const char *admit_admin_outcome_message(enum admit_admin_outcome outcome);

#endif
