/* admit migrate: brings a database's schema up to what this binary expects. */
#include <stdio.h>

#include "admit/core/db.h"
#include "admit/core/migrate.h"
#include "cli.h"

static const struct cli_opt migrate_opts[] = {
    CLI_OPT_DB,
    {"check", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "only report whether migrations are pending (exit 1 if so)"},
    {0},
};

static void report(const char *name, void *ctx)
{
    (void)ctx;
    printf("applied %s\n", name);
    fflush(stdout);
}

static int run_migrate(const struct cli_args *args)
{
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    int status = CLI_EXIT_USAGE;
    int applied = 0, expected = 0;
    struct admit_error err;

    if (cli_flag(args, "check")) {
        enum admit_rc rc = admit_migrate_check(db, &applied, &expected);
        if (rc == ADMIT_OK || rc == ADMIT_ERR_STATE) {
            printf("database at migration %d of %d\n", applied, expected);
            status = rc == ADMIT_OK ? CLI_EXIT_OK : CLI_EXIT_NEGATIVE;
        } else {
            cli_error(args, "cannot read the schema: %s", admit_db_error(db));
        }
        goto done;
    }
    enum admit_rc rc = admit_migrate_apply(db, report, NULL, &err);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message[0] ? err.message : admit_strerror(rc));
        goto done;
    }
    rc = admit_migrate_check(db, &applied, &expected);
    if (rc != ADMIT_OK) {
        cli_error(args, "after migrating, the database is at %d of %d", applied, expected);
        goto done;
    }
    printf("database at migration %d of %d: up to date\n", applied, expected);
    status = CLI_EXIT_OK;
done:
    admit_db_free(db);
    return status;
}

const struct cli_cmd cli_migrate_cmd = {
    "migrate", NULL,
    "apply the pending schema migrations (safe to run twice, and from two places at once)",
    migrate_opts, run_migrate};
