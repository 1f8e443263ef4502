#include "admit/register/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/country.h"
#include "admit/core/mem.h"
#include "admit/register/registration.h"

static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#D55E00", "#8C6D1F", "#4D4D4D"};

const char *admit_report_colour(size_t n)
{
    return palette[n % (sizeof palette / sizeof palette[0])];
}

static json_t *new_section(const char *name, const char *day, bool whole)
{
    json_t *by_type = json_array();
    for (size_t i = 0; i < admit_organisation_type_count; i++)
        json_array_append_new(by_type, json_pack("{s:s, s:s, s:i, s:i}", "key",
                                                 admit_organisation_types[i].value, "label",
                                                 admit_organisation_types[i].label, "registered", 0,
                                                 "attended", 0));
    return json_pack("{s:s, s:s, s:b, s:i, s:i, s:i, s:i, s:o, s:o}", "name", name, "day", day,
                     "whole_event", whole, "registered", 0, "attended", 0, "waiting", 0, "no_shows",
                     0, "by_type", by_type, "by_country", json_array());
}

static int by_attended(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    json_int_t ax = json_integer_value(json_object_get(x, "attended"));
    json_int_t ay = json_integer_value(json_object_get(y, "attended"));
    if (ax != ay)
        return ax < ay ? 1 : -1;
    json_int_t rx = json_integer_value(json_object_get(x, "registered"));
    json_int_t ry = json_integer_value(json_object_get(y, "registered"));
    if (rx != ry)
        return rx < ry ? 1 : -1;
    return strcmp(json_string_value(json_object_get(x, "label")),
                  json_string_value(json_object_get(y, "label")));
}

/* Orders each section's countries, most attended first. */
static void sort_countries(json_t *sections)
{
    size_t i;
    json_t *section;
    json_array_foreach(sections, i, section)
    {
        json_t *countries = json_object_get(section, "by_country");
        size_t n = json_array_size(countries);
        if (n < 2)
            continue;
        json_t **items = admit_xcalloc(n, sizeof *items);
        for (size_t j = 0; j < n; j++)
            items[j] = json_incref(json_array_get(countries, j));
        qsort(items, n, sizeof *items, by_attended);
        json_array_clear(countries);
        for (size_t j = 0; j < n; j++)
            json_array_append_new(countries, items[j]);
        free(items);
    }
}

enum admit_rc admit_report_load(struct admit_db *db, int event_id, json_t **out)
{
    char event[16];
    PGresult *res = NULL;
    *out = NULL;
    snprintf(event, sizeof event, "%d", event_id);
    const char *params[1] = {event};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EXPORT_REPORT, 1, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    json_t *sections = json_array();
    json_t *section = NULL;
    char current[16] = "none";
    /* The whole event comes first and exists even when nobody registered. */
    section = new_section("Whole event", "", true);
    json_array_append_new(sections, section);
    snprintf(current, sizeof current, "%s", "");
    for (int r = 0; r < PQntuples(res); r++) {
        const char *list = PQgetvalue(res, r, 0); /* "" for the whole event */
        if (strcmp(list, current) != 0) {
            section = new_section(PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), false);
            json_array_append_new(sections, section);
            snprintf(current, sizeof current, "%s", list);
        }
        const char *dimension = PQgetvalue(res, r, 3), *key = PQgetvalue(res, r, 4);
        json_int_t registered = atol(PQgetvalue(res, r, 5)), attended = atol(PQgetvalue(res, r, 6));
        json_int_t no_shows = atol(PQgetvalue(res, r, 8));
        if (strcmp(dimension, "total") == 0) {
            json_object_set_new(section, "registered", json_integer(registered));
            json_object_set_new(section, "attended", json_integer(attended));
            json_object_set_new(section, "waiting", json_integer(atol(PQgetvalue(res, r, 7))));
            json_object_set_new(section, "no_shows", json_integer(no_shows));
        } else if (key[0] == '\0') {
            continue; /* a list without anyone: no type or country to count */
        } else if (strcmp(dimension, "organisation_type") == 0) {
            size_t i;
            json_t *item;
            json_array_foreach(json_object_get(section, "by_type"), i, item)
            {
                if (strcmp(json_string_value(json_object_get(item, "key")), key) == 0) {
                    json_object_set_new(item, "registered", json_integer(registered));
                    json_object_set_new(item, "attended", json_integer(attended));
                    json_object_set_new(item, "no_shows", json_integer(no_shows));
                }
            }
        } else {
            const struct admit_country *c = admit_country_find(key);
            json_array_append_new(json_object_get(section, "by_country"),
                                  json_pack("{s:s, s:s, s:I, s:I, s:I}", "key", key, "label",
                                            c != NULL ? c->name : key, "registered", registered,
                                            "attended", attended, "no_shows", no_shows));
        }
    }
    PQclear(res);
    sort_countries(sections);
    *out = json_pack("{s:o}", "sections", sections);
    return ADMIT_OK;
}

