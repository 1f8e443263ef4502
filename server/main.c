/* admitd: the admit HTTP server. Reads its settings (flags or environment), refuses to start
 * unless keys, templates, static assets and a migrated database are all in place, serves with
 * libmicrohttpd's thread pool, and on SIGTERM or SIGINT stops accepting, lets the requests in
 * flight finish (at most DRAIN_SECONDS) and exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "admit/core/buf.h"
#include "admit/checkin/checkin.h"
#include "admit/core/db.h"
#include "admit/core/keys.h"
#include "admit/core/listen_addr.h"
#include "admit/core/startup.h"
#include "admit/core/tmpl.h"
#include "conn_guard.h"
#include "http_internal.h"
#include "listen.h"
#include "metrics.h"
#include "admit/core/opts.h"
#include "router.h"
#include "static.h"

/* How long a stop waits for the requests in flight. */
#define DRAIN_SECONDS 10
/* The error page every failure renders: admitd does not start without it. */
#define ERROR_TEMPLATE "error.html"

enum { EXIT_START_FAILED = 1 };

static const struct cli_opt admitd_opts[] = {
    {"listen", 'l', CLI_STRING, "ADDR:PORT", "ADMIT_LISTEN", "127.0.0.1:8080", 0, 0, 0,
     "address to listen on: IPv4 \"127.0.0.1:8080\" or IPv6 \"[::1]:8080\"; port 0 picks a "
     "free port (the log says which)"},
    {"db", 0, CLI_STRING, "DSN", "ADMIT_DATABASE_URL", NULL, 0, 0, CLI_REQUIRED,
     "PostgreSQL connection string (e.g. \"host=/path/run dbname=admit\"); the database must be "
     "migrated (admit migrate)"},
    {"db-replica", 0, CLI_STRING, "DSN", "ADMIT_DATABASE_REPLICA_URL", NULL, 0, 0, 0,
     "a streaming standby of --db for the attendance report and the CSV exports, so that they "
     "never compete with the doors; what they show may lag the primary (by the standby's "
     "replay delay); while it is down the primary serves them"},
    {"keys", 0, CLI_STRING, "DIR", "ADMIT_KEYS_DIR", NULL, 0, 0, CLI_REQUIRED,
     "folder with ticket-signing.key (mode 0600) and the .pub keys tickets may be signed with"},
    {"templates", 0, CLI_STRING, "DIR", "ADMIT_TEMPLATES_DIR", ADMIT_DEFAULT_TEMPLATES, 0, 0, 0,
     "folder of the HTML templates; its static/ subfolder is served at /static/ (run from its "
     "build folder: the checkout's templates/)"},
    {"threads", 0, CLI_UINT, "N", "ADMIT_THREADS", "2", 1, 256, 0,
     "worker threads, each with its own database connection"},
    /* One on the project's two cores: with 8 busy doors its groups average four scans, and it
     * checked in 15% more scans a second than two workers with groups of two (bench/README.md). */
    {"checkin-workers", 0, CLI_UINT, "N", "ADMIT_CHECKIN_WORKERS", "1", 1, 256, 0,
     "threads (each with its own database connection) deciding door scans; scans arriving "
     "while all are busy wait and go together in one transaction"},
    /* What two cores hold under slow-connection floods, measured (bench/README.md, "Slow
     * connections"); each connection is a file descriptor (RLIMIT_NOFILE, raised at start). */
    {"max-connections", 0, CLI_UINT, "N", "ADMIT_MAX_CONNECTIONS", "2048", 1, 1000000, 0,
     "open connections at most; near the limit the oldest idle keep-alive connection, or else "
     "the oldest incomplete request, is closed for a new one"},
    {"per-ip-connections", 0, CLI_UINT, "N", "ADMIT_PER_IP_CONNECTIONS", "256", 1, 1000000, 0,
     "open connections from one client address at most (behind a proxy, all clients share its "
     "address)"},
    {"header-timeout", 0, CLI_UINT, "SECONDS", "ADMIT_HEADER_TIMEOUT", "10", 1, 3600, 0,
     "a request's line and headers must arrive within this, counted from the connect (or, on a "
     "kept-alive connection, from the request line), however steadily the bytes come"},
    {"body-timeout", 0, CLI_UINT, "SECONDS", "ADMIT_BODY_TIMEOUT", "30", 1, 3600, 0,
     "a request's body must arrive within this, counted from the end of its headers"},
    {"keepalive-timeout", 0, CLI_UINT, "SECONDS", "ADMIT_KEEPALIVE_TIMEOUT", "5", 1, 3600, 0,
     "close a kept-alive connection that starts no new request within this"},
    {"timeout", 0, CLI_UINT, "SECONDS", "ADMIT_TIMEOUT", "30", 1, 86400, 0,
     "close a connection that neither sends nor reads anything this long (a client that stops "
     "reading its answer)"},
    {"body-limit", 0, CLI_UINT, "BYTES", "ADMIT_BODY_LIMIT", "65536", 1024, 67108864, 0,
     "largest request body; larger ones get 413"},
    /* libmicrohttpd clears this pool after every request: at 64 KiB that was 17% of the CPU of
     * an event page view (bench/README.md); 16 KiB holds any sane request line and headers. */
    {"connection-memory", 0, CLI_UINT, "BYTES", "ADMIT_CONNECTION_MEMORY", "16384", 8192, 16777216,
     0, "memory per connection for the request line and headers"},
    {"public-url", 0, CLI_STRING, "URL", "ADMIT_PUBLIC_URL", NULL, 0, 0, 0,
     "the address users reach admitd at (\"https://tickets.example.org\"); https makes cookies "
     "Secure"},
    {"metrics-listen", 0, CLI_STRING, "ADDR:PORT", "ADMIT_METRICS_LISTEN", NULL, 0, 0, 0,
     "serve /metrics (Prometheus text format) on this address, apart from --listen: keep it "
     "where only the monitoring reaches (off when not set)"},
    {"trusted-proxy", 0, CLI_STRING, "ADDR", "ADMIT_TRUSTED_PROXY", NULL, 0, 0, 0,
     "the address of the reverse proxy in front of admitd (e.g. 127.0.0.1): for its requests the "
     "client is the last address of X-Forwarded-For, for login and resend throttling"},
    {0},
};

