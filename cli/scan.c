/* admit scan: the door scanner. Reads one scanned payload per line from stdin (what keyboard-wedge
 * scanners type and what `zbarcam --raw` prints) or the QR codes of a picture (--image), and
 * shows a verdict a person can read from a metre away for each, at once. The work is in
 * lib/scan_session.c (online, offline, journal, uploads); this file is the door's screen. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "admit/checkin.h"
#include "admit/device.h"
#include "admit/scan_image.h"
#include "admit/scan_session.h"
#include "admit/token.h"
#include "cli.h"

/* Bytes of one scanned line kept (no ticket is near this long; the rest is dropped). */
#define LINE_KEEP 4096

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
     "check the ticket(s) in the QR code(s) of a PNG picture instead of reading stdin"},
    {"color", 0, CLI_STRING, "WHEN", "ADMIT_SCAN_COLOR", "auto", 0, 0, 0,
     "colours and bell: auto (on a terminal, unless NO_COLOR is set), always or never"},
    {"timeout", 0, CLI_UINT, "MS", "ADMIT_SCAN_TIMEOUT_MS", "1500", 100, 60000, 0,
     "how long an online check may take before the door decides offline"},
    CLI_OPT_SCAN_STATE_DIR,
    {0},
};

struct screen {
    bool json;
    bool color;
    bool bell_stdout; /* else the bell goes to stderr when that is a terminal, or nowhere */
    bool bell_stderr;
    size_t scans, offline, refused;
    bool failed; /* stdout could not be written */
};

/* first_at ("2027-10-29T09:12:03.120Z") as local time: "09:12" today, "29 Oct 09:12" else. */
static void local_time(const char *iso, char *out, size_t outlen)
{
    struct tm tm, now_tm;
    memset(&tm, 0, sizeof tm);
    if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                              &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        snprintf(out, outlen, "an unknown time");
        return;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    time_t now = time(NULL);
    localtime_r(&t, &tm);
    localtime_r(&now, &now_tm);
    if (tm.tm_year == now_tm.tm_year && tm.tm_yday == now_tm.tm_yday)
        strftime(out, outlen, "%H:%M", &tm);
    else
        strftime(out, outlen, "%d %b %H:%M", &tm);
}

static const char *field(const json_t *answer, const char *key)
{
    const char *v = json_string_value(json_object_get(answer, key));
    return v != NULL ? v : "";
}

/* One verdict line: a badge (white on green or red on a terminal), who, and why:
 *     ✔ VALID  Ada Lovelace — Analytical Engines
 *     ✖ ALREADY CHECKED IN  at 09:12 (Gate A) — Ada Lovelace  [offline]            */
