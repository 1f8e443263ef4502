/* Door check-in, server side: the check-in API's request parser, verdicts, and the two business
 * actions behind /api/v1 (checking scans in, syncing an offline door), one round trip each.
 *
 * A request to POST /api/v1/checkins is one scan object or {"scans": [up to
 * ADMIT_CHECKIN_MAX_SCANS scan objects]}. A scan object has exactly these fields:
 *     payload       string, required: the scanned text as the scanner read it
 *     list          string, required: the check-in list's name ("Day 1")
 *     nonce         string, required: 8 to 64 of [A-Za-z0-9_-], chosen by the device; the same
 *                   nonce sent again by the same device is the same scan
 *     direction     "entry" (default) or "exit"
 *     scanned_at    RFC 3339 time ("2027-10-29T09:12:03.120Z", "...+02:00"); default: now
 *     gate          string, at most 100 characters; default: the device's name
 * (list and gate are text as admit/text.h has it: no invisible characters, and not blank)
 *     offline       boolean (default false): the door decided without the server
 *     door_verdict  a verdict name: what the door showed for an offline scan (default "valid")
 * Any other field, a field of the wrong type or an out-of-range value is refused with a stable
 * error code (an admit_error, see below): the whole request when it is one scan, only that scan
 * when it is in a batch (its answer is an error object, the others are decided). A payload that
 * is not a valid ticket is not a request error: that scan's verdict is "invalid" with the
 * ticket's error code as reason. */
#ifndef ADMIT_CHECKIN_H
#define ADMIT_CHECKIN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"
#include "admit/core/ticket.h"

#define ADMIT_CHECKIN_MAX_SCANS 500
#define ADMIT_CHECKIN_NONCE_MIN 8
#define ADMIT_CHECKIN_NONCE_MAX 64
/* Characters of a list or gate name at most. */
#define ADMIT_CHECKIN_NAME_MAX 100
/* Scanned text longer than this is refused as the wrong length without being decoded. */
#define ADMIT_CHECKIN_PAYLOAD_MAX 1024
/* Text of an API time with its terminator: "2027-10-29T09:12:03.120Z" fits, offsets too. */
#define ADMIT_CHECKIN_TIME_SIZE 40

/* The answer for one scan. The names (admit_verdict_name) are the API's. */
enum admit_verdict {
    ADMIT_VERDICT_VALID,
    ADMIT_VERDICT_ALREADY_CHECKED_IN,
    ADMIT_VERDICT_REVOKED,
    ADMIT_VERDICT_WAITLISTED,
    ADMIT_VERDICT_NOT_ON_LIST,
    ADMIT_VERDICT_WRONG_EVENT,
    ADMIT_VERDICT_INVALID,
};
#define ADMIT_VERDICT_COUNT 7

/* "valid", "already_checked_in", ...; static storage. */
const char *admit_verdict_name(enum admit_verdict v);
/* The verdict called name; -1 when name is none of them. */
int admit_verdict_parse(const char *name);

/* What a reason code of an answer means, for a person: "registration cancelled", "bad signature
 * (forged or altered ticket)", ...; "" for "" and the code itself when unknown. Static storage
 * or code. */
const char *admit_checkin_reason_text(const char *code);

/* Whether text is an RFC 3339 date-time with a real calendar date: "YYYY-MM-DDTHH:MM:SS", an
 * optional fraction of 1 to 9 digits, and "Z" or "+HH:MM"/"-HH:MM" ('T' and 'Z' in either case,
 * a space allowed for 'T'); years 1900 to 9999; no leap seconds; offsets up to 15:59 either way
 * (PostgreSQL refuses more, and no place on Earth is more than 14 hours from UTC). */
bool admit_checkin_time_valid(const char *text);
/* The current time as an API time, "2027-10-29T09:12:03.120Z". */
void admit_checkin_time_now(char out[ADMIT_CHECKIN_TIME_SIZE]);

