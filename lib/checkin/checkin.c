#include "admit/checkin/checkin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/core/mem.h"
#include "admit/core/text.h"
#include "admit/core/ticket.h"

/* Longest sync cursor: xmin, xmax and up to a few hundred transactions in progress. */
#define CURSOR_MAX 8192

static const char *const verdict_names[ADMIT_VERDICT_COUNT] = {
    [ADMIT_VERDICT_VALID] = "valid",
    [ADMIT_VERDICT_ALREADY_CHECKED_IN] = "already_checked_in",
    [ADMIT_VERDICT_REVOKED] = "revoked",
    [ADMIT_VERDICT_WAITLISTED] = "waitlisted",
    [ADMIT_VERDICT_NOT_ON_LIST] = "not_on_list",
    [ADMIT_VERDICT_WRONG_EVENT] = "wrong_event",
    [ADMIT_VERDICT_INVALID] = "invalid",
};

const char *admit_verdict_name(enum admit_verdict v)
{
    return (unsigned)v < ADMIT_VERDICT_COUNT ? verdict_names[v] : "invalid";
}

int admit_verdict_parse(const char *name)
{
    for (int i = 0; name != NULL && i < ADMIT_VERDICT_COUNT; i++)
        if (strcmp(name, verdict_names[i]) == 0)
            return i;
    return -1;
}

const char *admit_checkin_reason_text(const char *code)
{
    static const struct {
        const char *code;
        const char *text;
    } reasons[] = {
        {"cancelled", "registration cancelled"},
        {"reissued", "an older copy of a reissued ticket"},
        {"re_entry", "re-entry"},
        {"not_inside", "was not inside"},
        {"unknown_list", "no check-in list of that name"},
        {"unknown_attendee", "no such registration"},
        {"unknown_reissue", "ticket newer than the registration"},
        {"offline_conflict", "admitted offline although already checked in"},
        {"refused_offline", "refused at the door while offline"},
        {"no_keys", "this scanner has no public keys yet (sync once online)"},
    };
    static const enum admit_ticket_error ticket_errors[] = {
        ADMIT_TICKET_NOT_A_TICKET, ADMIT_TICKET_UNKNOWN_VERSION, ADMIT_TICKET_WRONG_LENGTH,
        ADMIT_TICKET_MALFORMED,    ADMIT_TICKET_UNKNOWN_KEY,     ADMIT_TICKET_BAD_SIGNATURE,
    };
    if (code == NULL)
        return "";
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(code, reasons[i].code) == 0)
            return reasons[i].text;
    for (size_t i = 0; i < sizeof ticket_errors / sizeof ticket_errors[0]; i++)
        if (strcmp(code, admit_ticket_error_code(ticket_errors[i])) == 0)
            return admit_ticket_strerror(ticket_errors[i]);
    return code;
}

/* PostgreSQL refuses a UTC offset of 16 hours or more ("time zone displacement out of range"). */
#define ADMIT_CHECKIN_OFFSET_MAX_HOURS 15

/* n decimal digits at s into *v; false if any is not a digit. */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool admit_checkin_time_valid(const char *s)
{
    int year, month, day, hour, minute, second, oh, om;
    if (s == NULL || strlen(s) < 20)
        return false;
    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) || s[7] != '-' ||
        !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &minute) || s[16] != ':' ||
        !digits(s + 17, 2, &second))
        return false;
    if (year < 1900 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        size_t n = 0;
        p++;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n < 1 || n > 9)
            return false;
        p += n;
    }
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
        return true;
    if ((p[0] != '+' && p[0] != '-') || !digits(p + 1, 2, &oh) || p[3] != ':' ||
        !digits(p + 4, 2, &om) || p[6] != '\0')
        return false;
    return oh <= ADMIT_CHECKIN_OFFSET_MAX_HOURS && om <= 59;
}

