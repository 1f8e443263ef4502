/* GET /healthz: 200 "ok" when this worker's database connection answers a query, 503 (with
 * Retry-After) when it does not. For load balancers and monitoring; no template, no cookies. */
#include "router.h"

static void healthz(struct http_request *req)
{
    static const char ok[] = "ok\n";
    static const char down[] = "database unavailable\n";
    enum admit_rc rc = admit_db_ping(http_db(req));
    http_no_store(req);
    if (rc == ADMIT_OK) {
        http_respond_bytes(req, 200, "text/plain; charset=utf-8", ok, sizeof ok - 1, HTTP_STATIC);
        return;
    }
    http_log_note(req, rc == ADMIT_ERR_DB_UNAVAILABLE ? "db-unavailable" : "db-error");
    http_respond_bytes(req, 503, "text/plain; charset=utf-8", down, sizeof down - 1, HTTP_STATIC);
    http_set_header(req, "Retry-After", HTTP_RETRY_AFTER);
}

const struct http_route health_routes[] = {
    {HTTP_GET, "/healthz", healthz, 0},
    {0},
};
