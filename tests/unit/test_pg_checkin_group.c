/* The group statement of online entries (admit_checkin_one, admit_checkin_group,
 * sql/queries/checkin_group.sql) and the pool that gathers the groups (lib/checkin_pool.c)
 * against the general path (the SQL function admit_checkin) on a real PostgreSQL: every verdict
 * and reason it decides is the answer the function gives in the same situation; what it must
 * leave to the function (a nonce seen before, a re-entry, a device not seen for a minute, an
 * unknown token, offline and exit scans, a nonce or ticket earlier in the same group) it
 * leaves, having written nothing; a group that fails as a whole leaves each scan its own
 * outcome; and many doors scanning the same tickets at once, with copies of one nonce in
 * flight, alone or in groups, get exactly one admission per ticket and one scan row per
 * nonce. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "admit/checkin.h"
#include "admit/device.h"
#include "admit/ticket.h"
#include "checkin_fixture.h"

#define DOORS 4
#define CROWD 40
#define PEOPLE 300 /* registrations in "conf"; the one in "other" is first + PEOPLE */
#define STR_(x) #x
#define STR(x) STR_(x)

static struct pgtest pg;
static struct admit_signing_key key;
static struct admit_keyring ring;
static int conf_id, other_id;
static int first; /* the first registration of "conf" */

static int setup(void **state)
{
    (void)state;
    if (checkin_fixture_create(&pg, "checkin_group", &key, &ring, &conf_id, &other_id) != 0)
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

/* The one-statement path for body: its answer, or NULL when it left the scan (asserting then
 * that it wrote nothing). */
static json_t *one(struct admit_db *db, const char *hash, const char *body)
{
    struct admit_checkin_request req;
    struct admit_checkin_error err;
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
    struct admit_checkin_error err;
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

static void assert_verdict(json_t *a, const char *verdict, const char *reason)
{
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "verdict")), verdict);
    assert_string_equal(json_string_value(json_object_get(a, "reason")), reason);
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
    struct admit_checkin_error err;
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
    struct admit_checkin_error err;
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
    assert_string_equal(
        json_string_value(json_object_get(entries[1].answer, "name")), "Guest No 152");
    /* One scan row per decided scan, one admission per valid one, nothing for the rest. */
    char want[32];
    snprintf(want, sizeof want, "%d/%d", atoi(before) + decided,
             atoi(strchr(before, '/') + 1) + 3);
    assert_string_equal(pgtest_value(pg.dsn, count), want);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT string_agg(first_gate, ',' ORDER BY "
                                             "registration_id) FROM admissions WHERE "
                                             "first_gate LIKE 'Group door%'"),
                        "Group door A,Group door B,Group door A");

    /* What was left, asked again now that the group committed: the ticket is a duplicate
     * (the group's admission is visible), the nonce a retry for the function. */
    json_t *again = NULL;
    assert_int_equal(admit_checkin_one(db, b, &reqs[2].scans[0], &ring, &again), ADMIT_OK);
    assert_verdict(again, "already_checked_in", "");
    assert_string_equal(json_string_value(json_object_get(again, "first_gate")), "Group door A");
    json_decref(again);
    assert_int_equal(admit_checkin_one(db, a, &reqs[4].scans[0], &ring, &again),
                     ADMIT_ERR_NOT_FOUND);
    json_t *general_answer = general(db, a, scans[4].body);
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

/* A job through the pool, waited for with a semaphore. The request is hand-made: the parser
 * would refuse a short nonce; the database's CHECK does too. */
struct manual {
    struct admit_checkin_scan scan;
    struct admit_checkin_request req;
    char ticket[ADMIT_TICKET_TEXT_MAX];
    struct admit_checkin_job job;
    sem_t done;
};

static void manual_done(struct admit_checkin_job *job)
{
    struct manual *m = job->ctx;
    sem_post(&m->done);
}

static void manual_submit(struct manual *m, struct admit_checkin_pool *pool, const char *hash,
                          int reg, const char *nonce)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(admit_ticket_sign(&key, (uint32_t)conf_id, (uint32_t)reg, 0, m->ticket),
                     ADMIT_OK);
    m->scan = (struct admit_checkin_scan){.payload = m->ticket,
                                          .payload_len = strlen(m->ticket),
                                          .list = "Day 1",
                                          .nonce = nonce,
                                          .door_verdict = -1};
    admit_checkin_time_now(m->scan.scanned_at);
    m->req = (struct admit_checkin_request){.scans = &m->scan, .count = 1};
    sem_init(&m->done, 0, 0);
    admit_checkin_job_init(&m->job, hash, &m->req, &ring, manual_done, m);
    assert_true(m->job.single);
    assert_true(admit_checkin_pool_submit(pool, &m->job));
}

