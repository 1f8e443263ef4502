/* What organisers do to one registration: cancel it, reissue its ticket, move it from the
 * waiting list, check its holder in by name. Each is one SQL function (one round trip, one
 * transaction: admit_admin_act in sql/migrations/011_admin_safe_actions.sql, which calls those
 * of 003_admin.sql) and acts only within an event the admin may see; anything else is
 * ADMIT_ADMIN_NOT_FOUND, exactly like a registration that does not exist.
 *
 * Each action carries the key of the confirmation form it came from: the first submission of a
 * key acts, any later one (a double click, a reload, two at once) acts no more and gets the
 * first one's outcome, with replayed set. */
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
    ADMIT_ADMIN_IS_WAITLISTED,      /* reissue, check in: no seat yet */
};

enum admit_admin_action_kind {
    ADMIT_ADMIN_CANCEL,
    ADMIT_ADMIN_REISSUE, /* the old QR code and ticket link stop working everywhere */
    ADMIT_ADMIN_PROMOTE, /* into a free seat only: capacity is never exceeded */
    ADMIT_ADMIN_CHECKIN, /* a scan of source "manual" by this admin, and the admission */
};

struct admit_admin_action {
    enum admit_admin_action_kind kind;
    const char *key; /* the confirmation form's key: a token (admit_token_valid) */
    int list_id;     /* check in: the list */
    bool force;      /* check in: admit someone not on the list (the scan is flagged) */
};

struct admit_admin_result {
    enum admit_admin_outcome outcome;
    int promoted_id; /* cancel: who got the seat, 0 if nobody */
    bool replayed;   /* an earlier submission of the same key did it; nothing was done now */
};

/* Runs action for registration_id of the event slug as admin_id, once per action->key. Fills
 * *out and returns ADMIT_OK (the outcome says whether it was done or why not; a refusal leaves
 * the key unused); ADMIT_ERR_INVALID when the key is not a token; ADMIT_ERR_CONFLICT when the key
 * was used for another action or attendee (nothing done); database errors as admit_db_query
 * (nothing done). */
enum admit_rc admit_admin_act(struct admit_db *db, int admin_id, const char *slug,
                              int registration_id, const struct admit_admin_action *action,
                              struct admit_admin_result *out) ADMIT_MUST_CHECK;

/* The outcome that text names, as admit_admin_act's SQL function and
 * admit_admin_action_refusal say it, for an action of kind (ADMIT_ADMIN_NOT_FOUND when unknown). */
enum admit_admin_outcome admit_admin_outcome_of(const char *text,
                                                enum admit_admin_action_kind kind);

/* The action's name in URLs and in admin_actions ("cancel", ...). */
const char *admit_admin_action_name(enum admit_admin_action_kind kind);

/* A short English sentence for an outcome, for the page that reports it. */
const char *admit_admin_outcome_message(enum admit_admin_outcome outcome);

#endif
