/* Personal data in /admin (issue 18): erasure on request, of one registration (from the
 * attendee's page) or of a person by email in every event the organiser may see. Each erasure
 * has a confirmation step that lists what will be erased, then a POST with the CSRF token and
 * confirm=yes; it is done at once and recorded in the audit log with the organiser's address.
 * The rules are SQL's (admit/register/privacy.h). */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "admit/register/form.h"
#include "admit/register/privacy.h"
#include "pages.h"
#include "router.h"

#define EMAIL_MAX 254

/* The privacy page: the erase-by-email form, with a notice or a field error. */
static void render_privacy(struct http_request *req, const struct admit_admin *admin,
                           unsigned status, const char *email, const char *error,
                           const char *notice)
{
    json_t *context = json_pack("{s:s, s:s, s:o, s:o}", "title", "Personal data", "email",
                                email != NULL ? email : "", "error",
                                error != NULL ? json_string(error) : json_null(), "notice",
                                notice != NULL ? json_string(notice) : json_null());
    admin_render(req, status, "admin/privacy.html", context, admin, NULL);
}

/* The confirmation page of an erasure: what will be erased, and the form that does it. */
static void render_confirm(struct http_request *req, const struct admit_admin *admin, json_t *found,
                           const char *action, const char *email)
{
    json_t *context = json_pack("{s:s, s:o, s:s, s:s, s:i}", "title", "Erase personal data",
                                "registrations", found, "action", action, "email",
                                email != NULL ? email : "", "count", (int)json_array_size(found));
    admin_render(req, 200, "admin/privacy_erase.html", context, admin, NULL);
}

static bool confirmed(struct http_request *req)
{
    const char *confirm = http_form(req, "confirm");
    return confirm != NULL && strcmp(confirm, "yes") == 0;
}

static void privacy_page(struct http_request *req)
{
    struct admit_admin admin;
    if (!admin_session(req, &admin, ADMIN_PAGE))
        return;
    const char *erased = http_query(req, "erased");
    char notice[160] = "";
    if (erased != NULL && admit_admin_parse_id(erased) > 0)
        snprintf(notice, sizeof notice,
                 "Erased: %d registration%s. The names, addresses and notes are gone for good; "
                 "the attendance figures stay.",
                 admit_admin_parse_id(erased), admit_admin_parse_id(erased) == 1 ? "" : "s");
    render_privacy(req, &admin, 200, "", NULL, notice[0] != '\0' ? notice : NULL);
}

/* POST /admin/privacy/erase: email; without confirm=yes, the confirmation page. */
static void erase_by_email(struct http_request *req)
{
    struct admit_admin admin;
    json_t *found = NULL;
    if (!http_csrf_check(req, ADMIN_CSRF_FORM) || !admin_session(req, &admin, ADMIN_PAGE))
        return;
    const char *email = http_form(req, "email");
    const char *problem = email == NULL || email[0] == '\0'
                              ? "Enter the email address of the person to erase"
                              : admit_form_valid_email(email, EMAIL_MAX);
    if (problem != NULL) {
        render_privacy(req, &admin, 422, email, problem, NULL);
        return;
    }
    enum admit_rc rc =
        confirmed(req)
            ? admit_privacy_erase_email(http_db(req), admin.id, email, http_client(req), &found)
            : admit_privacy_erase_preview(http_db(req), admin.id, NULL, 0, email, &found);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    size_t n = json_array_size(found);
    if (n == 0) {
        json_decref(found);
        render_privacy(req, &admin, 404, email,
                       "No registration in your events has this address (or it was erased "
                       "already): nothing was erased",
                       NULL);
        return;
    }
    if (!confirmed(req)) {
        render_confirm(req, &admin, found, "/admin/privacy/erase", email);
        return;
    }
    json_decref(found);
    char location[64];
    snprintf(location, sizeof location, "/admin/privacy?erased=%zu", n);
    http_log_note(req, "erased");
    http_redirect(req, location);
}

/* POST /admin/privacy/access: everything held about a person, by email, in the events this
 * organiser may see, as the JSON the attendee downloads from their ticket page (for a request
 * that came by post or email). Recorded in the audit log. */
static void access_by_email(struct http_request *req)
{
    struct admit_admin admin;
    json_t *data = NULL;
    if (!http_csrf_check(req, ADMIN_CSRF_FORM) || !admin_session(req, &admin, ADMIN_PAGE))
        return;
    const char *email = http_form(req, "email");
    const char *problem = email == NULL || email[0] == '\0'
                              ? "Enter the email address of the person asking for their data"
                              : admit_form_valid_email(email, EMAIL_MAX);
    if (problem != NULL) {
        render_privacy(req, &admin, 422, email, problem, NULL);
        return;
    }
    enum admit_rc rc =
        admit_privacy_access_email(http_db(req), admin.id, email, http_client(req), &data);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        render_privacy(req, &admin, 404, email,
                       "No registration in your events has this address (or it was erased): "
                       "nothing is held",
                       NULL);
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    http_no_store(req);
    http_log_note(req, "access");
    http_respond_json(req, 200, data);
    http_set_header(req, "Content-Disposition", "attachment; filename=\"personal-data.json\"");
}

