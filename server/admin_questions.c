/* An event's own questions for its organisers (/admin/events/SLUG/questions): the list in order,
 * adding, changing, moving and removing one (soft: its answers stay in the exports), each a form
 * with CSRF. The rules and limits are the library's (admit/register/questions.h); bad input is
 * answered 422 with the values kept and nothing saved. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "admit/register/questions.h"
#include "router.h"

static const char *const kind_labels[][2] = {
    {"short_text", "Short text (one line)"},
    {"long_text", "Long text (several lines)"},
    {"radio", "One choice (buttons)"},
    {"select", "One choice (drop-down list)"},
    {"multi", "Several choices"},
    {"yes_no", "Yes or no"},
    {"number", "Number"},
    {"date", "Date"},
    {"consent", "Consent (a box to tick; its wording and time are kept)"},
};

/* The form's context: values as sent (v) or of the question q (edit) or empty. */
static json_t *form_context(const char *action, json_t *q, struct admit_form_values *v,
                            const struct admit_form_errors *errs)
{
    json_t *values = json_object(), *errors = json_object(), *error_list = json_array();
    static const char *const names[] = {"kind", "label", "help", "options", "required", "at_door"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = v != NULL ? admit_form_values_get(v, names[i]) : NULL;
        json_object_set_new(values, names[i], json_string(value != NULL ? value : ""));
    }
    if (q != NULL) {
        json_t *options = json_object_get(q, "options"), *o;
        size_t i;
        char text[ADMIT_QUESTION_OPTIONS_MAX * (ADMIT_QUESTION_OPTION_MAX * 4 + 1) + 1] = "";
        json_array_foreach(options, i, o)
        {
            if (i > 0)
                strncat(text, "\n", sizeof text - strlen(text) - 1);
            strncat(text, json_string_value(o), sizeof text - strlen(text) - 1);
        }
        json_object_set(values, "kind", json_object_get(q, "kind"));
        json_object_set(values, "label", json_object_get(q, "label"));
        json_object_set(values, "help", json_object_get(q, "help"));
        json_object_set_new(values, "options", json_string(text));
        json_object_set_new(values, "required",
                            json_string(json_is_true(json_object_get(q, "required")) ? "yes" : ""));
        json_object_set_new(values, "at_door",
                            json_string(json_is_true(json_object_get(q, "at_door")) ? "yes" : ""));
    }
    const char *kind = json_string_value(json_object_get(values, "kind"));
    json_t *kinds = json_array();
    for (size_t i = 0; i < sizeof kind_labels / sizeof kind_labels[0]; i++)
        json_array_append_new(kinds, json_pack("{s:s, s:s, s:b}", "value", kind_labels[i][0],
                                               "label", kind_labels[i][1], "selected",
                                               kind != NULL && !strcmp(kind, kind_labels[i][0])));
    for (size_t i = 0; errs != NULL && i < errs->count; i++) {
        json_object_set_new(errors, errs->items[i].field, json_string(errs->items[i].message));
        json_array_append_new(error_list, json_pack("{s:s, s:s}", "field", errs->items[i].field,
                                                    "message", errs->items[i].message));
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:b}", "action", action, "values", values,
                     "errors", errors, "error_list", error_list, "kinds", kinds, "has_errors",
                     errs != NULL && errs->count > 0, "required",
                     !strcmp(json_string_value(json_object_get(values, "required")), "yes"),
                     "at_door",
                     !strcmp(json_string_value(json_object_get(values, "at_door")), "yes"));
}

/* The question id of page, or NULL. Borrowed. */
static json_t *find_question(json_t *page, int id)
{
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(page, "questions"), i, q)
    {
        if (id > 0 && json_integer_value(json_object_get(q, "id")) == id)
            return q;
    }
    return NULL;
}

