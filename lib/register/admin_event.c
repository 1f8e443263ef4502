#include "admit/register/admin_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/text.h"

static const char *valid_slug(const char *value, size_t max_chars)
{
    (void)max_chars;
    return admit_event_slug_valid(value)
               ? NULL
               : "Use 1 to 64 lower-case letters, digits and dashes, like terra-2027";
}

static const char *valid_time(const char *value, size_t max_chars)
{
    (void)max_chars;
    return admit_event_time_valid(value) ? NULL : "Enter a date and time like 2027-10-29 09:00";
}

static const char *valid_time_zone(const char *value, size_t max_chars)
{
    size_t n = strlen(value);
    if (n > max_chars || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789/_+-") != n)
        return "Enter a time zone like Europe/Brussels";
    return NULL;
}

static const char *valid_capacity(const char *value, size_t max_chars)
{
    size_t n = strlen(value);
    (void)max_chars;
    if (n == 0 || n > 7 || strspn(value, "0123456789") != n || atol(value) > 1000000)
        return "Enter a whole number of seats from 0 to 1000000";
    return NULL;
}

static const char *valid_retention(const char *value, size_t max_chars)
{
    size_t n = strlen(value);
    (void)max_chars;
    if (n > 4 || strspn(value, "0123456789") != n || atol(value) > 3650)
        return "Enter a whole number of days from 0 to 3650";
    return NULL;
}

static const char *valid_notice_url(const char *value, size_t max_chars)
{
    if ((strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) ||
        strlen(value) > max_chars || strcspn(value, " \t\r\n") != strlen(value))
        return "Enter the whole address of the privacy notice, starting with https://";
    return NULL;
}

const struct admit_form_field admit_admin_event_fields[] = {
    {"slug", "Address", "Enter the short name used in the event's address", 64, valid_slug},
    {"name", "Name", "Enter the event's name", 200, admit_form_valid_line},
    {"description", "Description", NULL, 4000, admit_form_valid_paragraph},
    {"venue", "Venue", NULL, 200, admit_form_valid_line},
    {"venue_address", "Venue address", NULL, 300, admit_form_valid_line},
    {"organiser", "Organiser", NULL, 200, admit_form_valid_line},
    {"contact_email", "Contact email", NULL, 254, admit_form_valid_email},
    {"time_zone", "Time zone", "Enter the event's time zone", 64, valid_time_zone},
    {"starts", "Starts", "Enter when the event starts", 19, valid_time},
    {"ends", "Ends", "Enter when the event ends", 19, valid_time},
    {"opens", "Registration opens", NULL, 19, valid_time},
    {"closes", "Registration closes", NULL, 19, valid_time},
    {"edits_close", "Attendees may change their registration until", NULL, 19, valid_time},
    {"capacity", "Capacity", "Enter the number of seats", 7, valid_capacity},
    {"retention_days", "Personal data kept", NULL, 4, valid_retention},
    {"privacy_notice_url", "Privacy notice", NULL, 500, valid_notice_url},
    {"controller", "Data controller", NULL, 300, admit_form_valid_line},
};
const size_t admit_admin_event_field_count =
    sizeof admit_admin_event_fields / sizeof admit_admin_event_fields[0];

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* get() that hides the slug when editing: it cannot be changed (links and tickets use it). */
struct lookup {
    admit_form_lookup get;
    void *ctx;
    bool creating;
};

static const char *lookup_get(void *ctx, const char *name)
{
    struct lookup *l = ctx;
    if (!l->creating && strcmp(name, "slug") == 0)
        return "x"; /* valid, never used */
    return l->get(l->ctx, name);
}

/* A row's session settings; false (with an error added) when they are not valid. */
static bool check_session(struct admit_admin_event_list *row, struct admit_form_errors *errs)
{
    size_t n = strlen(row->capacity);
    if (n > 0 &&
        (n > 7 || strspn(row->capacity, "0123456789") != n || atol(row->capacity) > 1000000)) {
        admit_form_add_error(errs, "lists",
                             "Enter a session's places as a whole number from 0 to 1000000, or "
                             "leave it empty for no limit");
        return false;
    }
    if ((row->session_starts[0] != '\0' && !admit_event_time_valid(row->session_starts)) ||
        (row->session_ends[0] != '\0' && !admit_event_time_valid(row->session_ends))) {
        admit_form_add_error(errs, "lists", "Enter session times like 2027-10-29 14:00");
        return false;
    }
    if ((row->session_starts[0] == '\0') != (row->session_ends[0] == '\0')) {
        admit_form_add_error(errs, "lists",
                             "Give a session both a start and an end time, or neither");
        return false;
    }
    return true;
}

static const char *row_value(const char *const *column, size_t i)
{
    return column != NULL ? or_empty(column[i]) : "";
}

static void check_lists(const struct admit_admin_event_rows *rows,
                        struct admit_admin_event_form *out, struct admit_form_errors *errs)
{
    out->sessions = rows->caps != NULL;
    for (size_t i = 0; i < rows->n; i++) {
        const char *id = or_empty(rows->ids[i]), *name = or_empty(rows->names[i]),
                   *day = or_empty(rows->days[i]);
        if (id[0] == '\0' && name[0] == '\0')
            continue;
        if (out->nlists == ADMIT_EVENT_MAX_LISTS) {
            admit_form_add_error(errs, "lists", "An event has at most 32 check-in lists");
            return;
        }
        if (id[0] != '\0' && (strlen(id) > 9 || strspn(id, "0123456789") != strlen(id))) {
            admit_form_add_error(errs, "lists", "This form was changed: reload the page");
            return;
        }
        enum admit_text_verdict verdict = admit_text_check(name, 0, 100, NULL);
        if (name[0] != '\0' && verdict != ADMIT_TEXT_OK) {
            admit_form_add_error(errs, "lists",
                                 verdict == ADMIT_TEXT_INVISIBLE
                                     ? admit_text_message(verdict, 0)
                                     : "List names are one line of at most 100 characters");
            return;
        }
        if (name[0] != '\0' && !admit_text_visible(name)) {
            admit_form_add_error(errs, "lists", "A check-in list's name cannot be blank");
            return;
        }
        if (day[0] != '\0' && !admit_event_date_valid(day)) {
            admit_form_add_error(errs, "lists", "Enter days like 2027-10-29, or leave them empty");
            return;
        }
        for (size_t j = 0; name[0] != '\0' && j < out->nlists; j++) {
            if (strcmp(out->lists[j].name, name) == 0) {
                admit_form_add_error(errs, "lists", "Two check-in lists have the same name");
                return;
            }
        }
        struct admit_admin_event_list row = {id,
                                             name,
                                             day,
                                             row_value(rows->caps, i),
                                             row_value(rows->starts, i),
                                             row_value(rows->ends, i)};
        if (!check_session(&row, errs))
            return;
        out->lists[out->nlists++] = row;
    }
}

size_t admit_admin_event_check(admit_form_lookup get, void *ctx, bool creating,
                               const struct admit_admin_event_rows *rows,
                               struct admit_admin_event_form *out, struct admit_form_errors *errs)
{
    size_t before = errs->count;
    struct lookup l = {get, ctx, creating};
    memset(out, 0, sizeof *out);
    admit_form_validate(admit_admin_event_fields, admit_admin_event_field_count, lookup_get, &l,
                        errs);
    out->slug = creating ? or_empty(get(ctx, "slug")) : NULL;
    out->name = or_empty(get(ctx, "name"));
    out->description = or_empty(get(ctx, "description"));
    out->venue = or_empty(get(ctx, "venue"));
    out->venue_address = or_empty(get(ctx, "venue_address"));
    out->organiser = or_empty(get(ctx, "organiser"));
    out->contact_email = or_empty(get(ctx, "contact_email"));
    out->time_zone = or_empty(get(ctx, "time_zone"));
    out->starts = or_empty(get(ctx, "starts"));
    out->ends = or_empty(get(ctx, "ends"));
    out->opens = or_empty(get(ctx, "opens"));
    out->closes = or_empty(get(ctx, "closes"));
    out->edits_close = or_empty(get(ctx, "edits_close"));
    out->capacity = or_empty(get(ctx, "capacity"));
    out->retention_days = or_empty(get(ctx, "retention_days"));
    out->privacy_notice_url = get(ctx, "privacy_notice_url");
    out->controller = get(ctx, "controller");
    const char *waitlist = get(ctx, "waitlist");
    out->waitlist = waitlist != NULL && strcmp(waitlist, "yes") == 0;
    const char *attach = get(ctx, "attach_pdf_ticket");
    out->attach_pdf_ticket = attach != NULL && strcmp(attach, "yes") == 0;
    check_lists(rows, out, errs);
    return errs->count - before;
}

/* One column of the form's list rows (0: ids, 1: names, 2: days, 3: capacities, 4: session
 * starts, 5: session ends) as a PostgreSQL array literal; an empty value other than a name is
 * NULL. */
static enum admit_rc array_literal(struct admit_buf *out, const struct admit_admin_event_form *f,
                                   int which)
{
    const char *items[ADMIT_EVENT_MAX_LISTS];
    for (size_t i = 0; i < f->nlists; i++) {
        const struct admit_admin_event_list *l = &f->lists[i];
        const char *columns[] = {l->id,       l->name,           l->day,
                                 l->capacity, l->session_starts, l->session_ends};
        items[i] = columns[which][0] == '\0' && which != 1 ? NULL : columns[which];
    }
    return admit_db_array_literal(out, items, f->nlists);
}

/* The event's PDF ticket setting, after the event was saved (see admit_admin_event_save). */
static enum admit_rc save_attach_pdf(struct admit_db *db, const char *admin, const char *slug,
                                     bool on)
{
    PGresult *res = NULL;
    const char *params[3] = {admin, slug, on ? "t" : "f"};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EVENT_ATTACH_PDF_TICKET, 3, params, &res);
    PQclear(res);
    return rc;
}

