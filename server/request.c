/* What a handler reads from a request (http.h), and its thread's database handle. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"
#include "metrics.h"

const struct http_server *http_server(const struct http_request *req)
{
    return req->server;
}

enum http_method http_method(const struct http_request *req)
{
    return req->method;
}

const char *http_route_pattern(const struct http_request *req)
{
    return req->match.route != NULL ? req->match.route->pattern : "-";
}

const char *http_param(const struct http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->match.nparams; i++) {
        const struct router_param *p = &req->match.params[i];
        if (p->name_len == n && memcmp(p->name, name, n) == 0)
            return p->value;
    }
    http_log("internal error: route %s has no parameter :%s", http_route_pattern(req), name);
    abort();
}

const char *http_query(const struct http_request *req, const char *name)
{
    const char *value = NULL;
    size_t len = 0;
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &value,
                                      &len) != MHD_YES)
        return NULL;
    if (value == NULL)
        return ""; /* "?name" without '=' */
    return admit_formdata_text_valid(value, len) ? value : NULL;
}

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *http_body(const struct http_request *req, size_t *len)
{
    *len = req->body.len;
    return admit_buf_cstr(&req->body);
}

const char *http_form(const struct http_request *req, const char *name)
{
    return admit_formdata_get(&req->form, name);
}

const struct admit_formdata *http_form_data(const struct http_request *req)
{
    return &req->form;
}

size_t http_form_all(const struct http_request *req, const char *name, const char **values,
                     size_t max)
{
    return admit_formdata_get_all(&req->form, name, values, max);
}

bool http_content_type_is(const struct http_request *req, const char *type)
{
    const char *ct = http_header(req, "Content-Type");
    size_t n = strlen(type);
    if (ct == NULL || strncasecmp(ct, type, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

json_t *http_json_body(struct http_request *req)
{
    json_error_t error;
    if (!http_content_type_is(req, "application/json")) {
        http_respond_error(req, 415, "Unsupported media type",
                           "The request body must be JSON (Content-Type: application/json).");
        return NULL;
    }
    json_t *value = json_loadb(req->body.data != NULL ? req->body.data : "", req->body.len,
                               JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (value == NULL) {
        http_log_note(req, "bad-json");
        http_respond_error(req, 400, "Bad request", "The request body is not valid JSON.");
    }
    return value;
}

const char *http_form_lookup(void *req, const char *name)
{
    return http_form(req, name);
}

const char *http_client(const struct http_request *req)
{
    return req->client;
}

static pthread_key_t db_key, replica_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void free_thread_db(void *db)
{
    admit_db_free(db);
}

static void make_db_key(void)
{
    if (pthread_key_create(&db_key, free_thread_db) != 0 ||
        pthread_key_create(&replica_key, free_thread_db) != 0) {
        http_log("cannot create a thread-local key");
        abort();
    }
}

/* The thread's handle under key, made for dsn on first use. */
static struct admit_db *thread_db(pthread_key_t *key, const char *dsn)
{
    pthread_once(&db_key_once, make_db_key);
    struct admit_db *db = pthread_getspecific(*key);
    if (db == NULL) {
        db = admit_db_new(dsn);
        if (pthread_setspecific(*key, db) != 0) {
            http_log("cannot store the thread's database handle");
            abort();
        }
    }
    return db;
}

struct admit_db *http_db(struct http_request *req)
{
    return thread_db(&db_key, req->server->dsn);
}

struct admit_db *http_replica_db(struct http_request *req)
{
    if (req->server->replica_dsn == NULL)
        return http_db(req);
    struct admit_db *replica = thread_db(&replica_key, req->server->replica_dsn);
    if (admit_db_ready(replica) == ADMIT_OK)
        return replica;
    /* Down, or not (yet) migrated: the primary answers, as if there were no replica. */
    http_log_note(req, "replica-down");
    metrics_replica_fallback();
    return http_db(req);
}

struct admit_db *http_replica_fallback(struct http_request *req, struct admit_db *db)
{
    if (db == http_db(req))
        return NULL;
    http_log_note(req, "replica-down");
    metrics_replica_fallback();
    return http_db(req);
}

const char *http_replica_dsn(const struct http_request *req)
{
    return req->server->replica_dsn != NULL ? req->server->replica_dsn : req->server->dsn;
}
