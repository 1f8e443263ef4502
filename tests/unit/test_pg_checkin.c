/* Check-in against a real PostgreSQL (lib/checkin/checkin.c, lib/checkin/device.c,
 * sql/migrations/002_checkin.sql): device tokens, unknown and revoked devices, answers in request
 * order, many doors on the same tickets (exactly one valid each), batches crossing in opposite
 * orders (no deadlock), and syncing. Every verdict is also tested black box in
 * tests/integration/test_checkin.py. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "admit/checkin/checkin.h"
#include "admit/checkin/device.h"
#include "admit/core/ticket.h"
#include "checkin_fixture.h"

#define TICKETS 120

static struct pgtest pg;
static struct admit_signing_key key;
static struct admit_keyring ring;
static int event_id, day1;
static int first_registration;

static int setup(void **state)
{
    int other = 0;
    (void)state;
    if (checkin_fixture_create(&pg, "checkin", &key, &ring, &event_id, &other) != 0)
        return -1;
    day1 = atoi(pgtest_value(pg.dsn, "SELECT min(id) FROM checkin_lists"));
    first_registration = atoi(pgtest_value(
        pg.dsn, "SELECT min((admit_register('conf', 'nonce-' || md5(g::text), "
                "left(md5(g::text || 't'), 21) || 'A', 'Guest', 'No ' || g, 'g' || g || "
                "'@example.org', 'Org', 'research', 'BE', '', '', "
                "(SELECT ARRAY[min(id)] FROM checkin_lists))).registration_id) "
                "FROM generate_series(1, 150) g"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    checkin_fixture_drop(&pg, &key, &ring);
    return 0;
}

/* A new device of event slug: its token hash into hash. */
static void new_device(struct admit_db *db, const char *slug, const char *name,
                       char hash[ADMIT_DEVICE_HASH_SIZE])
{
    char token[ADMIT_TOKEN_SIZE];
    enum admit_device_outcome outcome;
    int id = 0;
    assert_int_equal(admit_device_add(db, slug, name, token, &id, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    assert_true(admit_token_valid(token));
    admit_device_token_hash(token, hash);
}

static void test_devices(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char token[ADMIT_TOKEN_SIZE], hash[ADMIT_DEVICE_HASH_SIZE], sql[256];
    enum admit_device_outcome outcome;
    int id = 0, id2 = 0;
    char *json = NULL;
    (void)state;
    assert_int_equal(admit_device_add(db, "conf", "North", token, &id, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    assert_true(id > 0);
    snprintf(sql, sizeof sql, "SELECT token_hash = sha256('%s') FROM devices WHERE id = %d", token,
             id);
    assert_string_equal(pgtest_value(pg.dsn, sql), "t");
    admit_device_token_hash(token, hash);

    assert_int_equal(admit_device_add(db, "conf", "North", token, &id2, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_NAME_TAKEN);
    assert_int_equal(id2, 0);
    assert_string_equal(token, ""); /* no token for a device that was not added */
    assert_int_equal(admit_device_add(db, "nope", "North", token, &id2, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_NO_EVENT);
    assert_int_equal(admit_device_add(db, "conf", "", token, &id2, &outcome), ADMIT_ERR_INVALID);
    /* The same name in another event is another device. */
    assert_int_equal(admit_device_add(db, "other", "North", token, &id2, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);

    assert_int_equal(admit_device_whoami(db, hash, &json), ADMIT_OK);
    assert_non_null(strstr(json, "\"slug\" : \"conf\""));
    assert_non_null(strstr(json, "\"name\" : \"North\""));
    free(json);
    assert_int_equal(admit_device_list(db, "conf", &json), ADMIT_OK);
    assert_non_null(strstr(json, "\"North\""));
    free(json);
    assert_int_equal(admit_device_list(db, "nope", &json), ADMIT_ERR_NOT_FOUND);
    assert_null(json);

    assert_int_equal(admit_device_revoke(db, "conf", "North", &id2, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    assert_int_equal(id2, id);
    assert_int_equal(admit_device_revoke(db, "conf", "North", &id2, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_NOT_FOUND);
    assert_int_equal(admit_device_whoami(db, hash, &json), ADMIT_ERR_NOT_FOUND);
    /* A revoked device's name is free again. */
    assert_int_equal(admit_device_add(db, "conf", "North", token, &id2, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    admit_db_free(db);
}

/* An organiser limited to "conf" (the web's devices page): "other" does not exist for them,
 * neither by its slug nor through conf's address with another event's device id. */
static void test_devices_as_a_limited_organiser(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char token[ADMIT_TOKEN_SIZE];
    enum admit_device_outcome outcome;
    int id = 0, other = 0, revoked = 0;
    json_t *page = NULL;
    (void)state;
    int admin = atoi(pgtest_value(
        pg.dsn, "WITH a AS (INSERT INTO admins (email, password_hash, all_events) VALUES "
                "('lim@example.org', '$argon2id$x', false) RETURNING id), g AS (INSERT INTO "
                "admin_events SELECT a.id, e.id FROM a, events e WHERE e.slug = 'conf') "
                "SELECT id FROM a"));
    assert_int_equal(admit_device_add(db, "other", "Far gate", token, &other, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    assert_int_equal(admit_device_add_as(db, admin, "other", "Mine", token, &id, &outcome),
                     ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_NO_EVENT);
    assert_string_equal(token, "");
    assert_int_equal(admit_device_add_as(db, admin, "conf", "Mine", token, &id, &outcome),
                     ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    assert_int_equal(admit_device_page(db, admin, "other", &page), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_device_page(db, admin, "conf", &page), ADMIT_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(page, "event"), "slug")),
                        "conf");
    json_decref(page);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(admit_device_revoke_as(db, admin, i ? "conf" : "other", NULL, other,
                                                &revoked, &outcome),
                         ADMIT_OK);
        assert_int_equal(outcome, ADMIT_DEVICE_NOT_FOUND);
    }
    assert_int_equal(admit_device_revoke_as(db, admin, "conf", NULL, id, &revoked, &outcome),
                     ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    assert_int_equal(revoked, id);
    /* The operator (admit device) has every event. */
    assert_int_equal(
        admit_device_revoke_as(db, ADMIT_DEVICE_OPERATOR, "other", NULL, other, &revoked, &outcome),
        ADMIT_OK);
    assert_int_equal(outcome, ADMIT_DEVICE_DONE);
    admit_db_free(db);
}

static json_t *submit_text(struct admit_db *db, const char *hash, const char *body,
                           enum admit_rc want)
{
    struct admit_checkin_request req;
    struct admit_error err;
    json_t *answers = NULL;
    if (admit_checkin_parse(body, strlen(body), &req, &err) != ADMIT_OK)
        fail_msg("%s: %s", err.code, err.message);
    enum admit_rc rc = admit_checkin_submit(db, hash, &req, &ring, &answers);
    if (rc != want)
        fail_msg("submit: %s (%s %s)", admit_strerror(rc), admit_db_sqlstate(db),
                 admit_db_error(db));
    admit_checkin_request_free(&req);
    return answers;
}

/* A batch body of the tickets of registrations first..first+n-1 (or backwards), on Day 1. */
static char *batch(int first, int n, bool backwards, const char *tag)
{
    json_t *scans = json_array();
    for (int i = 0; i < n; i++) {
        char ticket[ADMIT_TICKET_TEXT_MAX], nonce[40];
        int reg = backwards ? first + n - 1 - i : first + i;
        assert_int_equal(admit_ticket_sign(&key, (uint32_t)event_id, (uint32_t)reg, 0, ticket),
                         ADMIT_OK);
        admit_token_new(nonce);
        json_array_append_new(scans, json_pack("{s:s, s:s, s:s}", "payload", ticket, "list",
                                               "Day 1", "nonce", nonce));
    }
    (void)tag;
    json_t *body = json_pack("{s:o}", "scans", scans);
    char *text = json_dumps(body, 0);
    json_decref(body);
    return text;
}

static void test_answers_in_order_and_unknown_devices(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE], unknown[ADMIT_DEVICE_HASH_SIZE];
    (void)state;
    new_device(db, "conf", "Order", hash);
    char *body = batch(first_registration, 5, true, "order");
    json_t *answers = submit_text(db, hash, body, ADMIT_OK);
    assert_int_equal(json_array_size(answers), 5);
    for (int i = 0; i < 5; i++) {
        json_t *a = json_array_get(answers, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(a, "verdict")), "valid");
        assert_int_equal(json_integer_value(json_object_get(a, "registration_id")),
                         first_registration + 4 - i);
    }
    json_decref(answers);
    const char *before = pgtest_value(pg.dsn, "SELECT count(*) FROM scans");
    char count[32];
    snprintf(count, sizeof count, "%s", before);
    admit_device_token_hash("not a real token", unknown);
    answers = submit_text(db, unknown, body, ADMIT_ERR_NOT_FOUND);
    assert_null(answers);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM scans"), count);
    free(body);
    admit_db_free(db);
}

struct door {
    int index;
    int first, n;
    int rounds;
    bool backwards;
    int valid, already, errors;
};

static void *door_run(void *arg)
{
    struct door *d = arg;
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE], name[32];
    snprintf(name, sizeof name, "Door %d", d->index);
    new_device(db, "conf", name, hash);
    for (int round = 0; round < d->rounds; round++) {
        char *body = batch(d->first, d->n, d->backwards ^ (round % 2), name);
        struct admit_checkin_request req;
        struct admit_error err;
        json_t *answers = NULL;
        if (admit_checkin_parse(body, strlen(body), &req, &err) == ADMIT_OK &&
            admit_checkin_submit(db, hash, &req, &ring, &answers) == ADMIT_OK) {
            size_t i;
            json_t *a;
            json_array_foreach(answers, i, a)
            {
                const char *v = json_string_value(json_object_get(a, "verdict"));
                d->valid += strcmp(v, "valid") == 0;
                d->already += strcmp(v, "already_checked_in") == 0;
            }
        } else {
            fprintf(stderr, "door %d: %s %s\n", d->index, admit_db_sqlstate(db),
                    admit_db_error(db));
            d->errors++;
        }
        json_decref(answers);
        admit_checkin_request_free(&req);
        free(body);
    }
    admit_db_free(db);
    return NULL;
}

static void test_many_doors_one_valid_each(void **state)
{
    pthread_t threads[8];
    struct door doors[8];
    int first = first_registration + 10;
    (void)state;
    /* Eight doors, the same tickets, in small batches, half of them backwards: exactly one
     * valid per ticket, and batches crossing in opposite orders never deadlock. */
    for (int i = 0; i < 8; i++) {
        doors[i] = (struct door){
            .index = i, .first = first, .n = TICKETS, .rounds = 1, .backwards = i % 2 == 1};
        pthread_create(&threads[i], NULL, door_run, &doors[i]);
    }
    int valid = 0, already = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(doors[i].errors, 0);
        valid += doors[i].valid;
        already += doors[i].already;
    }
    assert_int_equal(valid, TICKETS);
    assert_int_equal(already, 7 * TICKETS);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM admissions WHERE registration_id BETWEEN %d AND %d", first,
             first + TICKETS - 1);
    assert_int_equal(atoi(pgtest_value(pg.dsn, sql)), TICKETS);
    /* Every lock went with its transaction (other tests share the cluster: this database). */
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM pg_locks l JOIN pg_database d "
                                             "ON d.oid = l.database WHERE l.locktype = "
                                             "'advisory' AND d.datname = current_database()"),
                        "0");
}

static void test_sync(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE];
    char *json = NULL;
    enum admit_sync_outcome outcome;
    json_error_t jerr;
    (void)state;
    new_device(db, "conf", "Syncer", hash);
    assert_int_equal(admit_checkin_sync(db, hash, "conf", NULL, &ring, &json, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_SYNC_OK);
    json_t *full = json_loads(json, 0, &jerr);
    free(json);
    assert_true(json_is_true(json_object_get(full, "full")));
    assert_int_equal(json_array_size(json_object_get(full, "registrations")), 150);
    assert_int_equal(json_array_size(json_object_get(full, "keys")), 1);
    const char *cursor = json_string_value(json_object_get(full, "cursor"));
    assert_true(admit_checkin_cursor_valid(cursor));

    /* A change after the cursor, and nothing else. */
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT (admit_cancel(token)).outcome FROM registrations WHERE id = %d",
             first_registration + 149);
    assert_string_equal(pgtest_value(pg.dsn, sql), "cancelled");
    assert_int_equal(admit_checkin_sync(db, hash, "conf", cursor, &ring, &json, &outcome),
                     ADMIT_OK);
    json_t *delta = json_loads(json, 0, &jerr);
    free(json);
    assert_true(json_is_false(json_object_get(delta, "full")));
    json_t *regs = json_object_get(delta, "registrations");
    assert_int_equal(json_array_size(regs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(regs, 0), "status")),
                        "cancelled");
    json_decref(delta);
    json_decref(full);

    assert_int_equal(admit_checkin_sync(db, hash, "other", NULL, &ring, &json, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_SYNC_NOT_FOUND);
    assert_null(json);
    assert_int_equal(admit_checkin_sync(db, hash, "nope", NULL, &ring, &json, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_SYNC_NOT_FOUND);
    char unknown[ADMIT_DEVICE_HASH_SIZE];
    admit_device_token_hash("nobody", unknown);
    assert_int_equal(admit_checkin_sync(db, unknown, "conf", NULL, &ring, &json, &outcome),
                     ADMIT_OK);
    assert_int_equal(outcome, ADMIT_SYNC_UNAUTHORIZED);
    assert_int_equal(admit_checkin_sync(db, hash, "conf", "x", &ring, &json, &outcome),
                     ADMIT_ERR_INVALID);
    /* Well-formed but impossible (xmin above xmax): refused before PostgreSQL sees it. */
    assert_int_equal(admit_checkin_sync(db, hash, "conf", "9:3:", &ring, &json, &outcome),
                     ADMIT_ERR_INVALID);
    /* And the handle works on. */
    assert_int_equal(admit_checkin_sync(db, hash, "conf", NULL, &ring, &json, &outcome), ADMIT_OK);
    free(json);
    admit_db_free(db);
}

/* One scan of the ticket of registration reg (reissue counter reissue) with this nonce, alone
 * or as the second scan of a batch after a fresh one; returns its answer (decref it). */
static json_t *scan_once(struct admit_db *db, const char *hash, int reg, int reissue,
                         const char *list, const char *direction, const char *nonce, bool offline,
                         bool in_batch)
{
    char ticket[ADMIT_TICKET_TEXT_MAX], fresh[ADMIT_TOKEN_SIZE];
    assert_int_equal(
        admit_ticket_sign(&key, (uint32_t)event_id, (uint32_t)reg, (uint16_t)reissue, ticket),
        ADMIT_OK);
    json_t *scan = json_pack("{s:s, s:s, s:s, s:s, s:b}", "payload", ticket, "list", list,
                             "direction", direction, "nonce", nonce, "offline", offline);
    json_t *body = scan;
    if (in_batch) {
        admit_token_new(fresh);
        json_t *other =
            json_pack("{s:s, s:s, s:s}", "payload", ticket, "list", "Day 2", "nonce", fresh);
        body = json_pack("{s:[o, o]}", "scans", other, scan);
    }
    char *text = json_dumps(body, 0);
    json_t *answers = submit_text(db, hash, text, ADMIT_OK);
    json_t *answer = json_incref(json_array_get(answers, in_batch ? 1 : 0));
    json_decref(answers);
    json_decref(body);
    free(text);
    return answer;
}

/* The error code of an answer, or "" when it is a verdict. */
static const char *error_code(const json_t *answer)
{
    const char *code = json_string_value(json_object_get(json_object_get(answer, "error"), "code"));
    return code != NULL ? code : "";
}

static void test_nonce_reused(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE], sql[256], before[32];
    int ada = first_registration + 140, bob = first_registration + 141;
    (void)state;
    new_device(db, "conf", "Reuse", hash);

    /* Two first scans: an online entry (decided by the group statement) and an exit (by the
     * SQL function admit_checkin): both paths keep what the scan was about. */
    const char *paths[2] = {"entry", "exit"};
    for (int p = 0; p < 2; p++) {
        char nonce[ADMIT_TOKEN_SIZE];
        const char *direction = paths[p];
        const char *other_direction = p == 0 ? "exit" : "entry";
        admit_token_new(nonce);
        json_t *first = scan_once(db, hash, ada, 0, "Day 1", direction, nonce, false, false);
        assert_string_equal(error_code(first), "");
        json_decref(first);
        snprintf(before, sizeof before, "%s", pgtest_value(pg.dsn, "SELECT count(*) FROM scans"));
        snprintf(sql, sizeof sql, "SELECT count(*) FROM admissions WHERE registration_id = %d",
                 bob);
        /* The same nonce with another ticket, list, direction or reissue, alone or in a batch:
         * refused with nothing written, never the earlier scan's answer. */
        for (int batch = 0; batch < 2; batch++) {
            json_t *tries[4] = {
                scan_once(db, hash, bob, 0, "Day 1", direction, nonce, false, batch),
                scan_once(db, hash, ada, 0, "Day 2", direction, nonce, false, batch),
                scan_once(db, hash, ada, 0, "Day 1", other_direction, nonce, true, batch),
                scan_once(db, hash, ada, 1, "Day 1", direction, nonce, false, batch),
            };
            for (int t = 0; t < 4; t++) {
                assert_string_equal(error_code(tries[t]), "nonce_reused");
                assert_int_equal(admit_checkin_answer_status(tries[t]), 409);
                assert_string_equal(json_string_value(json_object_get(tries[t], "nonce")), nonce);
                assert_null(json_object_get(tries[t], "verdict"));
                assert_null(json_object_get(tries[t], "name"));
                const char *message = json_string_value(
                    json_object_get(json_object_get(tries[t], "error"), "message"));
                assert_non_null(strstr(message, batch ? "scan 2" : "the scan"));
                json_decref(tries[t]);
            }
            if (batch) /* the batch's other scan was decided */
                snprintf(before, sizeof before, "%d", atoi(before) + 4);
            assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM scans"), before);
            assert_string_equal(pgtest_value(pg.dsn, sql), "0");
        }
        /* An honest retry, online or as the offline upload of the same scan: replayed. */
        for (int offline = 0; offline < 2; offline++) {
            json_t *again = scan_once(db, hash, ada, 0, "Day 1", direction, nonce, offline, true);
            assert_string_equal(error_code(again), "");
            assert_true(json_is_true(json_object_get(again, "replayed")));
            assert_int_equal(json_integer_value(json_object_get(again, "registration_id")), ada);
            json_decref(again);
        }
    }

    /* A scan stored before migration 7 has no key: its nonce is replayed as before. */
    char nonce[ADMIT_TOKEN_SIZE];
    admit_token_new(nonce);
    json_decref(scan_once(db, hash, bob, 0, "Day 1", "entry", nonce, false, false));
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE scans SET client_scan_key = NULL WHERE client_nonce = '%s' "
             "RETURNING 1) SELECT count(*) FROM u",
             nonce);
    assert_string_equal(pgtest_value(pg.dsn, sql), "1");
    json_t *legacy = scan_once(db, hash, ada, 0, "Day 1", "entry", nonce, false, false);
    assert_true(json_is_true(json_object_get(legacy, "replayed")));
    json_decref(legacy);
    admit_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_devices_as_a_limited_organiser),
        cmocka_unit_test(test_answers_in_order_and_unknown_devices),
        cmocka_unit_test(test_many_doors_one_valid_each),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_nonce_reused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
