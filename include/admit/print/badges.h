/* The badges of an event (or of one check-in list, or one attendee) as one PDF: read from the
 * database, each with its ticket's QR code signed afresh, written through a badge document
 * (admit/print/badge.h). Used by `admit print badges` and /admin's downloads: the same code. */
#ifndef ADMIT_PRINT_BADGES_H
#define ADMIT_PRINT_BADGES_H

#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/print/badge.h"

/* Which badges: slug required; list_name NULL for everyone; registration_id 0 for all of them;
 * admin_id 0 for no restriction (the shell), otherwise only an event that organiser may see. */
struct admit_badges_query {
    const char *slug;
    const char *list_name;
    int registration_id;
    int admin_id;
};

/* Writes the badges q selects, confirmed registrations only, in layout, signed with key, through
 * write(closure, ...). *count (when not NULL) is the number of badges. ADMIT_ERR_NOT_FOUND when
 * there is no such event or list for them (or, with a registration_id, no such confirmed
 * registration of the event): nothing is written then. Database errors as admit_db_query;
 * ADMIT_ERR_IO when the writer or cairo failed (the bytes written are not a whole PDF). err
 * says why in words. */
enum admit_rc admit_badges_write(struct admit_db *db, const struct admit_badges_query *q,
                                 const struct admit_signing_key *key,
                                 const struct admit_badge_layout *layout,
                                 const struct admit_badge_doc_options *options,
                                 admit_print_write_fn write, void *closure, size_t *count,
                                 struct admit_error *err) ADMIT_MUST_CHECK;

#endif
