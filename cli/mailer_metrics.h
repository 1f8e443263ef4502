/* admit mailer's /metrics (--metrics-listen): what it delivered, in the Prometheus text format,
 * from a small libmicrohttpd daemon of one thread beside the delivery loop; the backlog is read
 * from the outbox at each scrape on the daemon's own database connection. */
#ifndef ADMIT_CLI_MAILER_METRICS_H
#define ADMIT_CLI_MAILER_METRICS_H

#include "admit/mail/mailer.h"

struct mailer_metrics;

/* Counts one event of the delivery loop (its notify callback). Thread-safe. */
void mailer_metrics_count(enum admit_mailer_event event);

/* Serves /metrics on listen ("127.0.0.1:9102", "[::1]:9102"; port 0 picks one, which *port
 * gets) with dsn for the backlog. NULL with one line in message (size len) when listen is not
 * an address or cannot be listened on. */
struct mailer_metrics *mailer_metrics_start(const char *listen, const char *dsn, int *port,
                                            char *message, size_t len);
/* Stops serving and frees. NULL is a no-op. */
void mailer_metrics_stop(struct mailer_metrics *m);

#endif
