/* admit erase: erasure on request (GDPR Art. 17) of one registration (--event and
 * --registration) or of one person by email across every event. The same anonymisation as at
 * the end of retention, at once; a registration whose event has not ended is cancelled first,
 * so its QR code is refused at the door. Recorded in the audit log as done from the shell. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "admit/register/event.h"
#include "admit/register/form.h"
#include "admit/register/privacy.h"
#include "cli.h"

static const struct cli_opt erase_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, 0, "the event of --registration (its slug)"},
    {"registration", 0, CLI_UINT, "ID", NULL, NULL, 1, 2147483647, 0,
     "the registration to erase (its number, as on the organisers' pages)"},
    {"email", 0, CLI_STRING, "EMAIL", NULL, NULL, 0, 0, 0,
     "erase every registration with this address, in every event"},
    {0},
};

static int erase_one(const struct cli_args *args, struct admit_db *db)
{
    const char *slug = cli_get(args, "event");
    int id = (int)cli_get_uint(args, "registration");
    enum admit_erase_outcome out;
    if (!admit_event_slug_valid(slug)) {
        cli_error(args, "--event \"%s\" is not an event slug", slug);
        return CLI_EXIT_USAGE;
    }
    if (admit_privacy_erase_registration(db, 0, slug, id, "", &out) != ADMIT_OK) {
        cli_error(args, "database error: %s", admit_db_error(db));
        return CLI_EXIT_USAGE;
    }
    if (out == ADMIT_ERASE_NOT_FOUND) {
        cli_error(args, "event %s has no registration %d: nothing was erased", slug, id);
        return CLI_EXIT_NEGATIVE;
    }
    printf(out == ADMIT_ERASE_DONE ? "registration %d of %s erased\n"
                                   : "registration %d of %s was erased already\n",
           id, slug);
    return CLI_EXIT_OK;
}

static int erase_email(const struct cli_args *args, struct admit_db *db)
{
    json_t *erased = NULL, *one;
    size_t i;
    const char *problem = admit_form_valid_email(cli_get(args, "email"), 254);
    if (problem != NULL) {
        cli_error(args, "--email: %s", problem);
        return CLI_EXIT_USAGE;
    }
    if (admit_privacy_erase_email(db, 0, cli_get(args, "email"), "", &erased) != ADMIT_OK) {
        cli_error(args, "database error: %s", admit_db_error(db));
        return CLI_EXIT_USAGE;
    }
    json_array_foreach(erased, i, one)
        printf("registration %lld of %s erased\n",
               (long long)json_integer_value(json_object_get(one, "registration_id")),
               json_string_value(json_object_get(one, "event")));
    int status = json_array_size(erased) > 0 ? CLI_EXIT_OK : CLI_EXIT_NEGATIVE;
    if (status != CLI_EXIT_OK)
        fprintf(stderr, "admit erase: no registration (not already erased) has that address\n");
    json_decref(erased);
    return status;
}

static int run_erase(const struct cli_args *args)
{
    int by_email = cli_given(args, "email");
    int by_id = cli_given(args, "event") || cli_given(args, "registration");
    if (by_email == by_id ||
        (by_id && !(cli_given(args, "event") && cli_given(args, "registration")))) {
        cli_error(args, "give either --event and --registration, or --email");
        return CLI_EXIT_USAGE;
    }
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    int status = by_email ? erase_email(args, db) : erase_one(args, db);
    admit_db_free(db);
    return status;
}

const struct cli_cmd cli_erase_cmd = {
    "erase", NULL,
    "erase a person's personal data at once, on their request (one registration, or by email "
    "in every event)",
    erase_opts, run_erase};
