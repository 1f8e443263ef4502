/* The group statement of online entries (admit_checkin_one, admit_checkin_group,
 * sql/queries/checkin_group.sql) against the general path (the SQL function admit_checkin) on
 * a real PostgreSQL: every verdict and reason it decides is the answer the function gives in
 * the same situation; what it must leave to the function (a nonce seen before, a re-entry, a
 * device not seen for a minute, an unknown token, offline and exit scans, a nonce or ticket
 * earlier in the same group) it leaves, having written nothing. Many threads at once:
 * test_pg_checkin_pool.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define CHECKIN_SCANS_LABEL "checkin_group"
#include "checkin_scans.h"

/* The one-statement path for body: its answer, or NULL when it left the scan (asserting then
 * that it wrote nothing). */
static json_t *one(struct admit_db *db, const char *hash, const char *body)
{
    struct admit_checkin_request req;
    struct admit_error err;
    json_t *answer = NULL;
    char before[32];
    snprintf(before, sizeof before, "%s",
             pgtest_value(pg.dsn, "SELECT count(*) || '/' || (SELECT count(*) FROM admissions) "
                                  "FROM scans"));
    if (admit_checkin_parse(body, strlen(body), &req, &err) != ADMIT_OK)
        fail_msg("%s: %s", err.code, err.message);
    enum admit_rc rc = admit_checkin_one(db, hash, &req.scans[0], &ring, &answer);
    admit_checkin_request_free(&req);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        assert_null(answer);
        assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) || '/' || (SELECT count(*) "
                                                 "FROM admissions) FROM scans"),
                            before);
        return NULL;
    }
    if (rc != ADMIT_OK)
        fail_msg("one: %s (%s)", admit_strerror(rc), admit_db_error(db));
    return answer;
}

/* The general path for body (sent as a batch of one): its answer. */
static json_t *general(struct admit_db *db, const char *hash, const char *body)
{
    struct admit_checkin_request req;
    struct admit_error err;
    json_t *answers = NULL;
    size_t size = strlen(body) + 32;
    char *batch = malloc(size);
    snprintf(batch, size, "{\"scans\": [%s]}", body);
    if (admit_checkin_parse(batch, strlen(batch), &req, &err) != ADMIT_OK)
        fail_msg("%s: %s", err.code, err.message);
    enum admit_rc rc = admit_checkin_submit(db, hash, &req, &ring, &answers);
    if (rc != ADMIT_OK)
        fail_msg("general: %s (%s)", admit_strerror(rc), admit_db_error(db));
    admit_checkin_request_free(&req);
    free(batch);
    json_t *answer = json_incref(json_array_get(answers, 0));
    json_decref(answers);
    return answer;
}

static void assert_same(json_t *a, json_t *b, const char *what)
{
    json_object_del(a, "nonce");
    json_object_del(b, "nonce");
    if (!json_equal(a, b)) {
        char *ta = json_dumps(a, JSON_SORT_KEYS), *tb = json_dumps(b, JSON_SORT_KEYS);
        fail_msg("%s:\n  one statement: %s\n  admit_checkin: %s", what, ta, tb);
    }
}

/* Both paths on the same situation (a scan that changes nothing): the same answer. */
static void both(struct admit_db *db, const char *fast, const char *slow, const char *body,
                 const char *verdict, const char *reason)
{
    json_t *a = one(db, fast, body);
    assert_verdict(a, verdict, reason);
    json_t *b = general(db, slow, body);
    assert_same(a, b, verdict);
    json_decref(a);
    json_decref(b);
}

