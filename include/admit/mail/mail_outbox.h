/* The outbox in PostgreSQL (sql/migrations/004_email.sql), as the mailer and the "send my ticket
 * again" page use it: each function is one round trip (one SQL function). */
#ifndef ADMIT_MAIL_OUTBOX_H
#define ADMIT_MAIL_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"

/* One message claimed for sending. */
struct admit_mail_claim {
    long long id;
    int attempt;     /* 1 for the first; pass it back to admit_mail_finish */
    json_t *payload; /* owned: json_decref it (see admit_mail_payload in the migration) */
};

/* Claims the next message due (or one whose previous sender's lease ran out), marking it
 * 'sending' for lease_seconds; committed when this returns. *found is 0 when nothing is due
 * (out is then zeroed). ADMIT_ERR_DB_UNAVAILABLE / ADMIT_ERR_DB on database failure;
 * ADMIT_ERR_INVALID when the payload is not JSON (a bug). */
enum admit_rc admit_mail_claim(struct admit_db *db, unsigned lease_seconds,
                               struct admit_mail_claim *out, int *found) ADMIT_MUST_CHECK;

enum admit_mail_outcome {
    ADMIT_MAIL_SENT,
    ADMIT_MAIL_FAILED,     /* refused for good: reason is the server's reply or why */
    ADMIT_MAIL_SUPERSEDED, /* not sent: a later message tells the news */
    ADMIT_MAIL_RETRY,      /* back to pending, after an exponential back-off */
};

/* Back-off bounds for ADMIT_MAIL_RETRY: min_seconds after the first attempt, doubling per
 * attempt, never above max_seconds (each +-25% at random). */
struct admit_mail_backoff {
    unsigned min_seconds;
    unsigned max_seconds;
};

/* Records how attempt `attempt` of message id ended. *recorded is 0 when the message had
 * already been taken over by another mailer after this one's lease ran out (nothing changed;
 * except for SENT, which is recorded in any case). reason may be NULL. */
enum admit_rc admit_mail_finish(struct admit_db *db, long long id, int attempt,
                                enum admit_mail_outcome outcome, const char *reason,
                                const struct admit_mail_backoff *backoff,
                                int *recorded) ADMIT_MUST_CHECK;

/* The QR code of the ticket a payload is about, as PNG, appended to png: the image cached in
 * ticket_images for the ticket's current version when the payload has it, else rendered with
 * key (the same image admitd renders) and stored for the web pages too. ADMIT_ERR_INVALID for a
 * payload without registration; rendering and database errors as admit_ticket_image_*. */
enum admit_rc admit_mail_ticket_png(struct admit_db *db, const struct admit_signing_key *key,
                                    const json_t *payload, struct admit_buf *png) ADMIT_MUST_CHECK;

/* The PDF ticket of the registration a payload is about (admit/print/ticket_pdf.h, signed with
 * key), appended to pdf when its event attaches it to the messages that carry a ticket (the
 * organisers' setting, events.attach_pdf_ticket); nothing appended when it does not, when the
 * event is gone or when the registration is no longer confirmed. ADMIT_ERR_INVALID for a
 * payload without registration or token; database errors as admit_db_query; ADMIT_ERR_TOO_LARGE
 * when pdf cannot hold it. */
enum admit_rc admit_mail_ticket_pdf(struct admit_db *db, const struct admit_signing_key *key,
                                    const json_t *payload, struct admit_buf *pdf) ADMIT_MUST_CHECK;

/* The certificate of attendance of the registration a payload is about, as PDF
 * (admit/print/certificates.h, signed with key, verify_url printed on it), appended to pdf;
 * *given false (nothing appended) when the person has none now (anonymised, or their admissions
 * gone). ADMIT_ERR_INVALID for a payload without token; ADMIT_ERR_NOT_FOUND when the
 * registration is gone; other errors as admit_certificate_make. */
enum admit_rc admit_mail_certificate_pdf(struct admit_db *db, const struct admit_signing_key *key,
                                         const char *verify_url, const json_t *payload,
                                         struct admit_buf *pdf, bool *given) ADMIT_MUST_CHECK;

#endif
