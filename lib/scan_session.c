/* The door's loop: scanning, online with an offline fallback, syncing and uploading. Opening
 * and closing a session: lib/scan_session_open.c. */
#include "scan_session_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admit/buf.h"
#include "admit/checkin.h"
#include "admit/checkin_client.h"
#include "admit/event.h"
#include "admit/mem.h"
#include "admit/scan_offline.h"
#include "admit/scan_state.h"
#include "admit/ticket.h"
#include "admit/token.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void scan_session_notify(struct admit_scan_session *s, enum admit_scan_event event, const char *fmt,
                         ...)
{
    char detail[512];
    va_list ap;
    if (s->notify == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    s->notify(s->notify_ctx, event, detail);
}

void scan_session_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *scan_session_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v != NULL ? v : "";
}

/* The journal in memory. */

static long entry_find(const struct admit_scan_session *s, const char *nonce)
{
    long i = map_get(&s->by_nonce, map_text_key(nonce));
    if (i >= 0 && strcmp(scan_session_str(s->entries[i].scan, "nonce"), nonce) == 0)
        return i;
    if (i < 0)
        return -1;
    for (size_t j = 0; j < s->nentries; j++) /* two nonces with one hash: look them all up */
        if (strcmp(scan_session_str(s->entries[j].scan, "nonce"), nonce) == 0)
            return (long)j;
    return -1;
}

static struct entry *entry_add(struct admit_scan_session *s, json_t *scan)
{
    if (s->nentries == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->entries = admit_xrealloc(s->entries, s->cap * sizeof *s->entries);
    }
    struct entry *e = &s->entries[s->nentries];
    memset(e, 0, sizeof *e);
    e->scan = json_incref(scan);
    e->door = -1;
    map_put(&s->by_nonce, map_text_key(scan_session_str(scan, "nonce")), (uint32_t)s->nentries);
    s->nentries++;
    s->pending++;
    return e;
}

static void entry_set_answer(struct entry *e, json_t *answer)
{
    json_incref(answer);
    json_decref(e->answer);
    e->answer = answer;
}

static void entry_local(struct entry *e, json_t *answer)
{
    e->door = admit_verdict_parse(scan_session_str(answer, "verdict"));
    if (!e->uploaded)
        entry_set_answer(e, answer);
}

static void entry_server(struct admit_scan_session *s, struct entry *e, json_t *answer)
{
    if (!e->uploaded) {
        e->uploaded = true;
        s->pending--;
    }
    e->gen = s->generation;
    entry_set_answer(e, answer);
}

void scan_session_on_record(void *ctx, enum admit_journal_kind kind, json_t *record)
{
    struct admit_scan_session *s = ctx;
    long i;
    switch (kind) {
    case ADMIT_JOURNAL_SCAN: {
        if (entry_find(s, scan_session_str(record, "nonce")) >= 0)
            break; /* a nonce is one scan */
        struct entry *e = entry_add(s, record);
        json_t *local = json_object_get(record, "local");
        if (local != NULL)
            entry_local(e, local);
        break;
    }
    case ADMIT_JOURNAL_LOCAL:
    case ADMIT_JOURNAL_SERVER:
        i = entry_find(s, scan_session_str(record, "nonce"));
        if (i < 0)
            break;
        if (kind == ADMIT_JOURNAL_LOCAL)
            entry_local(&s->entries[i], json_object_get(record, "answer"));
        else
            entry_server(s, &s->entries[i], json_object_get(record, "answer"));
        break;
    case ADMIT_JOURNAL_SYNC:
        s->generation++;
        break;
    }
}

static bool entry_exit(const struct entry *e)
{
    return strcmp(scan_session_str(e->scan, "direction"), "exit") == 0;
}

static const char *entry_gate(const struct admit_scan_session *s, const struct entry *e)
{
    const char *gate = json_string_value(json_object_get(e->scan, "gate"));
    return gate != NULL && gate[0] != '\0' ? gate : s->gate;
}

