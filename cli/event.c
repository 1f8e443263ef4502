/* admit event create: sets up an event with its check-in lists; admit event capacity: changes
 * its number of seats. */
#include <stdio.h>
#include <string.h>

#include "admit/register/event.h"
#include "admit/register/privacy.h"
#include "cli.h"

static const struct cli_opt create_opts[] = {
    CLI_OPT_DB,
    {"slug", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED,
     "short name in URLs: /events/SLUG (lower-case letters, digits, dashes)"},
    {"name", 0, CLI_STRING, "TEXT", NULL, NULL, 0, 0, CLI_REQUIRED, "the event's title"},
    {"starts", 0, CLI_STRING, "TIME", NULL, NULL, 0, 0, CLI_REQUIRED,
     "start, local time in --tz: \"2027-10-29 09:00\""},
    {"ends", 0, CLI_STRING, "TIME", NULL, NULL, 0, 0, CLI_REQUIRED, "end, local time in --tz"},
    {"capacity", 0, CLI_UINT, "N", NULL, NULL, 0, 1000000, CLI_REQUIRED,
     "seats; registrations past it join the waiting list"},
    {"list", 0, CLI_STRING, "NAME[@DAY]", NULL, NULL, 0, 0, CLI_REPEAT,
     "a check-in list, optionally tied to a day: \"Day 1@2027-10-29\""},
    {"tz", 0, CLI_STRING, "ZONE", "ADMIT_TIME_ZONE", "Europe/Brussels", 0, 0, 0,
     "the event's time zone (IANA name)"},
    {"venue", 0, CLI_STRING, "TEXT", NULL, NULL, 0, 0, 0, "venue name"},
    {"address", 0, CLI_STRING, "TEXT", NULL, NULL, 0, 0, 0, "venue address"},
    {"opens", 0, CLI_STRING, "TIME", NULL, NULL, 0, 0, 0, "registration opens (default: now)"},
    {"closes", 0, CLI_STRING, "TIME", NULL, NULL, 0, 0, 0,
     "registration closes (default: when the event starts)"},
    {"description", 0, CLI_STRING, "TEXT", NULL, NULL, 0, 0, 0, "a paragraph about the event"},
    {"organiser", 0, CLI_STRING, "TEXT", NULL, NULL, 0, 0, 0, "who organises it"},
    {"contact", 0, CLI_STRING, "EMAIL", NULL, NULL, 0, 0, 0, "contact address for attendees"},
    {"retention-days", 0, CLI_UINT, "N", NULL, NULL, 0, ADMIT_RETENTION_DAYS_MAX, 0,
     "days after the event ends that registrations are kept before admit purge anonymises "
     "them (default 90)"},
    {"privacy-notice", 0, CLI_STRING, "URL", NULL, NULL, 0, 0, 0,
     "the organisers' full privacy notice (https://...), linked from the registration form"},
    {"controller", 0, CLI_STRING, "TEXT", NULL, NULL, 0, 0, 0,
     "the data controller's name and contact, shown on the registration form"},
    {0},
};

static int run_create(const struct cli_args *args)
{
    struct admit_event_spec spec = {0};
    char names[ADMIT_EVENT_MAX_LISTS][128];
    const char *const *lists;
    struct admit_error err;
    int id = 0;

    spec.slug = cli_get(args, "slug");
    spec.name = cli_get(args, "name");
    spec.starts = cli_get(args, "starts");
    spec.ends = cli_get(args, "ends");
    spec.capacity = (long)cli_get_uint(args, "capacity");
    spec.time_zone = cli_get(args, "tz");
    spec.venue = cli_get(args, "venue");
    spec.venue_address = cli_get(args, "address");
    spec.opens = cli_get(args, "opens");
    spec.closes = cli_get(args, "closes");
    spec.description = cli_get(args, "description");
    spec.organiser = cli_get(args, "organiser");
    spec.contact_email = cli_get(args, "contact");
    spec.nlists = cli_get_all(args, "list", &lists);
    if (spec.nlists > ADMIT_EVENT_MAX_LISTS) {
        cli_error(args, "at most %d check-in lists", ADMIT_EVENT_MAX_LISTS);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < spec.nlists; i++) {
        /* "Day 1@2027-10-29": the last @ separates the day, if what follows is a date. */
        const char *at = strrchr(lists[i], '@');
        size_t len =
            at && admit_event_date_valid(at + 1) ? (size_t)(at - lists[i]) : strlen(lists[i]);
        if (len >= sizeof names[i]) {
            cli_error(args, "check-in list name too long: %s", lists[i]);
            return CLI_EXIT_USAGE;
        }
        memcpy(names[i], lists[i], len);
        names[i][len] = '\0';
        spec.lists[i].name = names[i];
        spec.lists[i].day = len < strlen(lists[i]) ? at + 1 : NULL;
    }

    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_event_create(db, &spec, &id, &err);
    if (rc == ADMIT_OK &&
        (cli_given(args, "retention-days") || cli_given(args, "privacy-notice") ||
         cli_given(args, "controller")) &&
        admit_privacy_set_event(
            db, spec.slug,
            cli_given(args, "retention-days") ? (int)cli_get_uint(args, "retention-days") : -1,
            cli_get(args, "privacy-notice"), cli_get(args, "controller")) != ADMIT_OK) {
        admit_db_free(db);
        cli_error(args,
                  "event %d created, but its privacy settings were refused (--privacy-notice "
                  "must start with https://, --controller has at most 300 characters): set them "
                  "on the event's form in /admin",
                  id);
        return CLI_EXIT_USAGE;
    }
    admit_db_free(db);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    printf("event %d created: /events/%s\n", id, spec.slug);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_event_create_cmd = {"event create", NULL,
                                             "create an event with its check-in lists and capacity",
                                             create_opts, run_create};

static const struct cli_opt capacity_opts[] = {
    CLI_OPT_DB,
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REQUIRED, "the event"},
    {"capacity", 0, CLI_UINT, "N", NULL, NULL, 0, 1000000, CLI_REQUIRED,
     "the new number of seats; seats added go to the waiting list first, in order"},
    {0},
};

static int run_capacity(const struct cli_args *args)
{
    struct admit_event_seats seats = {0};
    struct admit_error err;
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_event_set_capacity(db, cli_get(args, "event"),
                                                (long)cli_get_uint(args, "capacity"), &seats, &err);
    admit_db_free(db);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    printf("%s: %ld seat%s, %ld confirmed, %ld waiting\n", cli_get(args, "event"), seats.capacity,
           seats.capacity == 1 ? "" : "s", seats.confirmed, seats.waiting);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_event_capacity_cmd = {
    "event capacity", NULL,
    "change an event's capacity; new seats go to the waiting list first (emails queued)",
    capacity_opts, run_capacity};
