/* The connection guard (conn_guard.h): deadlines for receiving requests and shedding near the
 * connection limit. */
#include "conn_guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "admit/core/mem.h"
#include "http_internal.h"

/* How often the reaper looks for connections past their deadline: a deadline is kept to within
 * this. */
#define REAP_INTERVAL_NS (100 * 1000 * 1000LL)
/* An incomplete request is not shed before it has been arriving this long, while the worker
 * has room: a client sends its request within milliseconds of connecting, so a young one is
 * most likely a real client's, and a slow one ages past this anyway. With one slot left, the
 * oldest goes whatever its age: under a flood that reconnects as fast as it is shed, every
 * connection is young, and sparing them would fill the worker (libmicrohttpd then stops
 * accepting, and a new client waits in the listen queue until deadlines pass: measured, 9 s). */
#define SHED_GRACE_NS (1000 * 1000 * 1000LL)
/* At most one log line this often about the connections the guard closed. */
#define LOG_INTERVAL_NS (10 * 1000 * 1000 * 1000LL)

/* What a connection is doing. The first three have a deadline, and a list per worker each,
 * oldest first (each list's entries share one timeout, so appending keeps them in deadline
 * order). */
enum conn_state { STATE_HEADERS, STATE_BODY, STATE_IDLE, STATE_BUSY, STATE_CLOSING };
#define DEADLINE_STATES 3

/* Why the guard closed a connection: the state whose deadline passed, or shed. */
enum { WHY_SHED = DEADLINE_STATES, WHY_COUNT };
static const char *const why_names[WHY_COUNT] = {"header-deadline", "body-deadline", "idle",
                                                 "shed"};

struct conn_worker;

struct conn {
    struct conn_guard *guard;
    struct conn_worker *worker;
    struct conn *prev, *next; /* in worker->lists[state] while the state has a deadline */
    MHD_socket fd;
    enum conn_state state;
    long long since_ns;   /* when the state's deadline started */
    long long request_ns; /* when the current request began: the connect or its request line */
    int why;              /* why the guard closed it, or -1 */
};

struct conn_list {
    struct conn *head, *tail;
};

struct conn_worker {
    struct conn_list lists[DEADLINE_STATES];
    unsigned open; /* connections the guard has not closed */
};

struct conn_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t reaper;
    bool stopping;
    long long timeout_ns[DEADLINE_STATES];
    unsigned share;     /* a worker's share of --max-connections (libmicrohttpd's limit) */
    unsigned threshold; /* a worker sheds when a new connection finds this many open */
    struct conn_worker *workers;
    unsigned nworkers;
    unsigned assigned;               /* workers that have met their thread */
    unsigned open;                   /* over every worker */
    unsigned peak;                   /* most open at once since the last log line */
    unsigned long closed[WHY_COUNT]; /* since the last log line */
    long long logged_ns;
};

/* The worker of the calling thread: libmicrohttpd calls the connection callbacks on the worker
 * thread that serves the connection. */
static __thread struct conn_worker *thread_worker;
static __thread const struct conn_guard *thread_guard;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void list_append(struct conn_list *l, struct conn *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static void list_remove(struct conn_list *l, struct conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
}

/* Moves c to state s, its deadline counting from now. Lock held. */
static void enter(struct conn *c, enum conn_state s, long long now)
{
    if (c->state < DEADLINE_STATES)
        list_remove(&c->worker->lists[c->state], c);
    c->state = s;
    c->since_ns = now;
    if (s < DEADLINE_STATES)
        list_append(&c->worker->lists[s], c);
}

/* Shuts the connection's socket down: libmicrohttpd reads the end of the stream on its next
 * poll and closes the connection. Lock held, which keeps c->fd open (conn_guard.h). */
static void close_conn(struct conn_guard *g, struct conn *c, int why)
{
    enter(c, STATE_CLOSING, c->since_ns);
    c->why = why;
    c->worker->open--;
    g->open--;
    g->closed[why]++;
    shutdown(c->fd, SHUT_RDWR);
}

/* Closes w's oldest idle keep-alive connection, or else its oldest incomplete request if that
 * has been arriving for SHED_GRACE_NS or force; false when there is none (every connection of w
 * is busy, or young and not force). Lock held. */
static bool shed_one(struct conn_guard *g, struct conn_worker *w, long long now, bool force)
{
    struct conn *victim = w->lists[STATE_IDLE].head;
    if (victim == NULL) {
        struct conn *h = w->lists[STATE_HEADERS].head;
        struct conn *b = w->lists[STATE_BODY].head;
        victim = h == NULL ? b : b == NULL ? h : h->request_ns <= b->request_ns ? h : b;
        if (victim != NULL && !force && now - victim->request_ns < SHED_GRACE_NS)
            victim = NULL;
    }
    if (victim == NULL)
        return false;
    close_conn(g, victim, WHY_SHED);
    return true;
}

static void log_closed(struct conn_guard *g, long long now)
{
    unsigned long slow = g->closed[STATE_HEADERS] + g->closed[STATE_BODY] + g->closed[WHY_SHED];
    if (slow > 0)
        http_log("connections closed in the last %lld s: %lu past the header deadline, %lu past "
                 "the body deadline, %lu idle, %lu shed near the limit; %u open now, %u at most",
                 (now - g->logged_ns + 500000000LL) / 1000000000LL, g->closed[STATE_HEADERS],
                 g->closed[STATE_BODY], g->closed[STATE_IDLE], g->closed[WHY_SHED], g->open,
                 g->peak);
    memset(g->closed, 0, sizeof g->closed);
    g->peak = g->open;
    g->logged_ns = now;
}

static void *reap(void *arg)
{
    struct conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        long long now = now_ns();
        for (unsigned i = 0; i < g->nworkers; i++) {
            for (int s = 0; s < DEADLINE_STATES; s++) {
                struct conn_list *l = &g->workers[i].lists[s];
                while (l->head != NULL && now - l->head->since_ns >= g->timeout_ns[s])
                    close_conn(g, l->head, s);
            }
        }
        if (now - g->logged_ns >= LOG_INTERVAL_NS)
            log_closed(g, now);
        long long until = now + REAP_INTERVAL_NS;
        struct timespec ts = {(time_t)(until / 1000000000LL), (long)(until % 1000000000LL)};
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct conn_guard *conn_guard_new(const struct conn_guard_limits *limits)
{
    struct conn_guard *g = admit_xcalloc(1, sizeof *g);
    pthread_condattr_t attr;
    g->nworkers = limits->threads > 0 ? limits->threads : 1;
    g->workers = admit_xcalloc(g->nworkers, sizeof *g->workers);
    g->timeout_ns[STATE_HEADERS] = limits->header_seconds * 1000000000LL;
    g->timeout_ns[STATE_BODY] = limits->body_seconds * 1000000000LL;
    g->timeout_ns[STATE_IDLE] = limits->idle_seconds * 1000000000LL;
    /* libmicrohttpd gives each worker max/threads connections (the first ones one more) and stops
     * accepting on a worker at its share; shedding starts a little below, so that a slot is
     * free for the next client while the shed connections are being closed. */
    g->share = limits->max_connections / g->nworkers;
    unsigned headroom = g->share / 16 < 1 ? 1 : g->share / 16 > 64 ? 64 : g->share / 16;
    g->threshold = g->share > headroom ? g->share - headroom : 1;
    g->logged_ns = now_ns();
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&g->reaper, NULL, reap, g) != 0) {
        http_log("cannot start the connection reaper thread");
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g->workers);
        free(g);
        return NULL;
    }
    return g;
}

