/* /tickets/resend: an attendee asks for the links to all their tickets again. */
#ifndef ADMIT_REGISTER_RESEND_H
#define ADMIT_REGISTER_RESEND_H

#include "admit/core/db.h"
#include "admit/core/rc.h"

enum admit_resend_outcome {
    ADMIT_RESEND_QUEUED,    /* a message listing the address's tickets is on its way */
    ADMIT_RESEND_NONE,      /* the address holds no live registration: nothing is sent */
    ADMIT_RESEND_THROTTLED, /* asked too often within the hour: nothing is sent */
};

/* "Send my ticket again" for email, asked from client (the requester's address, for the
 * per-client limit). At most per_address requests per address and per_client per client are
 * honoured within an hour. Callers must answer the same whatever *out is: it says whether the
 * address is registered. */
enum admit_rc admit_resend_request(struct admit_db *db, const char *email, const char *client,
                                   unsigned per_address, unsigned per_client,
                                   enum admit_resend_outcome *out) ADMIT_MUST_CHECK;

#endif
