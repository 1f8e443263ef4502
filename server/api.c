/* The check-in API for door scanners (/api/v1, JSON): checking scans in, syncing an offline door,
 * and telling a scanner which device and event its token stands for. Every call carries
 * "Authorization: Bearer TOKEN" (a device token, admit device add); the handler only hashes it,
 * and the one SQL function of the call finds the device by that hash, so a token sees its own
 * event and nothing else. Ticket signatures are verified here, against the server's keyring.
 * Errors are JSON {"error": {"status", "code", "message"}} with a stable code. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "admit/checkin/checkin.h"
#include "admit/checkin/device.h"
#include "admit/register/event.h"
#include "admit/core/mem.h"
#include "metrics.h"
#include "router.h"

static void api_error(struct http_request *req, unsigned status, const char *code,
                      const char *message)
{
    http_respond_json(req, status,
                      json_pack("{s:{s:i, s:s, s:s}}", "error", "status", (int)status, "code", code,
                                "message", message));
}

static void unauthorized(struct http_request *req, const char *message)
{
    http_log_note(req, "unauthorized");
    api_error(req, 401, "unauthorized", message);
    http_set_header(req, "WWW-Authenticate", "Bearer realm=\"admit\"");
}

/* The hash of the request's bearer token into hash; answers 401 and returns false when there
 * is none of the right shape. The token itself is wiped before returning. */
static bool bearer_hash(struct http_request *req, char hash[ADMIT_DEVICE_HASH_SIZE])
{
    char token[ADMIT_TOKEN_SIZE];
    http_no_store(req);
    if (!admit_device_bearer(http_header(req, "Authorization"), token)) {
        unauthorized(req, "Send the device token: Authorization: Bearer TOKEN "
                          "(admit device add prints one).");
        return false;
    }
    admit_device_token_hash(token, hash);
    sodium_memzero(token, sizeof token);
    return true;
}

