/* admit scan: the door scanner. Reads one scanned payload per line from stdin (what keyboard-wedge
 * scanners type and what `zbarcam --raw` prints) or the QR codes of a picture (--image), and
 * shows a verdict a person can read from a metre away for each, within the door's budget
 * whatever the network does. The work is in lib/scan_session*.c (online, offline, journal,
 * uploads in the background); the verdict lines in cli/scan_screen.c; this file is the loop. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "admit/checkin/checkin.h"
#include "admit/checkin/device.h"
#include "admit/door/scan_image.h"
#include "admit/door/scan_session.h"
#include "admit/core/token.h"
#include "cli.h"
#include "scan_print.h"
#include "scan_screen.h"

/* Bytes of one scanned line kept (no ticket is near this long; the rest is dropped). */
#define LINE_KEEP 4096
/* At the end of the input, how long an upload under way may take to finish: the scanner ends
 * within a second. */
#define FINISH_MS 600

static const struct cli_opt scan_opts[] = {
    CLI_OPT_SCAN_SERVER,
    CLI_OPT_SCAN_TOKEN,
    CLI_OPT_SCAN_EVENT,
    {"list", 'l', CLI_STRING, "NAME", "ADMIT_SCAN_LIST", NULL, 0, 0, CLI_REQUIRED,
     "the check-in list this door admits to, e.g. \"Day 1\""},
    {"exit", 0, CLI_FLAG, NULL, "ADMIT_SCAN_EXIT", NULL, 0, 0, 0,
     "this door scans people out (they may come back in)"},
    {"gate", 'g', CLI_STRING, "NAME", "ADMIT_SCAN_GATE", NULL, 0, 0, 0,
     "the gate scans are logged at (default: the device's name)"},
    {"json", 0, CLI_FLAG, NULL, NULL, NULL, 0, 0, 0,
     "print one JSON object per scan instead of verdict lines, for other programs"},
    {"image", 0, CLI_STRING, "FILE", NULL, NULL, 0, 0, 0,
     "check the ticket(s) in the QR code(s) of a picture (PNG, JPEG, or the ticket's SVG) "
     "instead of reading stdin"},
    {"color", 0, CLI_STRING, "WHEN", "ADMIT_SCAN_COLOR", "auto", 0, 0, 0,
     "colours and bell: auto (on a terminal, unless NO_COLOR is set), always or never"},
    {"timeout", 0, CLI_UINT, "MS", "ADMIT_SCAN_TIMEOUT_MS", "800", 100, 60000, 0,
     "the door's budget: a verdict at most this long after a scan; a server slower than this is "
     "treated as offline"},
    CLI_OPT_SCAN_CA_FILE,
    CLI_OPT_SCAN_STATE_DIR,
    {"badge-dir", 0, CLI_STRING, "DIR", "ADMIT_SCAN_BADGE_DIR", NULL, 0, 0, 0,
     "write a badge (PDF, one page) into DIR for each valid entry, beside the scan loop"},
    {"print-badge", 0, CLI_STRING, "PRINTER", "ADMIT_SCAN_PRINTER", NULL, 0, 0, 0,
     "print a badge on this CUPS printer for each valid entry, beside the scan loop"},
    {"badge-size", 0, CLI_STRING, "LAYOUT", NULL, "a6", 0, 0, 0,
     "the badges' layout in the templates' print/badges.txt: a6, a7, label-99x68"},
    {"templates", 0, CLI_STRING, "DIR", "ADMIT_TEMPLATES_DIR", ADMIT_DEFAULT_TEMPLATES, 0, 0, 0,
     "folder of the templates, for the badge layouts"},
    {0},
};

struct run {
    const struct cli_args *args;
    struct admit_scan_session *session;
    struct scan_screen screen;
    struct admit_badge_queue *badges; /* --badge-dir: scan_print.c */
    int status;                       /* set to CLI_EXIT_USAGE by a fatal error */
    bool opened;                      /* the ready line is shown */
    bool was_synced;                  /* when the scanner started */
    bool synced_shown;                /* the first sync was reported */
};

/* Set by SIGINT and SIGTERM: the scanner stops after the scan it is checking. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Checks one line; false when the scanner must stop (after a message). */
static bool scan_line(struct run *r, const char *line, size_t len)
{
    struct admit_scan_answer answer;
    enum admit_rc rc = admit_scan_session_scan(r->session, line, len, &answer);
    if (rc == ADMIT_ERR_NOT_FOUND)
        return true; /* a blank line is not a scan */
    if (rc == ADMIT_ERR_PERMISSION) {
        cli_error(r->args, "the server refused this device token (unknown or revoked): "
                           "stopping; the scan is kept in the journal");
        r->status = CLI_EXIT_USAGE;
        return false;
    }
    if (rc != ADMIT_OK) {
        cli_error(r->args,
                  "cannot write the journal in %s (%s): stopping, no verdict can be "
                  "trusted",
                  admit_scan_session_dir(r->session), strerror(errno));
        r->status = CLI_EXIT_USAGE;
        return false;
    }
    r->screen.time_zone = admit_scan_session_time_zone(r->session);
    scan_screen_show(&r->screen, &answer);
    scan_print_badge(r->args, r->badges, &answer, line, len);
    admit_scan_answer_free(&answer);
    if (r->screen.failed) {
        cli_error(r->args, "cannot write to stdout: stopping");
        r->status = CLI_EXIT_USAGE;
        return false;
    }
    return true;
}

