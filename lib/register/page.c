#include "admit/register/page.h"

#include <string.h>

#include "admit/core/token.h"
#include "admit/register/ticket_image.h"

enum admit_rc admit_page_upcoming(struct admit_db *db, json_t **out)
{
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_EVENTS_UPCOMING, 0, NULL, out);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        *out = json_array();
        rc = ADMIT_OK;
    }
    return rc;
}

enum admit_rc admit_page_event(struct admit_db *db, const char *slug, json_t **out)
{
    const char *params[1] = {slug};
    return admit_db_query_json(db, ADMIT_Q_EVENT_PAGE, 1, params, out);
}

static enum admit_ticket_status status_of(const json_t *ticket)
{
    const char *s = json_string_value(json_object_get(ticket, "status"));
    if (s != NULL && strcmp(s, "confirmed") == 0)
        return ADMIT_TICKET_CONFIRMED;
    if (s != NULL && strcmp(s, "waitlisted") == 0)
        return ADMIT_TICKET_WAITLISTED;
    return ADMIT_TICKET_CANCELLED;
}

/* Puts the QR code of a confirmed ticket's current version in its page, rendering and storing
 * it when it was not yet. */
static enum admit_rc add_qr(struct admit_db *db, const struct admit_signing_key *key,
                            struct admit_ticket_page *page)
{
    if (!json_is_null(json_object_get(page->ticket, "qr_svg")))
        return ADMIT_OK;
    struct admit_buf svg;
    struct admit_ticket_version v = {
        (int)json_integer_value(json_object_get(page->ticket, "registration_id")),
        (int)json_integer_value(json_object_get(page->ticket, "event_id")),
        (int)json_integer_value(json_object_get(page->ticket, "reissue"))};
    admit_buf_init(&svg, ADMIT_TICKET_IMAGE_MAX);
    enum admit_rc rc = admit_ticket_image_make(db, key, &v, &svg, NULL);
    if (rc == ADMIT_OK) {
        json_object_set_new(page->ticket, "qr_svg", json_string(admit_buf_cstr(&svg)));
        page->rendered = true;
    }
    admit_buf_free(&svg);
    return rc;
}

enum admit_rc admit_ticket_page_load(struct admit_db *db, const struct admit_signing_key *key,
                                     const char *token, struct admit_ticket_page *out)
{
    const char *params[1] = {token};
    memset(out, 0, sizeof *out);
    if (!admit_token_valid(token))
        return ADMIT_ERR_NOT_FOUND;
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_TICKET_PAGE, 1, params, &out->ticket);
    if (rc != ADMIT_OK)
        return rc;
    out->status = status_of(out->ticket);
    if (key != NULL && out->status == ADMIT_TICKET_CONFIRMED)
        rc = add_qr(db, key, out);
    else
        json_object_del(out->ticket, "qr_svg");
    if (rc != ADMIT_OK)
        admit_ticket_page_free(out);
    return rc;
}

void admit_ticket_page_free(struct admit_ticket_page *page)
{
    json_decref(page->ticket);
    page->ticket = NULL;
}