static bool is_json(const struct http_request *req)
{
    static const char type[] = "application/json";
    const char *ct = http_header(req, "Content-Type");
    size_t n = sizeof type - 1;
    if (ct == NULL || strncasecmp(ct, type, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/* A check-in request on its way through the check-in pool (lib/checkin/checkin_pool.c). */
struct pending_checkin {
    struct admit_checkin_job job;
    struct admit_checkin_request scans;
    struct http_request *req;
    char hash[ADMIT_DEVICE_HASH_SIZE];
};

/* A single scan's answer: its verdict (200), or why it was refused (409 nonce_reused). */
static void answer_single(struct http_request *req, json_t *answer)
{
    unsigned status = admit_checkin_answer_status(answer);
    if (status != 200)
        http_log_note(req, "scan-refused");
    http_respond_json(req, status, json_incref(answer));
}

/* Counts, for /metrics, the scans of p decided offline and those of them the server flagged for
 * review (only an offline scan's answer can be flagged). */
static void count_scans(const struct pending_checkin *p)
{
    unsigned long offline = 0, flagged = 0;
    size_t i;
    json_t *a;
    for (i = 0; i < p->scans.count; i++)
        offline += p->scans.scans[i].offline && p->scans.scans[i].refused.code == NULL;
    json_array_foreach(p->job.answers, i, a) flagged += json_is_true(json_object_get(a, "flagged"));
    if (offline > 0 || flagged > 0)
        metrics_scans(offline, flagged);
}

/* Answers the outcome of p's job and frees p. */
static void answer(struct pending_checkin *p)
{
    struct admit_checkin_job *job = &p->job;
    struct http_request *req = p->req;
    if (job->rc == ADMIT_OK)
        count_scans(p);
    if (job->rc == ADMIT_ERR_NOT_FOUND)
        unauthorized(req, "This device token is unknown or was revoked.");
    else if (job->rc != ADMIT_OK)
        http_respond_db_error_on(req, job->db, job->rc);
    else if (p->scans.batch)
        http_respond_json(req, 200, json_pack("{s:O}", "results", job->answers));
    else
        answer_single(req, json_array_get(job->answers, 0));
    json_decref(job->answers);
    admit_checkin_request_free(&p->scans);
    sodium_memzero(p->hash, sizeof p->hash);
    free(p);
}

/* On a pool worker's thread: the answer, then the connection wakes. */
static void checkins_done(struct admit_checkin_job *job)
{
    struct http_request *req = ((struct pending_checkin *)job->ctx)->req;
    answer(job->ctx);
    http_resume(req);
}

/* The request is read and its tickets verified on this (HTTP) thread. A single online entry,
 * the door's everyday scan, is then decided on the check-in pool's worker, in a group with
 * other doors' scans, while this thread serves other connections; anything else (a batch, an
 * exit, an offline upload) here, through admit_checkin_submit, so that a long upload never
 * holds up the doors. */
static void checkins(struct http_request *req)
{
    struct admit_error err;
    struct pending_checkin *p = admit_xcalloc(1, sizeof *p);
    size_t len = 0;
    if (!bearer_hash(req, p->hash)) {
        free(p);
        return;
    }
    if (!is_json(req)) {
        api_error(req, 415, "unsupported_media_type",
                  "The body must be JSON (Content-Type: application/json).");
        free(p);
        return;
    }
    const char *body = http_body(req, &len);
    if (admit_checkin_parse(body, len, &p->scans, &err) != ADMIT_OK) {
        http_log_note(req, "bad-scan");
        api_error(req, admit_checkin_error_status(&err), err.code, err.message);
        admit_checkin_request_free(&p->scans);
        free(p);
        return;
    }
    p->req = req;
    admit_checkin_job_init(&p->job, p->hash, &p->scans, http_server(req)->keyring, checkins_done,
                           p);
    if (p->job.single) {
        /* Suspended before the worker can answer; resumed at once if the pool is closed
         * (admitd stopping: a kept-alive connection's last scan is decided here). */
        http_defer(req);
        if (admit_checkin_pool_submit(http_server(req)->checkin_pool, &p->job))
            return;
    }
    p->job.db = http_db(req);
    p->job.rc = admit_checkin_submit(p->job.db, p->hash, &p->scans, http_server(req)->keyring,
                                     &p->job.answers);
    bool deferred = p->job.single;
    answer(p);
    if (deferred)
        http_resume(req);
}

static void sync_event(struct http_request *req)
{
    char hash[ADMIT_DEVICE_HASH_SIZE];
    char *json = NULL;
    enum admit_sync_outcome outcome;
    const char *slug = http_param(req, "slug");
    const char *since = http_query(req, "since");
    if (!bearer_hash(req, hash))
        return;
    if (!admit_event_slug_valid(slug)) {
        api_error(req, 404, "not_found", "No event of this device has this address.");
        return;
    }
    if (since != NULL && since[0] == '\0')
        since = NULL;
    enum admit_rc rc = admit_checkin_sync(http_db(req), hash, slug, since,
                                          http_server(req)->keyring, &json, &outcome);
    if (rc == ADMIT_ERR_INVALID) {
        api_error(req, 400, "bad_cursor",
                  "\"since\" must be a cursor from an earlier sync; leave it out to get "
                  "everything.");
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (outcome == ADMIT_SYNC_UNAUTHORIZED) {
        unauthorized(req, "This device token is unknown or was revoked.");
        return;
    }
    if (outcome == ADMIT_SYNC_NOT_FOUND) {
        /* The same answer as for a slug that names nothing: a token learns nothing about
         * other events. */
        api_error(req, 404, "not_found", "No event of this device has this address.");
        return;
    }
    http_respond_bytes(req, 200, "application/json", json, strlen(json), HTTP_TAKE);
}

static void whoami(struct http_request *req)
{
    char hash[ADMIT_DEVICE_HASH_SIZE];
    char *json = NULL;
    if (!bearer_hash(req, hash))
        return;
    enum admit_rc rc = admit_device_whoami(http_db(req), hash, &json);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        unauthorized(req, "This device token is unknown or was revoked.");
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    http_respond_bytes(req, 200, "application/json", json, strlen(json), HTTP_TAKE);
}

const struct http_route api_routes[] = {
    {HTTP_POST, "/api/v1/checkins", checkins, HTTP_ROUTE_JSON | HTTP_ROUTE_NO_CSRF},
    {HTTP_GET, "/api/v1/events/:slug/sync", sync_event, HTTP_ROUTE_DB | HTTP_ROUTE_JSON},
    {HTTP_GET, "/api/v1/device", whoami, HTTP_ROUTE_DB | HTTP_ROUTE_JSON},
    {0},
};
