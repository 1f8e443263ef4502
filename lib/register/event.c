#include "admit/register/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/text.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Matches text against a pattern where '9' is any digit and every other character itself. */
static int shaped(const char *text, const char *pattern, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (pattern[i] == '9' ? !is_digit(text[i]) : text[i] != pattern[i])
            return 0;
    }
    return 1;
}

int admit_event_slug_valid(const char *slug)
{
    size_t n = strlen(slug);
    if (n < 1 || n > 64 || slug[0] == '-' || slug[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(is_digit(slug[i]) || (slug[i] >= 'a' && slug[i] <= 'z') || slug[i] == '-'))
            return 0;
    return 1;
}

int admit_event_date_valid(const char *text)
{
    return strlen(text) == 10 && shaped(text, "9999-99-99", 10);
}

int admit_event_time_valid(const char *text)
{
    size_t n = strlen(text);
    if (n != 16 && n != 19)
        return 0;
    if (!shaped(text, "9999-99-99", 10) || (text[10] != ' ' && text[10] != 'T'))
        return 0;
    return shaped(text + 11, n == 16 ? "99:99" : "99:99:99", n - 11);
}

/* Whether value (NULL: absent) is text of at most max characters (admit/text.h, with flags)
 * that shows something when required; else one line for the command line in err (without the
 * value: it may hold characters that garble a terminal). */
static bool text_ok(const char *label, const char *value, size_t max, unsigned flags, bool required,
                    struct admit_error *err)
{
    const char *text = value != NULL ? value : "";
    enum admit_text_verdict verdict = admit_text_check(text, flags, max, NULL);
    if (verdict == ADMIT_TEXT_TOO_LONG)
        admit_error_set(err, "%s: at most %zu characters", label, max);
    else if (verdict != ADMIT_TEXT_OK)
        admit_error_set(err, "%s: %s", label, admit_text_message(verdict, flags));
    else if (required && !admit_text_visible(text))
        admit_error_set(err, "%s: 1 to %zu characters, not only blanks", label, max);
    else
        return true;
    return false;
}

static enum admit_rc check_spec(const struct admit_event_spec *s, struct admit_error *err)
{
    if (!admit_event_slug_valid(s->slug)) {
        admit_error_set(err, "slug \"%s\": use 1 to 64 lower-case letters, digits and dashes",
                        s->slug);
        return ADMIT_ERR_INVALID;
    }
    /* The limits of the organisers' event form (lib/register/admin_event.c). */
    if (!text_ok("name", s->name, 200, 0, true, err) ||
        !text_ok("venue", s->venue, 200, 0, false, err) ||
        !text_ok("address", s->venue_address, 300, 0, false, err) ||
        !text_ok("organiser", s->organiser, 200, 0, false, err) ||
        !text_ok("description", s->description, 4000, ADMIT_TEXT_MULTILINE, false, err))
        return ADMIT_ERR_INVALID;
    const char *times[4] = {s->starts, s->ends, s->opens, s->closes};
    const char *labels[4] = {"starts", "ends", "opens", "closes"};
    for (int i = 0; i < 4; i++) {
        if (times[i] == NULL && i >= 2)
            continue;
        if (times[i] == NULL || !admit_event_time_valid(times[i])) {
            admit_error_set(err, "%s \"%s\": expected a local time like 2027-10-29 09:00",
                            labels[i], times[i] ? times[i] : "");
            return ADMIT_ERR_INVALID;
        }
    }
    /* Same shape, so comparing the date and then the time as text compares the instants. */
    int order = strncmp(s->ends, s->starts, 10);
    if (order == 0)
        order = strcmp(s->ends + 11, s->starts + 11);
    if (order <= 0) {
        admit_error_set(err, "the event must end after it starts");
        return ADMIT_ERR_INVALID;
    }
    if (s->capacity < 0 || s->capacity > 1000000) {
        admit_error_set(err, "capacity: 0 to 1000000");
        return ADMIT_ERR_INVALID;
    }
    for (size_t i = 0; i < s->nlists; i++) {
        if (!text_ok("check-in list name", s->lists[i].name, 100, 0, true, err))
            return ADMIT_ERR_INVALID;
        if (s->lists[i].day != NULL && !admit_event_date_valid(s->lists[i].day)) {
            admit_error_set(err, "list \"%s\": day \"%s\" is not a date like 2027-10-29",
                            s->lists[i].name, s->lists[i].day);
            return ADMIT_ERR_INVALID;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->lists[i].name, s->lists[j].name) == 0) {
                admit_error_set(err, "check-in list \"%s\" is given twice", s->lists[i].name);
                return ADMIT_ERR_INVALID;
            }
        }
    }
    return ADMIT_OK;
}

