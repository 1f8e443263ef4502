/* The door review: the scans flagged for the organisers (an entry a door let through while
 * offline that the server refuses, an entry displaced by an earlier offline one, a check-in an
 * organiser forced), each explained, and marked reviewed with a note that records who and when
 * (sql/migrations/011_admin_safe_actions.sql). */
#ifndef ADMIT_ADMIN_REVIEW_H
#define ADMIT_ADMIN_REVIEW_H

#include <stdbool.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

/* The most characters a review note may have. */
#define ADMIT_REVIEW_NOTE_MAX 1000

/* The flagged scans of the event slug, newest first (admin_flagged.sql), only the open (not
 * reviewed) ones when open_only; each case gets "why", the words for why the server refuses
 * the scan ("the registration had been cancelled"; "" for a forced check-in). *out is the
 * caller's. ADMIT_ERR_NOT_FOUND for an event the admin may not see; errors as
 * admit_db_query_json. */
enum admit_rc admit_admin_review_view(struct admit_db *db, int admin_id, const char *slug,
                                      bool open_only, json_t **out) ADMIT_MUST_CHECK;

enum admit_review_outcome {
    ADMIT_REVIEW_DONE,      /* recorded now */
    ADMIT_REVIEW_ALREADY,   /* reviewed before: the first review stands */
    ADMIT_REVIEW_NOT_FOUND, /* no such flagged scan in an event of this admin */
};

/* Marks the flagged scan scan_id of the event slug reviewed by admin_id with note (white space
 * around it removed). ADMIT_ERR_INVALID with a sentence for a person in err when the note is
 * empty, too long or not text (nothing recorded); errors as admit_db_query. */
enum admit_rc admit_admin_review_scan(struct admit_db *db, int admin_id, const char *slug,
                                      long scan_id, const char *note,
                                      enum admit_review_outcome *out,
                                      struct admit_error *err) ADMIT_MUST_CHECK;

#endif