/* One row of the report's CSV; counts: registered, attended, waiting (NULL: not counted, on
 * the breakdown rows) and no-shows, from item (the section itself for its total row). */
static enum admit_rc csv_row(struct admit_csv_writer *w, const json_t *section,
                             const char *dimension, const char *key, const char *label,
                             const json_t *item)
{
    json_int_t registered = json_integer_value(json_object_get(item, "registered"));
    json_int_t attended = json_integer_value(json_object_get(item, "attended"));
    const json_t *waiting = json_object_get(item, "waiting");
    enum admit_rc rc = admit_csv_begin_row(w);
    const char *texts[5] = {json_string_value(json_object_get(section, "name")),
                            json_string_value(json_object_get(section, "day")), dimension, key,
                            label};
    for (size_t i = 0; i < 5 && rc == ADMIT_OK; i++)
        rc = admit_csv_add_field(w, texts[i], texts[i] != NULL ? strlen(texts[i]) : 0);
    if (rc == ADMIT_OK)
        rc = admit_csv_add_int(w, registered);
    if (rc == ADMIT_OK)
        rc = admit_csv_add_int(w, attended);
    if (rc == ADMIT_OK)
        rc = waiting != NULL ? admit_csv_add_int(w, json_integer_value(waiting))
                             : admit_csv_add_field(w, "", 0);
    if (rc == ADMIT_OK)
        rc = admit_csv_add_int(w, json_integer_value(json_object_get(item, "no_shows")));
    if (rc == ADMIT_OK)
        rc = admit_csv_end_row(w);
    return rc;
}

enum admit_rc admit_report_write_csv(const json_t *report, struct admit_csv_writer *w)
{
    static const char *const header[] = {"section",    "day",      "dimension", "key",     "label",
                                         "registered", "attended", "waiting",   "no_shows"};
    enum admit_rc rc = admit_csv_write_row(w, header, sizeof header / sizeof header[0]);
    size_t i;
    json_t *section;
    json_array_foreach(json_object_get(report, "sections"), i, section)
    {
        if (rc != ADMIT_OK)
            break;
        rc = csv_row(w, section, "total", "", "", section);
        const char *dims[2] = {"by_type", "by_country"};
        const char *names[2] = {"organisation_type", "country"};
        for (size_t d = 0; d < 2 && rc == ADMIT_OK; d++) {
            size_t j;
            json_t *item;
            json_array_foreach(json_object_get(section, dims[d]), j, item)
            {
                if (rc != ADMIT_OK)
                    break;
                rc = csv_row(w, section, names[d], json_string_value(json_object_get(item, "key")),
                             json_string_value(json_object_get(item, "label")), item);
            }
        }
    }
    return rc;
}

