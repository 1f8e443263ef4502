/* The answers a handler gives (http.h): pages rendered from templates, bytes, JSON, redirects,
 * error pages, and the extra headers and log notes that go with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admit/core/mem.h"
#include "http_internal.h"

/* Largest rendered page. */
#define RENDER_MAX (8u << 20)

void http_log_note(struct http_request *req, const char *note)
{
    if (req->nnotes < HTTP_MAX_NOTES)
        req->notes[req->nnotes++] = note;
}

void http_set_header(struct http_request *req, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
        http_log_note(req, "header-dropped");
        return;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            free(req->headers[i].value);
            req->headers[i].value = admit_xstrdup(value);
            return;
        }
    }
    if (req->nheaders == HTTP_MAX_HEADERS) {
        http_log_note(req, "too-many-headers");
        return;
    }
    req->headers[req->nheaders].name = admit_xstrdup(name);
    req->headers[req->nheaders].value = admit_xstrdup(value);
    req->nheaders++;
}

void http_no_store(struct http_request *req)
{
    http_set_header(req, "Cache-Control", "no-store");
}

/* Replaces the pending answer with response (NULL: libmicrohttpd could not make one, which
 * only happens without memory). */
static void set_response(struct http_request *req, unsigned status, struct MHD_Response *response,
                         size_t len, const char *content_type)
{
    if (response == NULL) {
        http_log("cannot create a response");
        abort();
    }
    if (content_type != NULL &&
        MHD_add_response_header(response, "Content-Type", content_type) != MHD_YES) {
        http_log("cannot add a header");
        abort();
    }
    if (req->response != NULL)
        MHD_destroy_response(req->response);
    req->response = response;
    req->status = status;
    req->response_len = len;
}

void http_respond_bytes(struct http_request *req, unsigned status, const char *content_type,
                        const void *data, size_t len, enum http_memory memory)
{
    enum MHD_ResponseMemoryMode mode = memory == HTTP_COPY   ? MHD_RESPMEM_MUST_COPY
                                       : memory == HTTP_TAKE ? MHD_RESPMEM_MUST_FREE
                                                             : MHD_RESPMEM_PERSISTENT;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, mode);
    set_response(req, status, r, len, content_type);
}

/* Bytes a streamed answer asks its reader for at a time. */
#define STREAM_BLOCK (32u << 10)

struct stream {
    http_stream_reader reader;
    void *ctx;
    void (*free_ctx)(void *ctx);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    (void)pos;
    long n = s->reader(s->ctx, buf, max);
    if (n > 0)
        return (ssize_t)n;
    return n == HTTP_STREAM_END ? MHD_CONTENT_READER_END_OF_STREAM
                                : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->free_ctx != NULL)
        s->free_ctx(s->ctx);
    free(s);
}

void http_respond_stream(struct http_request *req, unsigned status, const char *content_type,
                         http_stream_reader reader, void *ctx, void (*free_ctx)(void *ctx))
{
    struct stream *s = admit_xmalloc(sizeof *s);
    s->reader = reader;
    s->ctx = ctx;
    s->free_ctx = free_ctx;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_read, s, stream_free);
    if (r == NULL)
        stream_free(s);
    set_response(req, status, r, 0, content_type);
    http_log_note(req, "stream");
}

void http_respond_text(struct http_request *req, unsigned status, const char *text)
{
    http_respond_bytes(req, status, "text/plain; charset=utf-8", text, strlen(text), HTTP_STATIC);
}

/* The Content-Type of a rendered template, by its extension. */
static const char *template_type(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".xml", "application/xml; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".ics", "text/calendar; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Adds the context every page gets, unless the handler set it already. */
static void add_common_context(const struct http_request *req, json_t *context)
{
    if (!json_is_object(context) || json_object_get(context, "site") != NULL)
        return;
    json_object_set_new(context, "site", json_pack("{s:s}", "url", req->server->public_url));
}

/* Renders into a new response; false (and nothing answered) when rendering failed. */
static bool render(struct http_request *req, unsigned status, const char *name, json_t *context)
{
    struct admit_buf out;
    admit_buf_init(&out, RENDER_MAX);
    add_common_context(req, context);
    enum admit_rc rc = admit_tmpl_render(req->server->templates, name, context, &out);
    if (rc != ADMIT_OK) {
        http_log("cannot render %s: %s", name, admit_strerror(rc));
        admit_buf_free(&out);
        return false;
    }
    size_t len = 0;
    char *page = admit_buf_steal(&out, &len);
    http_respond_bytes(req, status, template_type(name), page, len, HTTP_TAKE);
    return true;
}

void http_render(struct http_request *req, unsigned status, const char *template_name,
                 json_t *context)
{
    if (context == NULL)
        context = json_object();
    if (!render(req, status, template_name, context)) {
        http_log_note(req, "render-failed");
        http_respond_error(req, 500, "Internal error", "This page could not be shown.");
    }
    json_decref(context);
}

void http_redirect(struct http_request *req, const char *location)
{
    http_respond_text(req, 303, "");
    http_set_header(req, "Location", location);
}

void http_respond_json(struct http_request *req, unsigned status, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(value);
    if (text == NULL) {
        http_log_note(req, "json-failed");
        http_respond_text(req, 500, "internal error\n");
        return;
    }
    http_respond_bytes(req, status, "application/json", text, strlen(text), HTTP_TAKE);
}

/* A stable machine-readable code per status, for JSON errors. */
static const char *status_code_name(unsigned status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 409:
        return "conflict";
    case 413:
        return "too_large";
    case 415:
        return "unsupported_media_type";
    case 422:
        return "invalid";
    case 429:
        return "too_many_requests";
    case 503:
        return "unavailable";
    default:
        return status >= 500 ? "internal" : "error";
    }
}

static bool wants_json(const struct http_request *req)
{
    if (req->match.route != NULL)
        return (req->match.route->flags & HTTP_ROUTE_JSON) != 0;
    return req->api_path;
}

void http_respond_error(struct http_request *req, unsigned status, const char *title,
                        const char *message)
{
    if (wants_json(req)) {
        http_respond_json(req, status,
                          json_pack("{s:{s:i,s:s,s:s}}", "error", "status", (int)status, "code",
                                    status_code_name(status), "message", message));
        return;
    }
    json_t *context =
        json_pack("{s:i,s:s,s:s}", "status", (int)status, "title", title, "message", message);
    if (context == NULL || !render(req, status, "error.html", context)) {
        http_log_note(req, "error-page-failed");
        http_respond_text(req, status, "The server could not answer this request.\n");
    }
    json_decref(context);
}

void http_respond_unavailable(struct http_request *req)
{
    http_respond_error(req, 503, "Temporarily unavailable",
                       "The service is briefly unavailable. Please try again in a few seconds.");
    http_set_header(req, "Retry-After", HTTP_RETRY_AFTER);
}

void http_respond_db_error_on(struct http_request *req, struct admit_db *db, enum admit_rc rc)
{
    if (rc == ADMIT_ERR_DB_UNAVAILABLE) {
        http_log_note(req, "db-unavailable");
        http_respond_unavailable(req);
        return;
    }
    http_log_note(req, "db-error");
    snprintf(req->sqlstate, sizeof req->sqlstate, "%s", admit_db_sqlstate(db));
    http_respond_error(req, 500, "Internal error",
                       "Something went wrong on our side. Please try again later.");
}

void http_respond_db_error(struct http_request *req, enum admit_rc rc)
{
    http_respond_db_error_on(req, rc == ADMIT_ERR_DB_UNAVAILABLE ? NULL : http_db(req), rc);
}
