/* The door scanner's side of the check-in API: HTTP requests to admitd with libcurl's multi
 * interface, so that no call ever holds up the thread that asks. A call is started, runs while
 * the caller waits for something else (the next scanned line) or for the call itself, and is
 * read when done; several calls (a scan's check beside a background upload) run at once, and a
 * call abandoned mid-way (its budget spent) is closed at once. Name lookups run in libcurl's
 * resolver thread, connecting and TLS handshakes are non-blocking: the only waiting is in
 * admit_checkin_client_wait, for at most the time it is given.
 *
 * Not thread-safe: one client per thread. Call curl_global_init(CURL_GLOBAL_DEFAULT) once,
 * before any thread starts, in the program's main (libcurl requires it there). */
#ifndef ADMIT_CHECKIN_CLIENT_H
#define ADMIT_CHECKIN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "admit/core/token.h"

/* Largest answer body accepted (a full sync of a 50,000-person event is about 6 MB). */
#define ADMIT_CLIENT_MAX_ANSWER (64u << 20)
/* A server key: "host_port" made of [a-z0-9._-], for state folder names. */
#define ADMIT_CLIENT_SERVER_KEY_SIZE 128

struct admit_checkin_client;
struct admit_client_call;

/* What became of a call. */
enum admit_client_status {
    ADMIT_CLIENT_OK,          /* 2xx with a JSON body */
    ADMIT_CLIENT_UNREACHABLE, /* no connection, no (whole) answer in time: try again later */
    ADMIT_CLIENT_UNAVAILABLE, /* the server answered 5xx: try again later */
    ADMIT_CLIENT_REFUSED,     /* 401: the token is unknown or revoked */
    ADMIT_CLIENT_NOT_FOUND,   /* 404 */
    ADMIT_CLIENT_REJECTED,    /* another 4xx, or a 2xx that is not JSON: the server will never
                                 take this request as it is */
};

/* Checks server_url ("http://host:port" or "https://...", an optional path prefix, no query)
 * and writes its server key into key ("127.0.0.1_8080", lower-case host, default port made
 * explicit). ADMIT_ERR_INVALID for anything else. */
enum admit_rc
admit_checkin_client_server_key(const char *server_url,
                                char key[ADMIT_CLIENT_SERVER_KEY_SIZE]) ADMIT_MUST_CHECK;

/* A client for server_url with the device token (copied; NULL or "" for none yet: then calls
 * go without Authorization) and ca_file (the certificate authorities to trust for https, PEM;
 * NULL: the system's). ADMIT_ERR_INVALID for a bad URL. Free with admit_checkin_client_free,
 * which abandons the calls still running and wipes the token. */
enum admit_rc admit_checkin_client_new(const char *server_url, const char *token,
                                       const char *ca_file,
                                       struct admit_checkin_client **out) ADMIT_MUST_CHECK;
void admit_checkin_client_free(struct admit_checkin_client *client);

/* Starts a call: method "GET" or "POST", path below the server URL ("/api/v1/device"), body
 * (POSTed as application/json; NULL for none), to be done within timeout_ms milliseconds
 * (connecting within min(timeout_ms, 1000)). Never waits. The call belongs to the caller, who
 * frees it with admit_client_call_free, done or not; it progresses only inside
 * admit_checkin_client_wait. */
struct admit_client_call *admit_checkin_client_start(struct admit_checkin_client *client,
                                                     const char *method, const char *path,
                                                     const json_t *body, long timeout_ms);

/* Moves every running call of client forward, waiting at most wait_ms milliseconds for the
 * network, for a call to finish or, when fd >= 0, for fd to be readable (or hung up). Returns
 * true when fd is readable. A signal ends the wait early. */
bool admit_checkin_client_wait(struct admit_checkin_client *client, int fd, long wait_ms);

/* Whether call has finished (answered, failed or timed out). */
bool admit_client_call_done(const struct admit_client_call *call);
/* Milliseconds from the call's start to its end (or to now while it runs). */
long admit_client_call_ms(const struct admit_client_call *call);
/* The outcome of a finished call. On ADMIT_CLIENT_OK, *answer is the parsed body (the caller
 * decrefs it); otherwise *answer is NULL, or for 4xx the parsed JSON error when there was one.
 * err (may be NULL) gets one line for a person ("connection refused", "HTTP 400
 * invalid_value: ..."), never the token. A call not done yet reads as
 * ADMIT_CLIENT_UNREACHABLE ("no answer in time"). Call it once. */
enum admit_client_status admit_client_call_result(struct admit_client_call *call, json_t **answer,
                                                  struct admit_error *err);
/* Frees call; one still running is abandoned and its connection closed at once. NULL: no-op. */
void admit_client_call_free(struct admit_client_call *call);

/* One call start to finish: admit_checkin_client_start, then waiting for it (at most
 * timeout_ms), then admit_client_call_result. Other calls of client move on meanwhile. */
enum admit_client_status admit_checkin_client_call(struct admit_checkin_client *client,
                                                   const char *method, const char *path,
                                                   const json_t *body, long timeout_ms,
                                                   json_t **answer, struct admit_error *err);

/* Percent-encodes s (RFC 3986 unreserved characters pass) and appends it to path, a buffer of
 * pathlen bytes. Returns 0, or -1 (path unchanged) when it does not fit. */
int admit_checkin_client_path_append(char *path, size_t pathlen, const char *s);

#endif