/* The smallest 1, 2 or 5 times a power of ten that is at least n (and at least 1). */
static long nice_ceiling(long n)
{
    long step = 1;
    for (;;) {
        if (n <= step)
            return step;
        if (n <= 2 * step)
            return 2 * step;
        if (n <= 5 * step)
            return 5 * step;
        step *= 10;
    }
}

/* Plot area margins. */
#define CHART_LEFT   48
#define CHART_RIGHT  16
#define CHART_TOP    16
#define CHART_PLOT_H 180
#define LEGEND_ENTRY 170
#define LEGEND_ROW   22
#define MAX_SLOTS    288
#define MAX_LISTS    32

/* SVG coordinates with one decimal, as text: short and exact enough. */
static json_t *coord(double v)
{
    char text[32];
    snprintf(text, sizeof text, "%.1f", v);
    return json_string(text);
}

/* The chart's counts: counts[slot * nlists + list index] from the arrivals' (list id, slot, n)
 * triples; *max_stack the tallest slot, *total all of them. */
static long *tally(const json_t *arrivals, const json_t *lists, size_t nlists, json_int_t slots,
                   long *max_stack, long *total)
{
    long *counts = admit_xcalloc((size_t)slots * (nlists ? nlists : 1), sizeof *counts);
    size_t i;
    json_t *triple;
    json_array_foreach(json_object_get(arrivals, "counts"), i, triple)
    {
        json_int_t list = json_integer_value(json_array_get(triple, 0));
        json_int_t slot = json_integer_value(json_array_get(triple, 1));
        json_int_t n = json_integer_value(json_array_get(triple, 2));
        if (slot < 0 || slot >= slots || n <= 0)
            continue;
        for (size_t l = 0; l < nlists; l++) {
            if (json_integer_value(json_object_get(json_array_get(lists, l), "id")) == list)
                counts[(size_t)slot * nlists + l] += (long)n;
        }
    }
    *max_stack = *total = 0;
    for (json_int_t s = 0; s < slots; s++) {
        long stack = 0;
        for (size_t l = 0; l < nlists; l++)
            stack += counts[(size_t)s * nlists + l];
        *total += stack;
        if (stack > *max_stack)
            *max_stack = stack;
    }
    return counts;
}

/* Where the plot sits and how its slots and values map to it. */
struct plot {
    double width, bottom, slot_w;
    long y_max;
    json_int_t slots, start;
};

/* The stacked bars of every slot into bars, and an hour mark under each full hour into x_ticks. */
static void bars_of(const struct plot *p, const long *counts, const json_t *lists, size_t nlists,
                    json_t *bars, json_t *x_ticks)
{
    double gap = p->slot_w > 4 ? 1 : 0;
    for (json_int_t s = 0; s < p->slots; s++) {
        double y = p->bottom;
        long minute = (long)(p->start + s * 10);
        for (size_t l = 0; l < nlists; l++) {
            long n = counts[(size_t)s * nlists + l];
            if (n == 0)
                continue;
            double h = (double)n / (double)p->y_max * CHART_PLOT_H;
            char title[200];
            y -= h;
            snprintf(title, sizeof title, "%02ld:%02ld–%02ld:%02ld, %s: %ld", minute / 60 % 24,
                     minute % 60, (minute + 10) / 60 % 24, (minute + 10) % 60,
                     json_string_value(json_object_get(json_array_get(lists, l), "name")), n);
            json_array_append_new(
                bars, json_pack("{s:o, s:o, s:o, s:o, s:s, s:s}", "x",
                                coord(CHART_LEFT + (double)s * p->slot_w + gap / 2), "y", coord(y),
                                "width", coord(p->slot_w - gap), "height", coord(h), "colour",
                                admit_report_colour(l), "title", title));
        }
        if (minute % 60 == 0) {
            char label[8];
            snprintf(label, sizeof label, "%02ld:00", minute / 60 % 24);
            json_array_append_new(x_ticks, json_pack("{s:o, s:s}", "x",
                                                     coord(CHART_LEFT + (double)s * p->slot_w),
                                                     "label", label));
        }
    }
}