enum admit_rc admit_event_create(struct admit_db *db, const struct admit_event_spec *s, int *id,
                                 struct admit_error *err)
{
    struct admit_buf names, days;
    char capacity[24];
    PGresult *res = NULL;

    admit_buf_init(&names, 16384);
    admit_buf_init(&days, 4096);
    admit_error_clear(err);
    enum admit_rc rc = check_spec(s, err);
    if (rc != ADMIT_OK)
        goto done;
    const char *list_names[ADMIT_EVENT_MAX_LISTS], *list_days[ADMIT_EVENT_MAX_LISTS];
    for (size_t i = 0; i < s->nlists; i++) {
        list_names[i] = s->lists[i].name;
        list_days[i] = s->lists[i].day;
    }
    rc = admit_db_array_literal(&names, list_names, s->nlists);
    if (rc == ADMIT_OK)
        rc = admit_db_array_literal(&days, list_days, s->nlists);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "check-in lists too long");
        goto done;
    }
    snprintf(capacity, sizeof capacity, "%ld", s->capacity);
    const char *params[15] = {s->slug,
                              s->name,
                              s->venue ? s->venue : "",
                              s->venue_address ? s->venue_address : "",
                              s->time_zone,
                              s->starts,
                              s->ends,
                              s->opens,
                              s->closes,
                              capacity,
                              admit_buf_cstr(&names),
                              admit_buf_cstr(&days),
                              s->description ? s->description : "",
                              s->organiser ? s->organiser : "",
                              s->contact_email ? s->contact_email : ""};
    rc = admit_db_query(db, ADMIT_Q_EVENT_CREATE, 15, params, &res);
    if (rc == ADMIT_ERR_CONFLICT) {
        admit_error_set(err, "an event with slug \"%s\" already exists", s->slug);
        goto done;
    }
    if (rc == ADMIT_ERR_DB && strncmp(admit_db_sqlstate(db), "22", 2) == 0) {
        /* Data exceptions: unknown time zone, 30 February, ... PostgreSQL says which. */
        admit_error_set(err, "%s", admit_db_error(db));
        rc = ADMIT_ERR_INVALID;
        goto done;
    }
    if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(db));
        goto done;
    }
    *id = atoi(PQgetvalue(res, 0, 0));
done:
    PQclear(res);
    admit_buf_free(&names);
    admit_buf_free(&days);
    return rc;
}

static enum admit_rc seat_counts(struct admit_db *db, const char *slug,
                                 struct admit_event_seats *out, struct admit_error *err)
{
    PGresult *res = NULL;
    const char *params[1] = {slug};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EVENT_SEAT_COUNTS, 1, params, &res);
    if (rc == ADMIT_OK && PQntuples(res) == 1) {
        out->capacity = atol(PQgetvalue(res, 0, 0));
        out->confirmed = atol(PQgetvalue(res, 0, 1));
        out->waiting = atol(PQgetvalue(res, 0, 2));
    } else if (rc == ADMIT_OK) {
        admit_error_set(err, "no event \"%s\"", slug);
        rc = ADMIT_ERR_NOT_FOUND;
    } else {
        admit_error_set(err, "%s", admit_db_error(db));
    }
    PQclear(res);
    return rc;
}

enum admit_rc admit_event_set_capacity(struct admit_db *db, const char *slug, long capacity,
                                       struct admit_event_seats *after, struct admit_error *err)
{
    char text[24];
    PGresult *res = NULL;
    enum admit_rc rc = ADMIT_OK;

    admit_error_clear(err);
    if (capacity < 0 || capacity > 1000000) {
        admit_error_set(err, "the capacity must be 0 to 1000000 seats");
        return ADMIT_ERR_INVALID;
    }
    snprintf(text, sizeof text, "%ld", capacity);
    const char *params[2] = {slug, text};
    rc = admit_db_query(db, ADMIT_Q_EVENT_CAPACITY, 2, params, &res);
    if (rc == ADMIT_ERR_DB && strcmp(admit_db_sqlstate(db), "22023") == 0) {
        admit_error_set(err,
                        "%ld seats is fewer than the people already confirmed: cancel "
                        "registrations first, or choose a larger capacity",
                        capacity);
        rc = ADMIT_ERR_INVALID;
    } else if (rc != ADMIT_OK) {
        admit_error_set(err, "%s", admit_db_error(db));
    } else if (PQntuples(res) != 1) {
        admit_error_set(err, "no event \"%s\"", slug);
        rc = ADMIT_ERR_NOT_FOUND;
    } else if (after != NULL) {
        rc = seat_counts(db, slug, after, err);
    }
    PQclear(res);
    return rc;
}
