/* admit mailer: delivers the e-mail outbox (sql/migrations/004_email.sql) over SMTP.
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
 *                              and the mailer pauses, doubling the pause up to --retry-max
 * The at-least-once window: if the mailer dies after the server accepted a message and before
 * 'sent' is committed, the message stays 'sending'; when its lease ends another mailer (or this
 * one, restarted) sends it again with the same Message-ID, which lets receivers drop the copy.
 * Every other crash point leads to exactly one delivery.
 *
 * SIGTERM or SIGINT: the message in hand is finished (sent and recorded), then exit 0. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit/core/buf.h"
#include "admit/core/db.h"
#include "admit/core/email.h"
#include "admit/core/keys.h"
#include "admit/mail/mail.h"
#include "admit/mail/mail_outbox.h"
#include "admit/mail/mail_smtp.h"
#include "admit/core/mem.h"
#include "admit/core/migrate.h"
#include "admit/mail/mime.h"
#include "admit/core/tmpl.h"
#include "cli.h"

#ifndef ADMIT_DEFAULT_TEMPLATES
#define ADMIT_DEFAULT_TEMPLATES "templates"
#endif

/* How long a stopping mailer keeps trying to record a delivered message while the database is
 * away, before it gives up (and the message is sent again after its lease). */
#define STOP_RECORD_SECONDS 30
/* Pauses while the database is unreachable: from DB_PAUSE_MIN_MS, doubling, at most this. */
#define DB_PAUSE_MIN_MS 500
#define DB_PAUSE_MAX_MS 30000

