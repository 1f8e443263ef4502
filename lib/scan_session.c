#include "admit/scan_session.h"

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
#include "scan_map.h"

#define SNAPSHOT_FILE "snapshot.json"
#define DEVICE_FILE   "device.json"

/* Scans per upload request, and their JSON at most (admitd's default body limit is 64 KiB). */
#define UPLOAD_BATCH      100
#define UPLOAD_MAX_BYTES  (32u << 10)
#define UPLOAD_TIMEOUT_MS 10000L
#define SYNC_TIMEOUT_MS   30000L
#define SYNC_EVERY_MS     30000LL
#define RETRY_FIRST_MS    1000L
#define RETRY_MAX_MS      10000L

struct entry {
    json_t *scan;   /* the scan record */
    json_t *answer; /* the server's answer, else the offline one, else NULL */
    int door;       /* the offline verdict shown at the door (enum admit_verdict), or -1 */
    int gen;        /* the sync generation in which the server's answer was journaled */
    bool uploaded;  /* the server answered it */
};

struct admit_scan_session {
    char *list;
    char *gate; /* the effective gate: --gate, else the device's name; "" if unknown */
    bool gate_given;
    char *slug;
    bool exit;
    long timeout_ms;
    void (*notify)(void *ctx, enum admit_scan_event event, const char *detail);
    void *notify_ctx;

    struct admit_scan_state *st;
    struct admit_checkin_client *client;
    struct admit_scan_offline *k;
    json_t *snapshot; /* what k was loaded from, or NULL before the first sync */

    struct entry *entries;
    size_t nentries, cap;
    struct map by_nonce;
    size_t pending;
    int generation; /* sync records seen in the journal */

