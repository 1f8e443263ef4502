/* admit export: an event's registrations, attendance or scan log as CSV, from the library code
 * that serves the exports of /admin (lib/register/export.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admit/core/buf.h"
#include "admit/register/export.h"
#include "admit/register/privacy.h"
#include "cli.h"
#include "output.h"

static const struct cli_opt export_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"what", 0, CLI_STRING, "KIND", NULL, NULL, 0, 0, CLI_REQUIRED,
     "registrations, attendance (one row per attendee and list: attended, first entry, gate) "
     "or scans (the full scan log)"},
    {"list", 0, CLI_STRING, "NAME", NULL, NULL, 0, 0, 0,
     "with --what attendance: only this check-in list"},
    {"output", 'o', CLI_STRING, "FILE", NULL, NULL, 0, 0, 0,
     "write to FILE (complete or not at all) instead of standard output; a folder: write there "
     "under the name the web download has (SLUG-registrations.csv, SLUG-registrations-excel.csv "
     "with --excel, ...)"},
    {"excel", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "the spreadsheet flavour: UTF-8 byte order mark and ';' separators"},
    {0},
};

/* Where the export goes: -o as given, or for a folder the download's name inside it (into
 * path). NULL for standard output. */
static const char *output_path(const struct cli_args *args, enum admit_export_kind kind,
                               struct admit_buf *path)
{
    const char *output = cli_get(args, "output");
    struct stat st;
    if (output == NULL || stat(output, &st) != 0 || !S_ISDIR(st.st_mode))
        return output;
    struct admit_buf name;
    admit_buf_init(&name, 160);
    enum admit_rc rc =
        admit_export_download_name(&name, cli_get(args, "event"), admit_export_kind_name(kind),
                                   cli_flag(args, "excel") ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(path, "%s%s%s", output, output[strlen(output) - 1] == '/' ? "" : "/",
                              admit_buf_cstr(&name));
    admit_buf_free(&name);
    return rc == ADMIT_OK ? admit_buf_cstr(path) : output;
}

static int run_export(const struct cli_args *args)
{
    enum admit_export_kind kind;
    struct admit_export *x = NULL;
    struct cli_output out;
    struct admit_buf path;
    struct admit_error err;
    int event_id = 0, list_id = 0, status = CLI_EXIT_USAGE;
    const char *slug = cli_get(args, "event"), *list = cli_get(args, "list");
    if (!admit_export_kind_parse(cli_get(args, "what"), &kind)) {
        cli_error(args, "--what \"%s\": expected registrations, attendance or scans",
                  cli_get(args, "what"));
        return CLI_EXIT_USAGE;
    }
    if (list != NULL && kind != ADMIT_EXPORT_ATTENDANCE) {
        cli_error(args, "--list goes with --what attendance");
        return CLI_EXIT_USAGE;
    }
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_export_find(db, slug, list, 0, &event_id, &list_id);
    if (rc == ADMIT_ERR_NOT_FOUND && list != NULL &&
        admit_export_find(db, slug, NULL, 0, &event_id, &list_id) == ADMIT_OK)
        cli_error(args, "event %s has no check-in list named \"%s\"", slug, list);
    else if (rc == ADMIT_ERR_NOT_FOUND)
        cli_error(args, "no event has the slug \"%s\"", slug);
    else if (rc != ADMIT_OK)
        cli_error(args, "%s", admit_db_error(db));
    if (rc == ADMIT_OK) {
        /* Every export of personal data is in the audit log, as from /admin (issue 18): here
         * by "shell", the operator. */
        char action[48];
        snprintf(action, sizeof action, "export.%s", admit_export_kind_name(kind));
        rc = admit_privacy_audit(db, 0, action, event_id, "");
        if (rc != ADMIT_OK)
            cli_error(args, "cannot record the export in the audit log: %s", admit_db_error(db));
    }
    admit_db_free(db);
    if (rc != ADMIT_OK)
        return CLI_EXIT_USAGE;

    rc = admit_export_open(&x, cli_get(args, "db"), kind, event_id, list_id,
                           cli_flag(args, "excel") ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180, &err);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    admit_buf_init(&path, 4096);
    if (cli_output_open(args, &out, output_path(args, kind, &path)) != 0) {
        admit_export_close(x);
        cli_output_close(args, &out, 0);
        admit_buf_free(&path);
        return CLI_EXIT_USAGE;
    }
    rc = admit_export_write_file(x, out.f);
    if (rc == ADMIT_ERR_IO)
        cli_error(args, "cannot write the export: %s", strerror(errno));
    else if (rc != ADMIT_OK)
        cli_error(args, "the export failed (%s): nothing complete was written", admit_strerror(rc));
    unsigned long rows = admit_export_rows(x);
    admit_export_close(x);
    if (cli_output_close(args, &out, rc == ADMIT_OK) == 0 && rc == ADMIT_OK) {
        status = CLI_EXIT_OK;
        if (out.path != NULL)
            fprintf(stderr, "admit export: %lu row%s written to %s\n", rows, rows == 1 ? "" : "s",
                    out.path);
    }
    admit_buf_free(&path);
    return status;
}

const struct cli_cmd cli_export_cmd = {
    "export", NULL,
    "write an event's registrations, attendance or scan log as CSV (RFC 4180 or --excel)",
    export_opts, run_export};
