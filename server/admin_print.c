/* Badges from /admin: every badge of an event (?list=NAME: of one check-in list) as one PDF,
 * N to an A4 page (?size=a6|a7|label-99x68, ?crop=1 for crop marks, ?single=1 for a page per
 * badge), and one attendee's badge. The PDF is written by lib/print/badges.c into an unlinked
 * temporary file (memory stays one page's, whatever the count) and then streamed from it. The
 * layouts are the template print/badges.txt of the loaded set: the same file as the CLI's.
 * And the signed attendance sheet of a check-in list, the same way; and the evidence pack as
 * one tar archive. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admit/print/badges.h"
#include "admit/print/evidence.h"
#include "admit/print/sheet.h"
#include "admit/register/export.h"
#include "admit/register/admin_view.h"

#define CHUNK 65536

static int write_file(void *closure, const unsigned char *data, size_t len)
{
    return fwrite(data, 1, len, closure) == len ? 0 : -1;
}

static long read_file(void *ctx, char *buf, size_t max)
{
    size_t n = fread(buf, 1, max, ctx);
    if (n > 0)
        return (long)n;
    return ferror((FILE *)ctx) ? HTTP_STREAM_ERROR : HTTP_STREAM_END;
}

static void close_file(void *ctx)
{
    fclose(ctx);
}

/* The layout ?size= names (a6 by default) into *out; false after answering 404. */
static bool find_layout(struct http_request *req, struct admit_badge_layouts *set,
                        const struct admit_badge_layout **out)
{
    struct admit_buf text;
    struct admit_error err;
    const char *size = http_query(req, "size");
    admit_buf_init(&text, 64 * 1024);
    enum admit_rc rc =
        admit_tmpl_render(http_server(req)->templates, ADMIT_BADGE_LAYOUTS_FILE, NULL, &text);
    if (rc == ADMIT_OK)
        rc = admit_badge_layouts_parse(admit_buf_cstr(&text), text.len, ADMIT_BADGE_LAYOUTS_FILE,
                                       set, &err);
    admit_buf_free(&text);
    *out = rc == ADMIT_OK ? admit_badge_layout_find(set, size ? size : "a6") : NULL;
    if (rc != ADMIT_OK)
        http_respond_error(req, 500, "Internal error",
                           "The badge layouts (print/badges.txt of the templates) could not be "
                           "read: tell the people who run this server.");
    else if (*out == NULL)
        http_respond_error(req, 404, "Not found",
                           "There is no badge layout of that size: use a6, a7 or label-99x68.");
    return *out != NULL;
}

static void answer_failure(struct http_request *req, enum admit_rc rc, bool one)
{
    if (rc == ADMIT_ERR_NOT_FOUND && one)
        http_respond_error(req, 404, "Not found",
                           "This attendee has no confirmed registration, so no badge: a badge "
                           "carries a ticket that works at the door.");
    else if (rc == ADMIT_ERR_NOT_FOUND && http_query(req, "list") != NULL)
        http_respond_error(req, 404, "Not found", "This event has no check-in list of that name.");
    else if (rc == ADMIT_ERR_NOT_FOUND)
        admin_not_found(req);
    else if (rc == ADMIT_ERR_DB || rc == ADMIT_ERR_DB_UNAVAILABLE)
        http_respond_db_error(req, rc);
    else
        http_respond_error(req, 500, "Internal error", "The badges could not be made.");
}

static void badges(struct http_request *req, int registration_id)
{
    struct admit_admin admin;
    struct admit_badge_layouts layouts;
    const struct admit_badge_layout *layout = NULL;
    struct admit_error err;
    char disposition[200];
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL || !find_layout(req, &layouts, &layout))
        return;
    const char *list = registration_id ? NULL : http_query(req, "list");
    struct admit_badges_query q = {slug, list != NULL && list[0] ? list : NULL, registration_id,
                                   admin.id};
    struct admit_badge_doc_options options = {registration_id == 0 && !http_query(req, "single"),
                                              http_query(req, "crop") != NULL};
    FILE *f = tmpfile();
    if (f == NULL || http_server(req)->signing_key == NULL) {
        if (f != NULL)
            fclose(f);
        http_respond_error(req, 500, "Internal error", "The badges could not be made.");
        return;
    }
    enum admit_rc rc = admit_badges_write(http_db(req), &q, http_server(req)->signing_key, layout,
                                          &options, write_file, f, NULL, &err);
    if (rc == ADMIT_OK && (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0))
        rc = ADMIT_ERR_IO;
    if (rc != ADMIT_OK) {
        fclose(f);
        answer_failure(req, rc, registration_id != 0);
        return;
    }
    if (registration_id)
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s-badge-%d.pdf\"", slug,
                 registration_id);
    else
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s-badges-%s.pdf\"", slug,
                 layout->name);
    http_respond_stream(req, 200, "application/pdf", read_file, f, close_file);
    http_set_header(req, "Content-Disposition", disposition);
}

