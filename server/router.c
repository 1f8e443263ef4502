#include "router.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "admit/core/formdata.h"
#include "admit/core/mem.h"

/* Segments one pattern or a matchable path may have. */
#define MAX_SEGMENTS 32

static const struct {
    enum http_method method;
    const char *name;
} method_names[] = {
    {HTTP_GET, "GET"},     {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},       {HTTP_PUT, "PUT"},
    {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"}, {HTTP_OPTIONS, "OPTIONS"},
};

void router_allow_header(unsigned allowed, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++) {
        if (!(allowed & method_names[i].method))
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", method_names[i].name);
        if (n < 0 || (size_t)n >= outlen - used)
            break;
        used += (size_t)n;
    }
}

/* The length of the segment starting at s (up to the next '/' or the end). */
static size_t segment_len(const char *s)
{
    return strcspn(s, "/");
}

static void route_error(struct admit_error *err, const struct http_route *r, const char *why)
{
    admit_error_set(err, "route %s: %s", r->pattern ? r->pattern : "(null)", why);
}

/* Checks one pattern alone; returns NULL or why it is malformed. */
static const char *pattern_problem(const char *pattern)
{
    const char *names[ROUTER_MAX_PARAMS];
    size_t lens[ROUTER_MAX_PARAMS];
    size_t nparams = 0;
    size_t nsegments = 0;
    if (pattern[0] != '/')
        return "the pattern must start with '/'";
    if (strcmp(pattern, "/") == 0)
        return NULL;
    for (const char *p = pattern + 1;; p++) {
        size_t n = segment_len(p);
        if (n == 0)
            return "empty segment (\"//\" or a trailing '/')";
        if (++nsegments > MAX_SEGMENTS)
            return "too many segments";
        if (p[0] == ':') {
            if (n == 1)
                return "a parameter without a name";
            if (nparams == ROUTER_MAX_PARAMS)
                return "too many parameters";
            for (size_t i = 0; i < nparams; i++)
                if (lens[i] == n - 1 && memcmp(names[i], p + 1, n - 1) == 0)
                    return "two parameters with the same name";
            names[nparams] = p + 1;
            lens[nparams++] = n - 1;
        }
        p += n;
        if (*p == '\0')
            return NULL;
    }
}

/* Whether two patterns match the same paths: equal literals, parameters at the same places. */
static bool same_shape(const char *a, const char *b)
{
    for (;;) {
        size_t na = segment_len(a);
        size_t nb = segment_len(b);
        bool param_a = a[0] == ':';
        bool param_b = b[0] == ':';
        if (param_a != param_b || (!param_a && (na != nb || memcmp(a, b, na) != 0)))
            return false;
        a += na;
        b += nb;
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        a++;
        b++;
    }
}

static bool one_routable_method(enum http_method m)
{
    return m == HTTP_GET || m == HTTP_POST || m == HTTP_PUT || m == HTTP_DELETE ||
           m == HTTP_PATCH || m == HTTP_OPTIONS;
}

enum admit_rc router_check(const struct http_route *const *tables, struct admit_error *err)
{
    admit_error_clear(err);
    for (size_t t = 0; tables[t] != NULL; t++) {
        for (const struct http_route *r = tables[t]; r->pattern != NULL; r++) {
            const char *why = pattern_problem(r->pattern);
            if (why == NULL && r->handler == NULL)
                why = "no handler";
            if (why == NULL && !one_routable_method(r->method))
                why = "the method must be one of GET POST PUT DELETE PATCH OPTIONS (HEAD is "
                      "served by GET)";
            if (why != NULL) {
                route_error(err, r, why);
                return ADMIT_ERR_INVALID;
            }
            /* Compare with every route before it, in this table and the earlier ones. */
            for (size_t u = 0; u <= t; u++) {
                for (const struct http_route *q = tables[u]; q->pattern != NULL && q != r; q++) {
                    if (q->method == r->method && same_shape(q->pattern, r->pattern)) {
                        admit_error_set(err, "routes %s and %s match the same requests", q->pattern,
                                        r->pattern);
                        return ADMIT_ERR_INVALID;
                    }
                }
            }
        }
    }
    return ADMIT_OK;
}

