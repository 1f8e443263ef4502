/* Events and their check-in lists: creating them from the operator's shell. */
#ifndef ADMIT_EVENT_H
#define ADMIT_EVENT_H

#include <stddef.h>

#include "admit/core/db.h"
#include "admit/core/error.h"
#include "admit/core/rc.h"

#define ADMIT_EVENT_MAX_LISTS 32

struct admit_event_list_spec {
    const char *name;
    const char *day; /* "YYYY-MM-DD" or NULL */
};

/* What an event is made of. Times are local times in time_zone: "YYYY-MM-DD HH:MM". */
struct admit_event_spec {
    const char *slug;
    const char *name;
    const char *venue;         /* may be NULL */
    const char *venue_address; /* may be NULL */
    const char *time_zone;     /* IANA name, e.g. "Europe/Brussels" */
    const char *starts;
    const char *ends;
    const char *opens;  /* registration opens; NULL: now */
    const char *closes; /* registration closes; NULL: when the event starts */
    long capacity;
    const char *description;   /* may be NULL */
    const char *organiser;     /* may be NULL */
    const char *contact_email; /* may be NULL */
    struct admit_event_list_spec lists[ADMIT_EVENT_MAX_LISTS];
    size_t nlists;
};

/* 1 when slug is 1 to 64 lower-case letters, digits and inner dashes: what URLs carry. */
int admit_event_slug_valid(const char *slug);
/* 1 when text is a local time "YYYY-MM-DD HH:MM" (or with a T; seconds allowed). The calendar
 * check (no 30 February) is PostgreSQL's. */
int admit_event_time_valid(const char *text);
/* 1 when text is a date "YYYY-MM-DD". */
int admit_event_date_valid(const char *text);

/* Checks spec and creates the event with its lists and seats in one transaction. On ADMIT_OK
 * *id is the new event id. On error err (admit/core/error.h) holds one line for a person:
 * ADMIT_ERR_INVALID (a field is wrong: which and why), ADMIT_ERR_CONFLICT (slug taken),
 * ADMIT_ERR_DB / ADMIT_ERR_DB_UNAVAILABLE. */
enum admit_rc admit_event_create(struct admit_db *db, const struct admit_event_spec *spec, int *id,
                                 struct admit_error *err) ADMIT_MUST_CHECK;

/* How an event's seats stand. */
struct admit_event_seats {
    long capacity, confirmed, waiting;
};

/* Sets the capacity of the event slug. Seats it adds go to the waiting list first, in order, in
 * the same transaction, exactly as a cancellation's seat does (each promoted person gets the
 * "you have a seat" email); registrations running at the same time queue behind them. On ADMIT_OK
 * *after (may be NULL) says how the seats stand once it is done. Errors, with one line for a
 * person in err: ADMIT_ERR_NOT_FOUND (no such event), ADMIT_ERR_INVALID (below the confirmed
 * registrations, or out of range), ADMIT_ERR_DB / ADMIT_ERR_DB_UNAVAILABLE. */
enum admit_rc admit_event_set_capacity(struct admit_db *db, const char *slug, long capacity,
                                       struct admit_event_seats *after,
                                       struct admit_error *err) ADMIT_MUST_CHECK;

#endif