/* The questions page, with the form to add one (id 0) or change question id. */
static void render(struct http_request *req, unsigned status, const struct admit_admin *admin,
                   const char *slug, int id, struct admit_form_values *v,
                   const struct admit_form_errors *errs, const char *notice)
{
    char action[160];
    json_t *page = NULL;
    if (!admin_loaded(req, admit_question_page(http_db(req), admin->id, slug, &page)))
        return;
    json_t *q = id > 0 ? find_question(page, id) : NULL;
    if (id > 0 && q == NULL) {
        json_decref(page);
        admin_not_found(req);
        return;
    }
    if (id > 0)
        snprintf(action, sizeof action, "/admin/events/%s/questions/%d", slug, id);
    else
        snprintf(action, sizeof action, "/admin/events/%s/questions", slug);
    json_t *questions = json_object_get(page, "questions"), *item;
    size_t i, n = json_array_size(questions);
    json_array_foreach(questions, i, item)
    {
        json_object_set_new(item, "first", json_boolean(i == 0));
        json_object_set_new(item, "last", json_boolean(i + 1 == n));
        json_object_set_new(item, "n", json_integer((json_int_t)i + 1));
    }
    json_object_set_new(page, "title", json_string(id > 0 ? "Change a question" : "Questions"));
    json_object_set_new(page, "has_questions", json_boolean(n > 0));
    json_object_set_new(page, "is_edit", json_boolean(id > 0));
    json_object_set_new(page, "form", form_context(action, v == NULL ? q : NULL, v, errs));
    if (notice != NULL)
        json_object_set_new(page, "notice", json_string(notice));
    admin_render(req, status, "admin/questions.html", page, admin, "questions");
}

static void questions_page(struct http_request *req)
{
    struct admit_admin admin;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    const char *done = http_query(req, "done");
    if (slug != NULL)
        render(req, 200, &admin, slug, 0, NULL, NULL,
               done == NULL             ? NULL
               : !strcmp(done, "saved") ? "The question is saved."
               : !strcmp(done, "removed")
                   ? "The question is removed from the form; its answers stay in the exports."
                   : "The order is saved.");
}

static void question_edit_page(struct http_request *req)
{
    struct admit_admin admin;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    if (id <= 0)
        admin_not_found(req);
    else
        render(req, 200, &admin, slug, id, NULL, NULL, NULL);
}

static void save(struct http_request *req, int id)
{
    struct admit_admin admin;
    struct admit_form_values v;
    struct admit_form_errors errs = {.count = 0};
    struct admit_question q;
    enum admit_question_outcome outcome = ADMIT_QUESTION_NOT_FOUND;
    char location[160];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    admit_form_values_init(&v, http_form_data(req));
    if (admit_question_read(&v, &q, &errs) == 0) {
        enum admit_rc rc = admit_question_save(http_db(req), admin.id, slug, id, &q, &outcome);
        if (rc != ADMIT_OK) {
            http_respond_db_error(req, rc);
            goto done;
        }
        if (outcome == ADMIT_QUESTION_TOO_MANY)
            admit_form_add_error(&errs, "label",
                                 "This event has 50 questions, the most it can have: remove one "
                                 "before adding another");
        else if (outcome == ADMIT_QUESTION_TOO_MANY_DOOR)
            admit_form_add_error(&errs, "at_door",
                                 "Two questions are shown at the door already: untick one of "
                                 "them first");
    }
    if (errs.count > 0) {
        render(req, 422, &admin, slug, id, &v, &errs, NULL);
    } else if (outcome == ADMIT_QUESTION_NOT_FOUND) {
        admin_not_found(req);
    } else {
        snprintf(location, sizeof location, "/admin/events/%s/questions?done=saved", slug);
        http_redirect(req, location);
    }
done:
    admit_question_free(&q);
    admit_form_values_free(&v);
}

static void question_add(struct http_request *req)
{
    save(req, 0);
}

static void question_change(struct http_request *req)
{
    int id = admit_admin_parse_id(http_param(req, "id"));
    if (id <= 0)
        admin_not_found(req);
    else
        save(req, id);
}

static void act(struct http_request *req, const char *action)
{
    struct admit_admin admin;
    bool done = false;
    char location[160];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    int id = admit_admin_parse_id(http_param(req, "id"));
    enum admit_rc rc =
        id > 0 ? admit_question_act(http_db(req), admin.id, slug, id, action, &done) : ADMIT_OK;
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (!done) {
        admin_not_found(req);
        return;
    }
    snprintf(location, sizeof location, "/admin/events/%s/questions?done=%s", slug,
             strcmp(action, "remove") == 0 ? "removed" : "moved");
    http_redirect(req, location);
}

static void question_remove(struct http_request *req)
{
    act(req, "remove");
}

static void question_up(struct http_request *req)
{
    act(req, "up");
}

static void question_down(struct http_request *req)
{
    act(req, "down");
}

const struct http_route admin_question_routes[] = {
    {HTTP_GET, "/admin/events/:slug/questions", questions_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/questions", question_add, HTTP_ROUTE_DB},
    {HTTP_GET, "/admin/events/:slug/questions/:id", question_edit_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/questions/:id", question_change, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/questions/:id/remove", question_remove, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/questions/:id/up", question_up, HTTP_ROUTE_DB},
    {HTTP_POST, "/admin/events/:slug/questions/:id/down", question_down, HTTP_ROUTE_DB},
    {0},
};
