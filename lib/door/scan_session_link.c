/* A door's link to the server, beside the scan path: whether it answers (online, offline),
 * and the background work that runs while the door waits for the next ticket: uploading the
 * scans the server has not seen, syncing what an offline door needs, and, while offline,
 * trying again with a growing wait. One background call at a time, never waited for by a
 * scan: admit_scan_session_run moves it on while the caller waits for input, and the scan path
 * only ever waits for its own call (lib/door/scan_session.c). */
#include "scan_session_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/checkin/checkin.h"
#include "admit/core/list_match.h"
#include "admit/core/mem.h"

/* Being online and offline. */

void scan_session_go_offline(struct admit_scan_session *s, const char *why)
{
    s->reachable = false;
    if (s->link != LINK_OFFLINE) {
        s->link = LINK_OFFLINE;
        s->backoff_ms = RETRY_FIRST_MS;
        /* A background call started while the server answered has a long time limit: the next
         * try must not wait behind it. */
        scan_session_cancel_job(s);
        scan_session_notify(s, ADMIT_SCAN_EVENT_OFFLINE, "%s", why);
    } else {
        s->backoff_ms = s->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->backoff_ms * 2;
    }
    s->next_try_ms = scan_session_now_ms() + s->backoff_ms;
}

void scan_session_go_online(struct admit_scan_session *s)
{
    if (s->link == LINK_ONLINE)
        return;
    enum scan_link was = s->link;
    s->link = LINK_ONLINE;
    s->backoff_ms = RETRY_FIRST_MS;
    if (was == LINK_OFFLINE)
        scan_session_notify(s, ADMIT_SCAN_EVENT_ONLINE, "the server answers again");
    else
        scan_session_notify(s, ADMIT_SCAN_EVENT_CONNECTED, "the server answers");
}

static enum admit_scan_link link_of(enum admit_client_status status)
{
    switch (status) {
    case ADMIT_CLIENT_OK:
        return ADMIT_SCAN_LINK_OK;
    case ADMIT_CLIENT_UNREACHABLE:
    case ADMIT_CLIENT_UNAVAILABLE:
        return ADMIT_SCAN_LINK_DOWN;
    case ADMIT_CLIENT_REFUSED:
        return ADMIT_SCAN_LINK_REFUSED;
    default:
        return ADMIT_SCAN_LINK_FAILED;
    }
}

/* The list. */

const char *scan_session_list_name(const struct admit_scan_session *s, const char *typed)
{
    const json_t *lists = json_object_get(s->snapshot, "lists");
    size_t n = json_array_size(lists), index = 0;
    const char *names[64];
    if (n == 0 || n > sizeof names / sizeof names[0])
        return typed;
    for (size_t i = 0; i < n; i++)
        names[i] = scan_session_str(json_array_get(lists, i), "name");
    return admit_list_match(names, n, typed, &index) == ADMIT_OK ? names[index] : typed;
}

enum admit_rc scan_session_resolve_list(struct admit_scan_session *s, struct admit_error *err)
{
    const json_t *lists = json_object_get(s->snapshot, "lists");
    size_t n = json_array_size(lists), index = 0;
    const char **names = admit_xcalloc(n + 1, sizeof *names);
    struct admit_buf shown;
    admit_buf_init(&shown, 2048);
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        names[i] = scan_session_str(json_array_get(lists, i), "name");
        /* Numbered as --list accepts them; a list of lists too long to show is cut short. */
        if (fits)
            fits = admit_buf_printf(&shown, "%s%zu. \"%s\"", i ? ", " : "", i + 1, names[i]) ==
                   ADMIT_OK;
    }
    enum admit_rc rc = admit_list_match(names, n, s->list_given, &index);
    if (rc == ADMIT_OK) {
        free(s->list);
        s->list = admit_xstrdup(names[index]);
        s->list_known = true;
    } else if (rc == ADMIT_ERR_CONFLICT) {
        admit_error_set(err,
                        "--list \"%s\" could be several check-in lists of event %s: give "
                        "its number or its exact name (its lists: %s)",
                        s->list_given, s->slug, admit_buf_cstr(&shown));
    } else {
        admit_error_set(err, "event %s has no check-in list \"%s\" (its lists: %s)", s->slug,
                        s->list_given, admit_buf_cstr(&shown));
    }
    admit_buf_free(&shown);
    free(names);
    return rc;
}