/* Polls the pool until check(stats) holds (10 s at most). */
static void wait_for(struct admit_checkin_pool *pool,
                     bool (*check)(const struct admit_checkin_pool_stats *))
{
    struct admit_checkin_pool_stats st;
    for (int i = 0; i < 1000; i++) {
        admit_checkin_pool_stats(pool, &st);
        if (check(&st))
            return;
        usleep(10000);
    }
    fail_msg("the pool never got there: %lu groups, %lu waiting", st.groups, st.waiting);
}
static bool none_waiting(const struct admit_checkin_pool_stats *st)
{
    return st->waiting == 0;
}

static void test_failed_group(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE];
    (void)state;
    door(db, "Pool door", hash);
    struct admit_checkin_pool *pool = admit_checkin_pool_new(pg.dsn, 1);
    int p = first + 170;
    /* Another transaction holds the first person's row: the first group (that scan alone)
     * waits in the database, and the three scans submitted meanwhile wait for the worker. */
    PGconn *holder = PQconnectdb(pg.dsn);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    char sql[200];
    snprintf(sql, sizeof sql, "BEGIN; SELECT 1 FROM registrations WHERE id = %d FOR UPDATE", p);
    PGresult *res = PQexec(holder, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    struct manual m[4];
    manual_submit(&m[0], pool, hash, p, "pool-nonce-0000");
    wait_for(pool, none_waiting);
    manual_submit(&m[1], pool, hash, p + 1, "pool-nonce-0001");
    manual_submit(&m[2], pool, hash, p + 2, "short"); /* fails the scans table's CHECK */
    manual_submit(&m[3], pool, hash, p + 3, "pool-nonce-0003");
    struct admit_checkin_pool_stats st;
    admit_checkin_pool_stats(pool, &st);
    assert_int_equal(st.waiting, 3);
    res = PQexec(holder, "COMMIT");
    PQclear(res);
    PQfinish(holder);
    for (int i = 0; i < 4; i++)
        sem_wait(&m[i].done);
    /* The second group failed as a whole on the bad nonce; each of its scans was then decided
     * alone: the bad one alone fails, the others are admitted. */
    admit_checkin_pool_stats(pool, &st);
    assert_int_equal(st.groups, 2);
    assert_int_equal(st.scans, 4);
    assert_int_equal(st.largest, 3);
    assert_int_equal(st.waiting, 0);
    int want[4] = {ADMIT_OK, ADMIT_OK, ADMIT_ERR_DB, ADMIT_OK};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(m[i].job.rc, want[i]);
        if (want[i] == ADMIT_OK)
            assert_verdict(json_array_get(m[i].job.answers, 0), "valid", "");
        else
            assert_null(m[i].job.answers);
        json_decref(m[i].job.answers);
        sem_destroy(&m[i].done);
    }
    snprintf(sql, sizeof sql,
             "SELECT string_agg(registration_id::text, ',' ORDER BY registration_id) FROM "
             "admissions WHERE registration_id BETWEEN %d AND %d",
             p, p + 3);
    char expect[64];
    snprintf(expect, sizeof expect, "%d,%d,%d", p, p + 1, p + 3);
    assert_string_equal(pgtest_value(pg.dsn, sql), expect);
    /* Closed, the pool refuses jobs and never calls their done. */
    admit_checkin_pool_close(pool);
    struct manual late;
    memset(&late, 0, sizeof late);
    late.req = (struct admit_checkin_request){.scans = &late.scan, .count = 1};
    late.scan = m[1].scan;
    sem_init(&late.done, 0, 0);
    admit_checkin_job_init(&late.job, hash, &late.req, &ring, manual_done, &late);
    assert_false(admit_checkin_pool_submit(pool, &late.job));
    assert_int_equal(sem_trywait(&late.done), -1);
    sem_destroy(&late.done);
    admit_checkin_pool_free(pool);
    admit_db_free(db);
}

static void done_post(struct admit_checkin_job *job)
{
    sem_post(job->ctx);
}

struct scanner {
    const char *tag;
    int base;   /* the crowd's first registration */
    int device; /* two scanners share each device, and so its nonces */
    char hash[ADMIT_DEVICE_HASH_SIZE];
    bool backwards;
    struct admit_checkin_pool *pool;
    int valid, replayed_valid, already, errors;
};

