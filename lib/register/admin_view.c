#include "admit/register/admin_view.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/country.h"
#include "admit/register/event.h"
#include "admit/register/export.h"
#include "admit/register/form.h"
#include "admit/register/registration.h"
#include "admit/register/report.h"

/* The largest page number a search may ask for. */
#define PAGE_MAX 100000

int admit_admin_parse_id(const char *text)
{
    size_t n = text != NULL ? strlen(text) : 0;
    if (n == 0 || n > 9 || strspn(text, "0123456789") != n)
        return 0;
    return atoi(text);
}

enum admit_rc admit_admin_view_events(struct admit_db *db, int admin_id, json_t **out)
{
    char id[16];
    snprintf(id, sizeof id, "%d", admin_id);
    const char *params[1] = {id};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_ADMIN_EVENTS, 1, params, out);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        *out = json_array();
        rc = ADMIT_OK;
    }
    return rc;
}

enum admit_rc admit_admin_view_event(struct admit_db *db, int admin_id, const char *slug,
                                     enum admit_admin_view view, json_t **out)
{
    static const enum admit_query queries[] = {
        [ADMIT_ADMIN_VIEW_OVERVIEW] = ADMIT_Q_ADMIN_EVENT,
        [ADMIT_ADMIN_VIEW_FORM] = ADMIT_Q_ADMIN_EVENT_FORM,
        [ADMIT_ADMIN_VIEW_LIVE] = ADMIT_Q_ADMIN_LIVE,
    };
    char id[16];
    snprintf(id, sizeof id, "%d", admin_id);
    const char *params[2] = {id, slug};
    return admit_db_query_json(db, queries[view], 2, params, out);
}

static bool one_of(const char *value, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++)
        if (strcmp(value, allowed[i]) == 0)
            return true;
    return false;
}

/* The page a search asks for, or 0 when it is not one. */
static long search_page(const struct admit_admin_search *s)
{
    static const char *const statuses[] = {"", "confirmed", "waitlisted", "cancelled", NULL};
    static const char *const checked[] = {"", "yes", "no", NULL};
    long chars = admit_form_text_chars(s->text, 0);
    long page = s->page[0] != '\0' ? admit_admin_parse_id(s->page) : 1;
    if (chars < 0 || chars > ADMIT_ADMIN_SEARCH_MAX || !one_of(s->status, statuses) ||
        !one_of(s->checked, checked) || (s->list[0] != '\0' && admit_admin_parse_id(s->list) == 0))
        return 0;
    return page >= 1 && page <= PAGE_MAX ? page : 0;
}

enum admit_rc admit_admin_view_attendees(struct admit_db *db, int admin_id, const char *slug,
                                         const struct admit_admin_search *search,
                                         struct admit_admin_attendees *out, struct admit_error *err)
{
    char id[16], offset[24], limit[16];
    memset(out, 0, sizeof *out);
    admit_error_clear(err);
    out->page = search_page(search);
    if (out->page == 0) {
        admit_error_set(err,
                        "This search is not valid: search for at most %d characters of "
                        "ordinary text, and choose the filters from the lists.",
                        ADMIT_ADMIN_SEARCH_MAX);
        return ADMIT_ERR_INVALID;
    }
    snprintf(id, sizeof id, "%d", admin_id);
    snprintf(offset, sizeof offset, "%ld", (out->page - 1) * ADMIT_ADMIN_ATTENDEES_PAGE);
    snprintf(limit, sizeof limit, "%d", ADMIT_ADMIN_ATTENDEES_PAGE);
    const char *params[8] = {id,
                             slug,
                             search->text,
                             search->status,
                             search->list[0] ? search->list : NULL,
                             search->checked,
                             offset,
                             limit};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_ADMIN_ATTENDEES, 8, params, &out->data);
    if (rc != ADMIT_OK)
        return rc;
    out->total = (long)json_integer_value(json_object_get(out->data, "total"));
    out->pages = (out->total + ADMIT_ADMIN_ATTENDEES_PAGE - 1) / ADMIT_ADMIN_ATTENDEES_PAGE;
    out->pages = out->pages > 0 ? out->pages : 1;
    return ADMIT_OK;
}

