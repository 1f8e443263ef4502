/* The door's scan path: a scanned line becomes a journaled scan and a verdict within the
 * session's budget, from the server when it answers in time, else from what the door knows; and
 * the journal in memory that both paths and the uploads keep up to date. The link to the server
 * (background uploads, syncs, probes): lib/door/scan_session_link.c. Opening and closing a session:
 * lib/door/scan_session_open.c. */
#include "scan_session_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit/checkin/checkin.h"
#include "admit/door/checkin_client.h"
#include "admit/core/mem.h"
#include "admit/door/scan_offline.h"
#include "admit/door/scan_state.h"
#include "admit/core/ticket.h"
#include "admit/core/token.h"

long long scan_session_now_ms(void)
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

const char *scan_session_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v != NULL ? v : "";
}

json_t *scan_session_journal_answer(const json_t *answer)
{
    json_t *kept = json_copy((json_t *)answer);
    if (kept == NULL)
        abort();
    json_object_del(kept, "name");
    json_object_del(kept, "organisation");
    json_object_del(kept, "door");
    return kept;
}

enum admit_rc scan_session_journal(struct admit_scan_session *s, json_t *const *records, size_t n)
{
    enum admit_rc rc = admit_scan_state_append(s->st, records, n);
    if (rc != ADMIT_OK) {
        s->io_failed = true;
        s->io_errno = errno;
    }
    return rc;
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
    e->answer_no = s->answers++;
    entry_set_answer(e, answer);
}

