/* What a request handler of admitd can do: read the request, reach the database, answer.
 *
 * A handler is called once per request, after the whole body has arrived, on one of the worker
 * threads of libmicrohttpd's pool. It answers by calling exactly one of the http_respond_* /
 * http_render / http_redirect functions (a later call replaces an earlier answer); a handler
 * that answers nothing gets a 500. Handlers return nothing: every failure is an answer
 * (http_respond_error, http_respond_db_error). Strings a handler gets from this API belong to
 * the request and stay valid until the handler returns; strings and JSON it passes in are
 * copied or taken as documented per function.
 *
 * The framework around the handler (server/http.c) has already: refused a body whose length is
 * ambiguous (Transfer-Encoding with Content-Length, a transfer coding other than one "chunked",
 * Content-Length values that differ: 400, and the connection closes); matched the route and
 * decoded its parameters; answered 404, 405 (with Allow), 413 (body over --body-limit), 400 (a form
 * body that is not valid application/x-www-form-urlencoded UTF-8: see admit/formdata.h) and,
 * for routes flagged HTTP_ROUTE_DB, 503 when PostgreSQL is unreachable. After the handler it
 * adds the security headers (CSP without inline script, nosniff, Referrer-Policy: same-origin,
 * X-Frame-Options: DENY) to every response and logs one line per request with the route
 * pattern, never the path, query, cookies or body.
 *
 * CSRF: a handler that answers a POST with a success (status below 400) must have called
 * http_csrf_check first, unless its route is flagged HTTP_ROUTE_NO_CSRF; otherwise the framework
 * replaces its answer with a 500, so a forgotten check fails loudly in the tests. */
#ifndef ADMITD_HTTP_H
#define ADMITD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/csrf.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/rc.h"

struct admit_checkin_pool;
#include "admit/core/tmpl.h"

struct http_request;

/* Request methods, as bits so that a route table can say which ones a path allows. HEAD is
 * never in a route table: a HEAD request runs the GET handler and libmicrohttpd drops the body. */
enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_PATCH = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7, /* anything else: never routed */
};

typedef void (*http_handler)(struct http_request *req);

/* Route flags. */
enum {
    /* The handler needs PostgreSQL: the framework answers 503 (Retry-After) without calling it
     * when the thread's connection cannot be made ready. */
    HTTP_ROUTE_DB = 1 << 0,
    /* Errors the framework or http_respond_error produce for this route are JSON
     * ({"error": {"status", "code", "message"}}), not HTML pages: for the /api/ routes. */
    HTTP_ROUTE_JSON = 1 << 1,
    /* A POST route authenticated otherwise than by a browser cookie (API bearer tokens):
     * exempt from the CSRF rule above. */
    HTTP_ROUTE_NO_CSRF = 1 << 2,
};

/* One row of a route table. pattern is an absolute path whose segments are literals or
 * ":name" parameters ("/tickets/:token", "/events/:slug/register"); a parameter matches one
 * non-empty segment of valid UTF-8 without control characters (anything else is a 404).
 * Literal segments take precedence over parameters when both match. Tables end with a row
 * whose pattern is NULL. */
struct http_route {
    enum http_method method;
    const char *pattern;
    http_handler handler;
    unsigned flags;
};

/* Settings fixed at start and shared read-only by every thread (built by server/main.c). */
struct http_server {
    const char *dsn;         /* PostgreSQL connection string */
    const char *replica_dsn; /* --db-replica: a standby for reports and exports, or NULL */
    const char *public_url;  /* "https://tickets.example.org" or "" when not configured */
    bool secure_cookies;     /* public_url is https: cookies get Secure */
    size_t body_limit;       /* largest request body, in bytes */
    const struct admit_tmpl_set *templates;
    const struct admit_signing_key *signing_key;
    const struct admit_keyring *keyring; /* the .pub files of --keys and the signing key */
    struct admit_csrf_key csrf_key;
    const struct static_assets *assets;      /* server/static.c */
    char trusted_proxy[46];                  /* --trusted-proxy, normalised, or "" */
    struct admit_checkin_pool *checkin_pool; /* decides door scans, in groups (api.c) */
};

/* Whether text (len bytes, not NUL-terminated) is an IPv4 or IPv6 address; then its canonical
 * form ("2001:db8::1") goes into out. */
bool http_address_normalise(const char *text, size_t len, char *out, size_t outlen);

/* Reading the request. */

