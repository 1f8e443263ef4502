/* What lib/scan_session.c (the door's loop: scanning, online and offline, syncing, uploading)
 * and lib/scan_session_open.c (finding and opening a door's state folder) share: the session's
 * layout and the helpers both use. Private to those two files. */
#ifndef ADMIT_SCAN_SESSION_IMPL_H
#define ADMIT_SCAN_SESSION_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/checkin_client.h"
#include "admit/scan_offline.h"
#include "admit/scan_session.h"
#include "admit/scan_state.h"
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

/* Tells the caller's notify callback (if any) about event, with a printf-style detail. */
void scan_session_notify(struct admit_scan_session *s, enum admit_scan_event event, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
/* printf into err (errlen bytes) when err is not NULL. */
void scan_session_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* obj's string member key, or "". */
const char *scan_session_str(const json_t *obj, const char *key);
/* Lays this device's scans that the snapshot cannot know over it: those the server has not
 * answered (decided offline), and, when all is set, those it answered after the last sync. */
void scan_session_overlay(struct admit_scan_session *s, bool all);
/* The server did not answer: offline now (or still, with a longer wait before the next try). */
void scan_session_go_offline(struct admit_scan_session *s, const char *why);
/* How many registrations and admissions a snapshot holds. */
void scan_session_count_snapshot(const json_t *snapshot, size_t *regs, size_t *adms);
/* One journal record read back at opening (admit_scan_state_journal_read's callback). */
void scan_session_on_record(void *ctx, enum admit_journal_kind kind, json_t *record);

#endif
