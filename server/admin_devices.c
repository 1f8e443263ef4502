/* An event's door devices for its organisers: the list with when each was last seen, adding one
 * (its token shown once, as text and as a QR code, on the answer to the form and never again),
 * and revoking one after a confirmation page. The same library functions as admit device
 * (lib/checkin/device.c), acting as the logged-in admin: an event they may not manage answers
 * 404. The token is in no log line (the log shows the route pattern only) and in no URL. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "admit/checkin/device.h"
#include "admit/core/buf.h"
#include "pages.h"
#include "router.h"

/* Room for the token's QR code as SVG (a version 2 code: about 3 KB). */
#define TOKEN_QR_MAX (64u << 10)

/* The devices page (200, or 422 with the name typed and why it was refused). */
static void render_list(struct http_request *req, unsigned status, const struct admit_admin *admin,
                        const char *slug, const char *name, const char *problem)
{
    json_t *page = NULL;
    enum admit_rc rc = admit_device_page(http_db(req), admin->id, slug, &page);
    if (!admin_loaded(req, rc))
        return;
    json_object_set_new(page, "title", json_string("Door devices"));
    json_object_set_new(page, "form",
                        json_pack("{s:s, s:s?}", "name", name ? name : "", "error", problem));
    json_object_set_new(page, "revoked", json_boolean(http_query(req, "revoked") != NULL));
    admin_render(req, status, "admin/devices.html", page, admin, "devices");
}

static void devices_page(struct http_request *req)
{
    struct admit_admin admin;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug != NULL)
        render_list(req, 200, &admin, slug, NULL, NULL);
}

/* The page that shows a new device's token, once. */
static void render_added(struct http_request *req, const struct admit_admin *admin,
                         const char *slug, const char *name, const char *token)
{
    struct admit_buf svg;
    admit_buf_init(&svg, TOKEN_QR_MAX);
    enum admit_rc rc = admit_device_token_qr_svg(token, &svg);
    /* No "event" object: the footer would show the event's name, which adding does not read. */
    json_t *context = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "title", "Device added", "event_slug",
                                slug, "device_name", name, "token", token, "qr_svg",
                                rc == ADMIT_OK ? admit_buf_cstr(&svg) : NULL);
    if (svg.data != NULL)
        sodium_memzero(svg.data, svg.cap);
    admit_buf_free(&svg);
    http_log_note(req, "device-added");
    admin_render(req, 200, "admin/device_added.html", context, admin, NULL);
}

static void device_add(struct http_request *req)
{
    struct admit_admin admin;
    char token[ADMIT_TOKEN_SIZE];
    enum admit_device_outcome outcome;
    int id = 0;
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    const char *name = http_form(req, "name");
    if (name == NULL)
        name = "";
    const char *problem = admit_device_name_problem(name);
    if (problem != NULL) {
        render_list(req, 422, &admin, slug, name, problem);
        return;
    }
    enum admit_rc rc =
        admit_device_add_as(http_db(req), admin.id, slug, name, token, &id, &outcome);
    if (rc != ADMIT_OK)
        http_respond_db_error(req, rc);
    else if (outcome == ADMIT_DEVICE_NO_EVENT)
        admin_not_found(req);
    else if (outcome == ADMIT_DEVICE_NAME_TAKEN)
        render_list(req, 422, &admin, slug, name,
                    "A working device of this event has this name already: choose another "
                    "name, or revoke that device first");
    else
        render_added(req, &admin, slug, name, token);
    sodium_memzero(token, sizeof token);
}

/* The device :id of the page, or NULL (answered 404). Borrowed from page. */
static json_t *find_device(struct http_request *req, json_t *page)
{
    int id = admit_admin_parse_id(http_param(req, "id"));
    size_t i;
    json_t *device;
    json_array_foreach(json_object_get(page, "devices"), i, device)
    {
        if (id > 0 && json_integer_value(json_object_get(device, "id")) == id)
            return device;
    }
    admin_not_found(req);
    return NULL;
}

/* The confirmation page: what revoking does, and the button. */
static void revoke_page(struct http_request *req)
{
    struct admit_admin admin;
    json_t *page = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    enum admit_rc rc = admit_device_page(http_db(req), admin.id, slug, &page);
    if (!admin_loaded(req, rc))
        return;
    json_t *device = find_device(req, page);
    if (device == NULL) {
        json_decref(page);
        return;
    }
    json_t *context = json_pack("{s:s, s:O, s:O}", "title", "Revoke a device", "event",
                                json_object_get(page, "event"), "device", device);
    json_decref(page);
    admin_render(req, 200, "admin/device_revoke.html", context, &admin, "devices");
}

static void device_revoke(struct http_request *req)
{
    struct admit_admin admin;
    enum admit_device_outcome outcome;
    int revoked = 0;
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    if (id <= 0) {
        admin_not_found(req);
        return;
    }
    enum admit_rc rc =
        admit_device_revoke_as(http_db(req), admin.id, slug, NULL, id, &revoked, &outcome);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (outcome != ADMIT_DEVICE_DONE) {
        /* Revoked already (a second click), or not this admin's: the list says which. */
        http_no_store(req);
        http_respond_error(req, 404, "No such working device",
                           "This device does not exist or is revoked already: see the event's "
                           "list of door devices.");
        return;
    }
    char location[160];
    snprintf(location, sizeof location, "/admin/events/%s/devices?revoked=1", slug);
    http_log_note(req, "device-revoked");
    http_redirect(req, location);
}

const struct http_route admin_device_routes[] = {
    {HTTP_GET, "/admin/events/:slug/devices", devices_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/devices", device_add, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/devices/:id/revoke", revoke_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/devices/:id/revoke", device_revoke, HTTP_ROUTE_DB},
    {0},
};
