/* A door scanner at work (admit scan, admit sync): its state folder (admit/scan_state.h), the
 * server (admit/checkin_client.h) and the offline knowledge (admit/scan_offline.h) together.
 *
 * The network never holds a verdict up. A scan is journaled (fsync) and, while the server
 * answers, posted with the session's budget (timeout_ms, counted from when the line was given);
 * the server's answer is journaled before it is returned. When the server does not answer within
 * the budget (or answers 5xx) the session goes offline: the scan gets the offline verdict,
 * journaled before it is returned, and later scans are decided offline at once, with local work
 * only. Everything else runs in the background while the caller waits for input
 * (admit_scan_session_run), one call at a time: uploading the scans the server has not answered
 * (in batches, each answer journaled), syncing (every 30 seconds online), and, offline, trying
 * again after a growing wait (0.5 s doubling to 4 s). The session is online again when a sync
 * answers within the budget and every scan is uploaded. Opening reads only the disk (and asks
 * the server which event a new token is for); the first sync runs in the background. Nothing
 * here prints: what happens is reported through the notify callback. */
#ifndef ADMIT_SCAN_SESSION_H
#define ADMIT_SCAN_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/checkin/checkin.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

/* What the session reports as it works (for a status line). */
enum admit_scan_event {
    ADMIT_SCAN_EVENT_CONNECTED, /* the server answered for the first time since opening */
    ADMIT_SCAN_EVENT_OFFLINE,   /* detail: why the server did not answer */
    ADMIT_SCAN_EVENT_ONLINE,    /* the server answers again */
    ADMIT_SCAN_EVENT_UPLOADED,  /* detail: "12 scans" */
    ADMIT_SCAN_EVENT_SYNCED,    /* detail: "1,204 registrations, 310 admissions" */
    ADMIT_SCAN_EVENT_WARNING,   /* detail: e.g. journal lines that could not be read */
};