static int run(const struct cli_args *args);

static const struct cli_cmd admitd_cmd = {
    NULL, NULL,
    "admitd: the admit HTTP server (registration pages, tickets, check-in API).\n"
    "Logs one line per request on stderr; SIGTERM or SIGINT stops it after the requests in "
    "flight.",
    admitd_opts, run};

/* Everything run() sets up, so that one function can tear it down. */
struct startup {
    struct http_server server;
    struct admit_signing_key signing_key;
    struct admit_keyring keyring;
    struct admit_tmpl_set *templates;
    struct static_assets *assets;
    char *public_url;
    struct sockaddr_storage listen;
    char listen_host[64];
    struct sockaddr_storage metrics_listen; /* ss_family 0: no --metrics-listen */
    char metrics_host[64];
};

/* /metrics on --metrics-listen, when set: *out stays NULL otherwise. -1 when it cannot. */
static int start_metrics(struct startup *s, const struct cli_args *args,
                         struct metrics_server **out)
{
    struct admit_error err;
    const char *text = cli_get(args, "metrics-listen");
    *out = NULL;
    if (s->metrics_listen.ss_family == 0)
        return 0;
    int fd = server_listen_open(&s->metrics_listen, text, &err);
    if (fd < 0) {
        http_log("--metrics-listen: %s", err.message);
        return -1;
    }
    int port = server_listen_port(fd);
    *out = metrics_start(fd, &s->server, &err);
    if (*out == NULL) {
        http_log("%s", err.message);
        return -1;
    }
    if (s->metrics_listen.ss_family == AF_INET6)
        http_log("metrics on http://[%s]:%d/metrics", s->metrics_host, port);
    else
        http_log("metrics on http://%s:%d/metrics", s->metrics_host, port);
    return 0;
}

/* The templates (error.html among them) and the static assets of their static/ folder. */
static int load_templates(const char *dir, struct startup *s)
{
    static const char *const required[] = {ERROR_TEMPLATE, NULL};
    struct admit_error err;
    size_t nassets = 0;
    enum admit_rc rc = admit_startup_templates(dir, required, &s->templates, &err);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        http_log("%s: every error page is rendered from it", err.message);
        return -1;
    }
    if (rc != ADMIT_OK) {
        http_log("%s", err.message);
        return -1;
    }
    struct admit_buf static_dir;
    admit_buf_init(&static_dir, 4096);
    rc = admit_buf_printf(&static_dir, "%s/static", dir);
    if (rc == ADMIT_OK)
        rc = static_assets_load(admit_buf_cstr(&static_dir), &s->assets, &nassets, &err);
    admit_buf_free(&static_dir);
    if (rc != ADMIT_OK) {
        http_log("cannot load the static assets: %s", err.message);
        return -1;
    }
    return 0;
}

