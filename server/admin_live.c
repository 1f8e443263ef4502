/* Watching and reporting: the live door view (figures per check-in list, refreshed by a small
 * static script polling live.json, or by the page's refresh link without script), the arrivals
 * chart (SVG drawn by a template from bars laid out in lib/register/report.c), the attendance
 * report (HTML and CSV). The flagged scans are admin_review.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admit/register/export.h"
#include "pages.h"

/* The report CSV is small (lists x (types + countries) rows): built in memory, bounded. */
#define REPORT_CSV_MAX (4u << 20)

void admin_live_page(struct http_request *req)
{
    struct admit_admin admin;
    char chart[160];
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    json_t *event = NULL;
    if (!admin_event_view(req, &admin, ADMIT_ADMIN_VIEW_OVERVIEW, slug, &event))
        return;
    snprintf(chart, sizeof chart, "/admin/events/%s/arrivals.svg", slug);
    json_t *context = json_pack("{s:s, s:o, s:s, s:s}", "title", "Live door view", "event", event,
                                "chart_url", chart, "live_url", "live.json");
    admin_render(req, 200, "admin/live.html", context, &admin, "live");
}

void admin_live_json(struct http_request *req)
{
    struct admit_admin admin;
    json_t *live = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL)
        return;
    if (!admin_event_view(req, &admin, ADMIT_ADMIN_VIEW_LIVE, slug, &live))
        return;
    http_respond_json(req, 200, live);
}

void admin_arrivals_svg(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_error err;
    json_t *chart = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL)
        return;
    enum admit_rc rc = admit_admin_view_arrivals(http_db(req), admin.id, slug,
                                                 http_query(req, "day"), &chart, &err);
    if (rc == ADMIT_ERR_INVALID)
        http_respond_error(req, 400, "Bad request", err.message);
    else if (rc == ADMIT_ERR_NOT_FOUND)
        admin_not_found(req);
    else if (rc != ADMIT_OK)
        pages_load_failed(req, rc);
    else
        http_render(req, 200, "admin/arrivals.svg", json_pack("{s:o}", "chart", chart));
}

void admin_report_page(struct http_request *req)
{
    struct admit_admin admin;
    json_t *event = NULL, *report = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    struct admit_db *db = http_replica_db(req);
    enum admit_rc rc = admit_admin_view_report(db, admin.id, slug, &event, &report);
    struct admit_db *primary = NULL;
    if (rc == ADMIT_ERR_DB_UNAVAILABLE && (primary = http_replica_fallback(req, db)) != NULL)
        rc = admit_admin_view_report(primary, admin.id, slug, &event, &report);
    if (!admin_loaded(req, rc))
        return;
    json_t *context = json_pack("{s:s, s:o, s:o}", "title", "Attendance report", "event", event,
                                "report", report);
    admin_render(req, 200, "admin/report.html", context, &admin, "report");
}

void admin_report_csv(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_buf csv, name;
    char disposition[160];
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL)
        return;
    enum admit_csv_flavour flavour = http_query(req, "excel") ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180;
    admit_buf_init(&csv, REPORT_CSV_MAX);
    struct admit_db *db = http_replica_db(req);
    enum admit_rc rc = admit_admin_view_report_csv(db, admin.id, slug, flavour, &csv);
    struct admit_db *primary = NULL;
    if (rc == ADMIT_ERR_DB_UNAVAILABLE && (primary = http_replica_fallback(req, db)) != NULL) {
        db = primary;
        admit_buf_reset(&csv);
        rc = admit_admin_view_report_csv(db, admin.id, slug, flavour, &csv);
    }
    if (rc != ADMIT_OK) {
        if (rc == ADMIT_ERR_NOT_FOUND)
            admin_not_found(req);
        else if (rc == ADMIT_ERR_DB || rc == ADMIT_ERR_DB_UNAVAILABLE)
            http_respond_db_error_on(req, db, rc);
        else
            http_respond_error(req, 500, "Internal error", "The report could not be written.");
        admit_buf_free(&csv);
        return;
    }
    admit_buf_init(&name, 128);
    if (admit_export_download_name(&name, slug, "report", flavour) != ADMIT_OK)
        admit_buf_reset(&name); /* a slug is at most 64 characters: never */
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", admit_buf_cstr(&name));
    admit_buf_free(&name);
    size_t len = 0;
    char *data = admit_buf_steal(&csv, &len);
    http_respond_bytes(req, 200, "text/csv; charset=utf-8", data, len, HTTP_TAKE);
    http_set_header(req, "Content-Disposition", disposition);
}