void conn_guard_free(struct conn_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->reaper, NULL);
    log_closed(g, now_ns());
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g->workers);
    free(g);
}

unsigned conn_guard_worker_threshold(const struct conn_guard *g)
{
    return g->threshold;
}

static struct conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

static void started(struct conn_guard *g, struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL)
        return; /* not tracked: libmicrohttpd's idle timer alone applies */
    struct conn *c = admit_xcalloc(1, sizeof *c);
    c->guard = g;
    c->fd = info->connect_fd;
    c->why = -1;
    c->state = STATE_BUSY; /* in no list yet */
    pthread_mutex_lock(&g->lock);
    if (thread_guard != g) {
        thread_guard = g;
        thread_worker = &g->workers[g->assigned++ % g->nworkers];
    }
    c->worker = thread_worker;
    long long now = now_ns();
    /* The newcomer must leave a slot free for the next one (SHED_GRACE_NS). */
    while (c->worker->open >= g->threshold &&
           shed_one(g, c->worker, now, c->worker->open + 2 > g->share))
        ;
    c->request_ns = now;
    enter(c, STATE_HEADERS, now);
    c->worker->open++;
    g->open++;
    if (g->open > g->peak)
        g->peak = g->open;
    pthread_mutex_unlock(&g->lock);
    *socket_context = c;
}

static void closed(struct conn *c)
{
    struct conn_guard *g = c->guard;
    pthread_mutex_lock(&g->lock);
    if (c->state != STATE_CLOSING) {
        c->worker->open--;
        g->open--;
    }
    enter(c, STATE_CLOSING, c->since_ns);
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void conn_guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        started(cls, conn, socket_context);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL) {
        closed(*socket_context);
        *socket_context = NULL;
    }
}

/* Moves the connection of conn to state s (unless the guard is closing it). */
static void move(struct MHD_Connection *conn, enum conn_state s, bool only_from_idle)
{
    struct conn *c = conn_of(conn);
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->guard->lock);
    if (c->state != STATE_CLOSING && c->state != s && (!only_from_idle || c->state == STATE_IDLE)) {
        long long now = now_ns();
        if (s == STATE_HEADERS)
            c->request_ns = now;
        enter(c, s, now);
    }
    pthread_mutex_unlock(&c->guard->lock);
}

void *conn_guard_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)uri;
    /* A later request on a kept-alive connection: its headers' deadline starts now. The first
     * request's started at the connect. */
    move(conn, STATE_HEADERS, true);
    return NULL;
}

void conn_guard_receiving_body(struct MHD_Connection *conn)
{
    move(conn, STATE_BODY, false);
}

void conn_guard_busy(struct MHD_Connection *conn)
{
    move(conn, STATE_BUSY, false);
}

void conn_guard_idle(struct MHD_Connection *conn)
{
    move(conn, STATE_IDLE, false);
}

const char *conn_guard_closed_why(struct MHD_Connection *conn)
{
    struct conn *c = conn_of(conn);
    int why = -1;
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->guard->lock);
    why = c->why;
    pthread_mutex_unlock(&c->guard->lock);
    return why >= 0 ? why_names[why] : NULL;
}
