/* The real templates/ folder: every attendee-facing page loads, renders with the contexts the
 * handlers pass, escapes whatever the attendee or the organiser typed, and keeps the
 * accessibility contract (labels, error summary, one <h1>, ids that links point to).
 *
 * Set ADMIT_TEMPLATES_OUT=DIR to also write every rendered page to DIR/NAME.html (with the
 * templates/static folder next to them at DIR/static) to look at them in a browser. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/country.h"
#include "admit/core/qr.h"
#include "admit/register/registration.h"
#include "admit/core/tmpl.h"

/* ---- Fixture ------------------------------------------------------------------------------- */

static struct admit_tmpl_set *set;
static char templates_dir[2048];
static char *qr_svg; /* a real QR code SVG, as the server caches it */

static int group_setup(void **state)
{
    (void)state;
    const char *src = getenv("ADMIT_SOURCE_DIR");
    if (src == NULL)
        src = ".";
    snprintf(templates_dir, sizeof templates_dir, "%s/templates", src);
    struct admit_error err;
    enum admit_rc rc = admit_tmpl_set_load_dir(templates_dir, &set, &err);
    if (rc != ADMIT_OK) {
        fprintf(stderr, "loading %s failed: %s (%s)\n", templates_dir, err.message,
                admit_strerror(rc));
        return -1;
    }
    struct admit_qr *qr = NULL;
    if (admit_qr_encode("AD1:6BFOXN*TS0BI$ZDFRH", &qr) != ADMIT_OK)
        return -1;
    struct admit_buf svg;
    admit_buf_init(&svg, 1 << 20);
    if (admit_qr_svg(qr, &svg) != ADMIT_OK)
        return -1;
    admit_qr_free(qr);
    qr_svg = admit_buf_steal(&svg, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    admit_tmpl_set_free(set);
    free(qr_svg);
    return 0;
}

/* ---- What the handlers put in the context ---------------------------------------------------- */

/* Every string a person typed, or an organiser configured, that a page may show. */
struct texts {
    const char *title, *event_name, *description, *venue, *venue_address, *organiser;
    const char *contact_email, *list_name, *list_day, *given_name, *family_name, *email;
    const char *organisation, *dietary, *accessibility, *message, *country_name, *token;
    const char *csrf_token;
};

static const struct texts normal = {
    .title = "TERRA Final Conference",
    .event_name = "TERRA Final Conference",
    .description = "Two days of results from four years of TERRA: soil carbon, land use and "
                   "the policies that follow.\nPlenary on Friday; cluster sessions on Saturday.",
    .venue = "Natural Sciences Museum",
    .venue_address = "Rue Vautier 29, 1000 Brussels",
    .organiser = "TERRA consortium",
    .contact_email = "events@terra.example",
    .list_name = "Day 1 – plenary",
    .list_day = "Friday 29 October",
    .given_name = "Marie-Hélène",
    .family_name = "Van den Broeck",
    .email = "mh.vandenbroeck@ulb.example",
    .organisation = "Université libre de Bruxelles",
    .dietary = "Vegetarian",
    .accessibility = "",
    .message = "Enter an email address like name@example.org",
    .country_name = NULL, /* the library's */
    .token = "k3J9xQ2mV8pL5nR7tW4yZ1aB6cD0eF",
    .csrf_token = "csrf.abcdef0123456789",
};

/* Each hostile value holds at least one of < > & " ' so that it must never appear as is. */
static const struct texts hostile = {
    .title = "</title><script>alert(10)</script>",
    .event_name = "&<>'\"",
    .description = "</p><script>alert(2)</script>",
    .venue = "<b onmouseover=alert(3)>",
    .venue_address = "'><svg onload=alert(4)>",
    .organiser = "<iframe src=javascript:alert(5)>",
    .contact_email = "x\"@example.org><script>alert(11)</script>",
    .list_name = "<script>alert(6)</script>",
    .list_day = "<img src=x onerror=alert(7)>",
    .given_name = "<script>alert(1)</script>",
    .family_name = "\" autofocus onfocus=\"alert(12)",
    .email = "\"><img src=x onerror=alert(13)>@example.org",
    .organisation = "\"><img src=x onerror=alert(1)>",
    .dietary = "</textarea><script>alert(8)</script>",
    .accessibility = "</textarea><img src=x onerror=alert(14)>",
    .message = "<script>alert(9)</script>",
    .country_name = "<script>alert(15)</script>",
    .token = "\"><script>alert(16)</script>",
    .csrf_token = "\"><script>alert(17)</script>",
};

enum state { OPEN, NOT_OPEN, CLOSED };

static json_t *event_json(const struct texts *t, enum state state, long free_seats, bool waitlist)
{
    static const char *const names[] = {"open", "not_open", "closed"};
    json_t *lists = json_pack("[{s:i,s:s,s:s},{s:i,s:s,s:s},{s:i,s:s,s:s}]", "id", 1, "name",
                              t->list_name, "day", t->list_day, "id", 2, "name", "Day 2 – plenary",
                              "day", "Saturday 30 October", "id", 3, "name", "Cluster session",
                              "day", "Saturday 30 October");
    json_t *event = json_pack(
        "{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:o}", "id", 1,
        "slug", "final-2027", "name", t->event_name, "description", t->description, "venue",
        t->venue, "venue_address", t->venue_address, "organiser", t->organiser, "contact_email",
        t->contact_email, "time_zone", "Europe/Brussels", "dates", "29–30 October 2027", "starts",
        "Friday 29 October 2027, 09:00", "ends", "Saturday 30 October 2027, 17:30", "starts_iso",
        "2027-10-29T07:00:00Z", "closes", "Friday 29 October 2027, 09:00", "state", names[state],
        "capacity", 200, "free_seats", (int)free_seats, "waitlist", waitlist, "lists", lists);
    assert_non_null(event);
    json_object_set_new(event, "opens",
                        state == NOT_OPEN ? json_string("Monday 1 March 2027, 10:00")
                                          : json_null());
    /* What server/pages.c adds. */
    json_object_set_new(event, "is_open", json_boolean(state == OPEN));
    json_object_set_new(event, "is_not_open", json_boolean(state == NOT_OPEN));
    json_object_set_new(event, "is_closed", json_boolean(state == CLOSED));
    json_object_set_new(event, "full", json_boolean(free_seats <= 0));
    return event;
}

/* The fields a registration form can report an error on: the library's table, the lists,
 * the consent box and the form nonce. */
static size_t error_fields(const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < admit_registration_field_count && n < max; i++)
        names[n++] = admit_registration_fields[i].name;
    const char *extra[] = {"lists", "consent", "form_nonce"};
    for (size_t i = 0; i < 3 && n < max; i++)
        names[n++] = extra[i];
    return n;
}

