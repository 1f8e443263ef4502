/* admit export and admit import: an event's registrations, attendance or scan log as CSV, and
 * invited guests from CSV (the columns of the registrations export). The same library code
 * serves the exports of /admin (lib/export.c, lib/import.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit/buf.h"
#include "admit/export.h"
#include "admit/import.h"
#include "cli.h"

/* A file written beside its final name and renamed into place when complete, so that a failed
 * run never leaves a file that looks whole. stdout when path is NULL or "-"; a path that exists
 * and is not a regular file (/dev/null, a FIFO, a terminal) is written in place: renaming over
 * it would replace the device itself. */
struct output {
    const char *path; /* NULL for stdout */
    bool in_place;    /* written directly, nothing to rename */
    struct admit_buf partial;
    FILE *f;
};

static int output_open(const struct cli_args *args, struct output *o, const char *path)
{
    memset(o, 0, sizeof *o);
    admit_buf_init(&o->partial, 4096);
    if (path == NULL || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    o->path = path;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        o->in_place = true;
        o->f = fopen(path, "wb");
        if (o->f == NULL) {
            cli_error(args, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (admit_buf_printf(&o->partial, "%s.partial", path) != ADMIT_OK) {
        cli_error(args, "%s: path too long", path);
        return -1;
    }
    o->f = fopen(admit_buf_cstr(&o->partial), "wb");
    if (o->f == NULL) {
        cli_error(args, "cannot write %s: %s", admit_buf_cstr(&o->partial), strerror(errno));
        return -1;
    }
    return 0;
}

/* Finishes the output: renamed into place when ok, removed otherwise. */
static int output_close(const struct cli_args *args, struct output *o, int ok)
{
    int status = 0;
    if (o->f == stdout) {
        if (fflush(stdout) != 0 && ok) {
            cli_error(args, "cannot write to standard output: %s", strerror(errno));
            status = -1;
        }
    } else if (o->f != NULL) {
        if (fclose(o->f) != 0 && ok) {
            cli_error(args, "cannot write %s: %s", o->path, strerror(errno));
            ok = 0;
            status = -1;
        }
        if (o->in_place) {
            /* nothing to rename or remove */
        } else if (ok && rename(admit_buf_cstr(&o->partial), o->path) != 0) {
            cli_error(args, "cannot rename to %s: %s", o->path, strerror(errno));
            status = -1;
            ok = 0;
        }
        if (!ok && !o->in_place)
            unlink(admit_buf_cstr(&o->partial));
    }
    admit_buf_free(&o->partial);
    return status;
}

static const struct cli_opt export_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"what", 0, CLI_STRING, "KIND", NULL, NULL, 0, 0, CLI_REQUIRED,
     "registrations, attendance (one row per attendee and list: attended, first entry, gate) "
     "or scans (the full scan log)"},
    {"list", 0, CLI_STRING, "NAME", NULL, NULL, 0, 0, 0,
     "with --what attendance: only this check-in list"},
    {"output", 'o', CLI_STRING, "FILE", NULL, NULL, 0, 0, 0,
     "write to FILE (complete or not at all) instead of standard output"},
    {"excel", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "the spreadsheet flavour: UTF-8 byte order mark and ';' separators"},
    {0},
};

static int run_export(const struct cli_args *args)
{
    enum admit_export_kind kind;
    struct admit_export *x = NULL;
    struct output out;
    char err[256];
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
    admit_db_free(db);
    if (rc != ADMIT_OK)
        return CLI_EXIT_USAGE;

    rc = admit_export_open(&x, cli_get(args, "db"), kind, event_id, list_id,
                           cli_flag(args, "excel") ? ADMIT_CSV_EXCEL : ADMIT_CSV_RFC4180, err,
                           sizeof err);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err);
        return CLI_EXIT_USAGE;
    }
    if (output_open(args, &out, cli_get(args, "output")) != 0) {
        admit_export_close(x);
        output_close(args, &out, 0);
        return CLI_EXIT_USAGE;
    }
    rc = admit_export_write_file(x, out.f);
    if (rc == ADMIT_ERR_IO)
        cli_error(args, "cannot write the export: %s", strerror(errno));
    else if (rc != ADMIT_OK)
        cli_error(args, "the export failed (%s): nothing complete was written", admit_strerror(rc));
    unsigned long rows = admit_export_rows(x);
    admit_export_close(x);
    if (output_close(args, &out, rc == ADMIT_OK) == 0 && rc == ADMIT_OK) {
        status = CLI_EXIT_OK;
        if (out.path != NULL)
            fprintf(stderr, "admit export: %lu rows written to %s\n", rows, out.path);
    }
    return status;
}

