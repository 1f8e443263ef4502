/* Attendees for their organisers: the paginated, searchable list; one attendee with their
 * registration, ticket and every scan; and the actions on them (cancel, reissue the ticket,
 * move from the waiting list, check in by name), each one round trip (admit/admin_actions.h).
 * A done action redirects back to the attendee's page with a notice; a refused one shows the
 * page again with the reason and a 409. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admit/register/admin_actions.h"
#include "pages.h"

static const char *query_or_empty(struct http_request *req, const char *name)
{
    const char *v = http_query(req, name);
    return v != NULL ? v : "";
}

/* Link to another page of the same search. */
static json_t *page_link(const char *slug, const char *q, const char *status, const char *list,
                         const char *checked, long page)
{
    struct admit_buf url;
    admit_buf_init(&url, 2048);
    enum admit_rc rc = admit_buf_printf(&url, "/admin/events/%s/attendees?page=%ld", slug, page);
    const char *names[4] = {"q", "status", "list", "checked"};
    const char *values[4] = {q, status, list, checked};
    for (size_t i = 0; i < 4 && rc == ADMIT_OK; i++) {
        if (values[i][0] == '\0')
            continue;
        rc = admit_buf_printf(&url, "&%s=", names[i]);
        for (const unsigned char *p = (const unsigned char *)values[i]; *p && rc == ADMIT_OK; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '_' || *p == '.')
                rc = admit_buf_putc(&url, (char)*p);
            else
                rc = admit_buf_printf(&url, "%%%02X", *p);
        }
    }
    json_t *link = rc == ADMIT_OK ? json_string(admit_buf_cstr(&url)) : json_null();
    admit_buf_free(&url);
    return link;
}