/* The message lib/register/registration.c gives for an empty or bad field. */
static const char *error_message(const char *field)
{
    for (size_t i = 0; i < admit_registration_field_count; i++)
        if (strcmp(admit_registration_fields[i].name, field) == 0 &&
            admit_registration_fields[i].missing != NULL)
            return admit_registration_fields[i].missing;
    if (strcmp(field, "lists") == 0)
        return "Choose at least one day or session";
    if (strcmp(field, "consent") == 0)
        return "Agree to the privacy notice to register: we cannot admit you without storing "
               "your name";
    if (strcmp(field, "form_nonce") == 0)
        return "This form has expired: reload the page and submit it again";
    return "Use at most 500 characters";
}

/* event.html's context. all_bad: every field has an error (the email's message is
 * t->message, the others the library's own). */
static json_t *event_page(const struct texts *t, enum state state, long free_seats, bool waitlist,
                          bool all_bad)
{
    json_t *values =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "given_name", t->given_name,
                  "family_name", t->family_name, "email", t->email, "organisation", t->organisation,
                  "country", "BE", "organisation_type", "research", "dietary", t->dietary,
                  "accessibility", t->accessibility, "consent", !all_bad);
    json_t *errors = json_object();
    json_t *error_list = json_array();
    if (all_bad) {
        const char *names[32];
        size_t n = error_fields(names, 32);
        for (size_t i = 0; i < n; i++) {
            const char *message = error_message(names[i]);
            if (strcmp(names[i], "email") == 0)
                message = t->message;
            json_object_set_new(errors, names[i], json_string(message));
            json_array_append_new(error_list,
                                  json_pack("{s:s,s:s}", "field", names[i], "message", message));
        }
    }
    json_t *form =
        json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:b}", "action", "/events/final-2027/register",
                  "csrf_token", t->csrf_token, "nonce", "n0nce0123456789abcdef", "values", values,
                  "errors", errors, "error_list", error_list, "has_errors", all_bad);

    json_t *countries = json_array();
    for (size_t i = 0; i < admit_country_count(); i++) {
        const struct admit_country *c = admit_country_at(i);
        const char *name = i == 0 && t->country_name != NULL ? t->country_name : c->name;
        json_array_append_new(countries, json_pack("{s:s,s:s,s:b}", "code", c->code, "name", name,
                                                   "selected", strcmp(c->code, "BE") == 0));
    }
    json_t *types = json_array();
    for (size_t i = 0; i < admit_organisation_type_count; i++)
        json_array_append_new(
            types, json_pack("{s:s,s:s,s:b}", "value", admit_organisation_types[i].value, "label",
                             admit_organisation_types[i].label, "selected",
                             strcmp(admit_organisation_types[i].value, "research") == 0));
    json_t *lists = json_pack("[{s:i,s:s,s:s,s:b},{s:i,s:s,s:s,s:b},{s:i,s:s,s:n,s:b}]", "id", 1,
                              "name", t->list_name, "day", t->list_day, "checked", 1, "id", 2,
                              "name", "Day 2 – plenary", "day", "Saturday 30 October", "checked", 0,
                              "id", 3, "name", "Cluster session", "day", "checked", 1);
    json_t *ctx =
        json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:{s:s}}", "title", t->title, "event",
                  event_json(t, state, free_seats, waitlist), "form", form, "countries", countries,
                  "organisation_types", types, "lists", lists, "site", "url", "");
    assert_non_null(ctx);
    return ctx;
}

enum status { CONFIRMED, WAITLISTED, CANCELLED };

