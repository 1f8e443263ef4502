/* The ticket as a one-page A4 PDF (the ticket page's "PDF ticket"): the event, the person, the
 * ticket's QR code and the lists it admits to. */
#ifndef ADMIT_PRINT_TICKET_PDF_H
#define ADMIT_PRINT_TICKET_PDF_H

#include <stdbool.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"

/* Appends the PDF ticket of the registration with access token to pdf, signed with key, and sets
 * *confirmed; a registration that is not confirmed (waiting list, cancelled) has no ticket:
 * *confirmed false, nothing appended. ADMIT_ERR_NOT_FOUND for an unknown or malformed token;
 * database errors as admit_db_query_json; ADMIT_ERR_TOO_LARGE when pdf cannot hold it. */
enum admit_rc admit_ticket_pdf_make(struct admit_db *db, const char *token,
                                    const struct admit_signing_key *key, struct admit_buf *pdf,
                                    bool *confirmed) ADMIT_MUST_CHECK;

#endif