static void test_same_answers(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char fast[ADMIT_DEVICE_HASH_SIZE], slow[ADMIT_DEVICE_HASH_SIZE];
    (void)state;
    door(db, "Fast door", fast);
    door(db, "Slow door", slow);

    /* valid: two people, one each way (the answers differ in the person only). */
    char *body = scan_body(conf_id, first, 0, NULL, "Day 1", NULL, NULL);
    json_t *a = one(db, fast, body);
    assert_verdict(a, "valid", "");
    assert_int_equal(json_integer_value(json_object_get(a, "registration_id")), first);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Guest No 1");
    assert_string_equal(json_string_value(json_object_get(a, "organisation")), "Org 1");
    char *body2 = scan_body(conf_id, first + 1, 0, NULL, "Day 1", NULL, NULL);
    json_t *b = general(db, slow, body2);
    assert_verdict(b, "valid", "");
    json_object_set_new(b, "registration_id", json_integer(first));
    json_object_set_new(b, "name", json_string("Guest No 1"));
    json_object_set_new(b, "organisation", json_string("Org 1"));
    assert_same(a, b, "valid");
    json_decref(a);
    json_decref(b);
    assert_string_equal(pgtest_value(pg.dsn,
                                     "SELECT string_agg(s.verdict || ' ' || s.gate || ' "
                                     "' || a.first_gate, ',' ORDER BY s.id) FROM scans s JOIN "
                                     "admissions a ON a.first_scan_id = s.id"),
                        "valid Fast door Fast door,valid Slow door Slow door");
    free(body2);

    /* already_checked_in: when and where the first entry was, both ways. */
    free(body);
    body = scan_body(conf_id, first, 0, NULL, "Day 1", NULL, NULL);
    a = one(db, fast, body);
    assert_verdict(a, "already_checked_in", "");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Fast door");
    assert_non_null(json_object_get(a, "first_at"));
    b = general(db, slow, body);
    assert_same(a, b, "already_checked_in");
    json_decref(a);
    json_decref(b);
    free(body);

    /* The refusals, each as the function gives it. */
    struct admit_signing_key other_key;
    char stranger[ADMIT_TICKET_TEXT_MAX];
    admit_key_generate(&other_key);
    assert_int_equal(
        admit_ticket_sign(&other_key, (uint32_t)conf_id, (uint32_t)first + 6, 0, stranger),
        ADMIT_OK);
    admit_key_wipe(&other_key);
    struct {
        int event, reg, reissue;
        const char *payload, *list;
        const char *setup; /* what changes in the registration first (SET ...) */
        const char *verdict, *reason;
    } cases[] = {
        {conf_id, first + 2, 0, NULL, "Day 2", NULL, "not_on_list", ""},
        {conf_id, first + 2, 0, NULL, "Day 9", NULL, "invalid", "unknown_list"},
        {conf_id, first + 3, 0, NULL, "Day 1", "status = 'cancelled', cancelled_at = now()",
         "revoked", "cancelled"},
        {conf_id, first + 4, 0, NULL, "Day 1", "reissue = 1", "revoked", "reissued"},
        {conf_id, first + 4, 2, NULL, "Day 1", NULL, "invalid", "unknown_reissue"},
        {conf_id, first + 5, 0, NULL, "Day 1", "status = 'waitlisted', confirmed_at = NULL",
         "waitlisted", ""},
        {other_id, first + PEOPLE, 0, NULL, "Day 1", NULL, "wrong_event", ""},
        {conf_id, first + PEOPLE, 0, NULL, "Day 1", NULL, "invalid", "unknown_attendee"},
        {conf_id, 99999999, 0, NULL, "Day 1", NULL, "invalid", "unknown_attendee"},
        {conf_id, 0, 0, "AD1:NOT A TICKET", "Day 1", NULL, "invalid", "wrong_length"},
        {conf_id, 0, 0, "HELLO", "Day 1", NULL, "invalid", "not_a_ticket"},
        {conf_id, 0, 0, stranger, "Day 1", NULL, "invalid", "unknown_key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].setup != NULL)
            change("UPDATE registrations SET %s WHERE id = %d", cases[i].setup, cases[i].reg);
        body = scan_body(cases[i].event, cases[i].reg, cases[i].reissue, cases[i].payload,
                         cases[i].list, NULL, NULL);
        both(db, fast, slow, body, cases[i].verdict, cases[i].reason);
        free(body);
    }
    /* No refusal admitted anyone. */
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM admissions"), "2");
    admit_db_free(db);
}

static void test_left_to_the_function(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE], unknown[ADMIT_DEVICE_HASH_SIZE];
    (void)state;
    door(db, "Side door", hash);

    /* The same nonce again: the function answers what was answered. */
    char *body = scan_body(conf_id, first + 10, 0, NULL, "Day 1", "retry-nonce-0001", NULL);
    json_t *a = one(db, hash, body);
    assert_verdict(a, "valid", "");
    json_decref(a);
    assert_null(one(db, hash, body));
    a = general(db, hash, body);
    assert_verdict(a, "valid", "");
    assert_true(json_is_true(json_object_get(a, "replayed")));
    json_decref(a);
    free(body);

    /* A re-entry: out, then in again. */
    body = scan_body(conf_id, first + 10, 0, NULL, "Day 1", NULL, "\"direction\": \"exit\"");
    assert_null(one(db, hash, body)); /* an exit */
    a = general(db, hash, body);
    assert_verdict(a, "valid", "");
    json_decref(a);
    free(body);
    body = scan_body(conf_id, first + 10, 0, NULL, "Day 1", NULL, NULL);
    assert_null(one(db, hash, body));
    a = general(db, hash, body);
    assert_verdict(a, "valid", "re_entry");
    json_decref(a);
    free(body);

    /* Offline scans upload through the function. */
    body = scan_body(conf_id, first + 11, 0, NULL, "Day 1", NULL, "\"offline\": true");
    assert_null(one(db, hash, body));
    free(body);

    /* A device not seen for a minute: the function records that it was. */
    change("UPDATE devices SET last_seen_at = now() - interval '2 minutes' WHERE name = "
           "'Side door'");
    body = scan_body(conf_id, first + 12, 0, NULL, "Day 1", NULL, NULL);
    assert_null(one(db, hash, body));
    struct admit_checkin_request req;
    struct admit_error err;
    json_t *answers = NULL;
    assert_int_equal(admit_checkin_parse(body, strlen(body), &req, &err), ADMIT_OK);
    assert_int_equal(admit_checkin_submit(db, hash, &req, &ring, &answers), ADMIT_OK);
    assert_verdict(json_array_get(answers, 0), "valid", "");
    json_decref(answers);
    admit_checkin_request_free(&req);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT last_seen_at > now() - interval '1 minute' "
                                             "FROM devices WHERE name = 'Side door'"),
                        "t");
    free(body);

    /* Unknown and revoked tokens: nothing decided here, and submit says not found. */
    admit_device_token_hash("not a real token", unknown);
    body = scan_body(conf_id, first + 13, 0, NULL, "Day 1", NULL, NULL);
    assert_null(one(db, unknown, body));
    change("UPDATE devices SET revoked_at = now() WHERE name = 'Side door'");
    assert_null(one(db, hash, body));
    assert_int_equal(admit_checkin_parse(body, strlen(body), &req, &err), ADMIT_OK);
    assert_int_equal(admit_checkin_submit(db, hash, &req, &ring, &answers), ADMIT_ERR_NOT_FOUND);
    admit_checkin_request_free(&req);
    free(body);
    admit_db_free(db);
}

