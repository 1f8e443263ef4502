/* The inside of the HTTP layer: the request struct (http.c, request.c, respond.c, csrf.c) and
 * what main.c needs to run the daemon. Handlers include http.h only. */
#ifndef ADMITD_HTTP_INTERNAL_H
#define ADMITD_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "admit/core/buf.h"
#include "admit/core/csrf.h"
#include "admit/core/formdata.h"
#include "admit/core/token.h"
#include "http.h"
#include "router.h"

#define HTTP_MAX_HEADERS     16
#define HTTP_MAX_NOTES       4
#define HTTP_MAX_CSRF_TOKENS 4

struct http_extra_header {
    char *name;  /* owned */
    char *value; /* owned */
};

/* Everything about one request: created on the first call of the access handler, stored in
 * libmicrohttpd's req_cls and freed by the completion callback. */
struct http_request {
    const struct http_server *server;
    struct MHD_Connection *conn;
    enum http_method method;
    const char *method_name; /* static text for the log: "GET", ..., "OTHER" */
    struct router_match match;
    bool api_path;      /* under /api/: errors of unrouted requests are JSON */
    long long start_ns; /* CLOCK_MONOTONIC */
    char client[46];    /* INET6_ADDRSTRLEN */

    /* The body: counted as it arrives, kept (up to the limit) only for a matched route. */
    struct admit_buf body;
    unsigned long long body_seen;
    bool too_large;
    struct admit_formdata form;

    /* The answer, prepared by the handler, sent by http.c. */
    struct MHD_Response *response;
    unsigned status;
    size_t response_len;
    bool queued;
    bool deferred; /* http_defer: the connection is suspended until http_resume */
    struct http_extra_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    const char *notes[HTTP_MAX_NOTES];
    size_t nnotes;
    char sqlstate[6]; /* of a database error answered 500, for the log */

    /* CSRF (csrf.c). */
    char csrf_cookie[ADMIT_TOKEN_SIZE]; /* the browser's cookie, or a new one; "" until needed */
    bool csrf_cookie_new;               /* set it on the response */
    bool csrf_checked;
    char *csrf_tokens[HTTP_MAX_CSRF_TOKENS]; /* owned: the tokens handed out */
    size_t ncsrf_tokens;
};

/* libmicrohttpd callbacks: cls is the struct http_server. */
enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);

/* Requests between their first access-handler call and their completion. */
int http_in_flight(void);
/* From now on every response carries Connection: close (the server is stopping). */
void http_drain_begin(void);

/* Writes one line to stderr in one write(2): "admitd: " and the formatted text. */
void http_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether the request's Content-Type is type, parameters (";charset=utf-8") allowed
 * (request.c). */
bool http_content_type_is(const struct http_request *req, const char *type);
/* Answers text (static storage) as text/plain (respond.c). */
void http_respond_text(struct http_request *req, unsigned status, const char *text);

/* The Set-Cookie value of the CSRF cookie of req, when csrf.c created one (into out). */
bool http_csrf_set_cookie(const struct http_request *req, char *out, size_t outlen);

#endif
