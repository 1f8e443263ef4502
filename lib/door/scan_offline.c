#include "admit/door/scan_offline.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/checkin/checkin.h"
#include "admit/core/keys.h"
#include "admit/core/mem.h"
#include "admit/core/ticket.h"
#include "scan_map.h"

static uint64_t admission_key(uint32_t registration, uint32_t list)
{
    return (uint64_t)registration << 32 | list;
}

enum reg_status { REG_CONFIRMED, REG_WAITLISTED, REG_CANCELLED };

struct registration {
    uint32_t id;
    enum reg_status status;
    long reissue;
    const char *name; /* point into the snapshot */
    const char *organisation;
    const char *door; /* the organiser's picked answers (issue 17), or NULL */
    const json_t *lists;
};

struct admission {
    char first_at[ADMIT_CHECKIN_TIME_SIZE];
    char *first_gate;                         /* owned */
    char entered_at[ADMIT_CHECKIN_TIME_SIZE]; /* the latest entry; "": the first */
    char *entered_gate;                       /* owned; NULL: the first's */
    bool inside;
};

struct admit_scan_offline {
    json_t *snapshot; /* a reference */
    long event_id;
    struct admit_keyring ring;
    struct registration *regs;
    size_t nregs;
    struct map reg_index;
    struct admission *adms;
    size_t nadms, adms_cap;
    struct map adm_index;
};

struct admit_scan_offline *admit_scan_offline_new(void)
{
    struct admit_scan_offline *k = admit_xcalloc(1, sizeof *k);
    admit_keyring_init(&k->ring);
    k->event_id = -1;
    return k;
}

static void clear(struct admit_scan_offline *k)
{
    json_decref(k->snapshot);
    k->snapshot = NULL;
    k->event_id = -1;
    admit_keyring_free(&k->ring);
    admit_keyring_init(&k->ring);
    free(k->regs);
    k->regs = NULL;
    k->nregs = 0;
    map_free(&k->reg_index);
    for (size_t i = 0; i < k->nadms; i++) {
        free(k->adms[i].first_gate);
        free(k->adms[i].entered_gate);
    }
    free(k->adms);
    k->adms = NULL;
    k->nadms = k->adms_cap = 0;
    map_free(&k->adm_index);
}

void admit_scan_offline_free(struct admit_scan_offline *k)
{
    if (k == NULL)
        return;
    clear(k);
    free(k);
}

/* Validating sync answers. */

static bool is_id(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= 0x7fffffffLL;
}

static bool field_id(const json_t *obj, const char *key)
{
    return is_id(json_object_get(obj, key));
}

static bool field_string(const json_t *obj, const char *key)
{
    return json_is_string(json_object_get(obj, key));
}

static bool registration_valid(const json_t *r)
{
    const json_t *reissue = json_object_get(r, "reissue");
    const json_t *lists = json_object_get(r, "lists");
    const char *status = json_string_value(json_object_get(r, "status"));
    size_t i;
    const json_t *l;
    if (!field_id(r, "id") || status == NULL || !json_is_integer(reissue) ||
        json_integer_value(reissue) < 0 || json_integer_value(reissue) > 65535 ||
        !field_string(r, "name") || !field_string(r, "organisation") || !json_is_array(lists) ||
        (json_object_get(r, "door") != NULL && !json_is_string(json_object_get(r, "door"))))
        return false;
    if (strcmp(status, "confirmed") != 0 && strcmp(status, "waitlisted") != 0 &&
        strcmp(status, "cancelled") != 0)
        return false;
    json_array_foreach(lists, i, l)
    {
        if (!is_id(l))
            return false;
    }
    return true;
}

/* Whether obj's member key is a time of the API that fits an admission. */
static bool field_time(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return admit_checkin_time_valid(v) && strlen(v) < ADMIT_CHECKIN_TIME_SIZE;
}

static bool admission_valid(const json_t *a)
{
    /* The latest entry came with migration 6: a snapshot synced before has none. */
    bool entered = json_object_get(a, "entered_at") == NULL ||
                   (field_time(a, "entered_at") && field_string(a, "entered_gate"));
    return field_id(a, "registration_id") && field_id(a, "list_id") && field_time(a, "first_at") &&
           field_string(a, "first_gate") && entered &&
           json_is_boolean(json_object_get(a, "inside"));
}

static bool key_valid(const json_t *key)
{
    struct admit_public_key pk;
    char id[ADMIT_KEY_ID_STRLEN];
    const char *hex = json_string_value(json_object_get(key, "public_key"));
    const char *key_id = json_string_value(json_object_get(key, "key_id"));
    if (hex == NULL || key_id == NULL || admit_key_public_parse(hex, &pk) != ADMIT_OK)
        return false;
    admit_key_id_format(pk.key_id, id);
    return strcmp(id, key_id) == 0; /* the id is derived from the key: a mismatch is corrupt */
}

