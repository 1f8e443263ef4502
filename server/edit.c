/* The attendee edits their registration from the ticket page, until the event's edit deadline
 * (admit_edit_save: one round trip), and confirms a new email address from the link sent to
 * it. A form with errors comes back with the values as typed (422); a form older than the
 * registration comes back with the current values and says so (409); past the deadline the
 * page says until when changes were possible and whom to write to (403). */
#include <stdio.h>
#include <string.h>

#include "edit.h"
#include "pages.h"
#include "router.h"

#define EDIT_FORM  "edit"
#define EMAIL_FORM "email-confirm"

void edit_form_context(json_t *context, json_t *doc, struct admit_form_values *v,
                       const struct admit_edit *in, const struct admit_form_errors *errs,
                       const char *action, const char *back, const char *csrf_token)
{
    json_t *stored = json_object_get(doc, "values");
    json_t *values = json_object(), *errors = json_object(), *error_list = json_array();
    int chosen[ADMIT_EVENT_MAX_LISTS];
    size_t nchosen = 0;
    for (size_t i = 0; i < admit_registration_field_count; i++) {
        const char *name = admit_registration_fields[i].name;
        const char *value = v != NULL ? admit_form_values_get(v, name)
                                      : json_string_value(json_object_get(stored, name));
        json_object_set_new(values, name, json_string(value != NULL ? value : ""));
    }
    if (in != NULL) {
        nchosen = in->details.nlists;
        memcpy(chosen, in->details.list_ids, nchosen * sizeof chosen[0]);
    } else {
        size_t i;
        json_t *id;
        json_array_foreach(json_object_get(doc, "list_ids"), i,
                           id) if (nchosen < ADMIT_EVENT_MAX_LISTS) chosen[nchosen++] =
            (int)json_integer_value(id);
    }
    for (size_t i = 0; errs != NULL && i < errs->count; i++) {
        json_object_set_new(errors, errs->items[i].field, json_string(errs->items[i].message));
        json_array_append_new(error_list, json_pack("{s:s, s:s}", "field", errs->items[i].field,
                                                    "message", errs->items[i].message));
    }
    json_t *form = json_pack(
        "{s:s, s:s, s:s, s:O, s:o, s:o, s:o, s:b, s:b, s:O}", "action", action, "back", back,
        "csrf_token", csrf_token, "version", json_object_get(doc, "version"), "values", values,
        "errors", errors, "error_list", error_list, "has_errors", errs != NULL && errs->count > 0,
        "is_edit", 1, "pending_email", json_object_get(doc, "pending_email"));
    json_t *event = json_object_get(doc, "event");
    json_object_set_new(context, "form", form);
    json_object_set_new(
        context, "countries",
        pages_countries_json(json_string_value(json_object_get(values, "country"))));
    json_object_set_new(context, "organisation_types",
                        pages_organisation_types_json(
                            json_string_value(json_object_get(values, "organisation_type"))));
    json_object_set_new(context, "lists", pages_lists_json(event, chosen, nchosen));
}

bool edit_outcome_error(const struct admit_edit_result *result, struct admit_form_errors *errs)
{
    if (result->error.field[0] == '\0')
        return false;
    admit_form_add_error(errs, result->error.field, result->error.message);
    return true;
}

static void no_ticket(struct http_request *req)
{
    http_respond_error(req, 404, "Ticket not found",
                       "This ticket link is not valid. Check that you copied the whole link from "
                       "your confirmation.");
}

/* Renders the attendee's edit page of doc with status; v, in and errs as edit_form_context. */
static void render_edit(struct http_request *req, unsigned status, json_t *doc,
                        struct admit_form_values *v, const struct admit_edit *in,
                        const struct admit_form_errors *errs, bool stale)
{
    char action[96], back[96];
    const char *token = http_param(req, "token");
    snprintf(action, sizeof action, "/tickets/%s/edit", token);
    snprintf(back, sizeof back, "/tickets/%s", token);
    json_t *event = pages_decorate_event(json_object_get(doc, "event"));
    json_t *context =
        json_pack("{s:s, s:O, s:s, s:O, s:b, s:b}", "title", "Change your registration", "event",
                  event, "ticket_url", back, "edit_until", json_object_get(doc, "edit_until"),
                  "closed", json_is_true(json_object_get(doc, "edit_closed")), "stale", stale);
    edit_form_context(context, doc, v, in, errs, action, back, http_csrf_token(req, EDIT_FORM));
    http_render(req, status, "edit.html", context);
}

/* Loads the edit document of the ticket in the path; answers 404, 503 or 500 itself. */
static bool load(struct http_request *req, json_t **doc)
{
    struct admit_edit_who who = {.token = http_param(req, "token")};
    http_no_store(req);
    enum admit_rc rc = admit_edit_form_load(http_db(req), &who, doc);
    if (rc == ADMIT_ERR_NOT_FOUND)
        no_ticket(req);
    else if (rc != ADMIT_OK)
        pages_load_failed(req, rc);
    return rc == ADMIT_OK;
}

