/* Editing a registration: by its attendee from the ticket page (until the event's edit
 * deadline) and by its organisers from the admin area (at any time), with the registration
 * form's fields and validators (admit_registration_fields). Each action is one SQL function,
 * one round trip, one transaction (sql/migrations/013_edit.sql): the edit with its change-log
 * entry, its summary email and, for a new address, the confirmation link sent to that address;
 * following the link applies the address. A form carries the registration's version: an edit
 * of a registration changed since the form was shown is refused whole (ADMIT_EDIT_STALE). */
#ifndef ADMIT_EDIT_H
#define ADMIT_EDIT_H

#include <stdbool.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"
#include "admit/register/form.h"
#include "admit/register/registration.h"

/* Who edits which registration: the attendee (token set, admin_id 0) or an organiser
 * (admin_id, slug and registration_id set; only within the events they may see). */
struct admit_edit_who {
    const char *token;
    int admin_id;
    const char *slug;
    int registration_id;
};

/* The edit form's document (sql/queries/edit_form.sql) in *out, owned by the caller: "values"
 * (the stored fields), "version", "list_ids", "pending_email" (an address waiting for its
 * confirmation, or null), "edit_until" and "edit_closed" (the attendee's deadline), "event"
 * (admit_event_json) and, for an organiser, "changes" (the change log, newest first).
 * ADMIT_ERR_NOT_FOUND when there is no such registration for who (a malformed token
 * included); otherwise as admit_db_query_json. */
enum admit_rc admit_edit_form_load(struct admit_db *db, const struct admit_edit_who *who,
                                   json_t **out) ADMIT_MUST_CHECK;

/* A validated edit: the registration's details and the version the form showed. */
struct admit_edit {
    struct admit_registration details; /* form_nonce, source unused */
    int version;
};

/* Reads a submitted edit form from v: the fields and lists as the registration form reads them
 * (admit_registration_read_details) and "version" (a positive integer; anything else means the
 * page is not ours: an error on "version"). Fills *out, pointing into v (which must outlive
 * it), and returns the number of errors added to errs (0: valid). */
size_t admit_edit_read(struct admit_form_values *v, struct admit_edit *out,
                       struct admit_form_errors *errs);

enum admit_edit_outcome {
    ADMIT_EDIT_SAVED,     /* changed: see changes and email_pending */
    ADMIT_EDIT_UNCHANGED, /* the form held what is stored: nothing recorded */
    ADMIT_EDIT_STALE,     /* changed by someone else since the form was shown: nothing saved */
    ADMIT_EDIT_CLOSED,    /* the attendee's deadline has passed */
    ADMIT_EDIT_CANCELLED, /* a cancelled registration is not edited */
    ADMIT_EDIT_ERASED,    /* an erased registration is not given personal data again */
    ADMIT_EDIT_BAD_LIST,  /* a chosen list is not one of this event's */
    ADMIT_EDIT_NO_LIST,   /* the event has lists and none was chosen */
    ADMIT_EDIT_NOT_FOUND,
};

struct admit_edit_result {
    enum admit_edit_outcome outcome;
    int registration_id;
    char token[ADMIT_TOKEN_SIZE]; /* the access token (for the attendee's redirect) */
    int version;                  /* the version now */
    bool email_pending;           /* SAVED: a confirmation link went to the new address */
    struct admit_error error;     /* BAD_LIST, NO_LIST: the field and its message */
};

/* Saves in for who: one transaction (see the top of this file). A new address is never refused
 * here, even one another registration of the event holds (that would tell a ticket holder which
 * addresses are registered): its confirmation is (ADMIT_EMAIL_TAKEN). ADMIT_OK with the
 * outcome in *out, or a database error as admit_db_query (nothing saved). */
enum admit_rc admit_edit_save(struct admit_db *db, const struct admit_edit_who *who,
                              const struct admit_edit *in,
                              struct admit_edit_result *out) ADMIT_MUST_CHECK;

enum admit_email_confirm_outcome {
    ADMIT_EMAIL_CONFIRMED,  /* the registration's address is the new one now */
    ADMIT_EMAIL_USED,       /* the link was followed before */
    ADMIT_EMAIL_EXPIRED,    /* too old (48 hours) */
    ADMIT_EMAIL_SUPERSEDED, /* a newer address was asked for since */
    ADMIT_EMAIL_CANCELLED,  /* the registration is cancelled */
    ADMIT_EMAIL_TAKEN,      /* another live registration of the event has the address now */
    ADMIT_EMAIL_NOT_FOUND,  /* no such link (a malformed token included) */
};

struct admit_email_confirm_result {
    enum admit_email_confirm_outcome outcome;
    char token[ADMIT_TOKEN_SIZE]; /* the registration's access token ("" for NOT_FOUND) */
};

/* Follows the confirmation link confirm_token: works once. ADMIT_OK with the outcome in *out,
 * or a database error as admit_db_query. */
enum admit_rc admit_edit_confirm_email(struct admit_db *db, const char *confirm_token,
                                       struct admit_email_confirm_result *out) ADMIT_MUST_CHECK;

/* What a person is told for an outcome that is not a success, in their words. */
const char *admit_email_confirm_message(enum admit_email_confirm_outcome outcome);

#endif