static void apply_entry(struct admit_scan_session *s, const struct entry *e)
{
    admit_scan_offline_apply(s->k, e->answer, scan_session_str(e->scan, "list"), entry_exit(e),
                             scan_session_str(e->scan, "scanned_at"), entry_gate(s, e));
}

void scan_session_overlay(struct admit_scan_session *s, bool all)
{
    for (size_t i = 0; i < s->nentries; i++) {
        const struct entry *e = &s->entries[i];
        if (e->answer == NULL)
            continue;
        if ((!e->uploaded && e->door >= 0) || (all && e->uploaded && e->gen == s->generation))
            apply_entry(s, e);
    }
}

static enum admit_rc journal(struct admit_scan_session *s, json_t *const *records, size_t n)
{
    enum admit_rc rc = admit_scan_state_append(s->st, records, n);
    if (rc != ADMIT_OK)
        s->io_failed = true;
    return rc;
}

/* Being online and offline. */

void scan_session_go_offline(struct admit_scan_session *s, const char *why)
{
    if (s->online) {
        s->online = false;
        s->backoff_ms = RETRY_FIRST_MS;
        scan_session_notify(s, ADMIT_SCAN_EVENT_OFFLINE, "%s", why);
    } else {
        s->backoff_ms = s->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->backoff_ms * 2;
    }
    s->retry_at_ms = now_ms() + s->backoff_ms;
}

static void go_online(struct admit_scan_session *s)
{
    if (!s->online) {
        s->online = true;
        scan_session_notify(s, ADMIT_SCAN_EVENT_ONLINE, "the server answers again");
    }
    s->backoff_ms = RETRY_FIRST_MS;
}

static enum admit_scan_link link_of(enum admit_client_status status)
{
    switch (status) {
    case ADMIT_CLIENT_OK:
        return ADMIT_SCAN_LINK_OK;
    case ADMIT_CLIENT_UNREACHABLE:
        return ADMIT_SCAN_LINK_DOWN;
    case ADMIT_CLIENT_REFUSED:
        return ADMIT_SCAN_LINK_REFUSED;
    default:
        return ADMIT_SCAN_LINK_FAILED;
    }
}

/* Syncing. */

void scan_session_count_snapshot(const json_t *snapshot, size_t *regs, size_t *adms)
{
    *regs = json_array_size(json_object_get(snapshot, "registrations"));
    *adms = json_array_size(json_object_get(snapshot, "admissions"));
}