/* The value marks: 0, half-way (when a whole number) and the top. */
static json_t *y_ticks_of(const struct plot *p)
{
    json_t *y_ticks = json_array();
    for (int t = 0; t <= 2; t++) {
        char label[24];
        long value = p->y_max * t / 2;
        if (p->y_max % 2 != 0 && t == 1)
            continue; /* 1, 5, ...: no half-way mark that is not a whole number */
        snprintf(label, sizeof label, "%ld", value);
        json_array_append_new(
            y_ticks, json_pack("{s:o, s:s}", "y",
                               coord(p->bottom - (double)value / (double)p->y_max * CHART_PLOT_H),
                               "label", label));
    }
    return y_ticks;
}

/* One legend entry per list, per_row to a row from legend_top. */
static json_t *legend_of(const json_t *lists, size_t nlists, size_t per_row, double legend_top)
{
    json_t *legend = json_array();
    for (size_t l = 0; l < nlists; l++) {
        double x = CHART_LEFT + (double)(l % per_row) * LEGEND_ENTRY;
        double y = legend_top + (double)(l / per_row) * LEGEND_ROW;
        json_array_append_new(legend,
                              json_pack("{s:o, s:o, s:s, s:O, s:o, s:o}", "x", coord(x), "y",
                                        coord(y), "colour", admit_report_colour(l), "name",
                                        json_object_get(json_array_get(lists, l), "name"), "text_x",
                                        coord(x + 18), "text_y", coord(y + 11)));
    }
    return legend;
}

json_t *admit_report_arrivals_chart(const json_t *arrivals)
{
    const json_t *lists = json_object_get(arrivals, "lists");
    size_t nlists = json_array_size(lists);
    struct plot p = {.width = ADMIT_CHART_WIDTH - CHART_LEFT - CHART_RIGHT,
                     .bottom = CHART_TOP + CHART_PLOT_H,
                     .slots = json_integer_value(json_object_get(arrivals, "slots")),
                     .start = json_integer_value(json_object_get(arrivals, "start_minute"))};
    if (p.slots < 0)
        p.slots = 0;
    if (p.slots > MAX_SLOTS)
        p.slots = MAX_SLOTS;
    if (nlists > MAX_LISTS)
        nlists = MAX_LISTS;
    long max_stack, total;
    long *counts = tally(arrivals, lists, nlists, p.slots, &max_stack, &total);
    p.y_max = nice_ceiling(max_stack);
    p.slot_w = p.slots > 0 ? p.width / (double)p.slots : p.width;
    size_t per_row = (size_t)(p.width / LEGEND_ENTRY);
    size_t legend_rows = nlists == 0 ? 0 : (nlists + per_row - 1) / per_row;
    double legend_top = p.bottom + 36;
    int height = (int)(legend_top + (double)legend_rows * LEGEND_ROW + 8);
    json_t *bars = json_array(), *x_ticks = json_array();
    bars_of(&p, counts, lists, nlists, bars, x_ticks);
    free(counts);
    const json_t *day = json_object_get(arrivals, "day");
    return json_pack("{s:i, s:i, s:b, s:s, s:I, s:{s:i, s:i, s:o, s:i, s:o, s:o}, s:o, s:o, "
                     "s:o, s:o}",
                     "width", ADMIT_CHART_WIDTH, "height", height, "empty", total == 0, "day",
                     json_is_string(day) ? json_string_value(day) : "", "total", (json_int_t)total,
                     "plot", "x", CHART_LEFT, "y", CHART_TOP, "width", coord(p.width), "height",
                     CHART_PLOT_H, "bottom", coord(p.bottom), "right", coord(CHART_LEFT + p.width),
                     "bars", bars, "y_ticks", y_ticks_of(&p), "x_ticks", x_ticks, "legend",
                     legend_of(lists, nlists, per_row, legend_top));
}
