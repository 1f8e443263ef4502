/* For test_checkin_client.c and test_scan_session.c: a tiny HTTP server on 127.0.0.1, answering
 * each request through a callback, one request per connection, each connection in a thread of
 * its own (so that a slow answer holds up no other). It records the last request's method, path,
 * Authorization header and body. Header-only so each test stays one file (like pgtest.h). */
#ifndef ADMIT_TEST_SCAN_FAKE_API_H
#define ADMIT_TEST_SCAN_FAKE_API_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct fake_request {
    char method[16];
    char path[1024];
    char authorization[256];
    char *body; /* NUL-terminated; owned by the server until the next request */
    size_t body_len;
};

struct fake_response {
    int status;    /* 0: close the connection without answering; -1: never answer (hold the
                      connection open until the server stops) */
    char *body;    /* malloc()ed; freed by the server; NULL for "" */
    long delay_ms; /* wait this long before answering */
};

typedef void (*fake_handler)(void *ctx, const struct fake_request *req, struct fake_response *res);

#define FAKE_MAX_CONNECTIONS 512

struct fake_api {
    int listen_fd;
    int port;
    pthread_t thread;
    pthread_t connections[FAKE_MAX_CONNECTIONS];
    size_t nconnections;
    volatile bool stop;
    fake_handler handler;
    void *ctx;
    pthread_mutex_t lock;
    struct fake_request last;
    int requests;
};

static inline void fake_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* read() that gives up (returns -1) once *stop is set, checking every 50 ms. */
static inline ssize_t fake_read(int fd, void *buf, size_t n, volatile bool *stop)
{
    while (!*stop) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) > 0)
            return read(fd, buf, n);
    }
    return -1;
}

/* Reads one request from fd into req (body malloc()ed). Returns false on a short read. */
static inline bool fake_read_request(int fd, struct fake_request *req, volatile bool *stop)
{
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    memset(req, 0, sizeof *req);
    while (end == NULL) {
        if (len == sizeof buf - 1)
            return false;
        ssize_t n = fake_read(fd, buf + len, sizeof buf - 1 - len, stop);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t header_len = (size_t)(end - buf) + 4;
    sscanf(buf, "%15s %1023s", req->method, req->path);
    size_t content_length = 0;
    for (char *line = strstr(buf, "\r\n"); line != NULL && line < end;
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            content_length = strtoul(h + 15, NULL, 10);
        if (strncasecmp(h, "Authorization:", 14) == 0) {
            const char *v = h + 14;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r");
            snprintf(req->authorization, sizeof req->authorization, "%.*s", (int)n, v);
        }
    }
    req->body = malloc(content_length + 1);
    size_t have = len - header_len;
    if (have > content_length)
        have = content_length;
    memcpy(req->body, buf + header_len, have);
    while (have < content_length) {
        ssize_t n = fake_read(fd, req->body + have, content_length - have, stop);
        if (n <= 0)
            return false;
        have += (size_t)n;
    }
    req->body[content_length] = '\0';
    req->body_len = content_length;
    return true;
}

static inline void fake_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

struct fake_connection {
    struct fake_api *api;
    int fd;
};

static inline void *fake_serve_one(void *arg)
{
    struct fake_connection *conn = arg;
    struct fake_api *api = conn->api;
    int fd = conn->fd;
    struct fake_request req;
    struct fake_response res = {200, NULL, 0};
    free(conn);
    if (fake_read_request(fd, &req, &api->stop)) {
        api->handler(api->ctx, &req, &res);
        pthread_mutex_lock(&api->lock);
        free(api->last.body);
        api->last = req;
        api->requests++;
        pthread_mutex_unlock(&api->lock);
        for (long waited = 0; waited < res.delay_ms && !api->stop; waited += 10)
            fake_sleep_ms(10);
        while (res.status < 0 && !api->stop)
            fake_sleep_ms(10);
        if (res.status > 0) {
            char head[256];
            size_t n = res.body ? strlen(res.body) : 0;
            int h = snprintf(head, sizeof head,
                             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                             res.status, n);
            fake_write_all(fd, head, (size_t)h);
            if (n > 0)
                fake_write_all(fd, res.body, n);
        }
    } else {
        free(req.body);
    }
    free(res.body);
    close(fd);
    return NULL;
}

static inline void *fake_serve(void *arg)
{
    struct fake_api *api = arg;
    while (!api->stop) {
        struct pollfd pfd = {api->listen_fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int fd = accept(api->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        if (api->nconnections == FAKE_MAX_CONNECTIONS) {
            close(fd);
            continue;
        }
        struct fake_connection *conn = malloc(sizeof *conn);
        conn->api = api;
        conn->fd = fd;
        pthread_create(&api->connections[api->nconnections++], NULL, fake_serve_one, conn);
    }
    for (size_t i = 0; i < api->nconnections; i++)
        pthread_join(api->connections[i], NULL);
    return NULL;
}

/* Starts the server on a free port of 127.0.0.1. */
static inline void fake_api_start(struct fake_api *api, fake_handler handler, void *ctx)
{
    struct sockaddr_in addr;
    socklen_t addrlen = sizeof addr;
    memset(api, 0, sizeof *api);
    api->handler = handler;
    api->ctx = ctx;
    pthread_mutex_init(&api->lock, NULL);
    api->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (api->listen_fd < 0 || bind(api->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(api->listen_fd, 64) != 0 ||
        getsockname(api->listen_fd, (struct sockaddr *)&addr, &addrlen) != 0) {
        perror("fake_api_start");
        exit(1);
    }
    api->port = ntohs(addr.sin_port);
    pthread_create(&api->thread, NULL, fake_serve, api);
}

static inline void fake_api_stop(struct fake_api *api)
{
    api->stop = true;
    pthread_join(api->thread, NULL);
    close(api->listen_fd);
    free(api->last.body);
    pthread_mutex_destroy(&api->lock);
}

/* "http://127.0.0.1:PORT" into out. */
static inline void fake_api_url(const struct fake_api *api, char *out, size_t outlen)
{
    snprintf(out, outlen, "http://127.0.0.1:%d", api->port);
}

static inline char *fake_strdup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

#endif
