/* admit mailer: delivers the e-mail outbox over SMTP until stopped. The delivery loop is the mail
 * room's (admit/mail/mailer.h, where the outcomes and the at-least-once window are described);
 * this file reads the options, handles the signals and prints one line per event.
 *
 * SIGTERM or SIGINT: the message in hand is finished (sent and recorded), then exit 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit/core/listen_addr.h"
#include "admit/mail/mailer.h"
#include "cli.h"
#include "mailer_metrics.h"

static const struct cli_opt mailer_opts[] = {
    CLI_OPT_DB,
    {"smtp-url", 0, CLI_STRING, "URL", "ADMIT_SMTP_URL", NULL, 0, 0, CLI_REQUIRED,
     "the SMTP server: smtp://HOST:PORT (STARTTLS when offered, see --starttls) or "
     "smtps://HOST:PORT; a path names this host in EHLO (smtp://mx.example.org:587/"
     "tickets.example.org)"},
    {"smtp-user", 0, CLI_STRING, NULL, "ADMIT_SMTP_USER", NULL, 0, 0, CLI_ENV_ONLY,
     "the user name to log in to the SMTP server with, if it needs one"},
    {"smtp-password", 0, CLI_STRING, NULL, "ADMIT_SMTP_PASSWORD", NULL, 0, 0, CLI_ENV_ONLY,
     "its password (prefer ADMIT_SMTP_PASSWORD_FILE, or a systemd credential)"},
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
     "folder of the templates; the messages are its email/ templates (run from its build "
     "folder: the checkout's templates/)"},
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
    {"metrics-listen", 0, CLI_STRING, "ADDR:PORT", "ADMIT_MAILER_METRICS_LISTEN", NULL, 0, 0, 0,
     "serve /metrics (Prometheus text format: sent, failed, retried, backlog) on this address "
     "(off when not set)"},
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

static void say(const char *line)
{
    fprintf(stderr, "admit mailer: %s\n", line);
}

static void on_event(void *ctx, enum admit_mailer_event event, const char *detail)
{
    (void)ctx;
    mailer_metrics_count(event);
    say(detail);
}

/* The options as the mail room's settings; 0 when they are usable so far. */
static int read_settings(const struct cli_args *args, struct admit_mailer_settings *st)
{
    const char *starttls = cli_get(args, "starttls");
    struct admit_smtp_config *smtp = &st->smtp;
    st->from = cli_get(args, "from");
    st->public_url = cli_get(args, "public-url");
    st->keys_dir = cli_get(args, "keys");
    st->templates_dir = cli_templates_dir(args);
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
    smtp->url = cli_get(args, "smtp-url");
    smtp->ca_file = cli_get(args, "ca-file");
    if (smtp->ca_file != NULL && access(smtp->ca_file, R_OK) != 0) {
        cli_error(args, "--ca-file %s: %s", smtp->ca_file, strerror(errno));
        return -1;
    }
    smtp->user = cli_get(args, "smtp-user");
    smtp->password = cli_get(args, "smtp-password");
    if ((smtp->user == NULL) != (smtp->password == NULL)) {
        cli_error(args, "set both ADMIT_SMTP_USER and ADMIT_SMTP_PASSWORD (or its _FILE), or "
                        "neither");
        return -1;
    }
    smtp->timeout_seconds = (long)cli_get_uint(args, "smtp-timeout");
    st->lease_seconds = (unsigned)cli_get_uint(args, "lease");
    st->backoff.min_seconds = (unsigned)cli_get_uint(args, "retry-min");
    st->backoff.max_seconds = (unsigned)cli_get_uint(args, "retry-max");
    const char *metrics = cli_get(args, "metrics-listen");
    struct sockaddr_storage addr;
    char host[64];
    if (metrics != NULL && admit_listen_addr_parse(metrics, &addr, host, sizeof host) != 0) {
        cli_error(args, "--metrics-listen \"%s\": expected IPv4ADDR:PORT or [IPv6ADDR]:PORT",
                  metrics);
        return -1;
    }
    return 0;
}

static int run_mailer(const struct cli_args *args)
{
    struct admit_mailer_settings settings = {0};
    struct admit_mailer *mailer = NULL;
    struct mailer_metrics *metrics = NULL;
    struct admit_error err;
    int status = CLI_EXIT_USAGE;
    struct sigaction sa;

    if (read_settings(args, &settings) != 0)
        goto done;
    if (admit_mailer_new(&settings, &mailer, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        goto done;
    }
    status = CLI_EXIT_NEGATIVE;
    if (admit_mailer_connect(mailer, cli_get(args, "db"), &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        goto done;
    }

    const char *metrics_listen = cli_get(args, "metrics-listen");
    if (metrics_listen != NULL) {
        char message[256];
        int port = 0;
        metrics = mailer_metrics_start(metrics_listen, cli_get(args, "db"), &port, message,
                                       sizeof message);
        if (metrics == NULL) {
            cli_error(args, "%s", message);
            goto done;
        }
        fprintf(stderr, "admit mailer: metrics on port %d (--metrics-listen %s), at /metrics\n",
                port, metrics_listen);
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "admit mailer: started: polling every %lu ms, lease %u s\n",
            cli_get_uint(args, "poll-ms"), settings.lease_seconds);
    struct admit_mailer_loop loop = {.poll_ms = cli_get_uint(args, "poll-ms"),
                                     .once = cli_flag(args, "once") > 0,
                                     .stop = &stop_requested,
                                     .notify = on_event};
    bool waiting = admit_mailer_run(mailer, &loop);
    if (stop_requested)
        say("stopping");
    status = loop.once && waiting ? CLI_EXIT_NEGATIVE : CLI_EXIT_OK;
done:
    mailer_metrics_stop(metrics);
    admit_mailer_free(mailer);
    return status;
}

const struct cli_cmd cli_mailer_cmd = {
    "mailer", NULL,
    "send the e-mail outbox (tickets, waiting list, cancellations) over SMTP until stopped",
    mailer_opts, run_mailer};