/* A parameter value must be printable UTF-8: it ends up in SQL parameters and pages. */
static bool param_value_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return admit_formdata_text_valid(s, n);
}

/* Matches pattern against the path segments; returns false or true with *score set (one bit
 * per segment, most significant first, set for literals: higher is more specific). */
static bool pattern_matches(const char *pattern, char *const *segments, size_t nsegments,
                            uint64_t *score)
{
    size_t i = 0;
    *score = 0;
    if (strcmp(pattern, "/") == 0)
        return nsegments == 0;
    for (const char *p = pattern + 1;; i++) {
        size_t n = segment_len(p);
        if (i == nsegments)
            return false;
        if (p[0] == ':') {
            if (segments[i][0] == '\0' || !param_value_ok(segments[i]))
                return false;
        } else {
            if (strlen(segments[i]) != n || memcmp(segments[i], p, n) != 0)
                return false;
            *score |= (uint64_t)1 << (MAX_SEGMENTS - 1 - i);
        }
        p += n;
        if (*p == '\0')
            return i + 1 == nsegments;
        p++;
    }
}

static void fill_params(struct router_match *m, char *const *segments)
{
    const char *p = m->route->pattern;
    size_t i = 0;
    m->nparams = 0;
    if (strcmp(p, "/") == 0)
        return;
    for (p++;; i++) {
        size_t n = segment_len(p);
        if (p[0] == ':' && m->nparams < ROUTER_MAX_PARAMS) {
            struct router_param *param = &m->params[m->nparams++];
            param->name = p + 1;
            param->name_len = n - 1;
            param->value = segments[i];
        }
        p += n;
        if (*p == '\0')
            return;
        p++;
    }
}

size_t router_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    for (const char *p = strchr(s, '%'); p != NULL; p = strchr(p + 1, '%')) {
        if (p[1] == '0' && p[2] == '0') {
            s[0] = '\0';
            return 0;
        }
    }
    return MHD_http_unescape(s);
}

static void nul_in_path(struct http_request *req)
{
    http_log_note(req, "nul-in-path");
    http_respond_error(req, 400, "Bad request",
                       "This address holds an encoded NUL character (%00), which no address of "
                       "this site has. Check the link you followed.");
}

/* What a path emptied by router_unescape matches, whatever the method. */
static const struct http_route nul_route = {HTTP_GET, "/%00", nul_in_path, HTTP_ROUTE_NO_CSRF};

void router_match(const struct http_route *const *tables, enum http_method method, const char *path,
                  struct router_match *m)
{
    char *segments[MAX_SEGMENTS];
    size_t nsegments = 0;
    uint64_t best = 0;
    enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;

    memset(m, 0, sizeof *m);
    if (path != NULL && path[0] == '\0') {
        m->route = &nul_route; /* router_unescape found %00: no request has an empty path */
        return;
    }
    if (path == NULL || path[0] != '/')
        return;
    m->path = admit_xstrdup(path);
    if (m->path[1] != '\0') {
        for (char *s = m->path + 1;; nsegments++) {
            if (nsegments == MAX_SEGMENTS)
                return; /* longer than any pattern can be */
            segments[nsegments] = s;
            s += segment_len(s);
            if (*s == '\0') {
                nsegments++;
                break;
            }
            *s++ = '\0';
        }
    }
    for (size_t t = 0; tables[t] != NULL; t++) {
        for (const struct http_route *r = tables[t]; r->pattern != NULL; r++) {
            uint64_t score;
            if (!pattern_matches(r->pattern, segments, nsegments, &score))
                continue;
            m->allowed |= (unsigned)r->method;
            if (r->method == want && (m->route == NULL || score > best)) {
                m->route = r;
                best = score;
            }
        }
    }
    if (m->allowed & HTTP_GET)
        m->allowed |= HTTP_HEAD;
    if (m->route != NULL)
        fill_params(m, segments);
}

void router_match_free(struct router_match *m)
{
    free(m->path);
    memset(m, 0, sizeof *m);
}