struct admit_scan_config {
    const char *server;     /* "http://host:port", required */
    const char *token;      /* the device token; NULL: the one stored in the state folder */
    const char *event;      /* the event's slug; NULL: learnt from the token or the folders */
    const char *list;       /* the check-in list to scan for, by name as admit/list_match.h
                               finds it, or by number; NULL only for admit sync */
    const char *gate;       /* NULL: the device's name */
    bool exit;              /* scans are exits */
    long timeout_ms;        /* an online scan's time budget; 0: 800 ms */
    const char *ca_file;    /* certificate authorities for https (PEM); NULL: the system's */
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

/* Opens the session for cfg: finds the state folder (cfg->event; else the one whose stored
 * token is cfg->token, else the only folder of this server; else the event the server says
 * cfg->token belongs to, asked within cfg->timeout_ms), locks it, stores a given token (mode
 * 0600), reads the snapshot and the journal. With connect (the scanner), starts the first sync
 * and the upload of what is pending in the background and checks that cfg->list names one of
 * the event's lists in the snapshot (waiting for the first sync, at most cfg->timeout_ms, only
 * when it does not); never synced, the list is checked when the first sync arrives
 * (admit_scan_session_run). On error returns non-OK with one line for a person in err
 * (admit/core/error.h): ADMIT_ERR_INVALID (bad configuration: URL, unknown list or event, no
 * token), ADMIT_ERR_CONFLICT (cfg->list could be several lists), ADMIT_ERR_STATE (another process
 * holds the folder), ADMIT_ERR_PERMISSION (token refused, or token file readable by others),
 * ADMIT_ERR_NOT_FOUND (a new token and the server cannot be reached), ADMIT_ERR_IO. The token
 * never appears in err. */
enum admit_rc admit_scan_session_open(const struct admit_scan_config *cfg, bool connect,
                                      struct admit_scan_session **out,
                                      struct admit_error *err) ADMIT_MUST_CHECK;
/* Closes the session (the lock is released; nothing is lost: everything is journaled). */
void admit_scan_session_close(struct admit_scan_session *s);

/* A scan's answer, typed for the door's screen. The strings point into json and live as long as
 * the answer; "" when the answer does not say. */
struct admit_scan_answer {
    enum admit_verdict verdict; /* meaningless when error_code is set */
    const char *error_code;     /* the server refused the scan itself (a nonce reused for
                                   another scan): its code; NULL for a verdict */
    const char *reason;         /* the verdict's code: "re_entry", "bad_signature", ... */
    bool offline;               /* decided without the server */
    bool exit;                  /* the scan was an exit */
    long long registration_id;  /* 0 when unknown */
    const char *name, *organisation;
    const char *door; /* the answers the organiser shows at the door (issue 17), or "" */
    const char *list, *nonce, *scanned_at;
    const char *first_at, *first_gate;     /* already checked in: the first entry */
    const char *entered_at, *entered_gate; /* already checked in: the latest entry */
    json_t *json; /* the same as the API's answer object, with "offline", "nonce", "scanned_at",
                     "list" and "direction" (admit scan --json prints it); owned */
};

/* Releases what a's strings point into; a may then be filled again. */
void admit_scan_answer_free(struct admit_scan_answer *a);

/* Checks one scanned line (len bytes, as typed: it is normalised here), within the budget. On
 * ADMIT_OK *answer is filled (the caller frees it with admit_scan_answer_free): a verdict, or,
 * when the server refused the scan itself, error_code set (not a verdict: to show as an error).
 * ADMIT_ERR_NOT_FOUND (answer untouched) for a blank line, which is not a scan. ADMIT_ERR_IO when
 * the journal cannot be written (no verdict may be shown then); ADMIT_ERR_PERMISSION when the
 * server refused the token (the scan stays journaled). */
enum admit_rc admit_scan_session_scan(struct admit_scan_session *s, const char *line, size_t len,
                                      struct admit_scan_answer *answer) ADMIT_MUST_CHECK;

/* Waits at most max_ms for fd (>= 0; -1: none) to be readable (or hung up), doing the
 * background work meanwhile; *ready tells whether fd is readable. Returns early when background
 * work needs the caller (an error below) and may return early otherwise: call it in a loop.
 * Returns ADMIT_ERR_PERMISSION (the server refused the token), ADMIT_ERR_IO (the journal or
 * snapshot cannot be written), ADMIT_ERR_NOT_FOUND or ADMIT_ERR_CONFLICT (the first sync shows
 * that cfg->list is no list, or several lists, of the event), with one line for a person in err
 * (may be NULL); else ADMIT_OK. */
enum admit_rc admit_scan_session_run(struct admit_scan_session *s, int fd, long max_ms, bool *ready,
                                     struct admit_error *err) ADMIT_MUST_CHECK;

/* At the end of the input: unless offline, lets the background work under way (a first sync,
 * the upload of what is pending) finish, at most max_ms. Returns the scans still pending (they
 * upload next time). */
size_t admit_scan_session_finish(struct admit_scan_session *s, long max_ms);

/* Uploads every journaled scan the server has not answered, in batches, in at most timeout_ms
 * in all; progress(ctx, done, total) after each batch (may be NULL). err (may be NULL) says
 * what went wrong. Stops the background call, if any. */
enum admit_scan_link admit_scan_session_upload(struct admit_scan_session *s,
                                               void (*progress)(void *ctx, size_t done,
                                                                size_t total),
                                               void *ctx, long timeout_ms, struct admit_error *err);
/* Downloads what changed since the last sync and saves it, in at most timeout_ms. */
enum admit_scan_link admit_scan_session_sync(struct admit_scan_session *s, long timeout_ms,
                                             struct admit_error *err);

/* Whether scans are answered by the server now (false before its first answer). */
bool admit_scan_session_online(const struct admit_scan_session *s);
/* Whether a sync was ever saved (else offline verdicts are all "no_keys"). */
bool admit_scan_session_synced(const struct admit_scan_session *s);
/* The check-in list scanned for, as the event names it (as given before the first sync). */
const char *admit_scan_session_list(const struct admit_scan_session *s);
/* The event's time zone ("Europe/Brussels") from the last sync, or NULL. */
const char *admit_scan_session_time_zone(const struct admit_scan_session *s);
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
