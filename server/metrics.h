/* admitd's vital signs: /metrics in the Prometheus text format, on its own listening address
 * (--metrics-listen, off by default), served by a small libmicrohttpd daemon of one thread
 * beside the main one, so that a scrape never queues behind attendees and the main address
 * never exposes it.
 *
 * The counters (C11 atomics, lock-free) are bumped by the request framework (http.c, at each
 * request's completion) and the check-in API (api.c, offline uploads); the rest is read at
 * scrape time: the database handles' counters (admit_db_stats), the check-in pool's groups,
 * the event-page cache, and the e-mail outbox (one query on the scraper's own connection). */
#ifndef ADMITD_METRICS_H
#define ADMITD_METRICS_H

#include <sys/socket.h>

#include "admit/core/error.h"
#include "http.h"

struct metrics_server;

/* Counts a request answered with status in us microseconds; route is the matched one, or NULL
 * (unrouted: 404, 405, a refused body). Thread-safe. Before metrics_start, and without
 * --metrics-listen, still counts (cheaply): nothing is served. */
void metrics_request(const struct http_route *route, unsigned status, long long us);
/* Counts an offline door's upload: uploaded scans decided offline, flagged of them the server
 * flagged for review. Thread-safe. */
void metrics_scans(unsigned long uploaded, unsigned long flagged);
/* Counts a report or export that the primary served because --db-replica was down. */
void metrics_replica_fallback(void);

/* Serves /metrics on the listening socket fd (taken over), with server's settings (its DSN for
 * the outbox query, its check-in pool). NULL with err set when libmicrohttpd cannot start. */
struct metrics_server *metrics_start(int fd, const struct http_server *server,
                                     struct admit_error *err);
/* Stops serving and frees. NULL is a no-op. */
void metrics_stop(struct metrics_server *m);

#endif