    bool online;
    long long retry_at_ms;
    long backoff_ms;
    long long sync_due_ms;
    bool io_failed; /* the journal or the snapshot could not be written */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void notify(struct admit_scan_session *s, enum admit_scan_event event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void notify(struct admit_scan_session *s, enum admit_scan_event event, const char *fmt, ...)
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

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v != NULL ? v : "";
}

/* The journal in memory. */

static long entry_find(const struct admit_scan_session *s, const char *nonce)
{
    long i = map_get(&s->by_nonce, map_text_key(nonce));
    if (i >= 0 && strcmp(str(s->entries[i].scan, "nonce"), nonce) == 0)
        return i;
    if (i < 0)
        return -1;
    for (size_t j = 0; j < s->nentries; j++) /* two nonces with one hash: look them all up */
        if (strcmp(str(s->entries[j].scan, "nonce"), nonce) == 0)
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
    map_put(&s->by_nonce, map_text_key(str(scan, "nonce")), (uint32_t)s->nentries);
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
    e->door = admit_verdict_parse(str(answer, "verdict"));
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

static void on_record(void *ctx, enum admit_journal_kind kind, json_t *record)
{
    struct admit_scan_session *s = ctx;
    long i;
    switch (kind) {
    case ADMIT_JOURNAL_SCAN: {
        if (entry_find(s, str(record, "nonce")) >= 0)
            break; /* a nonce is one scan */
        struct entry *e = entry_add(s, record);
        json_t *local = json_object_get(record, "local");
        if (local != NULL)
            entry_local(e, local);
        break;
    }
    case ADMIT_JOURNAL_LOCAL:
    case ADMIT_JOURNAL_SERVER:
        i = entry_find(s, str(record, "nonce"));
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
    return strcmp(str(e->scan, "direction"), "exit") == 0;
}

static const char *entry_gate(const struct admit_scan_session *s, const struct entry *e)
{
    const char *gate = json_string_value(json_object_get(e->scan, "gate"));
    return gate != NULL && gate[0] != '\0' ? gate : s->gate;
}

static void apply_entry(struct admit_scan_session *s, const struct entry *e)
{
    admit_scan_offline_apply(s->k, e->answer, str(e->scan, "list"), entry_exit(e),
                             str(e->scan, "scanned_at"), entry_gate(s, e));
}

/* Lays this device's scans that the snapshot cannot know over it: those the server has not
 * answered (decided offline), and, when all is set, those it answered after the last sync. */
static void overlay(struct admit_scan_session *s, bool all)
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

static void go_offline(struct admit_scan_session *s, const char *why)
{
    if (s->online) {
        s->online = false;
        s->backoff_ms = RETRY_FIRST_MS;
        notify(s, ADMIT_SCAN_EVENT_OFFLINE, "%s", why);
    } else {
        s->backoff_ms = s->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->backoff_ms * 2;
    }
    s->retry_at_ms = now_ms() + s->backoff_ms;
}

static void go_online(struct admit_scan_session *s)
{
    if (!s->online) {
        s->online = true;
        notify(s, ADMIT_SCAN_EVENT_ONLINE, "the server answers again");
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

static void count_snapshot(const json_t *snapshot, size_t *regs, size_t *adms)
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
        set_err(why, whylen, "the sync address is too long");
        return ADMIT_SCAN_LINK_FAILED;
    }
    link = link_of(admit_checkin_client_call(s->client, "GET", path, NULL, SYNC_TIMEOUT_MS, &answer,
                                             why, whylen));
    if (link != ADMIT_SCAN_LINK_OK)
        goto done;
    link = ADMIT_SCAN_LINK_FAILED;
    merged = json_incref(s->snapshot);
    if (admit_scan_offline_merge(&merged, answer) != ADMIT_OK) {
        set_err(why, whylen, "the server's sync answer is malformed");
        goto done;
    }
    if (strcmp(str(json_object_get(merged, "event"), "slug"), s->slug) != 0) {
        set_err(why, whylen, "the server synced another event");
        goto done;
    }
    if (admit_scan_state_json_write(s->st, SNAPSHOT_FILE, merged) != ADMIT_OK) {
        s->io_failed = true;
        set_err(why, whylen, "cannot write %s/%s: %s", admit_scan_state_dir(s->st), SNAPSHOT_FILE,
                strerror(errno));
        goto done;
    }
    marker = json_pack("{s:s, s:s}", "t", "sync", "cursor", str(merged, "cursor"));
    if (journal(s, &marker, 1) != ADMIT_OK) {
        set_err(why, whylen, "cannot write the journal: %s", strerror(errno));
        goto done;
    }
    s->generation++;
    if (admit_scan_offline_load(s->k, merged) != ADMIT_OK) {
        set_err(why, whylen, "the server's sync answer is malformed");
        goto done;
    }
    json_decref(s->snapshot);
    s->snapshot = json_incref(merged);
    overlay(s, false);
    s->sync_due_ms = now_ms() + SYNC_EVERY_MS;
    size_t regs, adms;
    count_snapshot(merged, &regs, &adms);
    notify(s, ADMIT_SCAN_EVENT_SYNCED, "%zu registrations, %zu admissions", regs, adms);
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
        set_err(why, whylen, "the server answered %zu results for %zu scans",
                json_array_size(results), n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *result = json_array_get(results, i);
        const char *nonce = str(s->entries[idx[i]].scan, "nonce");
        if (!admit_scan_answer_valid(result) || strcmp(str(result, "nonce"), nonce) != 0) {
            set_err(why, whylen, "the server's answer for scan %s is malformed", nonce);
            goto done;
        }
        records[i] = json_pack("{s:s, s:s, s:O}", "t", "server", "nonce", nonce, "answer", result);
    }
    if (journal(s, records, n) != ADMIT_OK) {
        set_err(why, whylen, "cannot write the journal: %s", strerror(errno));
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
    set_err(why, whylen, "%s", "");
    while (link == ADMIT_SCAN_LINK_OK && s->pending > 0) {
        size_t n = 0, bytes = 0;
        for (; i < s->nentries && n < UPLOAD_BATCH; i++) {
            const struct entry *e = &s->entries[i];
            if (e->uploaded)
                continue;
            size_t size = 256 + strlen(str(e->scan, "payload")) + strlen(str(e->scan, "gate"));
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
        notify(s, ADMIT_SCAN_EVENT_UPLOADED, "%zu scan%s", done, done == 1 ? "" : "s");
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
        go_offline(s, why);
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
        go_offline(s, why);
    return ADMIT_OK;
}

long admit_scan_session_wait_ms(const struct admit_scan_session *s)
{
    long long now = now_ms();
    long long due = !s->online ? s->retry_at_ms : s->pending > 0 ? now : s->sync_due_ms;
    return due <= now ? 0 : (long)(due - now);
}

/* Opening. */

/* The event of the folder name "KEY_slug" with prefix "KEY_". */
static const char *slug_of(const char *folder, const char *prefix)
{
    return folder + strlen(prefix);
}

/* Finds the folder of cfg: into *slug (a new string) and the whoami answer into *device (when the
 * server was asked). */
static enum admit_rc find_event(const struct admit_scan_config *cfg, const char *root,
                                const char *key, struct admit_checkin_client *client, char **slug,
                                json_t **device, char *err, size_t errlen)
{
    char prefix[ADMIT_CLIENT_SERVER_KEY_SIZE + 1];
    char why[512];
    char **names = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    long timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1500;
    why[0] = '\0';
    *slug = NULL;
    *device = NULL;
    snprintf(prefix, sizeof prefix, "%s_", key);
    if (cfg->event != NULL) {
        if (!admit_event_slug_valid(cfg->event)) {
            set_err(err, errlen, "--event \"%s\" is not an event slug", cfg->event);
            return ADMIT_ERR_INVALID;
        }
        *slug = admit_xstrdup(cfg->event);
        return ADMIT_OK;
    }
    if (cfg->token != NULL) {
        json_t *answer = NULL;
        enum admit_client_status status = admit_checkin_client_call(
            client, "GET", "/api/v1/device", NULL, timeout_ms, &answer, why, sizeof why);
        const char *event =
            json_string_value(json_object_get(json_object_get(answer, "event"), "slug"));
        if (status == ADMIT_CLIENT_OK && event != NULL && admit_event_slug_valid(event)) {
            *slug = admit_xstrdup(event);
            *device = answer;
            return ADMIT_OK;
        }
        json_decref(answer);
        if (status == ADMIT_CLIENT_REFUSED) {
            set_err(err, errlen, "the server refused this device token (unknown or revoked)");
            return ADMIT_ERR_PERMISSION;
        }
        if (status != ADMIT_CLIENT_UNREACHABLE) {
            set_err(err, errlen, "cannot learn this token's event from %s: %s", cfg->server, why);
            return ADMIT_ERR_INVALID;
        }
    }
    if (admit_scan_state_find(root, prefix, &names) != ADMIT_OK) {
        set_err(err, errlen, "cannot list %s: %s", root, strerror(errno));
        return ADMIT_ERR_IO;
    }
    size_t count = 0;
    for (size_t i = 0; names[i] != NULL; i++) {
        char token[ADMIT_TOKEN_SIZE];
        struct admit_buf dir;
        admit_buf_init(&dir, 8192);
        enum admit_rc peek = ADMIT_ERR_NOT_FOUND;
        if (admit_event_slug_valid(slug_of(names[i], prefix)) &&
            admit_buf_printf(&dir, "%s/%s", root, names[i]) == ADMIT_OK)
            peek = admit_scan_state_peek_token(admit_buf_cstr(&dir), token);
        /* A token file others may read still marks a set-up folder: opening it says so. */
        if ((peek == ADMIT_OK &&
             (cfg->token == NULL || sodium_memcmp(token, cfg->token, ADMIT_TOKEN_SIZE) == 0)) ||
            (peek == ADMIT_ERR_PERMISSION && cfg->token == NULL)) {
            if (count++ == 0)
                *slug = admit_xstrdup(slug_of(names[i], prefix));
        }
        sodium_memzero(token, sizeof token);
        admit_buf_free(&dir);
    }
    if (count == 1) {
        rc = ADMIT_OK;
    } else if (count > 1) {
        set_err(err, errlen,
                "this computer scans for several events of %s: choose one with "
                "--event SLUG",
                cfg->server);
    } else if (cfg->token != NULL) {
        set_err(err, errlen, "cannot reach %s to set this device up (%s); connect once first",
                cfg->server, why);
        rc = ADMIT_ERR_NOT_FOUND;
    } else {
        set_err(err, errlen,
                "no scanner is set up here for %s: give the device token once "
                "with --token or ADMIT_SCAN_TOKEN",
                cfg->server);
    }
    if (rc != ADMIT_OK) {
        free(*slug);
        *slug = NULL;
    }
    admit_scan_state_names_free(names);
    return rc;
}

/* The lists of the snapshot as "Day 1, Day 2" into out. */
static void list_names(const json_t *snapshot, char *out, size_t outlen)
{
    size_t i, used = 0;
    const json_t *l;
    out[0] = '\0';
    json_array_foreach(json_object_get(snapshot, "lists"), i, l)
    {
        int w = snprintf(out + used, outlen - used, "%s\"%s\"", i ? ", " : "", str(l, "name"));
        if (w < 0 || (size_t)w >= outlen - used)
            break;
        used += (size_t)w;
    }
}

static void set_gate(struct admit_scan_session *s, const struct admit_scan_config *cfg)
{
    const char *name = str(json_object_get(s->snapshot, "device"), "name");
    if (s->gate_given)
        return;
    free(s->gate);
    s->gate = admit_xstrdup(cfg->gate != NULL ? cfg->gate : name);
}

enum admit_rc admit_scan_session_open(const struct admit_scan_config *cfg, bool connect,
                                      struct admit_scan_session **out, char *err, size_t errlen)
{
    char key[ADMIT_CLIENT_SERVER_KEY_SIZE];
    char token[ADMIT_TOKEN_SIZE];
    char why[512];
    struct admit_buf root, dir;
    json_t *device = NULL;
    struct admit_checkin_client *probe = NULL;
    size_t bad = 0;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    *out = NULL;
    token[0] = '\0';
    admit_buf_init(&root, 4096);
    admit_buf_init(&dir, 8192);
    struct admit_scan_session *s = admit_xcalloc(1, sizeof *s);
    s->list = admit_xstrdup(cfg->list != NULL ? cfg->list : "");
    s->gate_given = cfg->gate != NULL && cfg->gate[0] != '\0';
    s->gate = admit_xstrdup(s->gate_given ? cfg->gate : "");
    s->exit = cfg->exit;
    s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1500;
    s->notify = cfg->notify;
    s->notify_ctx = cfg->notify_ctx;
    s->k = admit_scan_offline_new();
    s->backoff_ms = RETRY_FIRST_MS;

    if (admit_checkin_client_server_key(cfg->server, key) != ADMIT_OK) {
        set_err(err, errlen, "--server \"%s\": expected http://HOST:PORT or https://HOST",
                cfg->server ? cfg->server : "");
        goto fail;
    }
    if (cfg->token != NULL && !admit_token_valid(cfg->token)) {
        set_err(err, errlen,
                "the device token is malformed (22 characters from admit device "
                "add)");
        goto fail;
    }
    rc = admit_scan_state_root(cfg->state_root, &root);
    if (rc != ADMIT_OK) {
        set_err(err, errlen, "no state directory: set XDG_STATE_HOME or HOME");
        goto fail;
    }
    rc = admit_checkin_client_new(cfg->server, cfg->token, &probe);
    if (rc != ADMIT_OK)
        goto fail;
    rc = find_event(cfg, admit_buf_cstr(&root), key, probe, &s->slug, &device, err, errlen);
    if (rc != ADMIT_OK)
        goto fail;
    rc = admit_buf_printf(&dir, "%s/%s_%s", admit_buf_cstr(&root), key, s->slug);
    if (rc != ADMIT_OK)
        goto fail;
    if (cfg->token == NULL && access(admit_buf_cstr(&dir), F_OK) != 0) {
        /* Only a token sets a folder up: a mistyped --event must not leave one behind. */
        rc = ADMIT_ERR_INVALID;
        set_err(err, errlen,
                "no scanner is set up here for event %s of %s: give the device "
                "token once with --token or ADMIT_SCAN_TOKEN",
                s->slug, cfg->server);
        goto fail;
    }
    rc = admit_scan_state_open(admit_buf_cstr(&dir), &s->st);
    if (rc == ADMIT_ERR_STATE) {
        set_err(err, errlen, "another admit scan or admit sync is using %s", admit_buf_cstr(&dir));
        goto fail;
    }
    if (rc != ADMIT_OK) {
        set_err(err, errlen, "cannot open %s: %s", admit_buf_cstr(&dir), strerror(errno));
        goto fail;
    }
    if (cfg->token != NULL) {
        rc = admit_scan_state_token_write(s->st, cfg->token);
        memcpy(token, cfg->token, ADMIT_TOKEN_SIZE);
    } else {
        rc = admit_scan_state_token_read(s->st, token);
    }
    if (rc != ADMIT_OK) {
        if (rc == ADMIT_ERR_PERMISSION)
            set_err(err, errlen, "%s/token may be read by other users: chmod 600 it",
                    admit_buf_cstr(&dir));
        else if (rc == ADMIT_ERR_NOT_FOUND || rc == ADMIT_ERR_INVALID)
            set_err(err, errlen,
                    "no device token in %s: give it once with --token or "
                    "ADMIT_SCAN_TOKEN",
                    admit_buf_cstr(&dir));
        else
            set_err(err, errlen, "cannot store the device token in %s: %s", admit_buf_cstr(&dir),
                    strerror(errno));
        if (rc == ADMIT_ERR_NOT_FOUND)
            rc = ADMIT_ERR_INVALID;
        goto fail;
    }
    rc = admit_checkin_client_new(cfg->server, token, &s->client);
    if (rc != ADMIT_OK)
        goto fail;
    if (device != NULL) {
        json_object_set_new(device, "server", json_string(cfg->server));
        if (admit_scan_state_json_write(s->st, DEVICE_FILE, device) != ADMIT_OK) {
            rc = ADMIT_ERR_IO;
            set_err(err, errlen, "cannot write %s/%s: %s", admit_buf_cstr(&dir), DEVICE_FILE,
                    strerror(errno));
            goto fail;
        }
    }

    /* What is on disk: the last sync, then this device's scans. */
    json_t *snapshot = NULL;
    rc = admit_scan_state_json_read(s->st, SNAPSHOT_FILE, &snapshot);
    if (rc == ADMIT_OK && admit_scan_offline_load(s->k, snapshot) == ADMIT_OK)
        s->snapshot = json_incref(snapshot);
    else if (rc != ADMIT_ERR_NOT_FOUND)
        notify(s, ADMIT_SCAN_EVENT_WARNING, "%s/%s is unreadable: it will be synced again",
               admit_buf_cstr(&dir), SNAPSHOT_FILE);
    json_decref(snapshot);
    rc = admit_scan_state_journal_read(s->st, on_record, s, &bad);
    if (rc != ADMIT_OK) {
        set_err(err, errlen, "cannot read the journal in %s: %s", admit_buf_cstr(&dir),
                strerror(errno));
        goto fail;
    }
    if (bad > 0)
        notify(s, ADMIT_SCAN_EVENT_WARNING, "%zu unreadable journal line%s skipped", bad,
               bad == 1 ? "" : "s");
    overlay(s, true);
    set_gate(s, cfg);

    s->online = true; /* until the server fails to answer */
    if (connect) {
        enum admit_scan_link link = admit_scan_session_sync(s, why, sizeof why);
        if (link == ADMIT_SCAN_LINK_OK && s->pending > 0)
            link = admit_scan_session_upload(s, NULL, NULL, why, sizeof why);
        if (link == ADMIT_SCAN_LINK_REFUSED) {
            rc = ADMIT_ERR_PERMISSION;
            set_err(err, errlen, "the server refused this device token (unknown or revoked)");
            goto fail;
        }
        if (link == ADMIT_SCAN_LINK_FAILED && !s->io_failed && s->snapshot == NULL) {
            rc = ADMIT_ERR_INVALID;
            set_err(err, errlen, "cannot sync event %s from %s: %s", s->slug, cfg->server, why);
            goto fail;
        }
        if (s->io_failed) {
            rc = ADMIT_ERR_IO;
            set_err(err, errlen, "%s", why);
            goto fail;
        }
        if (link != ADMIT_SCAN_LINK_OK)
            go_offline(s, why);
        set_gate(s, cfg);
    }
    if (cfg->list != NULL) {
        if (s->snapshot == NULL) {
            rc = ADMIT_ERR_NOT_FOUND;
            set_err(err, errlen,
                    "this scanner has never synced event %s and cannot reach %s: "
                    "connect once first",
                    s->slug, cfg->server);
            goto fail;
        }
        if (admit_scan_offline_list_id(s->k, cfg->list) < 0) {
            char names[400];
            list_names(s->snapshot, names, sizeof names);
            rc = ADMIT_ERR_INVALID;
            set_err(err, errlen, "event %s has no check-in list \"%s\" (its lists: %s)", s->slug,
                    cfg->list, names);
            goto fail;
        }
    }
    rc = ADMIT_OK;
    *out = s;
    goto done;
fail:
    admit_scan_session_close(s);
done:
    sodium_memzero(token, sizeof token);
    admit_checkin_client_free(probe);
    json_decref(device);
    admit_buf_free(&root);
    admit_buf_free(&dir);
    return rc;
}

void admit_scan_session_close(struct admit_scan_session *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nentries; i++) {
        json_decref(s->entries[i].scan);
        json_decref(s->entries[i].answer);
    }
    free(s->entries);
    map_free(&s->by_nonce);
    admit_scan_offline_free(s->k);
    json_decref(s->snapshot);
    admit_checkin_client_free(s->client);
    admit_scan_state_close(s->st);
    free(s->list);
    free(s->gate);
    free(s->slug);
    free(s);
}

bool admit_scan_session_online(const struct admit_scan_session *s)
{
    return s->online;
}

size_t admit_scan_session_pending(const struct admit_scan_session *s)
{
    return s->pending;
}

const char *admit_scan_session_dir(const struct admit_scan_session *s)
{
    return admit_scan_state_dir(s->st);
}

const char *admit_scan_session_event(const struct admit_scan_session *s)
{
    return s->slug;
}

const char *admit_scan_session_gate(const struct admit_scan_session *s)
{
    return s->gate;
}

void admit_scan_session_counts(const struct admit_scan_session *s, size_t *registrations,
                               size_t *admissions)
{
    count_snapshot(s->snapshot, registrations, admissions);
}
