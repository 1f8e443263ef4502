/* The ticket page behind its unguessable access token, the QR code downloads, and cancelling.
 * The QR code is rendered once per ticket version and kept in ticket_images. */
#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"
#include "admit/register/registration.h"
#include "admit/register/ticket_image.h"
#include "pages.h"
#include "router.h"

#define CANCEL_FORM "cancel"
#define IMAGE_MAX   (1u << 20)

static void no_ticket(struct http_request *req)
{
    http_respond_error(req, 404, "Ticket not found",
                       "This ticket link is not valid. Check that you copied the whole link from "
                       "your confirmation.");
}

/* Loads the ticket of the token in the path (as in ticket_page.sql); answers 404 itself for a
 * malformed or unknown token. */
static json_t *load_ticket(struct http_request *req)
{
    const char *token = http_param(req, "token");
    json_t *ticket = NULL;
    http_no_store(req); /* every page and image here is reached through a secret link */
    if (!admit_token_valid(token)) {
        no_ticket(req);
        return NULL;
    }
    if (!pages_query_json(req, ADMIT_Q_TICKET_PAGE, token, &ticket))
        return NULL;
    if (ticket == NULL)
        no_ticket(req);
    return ticket;
}

static int is_status(json_t *ticket, const char *status)
{
    const char *s = json_string_value(json_object_get(ticket, "status"));
    return s != NULL && strcmp(s, status) == 0;
}

/* Renders the QR images of the ticket's current version and caches them. On success *svg holds
 * the SVG (and *png the PNG when png is not NULL). */
static bool render_images(struct http_request *req, json_t *ticket, struct admit_buf *svg,
                          struct admit_buf *png)
{
    struct admit_buf png_local;
    struct admit_buf *png_out = png != NULL ? png : &png_local;
    admit_buf_init(&png_local, IMAGE_MAX);
    int registration = (int)json_integer_value(json_object_get(ticket, "registration_id"));
    int event = (int)json_integer_value(json_object_get(ticket, "event_id"));
    int reissue = (int)json_integer_value(json_object_get(ticket, "reissue"));
    enum admit_rc rc =
        admit_ticket_image_render(http_server(req)->signing_key, (uint32_t)event,
                                  (uint32_t)registration, (uint16_t)reissue, svg, png_out);
    if (rc == ADMIT_OK)
        rc = admit_ticket_image_store(http_db(req), registration, reissue, svg, png_out);
    admit_buf_free(&png_local);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return false;
    }
    http_log_note(req, "qr-rendered");
    return true;
}

static void ticket_page(struct http_request *req)
{
    const char *token = http_param(req, "token");
    char url[96];
    struct admit_buf svg;
    admit_buf_init(&svg, IMAGE_MAX);
    json_t *ticket = load_ticket(req);
    if (ticket == NULL)
        goto done;
    int confirmed = is_status(ticket, "confirmed");
    if (confirmed && json_is_null(json_object_get(ticket, "qr_svg"))) {
        if (!render_images(req, ticket, &svg, NULL))
            goto done;
        json_object_set_new(ticket, "qr_svg", json_string(admit_buf_cstr(&svg)));
    }
    if (!confirmed)
        json_object_del(ticket, "qr_svg"); /* a waitlisted or cancelled ticket admits no one */
    pages_decorate_event(json_object_get(ticket, "event"));
    json_object_set_new(ticket, "is_confirmed", json_boolean(confirmed));
    json_object_set_new(ticket, "is_waitlisted", json_boolean(is_status(ticket, "waitlisted")));
    json_object_set_new(ticket, "is_cancelled", json_boolean(is_status(ticket, "cancelled")));
    snprintf(url, sizeof url, "/tickets/%s/qr.svg", token);
    json_object_set_new(ticket, "svg_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/qr.png", token);
    json_object_set_new(ticket, "png_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/cancel", token);
    json_object_set_new(ticket, "cancel_url", json_string(url));
    json_t *context = json_pack("{s:O, s:O, s:b, s:b}", "title",
                                json_object_get(json_object_get(ticket, "event"), "name"), "ticket",
                                ticket, "just_registered", http_query(req, "welcome") != NULL,
                                "just_cancelled", http_query(req, "cancelled") != NULL);
    http_render(req, 200, "ticket.html", context);
done:
    json_decref(ticket);
    admit_buf_free(&svg);
}

