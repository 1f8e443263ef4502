/* The request lifecycle on top of libmicrohttpd: one struct http_request per request, the body
 * counted and bounded as it arrives, routing, the answer queued on a later call than the first
 * (queueing on the first call makes libmicrohttpd close the connection), security headers on
 * every response, and one log line per request at completion. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admit/core/mem.h"
#include "conn_guard.h"
#include "metrics.h"

/* Fields of a form body at most. */
#define MAX_FORM_FIELDS 256
/* Bytes of a chunked body read and dropped past the limit before the connection is closed. */
#define DISCARD_MAX (1u << 20)

static const struct {
    const char *name;
    const char *value;
} security_headers[] = {
    /* No inline script or style anywhere: templates link /static/ files. */
    {"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    /* Ticket URLs hold access tokens: never leak them to other sites. */
    /* same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with
     * same-origin form posts, which the CSRF check must refuse; same-origin still sends no
     * ticket URL (token) to any other site. */
    {"Referrer-Policy", "same-origin"},
    {"X-Frame-Options", "DENY"},
};

static atomic_int in_flight;
static atomic_bool draining;

int http_in_flight(void)
{
    return atomic_load(&in_flight);
}

void http_drain_begin(void)
{
    atomic_store(&draining, true);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void http_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n = snprintf(line, sizeof line, "admitd: ");
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    while (len > (size_t)n && line[len - 1] == ' ')
        len--;
    line[len++] = '\n';
    /* One write per line: lines of concurrent threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

static enum http_method parse_method(const char *method, const char **name)
{
    static const struct {
        const char *name;
        enum http_method method;
    } methods[] = {
        {"GET", HTTP_GET},         {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
        {"PUT", HTTP_PUT},         {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
        {"OPTIONS", HTTP_OPTIONS},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcmp(method, methods[i].name) == 0) {
            *name = methods[i].name;
            return methods[i].method;
        }
    }
    /* Never log what the client chose to call its method. */
    *name = "OTHER";
    return HTTP_OTHER;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *ok = NULL;
    if (info != NULL && info->client_addr != NULL) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET)
            ok = inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                           (socklen_t)outlen);
        else if (sa->sa_family == AF_INET6)
            ok = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                           out, (socklen_t)outlen);
    }
    if (ok == NULL)
        snprintf(out, outlen, "-");
}

bool http_address_normalise(const char *text, size_t len, char *out, size_t outlen)
{
    char buf[64];
    unsigned char addr[sizeof(struct in6_addr)];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1)
        return inet_ntop(AF_INET, addr, out, (socklen_t)outlen) != NULL;
    if (inet_pton(AF_INET6, buf, addr) == 1)
        return inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) != NULL;
    return false;
}

/* Behind --trusted-proxy: the last address of its X-Forwarded-For replaces the peer's. A
 * missing or malformed header leaves the peer (the proxy) as the client. */
static void forwarded_client(const struct http_server *server, struct MHD_Connection *conn,
                             char *client, size_t clientlen)
{
    if (server->trusted_proxy[0] == '\0' || strcmp(client, server->trusted_proxy) != 0)
        return;
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff == NULL)
        return;
    const char *last = strrchr(xff, ',');
    last = last != NULL ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    size_t len = strlen(last);
    while (len > 0 && (last[len - 1] == ' ' || last[len - 1] == '\t'))
        len--;
    char addr[46];
    if (http_address_normalise(last, len, addr, sizeof addr))
        snprintf(client, clientlen, "%s", addr);
}

static struct http_request *request_new(const struct http_server *server,
                                        struct MHD_Connection *conn, const char *url,
                                        const char *method)
{
    struct http_request *req = admit_xcalloc(1, sizeof *req);
    req->server = server;
    req->conn = conn;
    req->start_ns = now_ns();
    req->method = parse_method(method, &req->method_name);
    admit_buf_init(&req->body, server->body_limit);
    admit_formdata_init(&req->form);
    client_address(conn, req->client, sizeof req->client);
    forwarded_client(server, conn, req->client, sizeof req->client);
    router_match(http_route_tables, req->method, url, &req->match);
    req->api_path = strncmp(url, "/api/", 5) == 0;
    atomic_fetch_add(&in_flight, 1);
    return req;
}

static void free_extra_headers(struct http_request *req)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    req->nheaders = 0;
}

static void request_free(struct http_request *req)
{
    if (req->response != NULL)
        MHD_destroy_response(req->response);
    router_match_free(&req->match);
    admit_buf_free(&req->body);
    admit_formdata_free(&req->form);
    free_extra_headers(req);
    for (size_t i = 0; i < req->ncsrf_tokens; i++)
        free(req->csrf_tokens[i]);
    free(req);
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
    if (MHD_add_response_header(r, name, value) != MHD_YES)
        http_log("cannot add the header %s", name);
}

