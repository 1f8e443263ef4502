/* The door's badge queue (admit/print/badge_queue.h): a short critical section, the stop flag
 * checked under the lock, the count kept with the queue (as lib/checkin/checkin_pool.c). Each
 * badge is written beside its final name and renamed into place when complete, so that a
 * program watching the folder (a print spooler) never sees half a PDF. */
#include <cups/cups.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit/core/mem.h"
#include "admit/print/badge_queue.h"

#define NAME_MAX_LEN 96

struct job {
    char *given, *family, *organisation, *type, *qr;
    char name[NAME_MAX_LEN];
};

struct admit_badge_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t worker;
    struct job jobs[ADMIT_BADGE_QUEUE_MAX];
    unsigned head, count, failed;
    bool stopping;
    char *dir;
    char *printer;  /* NULL: files only */
    bool temporary; /* dir is ours: badges are removed once printed, dir at the end */
    char why[256];  /* the last failure (libcups' message is the worker thread's own) */
    struct admit_badge_layout layout;
};

static int write_file(void *closure, const unsigned char *data, size_t len)
{
    return fwrite(data, 1, len, closure) == len ? 0 : -1;
}

static bool write_badge(const struct admit_badge_queue *q, const struct job *j)
{
    char partial[4200], final[4200];
    struct admit_badge_doc *doc = NULL;
    struct admit_badge_doc_options alone = {false, false};
    struct admit_badge badge = {j->given, j->family, j->organisation, j->type, j->qr, ""};
    snprintf(final, sizeof final, "%s/%s.pdf", q->dir, j->name);
    snprintf(partial, sizeof partial, "%s/.%s.pdf.partial", q->dir, j->name);
    FILE *f = fopen(partial, "wb");
    if (f == NULL)
        return false;
    bool ok = admit_badge_doc_open(&doc, &q->layout, &alone, write_file, f) == ADMIT_OK;
    ok = ok && admit_badge_doc_add(doc, &badge) == ADMIT_OK;
    ok = admit_badge_doc_close(doc, NULL) == ADMIT_OK && ok;
    ok = fclose(f) == 0 && ok;
    ok = ok && rename(partial, final) == 0;
    if (!ok)
        remove(partial);
    return ok;
}

/* Hands the badge's file to the printer; the worker waits for CUPS, the scan loop never does. */
static bool print_badge(struct admit_badge_queue *q, const struct job *j, const char **why)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.pdf", q->dir, j->name);
    int job = cupsPrintFile(q->printer, path, "admit badge", 0, NULL);
    if (job == 0)
        *why = cupsLastErrorString();
    if (q->temporary)
        remove(path);
    return job != 0;
}

static void job_free(struct job *j)
{
    free(j->given);
    free(j->family);
    free(j->organisation);
    free(j->type);
    free(j->qr);
}

static void *work(void *arg)
{
    struct admit_badge_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->count == 0 && !q->stopping)
            pthread_cond_wait(&q->wake, &q->lock);
        if (q->count == 0)
            break; /* stopping, and everything is written */
        struct job j = q->jobs[q->head];
        q->head = (q->head + 1) % ADMIT_BADGE_QUEUE_MAX;
        q->count--;
        pthread_mutex_unlock(&q->lock);
        const char *why = "the badge could not be written";
        bool ok = write_badge(q, &j);
        if (ok && q->printer != NULL)
            ok = print_badge(q, &j, &why);
        job_free(&j);
        pthread_mutex_lock(&q->lock);
        q->failed += !ok;
        if (!ok)
            snprintf(q->why, sizeof q->why, "%s", why);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static void queue_free(struct admit_badge_queue *q)
{
    if (q->temporary)
        rmdir(q->dir);
    free(q->dir);
    free(q->printer);
    free(q);
}

enum admit_rc admit_badge_queue_start(const char *dir, const char *printer,
                                      const struct admit_badge_layout *layout,
                                      struct admit_badge_queue **out)
{
    struct admit_badge_queue *q = admit_xcalloc(1, sizeof *q);
    const char *tmp = getenv("TMPDIR");
    char folder[4096];
    *out = NULL;
    q->temporary = dir == NULL;
    if (dir == NULL) {
        snprintf(folder, sizeof folder, "%s/admit-badges-XXXXXX", tmp != NULL ? tmp : "/tmp");
        dir = mkdtemp(folder);
    }
    if (dir == NULL) {
        free(q);
        return ADMIT_ERR_IO;
    }
    q->dir = admit_xstrdup(dir);
    q->printer = printer != NULL ? admit_xstrdup(printer) : NULL;
    q->layout = *layout;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    if (pthread_create(&q->worker, NULL, work, q) != 0) {
        queue_free(q);
        return ADMIT_ERR_IO;
    }
    *out = q;
    return ADMIT_OK;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= NAME_MAX_LEN)
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

bool admit_badge_queue_submit(struct admit_badge_queue *q, const struct admit_badge *badge,
                              const char *name)
{
    if (!name_ok(name))
        return false;
    struct job j = {admit_xstrdup(badge->given_name),   admit_xstrdup(badge->family_name),
                    admit_xstrdup(badge->organisation), admit_xstrdup(badge->type),
                    admit_xstrdup(badge->qr_text),      ""};
    snprintf(j.name, sizeof j.name, "%s", name);
    pthread_mutex_lock(&q->lock);
    bool queued = !q->stopping && q->count < ADMIT_BADGE_QUEUE_MAX;
    if (queued) {
        q->jobs[(q->head + q->count) % ADMIT_BADGE_QUEUE_MAX] = j;
        q->count++;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->lock);
    if (!queued)
        job_free(&j);
    return queued;
}

void admit_badge_queue_stop(struct admit_badge_queue *q, unsigned *failed, const char **why)
{
    if (failed != NULL)
        *failed = 0;
    if (why != NULL)
        *why = "";
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->worker, NULL);
    if (failed != NULL)
        *failed = q->failed;
    static char last[256]; /* for the caller, after q is gone; one queue per process */
    snprintf(last, sizeof last, "%s", q->why);
    if (why != NULL)
        *why = last;
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    queue_free(q);
}
