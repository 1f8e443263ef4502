/* Checking in the scans of a request (POST /api/v1/checkins): each ticket verified here, the
 * verdicts decided by PostgreSQL. Online entries go through the group statement
 * (sql/queries/checkin_group.sql; lib/checkin/checkin_pool.c gathers the groups); anything else,
 * and whatever that statement leaves undecided, through the SQL function admit_checkin
 * (sql/migrations/002_checkin.sql). */
#include "admit/checkin/checkin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/mem.h"
#include "admit/sql.h"
#include "admit/core/ticket.h"

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

/* The SQL argument for one scan: what its ticket (verified: terr) says, or why it was
 * refused. */
static json_t *prepare_scan(const struct admit_checkin_scan *scan, enum admit_ticket_error terr,
                            const struct admit_ticket *ticket)
{
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
        json_object_set_new(arg, "event_id", json_integer(ticket->event_id));
        json_object_set_new(arg, "registration_id", json_integer(ticket->attendee_id));
        json_object_set_new(arg, "reissue", json_integer(ticket->reissue));
    }
    return arg;
}

json_t *admit_checkin_prepare(const struct admit_checkin_request *req,
                              const struct admit_keyring *ring)
{
    json_t *scans = json_array();
    for (size_t i = 0; i < req->count; i++) {
        struct admit_ticket ticket;
        if (req->scans[i].refused.code != NULL)
            continue;
        enum admit_ticket_error terr = read_ticket(&req->scans[i], ring, &ticket);
        json_array_append_new(scans, prepare_scan(&req->scans[i], terr, &ticket));
    }
    return scans;
}

/* A scan's answer from admit_checkin for the API: the answer itself, or for a scan the
 * database refused ({"nonce", "error": CODE}) the API's error object (code, status, message).
 * New reference; NULL for an answer that is neither (a broken function). */
static json_t *api_answer(json_t *answer, bool batch, size_t index)
{
    const char *code = json_string_value(json_object_get(answer, "error"));
    if (code == NULL)
        return json_is_object(answer) ? json_incref(answer) : NULL;
    if (strcmp(code, "nonce_reused") != 0)
        return NULL;
    char label[32];
    struct admit_error err;
    admit_error_clear(&err);
    err.code = "nonce_reused";
    if (batch)
        snprintf(label, sizeof label, "scan %zu", index + 1);
    else
        snprintf(label, sizeof label, "the scan");
    admit_error_set(
        &err,
        "the nonce of %s was already used by this device for another scan (another ticket, "
        "list or direction): nothing was recorded. Give every scan a nonce of its own.",
        label);
    return admit_checkin_error_json(&err, json_string_value(json_object_get(answer, "nonce")));
}

static bool retryable(const struct admit_db *db)
{
    const char *state = admit_db_sqlstate(db);
    /* 40P01 deadlock_detected, 40001 serialization_failure. */
    return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
}

void admit_checkin_entry_init(struct admit_checkin_entry *e, const char *token_hash,
                              const struct admit_checkin_scan *scan,
                              const struct admit_keyring *ring)
{
    memset(e, 0, sizeof *e);
    e->token_hash = token_hash;
    e->scan = scan;
    e->ticket_error = read_ticket(scan, ring, &e->ticket);
}

/* The answer object of row of res for e. */
static json_t *group_answer(const struct admit_checkin_entry *e, const PGresult *res, int row)
{
    json_t *a =
        json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:s}", "nonce", e->scan->nonce, "verdict",
                  PQgetvalue(res, row, 1), "reason", PQgetvalue(res, row, 2), "flagged", 0,
                  "offline", 0, "replayed", 0, "direction", "entry", "list", e->scan->list);
    if (a == NULL)
        abort(); /* jansson fails only without memory */
    if (!PQgetisnull(res, row, 3))
        json_object_set_new(a, "registration_id",
                            json_integer(strtoll(PQgetvalue(res, row, 3), NULL, 10)));
    /* "door": the answers the organiser shows at the door (issue 17), when there are some. */
    static const char *const columns[] = {"name",       "organisation", "first_at", "first_gate",
                                          "entered_at", "entered_gate", "door"};
    for (int c = 0; c < 7; c++)
        if (!PQgetisnull(res, row, 4 + c))
            json_object_set_new(a, columns[c], json_string(PQgetvalue(res, row, 4 + c)));
    return a;
}