/* Syncing. */

void scan_session_set_gate(struct admit_scan_session *s)
{
    const char *name = scan_session_str(json_object_get(s->snapshot, "device"), "name");
    if (s->gate_given || name[0] == '\0')
        return;
    free(s->gate);
    s->gate = admit_xstrdup(name);
}

void scan_session_count_snapshot(const json_t *snapshot, size_t *regs, size_t *adms)
{
    *regs = json_array_size(json_object_get(snapshot, "registrations"));
    *adms = json_array_size(json_object_get(snapshot, "admissions"));
}

/* Starts the sync call as the background job, within timeout_ms. */
static void start_sync(struct admit_scan_session *s, long timeout_ms)
{
    char path[32768]; /* a cursor of 8,192 characters, percent-encoded */
    const char *cursor = json_string_value(json_object_get(s->snapshot, "cursor"));
    size_t used;
    snprintf(path, sizeof path, "/api/v1/events/");
    if (admit_checkin_client_path_append(path, sizeof path, s->slug) != 0)
        path[0] = '\0'; /* a slug is short: cannot happen */
    used = strlen(path);
    snprintf(path + used, sizeof path - used, "/sync");
    /* A cursor too long to send (the snapshot's check bounds it, so never) syncs everything. */
    if (cursor != NULL && strlen(path) + 7 < sizeof path) {
        used = strlen(path);
        memcpy(path + used, "?since=", 8);
        if (admit_checkin_client_path_append(path, sizeof path, cursor) != 0)
            path[used] = '\0';
    }
    s->job.kind = JOB_SYNC;
    s->job.n = 0;
    s->job.answers_before = s->answers;
    s->job.call = admit_checkin_client_start(s->client, "GET", path, NULL, timeout_ms);
}

/* Saves the sync answer: merged into the snapshot, written, journaled, loaded. */
static enum admit_scan_link save_sync(struct admit_scan_session *s, const json_t *answer,
                                      struct admit_error *why)
{
    json_t *merged = json_incref(s->snapshot);
    json_t *marker = NULL;
    enum admit_scan_link link = ADMIT_SCAN_LINK_FAILED;
    if (admit_scan_offline_merge(&merged, answer) != ADMIT_OK) {
        admit_error_set(why, "the server's sync answer is malformed");
        goto done;
    }
    if (strcmp(scan_session_str(json_object_get(merged, "event"), "slug"), s->slug) != 0) {
        admit_error_set(why, "the server synced another event");
        goto done;
    }
    if (admit_scan_state_json_write(s->st, SNAPSHOT_FILE, merged) != ADMIT_OK) {
        s->io_failed = true;
        s->io_errno = errno;
        admit_error_set(why, "cannot write %s/%s: %s", admit_scan_state_dir(s->st), SNAPSHOT_FILE,
                        strerror(errno));
        goto done;
    }
    marker = json_pack("{s:s, s:s, s:I}", "t", "sync", "cursor", scan_session_str(merged, "cursor"),
                       "answered", (json_int_t)s->job.answers_before);
    if (scan_session_journal(s, &marker, 1) != ADMIT_OK) {
        admit_error_set(why, "cannot write the journal: %s", strerror(errno));
        goto done;
    }
    scan_session_synced(s, (long long)s->job.answers_before);
    if (admit_scan_offline_load(s->k, merged) != ADMIT_OK) {
        admit_error_set(why, "the server's sync answer is malformed");
        goto done;
    }
    json_decref(s->snapshot);
    s->snapshot = json_incref(merged);
    scan_session_set_gate(s);
    /* The first sync of a door that never synced names its list, or says it has none. */
    if (!s->list_known && s->list_given[0] != '\0') {
        enum admit_rc rc = scan_session_resolve_list(s, &s->fatal_why);
        if (rc != ADMIT_OK)
            s->fatal = rc;
    }
    scan_session_overlay(s, true);
    s->sync_due_ms = scan_session_now_ms() + SYNC_EVERY_MS;
    size_t regs, adms;
    scan_session_count_snapshot(merged, &regs, &adms);
    scan_session_notify(s, ADMIT_SCAN_EVENT_SYNCED, "%zu registrations, %zu admissions", regs,
                        adms);
    link = ADMIT_SCAN_LINK_OK;
done:
    json_decref(marker);
    json_decref(merged);
    return link;
}

