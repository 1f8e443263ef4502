#include "admit/door/checkin_client.h"

#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/core/mem.h"

/* Connecting never takes longer than this, whatever the call's budget. */
#define CONNECT_MAX_MS 1000L

struct admit_checkin_client {
    CURLM *multi;        /* every call's transfer; its connection cache keeps connections alive */
    char *base;          /* the server URL without trailing slashes */
    char *authorization; /* "Authorization: Bearer TOKEN" or NULL; wiped when freed */
    char *ca_file;       /* NULL: the system's certificate authorities */
    size_t running;      /* calls started and not yet finished */
};

struct admit_client_call {
    struct admit_checkin_client *client;
    CURL *curl;
    struct curl_slist *headers; /* holds a copy of the Authorization header: wiped when freed */
    char *body;                 /* the JSON posted, or NULL */
    struct admit_buf answer;
    char *url;
    long long started_ms, ended_ms;
    bool done;
    CURLcode result; /* when done */
    long status;     /* the HTTP status, when done and result is CURLE_OK */
};

enum admit_rc admit_checkin_client_server_key(const char *server_url,
                                              char key[ADMIT_CLIENT_SERVER_KEY_SIZE])
{
    enum admit_rc rc = ADMIT_ERR_INVALID;
    char *scheme = NULL, *host = NULL, *port = NULL, *query = NULL, *user = NULL;
    key[0] = '\0';
    CURLU *url = curl_url();
    if (url == NULL)
        abort();
    if (server_url == NULL || curl_url_set(url, CURLUPART_URL, server_url, 0) != CURLUE_OK)
        goto done;
    if (curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        goto done;
    /* A query, fragment or user name in a server address is a mistake, not a server. */
    if (curl_url_get(url, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(url, CURLUPART_USER, &user, 0) == CURLUE_OK)
        goto done;
    if (curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto done;
    size_t n = 0;
    for (const char *p = host; *p != '\0' && n + 1 < ADMIT_CLIENT_SERVER_KEY_SIZE - 8; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            c = '_'; /* the brackets and colons of an IPv6 address */
        key[n++] = c;
    }
    snprintf(key + n, ADMIT_CLIENT_SERVER_KEY_SIZE - n, "_%s", port);
    rc = ADMIT_OK;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(query);
    curl_free(user);
    curl_url_cleanup(url);
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct admit_client_call *call = ctx;
    size_t n = size * nmemb;
    /* Returning less than n makes libcurl abort the transfer (CURLE_WRITE_ERROR). */
    return admit_buf_append(&call->answer, data, n) == ADMIT_OK ? n : 0;
}

enum admit_rc admit_checkin_client_new(const char *server_url, const char *token,
                                       const char *ca_file, struct admit_checkin_client **out)
{
    char key[ADMIT_CLIENT_SERVER_KEY_SIZE];
    *out = NULL;
    if (admit_checkin_client_server_key(server_url, key) != ADMIT_OK)
        return ADMIT_ERR_INVALID;
    struct admit_checkin_client *client = admit_xcalloc(1, sizeof *client);
    size_t n = strlen(server_url);
    while (n > 0 && server_url[n - 1] == '/')
        n--;
    client->base = admit_xstrndup(server_url, n);
    if (token != NULL && token[0] != '\0') {
        static const char prefix[] = "Authorization: Bearer ";
        size_t len = sizeof prefix + strlen(token);
        client->authorization = admit_xmalloc(len);
        snprintf(client->authorization, len, "%s%s", prefix, token);
    }
    if (ca_file != NULL)
        client->ca_file = admit_xstrdup(ca_file);
    client->multi = curl_multi_init();
    if (client->multi == NULL)
        abort();
    *out = client;
    return ADMIT_OK;
}

void admit_checkin_client_free(struct admit_checkin_client *client)
{
    if (client == NULL)
        return;
    /* Every call was freed before (the contract), so the multi handle holds only idle
     * connections, which this closes. */
    curl_multi_cleanup(client->multi);
    if (client->authorization != NULL) {
        sodium_memzero(client->authorization, strlen(client->authorization));
        free(client->authorization);
    }
    free(client->ca_file);
    free(client->base);
    free(client);
}

int admit_checkin_client_path_append(char *path, size_t pathlen, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t used = strlen(path);
    size_t n = used;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (n + (plain ? 1 : 3) >= pathlen) {
            path[used] = '\0';
            return -1;
        }
        if (plain) {
            path[n++] = (char)c;
        } else {
            path[n++] = '%';
            path[n++] = hex[c >> 4];
            path[n++] = hex[c & 15];
        }
    }
    path[n] = '\0';
    return 0;
}

/* The status of a finished call with HTTP code status and the body in call->answer. */
static enum admit_client_status classify(struct admit_client_call *call, json_t **answer,
                                         struct admit_error *why)
{
    json_error_t jerr;
    long status = call->status;
    json_t *body = json_loadb(call->answer.data != NULL ? call->answer.data : "", call->answer.len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (status >= 500) {
        admit_error_set(why, "the server answered HTTP %ld", status);
        json_decref(body);
        return ADMIT_CLIENT_UNAVAILABLE;
    }
    if (status >= 200 && status < 300) {
        if (body == NULL) {
            admit_error_set(why, "the server's answer is not JSON");
            return ADMIT_CLIENT_REJECTED;
        }
        *answer = body;
        return ADMIT_CLIENT_OK;
    }
    json_t *error = json_object_get(body, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    admit_error_set(why, "HTTP %ld %s: %s", status, code ? code : "error",
                    message ? message : "(no message)");
    *answer = body;
    if (status == 401)
        return ADMIT_CLIENT_REFUSED;
    if (status == 404)
        return ADMIT_CLIENT_NOT_FOUND;
    return ADMIT_CLIENT_REJECTED;
}

struct admit_client_call *admit_checkin_client_start(struct admit_checkin_client *client,
                                                     const char *method, const char *path,
                                                     const json_t *body, long timeout_ms)
{
    struct admit_client_call *call = admit_xcalloc(1, sizeof *call);
    call->client = client;
    call->started_ms = now_ms();
    admit_buf_init(&call->answer, ADMIT_CLIENT_MAX_ANSWER);
    if (timeout_ms < 1)
        timeout_ms = 1;
    struct admit_buf url;
    admit_buf_init(&url, 65536);
    bool fits = admit_buf_printf(&url, "%s%s", client->base, path) == ADMIT_OK;
    call->url = admit_buf_steal(&url, NULL);
    admit_buf_free(&url);
    if (!fits) {
        /* Finished at once, as a failure that never goes away. */
        call->done = true;
        call->result = CURLE_URL_MALFORMAT;
        call->ended_ms = call->started_ms;
        return call;
    }
    call->headers = curl_slist_append(NULL, "Accept: application/json");
    if (client->authorization != NULL)
        call->headers = curl_slist_append(call->headers, client->authorization);
    if (body != NULL) {
        call->body = json_dumps(body, JSON_COMPACT);
        if (call->body == NULL)
            abort();
        call->headers = curl_slist_append(call->headers, "Content-Type: application/json");
    }
    if (call->headers == NULL)
        abort();
    CURL *c = curl_easy_init();
    if (c == NULL)
        abort();
    call->curl = c;
    curl_easy_setopt(c, CURLOPT_PRIVATE, call);
    curl_easy_setopt(c, CURLOPT_URL, call->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CONNECT_MAX_MS ? timeout_ms : CONNECT_MAX_MS);
    /* An abandoned call never waits for a name lookup still running in the resolver thread. */
    curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "admit-scan/1");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    if (client->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, client->ca_file);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body != NULL ? call->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                         (long)(call->body != NULL ? strlen(call->body) : 0));
    }
    if (curl_multi_add_handle(client->multi, c) != CURLM_OK)
        abort();
    client->running++;
    return call;
}

/* Marks the calls libcurl has finished. Returns how many. */
static size_t collect(struct admit_checkin_client *client)
{
    CURLMsg *msg;
    int left;
    size_t finished = 0;
    while ((msg = curl_multi_info_read(client->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct admit_client_call *call = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        call->result = msg->data.result;
        call->ended_ms = now_ms();
        call->done = true;
        if (call->result == CURLE_OK)
            curl_easy_getinfo(call->curl, CURLINFO_RESPONSE_CODE, &call->status);
        /* The connection goes back to the multi handle's cache, alive for the next call. */
        curl_multi_remove_handle(client->multi, call->curl);
        client->running--;
        finished++;
    }
    return finished;
}

static bool readable(int fd)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    /* POLLHUP too: the end of a pipe is something to read (end of input). */
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

bool admit_checkin_client_wait(struct admit_checkin_client *client, int fd, long wait_ms)
{
    int running = 0, numfds = 0;
    struct curl_waitfd extra = {fd, CURL_WAIT_POLLIN, 0};
    if (wait_ms < 0)
        wait_ms = 0;
    if (wait_ms > INT_MAX)
        wait_ms = INT_MAX;
    curl_multi_perform(client->multi, &running);
    if (collect(client) == 0 && !(fd >= 0 && readable(fd))) {
        /* Returns at the first activity on a transfer's socket or on fd, at libcurl's next
         * timer (a timeout to enforce) or after wait_ms; a signal (EINTR) counts as time up. */
        curl_multi_poll(client->multi, fd >= 0 ? &extra : NULL, fd >= 0 ? 1 : 0, (int)wait_ms,
                        &numfds);
        curl_multi_perform(client->multi, &running);
        collect(client);
    }
    /* Checked here rather than from curl_multi_poll's revents, which does not report a hung-up
     * pipe. */
    return fd >= 0 && readable(fd);
}

bool admit_client_call_done(const struct admit_client_call *call)
{
    return call->done;
}

long admit_client_call_ms(const struct admit_client_call *call)
{
    return (long)((call->done ? call->ended_ms : now_ms()) - call->started_ms);
}

enum admit_client_status admit_client_call_result(struct admit_client_call *call, json_t **answer,
                                                  struct admit_error *why)
{
    *answer = NULL;
    admit_error_clear(why);
    if (!call->done) {
        admit_error_set(why, "no answer within %ld ms", admit_client_call_ms(call));
        return ADMIT_CLIENT_UNREACHABLE;
    }
    switch (call->result) {
    case CURLE_OK:
        return classify(call, answer, why);
    case CURLE_WRITE_ERROR:
        admit_error_set(why, "the server's answer is larger than %u bytes",
                        ADMIT_CLIENT_MAX_ANSWER);
        return ADMIT_CLIENT_REJECTED;
    case CURLE_URL_MALFORMAT:
        admit_error_set(why, "the request address is too long");
        return ADMIT_CLIENT_REJECTED;
    case CURLE_OPERATION_TIMEDOUT:
        admit_error_set(why, "no answer within %ld ms", admit_client_call_ms(call));
        return ADMIT_CLIENT_UNREACHABLE;
    default:
        admit_error_set(why, "%s", curl_easy_strerror(call->result));
        return ADMIT_CLIENT_UNREACHABLE;
    }
}

void admit_client_call_free(struct admit_client_call *call)
{
    if (call == NULL)
        return;
    if (call->curl != NULL) {
        if (!call->done) {
            /* Abandoned mid-way: the transfer stops and its connection is closed. */
            curl_multi_remove_handle(call->client->multi, call->curl);
            call->client->running--;
        }
        curl_easy_cleanup(call->curl);
    }
    /* libcurl copied the Authorization header into the list: wipe the copy too. */
    for (struct curl_slist *h = call->headers; h != NULL; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(call->headers);
    free(call->body);
    free(call->url);
    admit_buf_free(&call->answer);
    free(call);
}

enum admit_client_status admit_checkin_client_call(struct admit_checkin_client *client,
                                                   const char *method, const char *path,
                                                   const json_t *body, long timeout_ms,
                                                   json_t **answer, struct admit_error *why)
{
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
    struct admit_client_call *call =
        admit_checkin_client_start(client, method, path, body, timeout_ms);
    for (long long now = now_ms(); !call->done && now < deadline; now = now_ms())
        admit_checkin_client_wait(client, -1, (long)(deadline - now));
    enum admit_client_status status = admit_client_call_result(call, answer, why);
    admit_client_call_free(call);
    return status;
}
