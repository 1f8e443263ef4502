/* Certificates of attendance from the database: the PDF an attendee downloads from their ticket
 * page, and checking a certificate's QR text (/verify). The payload's format and signature:
 * admit/print/certificate.h. */
#ifndef ADMIT_PRINT_CERTIFICATES_H
#define ADMIT_PRINT_CERTIFICATES_H

#include <jansson.h>
#include <stdbool.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/print/certificate.h"

/* Why there is no certificate (ADMIT_CERTIFICATE_GIVEN: there is one). */
enum admit_certificate_refusal {
    ADMIT_CERTIFICATE_GIVEN = 0,
    ADMIT_CERTIFICATE_NOT_YET,      /* the event has not ended and they are not released */
    ADMIT_CERTIFICATE_NOT_ADMITTED, /* never admitted to any day or session */
    ADMIT_CERTIFICATE_TOO_MANY,     /* more than ADMIT_CERTIFICATE_LISTS_MAX lists */
};

/* The certificate of the registration with access token: on ADMIT_OK *page is what the
 * certificate_page query answers (the caller owns it: its "lists", "event", names, and
 * "certificate_state"), *refusal says whether there is a certificate, and when there is one its
 * PDF (A4, one page, the signed payload as a QR code and as text, verify_url printed beside it)
 * is appended to pdf. ADMIT_ERR_NOT_FOUND for an unknown (or malformed) token; database errors as
 * admit_db_query_json; ADMIT_ERR_TOO_LARGE when pdf cannot hold it; ADMIT_ERR_IO when cairo
 * failed. *page is NULL on every error. */
enum admit_rc admit_certificate_make(struct admit_db *db, const char *token,
                                     const struct admit_signing_key *key, const char *verify_url,
                                     struct admit_buf *pdf, enum admit_certificate_refusal *refusal,
                                     json_t **page) ADMIT_MUST_CHECK;

/* Checks len bytes of a certificate's text (as scanned: admit_ticket_normalize is applied to a
 * copy first) against ring. *error says whether it is valid; when it is, *facts (the caller
 * owns it) is what it refers to (the certificate_check query: the event, the person or null,
 * each list with "admitted"), or NULL when its event no longer exists. ADMIT_OK whenever the
 * answer is known, valid or not; database errors as admit_db_query_json. */
enum admit_rc admit_certificate_check(struct admit_db *db, const char *text, size_t len,
                                      const struct admit_keyring *ring,
                                      enum admit_certificate_error *error,
                                      json_t **facts) ADMIT_MUST_CHECK;

/* Releases the certificates of event slug now (released true), or leaves them until the event
 * ends (false). ADMIT_ERR_NOT_FOUND when there is no such event; database errors as
 * admit_db_query. */
enum admit_rc admit_certificates_release(struct admit_db *db, const char *slug,
                                         bool released) ADMIT_MUST_CHECK;

/* What admit_certificates_send did. */
struct admit_certificates_sent {
    bool not_yet; /* the event has not ended and its certificates are not released: none sent */
    long queued;  /* messages queued now */
    long already; /* people sent theirs before (not again) */
};

/* Emails the certificates of event slug through the outbox (the mailer attaches each PDF): a
 * message to every person admitted at least once who was not sent theirs before, as admin
 * admin_id (0: any event, the command line), in one transaction (admit_certificates_send in
 * sql/migrations/016_ticket_pdf_mail.sql). ADMIT_ERR_NOT_FOUND when there is no such event for the
 * admin; database errors as admit_db_query. */
enum admit_rc admit_certificates_send(struct admit_db *db, int admin_id, const char *slug,
                                      struct admit_certificates_sent *out) ADMIT_MUST_CHECK;

#endif