/* Why a request, or one scan of a batch, was refused: an admit_error (admit/core/error.h) with
 * a stable code and a message for a person. The codes: "invalid_json", "not_an_object",
 * "unknown_field", "wrong_type", "missing_field", "invalid_value", "empty_batch" (400),
 * "too_many_scans" (413); for one scan as the database decides it, "nonce_reused" (409). */

/* The HTTP status of a refusal: by its code, as listed above (400 for any other). */
unsigned admit_checkin_error_status(const struct admit_error *err);

struct admit_checkin_scan {
    /* In a batch: code set when this scan was refused; then nonce is its nonce when that is a
     * valid one (else NULL) and the other fields are unset. Never set for a single scan (the
     * request is refused instead). */
    struct admit_error refused;
    const char *payload; /* points into the request's JSON */
    size_t payload_len;
    const char *list;
    const char *nonce;
    const char *gate; /* NULL: the device's name */
    bool exit;
    bool offline;
    int door_verdict; /* enum admit_verdict, or -1 when not sent */
    char scanned_at[ADMIT_CHECKIN_TIME_SIZE];
};

/* A parsed request. Owns its JSON; the scans' strings point into it. */
struct admit_checkin_request {
    json_t *root;
    struct admit_checkin_scan *scans; /* owned */
    size_t count;
    bool batch; /* sent as {"scans": [...]}: answer {"results": [...]} */
};

/* Parses len bytes of body (need not be NUL-terminated) as a check-in request into *out.
 * ADMIT_ERR_INVALID with *err filled (and *out empty) when it is not one: not JSON, not a scan
 * or a batch, a batch that is empty or too long, or a single scan that is refused. A scan of a
 * batch that is refused does not refuse the request: its refused member says why. Never reads
 * past len. Free *out with admit_checkin_request_free in either case. */
enum admit_rc admit_checkin_parse(const char *body, size_t len, struct admit_checkin_request *out,
                                  struct admit_error *err) ADMIT_MUST_CHECK;
void admit_checkin_request_free(struct admit_checkin_request *req);

/* Builds the scans argument of the SQL function admit_checkin for req, one element per scan
 * not refused, in order: each payload normalised (admit_ticket_normalize, on a copy) and
 * verified against ring, then the fields the ticket carries or the reason it was refused.
 * Returns a new JSON array the caller decrefs. */
json_t *admit_checkin_prepare(const struct admit_checkin_request *req,
                              const struct admit_keyring *ring);

/* The answer to a refused scan (or the body of a refused request):
 * {"nonce": nonce, "error": {"status": N, "code": "...", "message": "..."}}, without "nonce"
 * when nonce is NULL. New reference. */
json_t *admit_checkin_error_json(const struct admit_error *err, const char *nonce);

/* The HTTP status of a single scan's answer object: 200 for a verdict, the error's status for
 * an error object (admit_checkin_error_json). */
unsigned admit_checkin_answer_status(const json_t *answer);

/* Online entry scans (not offline, not exits) of any doors decided together, one statement
 * and one transaction for the lot (sql/queries/checkin_group.sql): what admitd does with the
 * door's everyday scan. Scans arriving while earlier groups are in the database wait and go
 * together in the next group (struct admit_checkin_pool). */
struct admit_checkin_entry {
    const char *token_hash; /* admit_device_token_hash of the door's token */
    const struct admit_checkin_scan *scan;
    struct admit_ticket ticket; /* filled by admit_checkin_entry_init */
    enum admit_ticket_error ticket_error;
    json_t *answer; /* out: the answer object, or NULL when the scan is left to admit_checkin */
};

#define ADMIT_CHECKIN_GROUP_MAX 64

/* Fills e for scan: its payload normalised (on a copy) and verified against ring. */
void admit_checkin_entry_init(struct admit_checkin_entry *e, const char *token_hash,
                              const struct admit_checkin_scan *scan,
                              const struct admit_keyring *ring);