static bool list_valid(const json_t *l)
{
    return field_id(l, "id") && field_string(l, "name");
}

static bool all(const json_t *array, bool (*valid)(const json_t *))
{
    size_t i;
    const json_t *item;
    if (!json_is_array(array))
        return false;
    json_array_foreach(array, i, item)
    {
        if (!valid(item))
            return false;
    }
    return true;
}

bool admit_scan_offline_snapshot_valid(const json_t *s)
{
    const json_t *event = json_object_get(s, "event");
    return json_is_object(s) && field_id(event, "id") && field_string(event, "slug") &&
           admit_checkin_cursor_valid(json_string_value(json_object_get(s, "cursor"))) &&
           all(json_object_get(s, "keys"), key_valid) &&
           all(json_object_get(s, "lists"), list_valid) &&
           all(json_object_get(s, "registrations"), registration_valid) &&
           all(json_object_get(s, "admissions"), admission_valid);
}

/* Loading. */

static struct admission *admission_find(const struct admit_scan_offline *k, uint32_t reg,
                                        uint32_t list)
{
    long i = map_get(&k->adm_index, admission_key(reg, list));
    return i < 0 ? NULL : &k->adms[i];
}

/* The admission of (reg, list), added (outside, no first time) when missing. */
static struct admission *admission_get(struct admit_scan_offline *k, uint32_t reg, uint32_t list)
{
    struct admission *a = admission_find(k, reg, list);
    if (a != NULL)
        return a;
    if (k->nadms == k->adms_cap) {
        k->adms_cap = k->adms_cap ? k->adms_cap * 2 : 64;
        k->adms = admit_xrealloc(k->adms, k->adms_cap * sizeof *k->adms);
    }
    a = &k->adms[k->nadms];
    memset(a, 0, sizeof *a);
    map_put(&k->adm_index, admission_key(reg, list), (uint32_t)k->nadms++);
    return a;
}

static void admission_set_first(struct admission *a, const char *first_at, const char *gate)
{
    snprintf(a->first_at, sizeof a->first_at, "%s", first_at);
    free(a->first_gate);
    a->first_gate = admit_xstrdup(gate != NULL ? gate : "");
}

/* The latest entry (at, a valid API time, or NULL: none known) through gate. */
static void admission_set_entered(struct admission *a, const char *at, const char *gate)
{
    if (at == NULL || !admit_checkin_time_valid(at) || strlen(at) >= sizeof a->entered_at)
        return;
    snprintf(a->entered_at, sizeof a->entered_at, "%s", at);
    free(a->entered_gate);
    a->entered_gate = admit_xstrdup(gate != NULL ? gate : "");
}

enum admit_rc admit_scan_offline_load(struct admit_scan_offline *k, json_t *snapshot)
{
    size_t i;
    json_t *item;
    if (!admit_scan_offline_snapshot_valid(snapshot))
        return ADMIT_ERR_INVALID;
    clear(k);
    k->snapshot = json_incref(snapshot);
    k->event_id =
        (long)json_integer_value(json_object_get(json_object_get(snapshot, "event"), "id"));
    json_array_foreach(json_object_get(snapshot, "keys"), i, item)
    {
        struct admit_public_key pk;
        if (admit_key_public_parse(json_string_value(json_object_get(item, "public_key")), &pk) ==
            ADMIT_OK)
            admit_keyring_add(&k->ring, &pk);
    }
    const json_t *regs = json_object_get(snapshot, "registrations");
    k->regs = admit_xcalloc(json_array_size(regs) + 1, sizeof *k->regs);
    json_array_foreach(regs, i, item)
    {
        struct registration *r = &k->regs[k->nregs];
        const char *status = json_string_value(json_object_get(item, "status"));
        r->id = (uint32_t)json_integer_value(json_object_get(item, "id"));
        r->status = status[0] == 'c' && status[1] == 'o' ? REG_CONFIRMED
                    : status[0] == 'w'                   ? REG_WAITLISTED
                                                         : REG_CANCELLED;
        r->reissue = (long)json_integer_value(json_object_get(item, "reissue"));
        r->name = json_string_value(json_object_get(item, "name"));
        r->organisation = json_string_value(json_object_get(item, "organisation"));
        r->door = json_string_value(json_object_get(item, "door"));
        r->lists = json_object_get(item, "lists");
        map_put(&k->reg_index, r->id, (uint32_t)k->nregs++);
    }
    json_array_foreach(json_object_get(snapshot, "admissions"), i, item)
    {
        struct admission *a =
            admission_get(k, (uint32_t)json_integer_value(json_object_get(item, "registration_id")),
                          (uint32_t)json_integer_value(json_object_get(item, "list_id")));
        admission_set_first(a, json_string_value(json_object_get(item, "first_at")),
                            json_string_value(json_object_get(item, "first_gate")));
        admission_set_entered(a, json_string_value(json_object_get(item, "entered_at")),
                              json_string_value(json_object_get(item, "entered_gate")));
        a->inside = json_is_true(json_object_get(item, "inside"));
    }
    return ADMIT_OK;
}

