/* The door scanner's side of the check-in API: HTTP requests to admitd with libcurl, one
 * connection kept alive between calls, every call bounded in time so that an unreachable server
 * turns into an offline verdict in a second or two instead of a queue at the door.
 *
 * Not thread-safe: one client per thread. Call curl_global_init(CURL_GLOBAL_DEFAULT) once,
 * before any thread starts, in the program's main (libcurl requires it there). */
#ifndef ADMIT_CHECKIN_CLIENT_H
#define ADMIT_CHECKIN_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "admit/rc.h"
#include "admit/token.h"

/* Largest answer body accepted (a full sync of a 50,000-person event is about 6 MB). */
#define ADMIT_CLIENT_MAX_ANSWER (64u << 20)
/* A server key: "host_port" made of [a-z0-9._-], for state folder names. */
#define ADMIT_CLIENT_SERVER_KEY_SIZE 128

struct admit_checkin_client;

/* What became of a call. */
enum admit_client_status {
    ADMIT_CLIENT_OK,          /* 2xx with a JSON body */
    ADMIT_CLIENT_UNREACHABLE, /* no answer in time, no connection, or 5xx: try again later */
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
 * go without Authorization). ADMIT_ERR_INVALID for a bad URL. Free with
 * admit_checkin_client_free, which wipes the token. */
enum admit_rc admit_checkin_client_new(const char *server_url, const char *token,
                                       struct admit_checkin_client **out) ADMIT_MUST_CHECK;
void admit_checkin_client_free(struct admit_checkin_client *client);

/* One call: method "GET" or "POST", path below the server URL ("/api/v1/device"), body (POSTed
 * as application/json; NULL for none), in at most timeout_ms milliseconds (connecting takes at
 * most min(timeout_ms, 1000)). On ADMIT_CLIENT_OK, *answer is the parsed body (the caller
 * decrefs it); otherwise *answer is NULL, or for 4xx the parsed JSON error when there was one.
 * why (whylen bytes, may be NULL) gets one line for a person ("connection refused", "HTTP 400
 * invalid_value: ..."), never the token. */
enum admit_client_status admit_checkin_client_call(struct admit_checkin_client *client,
                                                   const char *method, const char *path,
                                                   const json_t *body, long timeout_ms,
                                                   json_t **answer, char *why, size_t whylen);

/* Percent-encodes s (RFC 3986 unreserved characters pass) and appends it to path, a buffer of
 * pathlen bytes. Returns 0, or -1 (path unchanged) when it does not fit. */
int admit_checkin_client_path_append(char *path, size_t pathlen, const char *s);

#endif
