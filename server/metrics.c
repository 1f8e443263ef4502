/* admitd's /metrics (metrics.h). */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "admit/checkin/checkin.h"
#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/mem.h"
#include "admit/core/metrics.h"
#include "admit/register/outbox.h"
#include "http_internal.h"
#include "page_cache.h"
#include "router.h"

/* Routes counted at most (admitd has about 70); more are counted as unrouted. */
#define MAX_ROUTES 256
/* Largest scrape. */
#define SCRAPE_MAX (4u << 20)

/* The statuses admitd answers; anything else is counted as "other". */
static const unsigned statuses[] = {200, 201, 204, 206, 301, 302, 303, 304, 400, 401, 403,
                                    404, 405, 409, 410, 413, 415, 422, 429, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

/* One route's counters; slot 0 is the unrouted requests. */
struct route_slot {
    const struct http_route *route;
    atomic_ullong by_status[NSTATUS + 1]; /* the last: "other" */
    struct admit_metrics_histogram latency;
};

static struct route_slot slots[MAX_ROUTES];
static size_t nslots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static atomic_ullong offline_uploaded, scans_flagged, replica_fallbacks;

struct metrics_server {
    struct MHD_Daemon *daemon;
    const struct http_server *server;
    struct admit_db *db; /* the scraper's: only the daemon's one thread uses it */
};

static void make_slots(void)
{
    admit_metrics_histogram_init(&slots[0].latency, admit_metrics_latency_bounds,
                                 admit_metrics_latency_nbounds);
    nslots = 1;
    for (size_t t = 0; http_route_tables[t] != NULL; t++)
        for (const struct http_route *r = http_route_tables[t]; r->pattern != NULL; r++) {
            if (nslots == MAX_ROUTES)
                return;
            slots[nslots].route = r;
            admit_metrics_histogram_init(&slots[nslots].latency, admit_metrics_latency_bounds,
                                         admit_metrics_latency_nbounds);
            nslots++;
        }
}

static struct route_slot *slot_of(const struct http_route *route)
{
    pthread_once(&slots_once, make_slots);
    for (size_t i = 1; i < nslots && route != NULL; i++)
        if (slots[i].route == route)
            return &slots[i];
    return &slots[0];
}

void metrics_request(const struct http_route *route, unsigned status, long long us)
{
    struct route_slot *s = slot_of(route);
    size_t i = 0;
    while (i < NSTATUS && statuses[i] != status)
        i++;
    atomic_fetch_add_explicit(&s->by_status[i], 1, memory_order_relaxed);
    admit_metrics_observe(&s->latency, (double)(us < 0 ? 0 : us) / 1e6);
}

void metrics_scans(unsigned long uploaded, unsigned long flagged)
{
    atomic_fetch_add(&offline_uploaded, uploaded);
    atomic_fetch_add(&scans_flagged, flagged);
}

void metrics_replica_fallback(void)
{
    atomic_fetch_add(&replica_fallbacks, 1);
}

static const char *method_name(enum http_method m)
{
    switch (m) {
    case HTTP_GET:
        return "GET";
    case HTTP_POST:
        return "POST";
    case HTTP_PUT:
        return "PUT";
    case HTTP_DELETE:
        return "DELETE";
    case HTTP_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

/* The labels of slot s (method and route), reset into labels. */
static enum admit_rc slot_labels(const struct route_slot *s, struct admit_buf *labels)
{
    admit_buf_reset(labels);
    enum admit_rc rc = admit_metrics_label(labels, "method",
                                           s->route != NULL ? method_name(s->route->method) : "-");
    if (rc == ADMIT_OK)
        rc = admit_metrics_label(labels, "route", s->route != NULL ? s->route->pattern : "-");
    return rc;
}

static enum admit_rc write_requests(struct admit_buf *out, struct admit_buf *labels)
{
    char status[8];
    enum admit_rc rc = admit_metrics_family(
        out, "admit_http_requests_total", "counter",
        "Requests answered, by method, route pattern (\"-\": no route) and status.");
    for (size_t i = 0; i < nslots && rc == ADMIT_OK; i++)
        for (size_t k = 0; k <= NSTATUS && rc == ADMIT_OK; k++) {
            unsigned long long n = atomic_load(&slots[i].by_status[k]);
            if (n == 0)
                continue;
            rc = slot_labels(&slots[i], labels);
            snprintf(status, sizeof status, "%u", k < NSTATUS ? statuses[k] : 0);
            if (rc == ADMIT_OK)
                rc = admit_metrics_label(labels, "status", k < NSTATUS ? status : "other");
            if (rc == ADMIT_OK)
                rc = admit_metrics_sample(out, "admit_http_requests_total", admit_buf_cstr(labels),
                                          (double)n);
        }
    if (rc == ADMIT_OK)
        rc = admit_metrics_family(out, "admit_http_request_duration_seconds", "histogram",
                                  "Time from a request's first byte to its completion, by "
                                  "method and route pattern.");
    for (size_t i = 0; i < nslots && rc == ADMIT_OK; i++) {
        if (atomic_load(&slots[i].latency.count) == 0)
            continue;
        rc = slot_labels(&slots[i], labels);
        if (rc == ADMIT_OK)
            rc = admit_metrics_histogram_write(out, "admit_http_request_duration_seconds",
                                               admit_buf_cstr(labels), &slots[i].latency);
    }
    if (rc == ADMIT_OK)
        rc = admit_metrics_family(out, "admit_http_requests_in_flight", "gauge",
                                  "Requests received and not yet completed.");
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, "admit_http_requests_in_flight", NULL, http_in_flight());
    return rc;
}

/* One family of one unlabelled sample. */
static enum admit_rc write_one(struct admit_buf *out, const char *name, const char *type,
                               const char *help, double value)
{
    enum admit_rc rc = admit_metrics_family(out, name, type, help);
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, name, NULL, value);
    return rc;
}

static enum admit_rc write_database(struct admit_buf *out, bool up)
{
    struct admit_db_stats st;
    admit_db_stats(&st);
    enum admit_rc rc = write_one(out, "admit_db_up", "gauge",
                                 "1 when this scrape's own database connection works.", up);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_db_connections_open", "gauge",
                       "PostgreSQL connections open now (workers, check-in, scraper).",
                       (double)st.open);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_db_connects_total", "counter", "PostgreSQL connections made.",
                       (double)st.connects);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_db_connect_failures_total", "counter",
                       "Connection attempts that failed (server unreachable or refusing).",
                       (double)st.connect_failures);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_db_replica_fallbacks_total", "counter",
                       "Reports and exports the primary served because --db-replica could not "
                       "be reached.",
                       (double)atomic_load(&replica_fallbacks));
    if (rc == ADMIT_OK)
        rc = admit_metrics_family(out, "admit_db_errors_total", "counter",
                                  "Statements that failed, by kind: unavailable (the connection "
                                  "failed), conflict (a unique rule), other.");
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, "admit_db_errors_total", "kind=\"unavailable\"",
                                  (double)st.unavailable);
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, "admit_db_errors_total", "kind=\"conflict\"",
                                  (double)st.conflicts);
    if (rc == ADMIT_OK)
        rc =
            admit_metrics_sample(out, "admit_db_errors_total", "kind=\"other\"", (double)st.errors);
    return rc;
}