/* Merging. */

/* Replaces the items of *target (an array) that have the same key as an item of changes, and
 * appends the others. */
static void merge_by(json_t *target, const json_t *changes, uint64_t (*key)(const json_t *))
{
    struct map index = {0};
    size_t i;
    json_t *item;
    json_array_foreach(target, i, item)
    {
        map_put(&index, key(item), (uint32_t)i);
    }
    json_array_foreach(changes, i, item)
    {
        long at = map_get(&index, key(item));
        if (at >= 0) {
            json_array_set(target, (size_t)at, item);
        } else {
            map_put(&index, key(item), (uint32_t)json_array_size(target));
            json_array_append(target, item);
        }
    }
    map_free(&index);
}

static uint64_t registration_key(const json_t *r)
{
    return (uint64_t)json_integer_value(json_object_get(r, "id"));
}

static uint64_t admission_item_key(const json_t *a)
{
    return admission_key((uint32_t)json_integer_value(json_object_get(a, "registration_id")),
                         (uint32_t)json_integer_value(json_object_get(a, "list_id")));
}

enum admit_rc admit_scan_offline_merge(json_t **snapshot, const json_t *delta)
{
    static const char *const replaced[] = {"event", "device", "cursor", "keys", "lists"};
    if (!admit_scan_offline_snapshot_valid(delta))
        return ADMIT_ERR_INVALID;
    if (*snapshot == NULL || json_is_true(json_object_get(delta, "full")) ||
        !admit_scan_offline_snapshot_valid(*snapshot)) {
        json_decref(*snapshot);
        *snapshot = json_deep_copy(delta);
        return ADMIT_OK;
    }
    /* A copy, so that a snapshot someone holds (the loaded knowledge) never changes under it. */
    json_t *merged = json_deep_copy(*snapshot);
    for (size_t i = 0; i < sizeof replaced / sizeof replaced[0]; i++) {
        json_t *v = json_object_get(delta, replaced[i]);
        if (v != NULL)
            json_object_set_new(merged, replaced[i], json_deep_copy(v));
    }
    json_object_set_new(merged, "full", json_true());
    merge_by(json_object_get(merged, "registrations"), json_object_get(delta, "registrations"),
             registration_key);
    merge_by(json_object_get(merged, "admissions"), json_object_get(delta, "admissions"),
             admission_item_key);
    json_decref(*snapshot);
    *snapshot = merged;
    return ADMIT_OK;
}

bool admit_scan_offline_ready(const struct admit_scan_offline *k)
{
    return k->ring.count > 0;
}

json_t *admit_scan_offline_snapshot(const struct admit_scan_offline *k)
{
    return k->snapshot;
}

long admit_scan_offline_list_id(const struct admit_scan_offline *k, const char *name)
{
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(k->snapshot, "lists"), i, l)
    {
        const char *n = json_string_value(json_object_get(l, "name"));
        if (n != NULL && name != NULL && strcmp(n, name) == 0)
            return (long)json_integer_value(json_object_get(l, "id"));
    }
    return -1;
}

static const struct registration *registration_find(const struct admit_scan_offline *k, uint32_t id)
{
    long i = map_get(&k->reg_index, id);
    return i < 0 ? NULL : &k->regs[i];
}

static bool on_list(const struct registration *r, long list_id)
{
    size_t i;
    const json_t *l;
    json_array_foreach(r->lists, i, l)
    {
        if (json_integer_value(l) == list_id)
            return true;
    }
    return false;
}

/* Deciding. */

static void set_verdict(json_t *answer, enum admit_verdict v, const char *reason)
{
    json_object_set_new(answer, "verdict", json_string(admit_verdict_name(v)));
    json_object_set_new(answer, "reason", json_string(reason));
}

