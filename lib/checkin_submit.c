/* Checking in the scans of a request (POST /api/v1/checkins): each ticket verified here, the
 * verdicts decided by PostgreSQL. One online entry goes through the one-statement path
 * (sql/queries/checkin_one.sql); anything else, and whatever that path leaves undecided, through
 * the SQL function admit_checkin (sql/migrations/002_checkin.sql). */
#include "admit/checkin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/ticket.h"

/* Attempts of one check-in transaction when PostgreSQL breaks a deadlock. */
#define DEADLOCK_ATTEMPTS 4

/* The scan's ticket, normalised (on a copy) and verified against ring: ADMIT_TICKET_VALID and
 * *ticket filled, or why it was refused. */
static enum admit_ticket_error read_ticket(const struct admit_checkin_scan *scan,
                                           const struct admit_keyring *ring,
                                           struct admit_ticket *ticket)
{
    char text[ADMIT_CHECKIN_PAYLOAD_MAX + 1];
    if (scan->payload_len > ADMIT_CHECKIN_PAYLOAD_MAX)
        return ADMIT_TICKET_WRONG_LENGTH;
    memcpy(text, scan->payload, scan->payload_len);
    size_t len = admit_ticket_normalize(text, scan->payload_len);
    return admit_ticket_verify(text, len, ring, ticket);
}

/* The SQL argument for one scan: what the ticket says, or why it was refused. */
static json_t *prepare_scan(const struct admit_checkin_scan *scan, const struct admit_keyring *ring)
{
    struct admit_ticket ticket;
    enum admit_ticket_error terr = read_ticket(scan, ring, &ticket);
    json_t *arg = json_pack("{s:s, s:s, s:s, s:s, s:b}", "nonce", scan->nonce, "list", scan->list,
                            "direction", scan->exit ? "exit" : "entry", "scanned_at",
                            scan->scanned_at, "offline", scan->offline);
    if (arg == NULL)
        abort(); /* jansson fails only without memory */
    if (scan->gate != NULL)
        json_object_set_new(arg, "gate", json_string(scan->gate));
    if (scan->door_verdict >= 0)
        json_object_set_new(
            arg, "door_verdict",
            json_string(admit_verdict_name((enum admit_verdict)scan->door_verdict)));
    if (terr != ADMIT_TICKET_VALID) {
        json_object_set_new(arg, "invalid", json_string(admit_ticket_error_code(terr)));
    } else {
        json_object_set_new(arg, "event_id", json_integer(ticket.event_id));
        json_object_set_new(arg, "registration_id", json_integer(ticket.attendee_id));
        json_object_set_new(arg, "reissue", json_integer(ticket.reissue));
    }
    return arg;
}

json_t *admit_checkin_prepare(const struct admit_checkin_request *req,
                              const struct admit_keyring *ring)
{
    json_t *scans = json_array();
    for (size_t i = 0; i < req->count; i++)
        json_array_append_new(scans, prepare_scan(&req->scans[i], ring));
    return scans;
}

static bool retryable(const struct admit_db *db)
{
    const char *state = admit_db_sqlstate(db);
    /* 40P01 deadlock_detected, 40001 serialization_failure. */
    return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
}

/* Sets key to column col of row 0 of res unless it is NULL (as jsonb_strip_nulls leaves out). */
static void set_column(json_t *answer, const char *key, const PGresult *res, int col)
{
    if (!PQgetisnull(res, 0, col))
        json_object_set_new(answer, key, json_string(PQgetvalue(res, 0, col)));
}

enum admit_rc admit_checkin_one(struct admit_db *db, const char *token_hash,
                                const struct admit_checkin_scan *scan,
                                const struct admit_keyring *ring, json_t **answer)
{
    *answer = NULL;
    if (scan->offline || scan->exit)
        return ADMIT_ERR_NOT_FOUND;
    struct admit_ticket ticket = {0};
    enum admit_ticket_error terr = read_ticket(scan, ring, &ticket);
    char event[16], attendee[16], reissue[8];
    snprintf(event, sizeof event, "%" PRIu32, ticket.event_id);
    snprintf(attendee, sizeof attendee, "%" PRIu32, ticket.attendee_id);
    snprintf(reissue, sizeof reissue, "%u", (unsigned)ticket.reissue);
    bool valid = terr == ADMIT_TICKET_VALID;
    const char *params[9] = {token_hash,
                             scan->nonce,
                             scan->list,
                             scan->scanned_at,
                             scan->gate,
                             valid ? event : NULL,
                             valid ? attendee : NULL,
                             valid ? reissue : NULL,
                             valid ? NULL : admit_ticket_error_code(terr)};
    PGresult *res = NULL;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_CHECKIN_ONE, 9, params, &res);
    /* A copy of this nonce committed meanwhile (the unique index: ADMIT_ERR_CONFLICT) or a
     * deadlock: the statement kept nothing, and admit_checkin decides. Other errors are errors. */
    if (rc == ADMIT_ERR_CONFLICT || (rc == ADMIT_ERR_DB && retryable(db)))
        return ADMIT_ERR_NOT_FOUND;
    if (rc != ADMIT_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ADMIT_ERR_NOT_FOUND;
    }
    json_t *a =
        json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:s}", "nonce", scan->nonce, "verdict",
                  PQgetvalue(res, 0, 0), "reason", PQgetvalue(res, 0, 1), "flagged", 0, "offline",
                  0, "replayed", 0, "direction", "entry", "list", scan->list);
    if (a == NULL)
        abort(); /* jansson fails only without memory */
    if (!PQgetisnull(res, 0, 2))
        json_object_set_new(a, "registration_id",
                            json_integer(strtoll(PQgetvalue(res, 0, 2), NULL, 10)));
    set_column(a, "name", res, 3);
    set_column(a, "organisation", res, 4);
    set_column(a, "first_at", res, 5);
    set_column(a, "first_gate", res, 6);
    PQclear(res);
    *answer = a;
    return ADMIT_OK;
}

enum admit_rc admit_checkin_submit(struct admit_db *db, const char *token_hash,
                                   const struct admit_checkin_request *req,
                                   const struct admit_keyring *ring, json_t **answers)
{
    PGresult *res = NULL;
    char *scans_text = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    *answers = NULL;
    if (!req->batch && req->count == 1) {
        json_t *answer = NULL;
        rc = admit_checkin_one(db, token_hash, &req->scans[0], ring, &answer);
        if (rc == ADMIT_OK) {
            *answers = json_array();
            json_array_append_new(*answers, answer);
        }
        if (rc != ADMIT_ERR_NOT_FOUND)
            return rc;
    }
    json_t *scans = admit_checkin_prepare(req, ring);
    scans_text = json_dumps(scans, JSON_COMPACT);
    json_decref(scans);
    if (scans_text == NULL)
        abort();
    const char *params[2] = {token_hash, scans_text};
    for (int attempt = 0; attempt < DEADLOCK_ATTEMPTS; attempt++) {
        rc = admit_db_query(db, ADMIT_Q_CHECKIN_SUBMIT, 2, params, &res);
        if (rc != ADMIT_ERR_DB || !retryable(db))
            break;
    }
    if (rc != ADMIT_OK)
        goto done;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        rc = ADMIT_ERR_NOT_FOUND;
        goto done;
    }
    json_error_t jerr;
    *answers = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
    if (!json_is_array(*answers) || json_array_size(*answers) != req->count) {
        json_decref(*answers);
        *answers = NULL;
        rc = ADMIT_ERR_DB;
    }
done:
    PQclear(res);
    free(scans_text);
    return rc;
}
