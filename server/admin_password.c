/* /admin/password/TOKEN: the one-time link an all-events organiser made (admin_organisers.c)
 * for someone to choose their password. No session is needed: the link is the proof. It works
 * once, for a day; a used, expired or replaced link says so in words (410), an unknown one is a
 * 404. Setting the password ends the person's sessions. The page carries no link to elsewhere
 * but this site, and Referrer-Policy: same-origin keeps the token out of other sites' logs. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "admit/register/admin_organisers.h"
#include "router.h"

#define PASSWORD_FORM "admin-password"

/* Renders admin/password.html for state (the form when ADMIT_ADMIN_LINK_OK and not done). */
static void render(struct http_request *req, enum admit_admin_link_state state, const char *email,
                   bool done, const char *field, const char *problem)
{
    static const unsigned status_of[] = {
        [ADMIT_ADMIN_LINK_OK] = 200,
        [ADMIT_ADMIN_LINK_USED] = 410,
        [ADMIT_ADMIN_LINK_EXPIRED] = 410,
        [ADMIT_ADMIN_LINK_UNKNOWN] = 404,
    };
    unsigned status = problem != NULL ? 422 : status_of[state];
    char action[128];
    snprintf(action, sizeof action, "/admin/password/%s", http_param(req, "token"));
    json_t *context = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:{s:s?}}", "title", "Choose your password",
        "csrf_token", http_csrf_token(req, PASSWORD_FORM), "email", email, "action", action, "form",
        state == ADMIT_ADMIN_LINK_OK && !done, "done", done, "used", state == ADMIT_ADMIN_LINK_USED,
        "expired", state == ADMIT_ADMIN_LINK_EXPIRED, "unknown", state == ADMIT_ADMIN_LINK_UNKNOWN,
        "errors", field ? field : "password", problem);
    sodium_memzero(action, sizeof action);
    http_set_header(req, "Content-Security-Policy", ADMIN_CSP);
    http_no_store(req);
    http_render(req, status, "admin/password.html", context);
}

static void password_page(struct http_request *req)
{
    enum admit_admin_link_state state;
    char email[ADMIT_ADMIN_EMAIL_MAX + 1];
    enum admit_rc rc =
        admit_admin_link_status(http_db(req), http_param(req, "token"), &state, email);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    render(req, state, email, false, NULL, NULL);
}

static void password_set(struct http_request *req)
{
    enum admit_admin_link_state state = ADMIT_ADMIN_LINK_OK;
    char email[ADMIT_ADMIN_EMAIL_MAX + 1] = "";
    struct admit_error err;
    if (!http_csrf_check(req, PASSWORD_FORM))
        return;
    const char *password = http_form(req, "password");
    const char *again = http_form(req, "password_again");
    if (password == NULL)
        password = "";
    if (again == NULL || strcmp(password, again) != 0) {
        enum admit_rc rc =
            admit_admin_link_status(http_db(req), http_param(req, "token"), &state, email);
        if (rc != ADMIT_OK)
            http_respond_db_error(req, rc);
        else if (state != ADMIT_ADMIN_LINK_OK)
            render(req, state, email, false, NULL, NULL);
        else
            render(req, state, email, false, "password_again",
                   "The two passwords differ: type the same password twice");
        return;
    }
    enum admit_rc rc =
        admit_admin_link_use(http_db(req), http_param(req, "token"), password, &state, email, &err);
    if (rc == ADMIT_ERR_INVALID) {
        /* Only the password was checked: the link is as it was. */
        enum admit_rc status_rc =
            admit_admin_link_status(http_db(req), http_param(req, "token"), &state, email);
        if (status_rc != ADMIT_OK)
            http_respond_db_error(req, status_rc);
        else if (state != ADMIT_ADMIN_LINK_OK)
            render(req, state, email, false, NULL, NULL);
        else
            render(req, state, email, false, err.field, err.message);
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (state == ADMIT_ADMIN_LINK_OK)
        http_log_note(req, "password-set");
    render(req, state, email, state == ADMIT_ADMIN_LINK_OK, NULL, NULL);
}

const struct http_route admin_password_routes[] = {
    {HTTP_GET, "/admin/password/:token", password_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/password/:token", password_set, HTTP_ROUTE_DB},
    {0},
};
