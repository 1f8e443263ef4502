/* A door scanner at work (admit scan, admit sync): its state folder (admit/scan_state.h), the
 * server (admit/checkin_client.h) and the offline knowledge (admit/scan_offline.h) together.
 *
 * Online, a scan is journaled (fsync), posted with a short timeout, and the server's answer is
 * journaled (fsync) before it is returned. When the server does not answer in time (or answers
 * 5xx) the session goes offline at once: the scan gets the offline verdict, journaled before it
 * is returned, and later scans are decided offline without trying the server. In idle time
 * (admit_scan_session_tick) it probes the server again with a growing back-off (1 s doubling to
 * 10 s); when the server answers, the journaled scans it has not seen are uploaded (in batches,
 * each answer journaled) and a sync follows: the session is online again. Online, it syncs every
 * 30 seconds. Nothing here prints: what happens is reported through the notify callback. */
#ifndef ADMIT_SCAN_SESSION_H
#define ADMIT_SCAN_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/rc.h"

/* What the session reports as it works (for a status line). */
enum admit_scan_event {
    ADMIT_SCAN_EVENT_OFFLINE,  /* detail: why the server did not answer */
    ADMIT_SCAN_EVENT_ONLINE,   /* the server answers again */
    ADMIT_SCAN_EVENT_UPLOADED, /* detail: "12 scans" */
    ADMIT_SCAN_EVENT_SYNCED,   /* detail: "1,204 registrations, 310 admissions" */
    ADMIT_SCAN_EVENT_WARNING,  /* detail: e.g. journal lines that could not be read */
};

struct admit_scan_config {
    const char *server;     /* "http://host:port", required */
    const char *token;      /* the device token; NULL: the one stored in the state folder */
    const char *event;      /* the event's slug; NULL: learnt from the token or the folders */
    const char *list;       /* the check-in list to scan for; NULL only for admit sync */
    const char *gate;       /* NULL: the device's name */
    bool exit;              /* scans are exits */
    long timeout_ms;        /* an online scan's time budget */
    const char *state_root; /* NULL: the XDG state directory (admit_scan_state_root) */
    void (*notify)(void *ctx, enum admit_scan_event event, const char *detail);
    void *notify_ctx;
};

/* The result of a conversation with the server. */
enum admit_scan_link {
    ADMIT_SCAN_LINK_OK,
    ADMIT_SCAN_LINK_DOWN,    /* no answer (in time), or 5xx */
    ADMIT_SCAN_LINK_REFUSED, /* 401: the device token is unknown or revoked */
    ADMIT_SCAN_LINK_FAILED,  /* a refusal that will not go away (404, 4xx), or a local error */
};

struct admit_scan_session;

/* Opens the session for cfg: finds the state folder (cfg->event; else the event the server says
 * the token belongs to; else the only folder of this server, or the one whose stored token is
 * cfg->token), locks it, stores a given token (mode 0600), reads the snapshot and the journal.
 * With connect, it also syncs and uploads what is pending (tolerating an unreachable server when
 * an earlier sync is on disk). Checks that cfg->list is one of the event's lists. On error
 * returns non-OK with one line for a person in err (errlen bytes): ADMIT_ERR_INVALID (bad
 * configuration: URL, unknown list or event, no token), ADMIT_ERR_STATE (another process holds
 * the folder), ADMIT_ERR_PERMISSION (token refused, or token file readable by others),
 * ADMIT_ERR_NOT_FOUND (never synced and the server cannot be reached), ADMIT_ERR_IO. The token
 * never appears in err. */
enum admit_rc admit_scan_session_open(const struct admit_scan_config *cfg, bool connect,
                                      struct admit_scan_session **out, char *err,
                                      size_t errlen) ADMIT_MUST_CHECK;
/* Closes the session (the lock is released; nothing is lost: everything is journaled). */
void admit_scan_session_close(struct admit_scan_session *s);

/* Checks one scanned line (len bytes, as typed: it is normalised here). On ADMIT_OK *answer is
 * a new object the caller decrefs: the API's answer fields (verdict, reason, name,
 * organisation, first_at, first_gate, registration_id, flagged, ...) plus "offline" (decided
 * without the server), "nonce", "scanned_at", "list" and "direction". ADMIT_ERR_NOT_FOUND (and
 * no answer) for a blank line, which is not a scan. ADMIT_ERR_IO when the journal cannot be
 * written (no verdict may be shown then); ADMIT_ERR_PERMISSION when the server refused the
 * token (the scan stays journaled). */
enum admit_rc admit_scan_session_scan(struct admit_scan_session *s, const char *line, size_t len,
                                      json_t **answer) ADMIT_MUST_CHECK;

/* Does the background work that is due: probing the server when offline, uploading, syncing.
 * Returns ADMIT_ERR_PERMISSION when the server refused the token, ADMIT_ERR_IO when the
 * journal or snapshot cannot be written, else ADMIT_OK. */
enum admit_rc admit_scan_session_tick(struct admit_scan_session *s) ADMIT_MUST_CHECK;
/* Milliseconds until admit_scan_session_tick has work (0: now). */
long admit_scan_session_wait_ms(const struct admit_scan_session *s);

/* Uploads every journaled scan the server has not answered, in batches; progress(ctx, done,
 * total) after each batch (may be NULL). why (whylen bytes) says what went wrong. */
enum admit_scan_link admit_scan_session_upload(struct admit_scan_session *s,
                                               void (*progress)(void *ctx, size_t done,
                                                                size_t total),
                                               void *ctx, char *why, size_t whylen);
/* Downloads what changed since the last sync and saves it. */
enum admit_scan_link admit_scan_session_sync(struct admit_scan_session *s, char *why,
                                             size_t whylen);

bool admit_scan_session_online(const struct admit_scan_session *s);
/* Scans journaled but not yet answered by the server. */
size_t admit_scan_session_pending(const struct admit_scan_session *s);
/* The state folder, the event's slug, the gate scans are logged at. */
const char *admit_scan_session_dir(const struct admit_scan_session *s);
const char *admit_scan_session_event(const struct admit_scan_session *s);
const char *admit_scan_session_gate(const struct admit_scan_session *s);
/* Registrations and admissions the last sync knows of. */
void admit_scan_session_counts(const struct admit_scan_session *s, size_t *registrations,
                               size_t *admissions);

#endif
