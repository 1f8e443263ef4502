/* One attendee for their organisers: the page with their registration, ticket and scans, and
 * the actions on them (cancel, reissue the ticket, move from the waiting list, check in by
 * name). An action is a GET of its address first, a page that says in words what will happen,
 * whose form carries a fresh key; posting that form acts once per key (admit_admin_act): a
 * second submission redirects to the same result. A done action redirects back to the
 * attendee's page with a notice; a refused one shows the page again with the reason and a 409.
 * Only the actions that make sense for the registration's state are offered: the attendee's
 * view carries the database's refusals (admit_admin_action_refusal), the one home of that rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admit/register/admin_actions.h"
#include "pages.h"

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

/* The attendee's view with the addresses the pages need, or NULL after answering (404, 503). */
static json_t *load_attendee(struct http_request *req, const struct admit_admin *admin,
                             const char *slug, int registration_id)
{
    json_t *attendee = NULL;
    enum admit_rc rc =
        admit_admin_view_attendee(http_db(req), admin->id, slug, registration_id, &attendee);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        admin_not_found(req);
        return NULL;
    }
    if (rc != ADMIT_OK) {
        pages_load_failed(req, rc);
        return NULL;
    }
    const char *st = json_string_value(json_object_get(attendee, "status"));
    char base[160], ticket[512];
    snprintf(base, sizeof base, "/admin/events/%s/attendees/%d", slug, registration_id);
    /* Absolute, so that the organiser can copy it into a message. */
    snprintf(ticket, sizeof ticket, "%s/tickets/%s", http_server(req)->public_url,
             json_string_value(json_object_get(attendee, "token")));
    json_object_set_new(attendee, "base", json_string(base));
    json_object_set_new(attendee, "ticket_url", json_string(ticket));
    json_object_set_new(attendee, "is_confirmed", json_boolean(st && !strcmp(st, "confirmed")));
    json_object_set_new(attendee, "is_waitlisted", json_boolean(st && !strcmp(st, "waitlisted")));
    json_object_set_new(attendee, "is_cancelled", json_boolean(st && !strcmp(st, "cancelled")));
    return attendee;
}

/* Renders the attendee page; notice (may be NULL) with status: 200 after a done action, 409
 * for a refused one. done names the done action (may be NULL). */
