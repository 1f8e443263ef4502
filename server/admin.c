/* The organisers' area: sessions (login, logout, the check each handler starts with), the list
 * of events, the helpers the other admin_*.c files share, and the area's route table.
 *
 * The session cookie is "__Host-admit_session" with Secure when --public-url is https (the
 * __Host- prefix pins it to this host and path /, and browsers refuse it without Secure). Over
 * plain http it is "admit_session" without Secure: browsers keep Secure cookies from plain http
 * only on loopback (Chromium: localhost and 127.0.0.1), so a Secure cookie would be lost by a
 * door laptop that reaches admitd at http://10.0.0.5:8080 on the venue network, and by other
 * browsers. Always HttpOnly, SameSite=Strict, Path=/, and a browser-session cookie: the server
 * ends it after two idle hours or twelve in all. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/register/privacy.h"
#include "admit/register/event.h"
#include "pages.h"
#include "router.h"

#define LOGIN_FORM    "admin-login"
#define SECURE_COOKIE "__Host-admit_session"
#define PLAIN_COOKIE  "admit_session"

static const char *cookie_name(const struct http_request *req)
{
    return http_server(req)->secure_cookies ? SECURE_COOKIE : PLAIN_COOKIE;
}

json_t *admin_url_with_query(const char *path, const char *name, const char *value)
{
    struct admit_buf url;
    admit_buf_init(&url, 4096);
    enum admit_rc rc = admit_buf_printf(&url, "%s?%s=", path, name);
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0' && rc == ADMIT_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            rc = admit_buf_putc(&url, (char)*p);
        else
            rc = admit_buf_printf(&url, "%%%02X", *p);
    }
    json_t *out = json_string(rc == ADMIT_OK ? admit_buf_cstr(&url) : path);
    admit_buf_free(&url);
    return out;
}

void admin_not_found(struct http_request *req)
{
    http_no_store(req);
    http_respond_error(req, 404, "Not found",
                       "There is nothing here, or you do not have access to it.");
}

bool admin_loaded(struct http_request *req, enum admit_rc rc)
{
    if (rc == ADMIT_ERR_NOT_FOUND)
        admin_not_found(req);
    else if (rc != ADMIT_OK)
        pages_load_failed(req, rc);
    return rc == ADMIT_OK;
}

void admin_audit_registration(struct http_request *req, int admin_id, const char *action,
                              int registration_id)
{
    if (admit_privacy_audit_registration(http_db(req), admin_id, action, registration_id,
                                         http_client(req)) != ADMIT_OK)
        http_log_note(req, "audit-failed");
}

const char *admin_slug(struct http_request *req)
{
    const char *slug = http_param(req, "slug");
    if (!admit_event_slug_valid(slug)) {
        admin_not_found(req);
        return NULL;
    }
    return slug;
}

const char *admin_event_begin(struct http_request *req, struct admit_admin *admin,
                              enum admin_answer kind)
{
    if (!admin_session(req, admin, kind))
        return NULL;
    return admin_slug(req);
}

bool admin_event_view(struct http_request *req, const struct admit_admin *admin,
                      enum admit_admin_view view, const char *slug, json_t **out)
{
    enum admit_rc rc = admit_admin_view_event(http_db(req), admin->id, slug, view, out);
    if (rc == ADMIT_ERR_NOT_FOUND)
        admin_not_found(req);
    else if (rc != ADMIT_OK)
        pages_load_failed(req, rc);
    return rc == ADMIT_OK;
}

/* The path of this request, rebuilt from the route (admin routes have only :slug and :id
 * parameters, which admin_slug and admit_admin_parse_id keep to safe characters), for the login
 * page to come back to. */
static void current_path(struct http_request *req, char *out, size_t outlen)
{
    const char *p = http_route_pattern(req);
    size_t used = 0;
    out[0] = '\0';
    while (*p != '\0' && used + 1 < outlen) {
        if (p[0] == ':') {
            size_t n = strcspn(p + 1, "/");
            char name[16];
            snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
            const char *value = http_param(req, name);
            bool safe = strcmp(name, "slug") == 0 ? admit_event_slug_valid(value)
                                                  : admit_admin_parse_id(value) > 0;
            if (!safe) {
                snprintf(out, outlen, "/admin");
                return;
            }
            int w = snprintf(out + used, outlen - used, "%s", value);
            if (w < 0 || (size_t)w >= outlen - used) {
                snprintf(out, outlen, "/admin");
                return;
            }
            used += (size_t)w;
            p += 1 + n;
            continue;
        }
        out[used++] = *p++;
        out[used] = '\0';
    }
}

