/* /tickets/resend: an attendee asks for the links to all their tickets again. */
#ifndef ADMIT_REGISTER_RESEND_H
#define ADMIT_REGISTER_RESEND_H

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "admit/register/form.h"

/* Requests honoured per hour: per address (each may send one message), and per client address
 * (behind a reverse proxy every client shares the proxy's address: keep this generous). The
 * resend form and the registration form's answer to an address already registered draw on the
 * same allowance. */
#define ADMIT_RESEND_PER_ADDRESS 3
#define ADMIT_RESEND_PER_CLIENT  60

/* Longest address the form takes, in characters. */
#define ADMIT_RESEND_EMAIL_MAX 254

/* The address typed into the form ("email", normalised as admit/register/form.h says) into
 * *email: pointing into v, "" when none was sent; shown again on the page either way.
 * ADMIT_OK when it is an address; else ADMIT_ERR_INVALID with err (field "email") saying what to
 * correct. */
enum admit_rc admit_resend_read(struct admit_form_values *v, const char **email,
                                struct admit_error *err) ADMIT_MUST_CHECK;

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