static void *scanner_run(void *arg)
{
    struct scanner *s = arg;
    struct admit_db *db = admit_db_new(pg.dsn);
    for (int i = 0; i < CROWD; i++) {
        int reg = s->base + (s->backwards ? CROWD - 1 - i : i);
        char nonce[40];
        snprintf(nonce, sizeof nonce, "%s-%d-%d", s->tag, s->device, reg);
        char *body = scan_body(conf_id, reg, 0, NULL, "Day 1", nonce, NULL);
        struct admit_checkin_request req;
        struct admit_checkin_error err;
        json_t *answers = NULL;
        enum admit_rc rc = ADMIT_ERR_INVALID;
        if (admit_checkin_parse(body, strlen(body), &req, &err) == ADMIT_OK) {
            if (s->pool == NULL) {
                rc = admit_checkin_submit(db, s->hash, &req, &ring, &answers);
            } else {
                struct admit_checkin_job job;
                sem_t done;
                sem_init(&done, 0, 0);
                admit_checkin_job_init(&job, s->hash, &req, &ring, done_post, &done);
                if (!admit_checkin_pool_submit(s->pool, &job))
                    fail_msg("the pool refused a job");
                sem_wait(&done);
                sem_destroy(&done);
                rc = job.rc;
                answers = job.answers;
            }
        }
        if (rc == ADMIT_OK) {
            json_t *a = json_array_get(answers, 0);
            const char *v = json_string_value(json_object_get(a, "verdict"));
            bool replayed = json_is_true(json_object_get(a, "replayed"));
            s->valid += strcmp(v, "valid") == 0 && !replayed;
            s->replayed_valid += strcmp(v, "valid") == 0 && replayed;
            s->already += strcmp(v, "already_checked_in") == 0;
        } else {
            fprintf(stderr, "scanner: %s %s\n", admit_db_sqlstate(db), admit_db_error(db));
            s->errors++;
        }
        json_decref(answers);
        admit_checkin_request_free(&req);
        free(body);
    }
    admit_db_free(db);
    return NULL;
}

/* Every ticket of CROWD people from base scanned by every scanner, one at a time, each scanner
 * with its own connection, or through pool when not NULL; the two scanners of a device send the
 * same nonce for a ticket (a retry racing its original). */
static void crowd(const char *tag, int base, struct admit_checkin_pool *pool)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    pthread_t threads[2 * DOORS];
    struct scanner scanners[2 * DOORS];
    char hashes[DOORS][ADMIT_DEVICE_HASH_SIZE];
    for (int d = 0; d < DOORS; d++) {
        char name[32];
        snprintf(name, sizeof name, "%s door %d", tag, d);
        door(db, name, hashes[d]);
    }
    for (int i = 0; i < 2 * DOORS; i++) {
        scanners[i] = (struct scanner){.tag = tag, .base = base, .device = i / 2,
                                       .backwards = i % 2 == 1, .pool = pool};
        memcpy(scanners[i].hash, hashes[i / 2], ADMIT_DEVICE_HASH_SIZE);
        pthread_create(&threads[i], NULL, scanner_run, &scanners[i]);
    }
    int valid = 0, replayed_valid = 0, already = 0;
    for (int i = 0; i < 2 * DOORS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(scanners[i].errors, 0);
        valid += scanners[i].valid;
        replayed_valid += scanners[i].replayed_valid;
        already += scanners[i].already;
    }
    /* One valid per ticket (and its copy's replay of it); everything else a duplicate. */
    assert_int_equal(valid, CROWD);
    assert_int_equal(replayed_valid, CROWD);
    assert_int_equal(already, 2 * DOORS * CROWD - 2 * CROWD);
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM admissions WHERE registration_id BETWEEN %d AND %d) "
             "|| '/' || count(*) || '/' || count(*) FILTER (WHERE verdict = 'valid') FROM scans "
             "WHERE client_nonce LIKE '%s-%%'",
             base, base + CROWD - 1, tag);
    char want[64];
    snprintf(want, sizeof want, "%d/%d/%d", CROWD, DOORS * CROWD, CROWD);
    assert_string_equal(pgtest_value(pg.dsn, sql), want);
    /* Every admission names the scan that made it, a valid one. */
    assert_string_equal(pgtest_value(pg.dsn, "SELECT count(*) FROM admissions a LEFT JOIN scans "
                                             "s ON s.id = a.first_scan_id WHERE s.verdict IS "
                                             "DISTINCT FROM 'valid'"),
                        "0");
    admit_db_free(db);
}

static void test_crowd_at_the_doors(void **state)
{
    (void)state;
    crowd("alone", first + 20, NULL);
}

static void test_crowd_in_groups(void **state)
{
    (void)state;
    for (unsigned workers = 1; workers <= 2; workers++) {
        struct admit_checkin_pool *pool = admit_checkin_pool_new(pg.dsn, workers);
        crowd(workers == 1 ? "pool1" : "pool2", first + 20 + (int)workers * CROWD, pool);
        struct admit_checkin_pool_stats st;
        admit_checkin_pool_stats(pool, &st);
        /* Eight scanners and one worker: while a group is in the database the others queue,
         * so groups of several form. */
        if (workers == 1)
            assert_true(st.largest > 1);
        assert_true(st.scans <= 2 * DOORS * CROWD && st.waiting == 0);
        admit_checkin_pool_free(pool);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_answers),
        cmocka_unit_test(test_left_to_the_function),
        cmocka_unit_test(test_one_group),
        cmocka_unit_test(test_failed_group),
        cmocka_unit_test(test_crowd_at_the_doors),
        cmocka_unit_test(test_crowd_in_groups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