static const char *empty_null(const char *s)
{
    return s[0] != '\0' ? s : NULL;
}

enum admit_rc admit_admin_event_save(struct admit_db *db, int admin_id, const char *slug,
                                     const struct admit_admin_event_form *form,
                                     struct admit_admin_event_saved *out)
{
    struct admit_buf arrays[6];
    char admin[16];
    PGresult *res = NULL;
    enum admit_rc rc = ADMIT_OK;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 6; i++) {
        admit_buf_init(&arrays[i], i == 1 ? 16384 : 4096);
        if (rc == ADMIT_OK)
            rc = array_literal(&arrays[i], form, i);
    }
    if (rc != ADMIT_OK)
        goto done;
    snprintf(admin, sizeof admin, "%d", admin_id);
    const char *params[26] = {admin,
                              slug,
                              slug == NULL ? form->slug : NULL,
                              form->name,
                              form->description,
                              form->venue,
                              form->venue_address,
                              form->organiser,
                              form->contact_email,
                              form->time_zone,
                              form->starts,
                              form->ends,
                              empty_null(form->opens),
                              empty_null(form->closes),
                              form->capacity,
                              form->waitlist ? "t" : "f",
                              admit_buf_cstr(&arrays[0]),
                              admit_buf_cstr(&arrays[1]),
                              admit_buf_cstr(&arrays[2]),
                              empty_null(form->edits_close),
                              empty_null(form->retention_days),
                              form->privacy_notice_url,
                              form->controller,
                              form->sessions ? admit_buf_cstr(&arrays[3]) : NULL,
                              form->sessions ? admit_buf_cstr(&arrays[4]) : NULL,
                              form->sessions ? admit_buf_cstr(&arrays[5]) : NULL};
    rc = admit_db_query(db, ADMIT_Q_ADMIN_EVENT_SAVE, 26, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    const char *outcome = PQgetvalue(res, 0, 0);
    out->outcome = strcmp(outcome, "created") == 0      ? ADMIT_ADMIN_EVENT_CREATED
                   : strcmp(outcome, "updated") == 0    ? ADMIT_ADMIN_EVENT_UPDATED
                   : strcmp(outcome, "invalid") == 0    ? ADMIT_ADMIN_EVENT_INVALID
                   : strcmp(outcome, "slug_taken") == 0 ? ADMIT_ADMIN_EVENT_SLUG_TAKEN
                                                        : ADMIT_ADMIN_EVENT_NOT_FOUND;
    snprintf(out->slug, sizeof out->slug, "%s", PQgetvalue(res, 0, 1));
    admit_error_clear(&out->error);
    if (out->outcome == ADMIT_ADMIN_EVENT_SLUG_TAKEN) {
        admit_error_set_field(&out->error, "slug");
        admit_error_set(&out->error, "Another event has this address: choose another");
    } else if (out->outcome == ADMIT_ADMIN_EVENT_INVALID) {
        /* The rules the database owns (a real date, a known time zone, ...) name their field;
         * one that does not is shown at the top of the form, next to the name. */
        const char *field = PQgetvalue(res, 0, 2);
        admit_error_set_field(&out->error, field[0] != '\0' ? field : "name");
        admit_error_set(&out->error, "%s", PQgetvalue(res, 0, 3));
    }
    if (out->outcome == ADMIT_ADMIN_EVENT_CREATED || out->outcome == ADMIT_ADMIN_EVENT_UPDATED)
        rc = save_attach_pdf(db, admin, out->slug, form->attach_pdf_ticket);
done:
    PQclear(res);
    for (int i = 0; i < 6; i++)
        admit_buf_free(&arrays[i]);
    return rc;
}
