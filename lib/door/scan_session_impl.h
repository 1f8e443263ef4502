/* What the three files of a door's session share: lib/door/scan_session.c (the scan path and the
 * journal in memory), lib/door/scan_session_link.c (the link to the server: background uploads,
 * syncs and probes, online and offline) and lib/door/scan_session_open.c (finding and opening a
 * door's state folder). Private to those three files. */
#ifndef ADMIT_SCAN_SESSION_IMPL_H
#define ADMIT_SCAN_SESSION_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/door/checkin_client.h"
#include "admit/door/scan_offline.h"
#include "admit/door/scan_session.h"
#include "admit/door/scan_state.h"
#include "scan_map.h"

#define SNAPSHOT_FILE "snapshot.json"
#define DEVICE_FILE   "device.json"

/* Scans per upload request, and their JSON at most (admitd's default body limit is 64 KiB). */
#define UPLOAD_BATCH     100
#define UPLOAD_MAX_BYTES (32u << 10)
/* Time limits of background calls: while the server answers; of a probe while it does not (a
 * try that hangs must not hide for long that the server is back); and of the work that follows
 * a probe's answer before the door is online again. The first sync, which may bring a whole
 * event, always gets SYNC_TIMEOUT_MS. */
#define UPLOAD_TIMEOUT_MS  10000L
#define SYNC_TIMEOUT_MS    30000L
#define PROBE_TIMEOUT_MS   3000L
#define RECOVER_TIMEOUT_MS 5000L
#define SYNC_EVERY_MS      30000LL
/* Waits between tries while the server does not answer: doubling from the first to the last. */
#define RETRY_FIRST_MS 500L
#define RETRY_MAX_MS   4000L
/* The default budget of an online scan. */
#define DEFAULT_TIMEOUT_MS 800L

struct entry {
    json_t *scan;     /* the scan record */
    json_t *answer;   /* the server's answer, else the offline one, else NULL */
    int door;         /* the offline verdict shown at the door (enum admit_verdict), or -1 */
    int gen;          /* the sync generation in which the server's answer was journaled, or the
                         next one when a sync was on its way then */
    size_t answer_no; /* server answers journaled before this one's */
    bool uploaded;    /* the server answered it */
};

/* What the session knows of the server. */
enum scan_link {
    LINK_UNKNOWN, /* since opening, before any answer or failure: scans are tried online */
    LINK_ONLINE,  /* it answered in time, and everything journaled is uploaded */
    LINK_OFFLINE, /* it did not: scans are decided here, and the background tries again */
};

/* The background call running, if any (one at a time, beside a scan's own call). A probe is
 * the cheapest call there is (GET /api/v1/device): while offline, nothing else is tried before
 * one answers. */
enum job_kind { JOB_NONE, JOB_PROBE, JOB_UPLOAD, JOB_SYNC };

struct job {
    enum job_kind kind;
    struct admit_client_call *call;
    size_t idx[UPLOAD_BATCH]; /* the entries an upload carries (indexes into entries) */
    size_t n;
    size_t answers_before; /* a sync: server answers journaled before it was sent */
};

struct admit_scan_session {
    char *list;       /* the list's name as the event spells it, else as given */
    bool list_known;  /* list was found in a snapshot */
    char *list_given; /* as given (--list), or "" */
    char *gate;       /* the effective gate: --gate, else the device's name; "" if unknown */
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
    size_t answers; /* server answers journaled */

    enum scan_link link;
    bool reachable; /* offline, but a probe has answered since */
    struct job job;
    long long next_try_ms; /* offline: when the background may try the server again */
    long backoff_ms;
    long long sync_due_ms;
    size_t uploaded;     /* scans uploaded since the last ADMIT_SCAN_EVENT_UPLOADED */
    bool io_failed;      /* the journal or the snapshot could not be written */
    int io_errno;        /* why */
    enum admit_rc fatal; /* a background failure that ends the session (token, list), or OK */
    struct admit_error fatal_why;
};

/* Milliseconds of the monotonic clock. */
long long scan_session_now_ms(void);
/* Tells the caller's notify callback (if any) about event, with a printf-style detail. */
void scan_session_notify(struct admit_scan_session *s, enum admit_scan_event event, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
/* obj's string member key, or "". */
const char *scan_session_str(const json_t *obj, const char *key);
/* What the journal keeps of an answer (a new reference): all of it but the person's name and
 * organisation. The journal stays on the door's disk after the event; the names the door shows
 * offline come from the snapshot, which each sync renews (README.md, "Personal data"). */
json_t *scan_session_journal_answer(const json_t *answer);
/* Appends records to the journal (fsynced); a failure marks the session io_failed. */
enum admit_rc scan_session_journal(struct admit_scan_session *s, json_t *const *records,
                                   size_t n) ADMIT_MUST_CHECK;

/* The journal in memory (lib/door/scan_session.c). */
/* Lays this device's scans that the snapshot cannot know over it: those the server has not
 * answered (decided offline), and, when all is set, those it answered after the last sync. */
void scan_session_overlay(struct admit_scan_session *s, bool all);
/* One journal record read back at opening (admit_scan_state_journal_read's callback). */
void scan_session_on_record(void *ctx, enum admit_journal_kind kind, json_t *record);
/* A sync was saved (or its record read back): the next generation. Answers journaled since
 * answered (the count when the sync was sent; -1: unknown) are laid over it. */
void scan_session_synced(struct admit_scan_session *s, long long answered);
/* Records the server's answer for entry e (journaled already) and lays it over the knowledge. */
void scan_session_entry_answered(struct admit_scan_session *s, struct entry *e, json_t *answer);
/* The API scan of a journal entry, for an upload or an online check. */
json_t *scan_session_api_scan(const struct admit_scan_session *s, const struct entry *e);
/* Whether answer is the server's well-formed answer, or error answer (admit/scan_state.h), to
 * the scan with nonce. */
bool scan_session_answer_matches(const json_t *answer, const char *nonce);

/* The link (lib/door/scan_session_link.c). */
/* The server did not answer (why): offline now, or still, with a longer wait before the next
 * try. */
void scan_session_go_offline(struct admit_scan_session *s, const char *why);
/* The server answered in time and nothing waits for upload: online now. */
void scan_session_go_online(struct admit_scan_session *s);
/* Starts the background work that is due (none while a call runs). */
void scan_session_schedule(struct admit_scan_session *s);
/* Handles the background call when it has finished. */
void scan_session_reap(struct admit_scan_session *s);
/* Stops the background call, if any (its entries stay pending). */
void scan_session_cancel_job(struct admit_scan_session *s);
/* Resolves s->list_given against the snapshot; ADMIT_ERR_NOT_FOUND or ADMIT_ERR_CONFLICT (with
 * one line for a person in err) when no list or several lists match. */
enum admit_rc scan_session_resolve_list(struct admit_scan_session *s,
                                        struct admit_error *err) ADMIT_MUST_CHECK;
/* The gate scans are logged at, unless given: the device's name in the snapshot. */
void scan_session_set_gate(struct admit_scan_session *s);
/* The event's name (borrowed from the snapshot) of the list typed as typed, or typed itself
 * when the snapshot does not tell (admit/list_match.h). */
const char *scan_session_list_name(const struct admit_scan_session *s, const char *typed);
/* How many registrations and admissions a snapshot holds. */
void scan_session_count_snapshot(const json_t *snapshot, size_t *regs, size_t *adms);

#endif