/* The check-in pool's groups by size, as a histogram (its counts are the pool's, under its
 * lock: copied into a histogram of our own to be written). */
static enum admit_rc write_group_sizes(struct admit_buf *out,
                                       const struct admit_checkin_pool_stats *g)
{
    struct admit_metrics_histogram h;
    admit_metrics_histogram_init(&h, admit_checkin_group_size_bounds, ADMIT_CHECKIN_GROUP_SIZES);
    for (size_t i = 0; i <= ADMIT_CHECKIN_GROUP_SIZES; i++)
        atomic_store(&h.bucket[i], g->by_size[i]);
    atomic_store(&h.count, g->groups);
    atomic_store(&h.sum_millionths, (unsigned long long)g->scans * 1000000ULL);
    enum admit_rc rc = admit_metrics_family(out, "admit_checkin_group_size", "histogram",
                                            "Online entry scans decided together in one "
                                            "check-in group statement.");
    if (rc == ADMIT_OK)
        rc = admit_metrics_histogram_write(out, "admit_checkin_group_size", NULL, &h);
    return rc;
}

static enum admit_rc write_doors(struct admit_buf *out, const struct http_server *server)
{
    struct admit_checkin_pool_stats g;
    unsigned long long hits, misses;
    admit_checkin_pool_stats(server->checkin_pool, &g);
    page_cache_counts(&hits, &misses);
    enum admit_rc rc =
        write_one(out, "admit_checkin_groups_total", "counter",
                  "Check-in group statements run (door scans decided together).", (double)g.groups);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_checkin_group_scans_total", "counter",
                       "Online entry scans decided in groups (divided by the groups: their "
                       "average size).",
                       (double)g.scans);
    if (rc == ADMIT_OK)
        rc = write_group_sizes(out, &g);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_checkin_group_largest", "gauge",
                       "Scans in the largest check-in group so far.", (double)g.largest);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_checkin_waiting", "gauge",
                       "Door scans waiting now for a check-in worker.", (double)g.waiting);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_offline_scans_uploaded_total", "counter",
                       "Scans doors decided offline and uploaded.",
                       (double)atomic_load(&offline_uploaded));
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_offline_scans_flagged_total", "counter",
                       "Uploaded offline scans the server flagged for an organiser's review (a "
                       "door let in offline someone the server refuses).",
                       (double)atomic_load(&scans_flagged));
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_event_page_cache_hits_total", "counter",
                       "Event page views answered from the page cache.", (double)hits);
    if (rc == ADMIT_OK)
        rc = write_one(out, "admit_event_page_cache_misses_total", "counter",
                       "Event page views that built the page.", (double)misses);
    return rc;
}