/* Decides the n entries in one statement. ADMIT_OK: each entries[i]->answer is a new answer
 * object (the caller decrefs it) as admit_checkin_submit would give it, or NULL when the
 * statement leaves the scan to admit_checkin with nothing written for it (an unknown or revoked
 * token, a device not seen for a minute, a nonce seen before or in flight, the same nonce or
 * ticket earlier in the group, a re-entry, an admission made since the statement began: see the
 * SQL). ADMIT_ERR_CONFLICT when a concurrent writer got in the way (a nonce committed
 * meanwhile, a deadlock): nothing written, every answer NULL; other database errors as
 * admit_db_query, also with nothing written. At most ADMIT_CHECKIN_GROUP_MAX entries. */
enum admit_rc admit_checkin_group(struct admit_db *db, struct admit_checkin_entry *const *entries,
                                  size_t n) ADMIT_MUST_CHECK;

/* Check-ins decided on threads of their own, so that the server's HTTP threads never wait for
 * PostgreSQL and the scans of all doors meet: each of the pool's workers has its own database
 * connection, takes every job waiting (up to ADMIT_CHECKIN_GROUP_MAX) and decides the online
 * entries among them as one group (admit_checkin_group), the rest one by one: what the group
 * statement leaves through admit_checkin_submit_entry, batches, exits and offline uploads
 * through admit_checkin_submit. A job
 * arriving while every worker is busy waits for the next group; with a worker free it goes
 * at once, as a group of one. */
struct admit_checkin_job {
    /* Set by admit_checkin_job_init. */
    const char *token_hash;
    const struct admit_checkin_request *req;
    const struct admit_keyring *ring;
    bool single; /* one online entry: entry is initialised (its ticket verified) */
    struct admit_checkin_entry entry;
    void (*done)(struct admit_checkin_job *job);
    void *ctx; /* the caller's */
    /* Set before done is called, on a worker's thread: what admit_checkin_submit returns and
     * its answers (new, the callee of done decrefs them), and the worker's connection (for
     * admit_db_sqlstate; valid during done only). */
    enum admit_rc rc;
    json_t *answers;
    struct admit_db *db;
    struct admit_checkin_job *next; /* the pool's */
};

/* Prepares job for req (which must outlive it) on the calling thread, verifying a single
 * online entry's ticket there; done will be called once, on a worker thread. */
void admit_checkin_job_init(struct admit_checkin_job *job, const char *token_hash,
                            const struct admit_checkin_request *req,
                            const struct admit_keyring *ring,
                            void (*done)(struct admit_checkin_job *job), void *ctx);

struct admit_checkin_pool;
/* Starts workers threads, each with a connection to dsn (made on first use, remade after a
 * failure as admit_db does). */
struct admit_checkin_pool *admit_checkin_pool_new(const char *dsn, unsigned workers);
/* Queues job; its done runs on a worker thread. Thread-safe. False, with job untouched and done
 * never called, once the pool is closed. */
bool admit_checkin_pool_submit(struct admit_checkin_pool *pool,
                               struct admit_checkin_job *job) ADMIT_MUST_CHECK;
/* Refuses further jobs, decides every job submitted, and stops the workers (waits for them).
 * Thread-safe; a second call returns at once. */
void admit_checkin_pool_close(struct admit_checkin_pool *pool);
/* Closes the pool if needed and frees it. */
void admit_checkin_pool_free(struct admit_checkin_pool *pool);
/* The sizes groups are counted by (admit_checkin_pool_stats' by_size): at most 1, 2, 4, ... */
#define ADMIT_CHECKIN_GROUP_SIZES 7
extern const double admit_checkin_group_size_bounds[ADMIT_CHECKIN_GROUP_SIZES];
struct admit_checkin_pool_stats {
    unsigned long groups;  /* group statements run */
    unsigned long scans;   /* online entries in them */
    unsigned long largest; /* online entries in the largest group */
    unsigned long waiting; /* jobs waiting now for a worker */
    /* groups by size: [i] those of at most admit_checkin_group_size_bounds[i] entries (and
     * more than the bound before); the last, those above every bound */
    unsigned long by_size[ADMIT_CHECKIN_GROUP_SIZES + 1];
};
void admit_checkin_pool_stats(struct admit_checkin_pool *pool,
                              struct admit_checkin_pool_stats *out);

