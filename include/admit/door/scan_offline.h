/* What a door scanner knows when the server does not answer, and the verdicts it gives then.
 *
 * The knowledge is the last sync (GET /api/v1/events/SLUG/sync: the public keys, lists,
 * registrations with their status, reissue counter and lists, and admissions), with the effects
 * of this device's own later scans laid over it. Offline verdicts follow the server's rules
 * (sql/migrations: admit_checkin_scan) as far as the door can know them:
 *     invalid       the ticket's signature or format fails against the synced keys (reason: the
 *                   ticket error code), or no key was ever synced ("no_keys"), or the list is
 *                   not one of the event's ("unknown_list")
 *     wrong_event   signed for another event
 *     revoked       the registration is cancelled ("cancelled"), or the ticket's reissue counter
 *                   is below the registration's ("reissued")
 *     exit          valid ("not_inside" when the door did not know them inside)
 *     waitlisted, not_on_list, already_checked_in (first_at and first_gate; entered_at and
 *     entered_gate: the latest entry, after an exit and a re-entry), else valid
 * A ticket signed by the event's key for a registration the last sync did not include (someone
 * who registered since) is valid: its signature is the proof, as pretix does offline.
 *
 * The order is the server's (admit_checkin_rule, sql/migrations/008_checkin_rule.sql); where the
 * door decides differently, on purpose, because it cannot know (tested against the server on
 * the same scenarios: tests/unit/test_pg_verdict_parity.c):
 *     a well-signed ticket for a registration the server does not have: valid offline (the
 *         server: invalid "unknown_attendee"), as the door cannot tell it from someone
 *         registered since its last sync;
 *     a well-signed ticket with a reissue counter above the registration's: valid offline (the
 *         server: invalid "unknown_reissue"), as it may be a reissue since the last sync;
 *     and whatever changed since the last sync (a cancellation, a reissue, another door's
 *     admission): the upload reconciles, and flags for the organisers a person let in whom the
 *     server would have refused. */
#ifndef ADMIT_SCAN_OFFLINE_H
#define ADMIT_SCAN_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "admit/core/rc.h"

struct admit_scan_offline;

/* An empty knowledge: every verdict is invalid "no_keys" until a load. */
struct admit_scan_offline *admit_scan_offline_new(void);
void admit_scan_offline_free(struct admit_scan_offline *k);

/* Whether snapshot has the shape of a sync answer (see above; admit/checkin.h). */
bool admit_scan_offline_snapshot_valid(const json_t *snapshot);

/* Replaces what k knows with snapshot (a full sync, or one merged with
 * admit_scan_offline_merge; a reference is kept). Own scans laid over the previous snapshot
 * are forgotten: apply them again. ADMIT_ERR_INVALID (k unchanged) for a malformed snapshot. */
enum admit_rc admit_scan_offline_load(struct admit_scan_offline *k,
                                      json_t *snapshot) ADMIT_MUST_CHECK;

/* Merges delta (an incremental sync answer) into *snapshot: event, device, cursor, keys and
 * lists are replaced; registrations and admissions replaced by id or added. A full answer
 * (delta's "full" true) or a NULL *snapshot replaces *snapshot with delta. Takes no reference
 * to delta (copies what it keeps). ADMIT_ERR_INVALID (nothing changed) for a malformed delta. */
enum admit_rc admit_scan_offline_merge(json_t **snapshot, const json_t *delta) ADMIT_MUST_CHECK;

/* Whether k holds at least one public key (a sync happened). */
bool admit_scan_offline_ready(const struct admit_scan_offline *k);
/* The snapshot k was loaded from (borrowed), or NULL. */
json_t *admit_scan_offline_snapshot(const struct admit_scan_offline *k);
/* The id of the event's list called name, or -1. */
long admit_scan_offline_list_id(const struct admit_scan_offline *k, const char *name);

/* The offline verdict for the scanned text (len bytes, already normalised: admit_ticket_normalize)
 * on list name, entry or exit: a new answer object as the API answers ({"verdict", "reason",
 * "registration_id", "name", "organisation", "first_at", "first_gate", "entered_at",
 * "entered_gate", "list", "direction"}). */
json_t *admit_scan_offline_decide(const struct admit_scan_offline *k, const char *text, size_t len,
                                  const char *list, bool exit);

/* Lays the effect of an answer (from the server, or decided offline) for a scan of list at
 * scanned_at through gate over k: a valid entry admits (inside; a re-entry becomes the latest
 * entry), an already_checked_in answer teaches the first and the latest entry, a valid exit
 * lets out. Answers without a registration_id,
 * refusals and unknown lists change nothing. */
void admit_scan_offline_apply(struct admit_scan_offline *k, const json_t *answer, const char *list,
                              bool exit, const char *scanned_at, const char *gate);

#endif
