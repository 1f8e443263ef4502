#include "admit/mail/mail_smtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/core/mem.h"

#define CONNECT_TIMEOUT_MAX 10L

struct admit_smtp {
    CURL *curl;
    char *url;
    char *user;
    char *password;
    /* One message in flight. */
    const char *data;
    size_t len, pos;
    char stage[5];   /* the last SMTP command sent: "EHLO", "MAIL", "RCPT", "DATA", ... */
    int quitting;    /* QUIT sent: its reply says nothing about the message */
    char reply[256]; /* the server's last reply line */
    char error[CURL_ERROR_SIZE];
};

const char *admit_smtp_result_name(enum admit_smtp_result result)
{
    switch (result) {
    case ADMIT_SMTP_SENT:
        return "sent";
    case ADMIT_SMTP_REFUSED:
        return "refused";
    case ADMIT_SMTP_DEFERRED:
        return "deferred";
    case ADMIT_SMTP_UNAVAILABLE:
        break;
    }
    return "unavailable";
}

static size_t read_message(char *buffer, size_t size, size_t nitems, void *userp)
{
    struct admit_smtp *s = userp;
    size_t room = size * nitems;
    size_t n = s->len - s->pos < room ? s->len - s->pos : room;
    memcpy(buffer, s->data + s->pos, n);
    s->pos += n;
    return n;
}

/* Copies printable ASCII of len bytes of text into out (outlen bytes), without the line break;
 * other bytes become '?'. */
static void printable_copy(char *out, size_t outlen, const char *text, size_t len)
{
    size_t n = 0;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < len && n + 1 < outlen; i++)
        out[n++] = text[i] >= 0x20 && text[i] < 0x7F ? text[i] : '?';
    if (outlen > 0)
        out[n] = '\0';
}

/* libcurl's protocol trace, used only to know where the conversation stopped and what the
 * server said last. Only command names are kept from what is sent: the lines after AUTH carry
 * the credentials, and they are never looked at beyond their first four characters, which are
 * kept only when they are a known command name. */
static int trace(CURL *curl, curl_infotype type, char *data, size_t size, void *userp)
{
    static const char *const commands[] = {"EHLO", "HELO", "STAR", "AUTH", "MAIL",
                                           "RCPT", "DATA", "RSET", "NOOP", "QUIT"};
    struct admit_smtp *s = userp;
    (void)curl;
    if (type == CURLINFO_HEADER_OUT && size >= 4 && !s->quitting) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (strncasecmp(data, commands[i], 4) != 0)
                continue;
            if (strcmp(commands[i], "QUIT") == 0)
                s->quitting = 1;
            else
                memcpy(s->stage, commands[i], 5);
            break;
        }
    } else if (type == CURLINFO_HEADER_IN && !s->quitting) {
        printable_copy(s->reply, sizeof s->reply, data, size);
    }
    return 0;
}

int admit_smtp_url_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int loopback = 0;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        struct in_addr v4;
        struct in6_addr v6;
        size_t n = strlen(host);
        if (strcasecmp(host, "localhost") == 0)
            loopback = 1;
        else if (inet_pton(AF_INET, host, &v4) == 1)
            loopback = (ntohl(v4.s_addr) >> 24) == 127;
        else if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
            host[n - 1] = '\0';
            loopback = inet_pton(AF_INET6, host + 1, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
    return loopback;
}

static void wipe_free(char *secret)
{
    if (secret != NULL) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
}

void admit_smtp_free(struct admit_smtp *s)
{
    if (s == NULL)
        return;
    if (s->curl != NULL)
        curl_easy_cleanup(s->curl);
    curl_global_cleanup();
    free(s->url);
    wipe_free(s->user);
    wipe_free(s->password);
    free(s);
}

