/* The mailer's delivery loop (admit/mail/mailer.h): claim, render, send, record, back off. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "admit/core/buf.h"
#include "admit/mail/mail.h"
#include "admit/mail/mail_outbox.h"
#include "admit/mail/mail_smtp.h"
#include "mailer_impl.h"

/* How long a stopping mailer keeps trying to record a delivered message while the database is
 * away, before it gives up (and the message is sent again after its lease). */
#define STOP_RECORD_SECONDS 30
/* Pauses while the database is unreachable: from DB_PAUSE_MIN_MS, doubling, at most this. */
#define DB_PAUSE_MIN_MS 500
#define DB_PAUSE_MAX_MS 30000

/* What one round of the loop found. */
enum round {
    ROUND_IDLE,      /* nothing due */
    ROUND_DONE,      /* a message was sent, refused for good or superseded */
    ROUND_DEFERRED,  /* a message must wait (4xx, or a transient problem of its own) */
    ROUND_SMTP_DOWN, /* the SMTP server is not usable: pause */
    ROUND_DB_DOWN,   /* the database is not usable: pause */
};

static void say(const struct admit_mailer *m, enum admit_mailer_event event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const struct admit_mailer *m, enum admit_mailer_event event, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    if (m->loop->notify == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    m->loop->notify(m->loop->notify_ctx, event, detail);
}

static bool stopping(const struct admit_mailer *m)
{
    return *m->loop->stop != 0;
}

/* Sleeps ms milliseconds, or less when a stop is requested. */
static void pause_ms(const struct admit_mailer *m, unsigned long ms)
{
    while (ms > 0 && !stopping(m)) {
        unsigned long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *kind_of(const json_t *payload)
{
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    return kind != NULL ? kind : "?";
}

/* Records the outcome; a database failure is reported (the message then waits for its lease). */
static enum round finish(struct admit_mailer *m, const struct admit_mail_claim *c,
                         enum admit_mail_outcome outcome, const char *reason, enum round round)
{
    int recorded = 0;
    enum admit_rc rc =
        admit_mail_finish(m->db, c->id, c->attempt, outcome, reason, &m->backoff, &recorded);
    if (rc != ADMIT_OK) {
        say(m, ADMIT_MAILER_DATABASE,
            "message=%lld: cannot record the attempt (%s); it is retried after its lease", c->id,
            admit_db_error(m->db));
        return ROUND_DB_DOWN;
    }
    if (!recorded)
        say(m, ADMIT_MAILER_TAKEN_OVER, "message=%lld: was taken over by another mailer meanwhile",
            c->id);
    return round;
}

/* Records a delivery, insisting while the database is away: each failure to record it is a
 * duplicate later. Gives up only when stopping, after STOP_RECORD_SECONDS. */
static void record_sent(struct admit_mailer *m, const struct admit_mail_claim *c)
{
    unsigned long wait = DB_PAUSE_MIN_MS;
    long long stop_deadline = 0;
    for (;;) {
        int recorded = 0;
        enum admit_rc rc = admit_mail_finish(m->db, c->id, c->attempt, ADMIT_MAIL_SENT, NULL,
                                             &m->backoff, &recorded);
        if (rc == ADMIT_OK)
            return;
        if (stopping(m) && stop_deadline == 0)
            stop_deadline = now_ms() + STOP_RECORD_SECONDS * 1000LL;
        if (stop_deadline != 0 && now_ms() > stop_deadline) {
            say(m, ADMIT_MAILER_DATABASE,
                "message=%lld: delivered but not recorded (%s): it will be sent again after its "
                "lease, with the same Message-ID",
                c->id, admit_db_error(m->db));
            return;
        }
        say(m, ADMIT_MAILER_DATABASE,
            "message=%lld: delivered; cannot record it yet (%s), trying again", c->id,
            admit_db_error(m->db));
        /* Not pause_ms: a stop must not cut this wait short. */
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        wait = wait * 2 > DB_PAUSE_MAX_MS / 6 ? DB_PAUSE_MAX_MS / 6 : wait * 2;
    }
}

/* After the ticket's QR code or PDF, or the certificate (what) could not be made with rc: the
 * message dealt with (put off or failed), *round says how. */
static void not_made(struct admit_mailer *m, const struct admit_mail_claim *c, const char *what,
                     enum admit_rc rc, enum round *round)
{
    struct admit_error err;
    const char *kind = kind_of(c->payload);
    if (rc == ADMIT_ERR_DB_UNAVAILABLE) {
        *round = ROUND_DB_DOWN;      /* the lease brings it back */
    } else if (rc == ADMIT_ERR_DB) { /* storing or reading failed: a database matter, try later */
        admit_error_set(&err, "the ticket's %s could not be made: %s", what, admit_db_error(m->db));
        say(m, ADMIT_MAILER_DEFERRED, "deferred message=%lld kind=%s: %s", c->id, kind,
            err.message);
        *round = finish(m, c, ADMIT_MAIL_RETRY, err.message, ROUND_DEFERRED);
    } else {
        admit_error_set(&err, "the ticket's %s could not be made: %s", what, admit_strerror(rc));
        say(m, ADMIT_MAILER_FAILED, "failed message=%lld kind=%s: %s", c->id, kind, err.message);
        *round = finish(m, c, ADMIT_MAIL_FAILED, err.message, ROUND_DONE);
    }
}

/* The certificate's PDF for a certificate message, into pdf: true when pdf holds it; otherwise the
 * message is dealt with (a person without a certificate now: superseded), *round says how. */
static bool certificate_file(struct admit_mailer *m, const struct admit_mail_claim *c,
                             struct admit_buf *pdf, enum round *round)
{
    char verify_url[600];
    bool given = false;
    snprintf(verify_url, sizeof verify_url, "%s/verify", m->public_url);
    enum admit_rc rc =
        admit_mail_certificate_pdf(m->db, &m->key, verify_url, c->payload, pdf, &given);
    if (rc == ADMIT_OK && given)
        return true;
    if (rc == ADMIT_OK || rc == ADMIT_ERR_NOT_FOUND) {
        const char *why = "the person has no certificate of attendance any more";
        say(m, ADMIT_MAILER_SUPERSEDED, "superseded message=%lld kind=certificate: %s", c->id, why);
        *round = finish(m, c, ADMIT_MAIL_SUPERSEDED, why, ROUND_DONE);
        return false;
    }
    not_made(m, c, "certificate", rc, round);
    return false;
}

/* The ticket's QR code and, when its event attaches it, its PDF, for a message that carries the
 * ticket: true when png and pdf hold them (or none is needed); otherwise the message is dealt
 * with, and *round says how. */
static bool ticket_files(struct admit_mailer *m, const struct admit_mail_claim *c,
                         struct admit_buf *png, struct admit_buf *pdf, enum round *round)
{
    if (admit_mail_is_certificate(c->payload))
        return certificate_file(m, c, pdf, round);
    if (!admit_mail_needs_qr(c->payload))
        return true;
    enum admit_rc rc = admit_mail_ticket_png(m->db, &m->key, c->payload, png);
    if (rc != ADMIT_OK) {
        not_made(m, c, "QR code", rc, round);
        return false;
    }
    rc = admit_mail_ticket_pdf(m->db, &m->key, c->payload, pdf);
    if (rc != ADMIT_OK) {
        not_made(m, c, "PDF", rc, round);
        return false;
    }
    return true;
}

/* Hands the composed message to the SMTP server and records what it said. */
static enum round hand_over(struct admit_mailer *m, const struct admit_mail_claim *c,
                            const struct admit_buf *message)
{
    char reply[512];
    const char *kind = kind_of(c->payload);
    const char *to = json_string_value(json_object_get(c->payload, "recipient"));
    enum admit_smtp_result sent = admit_smtp_send(m->smtp, m->from_addr, to, message->data,
                                                  message->len, reply, sizeof reply);
    switch (sent) {
    case ADMIT_SMTP_SENT:
        record_sent(m, c);
        say(m, ADMIT_MAILER_SENT, "sent message=%lld kind=%s attempt=%d", c->id, kind, c->attempt);
        return ROUND_DONE;
    case ADMIT_SMTP_REFUSED:
        say(m, ADMIT_MAILER_FAILED, "refused message=%lld kind=%s: %s", c->id, kind, reply);
        return finish(m, c, ADMIT_MAIL_FAILED, reply, ROUND_DONE);
    case ADMIT_SMTP_DEFERRED:
        say(m, ADMIT_MAILER_DEFERRED, "deferred message=%lld kind=%s attempt=%d: %s", c->id, kind,
            c->attempt, reply);
        return finish(m, c, ADMIT_MAIL_RETRY, reply, ROUND_DEFERRED);
    case ADMIT_SMTP_UNAVAILABLE:
        break;
    }
    say(m, ADMIT_MAILER_SMTP_DOWN, "SMTP server unavailable (message=%lld attempt=%d): %s", c->id,
        c->attempt, reply);
    return finish(m, c, ADMIT_MAIL_RETRY, reply, ROUND_SMTP_DOWN);
}

static enum round deliver(struct admit_mailer *m, const struct admit_mail_claim *c)
{
    struct admit_buf png, pdf, message;
    struct admit_error err;
    enum round round = ROUND_DONE;
    const char *kind = kind_of(c->payload);
    admit_buf_init(&png, ADMIT_MAIL_MAX);
    admit_buf_init(&pdf, ADMIT_MAIL_MAX / 2);
    admit_buf_init(&message, ADMIT_MAIL_MAX);

    const char *superseded = admit_mail_superseded(c->payload);
    if (superseded != NULL) {
        say(m, ADMIT_MAILER_SUPERSEDED, "superseded message=%lld kind=%s: %s", c->id, kind,
            superseded);
        round = finish(m, c, ADMIT_MAIL_SUPERSEDED, superseded, ROUND_DONE);
        goto done;
    }
    if (!ticket_files(m, c, &png, &pdf, &round))
        goto done;
    if (admit_mail_compose_with_pdf(&m->sender, c->payload, png.data, png.len, pdf.data, pdf.len,
                                    &message, &err) != ADMIT_OK) {
        say(m, ADMIT_MAILER_FAILED, "failed message=%lld kind=%s: %s", c->id, kind, err.message);
        round = finish(m, c, ADMIT_MAIL_FAILED, err.message, ROUND_DONE);
        goto done;
    }
    round = hand_over(m, c, &message);
done:
    admit_buf_free(&png);
    admit_buf_free(&pdf);
    admit_buf_free(&message);
    return round;
}

static enum round one_round(struct admit_mailer *m)
{
    struct admit_mail_claim c;
    int found = 0;
    enum admit_rc rc = admit_mail_claim(m->db, m->lease, &c, &found);
    if (rc == ADMIT_ERR_INVALID) {
        say(m, ADMIT_MAILER_DATABASE,
            "message=%lld: unreadable payload (a bug); it is retried after its lease", c.id);
        json_decref(c.payload);
        return ROUND_DEFERRED;
    }
    if (rc != ADMIT_OK) {
        say(m, ADMIT_MAILER_DATABASE, "cannot read the outbox: %s", admit_db_error(m->db));
        return ROUND_DB_DOWN;
    }
    if (!found)
        return ROUND_IDLE;
    enum round round = deliver(m, &c);
    json_decref(c.payload);
    return round;
}

bool admit_mailer_run(struct admit_mailer *m, const struct admit_mailer_loop *loop)
{
    unsigned long smtp_pause = 0, db_pause = 0;
    bool waiting = false; /* some message had to be put off */
    m->loop = loop;
    while (!stopping(m)) {
        enum round round = one_round(m);
        if (round == ROUND_DONE || round == ROUND_DEFERRED) {
            smtp_pause = db_pause = 0;
            waiting |= round == ROUND_DEFERRED;
            continue;
        }
        if (round == ROUND_IDLE) {
            smtp_pause = db_pause = 0;
            if (loop->once)
                break;
            pause_ms(m, loop->poll_ms);
            continue;
        }
        waiting = true;
        if (loop->once)
            break;
        if (round == ROUND_SMTP_DOWN) {
            unsigned long max = m->backoff.max_seconds * 1000UL;
            smtp_pause = smtp_pause == 0 ? m->backoff.min_seconds * 1000UL : smtp_pause * 2;
            smtp_pause = smtp_pause > max ? max : smtp_pause;
            say(m, ADMIT_MAILER_PAUSED, "pausing %lu s before the next attempt", smtp_pause / 1000);
            pause_ms(m, smtp_pause);
        } else {
            db_pause = db_pause == 0 ? DB_PAUSE_MIN_MS : db_pause * 2;
            db_pause = db_pause > DB_PAUSE_MAX_MS ? DB_PAUSE_MAX_MS : db_pause;
            pause_ms(m, db_pause);
        }
    }
    m->loop = NULL;
    return waiting;
}