enum admit_scan_link admit_scan_session_sync(struct admit_scan_session *s, char *why, size_t whylen)
{
    char path[32768]; /* a cursor of 8,192 characters, percent-encoded */
    json_t *answer = NULL;
    json_t *merged = NULL;
    json_t *marker = NULL;
    enum admit_scan_link link = ADMIT_SCAN_LINK_FAILED;
    const char *cursor = json_string_value(json_object_get(s->snapshot, "cursor"));
    snprintf(path, sizeof path, "/api/v1/events/");
    if (admit_checkin_client_path_append(path, sizeof path, s->slug) != 0 ||
        (size_t)snprintf(path + strlen(path), sizeof path - strlen(path), "/sync%s",
                         cursor != NULL ? "?since=" : "") >= sizeof path - strlen(path) ||
        (cursor != NULL && admit_checkin_client_path_append(path, sizeof path, cursor) != 0)) {
        scan_session_set_err(why, whylen, "the sync address is too long");
        return ADMIT_SCAN_LINK_FAILED;
    }
    link = link_of(admit_checkin_client_call(s->client, "GET", path, NULL, SYNC_TIMEOUT_MS, &answer,
                                             why, whylen));
    if (link != ADMIT_SCAN_LINK_OK)
        goto done;
    link = ADMIT_SCAN_LINK_FAILED;
    merged = json_incref(s->snapshot);
    if (admit_scan_offline_merge(&merged, answer) != ADMIT_OK) {
        scan_session_set_err(why, whylen, "the server's sync answer is malformed");
        goto done;
    }
    if (strcmp(scan_session_str(json_object_get(merged, "event"), "slug"), s->slug) != 0) {
        scan_session_set_err(why, whylen, "the server synced another event");
        goto done;
    }
    if (admit_scan_state_json_write(s->st, SNAPSHOT_FILE, merged) != ADMIT_OK) {
        s->io_failed = true;
        scan_session_set_err(why, whylen, "cannot write %s/%s: %s", admit_scan_state_dir(s->st),
                             SNAPSHOT_FILE, strerror(errno));
        goto done;
    }
    marker = json_pack("{s:s, s:s}", "t", "sync", "cursor", scan_session_str(merged, "cursor"));
    if (journal(s, &marker, 1) != ADMIT_OK) {
        scan_session_set_err(why, whylen, "cannot write the journal: %s", strerror(errno));
        goto done;
    }
    s->generation++;
    if (admit_scan_offline_load(s->k, merged) != ADMIT_OK) {
        scan_session_set_err(why, whylen, "the server's sync answer is malformed");
        goto done;
    }
    json_decref(s->snapshot);
    s->snapshot = json_incref(merged);
    scan_session_overlay(s, false);
    s->sync_due_ms = now_ms() + SYNC_EVERY_MS;
    size_t regs, adms;
    scan_session_count_snapshot(merged, &regs, &adms);
    scan_session_notify(s, ADMIT_SCAN_EVENT_SYNCED, "%zu registrations, %zu admissions", regs,
                        adms);
    link = ADMIT_SCAN_LINK_OK;
done:
    json_decref(marker);
    json_decref(merged);
    json_decref(answer);
    return link;
}

/* Uploading. */

/* The API scan of a journal entry. */
static json_t *upload_scan(const struct entry *e)
{
    json_t *scan = json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:b}", "payload", json_object_get(e->scan, "payload"), "list",
        json_object_get(e->scan, "list"), "nonce", json_object_get(e->scan, "nonce"), "direction",
        json_object_get(e->scan, "direction"), "scanned_at", json_object_get(e->scan, "scanned_at"),
        "offline", e->door >= 0);
    if (scan == NULL)
        abort();
    json_t *gate = json_object_get(e->scan, "gate");
    if (gate != NULL)
        json_object_set(scan, "gate", gate);
    if (e->door >= 0)
        json_object_set_new(scan, "door_verdict",
                            json_string(admit_verdict_name((enum admit_verdict)e->door)));
    return scan;
}