/* Background work while waiting up to max_ms for input; false when the scanner must stop. */
static bool idle(struct run *r, long max_ms, bool *ready)
{
    struct admit_error err;
    enum admit_rc rc = admit_scan_session_run(r->session, STDIN_FILENO, max_ms, ready, &err);
    if (rc == ADMIT_OK)
        return true;
    cli_error(r->args, "%s: stopping", err.message);
    r->status = CLI_EXIT_USAGE;
    return false;
}

/* Reads stdin line by line, doing background work while it waits. */
static void read_stdin(struct run *r)
{
    static char line[LINE_KEEP];
    size_t len = 0;
    char chunk[4096];
    while (!stop_requested) {
        bool ready = false;
        /* A short wait: a stop signal that lands just before it is seen within this. */
        if (!idle(r, 250, &ready))
            return;
        if (!ready)
            continue;
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            cli_error(r->args, "cannot read stdin: %s", strerror(errno));
            r->status = CLI_EXIT_USAGE;
            return;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
                if (len < sizeof line)
                    line[len++] = chunk[i];
                continue;
            }
            if (!scan_line(r, line, len))
                return;
            len = 0;
        }
    }
    if (len > 0 && !stop_requested)
        (void)scan_line(r, line, len);
}

static void found_in_image(void *ctx, const char *text, size_t len)
{
    struct run *r = ctx;
    if (r->status == CLI_EXIT_OK)
        (void)scan_line(r, text, len);
}

static void on_event(void *ctx, enum admit_scan_event event, const char *detail)
{
    struct run *r = ctx;
    /* While the scanner opens, only warnings: the ready line says the rest. */
    if (!r->opened && event != ADMIT_SCAN_EVENT_WARNING)
        return;
    switch (event) {
    case ADMIT_SCAN_EVENT_CONNECTED:
        cli_error(r->args, "online: %s", detail);
        break;
    case ADMIT_SCAN_EVENT_OFFLINE:
        if (admit_scan_session_synced(r->session))
            cli_error(r->args,
                      "OFFLINE (%s): checking tickets with the last sync; scans upload when the "
                      "server is back",
                      detail);
        else
            cli_error(r->args,
                      "OFFLINE (%s): this scanner has never synced and cannot check tickets "
                      "until the server answers; trying again",
                      detail);
        break;
    case ADMIT_SCAN_EVENT_ONLINE:
        cli_error(r->args, "back ONLINE");
        break;
    case ADMIT_SCAN_EVENT_UPLOADED:
        cli_error(r->args, "uploaded %s", detail);
        break;
    case ADMIT_SCAN_EVENT_WARNING:
        cli_error(r->args, "warning: %s", detail);
        break;
    case ADMIT_SCAN_EVENT_SYNCED:
        /* Every 30 seconds: worth a line only the first time, when the door can work offline. */
        if (!r->synced_shown && !r->was_synced)
            cli_error(r->args, "synced (%s): list \"%s\"; tickets can be checked offline now",
                      detail, admit_scan_session_list(r->session));
        r->synced_shown = true;
        break;
    }
}

static bool color_wanted(const struct cli_args *args, bool *ok)
{
    const char *when = cli_get(args, "color");
    *ok = true;
    if (strcmp(when, "always") == 0)
        return true;
    if (strcmp(when, "never") == 0)
        return false;
    if (strcmp(when, "auto") != 0) {
        *ok = false;
        return false;
    }
    const char *term = getenv("TERM");
    const char *no_color = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && (no_color == NULL || no_color[0] == '\0') &&
           (term == NULL || strcmp(term, "dumb") != 0);
}

/* The screen's settings from the options; false (after a message) for a bad --color. */
static bool screen_setup(const struct cli_args *args, struct scan_screen *screen)
{
    bool color_ok;
    screen->json = cli_flag(args, "json") > 0;
    screen->color = color_wanted(args, &color_ok) && !screen->json;
    if (!color_ok) {
        cli_error(args, "--color must be auto, always or never");
        return false;
    }
    /* The bell rings on the terminal the operator watches: stdout, or stderr when stdout goes
     * to a program; never with --color never. */
    bool bell = strcmp(cli_get(args, "color"), "never") != 0;
    screen->bell_stdout = bell && !screen->json && isatty(STDOUT_FILENO);
    screen->bell_stderr = bell && !screen->bell_stdout && isatty(STDERR_FILENO);
    return true;
}

