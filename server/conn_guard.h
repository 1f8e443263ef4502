/* The connection guard: admitd's own table of libmicrohttpd's connections, so that slow clients
 * cannot hold the server's connections (issue 14).
 *
 * libmicrohttpd 0.9.75 only has an idle timer per connection, which every byte resets: a client
 * sending a byte a second keeps a connection forever, and enough of them fill the connection
 * limit. The guard knows what each connection is doing and since when:
 *
 *   headers  receiving a request's line and headers: at most --header-timeout from the connect
 *            (the first request) or from the request line (a later request on the connection);
 *   body     receiving the body: at most --body-timeout from the end of the headers;
 *   idle     a keep-alive connection between requests: at most --keepalive-timeout;
 *   busy     the request is complete: its handler runs, or waits (suspended), or the answer is
 *            being sent (libmicrohttpd's idle timer, --timeout, still applies). Never closed here.
 *
 * Deadlines count from a fixed point, never from the last byte. A reaper thread checks them ten
 * times a second. And when a new connection leaves a worker thread near its share of
 * --max-connections, the worker's oldest idle keep-alive connection is shed, or else its oldest
 * incomplete request (once it has been arriving for a second): a flood of slow clients can fill
 * the table, but not keep a new client out.
 *
 * Closing is shutdown(2) of the socket, never close(2): libmicrohttpd then reads the end of the
 * stream on its next poll and closes the connection itself, from its own thread. The socket
 * cannot be reused meanwhile: libmicrohttpd calls MHD_CONNECTION_NOTIFY_CLOSED (which takes the
 * guard's lock and forgets the connection) before it closes the descriptor (daemon.c,
 * MHD_cleanup_connections), and the guard only shuts down descriptors it holds, under that lock.
 *
 * Every counter and list is per worker thread (a connection stays on the worker that accepted
 * it, and libmicrohttpd gives each worker its share of the limit); one mutex guards them all.
 * Thread-safe. */
#ifndef ADMITD_CONN_GUARD_H
#define ADMITD_CONN_GUARD_H

#include <stdbool.h>

#include <microhttpd.h>

struct conn_guard_limits {
    unsigned max_connections; /* --max-connections, shared out like libmicrohttpd does */
    unsigned threads;         /* libmicrohttpd's worker threads */
    unsigned header_seconds;  /* --header-timeout */
    unsigned body_seconds;    /* --body-timeout */
    unsigned idle_seconds;    /* --keepalive-timeout */
};

struct conn_guard;

/* A guard for these limits, with its reaper thread running; NULL (after a log line) when the
 * thread cannot be started. Free it after MHD_stop_daemon. */
struct conn_guard *conn_guard_new(const struct conn_guard_limits *limits);
/* Stops the reaper, logs the last counts and frees the guard. NULL is a no-op. */
void conn_guard_free(struct conn_guard *g);

/* The shedding threshold of one worker: shed when this many of its connections are open. */
unsigned conn_guard_worker_threshold(const struct conn_guard *g);

/* libmicrohttpd callbacks; cls is the guard. MHD_OPTION_NOTIFY_CONNECTION: */
void conn_guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code);
/* MHD_OPTION_URI_LOG_CALLBACK (the request line has arrived); returns NULL: the access handler
 * still sees *req_cls NULL on its first call. */
void *conn_guard_on_request_line(void *cls, const char *uri, struct MHD_Connection *conn);

/* From the request lifecycle (http.c), on the connection's worker thread: the headers are in and
 * a body follows; the request is complete (or answered early); its answer is sent. */
void conn_guard_receiving_body(struct MHD_Connection *conn);
void conn_guard_busy(struct MHD_Connection *conn);
void conn_guard_idle(struct MHD_Connection *conn);
/* Why the guard closed this connection, for the request log ("header-deadline",
 * "body-deadline", "idle", "shed"), or NULL when it did not. */
const char *conn_guard_closed_why(struct MHD_Connection *conn);

#endif
