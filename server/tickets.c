/* The ticket page behind its unguessable access token, the QR code downloads, and cancelling.
 * The QR code is rendered once per ticket version and kept in ticket_images. */
#include <stdlib.h>
#include <string.h>

#include "admit/register/admin_view.h"
#include "admit/register/page.h"
#include "admit/register/questions.h"
#include "admit/register/registration.h"
#include "admit/register/ticket_image.h"
#include "pages.h"
#include "router.h"

#define CANCEL_FORM  "cancel"
#define CONSENT_FORM "consent"

/* The error page, with the way to get a ticket's link again. */
static void no_ticket(struct http_request *req)
{
    json_t *context =
        json_pack("{s:i, s:s, s:s, s:s}", "status", 404, "title", "Ticket not found", "message",
                  "This ticket link is not valid. Check that you copied the whole link from your "
                  "confirmation email.",
                  "resend_url", "/tickets/resend");
    http_render(req, 404, "error.html", context);
}

/* Loads the ticket page of the token in the path (admit_ticket_page_load: with its QR code when
 * key is not NULL); answers 404 itself for a malformed or unknown token, and 503/500 when it
 * cannot load. */
static bool load_ticket(struct http_request *req, const struct admit_signing_key *key,
                        struct admit_ticket_page *page)
{
    http_no_store(req); /* every page and image here is reached through a secret link */
    enum admit_rc rc = admit_ticket_page_load(http_db(req), key, http_param(req, "token"), page);
    if (rc == ADMIT_ERR_NOT_FOUND)
        no_ticket(req);
    else if (rc == ADMIT_ERR_INVALID)
        pages_load_failed(req, rc);
    else if (rc != ADMIT_OK)
        http_respond_db_error(req, rc);
    if (page->rendered)
        http_log_note(req, "qr-rendered");
    return rc == ADMIT_OK;
}

/* The booleans templates need from the ticket's status. */
static void add_status(json_t *ticket, enum admit_ticket_status status)
{
    json_object_set_new(ticket, "is_confirmed", json_boolean(status == ADMIT_TICKET_CONFIRMED));
    json_object_set_new(ticket, "is_waitlisted", json_boolean(status == ADMIT_TICKET_WAITLISTED));
    json_object_set_new(ticket, "is_cancelled", json_boolean(status == ADMIT_TICKET_CANCELLED));
}

static void ticket_page(struct http_request *req)
{
    const char *token = http_param(req, "token");
    struct admit_ticket_page page;
    char url[96];
    if (!load_ticket(req, http_server(req)->signing_key, &page))
        return;
    json_t *ticket = page.ticket;
    pages_decorate_event(json_object_get(ticket, "event"));
    add_status(ticket, page.status);
    snprintf(url, sizeof url, "/tickets/%s/qr.svg", token);
    json_object_set_new(ticket, "svg_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/qr.png", token);
    json_object_set_new(ticket, "png_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/cancel", token);
    json_object_set_new(ticket, "cancel_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/edit", token);
    json_object_set_new(ticket, "edit_url", json_string(url));
    json_t *context = json_pack("{s:O, s:O, s:b, s:b, s:b, s:b, s:b, s:b}", "title",
                                json_object_get(json_object_get(ticket, "event"), "name"), "ticket",
                                ticket, "just_registered", http_query(req, "welcome") != NULL,
                                "just_cancelled", http_query(req, "cancelled") != NULL,
                                "just_changed", http_query(req, "changed") != NULL,
                                "just_unchanged", http_query(req, "unchanged") != NULL,
                                "email_sent", http_query(req, "email_sent") != NULL,
                                "email_confirmed", http_query(req, "email_confirmed") != NULL);
    json_object_set_new(context, "consent_withdrawn",
                        json_boolean(http_query(req, "consent_withdrawn") != NULL));
    json_object_set_new(context, "csrf_token", json_string(http_csrf_token(req, CONSENT_FORM)));
    json_object_set_new(ticket, "has_consents",
                        json_boolean(json_array_size(json_object_get(ticket, "consents")) > 0));
    http_render(req, 200, "ticket.html", context);
    admit_ticket_page_free(&page);
}

