/* The PDF ticket (admit/print/ticket_pdf.h): the ticket page's data, its text signed afresh
 * (the same text as the page's QR code: signatures are deterministic), one page drawn. */
#include <string.h>

#include "admit/core/ticket.h"
#include "admit/core/token.h"
#include "admit/print/ticket_pdf.h"
#include "print_internal.h"

static uint32_t number(json_t *page, const char *key)
{
    return (uint32_t)json_integer_value(json_object_get(page, key));
}

enum admit_rc admit_ticket_pdf_make(struct admit_db *db, const char *token,
                                    const struct admit_signing_key *key, struct admit_buf *pdf,
                                    bool *confirmed)
{
    json_t *page = NULL;
    char text[ADMIT_TICKET_TEXT_MAX];
    const char *params[] = {token};
    *confirmed = false;
    if (!admit_token_valid(token))
        return ADMIT_ERR_NOT_FOUND;
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_TICKET_PAGE, 1, params, &page);
    if (rc != ADMIT_OK)
        return rc;
    const char *status = json_string_value(json_object_get(page, "status"));
    *confirmed = status != NULL && strcmp(status, "confirmed") == 0;
    if (*confirmed)
        rc = admit_ticket_sign(key, number(page, "event_id"), number(page, "registration_id"),
                               (uint16_t)number(page, "reissue"), text);
    if (*confirmed && rc == ADMIT_OK)
        rc = print_ticket_pdf(page, text, pdf);
    json_decref(page);
    return rc;
}
