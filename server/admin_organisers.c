/* Organisers managing organisers (/admin/organisers), for all-events organisers only (the others
 * get 403): the list, adding one, removing one after a confirmation page, and one-time password
 * links, which the person opens without a session to choose a password (admin_password.c).
 * An organiser added here gets such a link instead of a password, so nobody but them ever
 * knows it. A link is shown once, on the answer to the form that made it; the log shows the
 * route pattern only, never the token. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "admit/register/admin_organisers.h"
#include "pages.h"
#include "router.h"

/* Events one add form may name. */
#define MAX_EVENTS 500

/* The start of every organisers' page: a session of an all-events organiser, else false after
 * answering (login, or 403). */
static bool begin(struct http_request *req, struct admit_admin *admin)
{
    if (!admin_session(req, admin, ADMIN_PAGE))
        return false;
    if (admin->all_events)
        return true;
    http_respond_error(req, 403, "Not allowed",
                       "Only an organiser of every event manages organisers: ask one of them.");
    return false;
}

static void forbidden_or_failed(struct http_request *req, enum admit_rc rc)
{
    if (rc == ADMIT_ERR_PERMISSION)
        http_respond_error(req, 403, "Not allowed",
                           "Only an organiser of every event manages organisers: ask one of them.");
    else
        http_respond_db_error(req, rc);
}

/* The organisers' page (200; or 422 with the add form's values and its problem). */
static void render_list(struct http_request *req, unsigned status, const struct admit_admin *admin,
                        json_t *form)
{
    json_t *page = NULL;
    enum admit_rc rc = admit_admin_organisers(http_db(req), admin->id, &page);
    if (rc != ADMIT_OK) {
        json_decref(form);
        forbidden_or_failed(req, rc);
        return;
    }
    json_object_set_new(page, "title", json_string("Organisers"));
    json_object_set_new(
        page, "form",
        form != NULL ? form : json_pack("{s:s, s:s, s:b}", "name", "", "email", "", "all", 1));
    json_object_set_new(page, "removed", json_boolean(http_query(req, "removed") != NULL));
    /* Tick the events the form named. */
    size_t i, j;
    json_t *event, *chosen;
    json_array_foreach(json_object_get(page, "events"), i, event)
    {
        json_array_foreach(json_object_get(json_object_get(page, "form"), "events"), j, chosen)
        {
            if (json_equal(json_object_get(event, "slug"), chosen))
                json_object_set_new(event, "checked", json_true());
        }
    }
    admin_render(req, status, "admin/organisers.html", page, admin, NULL);
}

static void organisers_page(struct http_request *req)
{
    struct admit_admin admin;
    if (begin(req, &admin))
        render_list(req, 200, &admin, NULL);
}

/* The page that shows a password link once: kind "added" or "reset". */
static void render_link(struct http_request *req, const struct admit_admin *admin,
                        const char *email, const char *token, bool added)
{
    char link[512];
    snprintf(link, sizeof link, "%s/admin/password/%s", http_server(req)->public_url, token);
    json_t *context =
        json_pack("{s:s, s:s, s:s, s:b, s:i}", "title", "Password link", "email", email, "link",
                  link, "added", added, "hours", ADMIT_ADMIN_LINK_HOURS);
    sodium_memzero(link, sizeof link);
    http_log_note(req, added ? "organiser-added" : "password-link");
    admin_render(req, 200, "admin/organiser_link.html", context, admin, NULL);
}

