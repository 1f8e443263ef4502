/* The attendee's way in: the home page, an event's page with its registration form, and the
 * form's submission. Registering is one round trip (admit_register in SQL); the form is only
 * re-read from the database when it has to be shown again.
 *
 * The event page is what a rush hits: it is rendered once per EVENT_PAGE_TTL_NS and process,
 * with marks where each view's own CSRF token and form nonce go, and every view copies it with
 * fresh tokens in the marks (page_cache.h, admit/splice.h). So what it says about the event (free
 * seats, open or closed) may lag the database by that long; registering itself always asks the
 * database. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "admit/register/page.h"
#include "admit/register/questions.h"
#include "admit/register/registration.h"
#include "admit/register/resend.h"
#include "admit/core/splice.h"
#include "page_cache.h"
#include "pages.h"
#include "router.h"

#define REGISTER_FORM "register"
/* How long an event page is served from the cache before the event is read again. */
#define EVENT_PAGE_TTL_NS 1000000000LL
/* Events whose page the cache holds at most (only existing events take room). */
#define EVENT_PAGE_CACHE_SIZE 64
/* Largest rendered event page. */
#define EVENT_PAGE_MAX (8u << 20)

static void home(struct http_request *req)
{
    json_t *events = NULL;
    enum admit_rc rc = admit_page_upcoming(http_db(req), &events);
    if (rc != ADMIT_OK) {
        pages_load_failed(req, rc);
        return;
    }
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event) pages_decorate_event(event);
    http_render(req, 200, "index.html",
                json_pack("{s:s, s:o}", "title", "Events", "events", events));
}

static void no_event(struct http_request *req)
{
    http_respond_error(req, 404, "Event not found",
                       "There is no event at this address. Check the link you were given.");
}

/* Reads the event slug for its page into *event; answers (404, 503, 500) and returns false when
 * it cannot. */
static bool load_event(struct http_request *req, const char *slug, json_t **event)
{
    enum admit_rc rc = admit_page_event(http_db(req), slug, event);
    if (rc == ADMIT_ERR_NOT_FOUND)
        no_event(req);
    else if (rc != ADMIT_OK)
        pages_load_failed(req, rc);
    return rc == ADMIT_OK;
}

/* The event's own questions (admit/register/questions.h) in *questions; false after answering. */
static bool load_questions(struct http_request *req, const char *slug, json_t **questions)
{
    enum admit_rc rc = admit_questions_load(http_db(req), slug, questions);
    if (rc == ADMIT_ERR_NOT_FOUND)
        no_event(req);
    else if (rc != ADMIT_OK)
        pages_load_failed(req, rc);
    return rc == ADMIT_OK;
}

/* The template context of the event page with its form: empty (get NULL) or as submitted with
 * errors; csrf_token and nonce go in the form as they are. Takes no reference. */
static json_t *event_context(json_t *event, admit_form_lookup get, void *ctx,
                             const struct admit_registration *in,
                             const struct admit_form_errors *errs, const char *csrf_token,
                             const char *nonce, json_t *questions)
{
    char action[160];
    json_t *values = json_object(), *errors = json_object(), *error_list = json_array();
    const char *value;

    snprintf(action, sizeof action, "/events/%s/register",
             json_string_value(json_object_get(event, "slug")));
    for (size_t i = 0; get != NULL && i < admit_registration_field_count; i++) {
        value = get(ctx, admit_registration_fields[i].name);
        json_object_set_new(values, admit_registration_fields[i].name,
                            json_string(value ? value : ""));
    }
    value = get != NULL ? get(ctx, "consent") : NULL;
    json_object_set_new(values, "consent", json_boolean(value && !strcmp(value, "yes")));
    for (size_t i = 0; errs != NULL && i < errs->count; i++) {
        json_object_set_new(errors, errs->items[i].field, json_string(errs->items[i].message));
        json_array_append_new(error_list, json_pack("{s:s, s:s}", "field", errs->items[i].field,
                                                    "message", errs->items[i].message));
    }
    json_t *form =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "action", action, "csrf_token", csrf_token,
                  "nonce", nonce, "values", values, "errors", errors, "error_list", error_list,
                  "has_errors", errs != NULL && errs->count > 0);
    json_t *asked = admit_questions_form_view(questions, get != NULL ? ctx : NULL, errs);
    bool has_questions = json_array_size(asked) > 0;
    return json_pack(
        "{s:O, s:O, s:o, s:o, s:b, s:o, s:o, s:o}", "title", json_object_get(event, "name"),
        "event", event, "form", form, "questions", asked, "has_questions", has_questions,
        "countries", pages_countries_json(get ? get(ctx, "country") : NULL), "organisation_types",
        pages_organisation_types_json(get ? get(ctx, "organisation_type") : NULL), "lists",
        pages_lists_json(event, in ? in->list_ids : NULL, in ? in->nlists : 0));
}

