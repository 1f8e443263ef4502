/* For test_pg_checkin_group.c and test_pg_checkin_pool.c: the database of test_pg_checkin
 * (checkin_fixture.h) with PEOPLE people registered in "conf" (Day 1 only) and one in "other",
 * and the helpers both use to make doors and scans. Define CHECKIN_SCANS_LABEL (the database's
 * name) before including it, after cmocka.h. Header-only: one test program each. */
#ifndef ADMIT_TEST_CHECKIN_SCANS_H
#define ADMIT_TEST_CHECKIN_SCANS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "admit/checkin/checkin.h"
#include "admit/checkin/device.h"
#include "admit/core/ticket.h"
#include "checkin_fixture.h"

#define DOORS   4
#define CROWD   40
#define PEOPLE  300 /* registrations in "conf"; the one in "other" is first + PEOPLE */
#define STR_(x) #x
#define STR(x)  STR_(x)

static struct pgtest pg;
static struct admit_signing_key key;
static struct admit_keyring ring;
static int conf_id, other_id;
static int first; /* the first registration of "conf" */

static int setup(void **state)
{
    (void)state;
    if (checkin_fixture_create(&pg, CHECKIN_SCANS_LABEL, &key, &ring, &conf_id, &other_id) != 0)
        return -1;
    /* PEOPLE people in "conf" on Day 1 only, then one in "other". */
    first = atoi(pgtest_value(
        pg.dsn, "SELECT min((admit_register('conf', 'nonce-' || md5(g::text), "
                "left(md5(g::text || 't'), 21) || 'A', 'Guest', 'No ' || g, 'g' || g || "
                "'@example.org', 'Org ' || g, 'research', 'BE', '', '', "
                "(SELECT ARRAY[min(id)] FROM checkin_lists WHERE event_id = 1))).registration_id) "
                "FROM generate_series(1, " STR(PEOPLE) ") g"));
    pgtest_value(pg.dsn, "SELECT admit_register('other', 'nonce-other-0000000', "
                         "'other-token-000000000A', 'Otto', 'Other', 'o@example.org', '', "
                         "'research', 'BE', '', '', (SELECT ARRAY[min(id)] FROM checkin_lists "
                         "WHERE event_id = 2))");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    checkin_fixture_drop(&pg, &key, &ring);
    return 0;
}

/* Runs a data-changing statement (wrapped so that it returns a row). */
static void change(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void change(const char *fmt, ...)
{
    char sql[512], wrapped[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    snprintf(wrapped, sizeof wrapped, "WITH c AS (%s RETURNING 1) SELECT count(*) FROM c", sql);
    pgtest_value(pg.dsn, wrapped);
}

/* A device of "conf" seen just now (the one-statement path wants that): its token hash. */
static void door(struct admit_db *db, const char *name, char hash[ADMIT_DEVICE_HASH_SIZE])
{
    char token[ADMIT_TOKEN_SIZE];
    enum admit_device_outcome outcome;
    int id = 0;
    assert_int_equal(admit_device_add(db, "conf", name, token, &id, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    admit_device_token_hash(token, hash);
    change("UPDATE devices SET last_seen_at = now() WHERE id = %d", id);
}

/* A single-scan request body: the ticket of registration reg of event with reissue counter
 * reissue (or the text payload when not NULL), at list, with nonce (a fresh one when NULL) and
 * the extra JSON members extra (e.g. "\"offline\": true"). */
static char *scan_body(int event, int reg, int reissue, const char *payload, const char *list,
                       const char *nonce, const char *extra)
{
    char ticket[ADMIT_TICKET_TEXT_MAX], fresh[ADMIT_TOKEN_SIZE];
    if (payload == NULL) {
        assert_int_equal(
            admit_ticket_sign(&key, (uint32_t)event, (uint32_t)reg, (uint16_t)reissue, ticket),
            ADMIT_OK);
        payload = ticket;
    }
    if (nonce == NULL) {
        admit_token_new(fresh);
        nonce = fresh;
    }
    size_t size = strlen(payload) + strlen(list) + strlen(nonce) + 200;
    char *body = malloc(size);
    snprintf(body, size, "{\"payload\": \"%s\", \"list\": \"%s\", \"nonce\": \"%s\"%s%s}", payload,
             list, nonce, extra ? ", " : "", extra ? extra : "");
    return body;
}

static void assert_verdict(json_t *a, const char *verdict, const char *reason)
{
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "verdict")), verdict);
    assert_string_equal(json_string_value(json_object_get(a, "reason")), reason);
}

#endif
