/* The door's screen (admit scan): one verdict line per scan, in the volunteer's words and the
 * event's time zone, or one JSON object per scan for other programs. */
#ifndef ADMIT_CLI_SCAN_SCREEN_H
#define ADMIT_CLI_SCAN_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "admit/door/scan_session.h"

struct scan_screen {
    bool json;
    bool color;
    bool bell_stdout; /* else the bell goes to stderr when that is a terminal, or nowhere */
    bool bell_stderr;
    const char *time_zone; /* the event's (IANA name), or NULL: the computer's */
    size_t scans, offline, refused;
    bool failed; /* stdout could not be written */
};

/* What the volunteer reads for a verdict and its reason (the API's code, e.g. "bad_signature"):
 * a badge ("✖ NOT A TICKET") and what happened and what to do ("This is not a ticket for this
 * system"), both static strings, never NULL. The codes stay in --json and the journal. */
void scan_screen_words(enum admit_verdict verdict, const char *reason, bool exit_scan,
                       const char **badge, const char **text);

/* An API time ("2027-10-29T09:12:03.120Z") in time_zone (NULL: the computer's) into out:
 * "09:12" on the day it is now there, else "29 Oct 09:12"; "an unknown time" when it does not
 * parse. */
void scan_screen_time(const char *iso, const char *time_zone, char *out, size_t outlen);

/* Shows answer (admit_scan_session_scan's) on stdout and counts it. */
void scan_screen_show(struct scan_screen *sc, const struct admit_scan_answer *answer);

#endif