static void show(struct screen *sc, const json_t *answer)
{
    int verdict = admit_verdict_parse(field(answer, "verdict"));
    bool exit_scan = strcmp(field(answer, "direction"), "exit") == 0;
    bool ok = verdict == ADMIT_VERDICT_VALID;
    bool offline = json_is_true(json_object_get(answer, "offline"));
    const char *name = field(answer, "name");
    const char *org = field(answer, "organisation");
    const char *reason = field(answer, "reason");
    const char *badge;
    char detail[512], when[32];
    const char *on = !sc->color ? "" : ok ? "\033[1;97;42m " : "\033[1;97;41m ";
    const char *off = sc->color ? " \033[0m" : "";
    const char *bold = sc->color ? "\033[1m" : "";
    const char *plain = sc->color ? "\033[0m" : "";

    sc->scans++;
    sc->offline += offline;
    sc->refused += !ok;
    detail[0] = '\0';
    switch (verdict) {
    case ADMIT_VERDICT_VALID:
        badge = exit_scan ? "↩ EXIT" : "✔ VALID";
        if (strcmp(reason, "re_entry") == 0)
            snprintf(detail, sizeof detail, "  (re-entry)");
        else if (strcmp(reason, "not_inside") == 0)
            snprintf(detail, sizeof detail, "  (was not checked in)");
        break;
    case ADMIT_VERDICT_ALREADY_CHECKED_IN:
        badge = "✖ ALREADY CHECKED IN";
        local_time(json_string_value(json_object_get(answer, "first_at")), when, sizeof when);
        snprintf(detail, sizeof detail, "at %s (%s)", when,
                 field(answer, "first_gate")[0] ? field(answer, "first_gate") : "unknown gate");
        break;
    case ADMIT_VERDICT_REVOKED:
        badge = "✖ REVOKED";
        snprintf(detail, sizeof detail, "%s", admit_checkin_reason_text(reason));
        break;
    case ADMIT_VERDICT_WAITLISTED:
        badge = "✖ WAITLISTED";
        snprintf(detail, sizeof detail, "on the waiting list, not admitted");
        break;
    case ADMIT_VERDICT_NOT_ON_LIST:
        badge = "✖ NOT ON LIST";
        snprintf(detail, sizeof detail, "not registered for %s", field(answer, "list"));
        break;
    case ADMIT_VERDICT_WRONG_EVENT:
        badge = "✖ WRONG EVENT";
        snprintf(detail, sizeof detail, "a ticket for another event");
        break;
    default:
        badge = "✖ INVALID";
        snprintf(detail, sizeof detail, "%s", admit_checkin_reason_text(reason));
        break;
    }
    if (ok)
        printf("%s%s%s  %s%s%s%s%s%s%s", on, badge, off, bold,
               name[0] ? name : "(registered since the last sync)", plain, org[0] ? " — " : "", org,
               detail, offline ? "  [offline]" : "");
    else
        printf("%s%s%s  %s%s%s%s%s%s", on, badge, off, detail, name[0] ? " — " : "", bold, name,
               plain, offline ? "  [offline]" : "");
    /* The bell ends the line, so that a log of the screen keeps one line per scan. */
    fputs(!ok && sc->bell_stdout ? "\a\n" : "\n", stdout);
    if (fflush(stdout) != 0)
        sc->failed = true;
    if (!ok && sc->bell_stderr)
        fputc('\a', stderr);
}