void admit_checkin_time_now(char out[ADMIT_CHECKIN_TIME_SIZE])
{
    struct timespec ts;
    struct tm tm;
    char seconds[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, ADMIT_CHECKIN_TIME_SIZE, "%.19s.%03uZ", seconds,
             (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

/* Parsing requests. */

static enum admit_rc refuse(struct admit_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum admit_rc refuse(struct admit_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;
    admit_error_clear(err);
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return ADMIT_ERR_INVALID;
}

unsigned admit_checkin_error_status(const struct admit_error *err)
{
    if (err->code != NULL && strcmp(err->code, "too_many_scans") == 0)
        return 413;
    if (err->code != NULL && strcmp(err->code, "nonce_reused") == 0)
        return 409;
    return 400;
}

/* "scan 3" in a batch, "the scan" for a single one; into out. */
static void scan_label(char *out, size_t outlen, bool batch, size_t i)
{
    if (batch)
        snprintf(out, outlen, "scan %zu", i + 1);
    else
        snprintf(out, outlen, "the scan");
}

static bool nonce_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < ADMIT_CHECKIN_NONCE_MIN || n > ADMIT_CHECKIN_NONCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Why a list or gate name is refused ("" when empty is allowed: the device's name), or NULL:
 * one line of at most ADMIT_CHECKIN_NAME_MAX characters of text (admit/text.h) that shows
 * something. */
static const char *name_problem(const char *s, bool allow_empty)
{
    switch (admit_text_check(s, 0, ADMIT_CHECKIN_NAME_MAX, NULL)) {
    case ADMIT_TEXT_OK:
        break;
    case ADMIT_TEXT_INVISIBLE:
        return "holds invisible characters (bidirectional controls, zero-width or other format "
               "characters)";
    case ADMIT_TEXT_NOT_TEXT:
    case ADMIT_TEXT_TOO_LONG:
        return "is not one line of at most 100 characters";
    }
    if (!(allow_empty && s[0] == '\0') && !admit_text_visible(s))
        return "shows nothing";
    return NULL;
}

enum field_kind { F_STRING, F_BOOL };

static const struct {
    const char *name;
    enum field_kind kind;
    bool required;
} scan_fields[] = {
    {"payload", F_STRING, true},    {"list", F_STRING, true},          {"nonce", F_STRING, true},
    {"direction", F_STRING, false}, {"scanned_at", F_STRING, false},   {"gate", F_STRING, false},
    {"offline", F_BOOL, false},     {"door_verdict", F_STRING, false},
};
#define NSCAN_FIELDS (sizeof scan_fields / sizeof scan_fields[0])

static enum admit_rc parse_scan(json_t *obj, bool batch, size_t index,
                                struct admit_checkin_scan *scan, struct admit_error *err)
{
    char label[32];
    const char *key;
    json_t *value;
    scan_label(label, sizeof label, batch, index);
    if (!json_is_object(obj))
        return refuse(err, "not_an_object", "%s must be a JSON object", label);
    json_object_foreach(obj, key, value)
    {
        size_t f = 0;
        while (f < NSCAN_FIELDS && strcmp(scan_fields[f].name, key) != 0)
            f++;
        if (f == NSCAN_FIELDS)
            return refuse(err, "unknown_field",
                          "%s has a field this server does not know: \"%.60s\"", label, key);
        if (scan_fields[f].kind == F_STRING && !json_is_string(value))
            return refuse(err, "wrong_type", "field \"%s\" of %s must be a string", key, label);
        if (scan_fields[f].kind == F_BOOL && !json_is_boolean(value))
            return refuse(err, "wrong_type", "field \"%s\" of %s must be true or false", key,
                          label);
    }
    for (size_t f = 0; f < NSCAN_FIELDS; f++)
        if (scan_fields[f].required && json_object_get(obj, scan_fields[f].name) == NULL)
            return refuse(err, "missing_field", "%s has no \"%s\"", label, scan_fields[f].name);

    json_t *payload = json_object_get(obj, "payload");
    scan->payload = json_string_value(payload);
    scan->payload_len = json_string_length(payload);
    scan->list = json_string_value(json_object_get(obj, "list"));
    scan->nonce = json_string_value(json_object_get(obj, "nonce"));
    scan->gate = json_string_value(json_object_get(obj, "gate"));
    const char *direction = json_string_value(json_object_get(obj, "direction"));
    const char *scanned_at = json_string_value(json_object_get(obj, "scanned_at"));
    const char *door = json_string_value(json_object_get(obj, "door_verdict"));
    scan->offline = json_is_true(json_object_get(obj, "offline"));
    scan->door_verdict = -1;

    const char *problem = name_problem(scan->list, false);
    if (problem != NULL)
        return refuse(err, "invalid_value",
                      "\"list\" of %s must be a list name of 1 to %d characters on one line: "
                      "it %s",
                      label, ADMIT_CHECKIN_NAME_MAX, problem);
    if (!nonce_valid(scan->nonce))
        return refuse(err, "invalid_value",
                      "\"nonce\" of %s must be %d to %d letters, digits, '-' or '_'", label,
                      ADMIT_CHECKIN_NONCE_MIN, ADMIT_CHECKIN_NONCE_MAX);
    problem = scan->gate != NULL ? name_problem(scan->gate, true) : NULL;
    if (problem != NULL)
        return refuse(err, "invalid_value",
                      "\"gate\" of %s must be at most %d characters on one line: it %s", label,
                      ADMIT_CHECKIN_NAME_MAX, problem);
    if (direction == NULL || strcmp(direction, "entry") == 0)
        scan->exit = false;
    else if (strcmp(direction, "exit") == 0)
        scan->exit = true;
    else
        return refuse(err, "invalid_value", "\"direction\" of %s must be \"entry\" or \"exit\"",
                      label);
    if (scanned_at == NULL) {
        admit_checkin_time_now(scan->scanned_at);
    } else if (strlen(scanned_at) >= sizeof scan->scanned_at ||
               !admit_checkin_time_valid(scanned_at)) {
        return refuse(err, "invalid_value",
                      "\"scanned_at\" of %s must be an RFC 3339 time like "
                      "\"2027-10-29T09:12:03.120Z\", at most 15:59 from UTC",
                      label);
    } else {
        memcpy(scan->scanned_at, scanned_at, strlen(scanned_at) + 1);
    }
    if (door != NULL) {
        scan->door_verdict = admit_verdict_parse(door);
        if (scan->door_verdict < 0)
            return refuse(err, "invalid_value", "\"door_verdict\" of %s is not a verdict", label);
    }
    return ADMIT_OK;
}

enum admit_rc admit_checkin_parse(const char *body, size_t len, struct admit_checkin_request *out,
                                  struct admit_error *err)
{
    json_error_t jerr;
    json_t *items = NULL;
    enum admit_rc rc = ADMIT_ERR_INVALID;
    memset(out, 0, sizeof *out);
    admit_error_clear(err);
    /* Not JSON_DECODE_ANY: the top level must be an object or an array; NUL bytes in strings
     * are refused (JSON_ALLOW_NUL is not set). */
    out->root = json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (out->root == NULL) {
        rc = refuse(err, "invalid_json", "the body is not valid JSON: %.120s (at byte %d)",
                    jerr.text, jerr.position);
        goto fail;
    }
    if (!json_is_object(out->root)) {
        rc = refuse(err, "not_an_object", "the body must be a scan object or {\"scans\": [...]}");
        goto fail;
    }
    items = json_object_get(out->root, "scans");
    out->batch = items != NULL;
    out->count = 1;
    if (out->batch) {
        const char *key;
        json_t *value;
        json_object_foreach(out->root, key, value)
        {
            if (strcmp(key, "scans") != 0) {
                rc = refuse(err, "unknown_field", "a batch has one field, \"scans\"; not \"%.60s\"",
                            key);
                goto fail;
            }
        }
        if (!json_is_array(items)) {
            rc = refuse(err, "wrong_type", "\"scans\" must be an array of scans");
            goto fail;
        }
        if (json_array_size(items) == 0) {
            rc = refuse(err, "empty_batch", "\"scans\" is empty");
            goto fail;
        }
        if (json_array_size(items) > ADMIT_CHECKIN_MAX_SCANS) {
            rc = refuse(err, "too_many_scans", "a batch holds at most %d scans",
                        ADMIT_CHECKIN_MAX_SCANS);
            goto fail;
        }
        out->count = json_array_size(items);
    }
    out->scans = admit_xcalloc(out->count, sizeof *out->scans);
    for (size_t i = 0; i < out->count; i++) {
        struct admit_checkin_scan *scan = &out->scans[i];
        json_t *obj = out->batch ? json_array_get(items, i) : out->root;
        if (!out->batch) {
            rc = parse_scan(obj, false, i, scan, err);
            if (rc != ADMIT_OK)
                goto fail;
        } else if (parse_scan(obj, true, i, scan, &scan->refused) != ADMIT_OK) {
            /* That scan alone: its answer says why, the others are decided. */
            struct admit_error why = scan->refused;
            const char *nonce = json_string_value(json_object_get(obj, "nonce"));
            memset(scan, 0, sizeof *scan);
            scan->refused = why;
            scan->nonce = nonce != NULL && nonce_valid(nonce) ? nonce : NULL;
        }
    }
    return ADMIT_OK;
fail:
    admit_checkin_request_free(out);
    return rc;
}

json_t *admit_checkin_error_json(const struct admit_error *err, const char *nonce)
{
    /* A message may quote the scan's bytes cut at any byte: not always valid UTF-8, which
     * jansson refuses (found by fuzz_checkin). */
    json_t *message = json_string(err->message);
    if (message == NULL)
        message = json_string("the scan was refused: its text is not valid UTF-8");
    json_t *answer =
        json_pack("{s:{s:i, s:s, s:o}}", "error", "status", (int)admit_checkin_error_status(err),
                  "code", err->code, "message", message);
    if (answer == NULL)
        abort(); /* jansson fails only without memory */
    if (nonce != NULL)
        json_object_set_new(answer, "nonce", json_string(nonce));
    return answer;
}

unsigned admit_checkin_answer_status(const json_t *answer)
{
    json_int_t status =
        json_integer_value(json_object_get(json_object_get(answer, "error"), "status"));
    return status >= 400 && status <= 599 ? (unsigned)status : 200;
}

void admit_checkin_request_free(struct admit_checkin_request *req)
{
    json_decref(req->root);
    free(req->scans);
    memset(req, 0, sizeof *req);
}

/* Syncing. */

/* The decimal number at *p (1 to 19 digits, no sign) into *v; advances *p. */
static bool cursor_number(const char **p, unsigned long long *v)
{
    int n = 0;
    *v = 0;
    while (**p >= '0' && **p <= '9') {
        if (++n > 19)
            return false;
        *v = *v * 10 + (unsigned long long)(**p - '0');
        (*p)++;
    }
    return n > 0;
}

bool admit_checkin_cursor_valid(const char *text)
{
    unsigned long long xmin, xmax, xip, last = 0;
    const char *p = text;
    if (text == NULL || strlen(text) > CURSOR_MAX)
        return false;
    /* PostgreSQL's own rules for pg_snapshot text: valid (non-zero) xmin <= xmax, and the
     * transactions in progress ascending within [xmin, xmax). */
    if (!cursor_number(&p, &xmin) || *p++ != ':' || !cursor_number(&p, &xmax) || *p++ != ':' ||
        xmin == 0 || xmax < xmin)
        return false;
    while (*p != '\0') {
        if (!cursor_number(&p, &xip) || xip < xmin || xip >= xmax || xip < last)
            return false;
        last = xip;
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            return false;
    }
    return true;
}

json_t *admit_checkin_keys_json(const struct admit_keyring *ring)
{
    json_t *keys = json_array();
    for (size_t i = 0; i < ring->count; i++) {
        char id[ADMIT_KEY_ID_STRLEN], hex[ADMIT_KEY_PUBLIC_HEXLEN];
        admit_key_id_format(ring->keys[i].key_id, id);
        admit_key_public_format(&ring->keys[i], hex);
        json_array_append_new(keys, json_pack("{s:s, s:s}", "key_id", id, "public_key", hex));
    }
    return keys;
}

enum admit_rc admit_checkin_sync(struct admit_db *db, const char *token_hash, const char *slug,
                                 const char *since, const struct admit_keyring *ring, char **json,
                                 enum admit_sync_outcome *outcome)
{
    PGresult *res = NULL;
    *json = NULL;
    *outcome = ADMIT_SYNC_UNAUTHORIZED;
    if (since != NULL && !admit_checkin_cursor_valid(since))
        return ADMIT_ERR_INVALID;
    json_t *keys = admit_checkin_keys_json(ring);
    char *keys_text = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    if (keys_text == NULL)
        abort();
    const char *params[4] = {token_hash, slug, since, keys_text};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_SYNC_DEVICE, 4, params, &res);
    free(keys_text);
    if (rc == ADMIT_ERR_DB && since != NULL && strncmp(admit_db_sqlstate(db), "22", 2) == 0)
        return ADMIT_ERR_INVALID; /* a well-formed cursor PostgreSQL still refuses (xmin > xmax) */
    if (rc != ADMIT_OK)
        return rc;
    const char *what = PQgetvalue(res, 0, 0);
    if (strcmp(what, "ok") == 0) {
        *outcome = ADMIT_SYNC_OK;
        *json = admit_xstrdup(PQgetvalue(res, 0, 1));
    } else if (strcmp(what, "not_found") == 0) {
        *outcome = ADMIT_SYNC_NOT_FOUND;
    }
    PQclear(res);
    return ADMIT_OK;
}