/* GET and POST /admin/events/:slug/attendees/:id/erase: the confirmation page, then the
 * erasure (POST with confirm=yes). */
static void erase_registration(struct http_request *req, bool post)
{
    struct admit_admin admin;
    json_t *found = NULL;
    char action[200];
    if (post && !http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    enum admit_rc rc =
        id > 0 ? admit_privacy_erase_preview(http_db(req), admin.id, slug, id, NULL, &found)
               : ADMIT_ERR_NOT_FOUND;
    if (rc == ADMIT_ERR_NOT_FOUND || (rc == ADMIT_OK && json_array_size(found) == 0)) {
        json_decref(found);
        admin_not_found(req);
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    snprintf(action, sizeof action, "/admin/events/%s/attendees/%d/erase", slug, id);
    if (!post || !confirmed(req)) {
        render_confirm(req, &admin, found, action, NULL);
        return;
    }
    json_decref(found);
    enum admit_erase_outcome out;
    rc = admit_privacy_erase_registration(http_db(req), admin.id, slug, id, http_client(req), &out);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (out == ADMIT_ERASE_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    http_log_note(req, "erased");
    http_redirect(req, "/admin/privacy?erased=1");
}

static void erase_registration_page(struct http_request *req)
{
    erase_registration(req, false);
}

static void erase_registration_post(struct http_request *req)
{
    erase_registration(req, true);
}

/* Entries the audit page shows; the CSV has them all. */
#define AUDIT_PAGE_ENTRIES 500
/* The largest audit CSV served (about 100 bytes an entry). */
#define AUDIT_CSV_MAX (256u << 20)

/* GET /admin/audit: the newest entries of the audit log, for all-events organisers (404 for
 * the others, as for anything they may not see). */
static void audit_page(struct http_request *req)
{
    struct admit_admin admin;
    json_t *entries = NULL;
    if (!admin_session(req, &admin, ADMIN_PAGE))
        return;
    enum admit_rc rc =
        admit_privacy_audit_list(http_db(req), admin.id, AUDIT_PAGE_ENTRIES, &entries);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    if (rc != ADMIT_OK) {
        pages_load_failed(req, rc);
        return;
    }
    json_t *context =
        json_pack("{s:s, s:b, s:o, s:i}", "title", "Audit log", "has_entries",
                  json_array_size(entries) > 0, "entries", entries, "shown", AUDIT_PAGE_ENTRIES);
    admin_render(req, 200, "admin/audit.html", context, &admin, NULL);
}

/* GET /admin/audit.csv: the whole audit log (?excel: the spreadsheet flavour). */
static void audit_csv(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_buf csv;
    if (!admin_session(req, &admin, ADMIN_DATA))
        return;
    admit_buf_init(&csv, AUDIT_CSV_MAX);
    enum admit_rc rc = admit_privacy_audit_csv(
        http_db(req), admin.id, http_query(req, "excel") ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180,
        &csv);
    if (rc != ADMIT_OK) {
        if (rc == ADMIT_ERR_NOT_FOUND)
            admin_not_found(req);
        else if (rc == ADMIT_ERR_DB || rc == ADMIT_ERR_DB_UNAVAILABLE)
            http_respond_db_error(req, rc);
        else
            http_respond_error(req, 500, "Internal error", "The audit log could not be written.");
        admit_buf_free(&csv);
        return;
    }
    size_t len = 0;
    char *data = admit_buf_steal(&csv, &len);
    http_no_store(req);
    http_respond_bytes(req, 200, "text/csv; charset=utf-8", data, len, HTTP_TAKE);
    http_set_header(req, "Content-Disposition", "attachment; filename=\"audit-log.csv\"");
}

/* One entry a line: a table to read down (clang-format would fill the lines). */
/* clang-format off */
const struct http_route privacy_routes[] = {
    {HTTP_GET, "/admin/privacy", privacy_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/audit", audit_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/audit.csv", audit_csv, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/privacy/erase", erase_by_email, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/privacy/access", access_by_email, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/attendees/:id/erase", erase_registration_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/attendees/:id/erase", erase_registration_post, HTTP_ROUTE_DB},
    {0},
};
/* clang-format on */