bool admin_session(struct http_request *req, struct admit_admin *admin, enum admin_answer kind)
{
    enum admit_rc rc = admit_admin_session(http_db(req), http_cookie(req, cookie_name(req)), admin);
    http_no_store(req);
    if (rc == ADMIT_OK)
        return true;
    if (rc != ADMIT_ERR_NOT_FOUND) {
        http_respond_db_error(req, rc);
        return false;
    }
    http_log_note(req, "no-session");
    if (kind == ADMIN_DATA) {
        http_respond_error(req, 401, "Login required",
                           "Log in to the organisers' area first: /admin/login.");
        return false;
    }
    char path[160], location[200];
    /* Back to this page after login; a form sent without a session goes back to the start
     * (its address takes no GET). */
    if (http_method(req) == HTTP_GET || http_method(req) == HTTP_HEAD)
        current_path(req, path, sizeof path);
    else
        snprintf(path, sizeof path, "/admin");
    snprintf(location, sizeof location, "/admin/login?next=%s", path);
    http_redirect(req, location);
    return false;
}

static const struct {
    const char *name;
    const char *label;
    const char *path; /* after /admin/events/SLUG */
} tabs[] = {
    {"overview", "Overview", ""},
    {"attendees", "Attendees", "/attendees"},
    {"live", "Live door view", "/live"},
    {"report", "Attendance report", "/report"},
    {"flagged", "Flagged scans", "/flagged"},
    {"devices", "Door devices", "/devices"},
    {"questions", "Questions", "/questions"},
    {"edit", "Edit event", "/edit"},
};

/* Adds "has_NAME": true/false beside every array NAME of obj and of the objects in it (down to
 * depth levels): templates cannot index arrays, and a table needs to know whether it has rows. */
static void add_has(json_t *obj, int depth)
{
    const char *key;
    json_t *value;
    json_t *flags = json_object();
    json_object_foreach(obj, key, value)
    {
        if (json_is_array(value)) {
            char name[80];
            snprintf(name, sizeof name, "has_%s", key);
            json_object_set_new(flags, name, json_boolean(json_array_size(value) > 0));
        } else if (json_is_object(value) && depth > 1) {
            add_has(value, depth - 1);
        }
    }
    json_object_update(obj, flags);
    json_decref(flags);
}

void admin_render(struct http_request *req, unsigned status, const char *template_name,
                  json_t *context, const struct admit_admin *admin, const char *tab)
{
    if (context == NULL)
        context = json_object();
    json_object_set_new(
        context, "admin",
        json_pack("{s:s, s:b}", "email", admin->email, "all_events", admin->all_events));
    json_object_set_new(context, "csrf_token", json_string(http_csrf_token(req, ADMIN_CSRF_FORM)));
    const char *slug =
        json_string_value(json_object_get(json_object_get(context, "event"), "slug"));
    if (tab != NULL && slug != NULL) {
        json_t *items = json_array();
        for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++) {
            char href[160];
            snprintf(href, sizeof href, "/admin/events/%s%s", slug, tabs[i].path);
            json_array_append_new(items,
                                  json_pack("{s:s, s:s, s:b}", "label", tabs[i].label, "href", href,
                                            "current", strcmp(tabs[i].name, tab) == 0));
        }
        json_object_set_new(context, "tabs", items);
    }
    add_has(context, 3);
    http_set_header(req, "Content-Security-Policy", ADMIN_CSP);
    http_no_store(req);
    http_render(req, status, template_name, context);
}

/* "next" after login: a path of the admin area only (never another site). */
static const char *safe_next(const char *next)
{
    if (next == NULL || strncmp(next, "/admin", 6) != 0 || (next[6] != '\0' && next[6] != '/') ||
        strstr(next, "//") != NULL || strstr(next, "..") != NULL || strlen(next) > 150 ||
        strspn(next, "abcdefghijklmnopqrstuvwxyz0123456789/-_.") != strlen(next))
        return "/admin";
    return next;
}

static void render_login(struct http_request *req, unsigned status, const char *email,
                         const char *next, json_t *errors, const char *problem)
{
    json_t *error_list = json_array();
    const char *key;
    json_t *value;
    json_object_foreach(errors, key, value)
        json_array_append_new(error_list, json_pack("{s:s, s:O}", "field", key, "message", value));
    json_t *context =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o, s:b}, s:s, s:b}", "title",
                  "Organisers: log in", "csrf_token", http_csrf_token(req, LOGIN_FORM), "form",
                  "email", email, "next", safe_next(next), "errors", errors, "error_list",
                  error_list, "has_errors", json_object_size(errors) > 0, "problem",
                  problem ? problem : "", "logged_out", http_query(req, "logged_out") != NULL);
    http_set_header(req, "Content-Security-Policy", ADMIN_CSP);
    http_no_store(req);
    http_render(req, status, "admin/login.html", context);
}

static void login_page(struct http_request *req)
{
    render_login(req, 200, "", http_query(req, "next"), json_object(), NULL);
}

