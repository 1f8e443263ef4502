/* The figures organisers report: attendance per day and per session (check-in list) by
 * organisation type and by country, for a funding body; and the arrivals chart of the live door
 * view (check-ins per 10 minutes per list), laid out here and drawn by a template
 * (templates/admin/arrivals.svg): no chart library, no script. */
#ifndef ADMIT_REPORT_H
#define ADMIT_REPORT_H

#include <jansson.h>

#include "admit/core/csv.h"
#include "admit/core/db.h"
#include "admit/core/rc.h"

/* Loads the attendance report of event event_id (one query: sql/queries/export_report.sql) as
 * JSON, which the caller owns:
 *   {"sections": [{"name": "Whole event" or the list's name, "day": "2027-10-29" or "",
 *                  "whole_event": bool, "registered": N, "attended": N,
 *                  "by_type": [{"key", "label", "registered", "attended"}, ...],   every type
 *                  "by_country": [{"key", "label", "registered", "attended"}, ...]}, ...]}
 * by_type lists every organisation type of admit_organisation_types (zeros included); by_country
 * the countries with anyone registered or attended, most attended first; labels are English
 * names (admit/country.h). The first section is the whole event. Database errors as
 * admit_db_query. */
enum admit_rc admit_report_load(struct admit_db *db, int event_id, json_t **out) ADMIT_MUST_CHECK;

/* Writes a report from admit_report_load as CSV: a header "section,day,dimension,key,label,
 * registered,attended" and one row per section total ("total"), organisation type and
 * country. Errors of the writer. */
enum admit_rc admit_report_write_csv(const json_t *report,
                                     struct admit_csv_writer *w) ADMIT_MUST_CHECK;

/* Chart size, in SVG user units. */
#define ADMIT_CHART_WIDTH  720
#define ADMIT_CHART_HEIGHT 280

/* Lays out the arrivals chart from the JSON of sql/queries/admin_arrivals.sql ({"day",
 * "start_minute", "slots", "lists": [{"id", "name"}], "counts": [[list id, slot, n], ...]}):
 * stacked bars per 10-minute slot, one colour per list, a y axis with a rounded maximum, an
 * hour mark on the x axis, and a legend. Returns a new object for the template:
 *   {"width", "height", "empty": bool, "day", "total",
 *    "plot": {"x", "y", "width", "height", "bottom", "right"},
 *    "bars": [{"x", "y", "width", "height", "colour", "title"}],
 *    "y_ticks": [{"y", "label"}], "x_ticks": [{"x", "label"}],
 *    "legend": [{"x", "y", "colour", "name", "text_x", "text_y"}]}
 * Counts for unknown lists or slots outside [0, slots) are ignored. Never NULL. */
json_t *admit_report_arrivals_chart(const json_t *arrivals);

/* The n-th colour of the chart palette (Okabe-Ito, told apart by colour-blind readers too). */
const char *admit_report_colour(size_t n);

#endif
