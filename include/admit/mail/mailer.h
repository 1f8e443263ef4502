/* The mailer: delivering the e-mail outbox (sql/migrations/004_email.sql) over SMTP, as
 * `admit mailer` runs it. Like the door's scan session (admit/door/scan_session.h), the library
 * runs the loop and reports what happens through a notify callback; the command (cli/mailer.c)
 * reads the options, handles the signals and prints.
 *
 * A process of its own rather than a thread of admitd: admitd stays a stateless HTTP server
 * that can run many times behind a proxy, and the mailer's failures (an SMTP server down for an
 * hour) never touch the pages. Several mailers may run against one database: each claims one
 * message at a time (SKIP LOCKED).
 *
 * Per message: claim (pending -> sending, committed, with a lease) -> render (templates, the
 * ticket's cached QR code, rendered and cached here if admitd has not yet) -> SMTP -> record:
 *     250 after DATA           sent (recorded even if the database is away for a while: the
 *                              mailer keeps trying before it takes anything else)
 *     5xx to RCPT or DATA      failed, with the server's reply; the mailer goes on
 *     4xx to RCPT or DATA      back to pending with an exponential back-off
 *     server unusable          (connection, TLS, greeting, login, MAIL FROM) back to pending,
 *                              and the mailer pauses, doubling the pause up to the back-off's
 *                              maximum
 * The at-least-once window: if the mailer dies after the server accepted a message and before
 * 'sent' is committed, the message stays 'sending'; when its lease ends another mailer (or this
 * one, restarted) sends it again with the same Message-ID, which lets receivers drop the copy.
 * Every other crash point leads to exactly one delivery.
 *
 * A stop (the flag the loop is given) lets the message in hand finish: sent and recorded. */
#ifndef ADMIT_MAILER_H
#define ADMIT_MAILER_H

#include <signal.h>
#include <stdbool.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"
#include "admit/mail/mail_outbox.h"
#include "admit/mail/mail_smtp.h"

/* What the mailer needs, as admit mailer's options give it. Strings are copied or used only
 * during admit_mailer_new. */
struct admit_mailer_settings {
    const char *from;          /* "TERRA Conference <tickets@terra.example>" */
    const char *public_url;    /* "https://tickets.example.org": ticket links start with it */
    const char *keys_dir;      /* holds ticket-signing.key: for QR codes admitd has not made */
    const char *templates_dir; /* its email/ templates make the messages */
    struct admit_smtp_config smtp;
    unsigned lease_seconds; /* a message being sent is another mailer's after this long */
    struct admit_mail_backoff backoff;
};

struct admit_mailer;

/* Checks settings and loads what delivering needs, without the database: the sender (--from),
 * the public URL, the rules between the settings (an smtp:// or smtps:// URL; credentials only
 * over TLS or to a loopback server; a lease of at least twice the SMTP timeout, so that a
 * message is never taken over while it is being sent; a back-off maximum not below its
 * minimum), the templates of admit_mail_templates, the signing key and the SMTP handle. On
 * ADMIT_OK *out is a mailer to free with admit_mailer_free. Otherwise *out is NULL and err says
 * what to correct, naming the option of admit mailer ("--lease must be at least twice
 * --smtp-timeout: ..."), never a credential: ADMIT_ERR_INVALID, or the errors of
 * admit_startup_keys and admit_startup_templates (admit/core/startup.h). */
enum admit_rc admit_mailer_new(const struct admit_mailer_settings *settings,
                               struct admit_mailer **out, struct admit_error *err) ADMIT_MUST_CHECK;

/* Connects m to the database dsn and checks it as admit_startup_database does (reachable,
 * migrated, statements valid); the errors are its. */
enum admit_rc admit_mailer_connect(struct admit_mailer *m, const char *dsn,
                                   struct admit_error *err) ADMIT_MUST_CHECK;

/* Closes the connections and frees m, wiping the signing key. NULL is a no-op. */
void admit_mailer_free(struct admit_mailer *m);

/* What the loop reports; detail is one line for the log, as "sent message=12
 * kind=confirmation attempt=1". */
enum admit_mailer_event {
    ADMIT_MAILER_SENT,       /* a message went */
    ADMIT_MAILER_FAILED,     /* refused for good: by the server ("refused ..."), or it cannot be
                                made ("failed ...") */
    ADMIT_MAILER_DEFERRED,   /* a message must wait: a 4xx, or a problem of its own to retry */
    ADMIT_MAILER_SUPERSEDED, /* not sent: a later message tells the news */
    ADMIT_MAILER_SMTP_DOWN,  /* the SMTP server is not usable; PAUSED follows */
    ADMIT_MAILER_PAUSED,     /* waiting before the next attempt */
    ADMIT_MAILER_DATABASE,   /* the outbox cannot be read, or an outcome not recorded (yet) */
    ADMIT_MAILER_TAKEN_OVER, /* another mailer took the message over before its outcome was
                                recorded */
};

struct admit_mailer_loop {
    unsigned long poll_ms; /* how often to look for new messages when there are none */
    bool once;             /* send what is due now and return */
    /* The loop ends when this becomes nonzero (a signal handler sets it), after the message in
     * hand. Required. */
    const volatile sig_atomic_t *stop;
    void (*notify)(void *ctx, enum admit_mailer_event event, const char *detail); /* or NULL */
    void *notify_ctx;
};

/* Delivers until *loop->stop, or, with loop->once, until nothing is due or a server (SMTP or
 * database) is not usable. Pauses while the SMTP server is down (from the back-off's minimum,
 * doubling up to its maximum) or the database is (half a second, doubling up to 30 s). With
 * loop->once, returns true when some message had to be put off (admit mailer --once then exits
 * 1); without, what it returns means nothing. */
bool admit_mailer_run(struct admit_mailer *m, const struct admit_mailer_loop *loop);

#endif