static void organiser_add(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_error err;
    char token[ADMIT_TOKEN_SIZE];
    const char *slugs[MAX_EVENTS];
    int id = 0;
    if (!http_csrf_check(req, ADMIN_CSRF_FORM) || !begin(req, &admin))
        return;
    const char *name = http_form(req, "name");
    const char *email = http_form(req, "email");
    const char *scope = http_form(req, "scope");
    bool all = scope == NULL || strcmp(scope, "some") != 0;
    size_t n = all ? 0 : http_form_all(req, "events", slugs, MAX_EVENTS);
    if (n > MAX_EVENTS) {
        http_respond_error(req, 400, "Bad request",
                           "This form names more events than there can be: reload the page and "
                           "send it again.");
        return;
    }
    json_t *form = json_pack("{s:s, s:s, s:b, s:[]}", "name", name ? name : "", "email",
                             email ? email : "", "all", all, "events");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(json_object_get(form, "events"), json_string(slugs[i]));
    if (!all && n == 0) {
        json_object_set_new(
            form, "errors",
            json_pack("{s:s}", "events", "Choose at least one event, or every event"));
        render_list(req, 422, &admin, form);
        return;
    }
    enum admit_rc rc = admit_admin_invite(http_db(req), admin.id, name ? name : "",
                                          email ? email : "", slugs, n, token, &id, &err);
    if (rc == ADMIT_ERR_INVALID || rc == ADMIT_ERR_EXISTS) {
        json_object_set_new(form, "errors", json_pack("{s:s}", err.field, err.message));
        render_list(req, 422, &admin, form);
        return;
    }
    json_decref(form);
    if (rc != ADMIT_OK)
        forbidden_or_failed(req, rc);
    else
        render_link(req, &admin, email, token, true);
    sodium_memzero(token, sizeof token);
}

static void organiser_link(struct http_request *req)
{
    struct admit_admin admin;
    char token[ADMIT_TOKEN_SIZE], email[ADMIT_ADMIN_EMAIL_MAX + 1];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM) || !begin(req, &admin))
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    enum admit_rc rc = id > 0 ? admit_admin_link_create(http_db(req), admin.id, id, token, email)
                              : ADMIT_ERR_NOT_FOUND;
    if (rc == ADMIT_ERR_NOT_FOUND)
        admin_not_found(req);
    else if (rc != ADMIT_OK)
        forbidden_or_failed(req, rc);
    else
        render_link(req, &admin, email, token, false);
    sodium_memzero(token, sizeof token);
}

/* The confirmation page of removing an organiser. */
static void remove_page(struct http_request *req)
{
    struct admit_admin admin;
    json_t *page = NULL, *found = NULL, *organiser;
    size_t i;
    if (!begin(req, &admin))
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    enum admit_rc rc = admit_admin_organisers(http_db(req), admin.id, &page);
    if (rc != ADMIT_OK) {
        forbidden_or_failed(req, rc);
        return;
    }
    json_array_foreach(json_object_get(page, "organisers"), i, organiser)
    {
        if (id > 0 && json_integer_value(json_object_get(organiser, "id")) == id)
            found = organiser;
    }
    if (found == NULL) {
        json_decref(page);
        admin_not_found(req);
        return;
    }
    json_t *context = json_pack("{s:s, s:O}", "title", "Remove an organiser", "organiser", found);
    json_decref(page);
    admin_render(req, 200, "admin/organiser_remove.html", context, &admin, NULL);
}

static void organiser_remove(struct http_request *req)
{
    struct admit_admin admin;
    char email[ADMIT_ADMIN_EMAIL_MAX + 1];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM) || !begin(req, &admin))
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    enum admit_rc rc =
        id > 0 ? admit_admin_remove_as(http_db(req), admin.id, id, email) : ADMIT_ERR_NOT_FOUND;
    if (rc == ADMIT_ERR_STATE) {
        http_respond_error(req, 409, "You cannot remove yourself",
                           "Another organiser of every event can remove you, or the operator "
                           "with admit admin remove.");
    } else if (rc == ADMIT_ERR_NOT_FOUND) {
        http_no_store(req);
        http_respond_error(req, 404, "No such organiser",
                           "This organiser does not exist or is removed already: see the list "
                           "of organisers.");
    } else if (rc != ADMIT_OK) {
        forbidden_or_failed(req, rc);
    } else {
        http_log_note(req, "organiser-removed");
        http_redirect(req, "/admin/organisers?removed=1");
    }
}

const struct http_route admin_organiser_routes[] = {
    {HTTP_GET, "/admin/organisers", organisers_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/organisers", organiser_add, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/organisers/:id/link", organiser_link, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/organisers/:id/remove", remove_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/organisers/:id/remove", organiser_remove, HTTP_ROUTE_DB},
    {0},
};
