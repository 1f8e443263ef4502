/* Route tables and matching a request path against them.
 *
 * Each area of admitd (health, static assets, public pages, tickets, admin, API) defines one
 * table of struct http_route (server/http.h) in its own file; server/routes.c lists the tables.
 * To add an area: define `const struct http_route NAME_routes[]` (ending with {0}) in its file,
 * declare it below, and add NAME_routes to http_route_tables in server/routes.c. The tables are
 * checked at start (router_check), so a malformed pattern or a duplicate route stops admitd
 * with a message instead of answering 404 in production. */
#ifndef ADMITD_ROUTER_H
#define ADMITD_ROUTER_H

#include <stddef.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "http.h"

/* The tables admitd serves, NULL-terminated (server/routes.c). */
extern const struct http_route *const http_route_tables[];

/* One table per area. */
extern const struct http_route health_routes[];     /* server/health.c */
extern const struct http_route static_routes[];     /* server/static.c */
extern const struct http_route public_routes[];     /* server/public.c */
extern const struct http_route ticket_routes[];     /* server/tickets.c */
extern const struct http_route admin_routes[];      /* server/admin.c: the organisers' area */
extern const struct http_route api_routes[];        /* server/api.c: the check-in API */
extern const struct http_route resend_routes[];     /* server/resend.c: send my ticket again */
extern const struct http_route edit_routes[];       /* server/edit.c: the attendee edits */
extern const struct http_route admin_edit_routes[]; /* server/admin_edit.c: organisers edit */
extern const struct http_route paper_routes[];      /* server/paper.c: certificates, /verify */

/* The organisers' area, continued: door devices, organisers, password links. */
extern const struct http_route admin_device_routes[];    /* server/admin_devices.c */
extern const struct http_route admin_question_routes[];  /* server/admin_questions.c */
extern const struct http_route admin_organiser_routes[]; /* server/admin_organisers.c */
extern const struct http_route admin_password_routes[];  /* server/admin_password.c */
extern const struct http_route privacy_routes[];         /* server/admin_privacy.c: personal data */
extern const struct http_route ticket_data_routes[];     /* server/ticket_data.c: "your data" */

/* Parameters one pattern may have. */
#define ROUTER_MAX_PARAMS 8

struct router_param {
    const char *name;  /* points into the pattern, after the ':' */
    size_t name_len;   /* the name ends at the next '/' or the end of the pattern */
    const char *value; /* decoded, NUL-terminated; points into the match's copy of the path */
};

struct router_match {
    const struct http_route *route; /* NULL when no route has this path and method */
    unsigned allowed; /* methods (enum http_method bits) of the routes matching the path;
                         HEAD is included whenever GET is; 0 when the path is unknown */
    struct router_param params[ROUTER_MAX_PARAMS];
    size_t nparams;
    char *path; /* owned: the path split into segments */
};

/* Checks every route of tables: a method that is one enum http_method bit other than HEAD and
 * OTHER, a handler, a pattern that starts with '/', has no empty segment and at most
 * ROUTER_MAX_PARAMS parameters with non-empty names, distinct per pattern; and no two routes
 * with the same method and the same pattern shape. ADMIT_ERR_INVALID with err
 * naming the route otherwise. */
enum admit_rc router_check(const struct http_route *const *tables,
                           struct admit_error *err) ADMIT_MUST_CHECK;

/* libmicrohttpd's unescape callback (MHD_OPTION_UNESCAPE_CALLBACK) for paths and query
 * arguments: decodes %HH escapes in s in place as libmicrohttpd does (MHD_http_unescape), except
 * that a value holding %00 becomes "" (a C string would end at the NUL: /events/x%00y would be
 * served as /events/x). Returns the decoded length. */
struct MHD_Connection;
size_t router_unescape(void *cls, struct MHD_Connection *conn, char *s);

/* Matches path (as libmicrohttpd gives it: decoded, without the query) against tables for
 * method (HEAD is served by GET routes). Among the routes of the method whose pattern matches,
 * the most specific wins: comparing segment by segment, a literal beats a parameter. An empty
 * path (router_unescape's %00) matches a route of its own, whatever the method, that answers
 * 400. Fills *m; free it with router_match_free. */
void router_match(const struct http_route *const *tables, enum http_method method, const char *path,
                  struct router_match *m);
void router_match_free(struct router_match *m);

/* "GET, HEAD, POST" for the bits of allowed, into out (outlen bytes), for the Allow header. */
void router_allow_header(unsigned allowed, char *out, size_t outlen);

#endif