/* Connects once to check the database before serving: reachable, migrated, statements valid. */
static int check_database(const char *dsn)
{
    struct admit_error err;
    struct admit_db *db = admit_db_new(dsn);
    enum admit_rc rc = admit_startup_database(db, "admitd", &err);
    admit_db_free(db);
    if (rc != ADMIT_OK)
        http_log("%s", err.message);
    return rc == ADMIT_OK ? 0 : -1;
}

/* Kinds of libmicrohttpd message whose repeats mhd_log counts; more kinds are all logged. */
#define MHD_LOG_KINDS 16
/* Each kind at most once this often. */
#define MHD_LOG_INTERVAL_S 10

/* libmicrohttpd's own error messages, one line each. Under a flood the same message comes for
 * every connection ("Connection was closed by remote side with incomplete request."): each
 * kind (its format string) is logged at most once per MHD_LOG_INTERVAL_S, with the number of
 * repeats left out. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static struct {
        const char *fmt;
        time_t logged;
        unsigned long left_out;
    } kinds[MHD_LOG_KINDS];
    char message[512];
    unsigned long left_out = 0;
    bool log = true;
    time_t now = time(NULL);
    (void)cls;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MHD_LOG_KINDS; i++) {
        if (kinds[i].fmt != NULL && kinds[i].fmt != fmt)
            continue;
        if (kinds[i].fmt == fmt && now - kinds[i].logged < MHD_LOG_INTERVAL_S) {
            kinds[i].left_out++;
            log = false;
        } else {
            left_out = kinds[i].left_out;
            kinds[i].fmt = fmt;
            kinds[i].logged = now;
            kinds[i].left_out = 0;
        }
        break;
    }
    pthread_mutex_unlock(&lock);
    if (!log)
        return;
    vsnprintf(message, sizeof message, fmt, ap);
    if (left_out > 0)
        http_log("libmicrohttpd: %s (and %lu more like it since the last such line)", message,
                 left_out);
    else
        http_log("libmicrohttpd: %s", message);
}

/* Descriptors admitd needs beside its connections: database connections, the listening socket,
 * the log, files being read. */
#define FD_RESERVE 64

/* Raises the soft limit of open files to the hard one, and returns how many connections fit
 * under it (at most max_connections), saying so in the log when that is fewer. */
static unsigned fit_connections(unsigned max_connections, unsigned db_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return max_connections;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t soft = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = soft;
    }
    unsigned long long needed = (unsigned long long)max_connections + db_connections + FD_RESERVE;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= needed)
        return max_connections;
    unsigned long long room = rl.rlim_cur > db_connections + FD_RESERVE + 1
                                  ? rl.rlim_cur - db_connections - FD_RESERVE
                                  : 1;
    http_log("open files limit (RLIMIT_NOFILE) is %llu: serving at most %llu connections instead "
             "of --max-connections %u, which needs %llu (raise it: ulimit -n, systemd "
             "LimitNOFILE=)",
             (unsigned long long)rl.rlim_cur, room, max_connections, needed);
    return (unsigned)room;
}

/* Waits for the requests in flight, at most DRAIN_SECONDS; a second signal cuts it short. */
static void drain(const sigset_t *signals)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    long long waited_ms = 0;
    while (http_in_flight() > 0 && waited_ms < DRAIN_SECONDS * 1000LL) {
        if (sigtimedwait(signals, NULL, &tick) > 0) {
            http_log("second signal: stopping now");
            return;
        }
        waited_ms += 10;
    }
    if (http_in_flight() > 0)
        http_log("%d requests still running after %d s: stopping anyway", http_in_flight(),
                 DRAIN_SECONDS);
}

/* The connection limits and deadlines of the options, fitted to what the database allows. */
static struct conn_guard_limits guard_limits(const struct cli_args *args)
{
    unsigned threads = (unsigned)cli_get_uint(args, "threads");
    unsigned db_connections = threads + (unsigned)cli_get_uint(args, "checkin-workers");
    struct conn_guard_limits limits = {
        .max_connections =
            fit_connections((unsigned)cli_get_uint(args, "max-connections"), db_connections),
        .threads = threads,
        .header_seconds = (unsigned)cli_get_uint(args, "header-timeout"),
        .body_seconds = (unsigned)cli_get_uint(args, "body-timeout"),
        .idle_seconds = (unsigned)cli_get_uint(args, "keepalive-timeout"),
    };
    if (limits.max_connections < threads)
        limits.max_connections = threads;
    return limits;
}