static const struct cli_opt mailer_opts[] = {
    CLI_OPT_DB,
    {"smtp-url", 0, CLI_STRING, "URL", "ADMIT_SMTP_URL", NULL, 0, 0, CLI_REQUIRED,
     "the SMTP server: smtp://HOST:PORT (STARTTLS when offered, see --starttls) or "
     "smtps://HOST:PORT; a path names this host in EHLO (smtp://mx.example.org:587/"
     "tickets.example.org). Credentials come from ADMIT_SMTP_USER and ADMIT_SMTP_PASSWORD"},
    {"from", 0, CLI_STRING, "\"NAME <ADDRESS>\"", "ADMIT_MAIL_FROM", NULL, 0, 0, CLI_REQUIRED,
     "who the messages come from, e.g. \"TERRA Conference <tickets@terra.example>\"; its "
     "domain ends every Message-ID"},
    {"public-url", 0, CLI_STRING, "URL", "ADMIT_PUBLIC_URL", NULL, 0, 0, CLI_REQUIRED,
     "the address attendees reach admitd at (https://tickets.example.org): ticket links in "
     "the messages start with it"},
    {"keys", 0, CLI_STRING, "DIR", "ADMIT_KEYS_DIR", NULL, 0, 0, CLI_REQUIRED,
     "folder with ticket-signing.key (mode 0600): to render a ticket's QR code that admitd "
     "has not rendered yet"},
    {"templates", 0, CLI_STRING, "DIR", "ADMIT_TEMPLATES_DIR", ADMIT_DEFAULT_TEMPLATES, 0, 0, 0,
     "folder of the templates; the messages are its email/ templates"},
    {"starttls", 0, CLI_STRING, "try|require|never", "ADMIT_SMTP_STARTTLS", "try", 0, 0, 0,
     "for smtp:// URLs: use STARTTLS when offered, insist on it, or never use it. "
     "Credentials are only sent over TLS, or to a loopback address"},
    {"ca-file", 0, CLI_STRING, "FILE", "ADMIT_SMTP_CA_FILE", NULL, 0, 0, 0,
     "PEM certificate authorities to trust for the SMTP server's certificate instead of the "
     "system's (a relay with a private CA); the certificate is always verified"},
    {"once", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "send what is due now and exit: 0 when all went (or were refused for good), 1 when some "
     "must wait for a retry"},
    {"poll-ms", 0, CLI_UINT, "MS", "ADMIT_MAIL_POLL_MS", "1000", 20, 60000, 0,
     "how often to look for new messages when there are none"},
    {"lease", 0, CLI_UINT, "SECONDS", "ADMIT_MAIL_LEASE", "300", 2, 86400, 0,
     "a message being sent is another mailer's after this long: the time a crashed mailer's "
     "message waits before it is sent again. At least twice --smtp-timeout"},
    {"smtp-timeout", 0, CLI_UINT, "SECONDS", "ADMIT_SMTP_TIMEOUT", "60", 1, 3600, 0,
     "the longest one message's SMTP conversation may take"},
    {"retry-min", 0, CLI_UINT, "SECONDS", "ADMIT_MAIL_RETRY_MIN", "30", 1, 86400, 0,
     "first wait after a temporary failure; doubles with each attempt"},
    {"retry-max", 0, CLI_UINT, "SECONDS", "ADMIT_MAIL_RETRY_MAX", "3600", 1, 604800, 0,
     "longest wait between attempts"},
    {0},
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("admit mailer: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Sleeps ms milliseconds, or less when a stop is requested. */
static void pause_ms(unsigned long ms)
{
    while (ms > 0 && !stop_requested) {
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

struct mailer {
    struct admit_db *db;
    struct admit_smtp *smtp;
    struct admit_tmpl_set *templates;
    struct admit_signing_key key;
    struct admit_mail_sender sender;
    struct admit_mail_backoff backoff;
    char from_name[256];
    char from_addr[ADMIT_EMAIL_MAX + 1];
    char *public_url;
    unsigned lease;
};

/* What one round of the loop found. */
enum round {
    ROUND_IDLE,      /* nothing due */
    ROUND_DONE,      /* a message was sent, refused for good or superseded */
    ROUND_DEFERRED,  /* a message must wait (4xx, or a transient problem of its own) */
    ROUND_SMTP_DOWN, /* the SMTP server is not usable: pause */
    ROUND_DB_DOWN,   /* the database is not usable: pause */
};

static const char *kind_of(const json_t *payload)
{
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    return kind != NULL ? kind : "?";
}

/* Records the outcome; a database failure is logged (the message then waits for its lease). */
static enum round finish(struct mailer *m, const struct admit_mail_claim *c,
                         enum admit_mail_outcome outcome, const char *reason, enum round round)
{
    int recorded = 0;
    enum admit_rc rc =
        admit_mail_finish(m->db, c->id, c->attempt, outcome, reason, &m->backoff, &recorded);
    if (rc != ADMIT_OK) {
        say("message=%lld: cannot record the attempt (%s); it is retried after its lease", c->id,
            admit_db_error(m->db));
        return ROUND_DB_DOWN;
    }
    if (!recorded)
        say("message=%lld: was taken over by another mailer meanwhile", c->id);
    return round;
}

/* Records a delivery, insisting while the database is away: each failure to record it is a
 * duplicate later. Gives up only when stopping, after STOP_RECORD_SECONDS. */
static void record_sent(struct mailer *m, const struct admit_mail_claim *c)
{
    unsigned long wait = DB_PAUSE_MIN_MS;
    long long stop_deadline = 0;
    for (;;) {
        int recorded = 0;
        enum admit_rc rc = admit_mail_finish(m->db, c->id, c->attempt, ADMIT_MAIL_SENT, NULL,
                                             &m->backoff, &recorded);
        if (rc == ADMIT_OK)
            return;
        if (stop_requested && stop_deadline == 0)
            stop_deadline = now_ms() + STOP_RECORD_SECONDS * 1000LL;
        if (stop_deadline != 0 && now_ms() > stop_deadline) {
            say("message=%lld: delivered but not recorded (%s): it will be sent again after its "
                "lease, with the same Message-ID",
                c->id, admit_db_error(m->db));
            return;
        }
        say("message=%lld: delivered; cannot record it yet (%s), trying again", c->id,
            admit_db_error(m->db));
        /* Not pause_ms: a stop must not cut this wait short. */
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        wait = wait * 2 > DB_PAUSE_MAX_MS / 6 ? DB_PAUSE_MAX_MS / 6 : wait * 2;
    }
}

static enum round deliver(struct mailer *m, const struct admit_mail_claim *c)
{
    struct admit_buf png, message;
    char reply[512];
    struct admit_error err;
    enum round round = ROUND_DONE;
    const char *kind = kind_of(c->payload);
    admit_buf_init(&png, ADMIT_MAIL_MAX);
    admit_buf_init(&message, ADMIT_MAIL_MAX);

    const char *superseded = admit_mail_superseded(c->payload);
    if (superseded != NULL) {
        say("superseded message=%lld kind=%s: %s", c->id, kind, superseded);
        round = finish(m, c, ADMIT_MAIL_SUPERSEDED, superseded, ROUND_DONE);
        goto done;
    }
    if (admit_mail_needs_qr(c->payload)) {
        enum admit_rc rc = admit_mail_ticket_png(m->db, &m->key, c->payload, &png);
        if (rc == ADMIT_ERR_DB_UNAVAILABLE) {
            round = ROUND_DB_DOWN; /* the lease brings it back */
            goto done;
        }
        if (rc == ADMIT_ERR_DB) { /* storing the image failed: a database matter, try later */
            admit_error_set(&err, "the ticket's QR code could not be stored: %s",
                            admit_db_error(m->db));
            say("deferred message=%lld kind=%s: %s", c->id, kind, err.message);
            round = finish(m, c, ADMIT_MAIL_RETRY, err.message, ROUND_DEFERRED);
            goto done;
        }
        if (rc != ADMIT_OK) {
            admit_error_set(&err, "the ticket's QR code could not be made: %s", admit_strerror(rc));
            say("failed message=%lld kind=%s: %s", c->id, kind, err.message);
            round = finish(m, c, ADMIT_MAIL_FAILED, err.message, ROUND_DONE);
            goto done;
        }
    }
    if (admit_mail_compose(&m->sender, c->payload, png.data, png.len, &message, &err) != ADMIT_OK) {
        say("failed message=%lld kind=%s: %s", c->id, kind, err.message);
        round = finish(m, c, ADMIT_MAIL_FAILED, err.message, ROUND_DONE);
        goto done;
    }
    const char *to = json_string_value(json_object_get(c->payload, "recipient"));
    enum admit_smtp_result sent =
        admit_smtp_send(m->smtp, m->from_addr, to, message.data, message.len, reply, sizeof reply);
    switch (sent) {
    case ADMIT_SMTP_SENT:
        record_sent(m, c);
        say("sent message=%lld kind=%s attempt=%d", c->id, kind, c->attempt);
        break;
    case ADMIT_SMTP_REFUSED:
        say("refused message=%lld kind=%s: %s", c->id, kind, reply);
        round = finish(m, c, ADMIT_MAIL_FAILED, reply, ROUND_DONE);
        break;
    case ADMIT_SMTP_DEFERRED:
        say("deferred message=%lld kind=%s attempt=%d: %s", c->id, kind, c->attempt, reply);
        round = finish(m, c, ADMIT_MAIL_RETRY, reply, ROUND_DEFERRED);
        break;
    case ADMIT_SMTP_UNAVAILABLE:
        say("SMTP server unavailable (message=%lld attempt=%d): %s", c->id, c->attempt, reply);
        round = finish(m, c, ADMIT_MAIL_RETRY, reply, ROUND_SMTP_DOWN);
        break;
    }
done:
    admit_buf_free(&png);
    admit_buf_free(&message);
    return round;
}

static enum round one_round(struct mailer *m)
{
    struct admit_mail_claim c;
    int found = 0;
    enum admit_rc rc = admit_mail_claim(m->db, m->lease, &c, &found);
    if (rc == ADMIT_ERR_INVALID) {
        say("message=%lld: unreadable payload (a bug); it is retried after its lease", c.id);
        json_decref(c.payload);
        return ROUND_DEFERRED;
    }
    if (rc != ADMIT_OK) {
        say("cannot read the outbox: %s", admit_db_error(m->db));
        return ROUND_DB_DOWN;
    }
    if (!found)
        return ROUND_IDLE;
    enum round round = deliver(m, &c);
    json_decref(c.payload);
    return round;
}

static int serve(struct mailer *m, int once, unsigned long poll)
{
    unsigned long smtp_pause = 0, db_pause = 0;
    int waiting = 0; /* --once: some message had to be put off */
    while (!stop_requested) {
        enum round round = one_round(m);
        if (round == ROUND_DONE || round == ROUND_DEFERRED) {
            smtp_pause = db_pause = 0;
            waiting |= round == ROUND_DEFERRED;
            continue;
        }
        if (round == ROUND_IDLE) {
            smtp_pause = db_pause = 0;
            if (once)
                break;
            pause_ms(poll);
            continue;
        }
        waiting = 1;
        if (once)
            break;
        if (round == ROUND_SMTP_DOWN) {
            unsigned long max = m->backoff.max_seconds * 1000UL;
            smtp_pause = smtp_pause == 0 ? m->backoff.min_seconds * 1000UL : smtp_pause * 2;
            smtp_pause = smtp_pause > max ? max : smtp_pause;
            say("pausing %lu s before the next attempt", smtp_pause / 1000);
            pause_ms(smtp_pause);
        } else {
            db_pause = db_pause == 0 ? DB_PAUSE_MIN_MS : db_pause * 2;
            db_pause = db_pause > DB_PAUSE_MAX_MS ? DB_PAUSE_MAX_MS : db_pause;
            pause_ms(db_pause);
        }
    }
    if (stop_requested)
        say("stopping");
    return once && waiting ? CLI_EXIT_NEGATIVE : CLI_EXIT_OK;
}

/* --public-url without its trailing slashes, checked as admitd checks it; NULL when invalid. */
static char *public_url(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0 || n <= scheme || strpbrk(url, " \t\r\n\"<>") != NULL)
        return NULL;
    return admit_xstrndup(url, n);
}

static int load_key(const struct cli_args *args, struct admit_signing_key *key)
{
    struct admit_buf path;
    const char *dir = cli_get(args, "keys");
    int status = -1;
    admit_buf_init(&path, 4096);
    if (admit_buf_printf(&path, "%s/%s", dir, ADMIT_KEY_SECRET_FILE) != ADMIT_OK) {
        cli_error(args, "--keys %s: path too long", dir);
        goto done;
    }
    enum admit_rc rc = admit_key_load_secret(admit_buf_cstr(&path), key);
    if (rc == ADMIT_ERR_PERMISSION)
        cli_error(args, "%s is readable by group or others: chmod 600 it", admit_buf_cstr(&path));
    else if (rc == ADMIT_ERR_IO)
        cli_error(args, "cannot read %s: %s", admit_buf_cstr(&path), strerror(errno));
    else if (rc != ADMIT_OK)
        cli_error(args, "%s is not a ticket-signing key file", admit_buf_cstr(&path));
    else
        status = 0;
done:
    admit_buf_free(&path);
    return status;
}

static int load_templates(const struct cli_args *args, struct admit_tmpl_set **out)
{
    struct admit_error err;
    const char *dir = cli_get(args, "templates");
    if (admit_tmpl_set_load_dir(dir, out, &err) != ADMIT_OK) {
        cli_error(args, "cannot load the templates of %s: %s", dir, err.message);
        return -1;
    }
    for (size_t i = 0; admit_mail_templates[i] != NULL; i++) {
        if (!admit_tmpl_set_has(*out, admit_mail_templates[i])) {
            cli_error(args, "%s/%s is missing", dir, admit_mail_templates[i]);
            return -1;
        }
    }
    return 0;
}

static int check_database(const struct cli_args *args, struct admit_db *db)
{
    int applied = 0, expected = 0;
    if (admit_db_connect(db) != ADMIT_OK) {
        cli_error(args, "cannot connect to the database: %s", admit_db_error(db));
        return -1;
    }
    enum admit_rc rc = admit_migrate_check(db, &applied, &expected);
    if (rc == ADMIT_ERR_STATE) {
        cli_error(args,
                  "the database is at migration %d of %d: run admit migrate first (or "
                  "upgrade admit)",
                  applied, expected);
        return -1;
    }
    if (rc != ADMIT_OK || admit_db_ready(db) != ADMIT_OK) {
        cli_error(args, "the database does not accept the mailer's queries: %s",
                  admit_db_error(db));
        return -1;
    }
    return 0;
}

/* Flags and their consistency; 0 when usable. */
static int check_settings(const struct cli_args *args, struct mailer *m,
                          struct admit_smtp_config *smtp)
{
    const char *starttls = cli_get(args, "starttls");
    const char *url = cli_get(args, "smtp-url");
    if (admit_mime_parse_mailbox(cli_get(args, "from"), m->from_name, sizeof m->from_name,
                                 m->from_addr, sizeof m->from_addr) != ADMIT_OK) {
        cli_error(args, "--from \"%s\": expected \"Name <address>\" with a plain ASCII address",
                  cli_get(args, "from"));
        return -1;
    }
    m->public_url = public_url(cli_get(args, "public-url"));
    if (m->public_url == NULL) {
        cli_error(args, "--public-url \"%s\": expected http://HOST or https://HOST",
                  cli_get(args, "public-url"));
        return -1;
    }
    if (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
        cli_error(args, "--smtp-url: expected smtp://HOST:PORT or smtps://HOST:PORT");
        return -1;
    }
    if (strcmp(starttls, "try") == 0)
        smtp->tls = ADMIT_SMTP_TLS_TRY;
    else if (strcmp(starttls, "require") == 0)
        smtp->tls = ADMIT_SMTP_TLS_REQUIRE;
    else if (strcmp(starttls, "never") == 0)
        smtp->tls = ADMIT_SMTP_TLS_NEVER;
    else {
        cli_error(args, "--starttls \"%s\": expected try, require or never", starttls);
        return -1;
    }
    smtp->url = url;
    smtp->ca_file = cli_get(args, "ca-file");
    if (smtp->ca_file != NULL && access(smtp->ca_file, R_OK) != 0) {
        cli_error(args, "--ca-file %s: %s", smtp->ca_file, strerror(errno));
        return -1;
    }
    smtp->user = getenv("ADMIT_SMTP_USER");
    smtp->password = getenv("ADMIT_SMTP_PASSWORD");
    if (smtp->user != NULL && smtp->user[0] == '\0')
        smtp->user = NULL;
    if ((smtp->user == NULL) != (smtp->password == NULL)) {
        cli_error(args, "set both ADMIT_SMTP_USER and ADMIT_SMTP_PASSWORD, or neither");
        return -1;
    }
    if (smtp->user != NULL && strncmp(url, "smtps://", 8) != 0 &&
        smtp->tls != ADMIT_SMTP_TLS_REQUIRE && !admit_smtp_url_loopback(url)) {
        cli_error(args, "SMTP credentials are only sent over TLS: use smtps:// or "
                        "--starttls require (or a loopback server)");
        return -1;
    }
    smtp->timeout_seconds = (long)cli_get_uint(args, "smtp-timeout");
    m->lease = (unsigned)cli_get_uint(args, "lease");
    if (m->lease < 2 * cli_get_uint(args, "smtp-timeout")) {
        cli_error(args, "--lease must be at least twice --smtp-timeout: a message must never be "
                        "taken over while it is being sent");
        return -1;
    }
    m->backoff.min_seconds = (unsigned)cli_get_uint(args, "retry-min");
    m->backoff.max_seconds = (unsigned)cli_get_uint(args, "retry-max");
    if (m->backoff.max_seconds < m->backoff.min_seconds) {
        cli_error(args, "--retry-max must be at least --retry-min");
        return -1;
    }
    return 0;
}

static int run_mailer(const struct cli_args *args)
{
    struct mailer m;
    struct admit_smtp_config smtp = {0};
    int status = CLI_EXIT_USAGE;
    struct sigaction sa;
    memset(&m, 0, sizeof m);

    if (check_settings(args, &m, &smtp) != 0)
        goto done;
    if (load_templates(args, &m.templates) != 0 || load_key(args, &m.key) != 0)
        goto done;
    if (admit_smtp_new(&smtp, &m.smtp) != ADMIT_OK) {
        cli_error(args, "--smtp-url: libcurl does not accept this URL or its options");
        goto done;
    }
    m.sender = (struct admit_mail_sender){.from_name = m.from_name,
                                          .from_addr = m.from_addr,
                                          .public_url = m.public_url,
                                          .templates = m.templates};
    m.db = admit_db_new(cli_get(args, "db"));
    status = CLI_EXIT_NEGATIVE;
    if (check_database(args, m.db) != 0)
        goto done;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    say("started: polling every %lu ms, lease %u s", cli_get_uint(args, "poll-ms"), m.lease);
    status = serve(&m, cli_flag(args, "once") > 0, cli_get_uint(args, "poll-ms"));
done:
    admit_db_free(m.db);
    admit_smtp_free(m.smtp);
    admit_tmpl_set_free(m.templates);
    admit_key_wipe(&m.key);
    free(m.public_url);
    return status;
}

const struct cli_cmd cli_mailer_cmd = {
    "mailer", NULL,
    "send the e-mail outbox (tickets, waiting list, cancellations) over SMTP until stopped",
    mailer_opts, run_mailer};