/* The statement's nine array arguments (see sql/queries/checkin_group.sql) for the entries. */
enum { GROUP_COLUMNS = 9 };
struct group_args {
    struct admit_buf arrays[GROUP_COLUMNS];
    char numbers[ADMIT_CHECKIN_GROUP_MAX][3][16];
    const char *items[GROUP_COLUMNS][ADMIT_CHECKIN_GROUP_MAX];
};

static enum admit_rc group_args_build(struct group_args *g, struct admit_checkin_entry *const *e,
                                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct admit_checkin_scan *scan = e[i]->scan;
        bool valid = e[i]->ticket_error == ADMIT_TICKET_VALID;
        snprintf(g->numbers[i][0], sizeof g->numbers[i][0], "%" PRIu32, e[i]->ticket.event_id);
        snprintf(g->numbers[i][1], sizeof g->numbers[i][1], "%" PRIu32, e[i]->ticket.attendee_id);
        snprintf(g->numbers[i][2], sizeof g->numbers[i][2], "%u", (unsigned)e[i]->ticket.reissue);
        g->items[0][i] = e[i]->token_hash;
        g->items[1][i] = scan->nonce;
        g->items[2][i] = scan->list;
        g->items[3][i] = scan->scanned_at;
        g->items[4][i] = scan->gate;
        g->items[5][i] = valid ? g->numbers[i][0] : NULL;
        g->items[6][i] = valid ? g->numbers[i][1] : NULL;
        g->items[7][i] = valid ? g->numbers[i][2] : NULL;
        g->items[8][i] = valid ? NULL : admit_ticket_error_code(e[i]->ticket_error);
    }
    for (int c = 0; c < GROUP_COLUMNS; c++) {
        admit_buf_init(&g->arrays[c], 1u << 20);
        enum admit_rc rc = admit_db_array_literal(&g->arrays[c], g->items[c], n);
        if (rc != ADMIT_OK)
            return rc;
    }
    return ADMIT_OK;
}

enum admit_rc admit_checkin_group(struct admit_db *db, struct admit_checkin_entry *const *entries,
                                  size_t n)
{
    for (size_t i = 0; i < n; i++)
        entries[i]->answer = NULL;
    if (n == 0 || n > ADMIT_CHECKIN_GROUP_MAX)
        return n == 0 ? ADMIT_OK : ADMIT_ERR_INVALID;
    struct group_args *g = admit_xcalloc(1, sizeof *g);
    PGresult *res = NULL;
    enum admit_rc rc = group_args_build(g, entries, n);
    if (rc == ADMIT_OK) {
        const char *params[GROUP_COLUMNS];
        for (int c = 0; c < GROUP_COLUMNS; c++)
            params[c] = admit_buf_cstr(&g->arrays[c]);
        rc = admit_db_query(db, ADMIT_Q_CHECKIN_GROUP, GROUP_COLUMNS, params, &res);
        /* A nonce committed meanwhile (the unique index) or a deadlock: nothing kept. */
        if (rc == ADMIT_ERR_DB && retryable(db))
            rc = ADMIT_ERR_CONFLICT;
    }
    for (int row = 0; rc == ADMIT_OK && row < PQntuples(res); row++) {
        long ord = strtol(PQgetvalue(res, row, 0), NULL, 10);
        if (ord < 1 || (size_t)ord > n || entries[ord - 1]->answer != NULL) {
            rc = ADMIT_ERR_DB; /* not what the statement returns: a broken statement */
            for (size_t i = 0; i < n; i++) {
                json_decref(entries[i]->answer);
                entries[i]->answer = NULL;
            }
            break;
        }
        entries[ord - 1]->answer = group_answer(entries[ord - 1], res, row);
    }
    PQclear(res);
    for (int c = 0; c < GROUP_COLUMNS; c++)
        admit_buf_free(&g->arrays[c]);
    free(g);
    return rc;
}