/* Starts libmicrohttpd on the listening socket fd; NULL (logged) when it cannot. */
static struct MHD_Daemon *start_daemon(struct startup *s, const struct cli_args *args, int fd,
                                       const struct conn_guard_limits *limits,
                                       struct conn_guard *guard)
{
    /* poll(), not epoll: libmicrohttpd 0.9.75 (Debian 12) aborts the process at random when
     * MHD_quiesce_daemon meets a worker awake with epoll. Both remove the listening socket from
     * the worker's epoll set, unlocked; the loser's epoll_ctl fails with ENOENT and
     * MHD_quiesce_daemon (daemon.c:5531) or MHD_epoll (daemon.c:4976) calls MHD_PANIC: a stop
     * under traffic ended in SIGABRT. With poll() quiescing only sets a flag and wakes the
     * workers. Each worker polls at most its share of --max-connections; the cost is measured
     * in bench/README.md ("epoll or poll"). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (s->listen.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* The logger comes first, or libmicrohttpd prints the other options' messages itself.
     * One option and its value per line: */
    /* clang-format off */
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, http_on_request, &s->server,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, limits->threads,
        MHD_OPTION_CONNECTION_LIMIT, limits->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cli_get_uint(args, "per-ip-connections"),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cli_get_uint(args, "timeout"),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cli_get_uint(args, "connection-memory"),
        MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, &s->server,
        MHD_OPTION_NOTIFY_CONNECTION, conn_guard_on_connection, guard,
        MHD_OPTION_URI_LOG_CALLBACK, conn_guard_on_request_line, guard,
        MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_UNESCAPE_CALLBACK, router_unescape, NULL,
        MHD_OPTION_END);
    /* clang-format on */
    if (d == NULL) {
        http_log("cannot serve on %s (see the line above)", cli_get(args, "listen"));
        return NULL;
    }
    if (s->listen.ss_family == AF_INET6)
        http_log("listening on http://[%s]:%d", s->listen_host, server_listen_port(fd));
    else
        http_log("listening on http://%s:%d", s->listen_host, server_listen_port(fd));
    http_log("connections: at most %u (%u from one address), shed from %u a worker thread; "
             "headers within %u s, bodies within %u s, kept alive %u s idle",
             limits->max_connections, (unsigned)cli_get_uint(args, "per-ip-connections"),
             conn_guard_worker_threshold(guard), limits->header_seconds, limits->body_seconds,
             limits->idle_seconds);
    return d;
}

/* After SIGTERM or SIGINT: no new connections, the requests in flight finished (drain), the
 * door scans waiting decided, then the daemon stopped. */
static void stop_daemon(struct startup *s, struct MHD_Daemon *d, const sigset_t *signals, int sig)
{
    http_log("%s: stopping; %d requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT",
             http_in_flight());
    http_drain_begin();
    MHD_socket listener = MHD_quiesce_daemon(d);
    /* The workers no longer accept; without this the kernel would still complete handshakes
     * into the backlog, and those clients would hang until the stop. Shut down, not closed:
     * the descriptor must stay valid until MHD_stop_daemon. */
    if (listener != MHD_INVALID_SOCKET)
        shutdown(listener, SHUT_RDWR);
    drain(signals);
    /* Every check-in job decided and its connection resumed before the daemon goes; scans
     * arriving after this are decided on the HTTP threads (api.c). */
    struct admit_checkin_pool_stats groups;
    admit_checkin_pool_close(s->server.checkin_pool);
    admit_checkin_pool_stats(s->server.checkin_pool, &groups);
    if (groups.groups > 0)
        http_log("door scans: %lu in %lu groups (%.2f a group, at most %lu)", groups.scans,
                 groups.groups, (double)groups.scans / (double)groups.groups, groups.largest);
    MHD_stop_daemon(d);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
}

static int serve(struct startup *s, const struct cli_args *args)
{
    sigset_t signals;
    int sig = 0;
    struct admit_error err;
    /* Every thread libmicrohttpd starts inherits this mask: only main's sigwait sees them. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct conn_guard_limits limits = guard_limits(args);
    int fd = server_listen_open(&s->listen, cli_get(args, "listen"), &err);
    if (fd < 0) {
        http_log("%s", err.message);
        return EXIT_START_FAILED;
    }
    struct metrics_server *metrics = NULL;
    if (start_metrics(s, args, &metrics) != 0) {
        close(fd);
        return EXIT_START_FAILED;
    }
    struct conn_guard *guard = conn_guard_new(&limits);
    struct MHD_Daemon *d = guard != NULL ? start_daemon(s, args, fd, &limits, guard) : NULL;
    if (d == NULL) {
        metrics_stop(metrics);
        conn_guard_free(guard);
        close(fd);
        return EXIT_START_FAILED;
    }
    while (sigwait(&signals, &sig) != 0)
        ;
    stop_daemon(s, d, &signals, sig);
    metrics_stop(metrics);
    conn_guard_free(guard); /* after the daemon: every connection is closed */
    http_log("stopped");
    return CLI_EXIT_OK;
}