static void qr_svg(struct http_request *req)
{
    struct admit_ticket_page page;
    if (!load_ticket(req, http_server(req)->signing_key, &page))
        return;
    const char *svg = json_string_value(json_object_get(page.ticket, "qr_svg"));
    if (page.status != ADMIT_TICKET_CONFIRMED || svg == NULL) {
        no_ticket(req);
    } else {
        http_set_header(req, "Content-Disposition", "attachment; filename=\"ticket.svg\"");
        http_respond_bytes(req, 200, "image/svg+xml", svg, strlen(svg), HTTP_COPY);
    }
    admit_ticket_page_free(&page);
}

static void qr_png(struct http_request *req)
{
    struct admit_buf png;
    bool rendered = false;
    admit_buf_init(&png, ADMIT_TICKET_IMAGE_MAX);
    http_no_store(req);
    enum admit_rc rc = admit_ticket_image_png(http_db(req), http_server(req)->signing_key,
                                              http_param(req, "token"), &png, &rendered);
    if (rendered)
        http_log_note(req, "qr-rendered");
    if (rc == ADMIT_ERR_NOT_FOUND) {
        no_ticket(req);
    } else if (rc == ADMIT_ERR_INVALID) {
        http_respond_error(req, 500, "Internal error", "The image could not be sent.");
    } else if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
    } else {
        http_set_header(req, "Content-Disposition", "attachment; filename=\"ticket.png\"");
        size_t len = 0;
        char *data = admit_buf_steal(&png, &len);
        http_respond_bytes(req, 200, "image/png", data, len, HTTP_TAKE);
    }
    admit_buf_free(&png);
}

static void cancel_page(struct http_request *req)
{
    const char *token = http_param(req, "token");
    struct admit_ticket_page page;
    char url[96];
    if (!load_ticket(req, NULL, &page))
        return;
    json_t *ticket = page.ticket;
    snprintf(url, sizeof url, "/tickets/%s", token);
    if (page.status == ADMIT_TICKET_CANCELLED) {
        http_redirect(req, url);
        admit_ticket_page_free(&page);
        return;
    }
    add_status(ticket, page.status);
    snprintf(url, sizeof url, "/tickets/%s/cancel", token);
    json_object_set_new(ticket, "cancel_url", json_string(url));
    json_object_set_new(ticket, "token", json_string(token));
    json_t *context = json_pack("{s:s, s:O, s:s}", "title", "Cancel your registration", "ticket",
                                ticket, "csrf_token", http_csrf_token(req, CANCEL_FORM));
    http_render(req, 200, "cancel.html", context);
    admit_ticket_page_free(&page);
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

/* Withdraws an optional consent (issue 17 and 18): recorded with its time, shown at the door
 * and in the exports from then on. */
static void consent_withdraw(struct http_request *req)
{
    const char *token = http_param(req, "token");
    char location[128];
    bool done = false;
    if (!http_csrf_check(req, CONSENT_FORM))
        return;
    http_no_store(req);
    int id = admit_admin_parse_id(http_param(req, "id"));
    if (!admit_token_valid(token) || id <= 0) {
        no_ticket(req);
        return;
    }
    enum admit_rc rc = admit_consent_withdraw(http_db(req), token, id, &done);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (!done) {
        no_ticket(req);
        return;
    }
    http_log_note(req, "consent-withdrawn");
    snprintf(location, sizeof location, "/tickets/%s?consent_withdrawn=1", token);
    http_redirect(req, location);
}

const struct http_route ticket_routes[] = {
    {HTTP_POST, "/tickets/:token/consents/:id/withdraw", consent_withdraw, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token", ticket_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/qr.svg", qr_svg, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/qr.png", qr_png, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/cancel", cancel_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/tickets/:token/cancel", cancel, HTTP_ROUTE_DB},
    {0},
};
