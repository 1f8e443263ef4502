/* The door review (admit/register/admin_review.h): the flagged scans of an event, each case
 * explained, all of them or only the open ones (?show=open), and the form that marks a case
 * reviewed with a note. A recorded review (or one recorded before: a form sent twice) redirects
 * back to the page; a note that will not do shows the page again with a 422, the message next
 * to the case and the note kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admit/register/admin_review.h"
#include "pages.h"

/* Renders the review page. note_scan (0: none) is the case whose note err refuses, note the
 * text sent for it. */
static void render_review(struct http_request *req, const struct admit_admin *admin,
                          const char *slug, bool open_only, long note_scan, const char *note,
                          const struct admit_error *err)
{
    json_t *data = NULL;
    enum admit_rc rc = admit_admin_review_view(http_db(req), admin->id, slug, open_only, &data);
    if (!admin_loaded(req, rc))
        return;
    json_t *cases = json_incref(json_object_get(data, "cases"));
    bool shown = false;
    size_t i;
    json_t *one;
    json_array_foreach(cases, i, one)
    {
        json_t *reg = json_object_get(one, "registration_id");
        long scan = (long)json_integer_value(json_object_get(json_object_get(one, "scan"), "id"));
        char href[160];
        if (json_is_integer(reg)) {
            snprintf(href, sizeof href, "/admin/events/%s/attendees/%lld", slug,
                     (long long)json_integer_value(reg));
            json_object_set_new(one, "href", json_string(href));
        }
        snprintf(href, sizeof href, "/admin/events/%s/flagged/%ld/review", slug, scan);
        json_object_set_new(one, "review_url", json_string(href));
        if (note_scan != 0 && scan == note_scan) {
            json_object_set_new(one, "form",
                                json_pack("{s:s, s:s}", "note", note, "error", err->message));
            shown = true;
        }
    }
    json_t *context =
        json_pack("{s:s, s:O, s:o, s:O, s:O, s:b, s:s}", "title", "Flagged scans", "event",
                  json_object_get(data, "event"), "cases", cases, "total",
                  json_object_get(data, "total"), "open", json_object_get(data, "open"),
                  "open_only", open_only, "show", open_only ? "open" : "all");
    /* A case not on the page (reviewed meanwhile, filtered out): the message goes on top. */
    if (note_scan != 0 && !shown)
        json_object_set_new(context, "problem", json_string(err->message));
    json_decref(data);
    admin_render(req, note_scan ? 422 : 200, "admin/flagged.html", context, admin, "flagged");
}

/* ?show=: "" or "all" false, "open" true; anything else answers 400 and returns -1. */
static int show_open(struct http_request *req, const char *show)
{
    if (show == NULL || show[0] == '\0' || strcmp(show, "all") == 0)
        return 0;
    if (strcmp(show, "open") == 0)
        return 1;
    http_respond_error(req, 400, "Bad request",
                       "This filter is not valid: show all cases, or the open ones only.");
    return -1;
}

void admin_flagged_page(struct http_request *req)
{
    struct admit_admin admin;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int open_only = show_open(req, http_query(req, "show"));
    if (open_only >= 0)
        render_review(req, &admin, slug, open_only == 1, 0, NULL, NULL);
}

void admin_flagged_review(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_error err;
    enum admit_review_outcome outcome;
    char location[200];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    long scan = admit_admin_parse_id(http_param(req, "scan"));
    int open_only = show_open(req, http_form(req, "show"));
    if (scan == 0) {
        admin_not_found(req);
        return;
    }
    if (open_only < 0)
        return;
    const char *note = http_form(req, "note");
    enum admit_rc rc =
        admit_admin_review_scan(http_db(req), admin.id, slug, scan, note, &outcome, &err);
    if (rc == ADMIT_ERR_INVALID) {
        http_log_note(req, "invalid");
        render_review(req, &admin, slug, open_only == 1, scan, note != NULL ? note : "", &err);
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (outcome == ADMIT_REVIEW_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    http_log_note(req, outcome == ADMIT_REVIEW_DONE ? "reviewed" : "already reviewed");
    snprintf(location, sizeof location, "/admin/events/%s/flagged%s#case-%ld", slug,
             open_only == 1 ? "?show=open" : "", scan);
    http_redirect(req, location);
}
