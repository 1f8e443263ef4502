/* admit device add / revoke / list: the scanners an event's doors use, and their tokens. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "admit/checkin/device.h"
#include "admit/register/event.h"
#include "cli.h"

#define OPT_EVENT                                                                                  \
    {                                                                                              \
        "event", 0, CLI_STRING, "SLUG", "ADMIT_EVENT", NULL, 0, 0, CLI_REQUIRED,                   \
            "the event (its slug)"                                                                 \
    }

static const struct cli_opt add_opts[] = {
    CLI_OPT_DB,
    OPT_EVENT,
    {"name", 0, CLI_STRING, "NAME", NULL, NULL, 0, 0, CLI_REQUIRED,
     "what the device is called, e.g. \"Gate A\": the gate its scans are logged at unless the "
     "scanner says otherwise"},
    {0},
};

/* Checks --event and --name before anything touches the database; false after a message. */
static bool check_names(const struct cli_args *args, bool with_name)
{
    const char *slug = cli_get(args, "event");
    if (!admit_event_slug_valid(slug)) {
        cli_error(args, "--event \"%s\" is not an event slug (lower-case letters, digits, dashes)",
                  slug);
        return false;
    }
    const char *problem = with_name ? admit_device_name_problem(cli_get(args, "name")) : NULL;
    if (problem != NULL) {
        cli_error(args, "--name: %s", problem);
        return false;
    }
    return true;
}

static void db_error(const struct cli_args *args, struct admit_db *db, enum admit_rc rc)
{
    if (rc == ADMIT_ERR_DB_UNAVAILABLE)
        cli_error(args, "cannot reach the database: %s", admit_db_error(db));
    else
        cli_error(args, "database error: %s", admit_db_error(db));
}

static int run_add(const struct cli_args *args)
{
    char token[ADMIT_TOKEN_SIZE];
    enum admit_device_outcome outcome;
    int id = 0;
    int status = CLI_EXIT_USAGE;
    if (!check_names(args, true))
        return CLI_EXIT_USAGE;
    const char *slug = cli_get(args, "event");
    const char *name = cli_get(args, "name");
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_device_add(db, slug, name, token, &id, &outcome);
    if (rc != ADMIT_OK) {
        db_error(args, db, rc);
        goto done;
    }
    if (outcome == ADMIT_DEVICE_NO_EVENT) {
        cli_error(args, "no event has the slug \"%s\"", slug);
        goto done;
    }
    if (outcome == ADMIT_DEVICE_NAME_TAKEN) {
        cli_error(args,
                  "event %s already has a device called \"%s\" (revoke it first, or choose "
                  "another name)",
                  slug, name);
        goto done;
    }
    /* The token alone on stdout, for scripts; what to do with it on stderr. */
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr,
            "device %d \"%s\" added to %s. Its token (above) is shown only this once: give it to "
            "the scanner with admit scan --token (or ADMIT_SCAN_TOKEN).\n",
            id, name, slug);
    status = CLI_EXIT_OK;
done:
    sodium_memzero(token, sizeof token);
    admit_db_free(db);
    return status;
}

const struct cli_cmd cli_device_add_cmd = {
    "device add", NULL,
    "add a door scanner to an event; prints its token once (only a hash is stored)", add_opts,
    run_add};

static const struct cli_opt revoke_opts[] = {
    CLI_OPT_DB,
    OPT_EVENT,
    {"name", 0, CLI_STRING, "NAME", NULL, NULL, 0, 0, CLI_REQUIRED, "the device's name"},
    {0},
};

static int run_revoke(const struct cli_args *args)
{
    enum admit_device_outcome outcome;
    int id = 0;
    int status = CLI_EXIT_USAGE;
    if (!check_names(args, false))
        return CLI_EXIT_USAGE;
    const char *slug = cli_get(args, "event");
    const char *name = cli_get(args, "name");
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_device_revoke(db, slug, name, &id, &outcome);
    if (rc != ADMIT_OK) {
        db_error(args, db, rc);
        goto done;
    }
    if (outcome != ADMIT_DEVICE_DONE) {
        cli_error(args, "event %s has no working device called \"%s\" (see admit device list)",
                  slug, name);
        goto done;
    }
    printf("device %d \"%s\" revoked: its token is refused from now on\n", id, name);
    status = CLI_EXIT_OK;
done:
    admit_db_free(db);
    return status;
}

const struct cli_cmd cli_device_revoke_cmd = {
    "device revoke", NULL, "revoke a door scanner's token at once", revoke_opts, run_revoke};

static const struct cli_opt list_opts[] = {
    CLI_OPT_DB,
    OPT_EVENT,
    {"json", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0, "print the devices as a JSON array"},
    {0},
};

/* "2027-10-29T09:12:03.120Z" as "2027-10-29 09:12Z"; "-" for none. */
static void short_time(json_t *value, char *out, size_t outlen)
{
    const char *t = json_string_value(value);
    if (t == NULL || strlen(t) < 16)
        snprintf(out, outlen, "-");
    else
        snprintf(out, outlen, "%.10s %.5sZ", t, t + 11);
}

static int run_list(const struct cli_args *args)
{
    char *text = NULL;
    json_t *devices = NULL;
    json_error_t jerr;
    int status = CLI_EXIT_USAGE;
    if (!check_names(args, false))
        return CLI_EXIT_USAGE;
    const char *slug = cli_get(args, "event");
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_device_list(db, slug, &text);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        cli_error(args, "no event has the slug \"%s\"", slug);
        goto done;
    }
    if (rc != ADMIT_OK) {
        db_error(args, db, rc);
        goto done;
    }
    if (cli_flag(args, "json")) {
        printf("%s\n", text);
        status = CLI_EXIT_OK;
        goto done;
    }
    devices = json_loads(text, 0, &jerr);
    size_t i;
    json_t *d;
    printf("%-6s %-24s %-8s %-18s %s\n", "ID", "NAME", "STATE", "LAST SEEN", "SCANS");
    json_array_foreach(devices, i, d)
    {
        char seen[32];
        short_time(json_object_get(d, "last_seen_at"), seen, sizeof seen);
        printf("%-6lld %-24s %-8s %-18s %lld\n",
               (long long)json_integer_value(json_object_get(d, "id")),
               json_string_value(json_object_get(d, "name")),
               json_is_null(json_object_get(d, "revoked_at")) ||
                       json_object_get(d, "revoked_at") == NULL
                   ? "active"
                   : "revoked",
               seen, (long long)json_integer_value(json_object_get(d, "scans")));
    }
    status = CLI_EXIT_OK;
done:
    json_decref(devices);
    free(text);
    admit_db_free(db);
    return status;
}

const struct cli_cmd cli_device_list_cmd = {"device list", NULL,
                                            "list an event's door scanners and when each was "
                                            "last seen",
                                            list_opts, run_list};
