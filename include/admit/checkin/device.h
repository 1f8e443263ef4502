/* Door devices (scanners) and their bearer tokens. A token (admit/token.h: 128 random bits) is
 * shown once, when the device is added; the database keeps only its SHA-256, so a copy of the
 * database lets nobody scan, and every API call finds its device by that hash (one indexed
 * lookup inside the call's SQL function). */
#ifndef ADMIT_DEVICE_H
#define ADMIT_DEVICE_H

#include <stddef.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"

/* The hash of a token as PostgreSQL's bytea text: "\x" and 64 lower-case hex digits, plus NUL. */
#define ADMIT_DEVICE_HASH_SIZE ADMIT_TOKEN_HASH_SIZE
/* Longest device name, in Unicode characters (the schema's bound). */
#define ADMIT_DEVICE_NAME_MAX 100

/* Writes the SHA-256 of token (any text) into out as bytea text ("\x..."). */
void admit_device_token_hash(const char *token, char out[ADMIT_DEVICE_HASH_SIZE]);

/* Reads an "Authorization" header value: "Bearer TOKEN" (scheme case-insensitive, one or more
 * spaces) where TOKEN has the shape of admit/token.h. Copies TOKEN into out and returns 1, or
 * returns 0 (out set to "") for NULL or anything else. */
int admit_device_bearer(const char *header, char out[ADMIT_TOKEN_SIZE]);

/* NULL when name is a valid device name (one line of 1 to ADMIT_DEVICE_NAME_MAX characters of
 * text as admit/text.h has it, showing something), else why not, for a person (static
 * storage). */
const char *admit_device_name_problem(const char *name);

enum admit_device_outcome {
    ADMIT_DEVICE_DONE,       /* added, or revoked */
    ADMIT_DEVICE_NO_EVENT,   /* add: no event has this slug */
    ADMIT_DEVICE_NAME_TAKEN, /* add: a working device of the event has this name */
    ADMIT_DEVICE_NOT_FOUND,  /* revoke: no working device of that name in that event */
};

/* Who acts on devices: ADMIT_DEVICE_OPERATOR, the operator at the shell (admit device ...),
 * has every event; an organiser (an admin id, admit/register/admin.h) only the events
 * admit_admin_may gives them: the others answer as an event that does not exist. */
#define ADMIT_DEVICE_OPERATOR 0

/* Adds a device called name to the event slug with a fresh token, written into token (show it
 * once; wipe it after), for admin_id (or ADMIT_DEVICE_OPERATOR). On ADMIT_OK, *outcome says
 * what happened (ADMIT_DEVICE_NO_EVENT also when admin_id may not manage the event) and *id is
 * the new device's id (0 unless added); token is wiped unless added. ADMIT_ERR_INVALID for a
 * bad name (nothing stored); database errors as admit_db_query. */
enum admit_rc admit_device_add_as(struct admit_db *db, int admin_id, const char *slug,
                                  const char *name, char token[ADMIT_TOKEN_SIZE], int *id,
                                  enum admit_device_outcome *outcome) ADMIT_MUST_CHECK;
/* admit_device_add_as for the operator. */
enum admit_rc admit_device_add(struct admit_db *db, const char *slug, const char *name,
                               char token[ADMIT_TOKEN_SIZE], int *id,
                               enum admit_device_outcome *outcome) ADMIT_MUST_CHECK;

/* Revokes a working device of the event slug, for admin_id (or ADMIT_DEVICE_OPERATOR): the
 * one called name, or when name is NULL the one whose id is device_id. Its token is refused
 * from now on. *outcome is ADMIT_DEVICE_DONE or ADMIT_DEVICE_NOT_FOUND (no such working
 * device, or an event admin_id may not manage); *id the device's id (0 if none). */
enum admit_rc admit_device_revoke_as(struct admit_db *db, int admin_id, const char *slug,
                                     const char *name, int device_id, int *id,
                                     enum admit_device_outcome *outcome) ADMIT_MUST_CHECK;
/* admit_device_revoke_as by name, for the operator. */
enum admit_rc admit_device_revoke(struct admit_db *db, const char *slug, const char *name, int *id,
                                  enum admit_device_outcome *outcome) ADMIT_MUST_CHECK;

/* The devices of the event slug as JSON text (an array of {id, name, created_at, revoked_at,
 * last_seen_at, scans}), newest first, into *json (the caller frees it). ADMIT_ERR_NOT_FOUND
 * when there is no such event. */
enum admit_rc admit_device_list(struct admit_db *db, const char *slug,
                                char **json) ADMIT_MUST_CHECK;

/* Appends to out the QR code of token (its text, as a phone camera or zbarcam reads it) as an
 * SVG document labelled "Device token QR code", for the page that shows the token once.
 * ADMIT_ERR_QR when it cannot be encoded, ADMIT_ERR_TOO_LARGE when out is too small. */
struct admit_buf;
enum admit_rc admit_device_token_qr_svg(const char *token, struct admit_buf *out) ADMIT_MUST_CHECK;

/* The organisers' devices page of the event slug for admin_id as JSON text ({event: {slug,
 * name}, devices: [as admit_device_list, plus created, revoked and last_seen in the event's
 * time zone and active]}) into *out (the caller owns it). ADMIT_ERR_NOT_FOUND when there is
 * no such event or admin_id may not see it; errors as admit_db_query_json. */
enum admit_rc admit_device_page(struct admit_db *db, int admin_id, const char *slug,
                                json_t **out) ADMIT_MUST_CHECK;

/* The device behind token_hash (admit_device_token_hash) as JSON text ({device, event, lists})
 * into *json (the caller frees it). ADMIT_ERR_NOT_FOUND when the token is unknown or revoked. */
enum admit_rc admit_device_whoami(struct admit_db *db, const char *token_hash,
                                  char **json) ADMIT_MUST_CHECK;

#endif
