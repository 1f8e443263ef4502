/* Handing messages to an SMTP server (libcurl), and telling apart what the answer means for the
 * message: delivered, refused for good, to be tried again later, or the server is not usable
 * right now (unreachable, down, refusing our login or our sender address), in which case no
 * message is at fault. One handle keeps its connection open between messages. Not thread-safe:
 * one handle per thread. */
#ifndef ADMIT_MAIL_SMTP_H
#define ADMIT_MAIL_SMTP_H

#include <stddef.h>

#include "admit/core/rc.h"

enum admit_smtp_tls {
    ADMIT_SMTP_TLS_TRY,     /* smtp://: STARTTLS when the server offers it */
    ADMIT_SMTP_TLS_REQUIRE, /* smtp://: STARTTLS or fail; smtps:// always is TLS */
    ADMIT_SMTP_TLS_NEVER,   /* smtp://: plain text */
};

struct admit_smtp_config {
    /* smtp://HOST[:PORT][/EHLO-NAME] or smtps://...; copied. */
    const char *url;
    /* Credentials for SMTP AUTH, or NULL for none; copied, wiped on free, never logged. */
    const char *user;
    const char *password;
    enum admit_smtp_tls tls;
    /* A PEM file of the certificate authorities to trust for the server's certificate (a
     * private relay's own CA), or NULL for the system's. The certificate and its name are
     * always verified. Copied. */
    const char *ca_file;
    long timeout_seconds; /* the whole conversation for one message */
};

enum admit_smtp_result {
    ADMIT_SMTP_SENT,        /* the server took the message (250 after DATA) */
    ADMIT_SMTP_REFUSED,     /* 5xx to RCPT or DATA: this message never will go */
    ADMIT_SMTP_DEFERRED,    /* 4xx to RCPT or DATA: try this message again later */
    ADMIT_SMTP_UNAVAILABLE, /* no usable server: connection, TLS, greeting, login or MAIL FROM
                               failed; try again later, the message is not at fault */
};

struct admit_smtp;

/* A handle for cfg. ADMIT_ERR_INVALID when the URL is not smtp:// or smtps://, or libcurl
 * refuses an option. Never connects here. */
enum admit_rc admit_smtp_new(const struct admit_smtp_config *cfg,
                             struct admit_smtp **out) ADMIT_MUST_CHECK;
/* Closes the connection and frees the handle, wiping the credentials. NULL is a no-op. */
void admit_smtp_free(struct admit_smtp *smtp);

/* 1 when the URL's host is a loopback address or "localhost" (credentials may then travel
 * without TLS). */
int admit_smtp_url_loopback(const char *url);

/* Sends message (len bytes, CRLF lines, as admit_mail_compose makes it) from from_addr to
 * to_addr (plain addresses). reply (replylen bytes) gets the server's last reply line
 * ("550 5.1.1 <x@example.org>: mailbox unknown") or libcurl's reason when there was none
 * ("Couldn't connect to server"): printable ASCII, never credentials. */
enum admit_smtp_result admit_smtp_send(struct admit_smtp *smtp, const char *from_addr,
                                       const char *to_addr, const char *message, size_t len,
                                       char *reply, size_t replylen);

/* "sent", "refused", "deferred", "unavailable". */
const char *admit_smtp_result_name(enum admit_smtp_result result);

#endif