struct sheet_file {
    FILE *f;
    int written;
};

static int sheet_open(void *sink, int list_id, const char *name, admit_print_write_fn *write,
                      void **closure)
{
    struct sheet_file *out = sink;
    (void)list_id;
    (void)name;
    *write = write_file;
    *closure = out->f;
    return 0;
}

static int sheet_done(void *sink, void *closure, int ok)
{
    struct sheet_file *out = sink;
    (void)closure;
    out->written = ok;
    return ok ? 0 : -1;
}

/* The signed attendance sheet of one check-in list (:id is its id), from the same code as
 * admit evidence's sheets (lib/print/sheet.c), through a temporary file. */
void admin_print_sheet(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_error err;
    struct sheet_file out = {NULL, 0};
    int event_id = 0, unused = 0;
    char disposition[200];
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL)
        return;
    int list_id = admit_admin_parse_id(http_param(req, "id"));
    enum admit_rc rc = admit_export_find(http_db(req), slug, NULL, admin.id, &event_id, &unused);
    if (rc == ADMIT_OK && list_id <= 0)
        rc = ADMIT_ERR_NOT_FOUND;
    out.f = rc == ADMIT_OK ? tmpfile() : NULL;
    if (rc == ADMIT_OK && out.f == NULL)
        rc = ADMIT_ERR_IO;
    struct admit_sheet_sink sink = {sheet_open, sheet_done, &out};
    if (rc == ADMIT_OK)
        rc = admit_sheets_write(http_db(req), event_id, list_id, &sink, NULL, &err);
    if (rc == ADMIT_OK && (!out.written || fflush(out.f) != 0 || fseek(out.f, 0, SEEK_SET) != 0))
        rc = out.written ? ADMIT_ERR_IO : ADMIT_ERR_NOT_FOUND;
    if (rc != ADMIT_OK) {
        if (out.f != NULL)
            fclose(out.f);
        if (rc == ADMIT_ERR_NOT_FOUND)
            http_respond_error(req, 404, "Not found",
                               "This event has no such check-in list, or nobody is on it yet.");
        else
            answer_failure(req, rc, false);
        return;
    }
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s-attendance-sheet-%d.pdf\"",
             slug, list_id);
    http_respond_stream(req, 200, "application/pdf", read_file, out.f, close_file);
    http_set_header(req, "Content-Disposition", disposition);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The evidence pack (lib/print/evidence_pack.c) made in a temporary folder, archived as tar
 * into a temporary file (lib/print/evidence_tar.c), the folder removed, the file streamed. */
void admin_print_evidence(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_error err;
    int event_id = 0, unused = 0;
    char folder[] = "/tmp/admit-evidence-XXXXXX", pack[64], name[100], disposition[200];
    FILE *f = NULL;
    const char *slug = admin_event_begin(req, &admin, ADMIN_DATA);
    if (slug == NULL)
        return;
    enum admit_rc rc = admit_export_find(http_db(req), slug, NULL, admin.id, &event_id, &unused);
    if (rc != ADMIT_OK) {
        answer_failure(req, rc, false);
        return;
    }
    if (mkdtemp(folder) == NULL) {
        http_respond_error(req, 500, "Internal error", "The evidence pack could not be made.");
        return;
    }
    snprintf(pack, sizeof pack, "%s/pack", folder);
    snprintf(name, sizeof name, "%s-evidence", slug);
    rc = admit_evidence_pack_write(http_db(req), http_server(req)->dsn, event_id, slug,
                                   http_server(req)->signing_key, pack, NULL, &err);
    f = rc == ADMIT_OK ? tmpfile() : NULL;
    if (rc == ADMIT_OK)
        rc = f != NULL ? admit_evidence_tar(pack, name, write_file, f) : ADMIT_ERR_IO;
    if (rc == ADMIT_OK && (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0))
        rc = ADMIT_ERR_IO;
    nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (rc != ADMIT_OK) {
        if (f != NULL)
            fclose(f);
        http_log_note(req, "evidence-failed");
        http_respond_error(req, 500, "Internal error", "The evidence pack could not be made.");
        return;
    }
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s.tar\"", name);
    http_respond_stream(req, 200, "application/x-tar", read_file, f, close_file);
    http_set_header(req, "Content-Disposition", disposition);
}

void admin_print_badges(struct http_request *req)
{
    badges(req, 0);
}

void admin_print_attendee_badge(struct http_request *req)
{
    int id = admit_admin_parse_id(http_param(req, "id"));
    if (id <= 0) {
        admin_not_found(req);
        return;
    }
    badges(req, id);
}
