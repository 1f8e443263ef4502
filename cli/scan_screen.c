#include "scan_screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct words {
    enum admit_verdict verdict;
    const char *reason; /* NULL: any reason */
    const char *badge;
    const char *text;
};

/* First match wins: specific reasons before the verdict's general line. */
static const struct words door_words[] = {
    {ADMIT_VERDICT_VALID, "re_entry", "✔ VALID", "(re-entry)"},
    {ADMIT_VERDICT_VALID, NULL, "✔ VALID", ""},
    {ADMIT_VERDICT_ALREADY_CHECKED_IN, NULL, "✖ ALREADY CHECKED IN", "already inside"},
    {ADMIT_VERDICT_REVOKED, "cancelled", "✖ CANCELLED",
     "this registration was cancelled: send to the desk"},
    {ADMIT_VERDICT_REVOKED, "reissued", "✖ OLD TICKET",
     "a newer ticket was issued to this person: ask for it, or send to the desk"},
    {ADMIT_VERDICT_REVOKED, NULL, "✖ NOT VALID",
     "this ticket is no longer valid: send to the desk"},
    {ADMIT_VERDICT_WAITLISTED, NULL, "✖ WAITLISTED",
     "on the waiting list, not admitted: send to the desk"},
    {ADMIT_VERDICT_NOT_ON_LIST, NULL, "✖ NOT ON LIST",
     "not registered for this session: send to the desk"},
    {ADMIT_VERDICT_WRONG_EVENT, NULL, "✖ WRONG EVENT",
     "a ticket for another event: send to the desk"},
    {ADMIT_VERDICT_INVALID, "not_a_ticket", "✖ NOT A TICKET",
     "This is not a ticket for this system"},
    {ADMIT_VERDICT_INVALID, "unknown_version", "✖ UNREADABLE",
     "Ticket damaged or misread: scan it again, or send to the desk"},
    {ADMIT_VERDICT_INVALID, "wrong_length", "✖ UNREADABLE",
     "Ticket damaged or misread: scan it again, or send to the desk"},
    {ADMIT_VERDICT_INVALID, "malformed", "✖ UNREADABLE",
     "Ticket damaged or misread: scan it again, or send to the desk"},
    {ADMIT_VERDICT_INVALID, "bad_signature", "✖ FORGED OR DAMAGED",
     "Ticket damaged or forged: send to the desk"},
    {ADMIT_VERDICT_INVALID, "unknown_key", "✖ UNKNOWN TICKET",
     "Ticket not signed by this event's keys: send to the desk"},
    {ADMIT_VERDICT_INVALID, "unknown_attendee", "✖ UNKNOWN PERSON",
     "No registration for this ticket: send to the desk"},
    {ADMIT_VERDICT_INVALID, "unknown_reissue", "✖ UNKNOWN TICKET",
     "Ticket newer than the registration: send to the desk"},
    {ADMIT_VERDICT_INVALID, "unknown_list", "✖ DOOR NOT SET UP",
     "The server does not know this door's list: call the organisers"},
    {ADMIT_VERDICT_INVALID, "no_keys", "✖ CANNOT CHECK",
     "This scanner has not reached the server yet: connect it, and send people to the desk "
     "meanwhile"},
    {ADMIT_VERDICT_INVALID, NULL, "✖ INVALID", "Ticket refused: send to the desk"},
};

void scan_screen_words(enum admit_verdict verdict, const char *reason, bool exit_scan,
                       const char **badge, const char **text)
{
    if (reason == NULL)
        reason = "";
    if (exit_scan && verdict == ADMIT_VERDICT_VALID) {
        *badge = "↩ EXIT";
        *text = strcmp(reason, "not_inside") == 0 ? "(was not checked in)" : "";
        return;
    }
    for (size_t i = 0; i < sizeof door_words / sizeof door_words[0]; i++) {
        const struct words *w = &door_words[i];
        if (w->verdict == verdict && (w->reason == NULL || strcmp(w->reason, reason) == 0)) {
            *badge = w->badge;
            *text = w->text;
            return;
        }
    }
    *badge = "✖ REFUSED";
    *text = "send to the desk";
}

