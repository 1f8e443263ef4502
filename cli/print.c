/* admit print badges: an event's badges as one PDF, from the library code that serves /admin's
 * badge downloads (lib/print/badges.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/print/badges.h"
#include "admit/print/certificates.h"
#include "cli.h"
#include "output.h"

static const struct cli_opt print_badges_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"out", 'o', CLI_STRING, "FILE", NULL, NULL, 0, 0, CLI_REQUIRED,
     "the PDF to write (complete or not at all; \"-\": standard output)"},
    {"key", 'k', CLI_STRING, "FILE", "ADMIT_SIGNING_KEY", NULL, 0, 0, CLI_REQUIRED,
     "secret ticket-signing key (mode 0600): the badges carry the tickets' QR codes"},
    {"list", 0, CLI_STRING, "NAME", NULL, NULL, 0, 0, 0,
     "only the people registered for this check-in list"},
    {"size", 0, CLI_STRING, "LAYOUT", NULL, "a6", 0, 0, 0,
     "a badge layout of the templates' print/badges.txt: a6, a7, label-99x68"},
    {"single", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "one badge a page, the page the badge's size (default: as many as fit on A4)"},
    {"crop-marks", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0, "marks for cutting the A4 sheets"},
    {"templates", 0, CLI_STRING, "DIR", "ADMIT_TEMPLATES_DIR", ADMIT_DEFAULT_TEMPLATES, 0, 0, 0,
     "folder of the templates (run from its build folder: the checkout's templates/)"},
    {0},
};

static int write_file(void *closure, const unsigned char *data, size_t len)
{
    return fwrite(data, 1, len, closure) == len ? 0 : -1;
}

/* The layout --size names, into *out; CLI_EXIT_OK or CLI_EXIT_USAGE after a line on stderr. */
static int find_layout(const struct cli_args *args, struct admit_badge_layouts *set,
                       const struct admit_badge_layout **out)
{
    char path[4096];
    struct admit_error err;
    snprintf(path, sizeof path, "%s/%s", cli_templates_dir(args), ADMIT_BADGE_LAYOUTS_FILE);
    if (admit_badge_layouts_load(path, set, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    *out = admit_badge_layout_find(set, cli_get(args, "size"));
    if (*out == NULL) {
        cli_error(args, "--size %s: no such badge layout in %s", cli_get(args, "size"), path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int run_print_badges(const struct cli_args *args)
{
    struct admit_badge_layouts layouts;
    const struct admit_badge_layout *layout = NULL;
    struct admit_signing_key key;
    struct cli_output out;
    struct admit_error err;
    size_t count = 0;
    int status = find_layout(args, &layouts, &layout);
    if (status != CLI_EXIT_OK)
        return status;
    status = CLI_EXIT_USAGE;
    enum admit_rc rc = admit_key_load_secret(cli_get(args, "key"), &key);
    if (rc != ADMIT_OK) {
        cli_key_error(args, "signing key", cli_get(args, "key"), rc);
        return status;
    }
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    if (cli_output_open(args, &out, cli_get(args, "out")) != 0)
        goto done;
    struct admit_badges_query q = {cli_get(args, "event"), cli_get(args, "list"), 0, 0};
    struct admit_badge_doc_options options = {!cli_flag(args, "single"),
                                              cli_flag(args, "crop-marks") > 0};
    rc = admit_badges_write(db, &q, &key, layout, &options, write_file, out.f, &count, &err);
    if (rc == ADMIT_ERR_IO && errno != 0)
        cli_error(args, "cannot write the badges: %s", strerror(errno));
    else if (rc != ADMIT_OK)
        cli_error(args, "%s", err.message);
    if (cli_output_close(args, &out, rc == ADMIT_OK) == 0 && rc == ADMIT_OK) {
        status = CLI_EXIT_OK;
        fprintf(stderr, "admit print badges: %zu badge%s written to %s\n", count,
                count == 1 ? "" : "s", out.path != NULL ? out.path : "standard output");
    }
done:
    admit_db_free(db);
    admit_key_wipe(&key);
    return status;
}

const struct cli_cmd cli_print_badges_cmd = {
    "print badges", NULL,
    "write the name badges of an event (or a check-in list) as one PDF, with the tickets' QR codes",
    print_badges_opts, run_print_badges};

static const struct cli_opt certificates_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"withdraw", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "take the early release back: certificates come when the event ends"},
    {"send", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "email every certificate as a PDF (through the outbox and admit mailer), once per person, "
     "to those admitted at least once; releases nothing"},
    {0},
};

/* admit print certificates --send: queue the messages, say how many. */
static int send_certificates(const struct cli_args *args, struct admit_db *db, const char *slug)
{
    struct admit_certificates_sent sent;
    enum admit_rc rc = admit_certificates_send(db, 0, slug, &sent);
    if (rc == ADMIT_ERR_NOT_FOUND)
        cli_error(args, "no event has the slug \"%s\"", slug);
    else if (rc != ADMIT_OK)
        cli_error(args, "%s", admit_db_error(db));
    else if (sent.not_yet)
        cli_error(args,
                  "the certificates of %s are not available yet: the event has not ended; "
                  "release them first with admit print certificates --event %s",
                  slug, slug);
    else
        fprintf(stderr,
                "admit print certificates: %ld certificates of %s queued for admit mailer "
                "(%ld sent before, not again)\n",
                sent.queued, slug, sent.already);
    return rc == ADMIT_OK && !sent.not_yet ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int run_certificates(const struct cli_args *args)
{
    const char *slug = cli_get(args, "event");
    bool released = !cli_flag(args, "withdraw");
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    if (cli_flag(args, "send")) {
        int status = released ? send_certificates(args, db, slug) : CLI_EXIT_USAGE;
        if (!released)
            cli_error(args, "--send and --withdraw do not go together");
        admit_db_free(db);
        return status;
    }
    enum admit_rc rc = admit_certificates_release(db, slug, released);
    if (rc == ADMIT_ERR_NOT_FOUND)
        cli_error(args, "no event has the slug \"%s\"", slug);
    else if (rc != ADMIT_OK)
        cli_error(args, "%s", admit_db_error(db));
    else
        fprintf(stderr,
                released ? "admit print certificates: attendees of %s can download their "
                           "certificates now\n"
                         : "admit print certificates: attendees of %s can download their "
                           "certificates when the event ends\n",
                slug);
    admit_db_free(db);
    return rc == ADMIT_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

const struct cli_cmd cli_print_certificates_cmd = {
    "print certificates", NULL,
    "release an event's certificates of attendance before it ends (or --withdraw that), or "
    "--send them all by email",
    certificates_opts, run_certificates};