/* Probing. */

static void start_probe(struct admit_scan_session *s)
{
    s->job.kind = JOB_PROBE;
    s->job.n = 0;
    s->job.call =
        admit_checkin_client_start(s->client, "GET", "/api/v1/device", NULL, PROBE_TIMEOUT_MS);
}

/* Uploading. */

/* Starts the upload of the next batch of pending scans as the background job. Starts nothing
 * (job.kind stays JOB_NONE) when nothing is pending. */
static void start_upload(struct admit_scan_session *s, long timeout_ms)
{
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < s->nentries && n < UPLOAD_BATCH; i++) {
        const struct entry *e = &s->entries[i];
        if (e->uploaded)
            continue;
        size_t size = 256 + strlen(scan_session_str(e->scan, "payload")) +
                      strlen(scan_session_str(e->scan, "gate"));
        if (n > 0 && bytes + size > UPLOAD_MAX_BYTES)
            break;
        bytes += size;
        s->job.idx[n++] = i;
    }
    if (n == 0)
        return;
    json_t *body = json_pack("{s:[]}", "scans");
    json_t *scans = json_object_get(body, "scans");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(scans, scan_session_api_scan(s, &s->entries[s->job.idx[i]]));
    s->job.kind = JOB_UPLOAD;
    s->job.n = n;
    s->job.call =
        admit_checkin_client_start(s->client, "POST", "/api/v1/checkins", body, timeout_ms);
    json_decref(body);
}

