/* An event for its organisers: the overview (figures per list, exports), and the form that
 * creates or edits it with its check-in lists. Saving is one round trip
 * (admit_admin_event_save); the registration form and ticket pages read the same rows, so they
 * follow at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admit/register/admin_event.h"
#include "pages.h"

/* Blank list rows the form offers for new lists. */
#define NEW_LIST_ROWS 3
/* List rows a form may send. */
#define MAX_LIST_ROWS (ADMIT_EVENT_MAX_LISTS + NEW_LIST_ROWS)

/* A whole number of at most 9 digits, or NULL. */
static const char *count_of(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && n <= 9 && strspn(s, "0123456789") == n ? s : NULL;
}

/* After the certificates were sent (admin_certificates.c): what the page says. */
static void certificates_notice(struct http_request *req, json_t *context)
{
    const char *sent = http_query(req, "certificates");
    const char *queued = count_of(sent), *before = count_of(http_query(req, "before"));
    if (sent != NULL && strcmp(sent, "not_yet") == 0)
        json_object_set_new(context, "certificates_not_yet", json_true());
    else if (queued != NULL && before != NULL)
        json_object_set_new(context, "certificates_sent",
                            json_pack("{s:s, s:s}", "queued", queued, "before", before));
}

void admin_event_overview(struct http_request *req)
{
    struct admit_admin admin;
    json_t *event = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    if (!admin_event_view(req, &admin, ADMIT_ADMIN_VIEW_OVERVIEW, slug, &event))
        return;
    pages_decorate_event(event);
    char path[160];
    size_t i;
    json_t *list;
    snprintf(path, sizeof path, "/admin/events/%s/attendance.csv", slug);
    json_array_foreach(json_object_get(event, "list_stats"), i, list) json_object_set_new(
        list, "attendance_url",
        admin_url_with_query(path, "list", json_string_value(json_object_get(list, "name"))));
    json_t *context = json_pack("{s:O, s:o, s:b, s:b}", "title", json_object_get(event, "name"),
                                "event", event, "saved", http_query(req, "saved") != NULL,
                                "created", http_query(req, "created") != NULL);
    certificates_notice(req, context);
    admin_render(req, 200, "admin/event.html", context, &admin, "overview");
}

/* The form's rows of lists: the event's own, then blank rows for new ones. */
static json_t *list_rows(json_t *lists)
{
    json_t *rows = json_array();
    size_t i;
    json_t *list;
    json_array_foreach(lists, i, list)
    {
        json_t *row = json_deep_copy(list);
        json_object_set_new(row, "number", json_integer((json_int_t)i + 1));
        json_object_set_new(row, "existing", json_true());
        json_array_append_new(rows, row);
    }
    for (size_t j = 0; j < NEW_LIST_ROWS; j++)
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "id", "", "name", "", "day",
                            "", "capacity", "", "session_starts", "", "session_ends", "", "number",
                            (json_int_t)(json_array_size(lists) + j + 1), "existing", 0));
    return rows;
}

/* Renders the form: values (an object of the fields, with "lists"), errors. */
static void render_form(struct http_request *req, unsigned status, const struct admit_admin *admin,
                        const char *slug, json_t *values, const struct admit_form_errors *errs,
                        json_t *event)
{
    char action[160];
    json_t *errors = json_object(), *error_list = json_array();
    for (size_t i = 0; errs != NULL && i < errs->count; i++) {
        if (json_object_get(errors, errs->items[i].field) == NULL)
            json_object_set_new(errors, errs->items[i].field, json_string(errs->items[i].message));
        json_array_append_new(error_list, json_pack("{s:s, s:s}", "field", errs->items[i].field,
                                                    "message", errs->items[i].message));
    }
    if (slug != NULL)
        snprintf(action, sizeof action, "/admin/events/%s/edit", slug);
    else
        snprintf(action, sizeof action, "/admin/events/new");
    json_t *rows = list_rows(json_object_get(values, "lists"));
    json_t *context =
        json_pack("{s:s, s:{s:s, s:b, s:O, s:o, s:o, s:b, s:o}}", "title",
                  slug != NULL ? "Edit event" : "New event", "form", "action", action, "creating",
                  slug == NULL, "values", values, "errors", errors, "error_list", error_list,
                  "has_errors", errs != NULL && errs->count > 0, "lists", rows);
    if (event != NULL)
        json_object_set(context, "event", event);
    json_decref(values);
    admin_render(req, status, "admin/event_form.html", context, admin, slug ? "edit" : NULL);
}

void admin_event_new_page(struct http_request *req)
{
    struct admit_admin admin;
    if (!admin_session(req, &admin, ADMIN_PAGE))
        return;
    if (!admin.all_events) {
        admin_not_found(req); /* limited admins run the events they were given */
        return;
    }
    json_t *values =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:[]}", "time_zone", "Europe/Brussels", "capacity",
                  "100", "retention_days", "90", "slug", "", "waitlist", 1, "lists");
    render_form(req, 200, &admin, NULL, values, NULL, NULL);
}

void admin_event_edit_page(struct http_request *req)
{
    struct admit_admin admin;
    json_t *values = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    if (!admin_event_view(req, &admin, ADMIT_ADMIN_VIEW_FORM, slug, &values))
        return;
    json_t *event = json_pack("{s:O, s:O}", "slug", json_object_get(values, "slug"), "name",
                              json_object_get(values, "name"));
    render_form(req, 200, &admin, slug, values, NULL, event);
    json_decref(event);
}