static json_t *ticket_json(const struct texts *t, enum status status)
{
    static const char *const names[] = {"confirmed", "waitlisted", "cancelled"};
    char url[256];
    json_t *ticket = json_pack(
        "{s:s,s:s,s:b,s:b,s:b,s:s,s:s,s:s,s:s,s:s,s:o}", "token", t->token, "status", names[status],
        "is_confirmed", status == CONFIRMED, "is_waitlisted", status == WAITLISTED, "is_cancelled",
        status == CANCELLED, "given_name", t->given_name, "family_name", t->family_name, "email",
        t->email, "organisation", t->organisation, "registered", "3 June 2027, 14:12", "lists",
        json_pack("[{s:s,s:s},{s:s,s:n}]", "name", t->list_name, "day", t->list_day, "name",
                  "Cluster session", "day"));
    assert_non_null(ticket);
    json_object_set_new(ticket, "waitlist_position",
                        status == WAITLISTED ? json_integer(3) : json_null());
    json_object_set_new(ticket, "event", event_json(t, OPEN, status == WAITLISTED ? 0 : 57, true));
    if (status == CONFIRMED)
        json_object_set_new(ticket, "qr_svg", json_string(qr_svg));
    snprintf(url, sizeof url, "/tickets/%s/qr.svg", t->token);
    json_object_set_new(ticket, "svg_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/qr.png", t->token);
    json_object_set_new(ticket, "png_url", json_string(url));
    snprintf(url, sizeof url, "/tickets/%s/cancel", t->token);
    json_object_set_new(ticket, "cancel_url", json_string(url));
    return ticket;
}

static json_t *ticket_page(const struct texts *t, enum status status, bool just_registered,
                           bool just_cancelled)
{
    return json_pack("{s:s,s:o,s:b,s:b,s:{s:s}}", "title", t->title, "ticket",
                     ticket_json(t, status), "just_registered", just_registered, "just_cancelled",
                     just_cancelled, "site", "url", "https://tickets.example.org");
}

static json_t *cancel_page(const struct texts *t, enum status status)
{
    return json_pack("{s:s,s:o,s:s,s:{s:s}}", "title", t->title, "ticket", ticket_json(t, status),
                     "csrf_token", t->csrf_token, "site", "url", "");
}

static json_t *problem_page(const struct texts *t, const char *problem, bool with_event)
{
    json_t *ctx = json_pack("{s:s,s:i,s:s,s:b,s:b,s:b,s:{s:s}}", "title", t->title, "status", 409,
                            "problem", problem, "is_closed", strcmp(problem, "closed") == 0,
                            "is_not_open", strcmp(problem, "not_open") == 0, "is_full",
                            strcmp(problem, "full") == 0, "site", "url", "");
    enum state state = strcmp(problem, "closed") == 0     ? CLOSED
                       : strcmp(problem, "not_open") == 0 ? NOT_OPEN
                                                          : OPEN;
    json_object_set_new(ctx, "event",
                        with_event
                            ? event_json(t, state, strcmp(problem, "full") == 0 ? 0 : 57, false)
                            : json_null());
    return ctx;
}

static json_t *error_page(unsigned status, const char *title, const char *message)
{
    return json_pack("{s:i,s:s,s:s,s:{s:s}}", "status", (int)status, "title", title, "message",
                     message, "site", "url", "");
}

static json_t *index_page(const struct texts *t, bool with_events)
{
    json_t *events = json_array();
    if (with_events) {
        json_array_append_new(events, event_json(t, OPEN, 57, true));
        json_t *other = event_json(t, NOT_OPEN, 300, false);
        json_object_set_new(other, "slug", json_string("summer-school-2028"));
        json_object_set_new(other, "name", json_string("TERRA Summer School"));
        json_array_append_new(events, other);
        other = event_json(t, OPEN, 0, true);
        json_object_set_new(other, "slug", json_string("policy-day"));
        json_object_set_new(other, "name", json_string("Policy Day"));
        json_array_append_new(events, other);
    }
    return json_pack("{s:s,s:o,s:{s:s}}", "title", t == &hostile ? t->title : "Events", "events",
                     events, "site", "url", "");
}

/* ---- A small HTML reader, enough for the markup these templates produce -----------------------
 */

#define MAX_ATTRS 24

struct attr {
    char name[40];
    char *value; /* owned; "" for a bare attribute */
};

struct tag {
    char name[24];
    bool closing, self_closing;
    size_t nattrs;
    struct attr attrs[MAX_ATTRS];
};

struct doc {
    struct tag *tags;
    size_t count, cap;
};

static void doc_free(struct doc *d)
{
    for (size_t i = 0; i < d->count; i++)
        for (size_t j = 0; j < d->tags[i].nattrs; j++)
            free(d->tags[i].attrs[j].value);
    free(d->tags);
}