/* Ctrl-C and SIGTERM end the scanner within a scan's budget; no SA_RESTART, so that a wait ends
 * at once. Everything shown is journaled already. */
static void catch_stop_signals(void)
{
    struct sigaction stop;
    memset(&stop, 0, sizeof stop);
    stop.sa_handler = on_stop_signal;
    sigemptyset(&stop.sa_mask);
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGTERM, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The line that says the door is ready, and for what. */
static void say_ready(struct run *r, const struct admit_scan_config *cfg, bool image)
{
    size_t regs = 0, adms = 0;
    admit_scan_session_counts(r->session, &regs, &adms);
    r->was_synced = admit_scan_session_synced(r->session);
    const char *doing = image ? "reading the picture" : "scan tickets (one per line)";
    if (r->was_synced)
        cli_error(r->args, "event %s, list \"%s\"%s, gate \"%s\": %s%zu registrations known; %s",
                  admit_scan_session_event(r->session), admit_scan_session_list(r->session),
                  cfg->exit ? " (exit)" : "", admit_scan_session_gate(r->session),
                  admit_scan_session_online(r->session) ? "online, " : "", regs, doing);
    else
        cli_error(r->args,
                  "event %s: this scanner has never synced, so it can check tickets only while "
                  "%s answers; trying to reach it now; %s",
                  admit_scan_session_event(r->session), cfg->server, doing);
    r->opened = true;
}

/* Checks the tickets of the picture at path. */
static void read_image(struct run *r, const char *path)
{
    size_t count = 0;
    struct admit_error why;
    enum admit_rc rc = admit_scan_image_decode(path, found_in_image, r, &count, &why);
    if (rc != ADMIT_OK) {
        if (rc == ADMIT_ERR_IO)
            cli_error(r->args, "cannot read %s: %s", path, strerror(errno));
        else
            cli_error(r->args, "%s: %s", path, why.message);
        r->status = CLI_EXIT_USAGE;
    } else if (count == 0) {
        cli_error(r->args, "no QR code found in %s", path);
        r->status = CLI_EXIT_NEGATIVE;
    }
}

static int run_scan(const struct cli_args *args)
{
    struct run r;
    struct admit_error err;
    memset(&r, 0, sizeof r);
    r.args = args;
    r.status = CLI_EXIT_OK;
    if (!screen_setup(args, &r.screen))
        return CLI_EXIT_USAGE;
    const char *gate = cli_get(args, "gate");
    if (gate != NULL && admit_device_name_problem(gate) != NULL) {
        cli_error(args, "--gate: %s", admit_device_name_problem(gate));
        return CLI_EXIT_USAGE;
    }
    struct admit_scan_config cfg = {
        .server = cli_get(args, "server"),
        .token = cli_get(args, "token"),
        .event = cli_get(args, "event"),
        .list = cli_get(args, "list"),
        .gate = gate,
        .exit = cli_flag(args, "exit") > 0,
        .timeout_ms = (long)cli_get_uint(args, "timeout"),
        .ca_file = cli_get(args, "ca-file"),
        .state_root = cli_get(args, "state-dir"),
        .notify = on_event,
        .notify_ctx = &r,
    };
    catch_stop_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (admit_scan_session_open(&cfg, true, &r.session, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        curl_global_cleanup();
        return CLI_EXIT_USAGE;
    }
    if (scan_print_start(args, &r.badges) != 0) {
        admit_scan_session_close(r.session);
        curl_global_cleanup();
        return CLI_EXIT_USAGE;
    }
    const char *image = cli_get(args, "image");
    say_ready(&r, &cfg, image != NULL);
    if (image != NULL)
        read_image(&r, image);
    else
        read_stdin(&r);
    /* End of input: the upload running may finish, briefly (never when offline). */
    if (r.status != CLI_EXIT_USAGE && !stop_requested)
        (void)admit_scan_session_finish(r.session, FINISH_MS);
    size_t pending = admit_scan_session_pending(r.session);
    if (pending > 0)
        cli_error(args,
                  "%zu scan%s not uploaded yet: they upload the next time admit scan runs "
                  "online, or with admit sync",
                  pending, pending == 1 ? "" : "s");
    scan_print_stop(args, r.badges);
    admit_scan_session_close(r.session);
    curl_global_cleanup();
    /* As the top-level help says: 1 when any scan was refused. */
    if (r.status == CLI_EXIT_OK && r.screen.refused > 0)
        r.status = CLI_EXIT_NEGATIVE;
    return r.status;
}

const struct cli_cmd cli_scan_cmd = {
    "scan", NULL,
    "the door scanner: tickets from stdin (hand scanners, zbarcam --raw) or a picture; works "
    "offline",
    scan_opts, run_scan};
