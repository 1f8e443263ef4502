/* admit access: everything held about a person, by email, in every event (GDPR Art. 15 and 20),
 * as the JSON an attendee downloads from their ticket page; for the organisers to answer a
 * request that comes by post or email. Recorded in the audit log as done from the shell. */
#include <stdio.h>

#include <jansson.h>

#include "admit/register/form.h"
#include "admit/register/privacy.h"
#include "cli.h"

static const struct cli_opt access_opts[] = {
    CLI_OPT_DB,
    {"email", 0, CLI_STRING, "EMAIL", NULL, NULL, 0, 0, CLI_REQUIRED,
     "the person's email address (any case)"},
    {0},
};

static int run_access(const struct cli_args *args)
{
    json_t *data = NULL;
    const char *email = cli_get(args, "email");
    const char *problem = admit_form_valid_email(email, 254);
    if (problem != NULL) {
        cli_error(args, "--email: %s", problem);
        return CLI_EXIT_USAGE;
    }
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_privacy_access_email(db, 0, email, "", &data);
    int status = CLI_EXIT_OK;
    if (rc == ADMIT_ERR_NOT_FOUND) {
        cli_error(args, "no registration (not erased) has that address: nothing is held");
        status = CLI_EXIT_NEGATIVE;
    } else if (rc != ADMIT_OK) {
        cli_error(args, "%s: %s",
                  rc == ADMIT_ERR_DB_UNAVAILABLE ? "cannot reach the database" : "database error",
                  admit_db_error(db));
        status = CLI_EXIT_USAGE;
    } else {
        json_dumpf(data, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        printf("\n");
    }
    json_decref(data);
    admit_db_free(db);
    return status;
}

const struct cli_cmd cli_access_cmd = {
    "access", NULL,
    "print everything held about a person, by email, as JSON (their right of access)", access_opts,
    run_access};