/* Adds the words for the codes of a registration: "country_name" ("Belgium") and
 * "organisation_type_label" ("Public body"); an unknown code stands for itself. */
static void name_codes(json_t *registration)
{
    const char *country = json_string_value(json_object_get(registration, "country"));
    const char *type = json_string_value(json_object_get(registration, "organisation_type"));
    const struct admit_country *c = country != NULL ? admit_country_find(country) : NULL;
    const char *label = type;
    for (size_t i = 0; type != NULL && i < admit_organisation_type_count; i++)
        if (strcmp(type, admit_organisation_types[i].value) == 0)
            label = admit_organisation_types[i].label;
    json_object_set_new(registration, "country_name",
                        json_string(c != NULL         ? c->name
                                    : country != NULL ? country
                                                      : ""));
    json_object_set_new(registration, "organisation_type_label",
                        json_string(label != NULL ? label : ""));
}

enum admit_rc admit_admin_view_attendee(struct admit_db *db, int admin_id, const char *slug,
                                        int registration_id, json_t **out)
{
    char id[16], reg[16];
    snprintf(id, sizeof id, "%d", admin_id);
    snprintf(reg, sizeof reg, "%d", registration_id);
    const char *params[3] = {id, slug, reg};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_ADMIN_ATTENDEE, 3, params, out);
    if (rc == ADMIT_OK)
        name_codes(*out);
    return rc;
}

enum admit_rc admit_admin_view_arrivals(struct admit_db *db, int admin_id, const char *slug,
                                        const char *day, json_t **out, struct admit_error *err)
{
    char id[16];
    json_t *arrivals = NULL;
    *out = NULL;
    admit_error_clear(err);
    if (day != NULL && !admit_event_date_valid(day)) {
        admit_error_set_field(err, "day");
        admit_error_set(err, "day: a date like 2027-10-29.");
        return ADMIT_ERR_INVALID;
    }
    snprintf(id, sizeof id, "%d", admin_id);
    const char *params[3] = {id, slug, day};
    enum admit_rc rc = admit_db_query_json(db, ADMIT_Q_ADMIN_ARRIVALS, 3, params, &arrivals);
    if (rc == ADMIT_OK)
        *out = admit_report_arrivals_chart(arrivals);
    json_decref(arrivals);
    return rc;
}

enum admit_rc admit_admin_view_report(struct admit_db *db, int admin_id, const char *slug,
                                      json_t **event, json_t **report)
{
    *report = NULL;
    enum admit_rc rc = admit_admin_view_event(db, admin_id, slug, ADMIT_ADMIN_VIEW_OVERVIEW, event);
    if (rc == ADMIT_OK)
        rc = admit_report_load(db, (int)json_integer_value(json_object_get(*event, "id")), report);
    if (rc != ADMIT_OK) {
        json_decref(*event);
        *event = NULL;
    }
    return rc;
}

enum admit_rc admit_admin_view_report_csv(struct admit_db *db, int admin_id, const char *slug,
                                          enum admit_csv_flavour flavour, struct admit_buf *csv)
{
    struct admit_csv_writer writer;
    json_t *report = NULL;
    int event_id = 0, list_id = 0;
    enum admit_rc rc = admit_export_find(db, slug, NULL, admin_id, &event_id, &list_id);
    if (rc == ADMIT_OK)
        rc = admit_report_load(db, event_id, &report);
    if (rc != ADMIT_OK)
        return rc;
    admit_csv_writer_init(&writer, flavour, admit_csv_sink_buf, csv);
    rc = admit_report_write_csv(report, &writer);
    if (rc == ADMIT_OK)
        rc = admit_csv_flush(&writer);
    json_decref(report);
    return rc;
}
