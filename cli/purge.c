/* admit purge: the retention work due now (sql/migrations/014_privacy.sql, admit_purge). Safe
 * to run as often as wanted (from cron or deploy/systemd/admit-purge.timer): a second run finds
 * nothing left to do. Prints one line per kind of data with what it did. */
#include <stdio.h>

#include <jansson.h>

#include "admit/register/privacy.h"
#include "cli.h"

static const struct cli_opt purge_opts[] = {
    CLI_OPT_DB,
    {"dry-run", 'n', CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "say what would be purged, and change nothing"},
    {0},
};

/* The counts of admit_purge_now, in the order printed, with their words. */
static const struct {
    const char *key, *what;
} lines[] = {
    {"registrations_anonymised", "registrations anonymised (their event's retention ended)"},
    {"notes_cleared", "registrations' dietary and accessibility notes cleared (event over)"},
    {"messages_deleted", "sent or failed emails deleted (addresses)"},
    {"devices_deleted", "door devices deleted (their event's retention ended)"},
    {"sessions_deleted", "expired organiser sessions deleted"},
    {"login_throttle_deleted", "old failed-login records deleted"},
    {"resend_requests_deleted", "old \"send my ticket again\" records deleted"},
    {"audit_entries_deleted", "audit log entries deleted (past their retention)"},
};

static int run_purge(const struct cli_args *args)
{
    json_t *counts = NULL;
    int dry = cli_flag(args, "dry-run");
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_privacy_purge(db, dry != 0, &counts);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s: %s",
                  rc == ADMIT_ERR_DB_UNAVAILABLE ? "cannot reach the database" : "database error",
                  admit_db_error(db));
        admit_db_free(db);
        return CLI_EXIT_USAGE;
    }
    admit_db_free(db);
    printf("%s\n", dry ? "admit purge --dry-run: nothing was changed; a purge now would do:"
                       : "admit purge: done:");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        printf("  %6lld %s\n", (long long)json_integer_value(json_object_get(counts, lines[i].key)),
               lines[i].what);
    json_decref(counts);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_purge_cmd = {
    "purge", NULL,
    "anonymise registrations past their event's retention and delete expired personal data "
    "(idempotent; --dry-run)",
    purge_opts, run_purge};