static void qr_svg(struct http_request *req)
{
    struct admit_buf svg;
    admit_buf_init(&svg, IMAGE_MAX);
    json_t *ticket = load_ticket(req);
    if (ticket == NULL)
        goto done;
    if (!is_status(ticket, "confirmed")) {
        no_ticket(req);
        goto done;
    }
    const char *cached = json_string_value(json_object_get(ticket, "qr_svg"));
    if (cached == NULL) {
        if (!render_images(req, ticket, &svg, NULL))
            goto done;
    } else if (admit_buf_puts(&svg, cached) != ADMIT_OK) {
        http_respond_error(req, 500, "Internal error", "The image could not be sent.");
        goto done;
    }
    http_set_header(req, "Content-Disposition", "attachment; filename=\"ticket.svg\"");
    size_t len = 0;
    char *data = admit_buf_steal(&svg, &len);
    http_respond_bytes(req, 200, "image/svg+xml", data, len, HTTP_TAKE);
done:
    json_decref(ticket);
    admit_buf_free(&svg);
}

static void qr_png(struct http_request *req)
{
    const char *token = http_param(req, "token");
    const char *params[1] = {token};
    struct admit_buf svg, png;
    PGresult *res = NULL;
    admit_buf_init(&svg, IMAGE_MAX);
    admit_buf_init(&png, IMAGE_MAX);
    http_no_store(req);
    if (!admit_token_valid(token)) {
        no_ticket(req);
        goto done;
    }
    enum admit_rc rc = admit_db_query(http_db(req), ADMIT_Q_TICKET_PNG, 1, params, &res);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        goto done;
    }
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 3), "confirmed") != 0) {
        no_ticket(req);
        goto done;
    }
    if (PQgetisnull(res, 0, 4)) {
        json_t *ticket =
            json_pack("{s:i, s:i, s:i}", "registration_id", atoi(PQgetvalue(res, 0, 0)), "event_id",
                      atoi(PQgetvalue(res, 0, 1)), "reissue", atoi(PQgetvalue(res, 0, 2)));
        bool ok = render_images(req, ticket, &svg, &png);
        json_decref(ticket);
        if (!ok)
            goto done;
    } else {
        size_t len = 0;
        unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 4), &len);
        rc = bytes != NULL ? admit_buf_append(&png, bytes, len) : ADMIT_ERR_INVALID;
        PQfreemem(bytes);
        if (rc != ADMIT_OK) {
            http_respond_error(req, 500, "Internal error", "The image could not be sent.");
            goto done;
        }
    }
    http_set_header(req, "Content-Disposition", "attachment; filename=\"ticket.png\"");
    size_t len = 0;
    char *data = admit_buf_steal(&png, &len);
    http_respond_bytes(req, 200, "image/png", data, len, HTTP_TAKE);
done:
    PQclear(res);
    admit_buf_free(&svg);
    admit_buf_free(&png);
}

static void cancel_page(struct http_request *req)
{
    char url[96];
    json_t *ticket = load_ticket(req);
    if (ticket == NULL)
        return;
    const char *token = http_param(req, "token");
    snprintf(url, sizeof url, "/tickets/%s", token);
    if (is_status(ticket, "cancelled")) {
        http_redirect(req, url);
        json_decref(ticket);
        return;
    }
    json_object_del(ticket, "qr_svg");
    json_object_set_new(ticket, "is_confirmed", json_boolean(is_status(ticket, "confirmed")));
    json_object_set_new(ticket, "is_waitlisted", json_boolean(is_status(ticket, "waitlisted")));
    json_object_set_new(ticket, "is_cancelled", json_false());
    snprintf(url, sizeof url, "/tickets/%s/cancel", token);
    json_object_set_new(ticket, "cancel_url", json_string(url));
    json_object_set_new(ticket, "token", json_string(token));
    json_t *context = json_pack("{s:s, s:O, s:s}", "title", "Cancel your registration", "ticket",
                                ticket, "csrf_token", http_csrf_token(req, CANCEL_FORM));
    http_render(req, 200, "cancel.html", context);
    json_decref(ticket);
}

static void cancel(struct http_request *req)
{
    const char *token = http_param(req, "token");
    struct admit_cancel_result result;
    char location[96];
    if (!http_csrf_check(req, CANCEL_FORM))
        return;
    http_no_store(req);
    if (!admit_token_valid(token)) {
        no_ticket(req);
        return;
    }
    enum admit_rc rc = admit_registration_cancel(http_db(req), token, &result);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (result.outcome == ADMIT_CANCEL_NOT_FOUND) {
        no_ticket(req);
        return;
    }
    if (result.promoted_id != 0)
        http_log_note(req, "promoted");
    snprintf(location, sizeof location, "/tickets/%s?cancelled=1", token);
    http_redirect(req, location);
}

const struct http_route ticket_routes[] = {
    {HTTP_GET, "/tickets/:token", ticket_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/qr.svg", qr_svg, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/qr.png", qr_png, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/cancel", cancel_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/tickets/:token/cancel", cancel, HTTP_ROUTE_DB},
    {0},
};