/* Renders the event page with the form as submitted, and its errors. */
static void render_event(struct http_request *req, unsigned status, json_t *event,
                         json_t *questions, struct admit_form_values *ctx,
                         const struct admit_registration *in, const struct admit_form_errors *errs)
{
    admit_form_lookup get = admit_form_values_get;
    char nonce[ADMIT_TOKEN_SIZE];
    /* A form shown again keeps its nonce: submitting it twice must still be one registration. */
    const char *sent = get(ctx, "form_nonce");
    if (sent != NULL && admit_token_valid(sent))
        snprintf(nonce, sizeof nonce, "%s", sent);
    else
        admit_token_new(nonce);
    json_t *context = event_context(event, get, ctx, in, errs, http_csrf_token(req, REGISTER_FORM),
                                    nonce, questions);
    http_no_store(req); /* each view carries its own nonce */
    http_render(req, status, "event.html", context);
}

/* The cache of event pages by slug, made on first use and kept for the life of the process. */
static struct page_cache *event_pages;
static pthread_once_t event_pages_once = PTHREAD_ONCE_INIT;

static void make_event_pages(void)
{
    event_pages = page_cache_new(EVENT_PAGE_TTL_NS, EVENT_PAGE_CACHE_SIZE);
}

/* Reads the event and renders its page with an empty form, cut where each view's CSRF token and
 * nonce go, into the cache. On failure answers (404, 503, 500), gives the cache's turn back and
 * returns NULL. */
static struct page_cache_page *build_event_page(struct http_request *req, const char *slug)
{
    char marks[2][ADMIT_TOKEN_SIZE];
    const char *mark_list[2] = {marks[0], marks[1]};
    struct admit_splice *splice = NULL;
    struct admit_buf out;
    json_t *event = NULL, *questions = NULL;

    admit_buf_init(&out, EVENT_PAGE_MAX);
    if (!load_event(req, slug, &event) || !load_questions(req, slug, &questions))
        goto fail;
    /* Fresh random marks: no text of the event can hold them. */
    admit_token_new(marks[0]);
    admit_token_new(marks[1]);
    json_t *context = event_context(pages_decorate_event(event), NULL, NULL, NULL, NULL, marks[0],
                                    marks[1], questions);
    /* What http_render adds to every page. */
    json_object_set_new(context, "site", json_pack("{s:s}", "url", http_server(req)->public_url));
    enum admit_rc rc = admit_tmpl_render(http_server(req)->templates, "event.html", context, &out);
    json_decref(context);
    if (rc == ADMIT_OK)
        rc = admit_splice_cut(out.data, out.len, mark_list, 2, &splice);
    if (rc != ADMIT_OK) {
        http_log_note(req, "render-failed");
        http_respond_error(req, 500, "Internal error", "This page could not be shown.");
        goto fail;
    }
    admit_buf_free(&out);
    json_decref(event);
    json_decref(questions);
    return page_cache_put(event_pages, slug, splice);
fail:
    admit_buf_free(&out);
    json_decref(event);
    json_decref(questions);
    page_cache_abandon(event_pages, slug);
    return NULL;
}

static void event_page(struct http_request *req)
{
    const char *slug = http_param(req, "slug");
    char nonce[ADMIT_TOKEN_SIZE];
    char *page = NULL;
    size_t len = 0;

    pthread_once(&event_pages_once, make_event_pages);
    struct page_cache_page *cached = page_cache_get(event_pages, slug);
    if (cached == NULL)
        cached = build_event_page(req, slug);
    if (cached == NULL)
        return;
    admit_token_new(nonce);
    const char *values[2] = {http_csrf_token(req, REGISTER_FORM), nonce};
    if (admit_splice_fill(page_cache_splice(cached), values, &page, &len) != ADMIT_OK) {
        /* Tokens are always made of token characters: this is a bug. */
        http_log_note(req, "fill-failed");
        http_respond_error(req, 500, "Internal error", "This page could not be shown.");
    } else {
        http_no_store(req); /* each view carries its own nonce */
        http_respond_bytes(req, 200, "text/html; charset=utf-8", page, len, HTTP_TAKE);
    }
    page_cache_release(cached);
}

