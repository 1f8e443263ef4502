/* admit sync: hands a door scanner's journal to the server now and downloads what it needs to
 * check tickets offline, with a progress line. admit scan does both by itself when the server
 * answers; this is for the end of a day offline, or before the doors open. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "admit/door/scan_session.h"
#include "cli.h"

static const struct cli_opt sync_opts[] = {
    CLI_OPT_SCAN_SERVER,
    CLI_OPT_SCAN_TOKEN,
    CLI_OPT_SCAN_EVENT,
    {"timeout", 0, CLI_UINT, "MS", "ADMIT_SYNC_TIMEOUT_MS", "30000", 100, 3600000, 0,
     "the whole sync's time: what is not done by then is reported and waits for next time"},
    CLI_OPT_SCAN_CA_FILE,
    CLI_OPT_SCAN_STATE_DIR,
    {0},
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* What is left of the time until deadline (at least 1 ms: a call then fails at once). */
static long left_ms(long long deadline)
{
    long long left = deadline - now_ms();
    return left > 1 ? (long)left : 1;
}

struct progress {
    bool tty;
    bool shown;
};

static void on_progress(void *ctx, size_t done, size_t total)
{
    struct progress *p = ctx;
    if (p->tty)
        fprintf(stderr, "\ruploading scans: %zu of %zu", done, total);
    else
        fprintf(stderr, "uploading scans: %zu of %zu\n", done, total);
    p->shown = true;
}

static void on_event(void *ctx, enum admit_scan_event event, const char *detail)
{
    const struct cli_args *args = ctx;
    if (event == ADMIT_SCAN_EVENT_WARNING)
        cli_error(args, "warning: %s", detail);
}

static int run_sync(const struct cli_args *args)
{
    struct admit_scan_session *s = NULL;
    struct progress progress = {isatty(STDERR_FILENO) != 0, false};
    struct admit_error why;
    struct admit_error err;
    int status = CLI_EXIT_USAGE;
    struct admit_scan_config cfg = {
        .server = cli_get(args, "server"),
        .token = cli_get(args, "token"),
        .event = cli_get(args, "event"),
        .timeout_ms = (long)cli_get_uint(args, "timeout"),
        .ca_file = cli_get(args, "ca-file"),
        .state_root = cli_get(args, "state-dir"),
        .notify = on_event,
        .notify_ctx = (void *)args,
    };
    long long deadline = now_ms() + cfg.timeout_ms;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (admit_scan_session_open(&cfg, false, &s, &err) != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        goto done;
    }
    size_t pending = admit_scan_session_pending(s);
    size_t before = pending;
    if (pending > 0)
        fprintf(stderr, "uploading scans: 0 of %zu%s", pending, progress.tty ? "" : "\n");
    enum admit_scan_link link = ADMIT_SCAN_LINK_OK;
    /* Never synced: the sync first, which names the lists the scans are uploaded with. */
    if (!admit_scan_session_synced(s))
        link = admit_scan_session_sync(s, left_ms(deadline), &why);
    if (link == ADMIT_SCAN_LINK_OK)
        link = admit_scan_session_upload(s, on_progress, &progress, left_ms(deadline), &why);
    if (progress.tty && pending > 0)
        fputc('\n', stderr);
    bool uploaded = link == ADMIT_SCAN_LINK_OK;
    if (link == ADMIT_SCAN_LINK_OK)
        link = admit_scan_session_sync(s, left_ms(deadline), &why);
    pending = admit_scan_session_pending(s);
    if (link == ADMIT_SCAN_LINK_REFUSED) {
        cli_error(args, "the server refused this device token (unknown or revoked)");
        goto done;
    }
    if (link != ADMIT_SCAN_LINK_OK) {
        const char *what =
            link == ADMIT_SCAN_LINK_DOWN ? "the server does not answer" : "sync failed";
        if (!uploaded)
            cli_error(args, "%s (%s); %zu scan%s still waiting for upload: they go next time", what,
                      why.message, pending, pending == 1 ? "" : "s");
        else
            cli_error(args,
                      "%s (%s); every scan is uploaded, but this door's copy of the event was "
                      "not updated",
                      what, why.message);
        status = CLI_EXIT_NEGATIVE;
        goto done;
    }
    size_t regs = 0, adms = 0;
    admit_scan_session_counts(s, &regs, &adms);
    printf("synced event %s: %zu scan%s uploaded; %zu registrations and %zu admissions known\n",
           admit_scan_session_event(s), before - pending, before - pending == 1 ? "" : "s", regs,
           adms);
    status = CLI_EXIT_OK;
done:
    admit_scan_session_close(s);
    curl_global_cleanup();
    return status;
}

const struct cli_cmd cli_sync_cmd = {
    "sync", NULL,
    "upload a door scanner's journaled scans now and download what it needs offline, with "
    "progress",
    sync_opts, run_sync};
