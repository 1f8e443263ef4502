/* A door scanner's local state: one folder per server and event under the XDG state directory
 * ($XDG_STATE_HOME/admit/HOST_PORT_SLUG, by default ~/.local/state/admit/...), mode 0700:
 *
 *     lock           held (flock) by the one scanner or sync working on the folder
 *     token          the device token, mode 0600, never printed
 *     device.json    which server, event and device the token stands for
 *     snapshot.json  what the last sync brought (keys, lists, registrations, admissions),
 *                    replaced atomically
 *     journal.jsonl  every scan and every verdict, one JSON object per line, appended and
 *                    fsynced before the verdict is shown; never rewritten
 *
 * The journal's records ("t" says which):
 *     {"t":"scan", "nonce", "payload", "list", "direction", "scanned_at", ["gate"], ["local"]}
 *         a scan, written before anything else happens to it; "local" is the offline answer
 *         when it was decided without the server at once (one write for an offline scan)
 *     {"t":"local", "nonce", "answer"}   the offline answer of a scan whose online try failed
 *     {"t":"server", "nonce", "answer"}  the server's answer: the scan is uploaded; the answer
 *                                        may be an error answer (see below): the server will
 *                                        never take the scan, which is not tried again
 *     {"t":"sync", "cursor", ["answered"]}  a sync was saved in snapshot.json; "answered": the
 *                                        server answers journaled before it was asked for (the
 *                                        later ones may be missing from it)
 * An answer is an object with at least a valid "verdict" (admit/checkin.h) and, when present,
 * "reason", "name", "organisation", "first_at", "first_gate", "entered_at", "entered_gate"
 * (strings; the times valid API times), "registration_id"
 * (integer), "flagged", "offline" (booleans). */
#ifndef ADMIT_SCAN_STATE_H
#define ADMIT_SCAN_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"

/* Largest journal or snapshot file read back. */
#define ADMIT_SCAN_FILE_MAX (512u << 20)

enum admit_journal_kind {
    ADMIT_JOURNAL_SCAN,
    ADMIT_JOURNAL_LOCAL,
    ADMIT_JOURNAL_SERVER,
    ADMIT_JOURNAL_SYNC,
};

/* Called for each well-formed record, in file order; record is borrowed for the call. */
typedef void (*admit_journal_fn)(void *ctx, enum admit_journal_kind kind, json_t *record);

/* Reads len bytes of journal text: each line one record. Lines that are not a well-formed
 * record (bad JSON, an unknown "t", a missing or mistyped field, an invalid verdict, nonce or
 * time) are skipped and counted in *bad; a last line without its newline (a write a crash cut
 * short: its verdict was never shown) is ignored and its length stored in *torn. Never fails on
 * content; reads nothing past len. */
void admit_scan_journal_parse(const char *text, size_t len, admit_journal_fn fn, void *ctx,
                              size_t *bad, size_t *torn);

/* Whether answer is a well-formed answer object (see above). */
bool admit_scan_answer_valid(const json_t *answer);
/* Whether answer is the server's refusal of one scan as a request (a nonce reused for another
 * scan, a value it does not take): {"nonce", "error": {"code", "message", ...}}, no "verdict". */
bool admit_scan_error_answer_valid(const json_t *answer);

/* The state root: override when not NULL, else $XDG_STATE_HOME/admit when that is an absolute
 * path, else $HOME/.local/state/admit. Appended to out. ADMIT_ERR_NOT_FOUND when neither
 * variable helps. */
enum admit_rc admit_scan_state_root(const char *override, struct admit_buf *out) ADMIT_MUST_CHECK;

/* The names of the folders of root starting with prefix (sorted), as a NULL-terminated array
 * the caller frees with admit_scan_state_names_free. A missing root gives an empty array. */
enum admit_rc admit_scan_state_find(const char *root, const char *prefix,
                                    char ***names) ADMIT_MUST_CHECK;
void admit_scan_state_names_free(char **names);

/* The token stored in folder dir (without opening or locking it) into out.
 * ADMIT_ERR_NOT_FOUND when there is none, ADMIT_ERR_INVALID when the file is not a token,
 * ADMIT_ERR_PERMISSION when others may read it. */
enum admit_rc admit_scan_state_peek_token(const char *dir,
                                          char out[ADMIT_TOKEN_SIZE]) ADMIT_MUST_CHECK;

struct admit_scan_state;

/* Opens the folder dir, creating it and its missing parents with mode 0700, and takes its lock.
 * A journal whose last line was cut short by a crash is truncated to its last complete line.
 * ADMIT_ERR_STATE when another process holds the lock; ADMIT_ERR_IO (errno set) otherwise. */
enum admit_rc admit_scan_state_open(const char *dir,
                                    struct admit_scan_state **out) ADMIT_MUST_CHECK;
/* Releases the lock and frees st. NULL is a no-op. */
void admit_scan_state_close(struct admit_scan_state *st);
/* The folder's path. */
const char *admit_scan_state_dir(const struct admit_scan_state *st);

/* Stores token (mode 0600, atomically, fsynced). */
enum admit_rc admit_scan_state_token_write(struct admit_scan_state *st,
                                           const char *token) ADMIT_MUST_CHECK;
/* The stored token into out; errors as admit_scan_state_peek_token. */
enum admit_rc admit_scan_state_token_read(struct admit_scan_state *st,
                                          char out[ADMIT_TOKEN_SIZE]) ADMIT_MUST_CHECK;

/* Replaces the file name of the folder with value as JSON (mode 0600, atomically, fsynced). */
enum admit_rc admit_scan_state_json_write(struct admit_scan_state *st, const char *name,
                                          const json_t *value) ADMIT_MUST_CHECK;
/* Reads the JSON file name of the folder into *out (the caller decrefs it).
 * ADMIT_ERR_NOT_FOUND when there is none; ADMIT_ERR_INVALID when it is not JSON. */
enum admit_rc admit_scan_state_json_read(struct admit_scan_state *st, const char *name,
                                         json_t **out) ADMIT_MUST_CHECK;

/* Appends n records to the journal in one write and fsyncs it: when this returns ADMIT_OK they
 * survive a crash or a power cut. ADMIT_ERR_IO (errno set) otherwise. */
enum admit_rc admit_scan_state_append(struct admit_scan_state *st, json_t *const *records,
                                      size_t n) ADMIT_MUST_CHECK;

/* Reads the whole journal through admit_scan_journal_parse. */
enum admit_rc admit_scan_state_journal_read(struct admit_scan_state *st, admit_journal_fn fn,
                                            void *ctx, size_t *bad) ADMIT_MUST_CHECK;

#endif
