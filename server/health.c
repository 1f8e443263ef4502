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

#include "admit/health.h"
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
    http_no_store(req);
    if (rc == ADMIT_OK && applied == expected) {
        http_respond_bytes(req, 200, "text/plain; charset=utf-8", ok, sizeof ok - 1, HTTP_STATIC);
        return;
    }
    if (rc == ADMIT_OK) {
        int n = snprintf(schema, sizeof schema,
                         "ok: database at migration %d, this admitd is built for %d: restart it "
                         "on the new release\n",
                         applied, expected);
        http_log_note(req, "db-ahead");
        http_respond_bytes(req, 200, "text/plain; charset=utf-8", schema, (size_t)n, HTTP_COPY);
        return;
    }
    if (rc == ADMIT_ERR_STATE) {
        int n = snprintf(schema, sizeof schema,
                         "database at migration %d, this admitd is built for %d: run admit "
                         "migrate\n",
                         applied, expected);
        http_log_note(req, "db-behind");
        http_respond_bytes(req, 503, "text/plain; charset=utf-8", schema, (size_t)n, HTTP_COPY);
    } else {
        http_log_note(req, rc == ADMIT_ERR_DB_UNAVAILABLE ? "db-unavailable" : "db-error");
        http_respond_bytes(req, 503, "text/plain; charset=utf-8", down, sizeof down - 1,
                           HTTP_STATIC);
    }
    http_set_header(req, "Retry-After", HTTP_RETRY_AFTER);
}

const struct http_route health_routes[] = {
    {HTTP_GET, "/healthz", healthz, 0},
    {HTTP_GET, "/livez", livez, 0},
    {0},
};
