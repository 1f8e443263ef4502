/* Organisers managing organisers from /admin: the list, adding one (with a password link
 * instead of a password), removing one, and one-time password links.
 *
 * Only an all-events organiser (the "actor") manages organisers; every function that acts
 * takes the actor's id and the SQL function checks it again (sql/migrations/012_*.sql), so a
 * limited organiser gets ADMIT_ERR_PERMISSION whatever the page showed them.
 *
 * A password link is a fresh 128-bit token (admit/core/token.h) shown once to the actor, who
 * passes it on; the database keeps its SHA-256. It works once, for
 * ADMIT_ADMIN_LINK_HOURS hours, and only the newest link of an organiser works. Setting a
 * password through it hashes it as admit_admin_set_password does (argon2id) and ends the
 * organiser's sessions. */
#ifndef ADMIT_ADMIN_ORGANISERS_H
#define ADMIT_ADMIN_ORGANISERS_H

#include <stddef.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"
#include "admit/register/admin.h"

#define ADMIT_ADMIN_LINK_HOURS 24

/* The organisers' page as JSON ({organisers: [{id, name, email, all_events, me, events: [{slug,
 * name}], sessions, created}] by email, events: [{slug, name}], every event}) into *out (the
 * caller owns it). ADMIT_ERR_PERMISSION unless actor
 * manages organisers; database errors as admit_db_query_json. */
enum admit_rc admit_admin_organisers(struct admit_db *db, int actor, json_t **out) ADMIT_MUST_CHECK;

/* Longest organiser name, in characters. */
#define ADMIT_ADMIN_NAME_MAX 100

/* Adds the organiser called name (one line of text that shows something, at most
 * ADMIT_ADMIN_NAME_MAX characters) with the email address email, who may see the events of slugs (n
 * of them; 0: every event), with a password nobody knows, and makes their first password link,
 * whose token goes into token (show it once; it is wiped on every failure). *admin_id is the new
 * organiser's id. ADMIT_ERR_INVALID (bad name, bad email, unknown slug: err says which, err->field
 * "name", "email" or "events"), ADMIT_ERR_EXISTS (the email is taken, err->field "email"),
 * ADMIT_ERR_PERMISSION (actor does not manage organisers); database errors as admit_db_query. */
enum admit_rc admit_admin_invite(struct admit_db *db, int actor, const char *name,
                                 const char *email, const char *const *slugs, size_t n,
                                 char token[ADMIT_TOKEN_SIZE], int *admin_id,
                                 struct admit_error *err) ADMIT_MUST_CHECK;

/* A new password link for the organiser admin_id, made by actor: its token into token (show
 * it once), the organiser's email into email. Earlier unused links of theirs stop working.
 * ADMIT_ERR_NOT_FOUND (no such organiser), ADMIT_ERR_PERMISSION; database errors as
 * admit_db_query. token is wiped on every failure. */
enum admit_rc admit_admin_link_create(struct admit_db *db, int actor, int admin_id,
                                      char token[ADMIT_TOKEN_SIZE],
                                      char email[ADMIT_ADMIN_EMAIL_MAX + 1]) ADMIT_MUST_CHECK;

enum admit_admin_link_state {
    ADMIT_ADMIN_LINK_OK,      /* works (status) / the password is set (use) */
    ADMIT_ADMIN_LINK_USED,    /* used already */
    ADMIT_ADMIN_LINK_EXPIRED, /* older than ADMIT_ADMIN_LINK_HOURS, or replaced by a newer link */
    ADMIT_ADMIN_LINK_UNKNOWN, /* no such link (or a token of the wrong shape) */
};

/* What the link token is, into *state, and whose (email, "" when unknown). Database errors as
 * admit_db_query. */
enum admit_rc admit_admin_link_status(struct admit_db *db, const char *token,
                                      enum admit_admin_link_state *state,
                                      char email[ADMIT_ADMIN_EMAIL_MAX + 1]) ADMIT_MUST_CHECK;

/* Sets the password through the link token, once: *state ADMIT_ADMIN_LINK_OK when set (the
 * link is used up and the organiser's sessions end), else why not. ADMIT_ERR_INVALID for a
 * password admit_admin_password_problem refuses (err says why, field "password"; nothing
 * changes). The caller wipes password. */
enum admit_rc admit_admin_link_use(struct admit_db *db, const char *token, const char *password,
                                   enum admit_admin_link_state *state,
                                   char email[ADMIT_ADMIN_EMAIL_MAX + 1],
                                   struct admit_error *err) ADMIT_MUST_CHECK;

/* Removes the organiser admin_id (sessions, event grants and links go with them), for actor:
 * ADMIT_OK with their email in email; ADMIT_ERR_STATE when admin_id is the actor (nobody
 * removes themselves), ADMIT_ERR_NOT_FOUND, ADMIT_ERR_PERMISSION; database errors as
 * admit_db_query. */
enum admit_rc admit_admin_remove_as(struct admit_db *db, int actor, int admin_id,
                                    char email[ADMIT_ADMIN_EMAIL_MAX + 1]) ADMIT_MUST_CHECK;

#endif
