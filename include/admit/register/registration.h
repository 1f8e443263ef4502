/* Registrations: the form attendees fill in, and the business actions on it (register, cancel),
 * each one round trip to PostgreSQL (sql/migrations: admit_register, admit_cancel). */
#ifndef ADMIT_REGISTRATION_H
#define ADMIT_REGISTRATION_H

#include <stddef.h>

#include "admit/core/db.h"
#include "admit/register/event.h"
#include "admit/register/form.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"

/* The registration form's fields, in the order they appear; each with its validator. The
 * check-in lists ("lists", several values) and the form nonce are checked separately. */
extern const struct admit_form_field admit_registration_fields[];
extern const size_t admit_registration_field_count;

/* Organisation types, as the funding-body report groups attendees. */
struct admit_organisation_type {
    const char *value; /* stored: "industry", "research", ... */
    const char *label; /* shown: "Industry (company)" */
};
extern const struct admit_organisation_type admit_organisation_types[];
extern const size_t admit_organisation_type_count;

/* A validated registration, ready to submit. Strings belong to the caller. */
struct admit_registration {
    const char *form_nonce; /* from the form: makes a resubmission find the same registration */
    const char *given_name, *family_name, *email, *organisation, *organisation_type, *country;
    const char *dietary, *accessibility;
    int list_ids[ADMIT_EVENT_MAX_LISTS];
    size_t nlists;
    const char *source; /* "web", "import" or "admin" */
    const char
        *answers; /* the questions' answers as JSON (admit/register/questions.h); NULL: none */
};

/* Validates a submitted form: every field of admit_registration_fields through get(ctx, name),
 * the consent box, the form nonce, and the chosen lists (list_values, nlist_values decimal ids;
 * at least one is required when require_list). Fills *out (pointing into the submitted values,
 * which must outlive it) and returns the number of errors added to errs (0: valid). */
size_t admit_registration_check(admit_form_lookup get, void *ctx, const char *const *list_values,
                                size_t nlist_values, int require_list,
                                struct admit_registration *out, struct admit_form_errors *errs);

/* The submitted registration form of the web page: admit_registration_check over v (values
 * normalised as admit/register/form.h says), with the chosen lists as sent ("lists", several
 * values; more than ADMIT_EVENT_MAX_LISTS of them is an error on "lists") and none required
 * here (the event decides: ADMIT_REG_NO_LIST). Fills *out, pointing into v (which must outlive
 * it), and returns the number of errors added to errs (0: valid). */
size_t admit_registration_read(struct admit_form_values *v, struct admit_registration *out,
                               struct admit_form_errors *errs);

/* The registration's details without consent and nonce, as the edit form sends them
 * (admit/register/edit.h): admit_registration_fields and the lists, read and checked exactly as
 * admit_registration_read does. Fills *out (pointing into v) and returns the number of errors
 * added to errs (0: valid). */
size_t admit_registration_read_details(struct admit_form_values *v, struct admit_registration *out,
                                       struct admit_form_errors *errs);

/* Parses the chosen lists (decimal ids, duplicates dropped) into out->list_ids and
 * out->nlists; an id that is not one, or more than ADMIT_EVENT_MAX_LISTS distinct ones, adds
 * one error on "lists". Returns the number of errors added. */
size_t admit_registration_lists_check(const char *const *list_values, size_t nlist_values,
                                      struct admit_registration *out,
                                      struct admit_form_errors *errs);

enum admit_registration_outcome {
    ADMIT_REG_CREATED,     /* new registration (confirmed or waitlisted: see status) */
    ADMIT_REG_DUPLICATE,   /* the same form was submitted before: that registration */
    ADMIT_REG_EMAIL_TAKEN, /* this email already holds a live registration for the event */
    ADMIT_REG_NOT_FOUND,   /* no such event */
    ADMIT_REG_NOT_OPEN,    /* registration has not opened yet */
    ADMIT_REG_CLOSED,      /* registration has closed */
    ADMIT_REG_FULL,        /* no seat left and no waiting list */
    ADMIT_REG_BAD_LIST,    /* a chosen list is not one of this event's */
    ADMIT_REG_NO_LIST,     /* the event has lists and none was chosen */
};

struct admit_registration_result {
    enum admit_registration_outcome outcome;
    int registration_id;          /* for CREATED and DUPLICATE */
    char token[ADMIT_TOKEN_SIZE]; /* access token, for CREATED and DUPLICATE */
    int waitlisted;               /* for CREATED and DUPLICATE */
    struct admit_error error;     /* BAD_LIST, NO_LIST: what to show next to the field "lists" */
};

/* Registers in for the event slug: one transaction; capacity is exact whatever the
 * concurrency (waiting list past it). ADMIT_ERR_DB_UNAVAILABLE / ADMIT_ERR_DB on database
 * failure (nothing stored); otherwise ADMIT_OK with the outcome in *out. */
enum admit_rc admit_registration_submit(struct admit_db *db, const char *slug,
                                        const struct admit_registration *in,
                                        struct admit_registration_result *out) ADMIT_MUST_CHECK;

enum admit_cancel_outcome {
    ADMIT_CANCEL_DONE,
    ADMIT_CANCEL_ALREADY,
    ADMIT_CANCEL_NOT_FOUND,
};

struct admit_cancel_result {
    enum admit_cancel_outcome outcome;
    int registration_id;
    int promoted_id; /* the registration promoted from the waiting list, 0 if none */
};

/* Cancels the registration behind token (revoking its ticket); a freed seat goes to the first
 * person on the waiting list. Idempotent. */
enum admit_rc admit_registration_cancel(struct admit_db *db, const char *token,
                                        struct admit_cancel_result *out) ADMIT_MUST_CHECK;

#endif
