/* Attendees for their organisers: the paginated, searchable list. One attendee's page and the
 * actions on them are in admin_actions.c. */
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
    if (!admin_loaded(req, rc))
        return;
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