/* The import's progress bar and problems, on stderr. */
struct report {
    const struct cli_args *args;
    int bar; /* stderr is a terminal */
    int drawn;
};

static void progress(void *ctx, long done, long total, unsigned long rows)
{
    struct report *r = ctx;
    if (!r->bar)
        return;
    char bar[31];
    int filled = total > 0 ? (int)((double)done / (double)total * 30.0) : 0;
    if (filled > 30)
        filled = 30;
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '.', (size_t)(30 - filled));
    bar[30] = '\0';
    if (total > 0)
        fprintf(stderr, "\rimporting [%s] %3d%%  %lu guests", bar, (int)(100.0 * done / total),
                rows);
    else
        fprintf(stderr, "\rimporting  %lu guests", rows);
    r->drawn = 1;
}

static void problem(void *ctx, const char *message)
{
    struct report *r = ctx;
    if (r->drawn) {
        fputc('\n', stderr);
        r->drawn = 0;
    }
    cli_error(r->args, "%s", message);
}

static const struct cli_opt import_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"output", 'o', CLI_STRING, "FILE", NULL, NULL, 0, 0, 0,
     "write the guests' ticket links (CSV: email, given_name, family_name, ticket_url) to FILE "
     "instead of standard output"},
    {"public-url", 0, CLI_STRING, "URL", "ADMIT_PUBLIC_URL", NULL, 0, 0, 0,
     "the address attendees reach admitd at, to make whole ticket links"},
    {0},
};

static int run_import(const struct cli_args *args)
{
    struct output out;
    struct admit_import_result result;
    struct report report = {args, isatty(STDERR_FILENO), 0};
    if (args->npositional != 1) {
        cli_error(args, "expected one CSV file (see --help)");
        return CLI_EXIT_USAGE;
    }
    const char *path = args->positional[0];
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        cli_error(args, "cannot read %s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (output_open(args, &out, cli_get(args, "output")) != 0) {
        output_close(args, &out, 0);
        if (in != stdin)
            fclose(in);
        return CLI_EXIT_USAGE;
    }
    const char *base = cli_get(args, "public-url");
    char base_url[512];
    snprintf(base_url, sizeof base_url, "%s", base != NULL ? base : "");
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        base_url[--n] = '\0';
    struct admit_import_options options = {progress, problem, &report, base_url, out.f};
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_import_run(db, cli_get(args, "event"), in, &options, &result);
    if (report.drawn)
        fputc('\n', stderr);
    int status = CLI_EXIT_USAGE;
    if (rc == ADMIT_OK) {
        status = CLI_EXIT_OK;
    } else if (rc == ADMIT_ERR_INVALID) {
        cli_error(args, "%lu problem%s in %s: nothing was imported", result.errors,
                  result.errors == 1 ? "" : "s", path);
        status = CLI_EXIT_NEGATIVE;
    } else if (rc == ADMIT_ERR_NOT_FOUND) {
        cli_error(args, "no event has the slug \"%s\"", cli_get(args, "event"));
    } else if (rc == ADMIT_ERR_IO) {
        cli_error(args, "%s: %s", path, strerror(errno));
    } else {
        cli_error(args, "%s: nothing was imported",
                  admit_db_error(db)[0] ? admit_db_error(db) : admit_strerror(rc));
    }
    admit_db_free(db);
    if (in != stdin)
        fclose(in);
    if (output_close(args, &out, status == CLI_EXIT_OK) != 0 && status == CLI_EXIT_OK)
        status = CLI_EXIT_USAGE;
    if (status == CLI_EXIT_OK)
        fprintf(stderr, "admit import: %lu guests imported into %s%s%s\n", result.imported,
                cli_get(args, "event"), out.path ? "; ticket links in " : "",
                out.path ? out.path : "");
    return status;
}

const struct cli_cmd cli_export_cmd = {
    "export", NULL,
    "write an event's registrations, attendance or scan log as CSV (RFC 4180 or --excel)",
    export_opts, run_export};
const struct cli_cmd cli_import_cmd = {
    "import", "FILE.csv",
    "import invited guests from CSV (the registrations export's columns), all or nothing; "
    "prints their ticket links",
    import_opts, run_import};
