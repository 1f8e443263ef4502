/* admit import: invited guests from CSV (the columns of the registrations export), validated and
 * imported all or nothing (lib/register/import.c); their ticket links written as CSV. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit/core/buf.h"
#include "admit/core/startup.h"
#include "admit/register/import.h"
#include "cli.h"
#include "output.h"

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
        fprintf(stderr, "\rimporting [%s] %3d%%  %lu guest%s", bar, (int)(100.0 * done / total),
                rows, rows == 1 ? "" : "s");
    else
        fprintf(stderr, "\rimporting  %lu guest%s", rows, rows == 1 ? "" : "s");
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
    {"public-url", 0, CLI_STRING, "URL", "ADMIT_PUBLIC_URL", NULL, 0, 0, CLI_REQUIRED,
     "the address attendees reach admitd at (\"https://tickets.example.org\"), as admitd's "
     "--public-url: the ticket links start with it"},
    {0},
};

static int run_import(const struct cli_args *args)
{
    struct cli_output out;
    struct admit_import_result result;
    struct report report = {args, isatty(STDERR_FILENO), 0};
    if (args->npositional != 1) {
        cli_error(args, "expected one CSV file (see --help)");
        return CLI_EXIT_USAGE;
    }
    char *base_url = NULL;
    struct admit_error err;
    if (admit_startup_public_url(cli_get(args, "public-url"), &base_url, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    const char *path = args->positional[0];
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        cli_error(args, "cannot read %s: %s", path, strerror(errno));
        free(base_url);
        return CLI_EXIT_USAGE;
    }
    if (cli_output_open(args, &out, cli_get(args, "output")) != 0) {
        cli_output_close(args, &out, 0);
        if (in != stdin)
            fclose(in);
        free(base_url);
        return CLI_EXIT_USAGE;
    }
    struct admit_import_options options = {progress, problem, &report, base_url, out.f};
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_import_run(db, cli_get(args, "event"), in, &options, &result);
    if (report.drawn)
        fputc('\n', stderr);
    int status = CLI_EXIT_USAGE;
    if (rc == ADMIT_OK) {
        status = CLI_EXIT_OK;
    } else if (rc == ADMIT_ERR_INVALID) {
        cli_error(args,
                  "%lu problem%s in %s: nothing was imported; correct %s and import the "
                  "whole file again",
                  result.errors, result.errors == 1 ? "" : "s", path,
                  result.errors == 1 ? "it" : "them");
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
    free(base_url);
    if (in != stdin)
        fclose(in);
    if (cli_output_close(args, &out, status == CLI_EXIT_OK) != 0 && status == CLI_EXIT_OK)
        status = CLI_EXIT_USAGE;
    if (status == CLI_EXIT_OK)
        fprintf(stderr, "admit import: %lu guest%s imported into %s%s%s\n", result.imported,
                result.imported == 1 ? "" : "s", cli_get(args, "event"),
                out.path ? "; ticket links in " : "", out.path ? out.path : "");
    return status;
}

const struct cli_cmd cli_import_cmd = {
    "import", "FILE.csv",
    "import invited guests from CSV (the registrations export's columns), all or nothing; "
    "prints their ticket links",
    import_opts, run_import};
