#include "admit/checkin_client.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "admit/buf.h"
#include "admit/mem.h"

/* Connecting never takes longer than this, whatever the call's budget. */
#define CONNECT_MAX_MS 1000L

struct admit_checkin_client {
    CURL *curl;
    char *base;          /* the server URL without trailing slashes */
    char *authorization; /* "Authorization: Bearer TOKEN" or NULL; wiped when freed */
    struct admit_buf answer;
};

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

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

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct admit_checkin_client *client = ctx;
    size_t n = size * nmemb;
    /* Returning less than n makes libcurl abort the transfer (CURLE_WRITE_ERROR). */
    return admit_buf_append(&client->answer, data, n) == ADMIT_OK ? n : 0;
}

enum admit_rc admit_checkin_client_new(const char *server_url, const char *token,
                                       struct admit_checkin_client **out)
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
    admit_buf_init(&client->answer, ADMIT_CLIENT_MAX_ANSWER);
    client->curl = curl_easy_init();
    if (client->curl == NULL)
        abort();
    *out = client;
    return ADMIT_OK;
}

void admit_checkin_client_free(struct admit_checkin_client *client)
{
    if (client == NULL)
        return;
    curl_easy_cleanup(client->curl);
    if (client->authorization != NULL) {
        sodium_memzero(client->authorization, strlen(client->authorization));
        free(client->authorization);
    }
    admit_buf_free(&client->answer);
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

/* The status of a finished transfer with HTTP code status and the body in client->answer. */
static enum admit_client_status classify(struct admit_checkin_client *client, long status,
                                         json_t **answer, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *body = json_loadb(client->answer.data != NULL ? client->answer.data : "",
                              client->answer.len, JSON_REJECT_DUPLICATES, &jerr);
    if (status >= 500) {
        set_why(why, whylen, "the server answered HTTP %ld", status);
        json_decref(body);
        return ADMIT_CLIENT_UNREACHABLE;
    }
    if (status >= 200 && status < 300) {
        if (body == NULL) {
            set_why(why, whylen, "the server's answer is not JSON");
            return ADMIT_CLIENT_REJECTED;
        }
        *answer = body;
        return ADMIT_CLIENT_OK;
    }
    json_t *error = json_object_get(body, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    set_why(why, whylen, "HTTP %ld %s: %s", status, code ? code : "error",
            message ? message : "(no message)");
    *answer = body;
    if (status == 401)
        return ADMIT_CLIENT_REFUSED;
    if (status == 404)
        return ADMIT_CLIENT_NOT_FOUND;
    return ADMIT_CLIENT_REJECTED;
}

enum admit_client_status admit_checkin_client_call(struct admit_checkin_client *client,
                                                   const char *method, const char *path,
                                                   const json_t *body, long timeout_ms,
                                                   json_t **answer, char *why, size_t whylen)
{
    struct curl_slist *headers = NULL;
    struct admit_buf url;
    char *text = NULL;
    enum admit_client_status status = ADMIT_CLIENT_REJECTED;
    CURL *c = client->curl;
    *answer = NULL;
    set_why(why, whylen, "%s", "");
    admit_buf_init(&url, 65536);
    admit_buf_reset(&client->answer);
    if (admit_buf_printf(&url, "%s%s", client->base, path) != ADMIT_OK) {
        set_why(why, whylen, "the request address is too long");
        goto done;
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    if (client->authorization != NULL)
        headers = curl_slist_append(headers, client->authorization);
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            abort();
        headers = curl_slist_append(headers, "Content-Type: application/json");
    }
    if (headers == NULL)
        abort();
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, admit_buf_cstr(&url));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < CONNECT_MAX_MS ? timeout_ms : CONNECT_MAX_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, client);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "admit-scan/1");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text != NULL ? text : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(text != NULL ? strlen(text) : 0));
    }
    CURLcode res = curl_easy_perform(c);
    if (res != CURLE_OK) {
        if (res == CURLE_WRITE_ERROR)
            set_why(why, whylen, "the server's answer is larger than %u bytes",
                    ADMIT_CLIENT_MAX_ANSWER);
        else
            set_why(why, whylen, "%s", curl_easy_strerror(res));
        status = res == CURLE_WRITE_ERROR ? ADMIT_CLIENT_REJECTED : ADMIT_CLIENT_UNREACHABLE;
        goto done;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    status = classify(client, code, answer, why, whylen);
done:
    /* libcurl copied the Authorization header into the list: wipe the copy too. */
    for (struct curl_slist *h = headers; h != NULL; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
    free(text);
    admit_buf_free(&url);
    return status;
}
