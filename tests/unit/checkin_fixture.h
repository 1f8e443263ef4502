/* For the test_pg_checkin* tests: a fresh migrated database (pgtest.h), a ticket signing key
 * with its keyring, and two events, "conf" and "other", each with the lists Day 1 and Day 2.
 * Header-only, like pgtest.h; include it after cmocka.h. */
#ifndef ADMIT_TEST_CHECKIN_FIXTURE_H
#define ADMIT_TEST_CHECKIN_FIXTURE_H

#include <string.h>

#include "admit/register/event.h"
#include "admit/core/keys.h"
#include "pgtest.h"
#include "test_key.h"

/* Sets it all up in a database named after label; the events' ids into *conf and *other.
 * Returns -1 when the library cannot start (cmocka's group setup convention), else 0. */
static int checkin_fixture_create(struct pgtest *pg, const char *label,
                                  struct admit_signing_key *key, struct admit_keyring *ring,
                                  int *conf, int *other)
{
    struct admit_error err;
    if (test_key_setup(key, ring) != 0)
        return -1;
    pgtest_create(pg, label);
    struct admit_event_spec spec = {.slug = "conf",
                                    .name = "Conference",
                                    .time_zone = "Europe/Brussels",
                                    .starts = "2099-10-29 09:00",
                                    .ends = "2099-10-30 17:00",
                                    .capacity = 1000,
                                    .lists = {{"Day 1", "2099-10-29"}, {"Day 2", "2099-10-30"}},
                                    .nlists = 2};
    struct admit_db *db = admit_db_new(pg->dsn);
    if (admit_event_create(db, &spec, conf, &err) != ADMIT_OK)
        fail_msg("event: %s", err.message);
    spec.slug = "other";
    if (admit_event_create(db, &spec, other, &err) != ADMIT_OK)
        fail_msg("event: %s", err.message);
    admit_db_free(db);
    return 0;
}

static void checkin_fixture_drop(struct pgtest *pg, struct admit_signing_key *key,
                                 struct admit_keyring *ring)
{
    test_key_teardown(key, ring);
    pgtest_drop(pg);
}

#endif
