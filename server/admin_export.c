/* The CSV exports, streamed: registrations.csv, attendance.csv (?list=NAME for one list) and
 * scans.csv; ?excel=1 for the Excel flavour (BOM, ';'). The handler checks the session and the
 * event on this thread's connection, then hands the client a stream that reads rows from a
 * connection of its own (lib/register/export.c): the worker's connection serves other requests
 * while the client downloads, and memory stays constant whatever the number of rows. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "admit/register/export.h"
#include "admit/register/privacy.h"
#include "metrics.h"

static long read_export(void *ctx, char *buf, size_t max)
{
    size_t len = 0;
    if (admit_export_read(ctx, buf, max, &len) != ADMIT_OK)
        return HTTP_STREAM_ERROR;
    return len > 0 ? (long)len : HTTP_STREAM_END;
}

static void close_export(void *ctx)
{
    admit_export_close(ctx);
}

static void export(struct http_request *req, enum admit_export_kind kind)
{
    struct admit_admin admin;
    struct admit_export *x = NULL;
    int event_id = 0, list_id = 0;
    struct admit_buf name;
    char disposition[200];
    struct admit_error err;
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL)
        return;
    const char *list = kind == ADMIT_EXPORT_ATTENDANCE ? http_query(req, "list") : NULL;
    if (list != NULL && list[0] == '\0')
        list = NULL;
    enum admit_rc rc = admit_export_find(http_db(req), slug, list, admin.id, &event_id, &list_id);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        if (list != NULL)
            http_respond_error(req, 404, "Not found",
                               "This event has no check-in list of that name.");
        else
            admin_not_found(req);
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    /* Every export of personal data is in the audit log, or is not served (issue 18). */
    char action[48];
    snprintf(action, sizeof action, "export.%s", admit_export_kind_name(kind));
    rc = admit_privacy_audit(http_db(req), admin.id, action, event_id, http_client(req));
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    enum admit_csv_flavour flavour = http_query(req, "excel") ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180;
    rc = admit_export_open(&x, http_replica_dsn(req), kind, event_id, list_id, flavour, &err);
    if (rc == ADMIT_ERR_DB_UNAVAILABLE && http_server(req)->replica_dsn != NULL) {
        /* The standby is down: the primary serves, as without --db-replica. */
        http_log_note(req, "replica-down");
        metrics_replica_fallback();
        rc = admit_export_open(&x, http_server(req)->dsn, kind, event_id, list_id, flavour, &err);
    }
    if (rc != ADMIT_OK) {
        http_log_note(req, "export-open-failed");
        if (rc == ADMIT_ERR_DB_UNAVAILABLE)
            http_respond_unavailable(req);
        else
            http_respond_error(req, 500, "Internal error", "The export could not start.");
        return;
    }
    admit_buf_init(&name, 160);
    if (admit_export_download_name(&name, slug, admit_export_kind_name(kind), flavour) != ADMIT_OK)
        admit_buf_reset(&name); /* a slug is at most 64 characters: never */
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", admit_buf_cstr(&name));
    admit_buf_free(&name);
    http_respond_stream(req, 200, "text/csv; charset=utf-8", read_export, x, close_export);
    http_set_header(req, "Content-Disposition", disposition);
}

void admin_export_registrations(struct http_request *req)
{
    export(req, ADMIT_EXPORT_REGISTRATIONS);
}

void admin_export_attendance(struct http_request *req)
{
    export(req, ADMIT_EXPORT_ATTENDANCE);
}

void admin_export_scans(struct http_request *req)
{
    export(req, ADMIT_EXPORT_SCANS);
}