/* Journals the server's answers to the job's scans and lays them over the knowledge. */
static enum admit_scan_link save_upload(struct admit_scan_session *s, const json_t *answer,
                                        struct admit_error *why)
{
    size_t n = s->job.n;
    json_t **records = admit_xcalloc(n, sizeof *records);
    enum admit_scan_link link = ADMIT_SCAN_LINK_FAILED;
    json_t *results = json_object_get(answer, "results");
    if (json_array_size(results) != n) {
        admit_error_set(why, "the server answered %zu results for %zu scans",
                        json_array_size(results), n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *result = json_array_get(results, i);
        const char *nonce = scan_session_str(s->entries[s->job.idx[i]].scan, "nonce");
        if (!scan_session_answer_matches(result, nonce)) {
            admit_error_set(why, "the server's answer for scan %s is malformed", nonce);
            goto done;
        }
        records[i] = json_pack("{s:s, s:s, s:o}", "t", "server", "nonce", nonce, "answer",
                               scan_session_journal_answer(result));
    }
    if (scan_session_journal(s, records, n) != ADMIT_OK) {
        admit_error_set(why, "cannot write the journal: %s", strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        scan_session_entry_answered(s, &s->entries[s->job.idx[i]], json_array_get(results, i));
    s->uploaded += n;
    link = ADMIT_SCAN_LINK_OK;
done:
    for (size_t i = 0; i < n; i++)
        json_decref(records[i]);
    free(records);
    return link;
}

/* The background job. */

void scan_session_cancel_job(struct admit_scan_session *s)
{
    admit_client_call_free(s->job.call);
    s->job.call = NULL;
    s->job.kind = JOB_NONE;
    s->job.n = 0;
}

/* Ends the finished job: its answer saved; the job slot is free again. */
static enum admit_scan_link finish_job(struct admit_scan_session *s, struct admit_error *why)
{
    json_t *answer = NULL;
    enum admit_scan_link link = link_of(admit_client_call_result(s->job.call, &answer, why));
    if (link == ADMIT_SCAN_LINK_OK && s->job.kind == JOB_SYNC)
        link = save_sync(s, answer, why);
    else if (link == ADMIT_SCAN_LINK_OK && s->job.kind == JOB_UPLOAD)
        link = save_upload(s, answer, why);
    json_decref(answer);
    scan_session_cancel_job(s);
    if (s->uploaded > 0 && s->pending == 0) {
        scan_session_notify(s, ADMIT_SCAN_EVENT_UPLOADED, "%zu scan%s", s->uploaded,
                            s->uploaded == 1 ? "" : "s");
        s->uploaded = 0;
    }
    return link;
}

/* A background call's time limit (see scan_session_impl.h). */
static long job_timeout(const struct admit_scan_session *s, enum job_kind kind)
{
    if (kind == JOB_SYNC && s->snapshot == NULL)
        return SYNC_TIMEOUT_MS;
    if (s->link != LINK_ONLINE)
        return RECOVER_TIMEOUT_MS;
    return kind == JOB_SYNC ? SYNC_TIMEOUT_MS : UPLOAD_TIMEOUT_MS;
}

void scan_session_schedule(struct admit_scan_session *s)
{
    long long now = scan_session_now_ms();
    if (s->job.kind != JOB_NONE || s->fatal != ADMIT_OK || s->io_failed)
        return;
    if (s->link == LINK_OFFLINE && now < s->next_try_ms)
        return;
    if (s->link == LINK_OFFLINE && !s->reachable)
        start_probe(s);
    /* Never synced: the sync first, which names the lists the scans are uploaded with. */
    else if (s->pending > 0 && s->snapshot != NULL)
        start_upload(s, job_timeout(s, JOB_UPLOAD));
    else if (s->snapshot == NULL || s->link != LINK_ONLINE || now >= s->sync_due_ms)
        start_sync(s, job_timeout(s, JOB_SYNC));
}

void scan_session_reap(struct admit_scan_session *s)
{
    struct admit_error why;
    if (s->job.kind == JOB_NONE || !admit_client_call_done(s->job.call))
        return;
    enum job_kind kind = s->job.kind;
    long ms = admit_client_call_ms(s->job.call);
    enum admit_scan_link link = finish_job(s, &why);
    if (link == ADMIT_SCAN_LINK_REFUSED) {
        s->fatal = ADMIT_ERR_PERMISSION;
        admit_error_set(&s->fatal_why, "the server refused this device token (unknown or revoked)");
        return;
    }
    if (s->io_failed)
        return;
    if (link != ADMIT_SCAN_LINK_OK) {
        scan_session_go_offline(s, why.message);
        return;
    }
    if (kind == JOB_PROBE) {
        s->reachable = true;
        return;
    }
    if (s->fatal != ADMIT_OK)
        return;
    /* Online again only after a try answered within a scan's budget (a server that answers in
     * two seconds would make every scan wait for it) and with every scan uploaded. */
    if (kind == JOB_SYNC && s->link != LINK_ONLINE) {
        if (ms > s->timeout_ms) {
            char slow[128];
            snprintf(slow, sizeof slow, "the server answers too slowly (%ld ms)", ms);
            scan_session_go_offline(s, slow);
        } else if (s->pending == 0) {
            scan_session_go_online(s);
        }
    }
}

/* How long the session may wait before background work falls due; -1: when the running call
 * moves (its socket wakes the wait). */
static long idle_ms(const struct admit_scan_session *s)
{
    long long now = scan_session_now_ms(), due;
    if (s->job.kind != JOB_NONE || s->fatal != ADMIT_OK || s->io_failed)
        return -1;
    if (s->link == LINK_OFFLINE)
        due = s->next_try_ms;
    else if (s->pending > 0 || s->link == LINK_UNKNOWN)
        due = now;
    else
        due = s->sync_due_ms;
    return due <= now ? 0 : (long)(due - now);
}

/* The error that ends the session, if any, into err. */
static enum admit_rc fatal_error(struct admit_scan_session *s, struct admit_error *err)
{
    if (s->io_failed) {
        admit_error_set(err, "cannot write the state in %s (%s)", admit_scan_state_dir(s->st),
                        strerror(s->io_errno));
        return ADMIT_ERR_IO;
    }
    if (s->fatal != ADMIT_OK && err != NULL)
        *err = s->fatal_why;
    return s->fatal;
}

enum admit_rc admit_scan_session_run(struct admit_scan_session *s, int fd, long max_ms, bool *ready,
                                     struct admit_error *err)
{
    *ready = false;
    admit_error_clear(err);
    scan_session_reap(s);
    scan_session_schedule(s);
    if (fatal_error(s, NULL) != ADMIT_OK)
        return fatal_error(s, err);
    long wait = idle_ms(s);
    if (wait < 0 || wait > max_ms)
        wait = max_ms;
    *ready = admit_checkin_client_wait(s->client, fd, wait);
    scan_session_reap(s);
    scan_session_schedule(s);
    return fatal_error(s, err);
}

size_t admit_scan_session_finish(struct admit_scan_session *s, long max_ms)
{
    bool ready;
    long long deadline = scan_session_now_ms() + max_ms;
    /* What is under way may finish (a door's first sync, the upload of its last scans); nothing
     * new is tried once the server has failed. */
    for (long long now = scan_session_now_ms();
         s->link != LINK_OFFLINE && (s->job.kind != JOB_NONE || s->pending > 0) && now < deadline;
         now = scan_session_now_ms()) {
        if (admit_scan_session_run(s, -1, (long)(deadline - now), &ready, NULL) != ADMIT_OK)
            break;
    }
    return s->pending;
}

/* Waits until the job's call is done or deadline_ms has passed; false when time ran out (the
 * job is cancelled then, and why says so). */
static bool wait_job(struct admit_scan_session *s, long long deadline_ms, struct admit_error *why)
{
    for (long long now = scan_session_now_ms(); !admit_client_call_done(s->job.call);
         now = scan_session_now_ms()) {
        if (now >= deadline_ms) {
            admit_error_set(why, "no answer within %ld ms", admit_client_call_ms(s->job.call));
            scan_session_cancel_job(s);
            return false;
        }
        admit_checkin_client_wait(s->client, -1, (long)(deadline_ms - now));
    }
    return true;
}

static long remaining(long long deadline_ms, long limit)
{
    long long left = deadline_ms - scan_session_now_ms();
    return left < limit ? (long)(left > 1 ? left : 1) : limit;
}

enum admit_scan_link admit_scan_session_upload(struct admit_scan_session *s,
                                               void (*progress)(void *ctx, size_t done,
                                                                size_t total),
                                               void *ctx, long timeout_ms, struct admit_error *why)
{
    long long deadline = scan_session_now_ms() + timeout_ms;
    size_t total = s->pending, done = 0;
    enum admit_scan_link link = ADMIT_SCAN_LINK_OK;
    admit_error_clear(why);
    scan_session_cancel_job(s);
    while (link == ADMIT_SCAN_LINK_OK && s->pending > 0) {
        start_upload(s, remaining(deadline, UPLOAD_TIMEOUT_MS));
        if (s->job.kind == JOB_NONE)
            break;
        size_t n = s->job.n;
        if (!wait_job(s, deadline, why))
            return ADMIT_SCAN_LINK_DOWN;
        link = finish_job(s, why);
        if (link == ADMIT_SCAN_LINK_OK) {
            done += n;
            if (progress != NULL)
                progress(ctx, done, total);
        }
    }
    return link;
}

enum admit_scan_link admit_scan_session_sync(struct admit_scan_session *s, long timeout_ms,
                                             struct admit_error *why)
{
    long long deadline = scan_session_now_ms() + timeout_ms;
    admit_error_clear(why);
    scan_session_cancel_job(s);
    start_sync(s, remaining(deadline, SYNC_TIMEOUT_MS));
    if (!wait_job(s, deadline, why))
        return ADMIT_SCAN_LINK_DOWN;
    return finish_job(s, why);
}
