/* Many threads checking in at once on a real PostgreSQL, through the check-in pool
 * (lib/checkin/checkin_pool.c) that gathers online entries into groups (admit_checkin_group) and
 * alone: a group that fails as a whole leaves each scan its own outcome, a closed pool refuses
 * jobs, and many doors scanning the same tickets at once, with copies of one nonce in flight, get
 * exactly one admission per ticket and one scan row per nonce. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#define CHECKIN_SCANS_LABEL "checkin_pool"
#include "checkin_scans.h"

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
        struct admit_error err;
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
        scanners[i] = (struct scanner){
            .tag = tag, .base = base, .device = i / 2, .backwards = i % 2 == 1, .pool = pool};
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

/* A door quiet for over a minute: the group statement leaves its scan, which goes straight to
 * admit_checkin (admit_checkin_submit_entry) and is decided there, the door recorded as seen;
 * its next scan is the group statement's again. A nonce reused for another ticket by a quiet
 * door is refused the same way. */
static void test_quiet_door(void **state)
{
    struct admit_db *db = admit_db_new(pg.dsn);
    char hash[ADMIT_DEVICE_HASH_SIZE], nonce[ADMIT_TOKEN_SIZE];
    struct manual m;
    (void)state;
    door(db, "Quiet door", hash);
    change("UPDATE devices SET last_seen_at = now() - interval '2 minutes' "
           "WHERE name = 'Quiet door'");
    struct admit_checkin_pool *pool = admit_checkin_pool_new(pg.dsn, 1);
    admit_token_new(nonce);
    manual_submit(&m, pool, hash, first + 230, nonce);
    sem_wait(&m.done);
    assert_int_equal(m.job.rc, ADMIT_OK);
    assert_verdict(json_array_get(m.job.answers, 0), "valid", "");
    json_decref(m.job.answers);
    sem_destroy(&m.done);
    assert_string_equal(pgtest_value(pg.dsn, "SELECT last_seen_at > now() - interval '1 minute' "
                                             "FROM devices WHERE name = 'Quiet door'"),
                        "t");
    struct admit_checkin_pool_stats before, after;
    admit_checkin_pool_stats(pool, &before);
    char again[ADMIT_TOKEN_SIZE];
    admit_token_new(again);
    manual_submit(&m, pool, hash, first + 230, again);
    sem_wait(&m.done);
    assert_verdict(json_array_get(m.job.answers, 0), "already_checked_in", "");
    json_decref(m.job.answers);
    sem_destroy(&m.done);
    admit_checkin_pool_stats(pool, &after);
    assert_int_equal(after.scans, before.scans + 1); /* decided by the group statement */
    /* Quiet again, and the first nonce sent with another ticket: refused, nothing written. */
    change("UPDATE devices SET last_seen_at = now() - interval '2 minutes' "
           "WHERE name = 'Quiet door'");
    manual_submit(&m, pool, hash, first + 231, nonce);
    sem_wait(&m.done);
    assert_int_equal(m.job.rc, ADMIT_OK);
    const json_t *error = json_object_get(json_array_get(m.job.answers, 0), "error");
    assert_string_equal(json_string_value(json_object_get(error, "code")), "nonce_reused");
    json_decref(m.job.answers);
    sem_destroy(&m.done);
    admit_checkin_pool_close(pool);
    admit_checkin_pool_free(pool);
    admit_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_group),
        cmocka_unit_test(test_quiet_door),
        cmocka_unit_test(test_crowd_at_the_doors),
        cmocka_unit_test(test_crowd_in_groups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