/* The submitted values as the form shows them again. */
static json_t *submitted_values(struct http_request *req, const struct admit_admin_event_rows *rows)
{
    json_t *values = json_object();
    for (size_t i = 0; i < admit_admin_event_field_count; i++) {
        const char *v = http_form(req, admit_admin_event_fields[i].name);
        json_object_set_new(values, admit_admin_event_fields[i].name, json_string(v ? v : ""));
    }
    const char *waitlist = http_form(req, "waitlist");
    json_object_set_new(values, "waitlist", json_boolean(waitlist && !strcmp(waitlist, "yes")));
    const char *attach = http_form(req, "attach_pdf_ticket");
    json_object_set_new(values, "attach_pdf_ticket",
                        json_boolean(attach && !strcmp(attach, "yes")));
    json_t *lists = json_array();
    for (size_t i = 0; i < rows->n; i++) {
        const char *id = rows->ids[i], *name = rows->names[i], *day = rows->days[i];
        if ((id == NULL || id[0] == '\0') && (name == NULL || name[0] == '\0'))
            continue;
        const char *cap = rows->caps ? rows->caps[i] : NULL;
        const char *starts = rows->starts ? rows->starts[i] : NULL;
        const char *ends = rows->ends ? rows->ends[i] : NULL;
        json_array_append_new(lists,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id ? id : "",
                                        "name", name ? name : "", "day", day ? day : "", "capacity",
                                        cap ? cap : "", "session_starts", starts ? starts : "",
                                        "session_ends", ends ? ends : ""));
    }
    json_object_set_new(values, "lists", lists);
    return values;
}

/* Create and update: validate, save in one round trip, then show the event or the form again
 * with the problems next to their fields. */
static void save(struct http_request *req, const char *slug)
{
    struct admit_admin admin;
    struct admit_form_errors errs = {.count = 0};
    struct admit_admin_event_form form;
    struct admit_admin_event_saved saved;
    const char *ids[MAX_LIST_ROWS], *names[MAX_LIST_ROWS], *days[MAX_LIST_ROWS];
    const char *caps[MAX_LIST_ROWS], *starts[MAX_LIST_ROWS], *ends[MAX_LIST_ROWS];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    if (!admin_session(req, &admin, ADMIN_PAGE))
        return;
    if (slug == NULL && !admin.all_events) {
        admin_not_found(req);
        return;
    }
    size_t nids = http_form_all(req, "list_id", ids, MAX_LIST_ROWS);
    size_t nnames = http_form_all(req, "list_name", names, MAX_LIST_ROWS);
    size_t ndays = http_form_all(req, "list_day", days, MAX_LIST_ROWS);
    /* Session settings (issue 17): all three columns or none (a form without them). */
    size_t ncaps = http_form_all(req, "list_capacity", caps, MAX_LIST_ROWS);
    size_t nstarts = http_form_all(req, "list_starts", starts, MAX_LIST_ROWS);
    size_t nends = http_form_all(req, "list_ends", ends, MAX_LIST_ROWS);
    bool sessions = ncaps > 0 || nstarts > 0 || nends > 0;
    if (nids != nnames || nids != ndays || nids > MAX_LIST_ROWS ||
        (sessions && (ncaps != nids || nstarts != nids || nends != nids))) {
        http_respond_error(req, 400, "Bad request",
                           "The check-in lists of this form do not fit together: reload the "
                           "page and send it again.");
        return;
    }
    struct admit_admin_event_rows rows = {
        ids, names, days, sessions ? caps : NULL, sessions ? starts : NULL, sessions ? ends : NULL,
        nids};
    admit_admin_event_check(http_form_lookup, req, slug == NULL, &rows, &form, &errs);
    if (errs.count == 0) {
        enum admit_rc rc = admit_admin_event_save(http_db(req), admin.id, slug, &form, &saved);
        if (rc != ADMIT_OK) {
            http_respond_db_error(req, rc);
            return;
        }
        if (saved.outcome == ADMIT_ADMIN_EVENT_NOT_FOUND) {
            admin_not_found(req);
            return;
        }
        if (saved.outcome == ADMIT_ADMIN_EVENT_CREATED ||
            saved.outcome == ADMIT_ADMIN_EVENT_UPDATED) {
            char location[160];
            snprintf(location, sizeof location, "/admin/events/%s?%s", saved.slug,
                     saved.outcome == ADMIT_ADMIN_EVENT_CREATED ? "created=1" : "saved=1");
            http_log_note(req, saved.outcome == ADMIT_ADMIN_EVENT_CREATED ? "created" : "saved");
            http_redirect(req, location);
            return;
        }
        admit_form_add_error(&errs, saved.error.field, saved.error.message);
    }
    json_t *values = submitted_values(req, &rows);
    json_t *event = NULL;
    if (slug != NULL)
        event = json_pack("{s:s, s:O}", "slug", slug, "name", json_object_get(values, "name"));
    render_form(req, 422, &admin, slug, values, &errs, event);
    json_decref(event);
}

void admin_event_create(struct http_request *req)
{
    save(req, NULL);
}

void admin_event_update(struct http_request *req)
{
    const char *slug = http_param(req, "slug");
    if (!admit_event_slug_valid(slug)) {
        if (http_csrf_check(req, ADMIN_CSRF_FORM))
            admin_not_found(req);
        return;
    }
    save(req, slug);
}