static void show_json(struct screen *sc, const json_t *answer)
{
    sc->scans++;
    sc->offline += json_is_true(json_object_get(answer, "offline"));
    sc->refused += admit_verdict_parse(field(answer, "verdict")) != ADMIT_VERDICT_VALID;
    if (json_dumpf(answer, stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0)
        sc->failed = true;
}

struct run {
    const struct cli_args *args;
    struct admit_scan_session *session;
    struct screen screen;
    int status; /* set to CLI_EXIT_USAGE by a fatal error */
};

/* Checks one line; false when the scanner must stop (after a message). */
static bool scan_line(struct run *r, const char *line, size_t len)
{
    json_t *answer = NULL;
    enum admit_rc rc = admit_scan_session_scan(r->session, line, len, &answer);
    if (rc == ADMIT_ERR_NOT_FOUND)
        return true; /* a blank line is not a scan */
    if (rc == ADMIT_ERR_PERMISSION) {
        cli_error(r->args, "the server refused this device's token (revoked?): stopping; the "
                           "scan is kept in the journal");
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
    if (r->screen.json)
        show_json(&r->screen, answer);
    else
        show(&r->screen, answer);
    json_decref(answer);
    if (r->screen.failed) {
        cli_error(r->args, "cannot write to stdout: stopping");
        r->status = CLI_EXIT_USAGE;
        return false;
    }
    return true;
}

static bool tick(struct run *r)
{
    enum admit_rc rc = admit_scan_session_tick(r->session);
    if (rc == ADMIT_ERR_PERMISSION) {
        cli_error(r->args, "the server refused this device's token (revoked?): stopping");
        r->status = CLI_EXIT_USAGE;
        return false;
    }
    if (rc != ADMIT_OK) {
        cli_error(r->args, "cannot write the state in %s (%s): stopping",
                  admit_scan_session_dir(r->session), strerror(errno));
        r->status = CLI_EXIT_USAGE;
        return false;
    }
    return true;
}

/* Reads stdin line by line, doing background work while it waits. */
static void read_stdin(struct run *r)
{
    static char line[LINE_KEEP];
    size_t len = 0;
    char chunk[4096];
    for (;;) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        long wait = admit_scan_session_wait_ms(r->session);
        int ready = poll(&pfd, 1, wait > 60000 ? 60000 : (int)wait);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            if (!tick(r))
                return;
            continue;
        }
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
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
        /* Work that fell due while people were scanning (an upload, a retry). */
        if (admit_scan_session_wait_ms(r->session) == 0 && !tick(r))
            return;
    }
    if (len > 0)
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
    switch (event) {
    case ADMIT_SCAN_EVENT_OFFLINE:
        cli_error(r->args,
                  "OFFLINE (%s): checking tickets with the last sync; scans upload "
                  "when the server is back",
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
        break; /* every 30 seconds: not worth a line at the door */
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

static int run_scan(const struct cli_args *args)
{
    struct run r;
    char err[768];
    bool color_ok;
    memset(&r, 0, sizeof r);
    r.args = args;
    r.status = CLI_EXIT_OK;
    r.screen.json = cli_flag(args, "json") > 0;
    r.screen.color = color_wanted(args, &color_ok) && !r.screen.json;
    if (!color_ok) {
        cli_error(args, "--color must be auto, always or never");
        return CLI_EXIT_USAGE;
    }
    /* The bell rings on the terminal the operator watches: stdout, or stderr when stdout goes
     * to a program; never with --color never. */
    bool bell = strcmp(cli_get(args, "color"), "never") != 0;
    r.screen.bell_stdout = bell && !r.screen.json && isatty(STDOUT_FILENO);
    r.screen.bell_stderr = bell && !r.screen.bell_stdout && isatty(STDERR_FILENO);
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
        .state_root = cli_get(args, "state-dir"),
        .notify = on_event,
        .notify_ctx = &r,
    };
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    enum admit_rc rc = admit_scan_session_open(&cfg, true, &r.session, err, sizeof err);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err);
        curl_global_cleanup();
        return CLI_EXIT_USAGE;
    }
    size_t regs = 0, adms = 0;
    admit_scan_session_counts(r.session, &regs, &adms);
    cli_error(args, "event %s, list \"%s\"%s, gate \"%s\": %s, %zu registrations known; %s",
              admit_scan_session_event(r.session), cfg.list, cfg.exit ? " (exit)" : "",
              admit_scan_session_gate(r.session),
              admit_scan_session_online(r.session) ? "online" : "OFFLINE", regs,
              cli_get(args, "image") ? "reading the picture" : "scan tickets (one per line)");

    const char *image = cli_get(args, "image");
    if (image != NULL) {
        size_t count = 0;
        char why[256];
        rc = admit_scan_image_decode(image, found_in_image, &r, &count, why, sizeof why);
        if (rc != ADMIT_OK) {
            if (rc == ADMIT_ERR_IO)
                cli_error(args, "cannot read %s: %s", image, strerror(errno));
            else
                cli_error(args, "%s: %s", image, why);
            r.status = CLI_EXIT_USAGE;
        } else if (count == 0) {
            cli_error(args, "no QR code found in %s", image);
            r.status = CLI_EXIT_NEGATIVE;
        }
    } else {
        read_stdin(&r);
    }
    /* End of input: one last try to hand the journal to the server. */
    if (r.status == CLI_EXIT_OK && admit_scan_session_pending(r.session) > 0) {
        char why[512];
        (void)admit_scan_session_upload(r.session, NULL, NULL, why, sizeof why);
    }
    size_t pending = admit_scan_session_pending(r.session);
    if (pending > 0)
        cli_error(args,
                  "%zu scan%s not uploaded yet: they upload the next time admit scan runs "
                  "online, or with admit sync",
                  pending, pending == 1 ? "" : "s");
    admit_scan_session_close(r.session);
    curl_global_cleanup();
    return r.status;
}

const struct cli_cmd cli_scan_cmd = {
    "scan", NULL,
    "the door scanner: tickets from stdin (hand scanners, zbarcam --raw) or a picture; works "
    "offline",
    scan_opts, run_scan};