static const char *attr(const struct tag *t, const char *name)
{
    for (size_t i = 0; i < t->nattrs; i++)
        if (strcmp(t->attrs[i].name, name) == 0)
            return t->attrs[i].value;
    return NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Splits html into tags; fails the test on markup it cannot read (an unterminated tag or
 * quote, a '<' inside a tag, a repeated attribute). */
static void doc_parse(const char *html, const char *page, struct doc *d)
{
    memset(d, 0, sizeof *d);
    const char *p = html;
    while ((p = strchr(p, '<')) != NULL) {
        if (strncmp(p, "<!--", 4) == 0) {
            const char *end = strstr(p, "-->");
            if (end == NULL)
                fail_msg("%s: unterminated comment", page);
            p = end + 3;
            continue;
        }
        if (p[1] == '!') { /* doctype */
            p = strchr(p, '>');
            if (p == NULL)
                fail_msg("%s: unterminated doctype", page);
            continue;
        }
        struct tag t;
        memset(&t, 0, sizeof t);
        p++;
        if (*p == '/') {
            t.closing = true;
            p++;
        }
        size_t n = 0;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
            if (n + 1 >= sizeof t.name)
                fail_msg("%s: tag name too long", page);
            t.name[n++] = *p++;
        }
        if (n == 0)
            fail_msg("%s: '<' that starts no tag: %.40s", page, p - 1);
        for (;;) {
            while (is_space(*p))
                p++;
            if (*p == '>') {
                p++;
                break;
            }
            if (p[0] == '/' && p[1] == '>') {
                t.self_closing = true;
                p += 2;
                break;
            }
            if (*p == '\0' || *p == '<' || *p == '"' || *p == '\'' || *p == '=')
                fail_msg("%s: bad markup in <%s>: %.60s", page, t.name, p);
            if (t.nattrs == MAX_ATTRS)
                fail_msg("%s: too many attributes in <%s>", page, t.name);
            struct attr *a = &t.attrs[t.nattrs];
            n = 0;
            while (*p != '\0' && !is_space(*p) && *p != '=' && *p != '>' && *p != '/') {
                if (n + 1 >= sizeof a->name)
                    fail_msg("%s: attribute name too long in <%s>", page, t.name);
                a->name[n++] = *p++;
            }
            a->name[n] = '\0';
            for (size_t i = 0; i < t.nattrs; i++)
                if (strcasecmp(t.attrs[i].name, a->name) == 0)
                    fail_msg("%s: <%s> has %s twice", page, t.name, a->name);
            const char *start = p;
            size_t len = 0;
            if (*p == '=') {
                p++;
                char quote = *p;
                if (quote != '"' && quote != '\'')
                    fail_msg("%s: unquoted value of %s in <%s>", page, a->name, t.name);
                start = ++p;
                const char *end = strchr(p, quote);
                if (end == NULL)
                    fail_msg("%s: unterminated value of %s in <%s>", page, a->name, t.name);
                len = (size_t)(end - start);
                if (memchr(start, '<', len) != NULL)
                    fail_msg("%s: '<' in the value of %s in <%s>", page, a->name, t.name);
                p = end + 1;
            }
            a->value = strndup(start, len);
            t.nattrs++;
        }
        for (char *c = t.name; *c != '\0'; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        if (d->count == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 256;
            d->tags = realloc(d->tags, d->cap * sizeof *d->tags);
            assert_non_null(d->tags);
        }
        d->tags[d->count++] = t;
    }
}

static bool is_void(const char *name)
{
    static const char *const v[] = {"area",  "base", "br",   "col",    "embed", "hr", "img",
                                    "input", "link", "meta", "source", "track", "wbr"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(name, v[i]) == 0)
            return true;
    return false;
}

/* Elements that may not appear inside a <p> (the parser would close the paragraph). */
static bool closes_p(const char *name)
{
    static const char *const v[] = {"address", "article", "aside", "div",     "dl",    "fieldset",
                                    "figure",  "footer",  "form",  "h1",      "h2",    "h3",
                                    "h4",      "h5",      "h6",    "header",  "hr",    "main",
                                    "nav",     "ol",      "p",     "section", "table", "ul"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(name, v[i]) == 0)
            return true;
    return false;
}

static const struct tag *by_id(const struct doc *d, const char *id)
{
    for (size_t i = 0; i < d->count; i++) {
        const char *v = attr(&d->tags[i], "id");
        if (!d->tags[i].closing && v != NULL && strcmp(v, id) == 0)
            return &d->tags[i];
    }
    return NULL;
}

/* Whether the space-separated list has word. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p != NULL && *p != '\0';) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len;
    }
    return false;
}

static bool has_label_for(const struct doc *d, const char *id)
{
    for (size_t i = 0; i < d->count; i++) {
        const char *f = attr(&d->tags[i], "for");
        if (strcmp(d->tags[i].name, "label") == 0 && f != NULL && strcmp(f, id) == 0)
            return true;
    }
    return false;
}

/* The checks every page passes. */
static void check_page(const char *page, const char *html)
{
    struct doc d;
    doc_parse(html, page, &d);

    /* Tags nest and close; nothing block-level inside a paragraph; no tag left open. */
    const char *stack[64];
    size_t depth = 0;
    size_t h1 = 0;
    for (size_t i = 0; i < d.count; i++) {
        const struct tag *t = &d.tags[i];
        if (t->closing) {
            if (depth == 0 || strcmp(stack[depth - 1], t->name) != 0)
                fail_msg("%s: </%s> closes <%s>", page, t->name,
                         depth ? stack[depth - 1] : "nothing");
            depth--;
            continue;
        }
        if (strcmp(t->name, "h1") == 0)
            h1++;
        for (size_t j = 0; j < depth; j++)
            if (strcmp(stack[j], "p") == 0 && closes_p(t->name))
                fail_msg("%s: <%s> inside <p>", page, t->name);
        for (size_t j = 0; j < t->nattrs; j++) {
            const char *name = t->attrs[j].name;
            if (strncasecmp(name, "on", 2) == 0)
                fail_msg("%s: event handler attribute %s on <%s>", page, name, t->name);
            if (strcasecmp(name, "style") == 0)
                fail_msg("%s: style attribute on <%s>", page, t->name);
        }
        if (strcmp(t->name, "script") == 0 || strcmp(t->name, "style") == 0 ||
            strcmp(t->name, "iframe") == 0)
            fail_msg("%s: <%s> element", page, t->name);
        if (!is_void(t->name) && !t->self_closing) {
            if (depth == sizeof stack / sizeof stack[0])
                fail_msg("%s: nesting too deep", page);
            stack[depth++] = t->name;
        }
    }
    if (depth != 0)
        fail_msg("%s: <%s> is never closed", page, stack[depth - 1]);
    if (h1 != 1)
        fail_msg("%s: %zu <h1> elements, not one", page, h1);

    /* Ids are unique; every in-page link, label and ARIA reference points at one. */
    for (size_t i = 0; i < d.count; i++) {
        const struct tag *t = &d.tags[i];
        const char *id = attr(t, "id");
        if (id != NULL && by_id(&d, id) != t)
            fail_msg("%s: id \"%s\" used twice", page, id);
        const char *href = attr(t, "href");
        if (href != NULL && href[0] == '#' && by_id(&d, href + 1) == NULL)
            fail_msg("%s: link to #%s, which is not on the page", page, href + 1);
        const char *f = attr(t, "for");
        if (f != NULL && by_id(&d, f) == NULL)
            fail_msg("%s: label for \"%s\", which is not on the page", page, f);
        const char *refs[] = {attr(t, "aria-describedby"), attr(t, "aria-labelledby")};
        for (size_t k = 0; k < 2; k++) {
            for (const char *p = refs[k]; p != NULL && *p != '\0';) {
                char word[128];
                size_t len = strcspn(p, " ");
                if (len > 0) {
                    snprintf(word, sizeof word, "%.*s", (int)len, p);
                    if (by_id(&d, word) == NULL)
                        fail_msg("%s: ARIA reference to \"%s\", which is not on the page", page,
                                 word);
                }
                p += len;
                while (*p == ' ')
                    p++;
            }
        }
        /* Every form control a person fills in has an id and a <label for> it. */
        bool control = strcmp(t->name, "select") == 0 || strcmp(t->name, "textarea") == 0;
        if (strcmp(t->name, "input") == 0) {
            const char *type = attr(t, "type");
            control = type == NULL || (strcmp(type, "hidden") != 0 && strcmp(type, "submit") != 0);
        }
        if (control && !t->closing) {
            if (id == NULL)
                fail_msg("%s: <%s name=\"%s\"> has no id", page, t->name, attr(t, "name"));
            if (!has_label_for(&d, id))
                fail_msg("%s: <%s id=\"%s\"> has no <label for>", page, t->name, id);
        }
    }

    /* The frame every page shares. */
    const char *must[] = {"<!doctype html>",
                          "<html lang=\"en\">",
                          "<meta charset=\"utf-8\">",
                          "name=\"viewport\"",
                          "href=\"/static/style.css\"",
                          "class=\"skip-link\" href=\"#main\"",
                          "<main id=\"main\"",
                          "<header class=\"site-header\">",
                          "<footer class=\"site-footer\">"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (strstr(html, must[i]) == NULL)
            fail_msg("%s: no %s", page, must[i]);
    const char *title = strstr(html, "<title>");
    if (title == NULL || title[7] == '<')
        fail_msg("%s: empty or missing <title>", page);
    if (strcasestr(html, "<script") != NULL)
        fail_msg("%s: <script in the output", page);
    if (strstr(html, "{{") != NULL)
        fail_msg("%s: a template tag was left in the output", page);
    doc_free(&d);
}

/* Nothing hostile survives unescaped. */
static void check_inert(const char *page, const char *html)
{
    const char *const values[] = {
        hostile.title,         hostile.event_name, hostile.description,   hostile.venue,
        hostile.venue_address, hostile.organiser,  hostile.contact_email, hostile.list_name,
        hostile.list_day,      hostile.given_name, hostile.family_name,   hostile.email,
        hostile.organisation,  hostile.dietary,    hostile.accessibility, hostile.message,
        hostile.country_name,  hostile.token,      hostile.csrf_token,
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (strstr(html, values[i]) != NULL)
            fail_msg("%s: \"%s\" appears unescaped", page, values[i]);
    if (strstr(html, "<img src=x") != NULL || strstr(html, "<svg onload") != NULL)
        fail_msg("%s: an injected tag appears", page);
}

static void write_out(const char *file, const char *html)
{
    const char *dir = getenv("ADMIT_TEMPLATES_OUT");
    if (dir == NULL || *dir == '\0')
        return;
    char path[4096];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s.html", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(html, f);
    fclose(f);
}

/* Renders template with ctx (taken), runs the common checks, and returns the page (free it).
 * file names the page for messages and ADMIT_TEMPLATES_OUT. */
static char *render(const char *template_name, json_t *ctx, const char *file)
{
    struct admit_buf out;
    admit_buf_init(&out, 8u << 20);
    enum admit_rc rc = admit_tmpl_render(set, template_name, ctx, &out);
    if (rc != ADMIT_OK)
        fail_msg("rendering %s (%s) failed: %s", template_name, file, admit_strerror(rc));
    json_decref(ctx);
    char *html = admit_buf_steal(&out, NULL);
    write_out(file, html);
    check_page(file, html);
    return html;
}

#define assert_contains(page, html, needle)                                                        \
    do {                                                                                           \
        if (strstr((html), (needle)) == NULL)                                                      \
            fail_msg("%s: does not contain %s", (page), (needle));                                 \
    } while (0)

#define assert_lacks(page, html, needle)                                                           \
    do {                                                                                           \
        if (strstr((html), (needle)) != NULL)                                                      \
            fail_msg("%s: contains %s", (page), (needle));                                         \
    } while (0)

/* ---- The template files themselves ------------------------------------------------------------
 */

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    struct admit_buf b;
    admit_buf_init(&b, 4u << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(admit_buf_append(&b, chunk, n), ADMIT_OK);
    fclose(f);
    return admit_buf_steal(&b, NULL);
}

static void test_files(void **state)
{
    (void)state;
    const char *pages[] = {
        "layout_head.html", "layout_foot.html",          "index.html", "event.html", "ticket.html",
        "cancel.html",      "registration_problem.html", "error.html"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (!admit_tmpl_set_has(set, pages[i]))
            fail_msg("templates/ has no %s", pages[i]);

    DIR *dir = opendir(templates_dir);
    assert_non_null(dir);
    struct dirent *e;
    size_t checked = 0;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".html") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", templates_dir, e->d_name);
        char *text = read_whole(path);
        if (strcasestr(text, "style=") != NULL || strcasestr(text, "<style") != NULL)
            fail_msg("%s: inline style (the CSP allows only /static/style.css)", e->d_name);
        if (strcasestr(text, "<script") != NULL || strcasestr(text, "javascript:") != NULL)
            fail_msg("%s: script (the CSP forbids it)", e->d_name);
        if (strstr(text, "{{&") != NULL)
            fail_msg("%s: {{& ...}} raw output", e->d_name);
        /* The one raw value: the QR code SVG that the server generates itself. */
        for (const char *p = strstr(text, "{{{"); p != NULL; p = strstr(p + 3, "{{{"))
            if (strncmp(p, "{{{ticket.qr_svg}}}", 19) != 0)
                fail_msg("%s: raw output other than {{{ticket.qr_svg}}}: %.30s", e->d_name, p);
        if (strstr(text, "http://") != NULL || strstr(text, "//cdn") != NULL ||
            strstr(text, "fonts.googleapis") != NULL)
            fail_msg("%s: refers to another site's resource", e->d_name);
        free(text);
        checked++;
    }
    closedir(dir);
    assert_true(checked >= 8);

    char path[4096];
    snprintf(path, sizeof path, "%s/static/style.css", templates_dir);
    char *css = read_whole(path);
    assert_non_null(strstr(css, "@media print"));
    assert_non_null(strstr(css, "prefers-color-scheme: dark"));
    assert_non_null(strstr(css, ":focus-visible"));
    if (strstr(css, "@import") != NULL || strstr(css, "http") != NULL ||
        strstr(css, "@font-face") != NULL)
        fail_msg("style.css loads something from elsewhere");
    free(css);
}

/* ---- Pages ------------------------------------------------------------------------------------
 */

static void test_index(void **state)
{
    (void)state;
    char *html = render("index.html", index_page(&normal, true), "index");
    assert_contains("index", html, "href=\"/events/final-2027\"");
    assert_contains("index", html, "href=\"/events/policy-day\"");
    assert_contains("index", html, "29–30 October 2027");
    assert_contains("index", html, "Natural Sciences Museum");
    assert_lacks("index", html, "No upcoming events");
    free(html);

    html = render("index.html", index_page(&normal, false), "index-empty");
    assert_contains("index-empty", html, "No upcoming events");
    free(html);

    html = render("index.html", index_page(&hostile, true), "index-hostile");
    check_inert("index-hostile", html);
    free(html);
}

static void test_event_open(void **state)
{
    (void)state;
    const char *page = "event-open";
    char *html = render("event.html", event_page(&normal, OPEN, 57, true, false), page);
    const char *must[] = {
        "<h1>TERRA Final Conference</h1>",
        "Natural Sciences Museum",
        "Rue Vautier 29, 1000 Brussels",
        "Friday 29 October 2027, 09:00",
        "Saturday 30 October 2027, 17:30",
        "Open until Friday 29 October 2027, 09:00",
        "<form class=\"card form\" method=\"post\" action=\"/events/final-2027/register\"",
        "<input type=\"hidden\" name=\"csrf_token\" value=\"csrf.abcdef0123456789\">",
        "<input type=\"hidden\" name=\"form_nonce\" value=\"n0nce0123456789abcdef\">",
        "autocomplete=\"given-name\"",
        "autocomplete=\"family-name\"",
        "autocomplete=\"email\"",
        "autocomplete=\"organization\"",
        "autocomplete=\"country\"",
        "<option value=\"\">Choose…</option>",
        "<option value=\"BE\" selected>Belgium</option>",
        "<option value=\"research\" selected>University or research organisation</option>",
        "Which days and sessions will you attend?",
        "name=\"lists\" value=\"1\" checked",
        "name=\"lists\" value=\"3\" checked",
        "name=\"consent\" value=\"yes\" required checked",
        "I agree that the organisers store my registration as described in the privacy notice",
        "funding body",
        ">Register</button>",
        "value=\"Marie-Hélène\"",
        "value=\"mh.vandenbroeck@ulb.example\"",
        ">\nVegetarian</textarea>",
        "(required)",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        assert_contains(page, html, must[i]);
    assert_lacks(page, html, "name=\"lists\" value=\"2\" checked");
    assert_lacks(page, html, "error-summary");
    assert_lacks(page, html, "aria-invalid");
    assert_lacks(page, html, "waiting list and we will tell you");
    /* The lists fieldset has its legend. */
    assert_contains(page, html, "<fieldset class=\"choices field\" id=\"field-lists\"");
    free(html);
}

static void test_event_errors(void **state)
{
    (void)state;
    const char *page = "event-errors";
    char *html = render("event.html", event_page(&normal, OPEN, 57, true, true), page);
    struct doc d;
    doc_parse(html, page, &d);

    const char *summary = strstr(html, "class=\"error-summary\"");
    assert_non_null(summary);
    assert_contains(page, html, "role=\"alert\" tabindex=\"-1\"");
    assert_contains(page, html, "<title>Error: ");
    const char *form = strstr(html, "<form");
    assert_true(summary < form); /* the summary comes first */

    const char *names[32];
    size_t n = error_fields(names, 32);
    for (size_t i = 0; i < n; i++) {
        char want[256], field_id[64], error_id[64];
        snprintf(field_id, sizeof field_id, "field-%s", names[i]);
        snprintf(error_id, sizeof error_id, "error-%s", names[i]);
        snprintf(want, sizeof want, "<a href=\"#%s\">", field_id);
        assert_contains(page, summary, want);
        const struct tag *field = by_id(&d, field_id);
        if (field == NULL)
            fail_msg("%s: no element with id %s", page, field_id);
        if (by_id(&d, error_id) == NULL)
            fail_msg("%s: no message with id %s", page, error_id);
        if (strcmp(names[i], "form_nonce") == 0)
            continue; /* not a field: the message sits by the submit button */
        const char *described = attr(field, "aria-describedby");
        if (described == NULL || !has_word(described, error_id))
            fail_msg("%s: %s is not described by %s", page, field_id, error_id);
        if (strcmp(field->name, "fieldset") != 0) {
            const char *invalid = attr(field, "aria-invalid");
            if (invalid == NULL || strcmp(invalid, "true") != 0)
                fail_msg("%s: %s lacks aria-invalid=\"true\"", page, field_id);
        }
    }
    /* Each checkbox of the lists is marked invalid too. */
    for (size_t i = 0; i < d.count; i++) {
        const char *name = attr(&d.tags[i], "name");
        if (name != NULL && strcmp(name, "lists") == 0) {
            const char *invalid = attr(&d.tags[i], "aria-invalid");
            assert_non_null(invalid);
        }
    }
    /* Values survive the round trip. */
    assert_contains(page, html, "value=\"Marie-Hélène\"");
    assert_contains(page, html, "<option value=\"BE\" selected>Belgium</option>");
    assert_contains(page, html, "Enter your family name");
    assert_contains(page, html, "Enter an email address like name@example.org");
    assert_lacks(page, html, "name=\"consent\" value=\"yes\" required checked");
    doc_free(&d);
    free(html);
}

static void test_event_states(void **state)
{
    (void)state;
    char *html = render("event.html", event_page(&normal, OPEN, 0, true, false), "event-full");
    assert_contains("event-full", html,
                    "The event is fully booked: if you register now you join the waiting list "
                    "and we will tell you when a seat frees up.");
    assert_contains("event-full", html, "<form");
    free(html);

    html = render("event.html", event_page(&normal, OPEN, 0, false, false), "event-full-nowait");
    assert_lacks("event-full-nowait", html, "<form");
    assert_contains("event-full-nowait", html, "fully booked");
    free(html);

    html = render("event.html", event_page(&normal, NOT_OPEN, 200, true, false), "event-not-open");
    assert_contains("event-not-open", html, "Registration opens on Monday 1 March 2027, 10:00");
    assert_lacks("event-not-open", html, "<form");
    free(html);

    html = render("event.html", event_page(&normal, CLOSED, 57, true, false), "event-closed");
    assert_contains("event-closed", html, "Registration is closed");
    assert_lacks("event-closed", html, "<form");
    free(html);
}

static void test_event_hostile(void **state)
{
    (void)state;
    char *html = render("event.html", event_page(&hostile, OPEN, 0, true, true), "event-hostile");
    check_inert("event-hostile", html);
    assert_contains("event-hostile", html, "<h1>&amp;&lt;&gt;&#39;&quot;</h1>");
    assert_contains("event-hostile", html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_contains("event-hostile", html, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    free(html);
}

static void test_ticket(void **state)
{
    (void)state;
    char *html =
        render("ticket.html", ticket_page(&normal, CONFIRMED, true, false), "ticket-confirmed");
    const char *page = "ticket-confirmed";
    assert_contains(page, html, qr_svg); /* raw, byte for byte */
    assert_contains(page, html, "You are registered");
    assert_contains(page, html, "Marie-Hélène Van den Broeck");
    assert_contains(page, html, "Université libre de Bruxelles");
    assert_contains(page, html,
                    "Show this code at the entrance. It works on paper or on your "
                    "phone's screen, even offline.");
    assert_contains(page, html, "href=\"/tickets/k3J9xQ2mV8pL5nR7tW4yZ1aB6cD0eF/qr.svg\"");
    assert_contains(page, html, "href=\"/tickets/k3J9xQ2mV8pL5nR7tW4yZ1aB6cD0eF/qr.png\"");
    assert_contains(page, html, "href=\"/tickets/k3J9xQ2mV8pL5nR7tW4yZ1aB6cD0eF/cancel\"");
    assert_contains(page, html, "Cancel my registration");
    assert_contains(page, html, "Day 1 – plenary");
    assert_contains(page, html, "Bookmark this page");
    assert_contains(page, html, "noindex");
    assert_lacks(page, html, "waiting list</p>");
    free(html);

    html = render("ticket.html", ticket_page(&normal, CONFIRMED, false, false), "ticket-again");
    assert_lacks("ticket-again", html, "You are registered");
    free(html);

    page = "ticket-waitlisted";
    html = render("ticket.html", ticket_page(&normal, WAITLISTED, true, false), page);
    assert_contains(page, html, "You are on the waiting list");
    assert_contains(page, html,
                    "You are number <strong class=\"waitlist-number\">3</strong> on "
                    "the waiting list");
    assert_contains(page, html, "/cancel\"");
    assert_lacks(page, html, "<svg");
    assert_lacks(page, html, "Show this code");
    free(html);

    page = "ticket-cancelled";
    html = render("ticket.html", ticket_page(&normal, CANCELLED, false, true), page);
    assert_contains(page, html,
                    "This registration is cancelled; its ticket no longer admits anyone");
    assert_contains(page, html, "href=\"/events/final-2027\"");
    assert_lacks(page, html, "<svg");
    assert_lacks(page, html, "/cancel\"");
    free(html);

    const char *names[] = {"ticket-confirmed-hostile", "ticket-waitlisted-hostile",
                           "ticket-cancelled-hostile"};
    for (int s = CONFIRMED; s <= CANCELLED; s++) {
        html = render("ticket.html", ticket_page(&hostile, (enum status)s, true, false), names[s]);
        check_inert(names[s], html);
        if (s == CONFIRMED)
            assert_contains(names[s], html, qr_svg);
        free(html);
    }
}

static void test_cancel(void **state)
{
    (void)state;
    const char *page = "cancel";
    char *html = render("cancel.html", cancel_page(&normal, CONFIRMED), page);
    assert_contains(page, html, "Cancel your registration for TERRA Final Conference?");
    assert_contains(page, html,
                    "method=\"post\" action=\"/tickets/k3J9xQ2mV8pL5nR7tW4yZ1aB6cD0eF/cancel\"");
    assert_contains(page, html,
                    "<input type=\"hidden\" name=\"csrf_token\" value=\"csrf.abcdef0123456789\">");
    assert_contains(page, html, "Yes, cancel my registration</button>");
    assert_contains(page, html,
                    "href=\"/tickets/k3J9xQ2mV8pL5nR7tW4yZ1aB6cD0eF\">Keep my registration</a>");
    assert_contains(page, html, "waiting list");
    free(html);

    html = render("cancel.html", cancel_page(&normal, WAITLISTED), "cancel-waitlisted");
    assert_contains("cancel-waitlisted", html, "Yes, cancel my registration");
    free(html);

    html = render("cancel.html", cancel_page(&hostile, CONFIRMED), "cancel-hostile");
    check_inert("cancel-hostile", html);
    free(html);
}

static void test_problems(void **state)
{
    (void)state;
    static const struct {
        const char *problem, *expected;
    } cases[] = {
        {"closed", "Registration for TERRA Final Conference has closed"},
        {"not_open", "Registration opens on Monday 1 March 2027, 10:00"},
        {"full", "TERRA Final Conference is fully booked and has no waiting list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char file[64];
        snprintf(file, sizeof file, "problem-%s", cases[i].problem);
        char *html = render("registration_problem.html",
                            problem_page(&normal, cases[i].problem, true), file);
        assert_contains(file, html, cases[i].expected);
        free(html);

        snprintf(file, sizeof file, "problem-%s-no-event", cases[i].problem);
        html = render("registration_problem.html", problem_page(&normal, cases[i].problem, false),
                      file);
        free(html);

        snprintf(file, sizeof file, "problem-%s-hostile", cases[i].problem);
        html = render("registration_problem.html", problem_page(&hostile, cases[i].problem, true),
                      file);
        check_inert(file, html);
        free(html);
    }
    char *html = render("registration_problem.html", problem_page(&normal, "other", true),
                        "problem-unknown");
    free(html);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        unsigned status;
        const char *title, *message;
    } cases[] = {
        {404, "Page not found",
         "There is no page at this address. If you typed or copied it, "
         "check that it is complete."},
        {403, "Form expired",
         "This form has expired or was sent from another site: go back, "
         "reload the page and try again"},
        {413, "Too much data", "The form you sent is larger than we accept."},
        {500, "Internal error", "Something went wrong on our side. Please try again later."},
        {503, "Temporarily unavailable",
         "The registration service is briefly unavailable; "
         "please try again in a minute. Nothing was lost."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char file[32], code[32];
        snprintf(file, sizeof file, "error-%u", cases[i].status);
        char *html = render("error.html",
                            error_page(cases[i].status, cases[i].title, cases[i].message), file);
        snprintf(code, sizeof code, "Error %u", cases[i].status);
        assert_contains(file, html, code);
        assert_contains(file, html, cases[i].title);
        assert_contains(file, html, "href=\"/\"");
        free(html);
    }
    char *html =
        render("error.html", error_page(400, hostile.title, hostile.message), "error-hostile");
    check_inert("error-hostile", html);
    free(html);
    /* What http_respond_error passes when the render of a page failed half-way: no "site". */
    html = render("error.html",
                  json_pack("{s:i,s:s,s:s}", "status", 500, "title", "Internal error", "message",
                            "Please try again later."),
                  "error-bare");
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),        cmocka_unit_test(test_index),
        cmocka_unit_test(test_event_open),   cmocka_unit_test(test_event_errors),
        cmocka_unit_test(test_event_states), cmocka_unit_test(test_event_hostile),
        cmocka_unit_test(test_ticket),       cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_problems),     cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
