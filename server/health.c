/* Health checks for load balancers and monitoring; no template, no cookies, never cached.
 *   GET /livez    200 "alive" while the process answers HTTP; never touches the database (a
 *                 supervisor restarts a process that stops answering this, not one whose
 *                 database is away: restarting would not bring the database back).
 *   GET /healthz  200 "ok" when this worker's database connection answers and the database
 *                 holds the migrations this admitd was built with; 503 with Retry-After
 *                 otherwise (unreachable; behind: run admit migrate), so that a load balancer
 *                 sends requests elsewhere. A database a newer release has migrated further is
 *                 still "ok" (with a note): that is every old instance during a rolling
 *                 upgrade, and taking them all out at once would stop the site. */
#include <stdio.h>

#include "admit/core/health.h"
#include "router.h"

static void livez(struct http_request *req)
{
    static const char alive[] = "alive\n";
    http_no_store(req);
    http_respond_bytes(req, 200, "text/plain; charset=utf-8", alive, sizeof alive - 1, HTTP_STATIC);
}

static void healthz(struct http_request *req)
{
    static const char ok[] = "ok\n";
    static const char down[] = "database unavailable\n";
    char schema[160];
    int applied = 0, expected = 0;
    enum admit_rc rc = admit_health_schema(http_db(req), &applied, &expected);
    unsigned status = rc == ADMIT_OK ? 200 : 503;
    const char *body = rc == ADMIT_OK ? ok : down;
    size_t len = rc == ADMIT_OK ? sizeof ok - 1 : sizeof down - 1;
    enum http_memory memory = HTTP_STATIC;
    if ((rc == ADMIT_OK && applied != expected) || rc == ADMIT_ERR_STATE) {
        /* Ahead (a newer release migrated it: still in service) or behind. */
        int n = snprintf(schema, sizeof schema,
                         rc == ADMIT_OK ? "ok: database at migration %d, this admitd is built for "
                                          "%d: restart it on the new release\n"
                                        : "database at migration %d, this admitd is built for "
                                          "%d: run admit migrate\n",
                         applied, expected);
        body = schema;
        len = (size_t)n;
        memory = HTTP_COPY;
        http_log_note(req, rc == ADMIT_OK ? "db-ahead" : "db-behind");
    } else if (rc != ADMIT_OK) {
        http_log_note(req, rc == ADMIT_ERR_DB_UNAVAILABLE ? "db-unavailable" : "db-error");
    }
    http_no_store(req);
    http_respond_bytes(req, status, "text/plain; charset=utf-8", body, len, memory);
    if (status == 503)
        http_set_header(req, "Retry-After", HTTP_RETRY_AFTER);
}

const struct http_route health_routes[] = {
    {HTTP_GET, "/healthz", healthz, 0},
    {HTTP_GET, "/livez", livez, 0},
    {0},
};