/* Checks in the scans of req for the device whose token hashes to token_hash
 * (admit_device_token_hash), on the calling thread: a request of one online entry first through
 * admit_checkin_one, anything else (and what that leaves) in one transaction of the SQL
 * function admit_checkin, retried when PostgreSQL reports a deadlock (two batches from two
 * doors crossing), which the nonces make safe. On ADMIT_OK *answers is a new JSON array of
 * answer objects in the order of req->scans. ADMIT_ERR_NOT_FOUND when the token is unknown or
 * revoked (nothing stored); database errors as admit_db_query. */
enum admit_rc admit_checkin_submit(struct admit_db *db, const char *token_hash,
                                   const struct admit_checkin_request *req,
                                   const struct admit_keyring *ring,
                                   json_t **answers) ADMIT_MUST_CHECK;

/* For the entry of a single-scan request req that the group statement left undecided
 * (admit_checkin_group gave it no answer): decides it through admit_checkin at once, with the
 * ticket e's initialisation verified, neither the group statement tried nor the ticket verified
 * again. Answers as admit_checkin_submit. */
enum admit_rc admit_checkin_submit_entry(struct admit_db *db, const struct admit_checkin_entry *e,
                                         const struct admit_checkin_request *req,
                                         json_t **answers) ADMIT_MUST_CHECK;

/* One online entry scan through the group statement, alone. ADMIT_OK with *answer the answer
 * object admit_checkin_submit would give (the caller decrefs it); ADMIT_ERR_NOT_FOUND, with
 * nothing written, when it is left to the general path (admit_checkin_group says when, and a
 * concurrent writer's conflict); other database errors as admit_db_query. */
enum admit_rc admit_checkin_one(struct admit_db *db, const char *token_hash,
                                const struct admit_checkin_scan *scan,
                                const struct admit_keyring *ring, json_t **answer) ADMIT_MUST_CHECK;

/* Whether text is a sync cursor admitd could have handed out (a PostgreSQL pg_snapshot):
 * "XMIN:XMAX:" and the transactions then in progress, comma-separated, all decimal, with
 * 0 < XMIN <= XMAX and the others ascending within [XMIN, XMAX); at most 8192 characters. */
bool admit_checkin_cursor_valid(const char *text);

enum admit_sync_outcome {
    ADMIT_SYNC_OK,
    ADMIT_SYNC_UNAUTHORIZED, /* unknown or revoked token */
    ADMIT_SYNC_NOT_FOUND,    /* the slug is not the device's event */
};

/* What the device behind token_hash needs to check tickets of its event slug offline, changed
 * since the cursor since (NULL: everything): JSON text into *json (the caller frees it) with
 * event, device, cursor, full, keys (every key of ring: {"key_id", "public_key"}), lists,
 * registrations and admissions. *json is NULL unless *outcome is ADMIT_SYNC_OK.
 * ADMIT_ERR_INVALID when since is not a valid cursor; database errors as admit_db_query. */
enum admit_rc admit_checkin_sync(struct admit_db *db, const char *token_hash, const char *slug,
                                 const char *since, const struct admit_keyring *ring, char **json,
                                 enum admit_sync_outcome *outcome) ADMIT_MUST_CHECK;

/* The public keys of ring as a JSON array of {"key_id": "8 hex digits", "public_key": "64 hex
 * digits"}: what scanners verify tickets with. New reference. */
json_t *admit_checkin_keys_json(const struct admit_keyring *ring);

#endif
