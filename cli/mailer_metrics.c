/* admit mailer's /metrics (mailer_metrics.h). */
#include "mailer_metrics.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/listen_addr.h"
#include "admit/core/mem.h"
#include "admit/core/metrics.h"
#include "admit/register/outbox.h"

#define SCRAPE_MAX (64u << 10)

/* By enum admit_mailer_event: its metric's name and help (NULL: not counted). */
static const struct {
    const char *name;
    const char *help;
} event_metrics[] = {
    [ADMIT_MAILER_SENT] = {"admit_mailer_sent_total", "Messages the SMTP server accepted."},
    [ADMIT_MAILER_FAILED] = {"admit_mailer_failed_total",
                             "Messages refused for good (by the server, or unmakeable)."},
    [ADMIT_MAILER_DEFERRED] = {"admit_mailer_retried_total",
                               "Attempts put off for a later one (a 4xx, the SMTP server "
                               "unavailable, or a problem of the message's own)."},
    [ADMIT_MAILER_SUPERSEDED] = {"admit_mailer_superseded_total",
                                 "Messages not sent because a later one tells the news."},
    [ADMIT_MAILER_SMTP_DOWN] = {"admit_mailer_smtp_unavailable_total",
                                "Times the SMTP server could not be used."},
    [ADMIT_MAILER_DATABASE] = {"admit_mailer_database_problems_total",
                               "Times the outbox could not be read or an outcome recorded."},
    [ADMIT_MAILER_TAKEN_OVER] = {"admit_mailer_taken_over_total",
                                 "Messages another mailer took over before the outcome was "
                                 "recorded."},
};
#define NEVENTS (sizeof event_metrics / sizeof event_metrics[0])

static atomic_ullong counts[NEVENTS];

struct mailer_metrics {
    struct MHD_Daemon *daemon;
    struct admit_db *db; /* the daemon's one thread's */
};

void mailer_metrics_count(enum admit_mailer_event event)
{
    if ((size_t)event < NEVENTS)
        atomic_fetch_add(&counts[event], 1);
    /* The SMTP server down puts the message in hand off too: a retry like a 4xx. */
    if (event == ADMIT_MAILER_SMTP_DOWN)
        atomic_fetch_add(&counts[ADMIT_MAILER_DEFERRED], 1);
}

static enum admit_rc scrape(struct mailer_metrics *m, struct admit_buf *out)
{
    struct admit_outbox_backlog backlog;
    bool up = admit_outbox_backlog(m->db, &backlog) == ADMIT_OK;
    enum admit_rc rc = ADMIT_OK;
    for (size_t i = 0; i < NEVENTS && rc == ADMIT_OK; i++) {
        if (event_metrics[i].name == NULL)
            continue;
        rc = admit_metrics_family(out, event_metrics[i].name, "counter", event_metrics[i].help);
        if (rc == ADMIT_OK)
            rc = admit_metrics_sample(out, event_metrics[i].name, NULL,
                                      (double)atomic_load(&counts[i]));
    }
    if (rc == ADMIT_OK)
        rc = admit_metrics_family(out, "admit_db_up", "gauge",
                                  "1 when this scrape's own database connection works.");
    if (rc == ADMIT_OK)
        rc = admit_metrics_sample(out, "admit_db_up", NULL, up);
    if (rc == ADMIT_OK && up)
        rc = admit_outbox_metrics_write(out, &backlog);
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
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &first; /* answer on the next call: keep-alive */
        return MHD_YES;
    }
    *upload_data_size = 0;
    if (strcmp(url, "/metrics") != 0)
        return answer(conn, 404, not_found, sizeof not_found - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(conn, 405, not_allowed, sizeof not_allowed - 1, MHD_RESPMEM_PERSISTENT);
    struct admit_buf out;
    admit_buf_init(&out, SCRAPE_MAX);
    if (scrape(cls, &out) != ADMIT_OK) {
        admit_buf_free(&out);
        return answer(conn, 500, failed, sizeof failed - 1, MHD_RESPMEM_PERSISTENT);
    }
    char *text = admit_xmalloc(out.len + 1);
    memcpy(text, admit_buf_cstr(&out), out.len + 1);
    size_t len = out.len;
    admit_buf_free(&out);
    return answer(conn, 200, text, len, MHD_RESPMEM_MUST_FREE);
}

/* A listening socket on addr; -1 with message set. */
static int open_socket(const struct sockaddr_storage *addr, const char *where, char *message,
                       size_t len)
{
    int one = 1;
    socklen_t size =
        addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, (const struct sockaddr *)addr, size) == 0 && listen(fd, 16) == 0)
        return fd;
    snprintf(message, len, "--metrics-listen %s: cannot listen there: %s", where, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The port fd is bound to. */
static int bound_port(int fd)
{
    struct sockaddr_storage addr;
    socklen_t size = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &size) != 0)
        return -1;
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

struct mailer_metrics *mailer_metrics_start(const char *listen, const char *dsn, int *port,
                                            char *message, size_t len)
{
    struct sockaddr_storage addr;
    char host[64];
    if (admit_listen_addr_parse(listen, &addr, host, sizeof host) != 0) {
        snprintf(message, len, "--metrics-listen \"%s\": expected IPv4ADDR:PORT or [IPv6ADDR]:PORT",
                 listen);
        return NULL;
    }
    int fd = open_socket(&addr, listen, message, len);
    if (fd < 0)
        return NULL;
    *port = bound_port(fd);
    struct mailer_metrics *m = admit_xcalloc(1, sizeof *m);
    m->db = admit_db_new(dsn);
    m->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request,
                         m, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 16u,
                         MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (m->daemon == NULL) {
        snprintf(message, len, "--metrics-listen %s: cannot serve there", listen);
        close(fd);
        admit_db_free(m->db);
        free(m);
        return NULL;
    }
    return m;
}

void mailer_metrics_stop(struct mailer_metrics *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->daemon);
    admit_db_free(m->db);
    free(m);
}