void admin_attendees_page(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_admin_attendees found;
    struct admit_error err;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    const char *q = query_or_empty(req, "q"), *status = query_or_empty(req, "status");
    const char *list = query_or_empty(req, "list"), *checked = query_or_empty(req, "checked");
    struct admit_admin_search search = {q, status, list, checked, query_or_empty(req, "page")};
    enum admit_rc rc =
        admit_admin_view_attendees(http_db(req), admin.id, slug, &search, &found, &err);
    if (rc == ADMIT_ERR_INVALID) {
        http_respond_error(req, 400, "Bad request", err.message);
        return;
    }
    if (rc == ADMIT_ERR_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    if (rc != ADMIT_OK) {
        pages_load_failed(req, rc);
        return;
    }
    json_t *data = found.data;
    long page = found.page, pages = found.pages;
    json_t *event = json_incref(json_object_get(data, "event"));
    pages_decorate_event(event);
    /* The list filter's choices, with the chosen one marked. */
    json_t *lists = json_deep_copy(json_object_get(event, "lists"));
    size_t i;
    json_t *item;
    json_array_foreach(lists, i, item)
    {
        char lid[16];
        snprintf(lid, sizeof lid, "%lld",
                 (long long)json_integer_value(json_object_get(item, "id")));
        json_object_set_new(item, "selected", json_boolean(strcmp(lid, list) == 0));
    }
    json_t *rows = json_incref(json_object_get(data, "rows"));
    json_array_foreach(rows, i, item)
    {
        char href[160];
        snprintf(href, sizeof href, "/admin/events/%s/attendees/%lld", slug,
                 (long long)json_integer_value(json_object_get(item, "id")));
        json_object_set_new(item, "href", json_string(href));
    }
    json_t *context = json_pack(
        "{s:s, s:o, s:o, s:I, s:i, s:i, s:o, s:o, s:{s:s, s:b, s:b, s:b, s:b, s:b}, s:b}", "title",
        "Attendees", "event", event, "rows", rows, "total", (json_int_t)found.total, "page",
        (int)page, "pages", (int)pages, "previous",
        page > 1 ? page_link(slug, q, status, list, checked, page - 1) : json_null(), "next",
        page < pages ? page_link(slug, q, status, list, checked, page + 1) : json_null(), "search",
        "q", q, "status_confirmed", !strcmp(status, "confirmed"), "status_waitlisted",
        !strcmp(status, "waitlisted"), "status_cancelled", !strcmp(status, "cancelled"),
        "checked_yes", !strcmp(checked, "yes"), "checked_no", !strcmp(checked, "no"), "filtered",
        q[0] || status[0] || list[0] || checked[0]);
    json_object_set_new(context, "lists", lists);
    json_decref(data);
    admin_render(req, 200, "admin/attendees.html", context, &admin, "attendees");
}

/* Notices after a done action (?done=NAME). */
static const struct {
    const char *name;
    const char *message;
} done_messages[] = {
    {"cancelled", "The registration is cancelled."},
    {"promoted", "Cancelled; the seat went to the next person on the waiting list."},
    {"reissued", "A new ticket was issued: the old QR code and ticket link no longer work. "
                 "Send the attendee their new ticket link (below)."},
    {"moved", "Moved from the waiting list: the seat is confirmed."},
    {"checked_in", "Checked in."},
};

/* Renders the attendee page; notice (may be NULL) with status: 200 after a done action, 409
 * for a refused one. */
static void render_attendee(struct http_request *req, const struct admit_admin *admin,
                            const char *slug, int registration_id, unsigned status,
                            const char *notice, bool problem)
{
    json_t *attendee = NULL;
    enum admit_rc rc =
        admit_admin_view_attendee(http_db(req), admin->id, slug, registration_id, &attendee);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    if (rc != ADMIT_OK) {
        pages_load_failed(req, rc);
        return;
    }
    const char *st = json_string_value(json_object_get(attendee, "status"));
    char base[160], ticket[96];
    snprintf(base, sizeof base, "/admin/events/%s/attendees/%d", slug, registration_id);
    snprintf(ticket, sizeof ticket, "/tickets/%s",
             json_string_value(json_object_get(attendee, "token")));
    json_object_set_new(attendee, "base", json_string(base));
    json_object_set_new(attendee, "ticket_url", json_string(ticket));
    json_object_set_new(attendee, "is_confirmed", json_boolean(st && !strcmp(st, "confirmed")));
    json_object_set_new(attendee, "is_waitlisted", json_boolean(st && !strcmp(st, "waitlisted")));
    json_object_set_new(attendee, "is_cancelled", json_boolean(st && !strcmp(st, "cancelled")));
    json_t *event = json_incref(json_object_get(attendee, "event"));
    json_t *context = json_pack(
        "{s:s, s:O, s:o, s:o}", "title", "Attendee", "attendee", attendee, "event", event, "notice",
        notice != NULL ? json_pack("{s:s, s:b}", "message", notice, "problem", problem)
                       : json_null());
    json_decref(attendee);
    admin_render(req, status, "admin/attendee.html", context, admin, "attendees");
}

void admin_attendee_page(struct http_request *req)
{
    struct admit_admin admin;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int registration_id = admit_admin_parse_id(http_param(req, "id"));
    if (registration_id == 0) {
        admin_not_found(req);
        return;
    }
    const char *done = http_query(req, "done");
    const char *notice = NULL;
    for (size_t i = 0; done != NULL && i < sizeof done_messages / sizeof done_messages[0]; i++)
        if (strcmp(done, done_messages[i].name) == 0)
            notice = done_messages[i].message;
    render_attendee(req, &admin, slug, registration_id, 200, notice, false);
}

enum action { CANCEL, REISSUE, PROMOTE, CHECKIN };

static void act(struct http_request *req, enum action action)
{
    struct admit_admin admin;
    struct admit_admin_result result;
    enum admit_rc rc = ADMIT_OK;
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int registration_id = admit_admin_parse_id(http_param(req, "id"));
    if (registration_id == 0) {
        admin_not_found(req);
        return;
    }
    switch (action) {
    case CANCEL:
        rc = admit_admin_cancel(http_db(req), admin.id, slug, registration_id, &result);
        break;
    case REISSUE:
        rc = admit_admin_reissue(http_db(req), admin.id, slug, registration_id, &result);
        break;
    case PROMOTE:
        rc = admit_admin_promote(http_db(req), admin.id, slug, registration_id, &result);
        break;
    case CHECKIN: {
        int list_id = admit_admin_parse_id(http_form(req, "list"));
        const char *force = http_form(req, "force");
        if (list_id == 0) {
            http_respond_error(req, 400, "Bad request", "Choose the check-in list.");
            return;
        }
        rc = admit_admin_checkin(http_db(req), admin.id, slug, registration_id, list_id,
                                 force != NULL && strcmp(force, "yes") == 0, &result);
        break;
    }
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (result.outcome == ADMIT_ADMIN_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    if (result.outcome == ADMIT_ADMIN_DONE) {
        static const char *const done[] = {"cancelled", "reissued", "moved", "checked_in"};
        char location[200];
        const char *name = action == CANCEL && result.promoted_id ? "promoted" : done[action];
        snprintf(location, sizeof location, "/admin/events/%s/attendees/%d?done=%s", slug,
                 registration_id, name);
        http_log_note(req, name);
        http_redirect(req, location);
        return;
    }
    http_log_note(req, "refused");
    render_attendee(req, &admin, slug, registration_id, 409,
                    admit_admin_outcome_message(result.outcome), true);
}

void admin_attendee_cancel(struct http_request *req)
{
    act(req, CANCEL);
}

void admin_attendee_reissue(struct http_request *req)
{
    act(req, REISSUE);
}

void admin_attendee_promote(struct http_request *req)
{
    act(req, PROMOTE);
}

void admin_attendee_checkin(struct http_request *req)
{
    act(req, CHECKIN);
}