void scan_screen_time(const char *iso, const char *time_zone, char *out, size_t outlen)
{
    static char tz_set[128]; /* the TZ this process last set ("" before) */
    struct tm tm, now_tm;
    memset(&tm, 0, sizeof tm);
    if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                              &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        snprintf(out, outlen, "an unknown time");
        return;
    }
    /* The door shows the times the organisers' pages show: the event's zone, whatever the
     * laptop's clock is set to. The scanner shows no other times, so the process's TZ is it. */
    if (time_zone != NULL && strcmp(time_zone, tz_set) != 0 && strlen(time_zone) < sizeof tz_set) {
        snprintf(tz_set, sizeof tz_set, "%s", time_zone);
        setenv("TZ", time_zone, 1);
        tzset();
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

static void show_json(struct scan_screen *sc, const struct admit_scan_answer *a)
{
    if (json_dumpf(a->json, stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0)
        sc->failed = true;
}

/* The organiser's picked answers (issue 17) for the verdict line, at most outlen - 1 bytes:
 * control characters (none pass validation, but the terminal must never get one) become
 * spaces. */
static void door_text(const char *door, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = door != NULL ? door : ""; *p != '\0' && n + 1 < outlen; p++)
        out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? ' ' : *p;
    out[n] = '\0';
}

/* One verdict line: a badge (white on green or red on a terminal), who, and why:
 *     ✔ VALID  Ada Lovelace — Analytical Engines
 *     ✖ ALREADY CHECKED IN  at 09:12 (Gate A) — Ada Lovelace  [offline]            */
static void show_line(struct scan_screen *sc, const struct admit_scan_answer *a, bool ok)
{
    const char *badge, *text;
    char detail[512], when[32];
    const char *on = !sc->color ? "" : ok ? "\033[1;97;42m " : "\033[1;97;41m ";
    const char *off = sc->color ? " \033[0m" : "";
    const char *bold = sc->color ? "\033[1m" : "";
    const char *plain = sc->color ? "\033[0m" : "";

    scan_screen_words(a->verdict, a->reason, a->exit, &badge, &text);
    snprintf(detail, sizeof detail, "%s", text);
    if (a->verdict == ADMIT_VERDICT_ALREADY_CHECKED_IN) {
        /* The latest entry (after an exit and a re-entry, the re-entry), else the first. */
        bool latest = a->entered_at[0] != '\0';
        const char *at = latest ? a->entered_at : a->first_at;
        const char *gate = latest ? a->entered_gate : a->first_gate;
        scan_screen_time(at[0] ? at : NULL, sc->time_zone, when, sizeof when);
        snprintf(detail, sizeof detail, "at %s (%s)", when, gate[0] ? gate : "unknown gate");
    } else if (a->verdict == ADMIT_VERDICT_NOT_ON_LIST) {
        snprintf(detail, sizeof detail, "not registered for %s: send to the desk", a->list);
    }
    const char *name = a->name;
    char door[1024];
    door_text(a->door, door, sizeof door);
    if (ok)
        printf("%s%s%s  %s%s%s%s%s%s%s%s%s%s%s", on, badge, off, bold,
               name[0] ? name : "(registered since the last sync)", plain,
               a->organisation[0] ? " — " : "", a->organisation, door[0] ? "  [" : "", door,
               door[0] ? "]" : "", detail[0] ? "  " : "", detail, a->offline ? "  [offline]" : "");
    else
        printf("%s%s%s  %s%s%s%s%s%s%s%s%s", on, badge, off, detail, name[0] ? " — " : "", bold,
               name, plain, door[0] ? "  [" : "", door, door[0] ? "]" : "",
               a->offline ? "  [offline]" : "");
    /* The bell ends the line, so that a log of the screen keeps one line per scan. */
    fputs(!ok && sc->bell_stdout ? "\a\n" : "\n", stdout);
    if (fflush(stdout) != 0)
        sc->failed = true;
    if (!ok && sc->bell_stderr)
        fputc('\a', stderr);
}

/* The server refused the scan itself (not the ticket): an error, not a verdict. */
static void show_error(struct scan_screen *sc)
{
    /* Its code ("nonce_reused", ...) is for --json and the journal. */
    printf("%s✖ NOT CHECKED%s  the server could not take this scan: scan the ticket again%s\n",
           sc->color ? "\033[1;97;41m " : "", sc->color ? " \033[0m" : "",
           sc->bell_stdout ? "\a" : "");
    if (fflush(stdout) != 0)
        sc->failed = true;
    if (sc->bell_stderr)
        fputc('\a', stderr);
}

void scan_screen_show(struct scan_screen *sc, const struct admit_scan_answer *answer)
{
    bool error = answer->error_code != NULL;
    bool ok = !error && answer->verdict == ADMIT_VERDICT_VALID;
    sc->scans++;
    sc->offline += answer->offline;
    sc->refused += !ok;
    if (sc->json)
        show_json(sc, answer);
    else if (error)
        show_error(sc);
    else
        show_line(sc, answer, ok);
}