/* The entry for body (a single scan) into *e; the parsed request into *req (free it after). */
static void entry(struct admit_checkin_entry *e, struct admit_checkin_request *req,
                  const char *hash, const char *body)
{
    struct admit_error err;
    if (admit_checkin_parse(body, strlen(body), req, &err) != ADMIT_OK)
        fail_msg("%s: %s", err.code, err.message);
    admit_checkin_entry_init(e, hash, &req->scans[0], &ring);
}

static void test_one_group(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char a[ADMIT_DEVICE_HASH_SIZE], b[ADMIT_DEVICE_HASH_SIZE], unknown[ADMIT_DEVICE_HASH_SIZE];
    (void)state;
    door(db, "Group door A", a);
    door(db, "Group door B", b);
    admit_device_token_hash("not a real token", unknown);
    int p = first + 150;
    struct {
        const char *hash;
        char *body;
        const char *verdict, *reason; /* NULL: left to admit_checkin */
    } scans[] = {
        {a, scan_body(conf_id, p, 0, NULL, "Day 1", NULL, NULL), "valid", ""},
        {b, scan_body(conf_id, p + 1, 0, NULL, "Day 1", NULL, NULL), "valid", ""},
        /* the ticket of the first scan again, at another door: left */
        {b, scan_body(conf_id, p, 0, NULL, "Day 1", NULL, NULL), NULL, NULL},
        {a, scan_body(conf_id, p + 2, 0, NULL, "Day 1", "group-nonce-0001", NULL), "valid", ""},
        /* the nonce of the one before, from its device: left */
        {a, scan_body(conf_id, p + 3, 0, NULL, "Day 1", "group-nonce-0001", NULL), NULL, NULL},
        /* the same nonce from another device is another scan */
        {b, scan_body(conf_id, p + 4, 0, NULL, "Day 2", "group-nonce-0001", NULL), "not_on_list",
         ""},
        {a, scan_body(conf_id, 0, 0, "HELLO", "Day 1", NULL, NULL), "invalid", "not_a_ticket"},
        {unknown, scan_body(conf_id, p + 5, 0, NULL, "Day 1", NULL, NULL), NULL, NULL},
    };
    enum { N = sizeof scans / sizeof scans[0] };
    struct admit_checkin_entry entries[N], *group[N];
    struct admit_checkin_request reqs[N];
    for (size_t i = 0; i < N; i++) {
        entry(&entries[i], &reqs[i], scans[i].hash, scans[i].body);
        group[i] = &entries[i];
    }
    const char *count = "SELECT count(*) || '/' || (SELECT count(*) FROM admissions) FROM scans";
    char before[32];
    snprintf(before, sizeof before, "%s", pgtest_value(pg.dsn, count));
    assert_int_equal(admit_checkin_group(db, group, N), ADMIT_OK);
    int decided = 0;
    for (size_t i = 0; i < N; i++) {
        if (scans[i].verdict == NULL) {
            assert_null(entries[i].answer);
            continue;
        }
        decided++;
        assert_verdict(entries[i].answer, scans[i].verdict, scans[i].reason);
        assert_string_equal(json_string_value(json_object_get(entries[i].answer, "nonce")),
                            reqs[i].scans[0].nonce);
    }
    assert_string_equal(json_string_value(json_object_get(entries[1].answer, "name")),
                        "Guest No 152");
    /* One scan row per decided scan, one admission per valid one, nothing for the rest. */
    char want[32];
    snprintf(want, sizeof want, "%d/%d", atoi(before) + decided, atoi(strchr(before, '/') + 1) + 3);
    assert_string_equal(pgtest_value(pg.dsn, count), want);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT string_agg(first_gate, ',' ORDER BY "
                                             "registration_id) FROM admissions WHERE "
                                             "first_gate LIKE 'Group door%'"),
                        "Group door A,Group door B,Group door A");

    /* What was left, asked again now that the group committed: the ticket is a duplicate
     * (the group's admission is visible), the nonce one for the function, which refuses it
     * (reused for another ticket, issue 14) and replays the scan the group decided with it. */
    json_t *again = NULL;
    assert_int_equal(admit_checkin_one(db, b, &reqs[2].scans[0], &ring, &again), ADMIT_OK);
    assert_verdict(again, "already_checked_in", "");
    assert_string_equal(json_string_value(json_object_get(again, "first_gate")), "Group door A");
    json_decref(again);
    assert_int_equal(admit_checkin_one(db, a, &reqs[4].scans[0], &ring, &again),
                     ADMIT_ERR_NOT_FOUND);
    json_t *general_answer = general(db, a, scans[4].body);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(general_answer, "error"), "code")),
        "nonce_reused");
    assert_null(json_object_get(general_answer, "verdict"));
    json_decref(general_answer);
    general_answer = general(db, a, scans[3].body);
    assert_verdict(general_answer, "valid", "");
    assert_true(json_is_true(json_object_get(general_answer, "replayed")));
    json_decref(general_answer);
    for (size_t i = 0; i < N; i++) {
        json_decref(entries[i].answer);
        admit_checkin_request_free(&reqs[i]);
        free(scans[i].body);
    }
    admit_db_free(db);
}