const struct http_server *http_server(const struct http_request *req);
/* The method; HTTP_HEAD for a HEAD request routed to a GET handler. */
enum http_method http_method(const struct http_request *req);
/* The matched route's pattern, e.g. "/tickets/:token" (what the log shows). */
const char *http_route_pattern(const struct http_request *req);
/* The value of route parameter name (":name" in the pattern, given without the colon),
 * percent-decoded. Aborts when the route has no such parameter: that is a typo in code. */
const char *http_param(const struct http_request *req, const char *name);
/* A query-string argument, decoded; NULL when absent, or when its value is not valid UTF-8 or
 * holds a NUL byte. "?a" gives "" for a. */
const char *http_query(const struct http_request *req, const char *name);
/* A request header by name (case-insensitive), or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* A cookie by name, or NULL. */
const char *http_cookie(const struct http_request *req, const char *name);
/* The raw body (at most the body limit; NUL-terminated for convenience, which *len does not
 * count). "" with *len 0 when there was none. */
const char *http_body(const struct http_request *req, size_t *len);
/* The first value of a form field of an application/x-www-form-urlencoded body, or NULL.
 * Values are valid UTF-8 without NUL bytes (others were answered 400 before the handler). */
const char *http_form(const struct http_request *req, const char *name);
/* The whole decoded form (empty when the body was not a form), for the library's form readers
 * (admit_form_values_init in admit/register/form.h). Belongs to the request. */
struct admit_formdata;
const struct admit_formdata *http_form_data(const struct http_request *req);
/* Every value of a form field in the order sent ("lists=1&lists=3"): stores up to max of them
 * in values and returns how many there are in all. */
size_t http_form_all(const struct http_request *req, const char *name, const char **values,
                     size_t max);
/* The body parsed as one JSON value, for the API; the caller owns the result (json_decref).
 * When the Content-Type is not application/json, or the body is not valid JSON (duplicate
 * object keys included), answers 415 or 400 and returns NULL: the handler just returns. */
json_t *http_json_body(struct http_request *req);
/* http_form with the signature of admit_form_lookup (admit/form.h): pass the request as ctx. */
const char *http_form_lookup(void *req, const char *name);
/* The client's address as text ("127.0.0.1", "::1"): the direct peer; or, when the peer is
 * --trusted-proxy and sent a valid X-Forwarded-For, that header's last address (the one the
 * proxy itself appended: addresses before it are the client's word, not the proxy's). */
const char *http_client(const struct http_request *req);

/* This worker thread's database handle (created on first use from --db; lib/core/db.c reconnects
 * it by itself). Never NULL. Use it for this request only; never hand it to another thread. */
struct admit_db *http_db(struct http_request *req);

/* For reports and exports only: this worker thread's connection to --db-replica (a streaming
 * standby: what it shows may lag the primary, README.md "Reading from a standby"), or http_db
 * when there is none or it cannot be reached right now (then the request's log line notes
 * replica-down and /metrics counts it). Never NULL; this request and thread only. */
struct admit_db *http_replica_db(struct http_request *req);
/* After a call on db (from http_replica_db) failed with ADMIT_ERR_DB_UNAVAILABLE: when db is
 * the replica (it went away since it was checked), http_db for a second try, noted and counted
 * as above; NULL when db was the primary already (the failure stands). */
struct admit_db *http_replica_fallback(struct http_request *req, struct admit_db *db);
/* The DSN the streamed exports open their own connection with: --db-replica when set, else
 * --db. */
const char *http_replica_dsn(const struct http_request *req);

/* Answering. */

/* How http_respond_bytes treats data. */
enum http_memory {
    HTTP_COPY,   /* copied now: the caller keeps data */
    HTTP_TAKE,   /* malloc()ed by the caller; freed by the response */
    HTTP_STATIC, /* lives until the server stops (static assets); never freed */
};

/* Renders template (a name of the template set, e.g. "event.html") with context and answers
 * with status; Content-Type follows the template's extension (.html: text/html; charset=utf-8).
 * Takes the reference to context (NULL: an empty object). When context is an object, "site"
 * ({"url": public_url}) is added unless it is there already. A render failure answers 500. */
void http_render(struct http_request *req, unsigned status, const char *template_name,
                 json_t *context);
/* 303 See Other to location (a path such as "/tickets/abc" or an absolute URL), copied. */
void http_redirect(struct http_request *req, const char *location);
/* Answers len bytes of data with content_type; see enum http_memory for who owns data. */
void http_respond_bytes(struct http_request *req, unsigned status, const char *content_type,
                        const void *data, size_t len, enum http_memory memory);