static int run(const struct cli_args *args)
{
    struct startup s;
    struct admit_error err;
    int status = EXIT_START_FAILED;
    memset(&s, 0, sizeof s);
    admit_keyring_init(&s.keyring);
    /* Flags first: a usage error is reported before anything is loaded. */
    const char *listen = cli_get(args, "listen");
    status = CLI_EXIT_USAGE;
    if (admit_listen_addr_parse(listen, &s.listen, s.listen_host, sizeof s.listen_host) != 0) {
        cli_error(args, "--listen \"%s\": expected IPv4ADDR:PORT or [IPv6ADDR]:PORT", listen);
        goto done;
    }
    const char *metrics_listen = cli_get(args, "metrics-listen");
    if (metrics_listen != NULL &&
        admit_listen_addr_parse(metrics_listen, &s.metrics_listen, s.metrics_host,
                                sizeof s.metrics_host) != 0) {
        cli_error(args, "--metrics-listen \"%s\": expected IPv4ADDR:PORT or [IPv6ADDR]:PORT",
                  metrics_listen);
        goto done;
    }
    if (cli_get_uint(args, "max-connections") < cli_get_uint(args, "threads")) {
        /* libmicrohttpd shares the limit out among the threads: each needs one at least. */
        cli_error(args, "--max-connections must be at least --threads");
        goto done;
    }
    if (admit_startup_public_url(cli_get(args, "public-url"), &s.public_url, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        goto done;
    }
    status = EXIT_START_FAILED;
    if (admit_startup_keys(cli_get(args, "keys"), &s.signing_key, &s.keyring, &err) != ADMIT_OK) {
        http_log("%s", err.message);
        goto done;
    }
    if (load_templates(cli_templates_dir(args), &s) != 0)
        goto done;
    if (router_check(http_route_tables, &err) != ADMIT_OK) {
        http_log("internal error: %s", err.message);
        goto done;
    }
    if (check_database(cli_get(args, "db")) != 0)
        goto done;

    const char *proxy = cli_get(args, "trusted-proxy");
    if (proxy != NULL && !http_address_normalise(proxy, strlen(proxy), s.server.trusted_proxy,
                                                 sizeof s.server.trusted_proxy)) {
        http_log("--trusted-proxy \"%s\": expected an IPv4 or IPv6 address", proxy);
        goto done;
    }
    s.server.dsn = cli_get(args, "db");
    s.server.replica_dsn = cli_get(args, "db-replica");
    if (s.server.replica_dsn != NULL)
        http_log("the attendance report and the exports read from --db-replica");
    s.server.public_url = s.public_url;
    s.server.secure_cookies = strncmp(s.public_url, "https://", 8) == 0;
    s.server.body_limit = cli_get_uint(args, "body-limit");
    s.server.templates = s.templates;
    s.server.signing_key = &s.signing_key;
    s.server.keyring = &s.keyring;
    s.server.assets = s.assets;
    s.server.checkin_pool =
        admit_checkin_pool_new(s.server.dsn, (unsigned)cli_get_uint(args, "checkin-workers"));
    admit_csrf_key_derive(&s.signing_key, &s.server.csrf_key);
    status = serve(&s, args);
done:
    admit_csrf_key_wipe(&s.server.csrf_key);
    admit_key_wipe(&s.signing_key);
    admit_keyring_free(&s.keyring);
    admit_checkin_pool_free(s.server.checkin_pool);
    admit_tmpl_set_free(s.templates);
    static_assets_free(s.assets);
    free(s.public_url);
    return status;
}

int main(int argc, char **argv)
{
    struct cli_args args;
    cli_program = "admitd";
    if (admit_init() != ADMIT_OK) {
        fprintf(stderr, "admitd: cannot initialise libsodium\n");
        return EXIT_START_FAILED;
    }
    int rc = cli_parse(&admitd_cmd, argc, argv, &args);
    if (rc == -1)
        return CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK)
        return rc;
    rc = run(&args);
    cli_args_free(&args);
    return rc;
}