static void login(struct http_request *req)
{
    const char *email = http_form(req, "email");
    const char *password = http_form(req, "password");
    const char *next = safe_next(http_form(req, "next"));
    struct admit_login_result result;
    if (!http_csrf_check(req, LOGIN_FORM))
        return;
    json_t *errors = json_object();
    if (email == NULL || email[0] == '\0')
        json_object_set_new(errors, "email", json_string("Enter your email address"));
    else if (strlen(email) > ADMIT_ADMIN_EMAIL_MAX)
        json_object_set_new(errors, "email", json_string("This is too long"));
    if (password == NULL || password[0] == '\0')
        json_object_set_new(errors, "password", json_string("Enter your password"));
    if (json_object_size(errors) > 0) {
        render_login(req, 422, email ? email : "", next, errors, NULL);
        return;
    }
    enum admit_rc rc = admit_admin_login(http_db(req), email, password, http_client(req),
                                         http_cookie(req, cookie_name(req)), &result);
    if (rc != ADMIT_OK) {
        json_decref(errors);
        http_respond_db_error(req, rc);
        return;
    }
    if (result.outcome == ADMIT_LOGIN_THROTTLED) {
        char message[200], seconds[16];
        snprintf(message, sizeof message,
                 "Too many failed attempts. Wait %d seconds, then try again.", result.retry_after);
        snprintf(seconds, sizeof seconds, "%d", result.retry_after);
        http_log_note(req, "throttled");
        render_login(req, 429, email, next, errors, message);
        http_set_header(req, "Retry-After", seconds);
        return;
    }
    if (result.outcome == ADMIT_LOGIN_FAILED) {
        http_log_note(req, "login-failed");
        render_login(req, 401, email, next, errors,
                     "The email address or the password is not right.");
        return;
    }
    json_decref(errors);
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", cookie_name(req),
             result.session_id, http_server(req)->secure_cookies ? "; Secure" : "");
    sodium_memzero(&result, sizeof result);
    http_log_note(req, "login");
    http_redirect(req, next);
    http_set_header(req, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
    http_no_store(req);
}

static void logout(struct http_request *req)
{
    char cookie[160];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    enum admit_rc rc = admit_admin_logout(http_db(req), http_cookie(req, cookie_name(req)));
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    snprintf(cookie, sizeof cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             cookie_name(req), http_server(req)->secure_cookies ? "; Secure" : "");
    http_redirect(req, "/admin/login?logged_out=1");
    http_set_header(req, "Set-Cookie", cookie);
    http_no_store(req);
}

static void events_page(struct http_request *req)
{
    struct admit_admin admin;
    json_t *events = NULL;
    if (!admin_session(req, &admin, ADMIN_PAGE))
        return;
    enum admit_rc rc = admit_admin_view_events(http_db(req), admin.id, &events);
    if (rc != ADMIT_OK) {
        pages_load_failed(req, rc);
        return;
    }
    json_t *context = json_pack("{s:s, s:o}", "title", "Your events", "events", events);
    admin_render(req, 200, "admin/events.html", context, &admin, NULL);
}

const struct http_route admin_routes[] = {
    {HTTP_GET, "/admin", events_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/login", login_page, 0},
    {HTTP_POST, "/admin/login", login, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/logout", logout, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/new", admin_event_new_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/new", admin_event_create, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug", admin_event_overview, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/edit", admin_event_edit_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/edit", admin_event_update, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees", admin_attendees_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id", admin_attendee_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id/cancel", admin_attendee_confirm_cancel,
     HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id/reissue", admin_attendee_confirm_reissue,
     HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id/promote", admin_attendee_confirm_promote,
     HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id/checkin", admin_attendee_confirm_checkin,
     HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/attendees/:id/cancel", admin_attendee_cancel, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/attendees/:id/reissue", admin_attendee_reissue, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/attendees/:id/promote", admin_attendee_promote, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/attendees/:id/checkin", admin_attendee_checkin, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/live", admin_live_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/live.json", admin_live_json, HTTP_ROUTE_DB | HTTP_ROUTE_JSON},
    {HTTP_GET, "/admin/events/:slug/arrivals.svg", admin_arrivals_svg, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/report", admin_report_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/report.csv", admin_report_csv, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/flagged", admin_flagged_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/flagged/:scan/review", admin_flagged_review, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/registrations.csv", admin_export_registrations, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendance.csv", admin_export_attendance, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/scans.csv", admin_export_scans, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/badges.pdf", admin_print_badges, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/sheets/:id", admin_print_sheet, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/evidence.tar", admin_print_evidence, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/certificates/send", admin_certificates_send, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id/badge.pdf", admin_print_attendee_badge,
     HTTP_ROUTE_DB},
    {0},
};