/* Streamed answers: the body is produced piece by piece while it is sent (chunked transfer
 * encoding), in constant memory, for CSV exports of any size.
 * A reader writes the next bytes of the body into buf (at most max, max > 0) and returns how
 * many (at least 1), HTTP_STREAM_END when the body is complete, or HTTP_STREAM_ERROR to break
 * the answer off (the client sees a truncated transfer, never a complete-looking body). It runs
 * on a worker thread after the handler has returned, between other requests of that thread:
 * it must use nothing of the request, and not http_db (give the stream its own connection). */
typedef long (*http_stream_reader)(void *ctx, char *buf, size_t max);
#define HTTP_STREAM_END   (-1L)
#define HTTP_STREAM_ERROR (-2L)
/* Answers with status and a body read from reader(ctx, ...). free_ctx(ctx) (may be NULL) is
 * called exactly once when the answer is done with: sent, broken off, never sent (HEAD, or
 * replaced by a later answer of the handler). The log line shows bytes=0 and note=stream. */
void http_respond_stream(struct http_request *req, unsigned status, const char *content_type,
                         http_stream_reader reader, void *ctx, void (*free_ctx)(void *ctx));
/* Answers value as compact JSON (application/json). Takes the reference to value. */
void http_respond_json(struct http_request *req, unsigned status, json_t *value);
/* The error page: error.html with {"status", "title", "message", "site"}; or, for a route
 * flagged HTTP_ROUTE_JSON (and any path under /api/), JSON {"error": {"status": 404,
 * "code": "not_found", "message": "..."}} with the code named after the status. title and
 * message are copied and shown escaped. */
void http_respond_error(struct http_request *req, unsigned status, const char *title,
                        const char *message);
/* Seconds a 503 asks clients to wait (Retry-After). */
#define HTTP_RETRY_AFTER "5"

/* 503 with Retry-After: the database is unreachable right now. */
void http_respond_unavailable(struct http_request *req);
/* Answers a failed lib/ call: 503 for ADMIT_ERR_DB_UNAVAILABLE, else 500; notes the
 * SQLSTATE in the log line (never the message, which may quote input). */
void http_respond_db_error(struct http_request *req, enum admit_rc rc);
/* The same for a call made on another connection than http_db (a worker's: http_defer). */
void http_respond_db_error_on(struct http_request *req, struct admit_db *db, enum admit_rc rc);

/* Answers later, from another thread: the handler calls http_defer, hands req to that thread
 * and returns without an answer; the connection sleeps (libmicrohttpd suspends it, the worker
 * thread moves on to other connections) until that thread has answered with http_respond_* and
 * called http_resume. Between the two calls only that thread may touch req; after
 * http_resume, nothing may. */
void http_defer(struct http_request *req);
void http_resume(struct http_request *req);

/* Adds a response header (name and value copied), applied to whatever answer the request
 * ends with: "Cache-Control: no-store" on pages that show a token, "ETag", ... Up to 16 per
 * request; more are dropped with a note in the log. Values with CR or LF are dropped.
 * A header named like one of the security headers the framework adds (Content-Security-Policy,
 * X-Frame-Options, ...) replaces it for this response: that is how a page widens the default
 * CSP, e.g. the admin pages with "script-src 'self'" for their one static script. */
void http_set_header(struct http_request *req, const char *name, const char *value);
/* Shorthand for Cache-Control: no-store. */
void http_no_store(struct http_request *req);
/* Adds a short note to the request's log line ("note=..."): static text only, never input. */
void http_log_note(struct http_request *req, const char *note);

/* CSRF (server/csrf.c; the pure parts are lib/core/csrf.c). */

/* The form field that carries the token: <input type="hidden" name="csrf_token" ...>. */
#define HTTP_CSRF_FIELD "csrf_token"

/* The token the form form_id (a name the handler chooses, e.g. "register"; the same at
 * rendering and at checking) must carry when this browser posts it. When the browser has no
 * valid CSRF cookie yet, one is created and set on this response (HttpOnly, SameSite=Strict,
 * Path=/, Secure with an https --public-url). Put the result in the template context. The
 * string belongs to the request. Aborts on an empty or over-long form_id (a code bug). */
const char *http_csrf_token(struct http_request *req, const char *form_id);
/* Checks a form post: the CSRF cookie is present, the field HTTP_CSRF_FIELD holds its token for
 * form_id, and the Origin header, when sent, is this server's (the Host header or
 * --public-url). Returns true when all hold; otherwise answers 403 and returns false, and the
 * handler must return without acting:
 *     if (!http_csrf_check(req, "register"))
 *         return;                                                                           */
bool http_csrf_check(struct http_request *req, const char *form_id);

#endif