enum admit_rc admit_checkin_one(struct admit_db *db, const char *token_hash,
                                const struct admit_checkin_scan *scan,
                                const struct admit_keyring *ring, json_t **answer)
{
    *answer = NULL;
    if (scan->offline || scan->exit)
        return ADMIT_ERR_NOT_FOUND;
    struct admit_checkin_entry e;
    struct admit_checkin_entry *group[1] = {&e};
    admit_checkin_entry_init(&e, token_hash, scan, ring);
    enum admit_rc rc = admit_checkin_group(db, group, 1);
    /* A concurrent writer's conflict: the statement kept nothing, and admit_checkin decides.
     * Other errors are errors. */
    if (rc == ADMIT_ERR_CONFLICT)
        return ADMIT_ERR_NOT_FOUND;
    if (rc != ADMIT_OK)
        return rc;
    if (e.answer == NULL)
        return ADMIT_ERR_NOT_FOUND;
    *answer = e.answer;
    return ADMIT_OK;
}

/* The scans of req through the SQL function admit_checkin in one transaction (retried on a
 * deadlock): scans is their SQL argument (admit_checkin_prepare's, or one entry's). */
static enum admit_rc submit_general(struct admit_db *db, const char *token_hash,
                                    const struct admit_checkin_request *req, json_t *scans,
                                    json_t **answers)
{
    PGresult *res = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    size_t decided = json_array_size(scans);
    char *scans_text = json_dumps(scans, JSON_COMPACT);
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
    json_t *verdicts = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
    if (!json_is_array(verdicts) || json_array_size(verdicts) != decided) {
        json_decref(verdicts);
        rc = ADMIT_ERR_DB;
        goto done;
    }
    *answers = json_array();
    for (size_t i = 0, next = 0; i < req->count && rc == ADMIT_OK; i++) {
        const struct admit_checkin_scan *scan = &req->scans[i];
        json_t *answer = scan->refused.code != NULL
                             ? admit_checkin_error_json(&scan->refused, scan->nonce)
                             : api_answer(json_array_get(verdicts, next++), req->batch, i);
        if (answer == NULL)
            rc = ADMIT_ERR_DB;
        else
            json_array_append_new(*answers, answer);
    }
    json_decref(verdicts);
    if (rc != ADMIT_OK) {
        json_decref(*answers);
        *answers = NULL;
    }
done:
    PQclear(res);
    free(scans_text);
    return rc;
}

enum admit_rc admit_checkin_submit(struct admit_db *db, const char *token_hash,
                                   const struct admit_checkin_request *req,
                                   const struct admit_keyring *ring, json_t **answers)
{
    *answers = NULL;
    if (!req->batch && req->count == 1) {
        json_t *answer = NULL;
        enum admit_rc rc = admit_checkin_one(db, token_hash, &req->scans[0], ring, &answer);
        if (rc == ADMIT_OK) {
            *answers = json_array();
            json_array_append_new(*answers, answer);
        }
        if (rc != ADMIT_ERR_NOT_FOUND)
            return rc;
    }
    /* Refused scans of a batch stay out of the database; with none left, the call still
     * checks the token (and answers []). */
    json_t *scans = admit_checkin_prepare(req, ring);
    enum admit_rc rc = submit_general(db, token_hash, req, scans, answers);
    json_decref(scans);
    return rc;
}

enum admit_rc admit_checkin_submit_entry(struct admit_db *db, const struct admit_checkin_entry *e,
                                         const struct admit_checkin_request *req, json_t **answers)
{
    *answers = NULL;
    json_t *scans = json_array();
    json_array_append_new(scans, prepare_scan(e->scan, e->ticket_error, &e->ticket));
    enum admit_rc rc = submit_general(db, e->token_hash, req, scans, answers);
    json_decref(scans);
    return rc;
}
