/* An organiser edits any registration of their events (/admin/events/SLUG/attendees/ID/edit)
 * with the registration form's rules and no deadline, and sees its change history there. One
 * round trip per save (admit_edit_save); answers as the attendee's edit page does (edit.c):
 * 422 with the values kept, 409 with the current values for a stale form. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "edit.h"
#include "router.h"

/* Renders the edit page of doc; notice_title (may be NULL) with notice_message and problem. */
static void render(struct http_request *req, const struct admit_admin *admin, unsigned status,
                   json_t *doc, struct admit_form_values *v, const struct admit_edit *in,
                   const struct admit_form_errors *errs, const char *notice_title,
                   const char *notice_message, bool problem)
{
    char base[160], action[176];
    const char *slug = http_param(req, "slug");
    json_t *values = json_object_get(doc, "values");
    char name[220];
    snprintf(base, sizeof base, "/admin/events/%s/attendees/%lld", slug,
             (long long)json_integer_value(json_object_get(doc, "id")));
    snprintf(action, sizeof action, "%s/edit", base);
    snprintf(name, sizeof name, "%s %s", json_string_value(json_object_get(values, "given_name")),
             json_string_value(json_object_get(values, "family_name")));
    const char *status_text = json_string_value(json_object_get(doc, "status"));
    json_t *changes = json_object_get(doc, "changes");
    json_t *context =
        json_pack("{s:s, s:O, s:s, s:s, s:O, s:b, s:O, s:b}", "title", "Edit registration", "event",
                  json_object_get(doc, "event"), "attendee_url", base, "name", name, "edit_until",
                  json_object_get(doc, "edit_until"), "cancelled",
                  status_text != NULL && strcmp(status_text, "cancelled") == 0, "changes", changes,
                  "has_changes", json_array_size(changes) > 0);
    if (notice_title != NULL)
        json_object_set_new(context, "notice",
                            json_pack("{s:s, s:s?, s:b}", "title", notice_title, "message",
                                      notice_message, "problem", problem));
    edit_form_context(context, doc, v, in, errs, action, base,
                      http_csrf_token(req, ADMIN_CSRF_FORM));
    admin_render(req, status, "admin/edit.html", context, admin, "attendees");
}

/* The start of both handlers: the session, the slug, the id and the edit document. Returns
 * false after answering. */
static bool begin(struct http_request *req, struct admit_admin *admin, struct admit_edit_who *who,
                  json_t **doc)
{
    *doc = NULL;
    who->slug = admin_event_begin(req, admin, ADMIN_PAGE);
    if (who->slug == NULL)
        return false;
    who->admin_id = admin->id;
    who->registration_id = admit_admin_parse_id(http_param(req, "id"));
    if (who->registration_id == 0) {
        admin_not_found(req);
        return false;
    }
    return admin_loaded(req, admit_edit_form_load(http_db(req), who, doc));
}

static void edit_page(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_edit_who who = {0};
    json_t *doc = NULL;
    if (!begin(req, &admin, &who, &doc))
        return;
    const char *saved = http_query(req, "saved");
    if (saved == NULL)
        render(req, &admin, 200, doc, NULL, NULL, NULL, NULL, NULL, false);
    else if (strcmp(saved, "email") == 0)
        render(req, &admin, 200, doc, NULL, NULL, NULL, "Saved.",
               "The new email address takes effect when the attendee follows the link sent "
               "to it; the attendee was emailed a summary of the change.",
               false);
    else
        render(req, &admin, 200, doc, NULL, NULL, NULL, "Saved.",
               "The attendee was emailed a summary of the change.", false);
    json_decref(doc);
}

static void edit(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_edit_who who = {0};
    struct admit_form_values form;
    struct admit_form_errors errs = {.count = 0};
    struct admit_edit in;
    struct admit_edit_result result = {.outcome = ADMIT_EDIT_NOT_FOUND};
    json_t *doc = NULL;
    char location[200];

    admit_form_values_init(&form, http_form_data(req));
    if (!http_csrf_check(req, ADMIN_CSRF_FORM) || !begin(req, &admin, &who, &doc))
        goto done;
    if (admit_edit_read(&form, &in, &errs) == 0) {
        enum admit_rc rc = admit_edit_save(http_db(req), &who, &in, &result);
        if (rc != ADMIT_OK) {
            http_respond_db_error(req, rc);
            goto done;
        }
        if (result.outcome == ADMIT_EDIT_SAVED || result.outcome == ADMIT_EDIT_UNCHANGED) {
            snprintf(location, sizeof location, "/admin/events/%s/attendees/%d/edit?saved=%s",
                     who.slug, who.registration_id, result.email_pending ? "email" : "1");
            http_log_note(req, result.outcome == ADMIT_EDIT_SAVED ? "edited" : "unchanged");
            if (result.outcome == ADMIT_EDIT_SAVED)
                admin_audit_registration(req, admin.id, "registration.edit", who.registration_id);
            http_redirect(req, location);
            goto done;
        }
        edit_outcome_error(&result, &errs);
    }
    if (errs.count > 0) {
        http_log_note(req, "invalid");
        render(req, &admin, 422, doc, &form, &in, &errs, NULL, NULL, false);
        goto done;
    }
    /* Refused: the form shows the registration as it is now. */
    json_decref(doc);
    if (!begin(req, &admin, &who, &doc))
        goto done;
    if (result.outcome == ADMIT_EDIT_STALE) {
        http_log_note(req, "stale");
        render(req, &admin, 409, doc, NULL, NULL, NULL,
               "Someone else changed this registration meanwhile",
               "Your changes were not saved: the registration was changed after you opened this "
               "form. The form shows it as it is now: make your changes again and save.",
               true);
    } else if (result.outcome == ADMIT_EDIT_CANCELLED) {
        render(req, &admin, 409, doc, NULL, NULL, NULL, "This registration is cancelled",
               "A cancelled registration can no longer be changed. Nothing was saved.", true);
    } else if (result.outcome == ADMIT_EDIT_ERASED) {
        render(req, &admin, 409, doc, NULL, NULL, NULL, "This registration was erased",
               "Its personal data was erased and cannot be added back. Nothing was saved.", true);
    } else {
        admin_not_found(req);
    }
done:
    json_decref(doc);
    admit_form_values_free(&form);
}

const struct http_route admin_edit_routes[] = {
    {HTTP_GET, "/admin/events/:slug/attendees/:id/edit", edit_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/attendees/:id/edit", edit, HTTP_ROUTE_DB},
    {0},
};