enum admit_rc admit_smtp_new(const struct admit_smtp_config *cfg, struct admit_smtp **out)
{
    struct admit_smtp *s = admit_xcalloc(1, sizeof *s);
    enum admit_rc rc = ADMIT_ERR_INVALID;
    int smtps = strncasecmp(cfg->url, "smtps://", 8) == 0;
    long timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 60;
    CURLcode c = CURLE_OK;
    *out = NULL;
    /* Reference-counted by libcurl, and thread-safe since 7.84. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(s);
        return ADMIT_ERR_INVALID;
    }
    s->url = admit_xstrdup(cfg->url);
    s->user = cfg->user != NULL ? admit_xstrdup(cfg->user) : NULL;
    s->password = cfg->password != NULL ? admit_xstrdup(cfg->password) : NULL;
    if (!smtps && strncasecmp(cfg->url, "smtp://", 7) != 0)
        goto done;
    s->curl = curl_easy_init();
    if (s->curl == NULL)
        goto done;
    long use_ssl = smtps                                ? CURLUSESSL_ALL
                   : cfg->tls == ADMIT_SMTP_TLS_REQUIRE ? CURLUSESSL_ALL
                   : cfg->tls == ADMIT_SMTP_TLS_NEVER   ? CURLUSESSL_NONE
                                                        : CURLUSESSL_TRY;
    /* One option per line, each checked: */
    /* clang-format off */
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_USE_SSL, use_ssl);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, timeout);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT,
                                            timeout < CONNECT_TIMEOUT_MAX ? timeout
                                                                          : CONNECT_TIMEOUT_MAX);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, read_message);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_READDATA, s);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->error);
    /* The trace callback sees the conversation; nothing is printed (VERBOSE only feeds it). */
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, trace);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    if (c == CURLE_OK) c = curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c == CURLE_OK && cfg->ca_file != NULL)
        c = curl_easy_setopt(s->curl, CURLOPT_CAINFO, cfg->ca_file);
    if (c == CURLE_OK && s->user != NULL)
        c = curl_easy_setopt(s->curl, CURLOPT_USERNAME, s->user);
    if (c == CURLE_OK && s->password != NULL)
        c = curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->password);
    /* clang-format on */
    if (c != CURLE_OK)
        goto done;
    rc = ADMIT_OK;
    *out = s;
done:
    if (rc != ADMIT_OK)
        admit_smtp_free(s);
    return rc;
}

/* Whether the conversation had reached this message's own commands. */
static int message_stage(const struct admit_smtp *s)
{
    return strcmp(s->stage, "RCPT") == 0 || strcmp(s->stage, "DATA") == 0;
}

enum admit_smtp_result admit_smtp_send(struct admit_smtp *s, const char *from_addr,
                                       const char *to_addr, const char *message, size_t len,
                                       char *reply, size_t replylen)
{
    struct admit_buf from, to;
    struct curl_slist *rcpt = NULL;
    enum admit_smtp_result result = ADMIT_SMTP_UNAVAILABLE;
    long code = 0;
    admit_buf_init(&from, 512);
    admit_buf_init(&to, 512);
    s->data = message;
    s->len = len;
    s->pos = 0;
    s->stage[0] = '\0';
    s->quitting = 0;
    s->reply[0] = '\0';
    s->error[0] = '\0';
    if (admit_buf_printf(&from, "<%s>", from_addr) != ADMIT_OK ||
        admit_buf_printf(&to, "<%s>", to_addr) != ADMIT_OK) {
        printable_copy(reply, replylen, "address too long", 16);
        result = ADMIT_SMTP_REFUSED;
        goto done;
    }
    rcpt = curl_slist_append(NULL, admit_buf_cstr(&to));
    if (rcpt == NULL)
        abort(); /* out of memory, as admit_xmalloc would */
    CURLcode c = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, admit_buf_cstr(&from));
    if (c == CURLE_OK)
        c = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
    if (c == CURLE_OK)
        c = curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    if (c == CURLE_OK)
        c = curl_easy_perform(s->curl);
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    if (c == CURLE_OK) {
        result = ADMIT_SMTP_SENT;
    } else if (message_stage(s) && code >= 500 && code < 600) {
        result = ADMIT_SMTP_REFUSED;
    } else if (message_stage(s) && code >= 400 && code < 500) {
        result = ADMIT_SMTP_DEFERRED;
    }
    if (c != CURLE_OK && s->reply[0] != '\0' && code >= 400)
        printable_copy(reply, replylen, s->reply, strlen(s->reply));
    else if (c != CURLE_OK)
        printable_copy(reply, replylen, s->error[0] ? s->error : curl_easy_strerror(c),
                       strlen(s->error[0] ? s->error : curl_easy_strerror(c)));
    else
        printable_copy(reply, replylen, s->reply, strlen(s->reply));
done:
    /* The handle must not keep pointers to this call's strings. */
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(rcpt);
    admit_buf_free(&from);
    admit_buf_free(&to);
    s->data = NULL;
    return result;
}