void scan_session_synced(struct admit_scan_session *s, long long answered)
{
    s->generation++;
    /* Answers journaled while the sync was on its way may be missing from it: they count as
     * newer than the snapshot, to be laid over it. */
    for (size_t i = 0; answered >= 0 && i < s->nentries; i++)
        if (s->entries[i].uploaded && s->entries[i].answer_no >= (size_t)answered)
            s->entries[i].gen = s->generation;
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
    case ADMIT_JOURNAL_SYNC: {
        const json_t *answered = json_object_get(record, "answered");
        scan_session_synced(s, json_is_integer(answered) ? json_integer_value(answered) : -1);
        break;
    }
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

void scan_session_entry_answered(struct admit_scan_session *s, struct entry *e, json_t *answer)
{
    entry_server(s, e, answer);
    apply_entry(s, e);
}

json_t *scan_session_api_scan(const struct admit_scan_session *s, const struct entry *e)
{
    /* A scan journaled before the first sync named the list as typed: the server knows it by
     * its own name. */
    const char *list = scan_session_list_name(s, scan_session_str(e->scan, "list"));
    json_t *scan =
        json_pack("{s:O, s:s, s:O, s:O, s:O, s:b}", "payload", json_object_get(e->scan, "payload"),
                  "list", list, "nonce", json_object_get(e->scan, "nonce"), "direction",
                  json_object_get(e->scan, "direction"), "scanned_at",
                  json_object_get(e->scan, "scanned_at"), "offline", e->door >= 0);
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

bool scan_session_answer_matches(const json_t *answer, const char *nonce)
{
    return (admit_scan_answer_valid(answer) || admit_scan_error_answer_valid(answer)) &&
           strcmp(scan_session_str(answer, "nonce"), nonce) == 0;
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

void admit_scan_answer_free(struct admit_scan_answer *a)
{
    json_decref(a->json);
    memset(a, 0, sizeof *a);
}

/* The answer handed to the caller: a copy of answer with the scan's own fields, typed. */
static void caller_answer(struct admit_scan_answer *out, const json_t *answer, const json_t *scan,
                          bool offline)
{
    json_t *j = json_deep_copy(answer);
    json_object_set_new(j, "offline", json_boolean(offline));
    json_object_set(j, "nonce", json_object_get(scan, "nonce"));
    json_object_set(j, "scanned_at", json_object_get(scan, "scanned_at"));
    json_object_set(j, "list", json_object_get(scan, "list"));
    json_object_set(j, "direction", json_object_get(scan, "direction"));
    const json_t *error = json_object_get(j, "error");
    const json_t *id = json_object_get(j, "registration_id");
    int verdict = admit_verdict_parse(scan_session_str(j, "verdict"));
    *out = (struct admit_scan_answer){
        .verdict = verdict >= 0 ? (enum admit_verdict)verdict : ADMIT_VERDICT_INVALID,
        .error_code = error != NULL ? scan_session_str(error, "code") : NULL,
        .reason = scan_session_str(j, "reason"),
        .offline = offline,
        .exit = strcmp(scan_session_str(j, "direction"), "exit") == 0,
        .registration_id = json_is_integer(id) ? (long long)json_integer_value(id) : 0,
        .name = scan_session_str(j, "name"),
        .organisation = scan_session_str(j, "organisation"),
        .door = scan_session_str(j, "door"),
        .list = scan_session_str(j, "list"),
        .nonce = scan_session_str(j, "nonce"),
        .scanned_at = scan_session_str(j, "scanned_at"),
        .first_at = scan_session_str(j, "first_at"),
        .first_gate = scan_session_str(j, "first_gate"),
        .entered_at = scan_session_str(j, "entered_at"),
        .entered_gate = scan_session_str(j, "entered_gate"),
        .json = j,
    };
}

/* Asks the server about entry e until deadline_ms (one more try when the first failed at once
 * and at least a third of the budget is left: a connection the network dropped). On
 * ADMIT_CLIENT_OK *answer is the server's well-formed answer. */
static enum admit_client_status ask_server(struct admit_scan_session *s, const struct entry *e,
                                           long long deadline_ms, json_t **answer,
                                           struct admit_error *why)
{
    enum admit_client_status status = ADMIT_CLIENT_UNREACHABLE;
    json_t *body = scan_session_api_scan(s, e);
    const char *nonce = scan_session_str(e->scan, "nonce");
    *answer = NULL;
    admit_error_set(why, "no answer in time");
    for (int attempt = 0; attempt < 2; attempt++) {
        long long now = scan_session_now_ms();
        if (now >= deadline_ms)
            break;
        struct admit_client_call *call = admit_checkin_client_start(
            s->client, "POST", "/api/v1/checkins", body, (long)(deadline_ms - now));
        for (now = scan_session_now_ms(); !admit_client_call_done(call) && now < deadline_ms;
             now = scan_session_now_ms())
            admit_checkin_client_wait(s->client, -1, (long)(deadline_ms - now));
        bool finished = admit_client_call_done(call);
        status = admit_client_call_result(call, answer, why);
        admit_client_call_free(call);
        /* The server refusing the scan itself (a 4xx with its JSON error: a nonce reused for
         * another scan) is its final answer, shown as an error; a 4xx without one (a captive
         * portal's page) is no answer. */
        if (status == ADMIT_CLIENT_REJECTED && admit_scan_error_answer_valid(*answer))
            status = ADMIT_CLIENT_OK;
        if (status == ADMIT_CLIENT_OK) {
            if (!scan_session_answer_matches(*answer, nonce)) {
                admit_error_set(why, "the server's answer is malformed");
                status = ADMIT_CLIENT_REJECTED;
                json_decref(*answer);
                *answer = NULL;
            }
            break;
        }
        json_decref(*answer);
        *answer = NULL;
        if (!finished || status != ADMIT_CLIENT_UNREACHABLE ||
            deadline_ms - scan_session_now_ms() < s->timeout_ms / 3)
            break;
    }
    json_decref(body);
    return status;
}

/* A scan of a door that never synced learns its list's name from the first sync, under way: it
 * may use the budget, so that the scan goes out under the name the server knows. */
static void await_first_sync(struct admit_scan_session *s, long long deadline_ms)
{
    if (s->list_known || s->list_given[0] == '\0' || s->link == LINK_OFFLINE)
        return;
    for (long long now = scan_session_now_ms();
         s->job.kind == JOB_SYNC && !admit_client_call_done(s->job.call) && now < deadline_ms;
         now = scan_session_now_ms())
        admit_checkin_client_wait(s->client, -1, (long)(deadline_ms - now));
    scan_session_reap(s);
}

/* The scan (journaled already as entry e, text n bytes) decided offline: its answer journaled
 * (an offline decision of its own) and laid over the knowledge. */
static enum admit_rc decide_offline(struct admit_scan_session *s, struct entry *e, const char *text,
                                    size_t n, struct admit_scan_answer *answer)
{
    json_t *local = admit_scan_offline_decide(s->k, text, n, s->list, s->exit);
    json_t *record =
        json_pack("{s:s, s:O, s:o}", "t", "local", "nonce", json_object_get(e->scan, "nonce"),
                  "answer", scan_session_journal_answer(local));
    enum admit_rc rc = scan_session_journal(s, &record, 1);
    if (rc == ADMIT_OK) {
        entry_local(e, local);
        apply_entry(s, e);
        caller_answer(answer, local, e->scan, true);
    }
    json_decref(record);
    json_decref(local);
    return rc;
}

/* The scan (journaled already as entry e) asked of the server until deadline_ms; decided
 * offline when the server does not answer in time. */
static enum admit_rc decide_online(struct admit_scan_session *s, struct entry *e, const char *text,
                                   size_t n, long long deadline_ms,
                                   struct admit_scan_answer *answer)
{
    struct admit_error why;
    json_t *server = NULL, *record = NULL;
    enum admit_rc rc;
    enum admit_client_status status = ask_server(s, e, deadline_ms, &server, &why);
    if (status == ADMIT_CLIENT_OK) {
        record =
            json_pack("{s:s, s:O, s:o}", "t", "server", "nonce", json_object_get(e->scan, "nonce"),
                      "answer", scan_session_journal_answer(server));
        rc = scan_session_journal(s, &record, 1);
        if (rc == ADMIT_OK) {
            scan_session_entry_answered(s, e, server);
            scan_session_go_online(s);
            caller_answer(answer, server, e->scan, false);
        }
    } else if (status == ADMIT_CLIENT_REFUSED) {
        rc = ADMIT_ERR_PERMISSION;
    } else {
        scan_session_go_offline(s, why.message);
        rc = decide_offline(s, e, text, n, answer);
    }
    json_decref(record);
    json_decref(server);
    return rc;
}

enum admit_rc admit_scan_session_scan(struct admit_scan_session *s, const char *line, size_t len,
                                      struct admit_scan_answer *answer)
{
    char text[ADMIT_CHECKIN_PAYLOAD_MAX + 1];
    char nonce[ADMIT_TOKEN_SIZE];
    char scanned_at[ADMIT_CHECKIN_TIME_SIZE];
    long long deadline_ms = scan_session_now_ms() + s->timeout_ms;
    size_t n = clean_line(line, len, text, sizeof text);
    if (n == 0)
        return ADMIT_ERR_NOT_FOUND;
    await_first_sync(s, deadline_ms);
    admit_token_new(nonce);
    admit_checkin_time_now(scanned_at);
    json_t *scan = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "t", "scan", "nonce", nonce,
                             "payload", text, "list", s->list, "direction",
                             s->exit ? "exit" : "entry", "scanned_at", scanned_at);
    if (scan == NULL)
        abort();
    if (s->gate_given)
        json_object_set_new(scan, "gate", json_string(s->gate));
    /* Online only while the server answers and has every earlier scan of this door: a scan
     * decided offline and not uploaded yet would be unknown to it. Either way the scan is
     * journaled before anything else happens to it; offline, with its answer, in one write. */
    bool online = s->link != LINK_OFFLINE && s->pending == 0;
    json_t *local = NULL;
    if (!online) {
        local = admit_scan_offline_decide(s->k, text, n, s->list, s->exit);
        json_object_set_new(scan, "local", scan_session_journal_answer(local));
    }
    enum admit_rc rc = scan_session_journal(s, &scan, 1);
    if (rc == ADMIT_OK) {
        struct entry *e = entry_add(s, scan);
        if (online) {
            rc = decide_online(s, e, text, n, deadline_ms, answer);
        } else {
            entry_local(e, local);
            apply_entry(s, e);
            caller_answer(answer, local, scan, true);
        }
    }
    json_decref(local);
    json_decref(scan);
    return rc;
}