static void render_attendee(struct http_request *req, const struct admit_admin *admin,
                            const char *slug, int registration_id, unsigned status,
                            const char *notice, const char *done)
{
    json_t *attendee = load_attendee(req, admin, slug, registration_id);
    if (attendee == NULL)
        return;
    json_t *event = json_incref(json_object_get(attendee, "event"));
    json_t *context = json_pack(
        "{s:s, s:O, s:o, s:o}", "title", "Attendee", "attendee", attendee, "event", event, "notice",
        notice != NULL ? json_pack("{s:s, s:b, s:b}", "message", notice, "problem", status >= 400,
                                   "reissued", done != NULL && !strcmp(done, "reissued"))
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
    render_attendee(req, &admin, slug, registration_id, 200, notice, notice ? done : NULL);
}

/* The list of the attendee's view with this id, or NULL. */
static json_t *find_list(json_t *attendee, int list_id)
{
    size_t i;
    json_t *list;
    json_array_foreach(json_object_get(attendee, "lists"), i, list)
    {
        if (json_integer_value(json_object_get(list, "id")) == list_id)
            return list;
    }
    return NULL;
}

/* Why the attendee's view says kind is not offered (a refusal outcome), or ADMIT_ADMIN_DONE
 * when it is. For a check-in, list is the chosen list. */
static enum admit_admin_outcome refusal(json_t *attendee, enum admit_admin_action_kind kind,
                                        json_t *list)
{
    const char *name = admit_admin_action_name(kind);
    const char *why =
        json_string_value(json_object_get(json_object_get(attendee, "refusals"), name));
    if (why != NULL)
        return admit_admin_outcome_of(why, kind);
    if (kind == ADMIT_ADMIN_CHECKIN && json_is_true(json_object_get(list, "admitted")))
        return ADMIT_ADMIN_ALREADY_CHECKED_IN;
    return ADMIT_ADMIN_DONE;
}

/* GET of an action's address: the confirmation page, with a fresh key in its form. */
static void confirm(struct http_request *req, enum admit_admin_action_kind kind)
{
    struct admit_admin admin;
    char key[ADMIT_TOKEN_SIZE];
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int registration_id = admit_admin_parse_id(http_param(req, "id"));
    int list_id = admit_admin_parse_id(http_query(req, "list"));
    if (registration_id == 0) {
        admin_not_found(req);
        return;
    }
    json_t *attendee = load_attendee(req, &admin, slug, registration_id);
    if (attendee == NULL)
        return;
    json_t *list = find_list(attendee, list_id);
    if (kind == ADMIT_ADMIN_CHECKIN && list == NULL) {
        json_decref(attendee);
        if (list_id == 0)
            http_respond_error(req, 400, "Bad request",
                               "Choose the check-in list from the attendee's page.");
        else
            admin_not_found(req);
        return;
    }
    enum admit_admin_outcome why = refusal(attendee, kind, list);
    if (why != ADMIT_ADMIN_DONE) {
        json_decref(attendee);
        http_log_note(req, "not offered");
        render_attendee(req, &admin, slug, registration_id, 409, admit_admin_outcome_message(why),
                        NULL);
        return;
    }
    admit_token_new(key);
    json_t *event = json_incref(json_object_get(attendee, "event"));
    json_t *context = json_pack(
        "{s:s, s:o, s:o, s:s, s:s, s:O?, s:b, s:b, s:b, s:b, s:b}", "title", "Confirm", "attendee",
        attendee, "event", event, "key", key, "action", admit_admin_action_name(kind), "list", list,
        "force", list != NULL && !json_is_true(json_object_get(list, "on_list")), "cancel",
        kind == ADMIT_ADMIN_CANCEL, "reissue", kind == ADMIT_ADMIN_REISSUE, "promote",
        kind == ADMIT_ADMIN_PROMOTE, "checkin", kind == ADMIT_ADMIN_CHECKIN);
    admin_render(req, 200, "admin/confirm.html", context, &admin, "attendees");
}

/* Where a done action sends the browser (the same for every submission of its key). */
static void redirect_done(struct http_request *req, const char *slug, int registration_id,
                          enum admit_admin_action_kind kind, const struct admit_admin_result *r)
{
    static const char *const done[] = {"cancelled", "reissued", "moved", "checked_in"};
    char location[200];
    const char *name = kind == ADMIT_ADMIN_CANCEL && r->promoted_id ? "promoted" : done[kind];
    snprintf(location, sizeof location, "/admin/events/%s/attendees/%d?done=%s", slug,
             registration_id, name);
    http_log_note(req, r->replayed ? "replayed" : name);
    http_redirect(req, location);
}

/* POST of the confirmation form. */
static void act(struct http_request *req, enum admit_admin_action_kind kind)
{
    struct admit_admin admin;
    struct admit_admin_result result;
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
    const char *force = http_form(req, "force");
    struct admit_admin_action action = {kind, http_form(req, "key"),
                                        admit_admin_parse_id(http_form(req, "list")),
                                        force != NULL && strcmp(force, "yes") == 0};
    if (kind == ADMIT_ADMIN_CHECKIN && action.list_id == 0) {
        http_respond_error(req, 400, "Bad request", "Choose the check-in list.");
        return;
    }
    enum admit_rc rc =
        admit_admin_act(http_db(req), admin.id, slug, registration_id, &action, &result);
    if (rc == ADMIT_ERR_INVALID) {
        http_respond_error(req, 400, "Not confirmed",
                           "This form has no valid confirmation key, so nothing was done. Open "
                           "the action again from the attendee's page and confirm it there.");
        return;
    }
    if (rc == ADMIT_ERR_CONFLICT) {
        http_respond_error(req, 422, "Not confirmed",
                           "This confirmation belongs to another action or attendee, so nothing "
                           "was done. Open the action again from the attendee's page.");
        return;
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
        static const char *const audited[] = {
            [ADMIT_ADMIN_CANCEL] = "registration.cancel",
            [ADMIT_ADMIN_REISSUE] = "registration.reissue",
            [ADMIT_ADMIN_PROMOTE] = "registration.promote",
            [ADMIT_ADMIN_CHECKIN] = "registration.checkin",
        };
        admin_audit_registration(req, admin.id, audited[kind], registration_id);
        redirect_done(req, slug, registration_id, kind, &result);
        return;
    }
    http_log_note(req, "refused");
    render_attendee(req, &admin, slug, registration_id, 409,
                    admit_admin_outcome_message(result.outcome), NULL);
}

void admin_attendee_cancel(struct http_request *req)
{
    act(req, ADMIT_ADMIN_CANCEL);
}

void admin_attendee_reissue(struct http_request *req)
{
    act(req, ADMIT_ADMIN_REISSUE);
}

void admin_attendee_promote(struct http_request *req)
{
    act(req, ADMIT_ADMIN_PROMOTE);
}

void admin_attendee_checkin(struct http_request *req)
{
    act(req, ADMIT_ADMIN_CHECKIN);
}

void admin_attendee_confirm_cancel(struct http_request *req)
{
    confirm(req, ADMIT_ADMIN_CANCEL);
}

void admin_attendee_confirm_reissue(struct http_request *req)
{
    confirm(req, ADMIT_ADMIN_REISSUE);
}

void admin_attendee_confirm_promote(struct http_request *req)
{
    confirm(req, ADMIT_ADMIN_PROMOTE);
}

void admin_attendee_confirm_checkin(struct http_request *req)
{
    confirm(req, ADMIT_ADMIN_CHECKIN);
}
