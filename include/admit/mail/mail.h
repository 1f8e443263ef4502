/* The messages of the outbox (sql/migrations/004_email.sql): from the JSON that admit_mail_claim
 * returns to a complete Internet message, ready for SMTP.
 *
 * Kinds and what they carry:
 *     confirmation, promoted, reissued   ticket.txt/.html, the QR code inline, event.ics (PUBLISH)
 *     waitlisted                         waitlisted.txt/.html
 *     cancelled                          cancelled.txt/.html, event.ics (CANCEL: out of calendars)
 *     certificate                        certificate.txt/.html, the certificate of attendance
 *                                        attached as certificate.pdf (required)
 *     resend                             resend.txt/.html: links to every live ticket of the
 * address all from templates/email/ (the subject line too: subject.txt), escaped by the template
 * engine by extension. Structure, outermost first (layers without content are left out):
 *     multipart/mixed
 *       multipart/related
 *         multipart/alternative { text/plain, text/html }   (quoted-printable)
 *         image/png, inline, Content-ID <qr-UUID@admit>       (base64)
 *       application/pdf; attachment ticket.pdf                (base64; when the event attaches
 *                                                              the PDF ticket:
 * events.attach_pdf_ticket) text/calendar; method=...; attachment event.ics       (base64) Headers:
 * Date (the first attempt), From, To, Reply-To (the event's contact, when it is a plain address),
 * Subject, Message-ID <UUID@domain of From>, MIME-Version, Auto-Submitted. The same outbox row
 * gives the same message on every attempt (boundaries come from its UUID too). */
#ifndef ADMIT_MAIL_H
#define ADMIT_MAIL_H

#include <stddef.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "admit/core/tmpl.h"

/* Largest message composed (a QR PNG is a few KB, a PDF ticket some tens of KB). */
#define ADMIT_MAIL_MAX (4u << 20)

struct admit_mail_sender {
    const char *from_name;  /* display name, "" for none */
    const char *from_addr;  /* an address admit sends from (admit_email_problem) */
    const char *public_url; /* "https://tickets.example.org", no trailing slash */
    const struct admit_tmpl_set *templates;
};

/* The templates admit_mail_compose renders, NULL-terminated: the mailer checks at start that its
 * set has them all. */
extern const char *const admit_mail_templates[];

/* When a message about a registration was overtaken before it went out (the registration is no
 * longer in the state the message announces: a confirmation of a registration cancelled since),
 * a short reason for the record; NULL when it must go out. A later message tells the news. */
const char *admit_mail_superseded(const json_t *payload);

/* 1 when the message carries the ticket's QR code (confirmation, promoted, reissued). */
int admit_mail_needs_qr(const json_t *payload);

/* 1 when the message is a certificate of attendance (its PDF attached: admit_mail_certificate_pdf).
 */
int admit_mail_is_certificate(const json_t *payload);

/* Composes the message of payload (as admit_mail_claim returns it) into out: headers and body,
 * CRLF line ends, no line over 998 characters. png (png_len bytes) is the QR code of the
 * ticket's current version, required when admit_mail_needs_qr. The caller keeps everything.
 * ADMIT_ERR_INVALID with err (admit/core/error.h) saying why when the message cannot be made: an
 * address that is not plain ASCII, a payload without a needed field, a template that fails;
 * ADMIT_ERR_TOO_LARGE past ADMIT_MAIL_MAX or out->max. On error out is left as it was. */
enum admit_rc admit_mail_compose(const struct admit_mail_sender *sender, const json_t *payload,
                                 const void *png, size_t png_len, struct admit_buf *out,
                                 struct admit_error *err) ADMIT_MUST_CHECK;

/* admit_mail_compose with a PDF (pdf, pdf_len bytes) attached as application/pdf: the PDF ticket
 * (admit_mail_ticket_pdf) as "ticket.pdf" to a message that carries the ticket, the certificate
 * (admit_mail_certificate_pdf) as "certificate.pdf" to a certificate, which cannot go without it
 * (ADMIT_ERR_INVALID); pdf NULL or pdf_len 0: none (admit_mail_compose). Other messages ignore
 * it. The caller keeps everything. */
enum admit_rc admit_mail_compose_with_pdf(const struct admit_mail_sender *sender,
                                          const json_t *payload, const void *png, size_t png_len,
                                          const void *pdf, size_t pdf_len, struct admit_buf *out,
                                          struct admit_error *err) ADMIT_MUST_CHECK;

#endif