json_t *admit_scan_offline_decide(const struct admit_scan_offline *k, const char *text, size_t len,
                                  const char *list, bool exit)
{
    struct admit_ticket t;
    json_t *answer = json_pack("{s:s, s:s}", "list", list, "direction", exit ? "exit" : "entry");
    if (answer == NULL)
        abort();
    if (!admit_scan_offline_ready(k)) {
        set_verdict(answer, ADMIT_VERDICT_INVALID, "no_keys");
        return answer;
    }
    enum admit_ticket_error err = len <= ADMIT_CHECKIN_PAYLOAD_MAX
                                      ? admit_ticket_verify(text, len, &k->ring, &t)
                                      : ADMIT_TICKET_WRONG_LENGTH;
    if (err != ADMIT_TICKET_VALID) {
        set_verdict(answer, ADMIT_VERDICT_INVALID, admit_ticket_error_code(err));
        return answer;
    }
    if ((long)t.event_id != k->event_id) {
        set_verdict(answer, ADMIT_VERDICT_WRONG_EVENT, "");
        return answer;
    }
    long list_id = admit_scan_offline_list_id(k, list);
    if (list_id < 0) {
        set_verdict(answer, ADMIT_VERDICT_INVALID, "unknown_list");
        return answer;
    }
    json_object_set_new(answer, "registration_id", json_integer(t.attendee_id));
    const struct registration *r = registration_find(k, t.attendee_id);
    if (r != NULL) {
        json_object_set_new(answer, "name", json_string(r->name));
        json_object_set_new(answer, "organisation", json_string(r->organisation));
        if (r->door != NULL)
            json_object_set_new(answer, "door", json_string(r->door));
        if (r->status == REG_CANCELLED) {
            set_verdict(answer, ADMIT_VERDICT_REVOKED, "cancelled");
            return answer;
        }
        if ((long)t.reissue < r->reissue) {
            set_verdict(answer, ADMIT_VERDICT_REVOKED, "reissued");
            return answer;
        }
    }
    const struct admission *a = admission_find(k, t.attendee_id, (uint32_t)list_id);
    if (exit) {
        set_verdict(answer, ADMIT_VERDICT_VALID, a != NULL && a->inside ? "" : "not_inside");
        return answer;
    }
    if (r != NULL && r->status == REG_WAITLISTED) {
        set_verdict(answer, ADMIT_VERDICT_WAITLISTED, "");
        return answer;
    }
    if (r != NULL && !on_list(r, list_id)) {
        set_verdict(answer, ADMIT_VERDICT_NOT_ON_LIST, "");
        return answer;
    }
    if (a != NULL && a->inside) {
        set_verdict(answer, ADMIT_VERDICT_ALREADY_CHECKED_IN, "");
        const char *first_gate = a->first_gate ? a->first_gate : "";
        if (a->first_at[0] != '\0')
            json_object_set_new(answer, "first_at", json_string(a->first_at));
        json_object_set_new(answer, "first_gate", json_string(first_gate));
        /* The latest entry: what the door says ("already checked in at 13:05"). */
        if (a->entered_at[0] != '\0' || a->first_at[0] != '\0')
            json_object_set_new(answer, "entered_at",
                                json_string(a->entered_at[0] ? a->entered_at : a->first_at));
        json_object_set_new(
            answer, "entered_gate",
            json_string(a->entered_at[0] && a->entered_gate ? a->entered_gate : first_gate));
        return answer;
    }
    set_verdict(answer, ADMIT_VERDICT_VALID, a != NULL ? "re_entry" : "");
    return answer;
}

void admit_scan_offline_apply(struct admit_scan_offline *k, const json_t *answer, const char *list,
                              bool exit, const char *scanned_at, const char *gate)
{
    const json_t *id = json_object_get(answer, "registration_id");
    int verdict = admit_verdict_parse(json_string_value(json_object_get(answer, "verdict")));
    long list_id = admit_scan_offline_list_id(k, list);
    if (!is_id(id) || list_id < 0)
        return;
    uint32_t reg = (uint32_t)json_integer_value(id);
    if (exit) {
        struct admission *a = admission_find(k, reg, (uint32_t)list_id);
        if (verdict == ADMIT_VERDICT_VALID && a != NULL)
            a->inside = false;
        return;
    }
    if (verdict == ADMIT_VERDICT_VALID) {
        struct admission *a = admission_get(k, reg, (uint32_t)list_id);
        if (a->first_at[0] == '\0' && admit_checkin_time_valid(scanned_at))
            admission_set_first(a, scanned_at, gate);
        else if (!a->inside) /* a re-entry: the latest entry now */
            admission_set_entered(a, scanned_at, gate);
        a->inside = true;
    } else if (verdict == ADMIT_VERDICT_ALREADY_CHECKED_IN) {
        struct admission *a = admission_get(k, reg, (uint32_t)list_id);
        const char *first_at = json_string_value(json_object_get(answer, "first_at"));
        const char *first_gate = json_string_value(json_object_get(answer, "first_gate"));
        if (a->first_at[0] == '\0' && admit_checkin_time_valid(first_at) &&
            strlen(first_at) < ADMIT_CHECKIN_TIME_SIZE)
            admission_set_first(a, first_at, first_gate);
        admission_set_entered(a, json_string_value(json_object_get(answer, "entered_at")),
                              json_string_value(json_object_get(answer, "entered_gate")));
        a->inside = true;
    }
}