/* The whole scrape into out. */
static enum admit_rc scrape(struct metrics_server *m, struct admit_buf *out)
{
    struct admit_buf labels;
    struct admit_outbox_backlog backlog;
    admit_buf_init(&labels, 4096);
    pthread_once(&slots_once, make_slots);
    bool up = admit_outbox_backlog(m->db, &backlog) == ADMIT_OK;
    enum admit_rc rc = write_requests(out, &labels);
    if (rc == ADMIT_OK)
        rc = write_database(out, up);
    if (rc == ADMIT_OK)
        rc = write_doors(out, m->server);
    if (rc == ADMIT_OK && up)
        rc = admit_outbox_metrics_write(out, &backlog);
    admit_buf_free(&labels);
    return rc;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text,
                              size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text, mode);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type",
                            status == 200 ? ADMIT_METRICS_CONTENT_TYPE
                                          : "text/plain; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    static const char not_found[] = "not found: the metrics are at /metrics\n";
    static const char not_allowed[] = "method not allowed: GET /metrics\n";
    static const char failed[] = "the metrics could not be written\n";
    static int first;
    struct metrics_server *m = cls;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &first; /* answer on the next call: keep-alive (shared/NOTES.md) */
        return MHD_YES;
    }
    *upload_data_size = 0;
    if (strcmp(url, "/metrics") != 0)
        return answer(conn, 404, not_found, sizeof not_found - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(conn, 405, not_allowed, sizeof not_allowed - 1, MHD_RESPMEM_PERSISTENT);
    struct admit_buf out;
    admit_buf_init(&out, SCRAPE_MAX);
    if (scrape(m, &out) != ADMIT_OK) {
        admit_buf_free(&out);
        http_log("metrics: the scrape is over %u bytes", SCRAPE_MAX);
        return answer(conn, 500, failed, sizeof failed - 1, MHD_RESPMEM_PERSISTENT);
    }
    size_t len = out.len;
    char *text = admit_xmalloc(len + 1);
    memcpy(text, admit_buf_cstr(&out), len + 1);
    admit_buf_free(&out);
    return answer(conn, 200, text, len, MHD_RESPMEM_MUST_FREE);
}

struct metrics_server *metrics_start(int fd, const struct http_server *server,
                                     struct admit_error *err)
{
    struct metrics_server *m = admit_xcalloc(1, sizeof *m);
    m->server = server;
    m->db = admit_db_new(server->dsn);
    pthread_once(&slots_once, make_slots);
    /* One thread: scrapes are rare, and the scraper's database handle is that thread's. */
    /* clang-format off */
    m->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request, m,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, 16u,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_END);
    /* clang-format on */
    if (m->daemon == NULL) {
        admit_error_set(err, "cannot serve the metrics (libmicrohttpd refused to start)");
        close(fd);
        admit_db_free(m->db);
        free(m);
        return NULL;
    }
    return m;
}

void metrics_stop(struct metrics_server *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->daemon);
    admit_db_free(m->db);
    free(m);
}