static void edit_page(struct http_request *req)
{
    json_t *doc = NULL;
    char ticket[96];
    if (!load(req, &doc))
        return;
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (status != NULL && strcmp(status, "cancelled") == 0) {
        snprintf(ticket, sizeof ticket, "/tickets/%s", http_param(req, "token"));
        http_redirect(req, ticket);
    } else {
        render_edit(req, 200, doc, NULL, NULL, NULL, false);
    }
    json_decref(doc);
}

/* Where a saved edit goes: the ticket page, with what to say. */
static void saved(struct http_request *req, const struct admit_edit_result *result)
{
    char location[128];
    snprintf(location, sizeof location, "/tickets/%s?%s", result->token,
             result->email_pending                     ? "changed=1&email_sent=1"
             : result->outcome == ADMIT_EDIT_UNCHANGED ? "unchanged=1"
                                                       : "changed=1");
    http_log_note(req, result->outcome == ADMIT_EDIT_UNCHANGED ? "unchanged" : "edited");
    http_redirect(req, location);
}

static void edit(struct http_request *req)
{
    struct admit_edit_who who = {.token = http_param(req, "token")};
    struct admit_form_values form;
    struct admit_form_errors errs = {.count = 0};
    struct admit_edit in;
    struct admit_edit_result result = {.outcome = ADMIT_EDIT_NOT_FOUND};
    json_t *doc = NULL;

    if (!http_csrf_check(req, EDIT_FORM))
        return;
    admit_form_values_init(&form, http_form_data(req));
    if (admit_edit_read(&form, &in, &errs) == 0) {
        enum admit_rc rc = admit_edit_save(http_db(req), &who, &in, &result);
        if (rc != ADMIT_OK) {
            http_respond_db_error(req, rc);
            goto done;
        }
        if (result.outcome == ADMIT_EDIT_SAVED || result.outcome == ADMIT_EDIT_UNCHANGED) {
            saved(req, &result);
            goto done;
        }
        edit_outcome_error(&result, &errs);
    }
    if (result.outcome == ADMIT_EDIT_CANCELLED) {
        http_respond_error(req, 409, "Registration cancelled",
                           "This registration is cancelled, so it can no longer be changed. "
                           "Nothing was saved.");
        goto done;
    }
    /* Not saved: the page is shown again, with the registration as it is now. */
    if (!load(req, &doc))
        goto done;
    if (errs.count > 0) {
        http_log_note(req, "invalid");
        render_edit(req, 422, doc, &form, &in, &errs, false);
    } else if (result.outcome == ADMIT_EDIT_STALE) {
        http_log_note(req, "stale");
        render_edit(req, 409, doc, NULL, NULL, NULL, true);
    } else if (result.outcome == ADMIT_EDIT_CLOSED) {
        http_log_note(req, "closed");
        json_object_set_new(doc, "edit_closed", json_true());
        render_edit(req, 403, doc, NULL, NULL, NULL, false);
    } else {
        no_ticket(req);
    }
done:
    json_decref(doc);
    admit_form_values_free(&form);
}

static void confirm_page(struct http_request *req)
{
    char action[96];
    http_no_store(req);
    snprintf(action, sizeof action, "/email/confirm/%s", http_param(req, "token"));
    http_render(req, 200, "email_confirm.html",
                json_pack("{s:s, s:b, s:s, s:s}", "title", "Confirm your new email address", "ask",
                          1, "action", action, "csrf_token", http_csrf_token(req, EMAIL_FORM)));
}

static void confirm(struct http_request *req)
{
    struct admit_email_confirm_result result;
    char location[128];
    if (!http_csrf_check(req, EMAIL_FORM))
        return;
    http_no_store(req);
    enum admit_rc rc = admit_edit_confirm_email(http_db(req), http_param(req, "token"), &result);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (result.outcome == ADMIT_EMAIL_CONFIRMED) {
        http_log_note(req, "email-confirmed");
        snprintf(location, sizeof location, "/tickets/%s?email_confirmed=1", result.token);
        http_redirect(req, location);
        return;
    }
    unsigned status =
        result.outcome == ADMIT_EMAIL_NOT_FOUND                                          ? 404
        : result.outcome == ADMIT_EMAIL_CANCELLED || result.outcome == ADMIT_EMAIL_TAKEN ? 409
                                                                                         : 410;
    snprintf(location, sizeof location, "/tickets/%s", result.token);
    http_log_note(req, "email-refused");
    http_render(req, status, "email_confirm.html",
                json_pack("{s:s, s:b, s:s, s:s?}", "title", "The address was not changed",
                          "problem", 1, "message", admit_email_confirm_message(result.outcome),
                          "ticket_url", result.token[0] != '\0' ? location : NULL));
}

const struct http_route edit_routes[] = {
    {HTTP_GET, "/tickets/:token/edit", edit_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/tickets/:token/edit", edit, HTTP_ROUTE_DB},
    {HTTP_GET, "/email/confirm/:token", confirm_page, 0},
    {HTTP_POST, "/email/confirm/:token", confirm, HTTP_ROUTE_DB},
    {0},
};