/* Whether the handler set a header of this name (it then replaces the framework's). */
static bool handler_sets(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return true;
    return false;
}

/* Sends the pending answer (a 500 if the handler gave none), with every header. */
static enum MHD_Result queue(struct http_request *req)
{
    char cookie[160];
    if (req->response == NULL) {
        http_log_note(req, "no-answer");
        http_respond_text(req, 500, "internal error\n");
    }
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        if (!handler_sets(req, security_headers[i].name))
            add_header(req->response, security_headers[i].name, security_headers[i].value);
    for (size_t i = 0; i < req->nheaders; i++)
        add_header(req->response, req->headers[i].name, req->headers[i].value);
    if (http_csrf_set_cookie(req, cookie, sizeof cookie))
        add_header(req->response, "Set-Cookie", cookie);
    if (atomic_load(&draining))
        add_header(req->response, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(req->conn, req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    req->queued = true;
    if (req->method == HTTP_HEAD || req->status == 304 || req->status == 204)
        req->response_len = 0;
    return ret;
}

static void respond_too_large(struct http_request *req)
{
    char message[128];
    snprintf(message, sizeof message, "A request body may hold at most %zu bytes.",
             req->server->body_limit);
    http_respond_error(req, 413, "Request too large", message);
}

/* The framing headers of a request, counted (framing_problem). */
struct framing {
    unsigned transfer_encodings; /* Transfer-Encoding field lines */
    bool other_coding;           /* one of them is not exactly "chunked" */
    unsigned content_lengths;    /* Content-Length field lines */
    const char *content_length;  /* the last one's value */
    bool lengths_differ;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (value == NULL)
        value = "";
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encodings++;
        f->other_coding |= strcasecmp(value, "chunked") != 0;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->lengths_differ |= f->content_length != NULL && strcmp(f->content_length, value) != 0;
        f->content_length = value;
        f->content_lengths++;
    }
    return MHD_YES;
}

/* Why the body of this request is framed ambiguously, or NULL when it is not (RFC 9112 §6.1 and
 * §6.3, RFC 9110 §8.6). libmicrohttpd 0.9.75 frames a body by chunked encoding when
 * Transfer-Encoding is present and ignores Content-Length, takes the first of several
 * Content-Length values, and reads a body of any other transfer coding until the client closes:
 * behind a proxy that frames the body the other way, the difference is a smuggled request.
 * Identical repeated Content-Length values are one length (RFC 9110 §8.6 allows that). */
static const char *framing_problem(struct MHD_Connection *conn, const char *version)
{
    struct framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    if (f.transfer_encodings > 0 && f.content_lengths > 0)
        return "it has both Transfer-Encoding and Content-Length";
    if (f.transfer_encodings > 1 || f.other_coding)
        return "the only transfer coding accepted is a single \"chunked\"";
    if (f.transfer_encodings > 0 && version != NULL && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
        return "HTTP/1.0 has no Transfer-Encoding";
    if (f.lengths_differ)
        return "its Content-Length values differ";
    return NULL;
}

/* Everything between the last byte of the body and the handler's answer. */
static void dispatch(struct http_request *req)
{
    const struct http_route *route = req->match.route;
    if (route == NULL && req->match.allowed != 0) {
        char allow[64];
        router_allow_header(req->match.allowed, allow, sizeof allow);
        http_respond_error(req, 405, "Method not allowed",
                           "This address does not accept that kind of request.");
        http_set_header(req, "Allow", allow);
        return;
    }
    if (route == NULL) {
        http_respond_error(req, 404, "Page not found",
                           "There is no page at this address. Check the link you followed.");
        return;
    }
    if (req->body.len > 0 && http_content_type_is(req, "application/x-www-form-urlencoded")) {
        struct admit_error why;
        if (admit_formdata_parse(&req->form, req->body.data, req->body.len, MAX_FORM_FIELDS,
                                 &why) != ADMIT_OK) {
            char message[sizeof why.message + 32];
            snprintf(message, sizeof message, "The form could not be read: %s.", why.message);
            http_log_note(req, "bad-form");
            http_respond_error(req, 400, "Bad request", message);
            return;
        }
    }
    if (route->flags & HTTP_ROUTE_DB) {
        enum admit_rc rc = admit_db_ready(http_db(req));
        if (rc != ADMIT_OK) {
            http_respond_db_error(req, rc);
            return;
        }
    }
    route->handler(req);
    if (req->deferred)
        return; /* req belongs to the thread that will answer */
    if (req->response != NULL && req->method == HTTP_POST && !req->csrf_checked &&
        !(route->flags & HTTP_ROUTE_NO_CSRF) && req->status < 400) {
        http_log("internal error: the handler of POST %s answered without http_csrf_check",
                 route->pattern);
        http_log_note(req, "csrf-unchecked");
        free_extra_headers(req); /* a Location, a cookie: none of the refused answer stays */
        req->csrf_cookie_new = false;
        http_respond_error(req, 500, "Internal error", "This form could not be processed.");
    }
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
    const struct http_server *server = cls;
    struct http_request *req = *req_cls;
    if (req == NULL) {
        req = request_new(server, conn, url, method);
        *req_cls = req;
        const char *framing = framing_problem(conn, version);
        if (framing != NULL) {
            /* Answered before the body, like the 413 below: libmicrohttpd then reads none of
             * it and closes the connection after the answer. */
            char message[160];
            snprintf(message, sizeof message, "The length of the request is ambiguous: %s.",
                     framing);
            http_log_note(req, "bad-framing");
            http_respond_error(req, 400, "Bad request", message);
            conn_guard_busy(conn);
            return queue(req);
        }
        const char *length = http_header(req, "Content-Length");
        if (length != NULL && strtoull(length, NULL, 10) > server->body_limit) {
            /* Answering now, before the body, makes libmicrohttpd close the connection after
             * the answer instead of reading (and us counting) the whole body. */
            respond_too_large(req);
            conn_guard_busy(conn);
            return queue(req);
        }
        /* The body's deadline starts with the end of the headers (conn_guard.h). */
        if (http_header(req, "Transfer-Encoding") != NULL ||
            (length != NULL && strtoull(length, NULL, 10) > 0))
            conn_guard_receiving_body(conn);
        else
            conn_guard_busy(conn);
        /* Answer on a later call: an answer queued on this first call makes libmicrohttpd
         * close the connection (no keep-alive). */
        return MHD_YES;
    }
    if (req->queued) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->deferred) {
        /* Resumed (http_resume): the other thread's answer is there. */
        req->deferred = false;
        return queue(req);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        req->body_seen += n;
        if (req->body_seen > server->body_limit) {
            /* A body without Content-Length (chunked) went over the limit. libmicrohttpd
             * 0.9.75 cannot queue an answer in the middle of a body, so the rest is read and
             * dropped, and 413 answered at its end; a client that keeps sending far beyond
             * the limit is disconnected without an answer. */
            req->too_large = true;
            admit_buf_free(&req->body);
            if (req->body_seen - server->body_limit > DISCARD_MAX) {
                http_log_note(req, "body-abandoned");
                return MHD_NO;
            }
            return MHD_YES;
        }
        /* Only a routed request keeps its body; the append fits, body.max is the limit. */
        if (req->match.route != NULL && admit_buf_append(&req->body, upload_data, n) != ADMIT_OK)
            abort();
        return MHD_YES;
    }
    conn_guard_busy(conn); /* the whole request is in */
    if (req->too_large) {
        respond_too_large(req);
    } else {
        dispatch(req);
        if (req->deferred)
            return MHD_YES; /* suspended: no field of req may be read now */
    }
    return queue(req);
}

void http_defer(struct http_request *req)
{
    req->deferred = true;
    MHD_suspend_connection(req->conn);
}

void http_resume(struct http_request *req)
{
    MHD_resume_connection(req->conn);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read-error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client-abort";
    default:
        return "unknown";
    }
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
    struct http_request *req = *req_cls;
    (void)cls;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        conn_guard_idle(conn); /* kept alive: the idle limit applies until the next request */
    if (req == NULL)
        return;
    *req_cls = NULL;
    long long us = (now_ns() - req->start_ns) / 1000;
    struct timespec wall;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &wall);
    gmtime_r(&wall.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    char extra[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < req->nnotes && used < sizeof extra; i++) {
        int n = snprintf(extra + used, sizeof extra - used, " note=%s", req->notes[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (req->sqlstate[0] != '\0' && used < sizeof extra) {
        int n = snprintf(extra + used, sizeof extra - used, " sqlstate=%s", req->sqlstate);
        used += n > 0 ? (size_t)n : 0;
    }
    const char *end = termination_name(toe);
    const char *guard_end = end != NULL ? conn_guard_closed_why(conn) : NULL;
    if (guard_end != NULL)
        end = guard_end; /* "header-deadline", "body-deadline", "idle", "shed" */
    if (end != NULL && used < sizeof extra)
        snprintf(extra + used, sizeof extra - used, " end=%s", end);
    /* The route pattern, never the path: paths carry ticket tokens. */
    http_log("time=%s.%03ldZ method=%s route=%s status=%u us=%lld bytes=%zu%s", when,
             wall.tv_nsec / 1000000, req->method_name, http_route_pattern(req), req->status, us,
             req->queued ? req->response_len : 0, extra);
    if (req->queued)
        metrics_request(req->match.route, req->status, us);
    request_free(req);
    atomic_fetch_sub(&in_flight, 1);
}