/* Uploads the entries at idx (n of them) in one request and journals the answers. */
static enum admit_scan_link upload_batch(struct admit_scan_session *s, const size_t *idx, size_t n,
                                         char *why, size_t whylen)
{
    json_t *body = json_pack("{s:[]}", "scans");
    json_t *scans = json_object_get(body, "scans");
    json_t *answer = NULL;
    json_t **records = admit_xcalloc(n, sizeof *records);
    enum admit_scan_link link = ADMIT_SCAN_LINK_FAILED;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(scans, upload_scan(&s->entries[idx[i]]));
    link = link_of(admit_checkin_client_call(s->client, "POST", "/api/v1/checkins", body,
                                             UPLOAD_TIMEOUT_MS, &answer, why, whylen));
    if (link != ADMIT_SCAN_LINK_OK)
        goto done;
    link = ADMIT_SCAN_LINK_FAILED;
    json_t *results = json_object_get(answer, "results");
    if (json_array_size(results) != n) {
        scan_session_set_err(why, whylen, "the server answered %zu results for %zu scans",
                             json_array_size(results), n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *result = json_array_get(results, i);
        const char *nonce = scan_session_str(s->entries[idx[i]].scan, "nonce");
        if (!admit_scan_answer_valid(result) ||
            strcmp(scan_session_str(result, "nonce"), nonce) != 0) {
            scan_session_set_err(why, whylen, "the server's answer for scan %s is malformed",
                                 nonce);
            goto done;
        }
        records[i] = json_pack("{s:s, s:s, s:O}", "t", "server", "nonce", nonce, "answer", result);
    }
    if (journal(s, records, n) != ADMIT_OK) {
        scan_session_set_err(why, whylen, "cannot write the journal: %s", strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        struct entry *e = &s->entries[idx[i]];
        entry_server(s, e, json_array_get(results, i));
        apply_entry(s, e);
    }
    link = ADMIT_SCAN_LINK_OK;
done:
    for (size_t i = 0; i < n; i++)
        json_decref(records[i]);
    free(records);
    json_decref(answer);
    json_decref(body);
    return link;
}

enum admit_scan_link admit_scan_session_upload(struct admit_scan_session *s,
                                               void (*progress)(void *ctx, size_t done,
                                                                size_t total),
                                               void *ctx, char *why, size_t whylen)
{
    size_t idx[UPLOAD_BATCH];
    size_t total = s->pending, done = 0;
    size_t i = 0;
    enum admit_scan_link link = ADMIT_SCAN_LINK_OK;
    scan_session_set_err(why, whylen, "%s", "");
    while (link == ADMIT_SCAN_LINK_OK && s->pending > 0) {
        size_t n = 0, bytes = 0;
        for (; i < s->nentries && n < UPLOAD_BATCH; i++) {
            const struct entry *e = &s->entries[i];
            if (e->uploaded)
                continue;
            size_t size = 256 + strlen(scan_session_str(e->scan, "payload")) +
                          strlen(scan_session_str(e->scan, "gate"));
            if (n > 0 && bytes + size > UPLOAD_MAX_BYTES)
                break;
            bytes += size;
            idx[n++] = i;
        }
        if (n == 0)
            break;
        link = upload_batch(s, idx, n, why, whylen);
        if (link == ADMIT_SCAN_LINK_OK) {
            done += n;
            if (progress != NULL)
                progress(ctx, done, total);
        }
    }
    if (done > 0)
        scan_session_notify(s, ADMIT_SCAN_EVENT_UPLOADED, "%zu scan%s", done, done == 1 ? "" : "s");
    return link;
}

/* Scanning. */

/* The scanned text as the journal keeps it: normalised, and every byte outside printable ASCII
 * (no ticket has one) replaced by '?', so that any line is valid JSON text. */
static size_t clean_line(const char *line, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(out, line, n);
    n = admit_ticket_normalize(out, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
            out[i] = '?';
    return n;
}

/* The answer handed to the caller: a copy of answer with the scan's own fields. */
static json_t *caller_answer(const json_t *answer, const json_t *scan, bool offline)
{
    json_t *out = json_deep_copy(answer);
    json_object_set_new(out, "offline", json_boolean(offline));
    json_object_set(out, "nonce", json_object_get(scan, "nonce"));
    json_object_set(out, "scanned_at", json_object_get(scan, "scanned_at"));
    json_object_set(out, "list", json_object_get(scan, "list"));
    json_object_set(out, "direction", json_object_get(scan, "direction"));
    return out;
}

enum admit_rc admit_scan_session_scan(struct admit_scan_session *s, const char *line, size_t len,
                                      json_t **answer)
{
    char text[ADMIT_CHECKIN_PAYLOAD_MAX + 1];
    char nonce[ADMIT_TOKEN_SIZE];
    char scanned_at[ADMIT_CHECKIN_TIME_SIZE];
    json_t *scan = NULL, *record = NULL, *server = NULL, *local = NULL;
    char why[512];
    enum admit_rc rc = ADMIT_ERR_NOT_FOUND;
    *answer = NULL;
    size_t n = clean_line(line, len, text, sizeof text);
    if (n == 0)
        return ADMIT_ERR_NOT_FOUND;
    admit_token_new(nonce);
    admit_checkin_time_now(scanned_at);
    scan = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "t", "scan", "nonce", nonce, "payload", text,
                     "list", s->list, "direction", s->exit ? "exit" : "entry", "scanned_at",
                     scanned_at);
    if (scan == NULL)
        abort();
    if (s->gate_given)
        json_object_set_new(scan, "gate", json_string(s->gate));

    if (s->online) {
        rc = journal(s, &scan, 1);
        if (rc != ADMIT_OK)
            goto done;
        struct entry *e = entry_add(s, scan);
        json_t *body = upload_scan(e);
        enum admit_client_status status = admit_checkin_client_call(
            s->client, "POST", "/api/v1/checkins", body, s->timeout_ms, &server, why, sizeof why);
        json_decref(body);
        if (status == ADMIT_CLIENT_OK && admit_scan_answer_valid(server)) {
            record = json_pack("{s:s, s:s, s:O}", "t", "server", "nonce", nonce, "answer", server);
            rc = journal(s, &record, 1);
            if (rc != ADMIT_OK)
                goto done;
            entry_server(s, e, server);
            apply_entry(s, e);
            *answer = caller_answer(server, scan, false);
            goto done;
        }
        if (status == ADMIT_CLIENT_REFUSED) {
            rc = ADMIT_ERR_PERMISSION;
            goto done;
        }
        if (status == ADMIT_CLIENT_OK)
            snprintf(why, sizeof why, "the server's answer is malformed");
        scan_session_go_offline(s, why);
        /* Offline from here: the scan is journaled already; its offline answer follows. */
        local = admit_scan_offline_decide(s->k, text, n, s->list, s->exit);
        record = json_pack("{s:s, s:s, s:O}", "t", "local", "nonce", nonce, "answer", local);
        rc = journal(s, &record, 1);
        if (rc != ADMIT_OK)
            goto done;
        entry_local(e, local);
        apply_entry(s, e);
        *answer = caller_answer(local, scan, true);
        goto done;
    }

    local = admit_scan_offline_decide(s->k, text, n, s->list, s->exit);
    json_object_set(scan, "local", local);
    rc = journal(s, &scan, 1);
    if (rc != ADMIT_OK)
        goto done;
    struct entry *e = entry_add(s, scan);
    entry_local(e, local);
    apply_entry(s, e);
    *answer = caller_answer(local, scan, true);
done:
    json_decref(scan);
    json_decref(record);
    json_decref(server);
    json_decref(local);
    return rc;
}

/* Background work. */

enum admit_rc admit_scan_session_tick(struct admit_scan_session *s)
{
    char why[512];
    enum admit_scan_link link = ADMIT_SCAN_LINK_OK;
    long long now = now_ms();
    if (!s->online && now < s->retry_at_ms)
        return ADMIT_OK;
    if (s->online && s->pending == 0 && now < s->sync_due_ms)
        return ADMIT_OK;
    /* Offline, uploading is the probe (it is what there is to do); with nothing to upload, a
     * sync is. Online, upload what is pending, then sync when due. */
    if (s->pending > 0)
        link = admit_scan_session_upload(s, NULL, NULL, why, sizeof why);
    if (link == ADMIT_SCAN_LINK_OK && (!s->online || now_ms() >= s->sync_due_ms))
        link = admit_scan_session_sync(s, why, sizeof why);
    if (link == ADMIT_SCAN_LINK_REFUSED)
        return ADMIT_ERR_PERMISSION;
    if (s->io_failed)
        return ADMIT_ERR_IO;
    if (link == ADMIT_SCAN_LINK_OK)
        go_online(s);
    else
        scan_session_go_offline(s, why);
    return ADMIT_OK;
}

long admit_scan_session_wait_ms(const struct admit_scan_session *s)
{
    long long now = now_ms();
    long long due = !s->online ? s->retry_at_ms : s->pending > 0 ? now : s->sync_due_ms;
    return due <= now ? 0 : (long)(due - now);
}
