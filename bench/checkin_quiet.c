/* checkin_quiet: what a quiet door's next scan costs admitd's check-in worker, against a busy
 * door's (bench/README.md, "A quiet door's scan").
 *
 * The group statement (sql/queries/checkin_group.sql) decides the scans of doors seen within a
 * minute; a door quiet for longer is left to the SQL function admit_checkin, which records that
 * the door was seen. Both cases go through the real check-in pool (lib/checkin/checkin_pool.c),
 * one job at a time, on one connection, as admitd's worker runs them:
 *     busy   the device was seen just now: the group statement decides the scan
 *     quiet  the device was last seen two minutes ago (set before each scan, not timed): the
 *            group statement leaves the scan, and admit_checkin decides it
 * Every scan is a new admission. Rounds alternate which case goes first; each reports the median
 * microseconds of its scans, and the quiet/busy ratio of the medians.
 *
 *   checkin_quiet DSN FIRST_REGISTRATION_ID [SCANS_PER_ROUND] [ROUNDS]
 * against a database of bench/checkin_db.sh (bench/checkin_quiet.sh sets one up). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "admit/checkin/checkin.h"
#include "admit/checkin/device.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "admit/core/token.h"

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool done;
};

static void on_done(struct admit_checkin_job *job)
{
    struct waiter *w = job->ctx;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "checkin_quiet: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sql(PGconn *conn, const char *text)
{
    PGresult *res = PQexec(conn, text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        die("SQL failed", PQerrorMessage(conn));
    PQclear(res);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One scan of registration reg through the pool; its time in microseconds. */
static double scan(struct admit_checkin_pool *pool, const char *hash, struct admit_signing_key *key,
                   struct admit_keyring *ring, uint32_t event, uint32_t reg)
{
    char ticket[ADMIT_TICKET_TEXT_MAX], nonce[ADMIT_TOKEN_SIZE], body[512];
    struct admit_checkin_request req;
    struct admit_error err;
    struct admit_checkin_job job;
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    if (admit_ticket_sign(key, event, reg, 0, ticket) != ADMIT_OK)
        die("cannot sign", NULL);
    admit_token_new(nonce);
    snprintf(body, sizeof body, "{\"payload\": \"%s\", \"list\": \"Day 1\", \"nonce\": \"%s\"}",
             ticket, nonce);
    if (admit_checkin_parse(body, strlen(body), &req, &err) != ADMIT_OK)
        die("cannot parse", err.message);
    double t0 = now_us();
    admit_checkin_job_init(&job, hash, &req, ring, on_done, &w);
    if (!admit_checkin_pool_submit(pool, &job))
        die("pool closed", NULL);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.mu);
    pthread_mutex_unlock(&w.mu);
    double us = now_us() - t0;
    const char *verdict =
        json_string_value(json_object_get(json_array_get(job.answers, 0), "verdict"));
    if (job.rc != ADMIT_OK || verdict == NULL || strcmp(verdict, "valid") != 0)
        die("a scan was not admitted", admit_strerror(job.rc));
    json_decref(job.answers);
    admit_checkin_request_free(&req);
    return us;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: checkin_quiet DSN FIRST_REGISTRATION_ID [SCANS_PER_ROUND] [ROUNDS]", NULL);
    const char *dsn = argv[1];
    uint32_t reg = (uint32_t)strtoul(argv[2], NULL, 10);
    size_t per_round = argc > 3 ? strtoul(argv[3], NULL, 10) : 300;
    int rounds = argc > 4 ? atoi(argv[4]) : 5;
    struct admit_signing_key key;
    struct admit_keyring ring;
    char token[ADMIT_TOKEN_SIZE], hash[ADMIT_DEVICE_HASH_SIZE], update[256];
    enum admit_device_outcome outcome;
    int device = 0;
    if (admit_init() != ADMIT_OK)
        die("libsodium", NULL);
    admit_key_generate(&key);
    admit_keyring_init(&ring);
    admit_keyring_add_public_of(&ring, &key);
    struct admit_db *db = admit_db_new(dsn);
    PGconn *conn = PQconnectdb(dsn);
    if (PQstatus(conn) != CONNECTION_OK)
        die("cannot connect", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, "SELECT id FROM events WHERE slug = 'bench'");
    if (PQntuples(res) != 1)
        die("no event bench (bench/checkin_db.sh)", NULL);
    uint32_t event = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (admit_device_add(db, "bench", "Quiet door", token, &device, &outcome) != ADMIT_OK ||
        outcome != ADMIT_DEVICE_DONE)
        die("cannot add the device", admit_db_error(db));
    admit_device_token_hash(token, hash);
    struct admit_checkin_pool *pool = admit_checkin_pool_new(dsn, 1);
    double *busy = calloc(per_round, sizeof *busy), *quiet = calloc(per_round, sizeof *quiet);
    double busy_med[64], quiet_med[64];
    printf("round  busy us (median)  quiet us (median)  quiet/busy\n");
    for (int r = 0; r < rounds && r < 64; r++) {
        for (int pass = 0; pass < 2; pass++) {
            bool quiet_pass = (pass == 0) == (r % 2 == 1);
            for (size_t i = 0; i < per_round; i++) {
                snprintf(update, sizeof update,
                         "UPDATE devices SET last_seen_at = now() - interval '%s' WHERE id = %d",
                         quiet_pass ? "2 minutes" : "0 seconds", device);
                sql(conn, update);
                double us = scan(pool, hash, &key, &ring, event, reg++);
                (quiet_pass ? quiet : busy)[i] = us;
            }
        }
        busy_med[r] = median(busy, per_round);
        quiet_med[r] = median(quiet, per_round);
        printf("%5d  %16.0f  %17.0f  %10.2f\n", r + 1, busy_med[r], quiet_med[r],
               quiet_med[r] / busy_med[r]);
        fflush(stdout);
    }
    double b = median(busy_med, (size_t)rounds), q = median(quiet_med, (size_t)rounds);
    printf("median of rounds: busy %.0f us, quiet %.0f us, quiet/busy %.2f, quiet - busy %.0f us\n",
           b, q, q / b, q - b);
    admit_checkin_pool_close(pool);
    admit_checkin_pool_free(pool);
    admit_db_free(db);
    PQfinish(conn);
    admit_key_wipe(&key);
    admit_keyring_free(&ring);
    free(busy);
    free(quiet);
    return 0;
}