/* After an exit and a re-entry at another gate, a second entry is refused with when and where
 * the person last came in (migration 6), by both paths alike; the first entry stays known. */
static void test_latest_entry(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char a_door[ADMIT_DEVICE_HASH_SIZE], b_door[ADMIT_DEVICE_HASH_SIZE];
    (void)state;
    door(db, "Entrance A", a_door);
    door(db, "Entrance B", b_door);
    int reg = first + 20;
    char *body = scan_body(conf_id, reg, 0, NULL, "Day 1", NULL,
                           "\"scanned_at\": \"2027-10-29T08:00:00.000Z\"");
    json_t *a = one(db, a_door, body);
    assert_verdict(a, "valid", "");
    json_decref(a);
    free(body);
    body = scan_body(conf_id, reg, 0, NULL, "Day 1", NULL,
                     "\"direction\": \"exit\", \"scanned_at\": \"2027-10-29T12:00:00.000Z\"");
    a = general(db, a_door, body);
    assert_verdict(a, "valid", "");
    json_decref(a);
    free(body);
    body = scan_body(conf_id, reg, 0, NULL, "Day 1", NULL,
                     "\"scanned_at\": \"2027-10-29T13:05:00.000Z\"");
    a = general(db, b_door, body);
    assert_verdict(a, "valid", "re_entry");
    json_decref(a);
    free(body);

    body = scan_body(conf_id, reg, 0, NULL, "Day 1", NULL,
                     "\"scanned_at\": \"2027-10-29T13:30:00.000Z\"");
    a = one(db, a_door, body);
    assert_verdict(a, "already_checked_in", "");
    assert_string_equal(json_string_value(json_object_get(a, "first_at")),
                        "2027-10-29T08:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Entrance A");
    assert_string_equal(json_string_value(json_object_get(a, "entered_at")),
                        "2027-10-29T13:05:00.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "entered_gate")), "Entrance B");
    json_t *b = general(db, b_door, body);
    assert_same(a, b, "already_checked_in after a re-entry");
    json_decref(a);
    json_decref(b);
    free(body);
    /* What the sync sends an offline door: the same latest entry. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT a->>'entered_at' || ' ' || (a->>'entered_gate') FROM "
             "json_array_elements((admit_sync((SELECT token_hash FROM devices WHERE name = "
             "'Entrance A'), 'conf', NULL, '[]')).body->'admissions') a "
             "WHERE (a->>'registration_id')::int = %d",
             reg);
    assert_string_equal(pgtest_value(pg.dsn, sql), "2027-10-29T13:05:00.000Z Entrance B");
    admit_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_answers),
        cmocka_unit_test(test_left_to_the_function),
        cmocka_unit_test(test_one_group),
        cmocka_unit_test(test_latest_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
