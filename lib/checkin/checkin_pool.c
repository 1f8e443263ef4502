/* Group commit of door scans: check-in jobs of concurrent requests queue here, and a few
 * worker threads, each with its own database connection, decide them. A worker takes every job
 * waiting and sends the online entries among them to PostgreSQL as one statement and one
 * transaction (admit_checkin_group), so that eight busy doors cost the database a few commits
 * instead of eight; the rest go one by one: an entry the statement left straight to the SQL
 * function admit_checkin (admit_checkin_submit_entry: its ticket verified once, when the job was
 * made), anything else through admit_checkin_submit. */
#include "admit/checkin/checkin.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "admit/core/mem.h"

const double admit_checkin_group_size_bounds[ADMIT_CHECKIN_GROUP_SIZES] = {1, 2, 4, 8, 16, 32, 64};

struct admit_checkin_pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or the pool is stopping */
    struct admit_checkin_job *head, *tail;
    bool stopping;
    const char *dsn;
    unsigned nworkers;
    pthread_t *workers;
    struct admit_checkin_pool_stats stats;
};

void admit_checkin_job_init(struct admit_checkin_job *job, const char *token_hash,
                            const struct admit_checkin_request *req,
                            const struct admit_keyring *ring,
                            void (*done)(struct admit_checkin_job *job), void *ctx)
{
    *job = (struct admit_checkin_job){
        .token_hash = token_hash, .req = req, .ring = ring, .done = done, .ctx = ctx};
    const struct admit_checkin_scan *scan = &req->scans[0];
    job->single = !req->batch && req->count == 1 && !scan->offline && !scan->exit;
    if (job->single)
        admit_checkin_entry_init(&job->entry, token_hash, scan, ring);
}

/* The single online entries of jobs in one group statement: each decided one gets its
 * answer and rc ADMIT_OK; a database error other than a concurrent writer's conflict is its
 * job's outcome (rc); the rest stay undecided (answers NULL, rc ADMIT_ERR_NOT_FOUND). */
static size_t run_group(struct admit_db *db, struct admit_checkin_job **jobs, size_t n)
{
    struct admit_checkin_entry *group[ADMIT_CHECKIN_GROUP_MAX];
    struct admit_checkin_job *owner[ADMIT_CHECKIN_GROUP_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        jobs[i]->rc = ADMIT_ERR_NOT_FOUND;
        if (jobs[i]->single) {
            owner[k] = jobs[i];
            group[k++] = &jobs[i]->entry;
        }
    }
    if (k == 0)
        return 0;
    enum admit_rc rc = admit_checkin_group(db, group, k);
    for (size_t i = 0; i < k; i++) {
        /* A group that failed as a whole: each of its scans again, alone, so that one
         * scan's error stays its own. */
        enum admit_rc own = rc == ADMIT_OK || k == 1 ? rc : admit_checkin_group(db, &group[i], 1);
        if (own == ADMIT_OK && group[i]->answer != NULL) {
            owner[i]->answers = json_array();
            json_array_append_new(owner[i]->answers, group[i]->answer);
            group[i]->answer = NULL;
            owner[i]->rc = ADMIT_OK;
        } else if (own != ADMIT_OK && own != ADMIT_ERR_CONFLICT) {
            owner[i]->rc = own;
        }
    }
    return k;
}

static void *worker(void *arg)
{
    struct admit_checkin_pool *pool = arg;
    struct admit_db *db = admit_db_new(pool->dsn);
    struct admit_checkin_job *jobs[ADMIT_CHECKIN_GROUP_MAX];
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pool->head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->work, &pool->mu);
        if (pool->head == NULL)
            break; /* stopping, and nothing left */
        size_t n = 0;
        while (pool->head != NULL && n < ADMIT_CHECKIN_GROUP_MAX) {
            jobs[n++] = pool->head;
            pool->head = pool->head->next;
        }
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->stats.waiting -= n;
        pthread_mutex_unlock(&pool->mu);

        size_t singles = run_group(db, jobs, n);
        pthread_mutex_lock(&pool->mu);
        if (singles > 0) {
            pool->stats.groups++;
            pool->stats.scans += singles;
            if (singles > pool->stats.largest)
                pool->stats.largest = singles;
            size_t b = 0;
            while (b < ADMIT_CHECKIN_GROUP_SIZES &&
                   (double)singles > admit_checkin_group_size_bounds[b])
                b++;
            pool->stats.by_size[b]++;
        }
        pthread_mutex_unlock(&pool->mu);
        /* The group's answers first; then, one by one, what it did not decide. */
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < n; i++) {
                struct admit_checkin_job *job = jobs[i];
                if (job == NULL || (pass == 0 && job->rc == ADMIT_ERR_NOT_FOUND))
                    continue;
                /* Left by the statement: straight to admit_checkin, the ticket verified once;
                 * anything else (a batch, an exit, an upload) the general way. */
                if (pass == 1 && job->single)
                    job->rc = admit_checkin_submit_entry(db, &job->entry, job->req, &job->answers);
                else if (pass == 1)
                    job->rc = admit_checkin_submit(db, job->token_hash, job->req, job->ring,
                                                   &job->answers);
                job->db = db;
                jobs[i] = NULL;
                job->done(job); /* may free job */
            }
        }
        pthread_mutex_lock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    admit_db_free(db);
    return NULL;
}

struct admit_checkin_pool *admit_checkin_pool_new(const char *dsn, unsigned workers)
{
    struct admit_checkin_pool *pool = admit_xcalloc(1, sizeof *pool);
    if (pthread_mutex_init(&pool->mu, NULL) != 0 || pthread_cond_init(&pool->work, NULL) != 0)
        abort(); /* only without memory */
    pool->dsn = dsn;
    pool->nworkers = workers > 0 ? workers : 1;
    pool->workers = admit_xcalloc(pool->nworkers, sizeof *pool->workers);
    /* The workers take no signals: a SIGTERM meant for the program's own handling (admitd's
     * sigwait) must not land on one of them and kill the process. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < pool->nworkers; i++)
        if (pthread_create(&pool->workers[i], NULL, worker, pool) != 0)
            abort(); /* only without memory or threads: nothing to run on */
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pool;
}

bool admit_checkin_pool_submit(struct admit_checkin_pool *pool, struct admit_checkin_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->mu);
        return false;
    }
    if (pool->tail != NULL)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    pool->stats.waiting++;
    pthread_cond_signal(&pool->work);
    pthread_mutex_unlock(&pool->mu);
    return true;
}

void admit_checkin_pool_stats(struct admit_checkin_pool *pool, struct admit_checkin_pool_stats *out)
{
    pthread_mutex_lock(&pool->mu);
    *out = pool->stats;
    pthread_mutex_unlock(&pool->mu);
}

void admit_checkin_pool_close(struct admit_checkin_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    bool joined = pool->stopping;
    pool->stopping = true;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mu);
    if (joined)
        return;
    for (unsigned i = 0; i < pool->nworkers; i++)
        pthread_join(pool->workers[i], NULL);
}

void admit_checkin_pool_free(struct admit_checkin_pool *pool)
{
    if (pool == NULL)
        return;
    admit_checkin_pool_close(pool);
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->mu);
    free(pool->workers);
    free(pool);
}