/* The page for an outcome that is not a registration: closed, not open yet, full. */
static void problem(struct http_request *req, unsigned status, json_t *event, const char *kind)
{
    json_t *context = json_pack("{s:s, s:i, s:O, s:s, s:b, s:b, s:b}", "title", "Registration",
                                "status", (int)status, "event", event, "problem", kind, "is_closed",
                                !strcmp(kind, "closed"), "is_not_open", !strcmp(kind, "not_open"),
                                "is_full", !strcmp(kind, "full"));
    http_render(req, status, "registration_problem.html", context);
}

/* The address already holds a registration for the event: its owner is emailed the links to
 * their tickets (the resend form's message, under its limits), and the answer is the resend
 * form's: "check your email", which neither confirms nor denies that the address is registered
 * (README, "Registering: what is guaranteed"). */
static void email_taken(struct http_request *req, json_t *event, const char *email)
{
    enum admit_resend_outcome outcome;
    enum admit_rc rc =
        admit_resend_request(http_db(req), email, http_client(req), ADMIT_RESEND_PER_ADDRESS,
                             ADMIT_RESEND_PER_CLIENT, &outcome);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    json_t *context = json_pack("{s:s, s:b, s:s, s:O}", "title", "Check your email", "sent", 1,
                                "email", email, "registering", event);
    http_no_store(req);
    http_render(req, 200, "resend.html", context);
}

static void register_attendee(struct http_request *req)
{
    const char *slug = http_param(req, "slug");
    struct admit_form_values form;
    struct admit_form_errors errs = {.count = 0};
    struct admit_registration in;
    struct admit_registration_result result;
    json_t *event = NULL, *questions = NULL;
    char *answers = NULL;

    if (!http_csrf_check(req, REGISTER_FORM))
        return;
    /* The event's questions are checked with the standard fields: one list of errors. */
    if (!load_questions(req, slug, &questions))
        return;
    admit_form_values_init(&form, http_form_data(req));
    size_t bad = admit_registration_read(&form, &in, &errs);
    bad += admit_questions_check(questions, &form, &errs, &answers);
    in.answers = answers;
    if (bad == 0) {
        enum admit_rc rc = admit_registration_submit(http_db(req), slug, &in, &result);
        if (rc != ADMIT_OK) {
            http_respond_db_error(req, rc);
            goto done;
        }
        if (result.outcome == ADMIT_REG_CREATED || result.outcome == ADMIT_REG_DUPLICATE) {
            char location[96];
            http_log_note(req, result.outcome == ADMIT_REG_CREATED ? "created" : "duplicate");
            snprintf(location, sizeof location, "/tickets/%s?welcome=1", result.token);
            http_redirect(req, location);
            goto done;
        }
        if (result.error.field[0] != '\0')
            admit_form_add_error(&errs, result.error.field, result.error.message);
    }
    /* Not registered: the page is shown again, so the event is needed now. */
    if (!load_event(req, slug, &event))
        goto done;
    pages_decorate_event(event);
    if (errs.count > 0) {
        render_event(req, 422, event, questions, &form, &in, &errs);
        goto done;
    }
    switch (result.outcome) {
    case ADMIT_REG_EMAIL_TAKEN:
        email_taken(req, event, in.email);
        break;
    case ADMIT_REG_FULL:
        problem(req, 409, event, "full");
        break;
    case ADMIT_REG_NOT_OPEN:
        problem(req, 403, event, "not_open");
        break;
    case ADMIT_REG_CLOSED:
        problem(req, 403, event, "closed");
        break;
    default:
        no_event(req);
        break;
    }
done:
    json_decref(event);
    json_decref(questions);
    free(answers);
    admit_form_values_free(&form);
}

const struct http_route public_routes[] = {
    {HTTP_GET, "/", home, HTTP_ROUTE_DB},
    {HTTP_GET, "/events/:slug", event_page, HTTP_ROUTE_DB},
    {HTTP_POST, "/events/:slug/register", register_attendee, HTTP_ROUTE_DB},
    {0},
};
