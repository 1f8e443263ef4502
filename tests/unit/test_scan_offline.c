/* What a scanner decides offline (lib/door/scan_offline.c): every verdict from a synced snapshot,
 * its own scans laid over it, merging incremental syncs, and refusing malformed snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/keys.h"
#include "admit/door/scan_offline.h"
#include "admit/core/ticket.h"

#define EVENT 7
#define DAY1  11
#define DAY2  12

static struct admit_signing_key key;

static int setup(void **state)
{
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    admit_key_generate(&key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    admit_key_wipe(&key);
    return 0;
}

static json_t *key_json(const struct admit_signing_key *k)
{
    char id[ADMIT_KEY_ID_STRLEN], hex[ADMIT_KEY_PUBLIC_HEXLEN];
    struct admit_public_key pub = {.key_id = k->key_id};
    memcpy(pub.pk, k->pk, 32);
    admit_key_id_format(k->key_id, id);
    admit_key_public_format(&pub, hex);
    return json_pack("{s:s, s:s}", "key_id", id, "public_key", hex);
}

static json_t *reg(int id, const char *status, int reissue, const char *name, json_t *lists)
{
    return json_pack("{s:i, s:s, s:i, s:s, s:s, s:o}", "id", id, "status", status, "reissue",
                     reissue, "name", name, "organisation", "Org", "lists", lists);
}

/* Event 7 with Day 1 and Day 2; 1 Ada (Day 1), 2 Bob (cancelled), 3 Cy (reissued twice),
 * 4 Di (waitlisted), 5 Ed (Day 2 only), 6 Flo (admitted on Day 1, inside), 7 Gus (admitted and
 * left). */
static json_t *snapshot(void)
{
    return json_pack(
        "{s:{s:i, s:s}, s:{s:i, s:s}, s:s, s:b, s:[o], s:[{s:i, s:s}, {s:i, s:s}], "
        "s:[o, o, o, o, o, o, o], s:[{s:i, s:i, s:s, s:s, s:b}, {s:i, s:i, s:s, s:s, s:b}]}",
        "event", "id", EVENT, "slug", "conf", "device", "id", 1, "name", "Gate A", "cursor",
        "10:12:11", "full", 1, "keys", key_json(&key), "lists", "id", DAY1, "name", "Day 1", "id",
        DAY2, "name", "Day 2", "registrations",
        reg(1, "confirmed", 0, "Ada", json_pack("[i]", DAY1)),
        reg(2, "cancelled", 0, "Bob", json_pack("[i]", DAY1)),
        reg(3, "confirmed", 2, "Cy", json_pack("[i]", DAY1)),
        reg(4, "waitlisted", 0, "Di", json_pack("[i]", DAY1)),
        reg(5, "confirmed", 0, "Ed", json_pack("[i]", DAY2)),
        reg(6, "confirmed", 0, "Flo", json_pack("[i,i]", DAY1, DAY2)),
        reg(7, "confirmed", 0, "Gus", json_pack("[i]", DAY1)), "admissions", "registration_id", 6,
        "list_id", DAY1, "first_at", "2027-10-29T08:01:00.000Z", "first_gate", "Gate B", "inside",
        1, "registration_id", 7, "list_id", DAY1, "first_at", "2027-10-29T08:02:00.000Z",
        "first_gate", "Gate C", "inside", 0);
}

static json_t *decide(const struct admit_scan_offline *k, uint32_t event, uint32_t attendee,
                      uint16_t reissue, const char *list, bool exit)
{
    char ticket[ADMIT_TICKET_TEXT_MAX];
    assert_int_equal(admit_ticket_sign(&key, event, attendee, reissue, ticket), ADMIT_OK);
    return admit_scan_offline_decide(k, ticket, strlen(ticket), list, exit);
}

static void expect(json_t *answer, const char *verdict, const char *reason)
{
    const char *v = json_string_value(json_object_get(answer, "verdict"));
    const char *r = json_string_value(json_object_get(answer, "reason"));
    if (strcmp(v, verdict) != 0 || strcmp(r, reason) != 0)
        fail_msg("got %s \"%s\", want %s \"%s\"", v, r, verdict, reason);
}

static void test_verdicts(void **state)
{
    (void)state;
    struct admit_scan_offline *k = admit_scan_offline_new();
    json_t *a = decide(k, EVENT, 1, 0, "Day 1", false);
    expect(a, "invalid", "no_keys"); /* nothing synced yet */
    json_decref(a);
    assert_false(admit_scan_offline_ready(k));
    json_t *snap = snapshot();
    assert_int_equal(admit_scan_offline_load(k, snap), ADMIT_OK);
    json_decref(snap);
    assert_true(admit_scan_offline_ready(k));
    assert_int_equal(admit_scan_offline_list_id(k, "Day 2"), DAY2);
    assert_int_equal(admit_scan_offline_list_id(k, "Day 3"), -1);

    a = decide(k, EVENT, 1, 0, "Day 1", false);
    expect(a, "valid", "");
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Ada");
    assert_string_equal(json_string_value(json_object_get(a, "organisation")), "Org");
    assert_int_equal(json_integer_value(json_object_get(a, "registration_id")), 1);
    assert_string_equal(json_string_value(json_object_get(a, "list")), "Day 1");
    assert_string_equal(json_string_value(json_object_get(a, "direction")), "entry");
    json_decref(a);

    static const struct {
        uint32_t event, attendee;
        uint16_t reissue;
        const char *list;
        bool exit;
        const char *verdict, *reason;
    } cases[] = {
        {EVENT, 2, 0, "Day 1", false, "revoked", "cancelled"},
        {EVENT, 3, 1, "Day 1", false, "revoked", "reissued"},
        {EVENT, 3, 2, "Day 1", false, "valid", ""},
        {EVENT, 3, 3, "Day 1", false, "valid", ""}, /* reissued again since the sync */
        {EVENT, 4, 0, "Day 1", false, "waitlisted", ""},
        {EVENT, 5, 0, "Day 1", false, "not_on_list", ""},
        {EVENT, 5, 0, "Day 2", false, "valid", ""},
        {EVENT, 6, 0, "Day 1", false, "already_checked_in", ""},
        {EVENT, 6, 0, "Day 2", false, "valid", ""},
        {EVENT, 7, 0, "Day 1", false, "valid", "re_entry"},
        {EVENT, 6, 0, "Day 1", true, "valid", ""},
        {EVENT, 1, 0, "Day 1", true, "valid", "not_inside"},
        {EVENT, 2, 0, "Day 1", true, "revoked", "cancelled"},
        {EVENT, 99, 0, "Day 1", false, "valid", ""}, /* registered since the sync */
        {EVENT + 1, 1, 0, "Day 1", false, "wrong_event", ""},
        {EVENT, 1, 0, "Day 9", false, "invalid", "unknown_list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a = decide(k, cases[i].event, cases[i].attendee, cases[i].reissue, cases[i].list,
                   cases[i].exit);
        const char *v = json_string_value(json_object_get(a, "verdict"));
        const char *r = json_string_value(json_object_get(a, "reason"));
        if (strcmp(v, cases[i].verdict) != 0 || strcmp(r, cases[i].reason) != 0)
            fail_msg("case %zu: got %s \"%s\"", i, v, r);
        json_decref(a);
    }
    a = decide(k, EVENT, 6, 0, "Day 1", false);
    assert_string_equal(json_string_value(json_object_get(a, "first_at")),
                        "2027-10-29T08:01:00.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Gate B");
    json_decref(a);
    a = decide(k, EVENT, 99, 0, "Day 1", false);
    assert_null(json_object_get(a, "name")); /* not in the sync: no name to show */
    json_decref(a);

    /* Tickets that are not tickets, and a key that was never synced. */
    a = admit_scan_offline_decide(k, "HELLO", 5, "Day 1", false);
    expect(a, "invalid", "not_a_ticket");
    json_decref(a);
    char text[2000];
    memset(text, 'A', sizeof text);
    a = admit_scan_offline_decide(k, text, sizeof text, "Day 1", false);
    expect(a, "invalid", "wrong_length");
    json_decref(a);
    struct admit_signing_key other;
    char ticket[ADMIT_TICKET_TEXT_MAX];
    admit_key_generate(&other);
    assert_int_equal(admit_ticket_sign(&other, EVENT, 1, 0, ticket), ADMIT_OK);
    admit_key_wipe(&other);
    a = admit_scan_offline_decide(k, ticket, strlen(ticket), "Day 1", false);
    expect(a, "invalid", "unknown_key");
    json_decref(a);
    admit_scan_offline_free(k);
    admit_scan_offline_free(NULL);
}

static void apply(struct admit_scan_offline *k, json_t *answer, bool exit, const char *at)
{
    admit_scan_offline_apply(k, answer, json_string_value(json_object_get(answer, "list")), exit,
                             at, "Gate A");
    json_decref(answer);
}

static void test_own_scans(void **state)
{
    (void)state;
    struct admit_scan_offline *k = admit_scan_offline_new();
    json_t *snap = snapshot();
    assert_int_equal(admit_scan_offline_load(k, snap), ADMIT_OK);
    json_decref(snap);
    /* Ada in: a second entry at this door is refused, with when and where. */
    apply(k, decide(k, EVENT, 1, 0, "Day 1", false), false, "2027-10-29T09:00:00.000Z");
    json_t *a = decide(k, EVENT, 1, 0, "Day 1", false);
    expect(a, "already_checked_in", "");
    assert_string_equal(json_string_value(json_object_get(a, "first_at")),
                        "2027-10-29T09:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Gate A");
    json_decref(a);
    /* Out and in again: the first time stays, and the re-entry is the latest entry. */
    apply(k, decide(k, EVENT, 1, 0, "Day 1", true), true, "2027-10-29T10:00:00.000Z");
    a = decide(k, EVENT, 1, 0, "Day 1", false);
    expect(a, "valid", "re_entry");
    apply(k, a, false, "2027-10-29T11:00:00.000Z");
    a = decide(k, EVENT, 1, 0, "Day 1", false);
    assert_string_equal(json_string_value(json_object_get(a, "first_at")),
                        "2027-10-29T09:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "entered_at")),
                        "2027-10-29T11:00:00.000Z");
    json_decref(a);
    /* The server's answer teaches a latest entry made at another door. */
    json_t *later = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "verdict",
                              "already_checked_in", "list", "Day 1", "registration_id", 1,
                              "first_at", "2027-10-29T09:00:00.000Z", "first_gate", "Gate A",
                              "entered_at", "2027-10-29T13:05:00.000Z", "entered_gate", "Gate Q");
    apply(k, later, false, "2027-10-29T13:10:00.000Z");
    a = decide(k, EVENT, 1, 0, "Day 1", false);
    assert_string_equal(json_string_value(json_object_get(a, "entered_at")),
                        "2027-10-29T13:05:00.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "entered_gate")), "Gate Q");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Gate A");
    json_decref(a);
    /* An already_checked_in answer from the server teaches the first admission. */
    json_t *server = json_pack("{s:s, s:s, s:i, s:s, s:s}", "verdict", "already_checked_in", "list",
                               "Day 2", "registration_id", 5, "first_at",
                               "2027-10-29T07:00:00.000Z", "first_gate", "Gate Z");
    apply(k, server, false, "2027-10-29T09:30:00.000Z");
    a = decide(k, EVENT, 5, 0, "Day 2", false);
    expect(a, "already_checked_in", "");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Gate Z");
    json_decref(a);
    /* Refusals and answers without a registration change nothing. */
    apply(k,
          json_pack("{s:s, s:s, s:i}", "verdict", "revoked", "list", "Day 1", "registration_id", 2),
          false, "2027-10-29T09:00:00Z");
    apply(k, json_pack("{s:s, s:s}", "verdict", "valid", "list", "Day 1"), false,
          "2027-10-29T09:00:00Z");
    apply(k,
          json_pack("{s:s, s:s, s:i}", "verdict", "valid", "list", "Day 9", "registration_id", 3),
          false, "2027-10-29T09:00:00Z");
    a = decide(k, EVENT, 3, 2, "Day 1", false);
    expect(a, "valid", "");
    json_decref(a);
    /* Loading a snapshot again forgets what was laid over the old one. */
    snap = snapshot();
    assert_int_equal(admit_scan_offline_load(k, snap), ADMIT_OK);
    json_decref(snap);
    a = decide(k, EVENT, 1, 0, "Day 1", false);
    expect(a, "valid", "");
    json_decref(a);
    admit_scan_offline_free(k);
}

static void test_merge(void **state)
{
    (void)state;
    json_t *base = snapshot();
    json_t *merged = NULL;
    /* No snapshot yet: the delta is it. */
    assert_int_equal(admit_scan_offline_merge(&merged, base), ADMIT_OK);
    assert_true(json_equal(merged, base));
    json_t *delta =
        json_pack("{s:{s:i, s:s}, s:s, s:b, s:[o], s:[{s:i, s:s}], s:[o, o], "
                  "s:[{s:i, s:i, s:s, s:s, s:b}]}",
                  "event", "id", EVENT, "slug", "conf", "cursor", "12:14:", "full", 0, "keys",
                  key_json(&key), "lists", "id", DAY1, "name", "Day 1", "registrations",
                  reg(1, "cancelled", 0, "Ada", json_pack("[i]", DAY1)),
                  reg(50, "confirmed", 0, "New", json_pack("[i]", DAY1)), "admissions",
                  "registration_id", 6, "list_id", DAY1, "first_at", "2027-10-29T08:01:00.000Z",
                  "first_gate", "Gate B", "inside", 0);
    json_t *held = json_incref(merged); /* the loaded knowledge keeps a reference */
    assert_int_equal(admit_scan_offline_merge(&merged, delta), ADMIT_OK);
    assert_true(json_equal(held, base)); /* never changed under its holder */
    json_decref(held);
    assert_string_equal(json_string_value(json_object_get(merged, "cursor")), "12:14:");
    assert_int_equal(json_array_size(json_object_get(merged, "lists")), 1);
    assert_int_equal(json_array_size(json_object_get(merged, "registrations")), 8);
    assert_int_equal(json_array_size(json_object_get(merged, "admissions")), 2);
    assert_true(json_is_true(json_object_get(merged, "full")));
    struct admit_scan_offline *k = admit_scan_offline_new();
    assert_int_equal(admit_scan_offline_load(k, merged), ADMIT_OK);
    json_t *a = decide(k, EVENT, 1, 0, "Day 1", false);
    expect(a, "revoked", "cancelled");
    json_decref(a);
    a = decide(k, EVENT, 50, 0, "Day 1", false);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "New");
    json_decref(a);
    a = decide(k, EVENT, 6, 0, "Day 1", false);
    expect(a, "valid", "re_entry");
    json_decref(a);
    assert_ptr_equal(admit_scan_offline_snapshot(k), merged);

    /* A full answer replaces everything. */
    json_object_set_new(delta, "full", json_true());
    assert_int_equal(admit_scan_offline_merge(&merged, delta), ADMIT_OK);
    assert_int_equal(json_array_size(json_object_get(merged, "registrations")), 2);
    /* A malformed delta changes nothing. */
    json_t *before = json_deep_copy(merged);
    json_object_set_new(delta, "cursor", json_string("not a cursor"));
    assert_int_equal(admit_scan_offline_merge(&merged, delta), ADMIT_ERR_INVALID);
    assert_true(json_equal(before, merged));
    json_decref(before);
    json_decref(delta);
    json_decref(merged);
    json_decref(base);
    admit_scan_offline_free(k);
}

static void test_malformed_snapshots(void **state)
{
    (void)state;
    struct admit_scan_offline *k = admit_scan_offline_new();
    json_t *good = snapshot();
    assert_true(admit_scan_offline_snapshot_valid(good));
    assert_int_equal(admit_scan_offline_load(k, good), ADMIT_OK);
    static const char *const breakers[] = {
        "{\"event\": null}",
        "{\"event\": {\"id\": 0, \"slug\": \"x\"}}",
        "{\"cursor\": \"x\"}",
        "{\"keys\": [{\"key_id\": \"00000000\", \"public_key\": \"00\"}]}",
        "{\"lists\": [{\"id\": \"1\", \"name\": \"x\"}]}",
        "{\"registrations\": [{\"id\": 1}]}",
        "{\"registrations\": [{\"id\": 1, \"status\": \"gone\", \"reissue\": 0, \"name\": \"\", "
        "\"organisation\": \"\", \"lists\": []}]}",
        "{\"registrations\": [{\"id\": 1, \"status\": \"confirmed\", \"reissue\": 70000, "
        "\"name\": \"\", \"organisation\": \"\", \"lists\": []}]}",
        "{\"registrations\": [{\"id\": 1, \"status\": \"confirmed\", \"reissue\": 0, "
        "\"name\": \"\", \"organisation\": \"\", \"lists\": [0]}]}",
        "{\"admissions\": [{\"registration_id\": 1, \"list_id\": 1, \"first_at\": \"x\", "
        "\"first_gate\": \"\", \"inside\": true}]}",
        "{\"admissions\": [{\"registration_id\": 1, \"list_id\": 1, \"first_at\": "
        "\"2027-10-29T08:00:00Z\", \"first_gate\": \"\", \"entered_at\": \"soon\", "
        "\"entered_gate\": \"\", \"inside\": true}]}",
        "{\"admissions\": [{\"registration_id\": 1, \"list_id\": 1, \"first_at\": "
        "\"2027-10-29T08:00:00Z\", \"first_gate\": \"\", \"entered_at\": "
        "\"2027-10-29T09:00:00Z\", \"inside\": true}]}",
        "{\"admissions\": {}}",
    };
    for (size_t i = 0; i < sizeof breakers / sizeof breakers[0]; i++) {
        json_error_t jerr;
        json_t *patch = json_loads(breakers[i], 0, &jerr);
        json_t *bad = json_deep_copy(good);
        json_object_update(bad, patch);
        if (admit_scan_offline_snapshot_valid(bad))
            fail_msg("accepted %s", breakers[i]);
        assert_int_equal(admit_scan_offline_load(k, bad), ADMIT_ERR_INVALID);
        json_decref(bad);
        json_decref(patch);
    }
    /* A key whose id does not match it is corrupt. */
    json_t *bad = json_deep_copy(good);
    json_object_set_new(json_array_get(json_object_get(bad, "keys"), 0), "key_id",
                        json_string("00000000"));
    assert_false(admit_scan_offline_snapshot_valid(bad));
    json_decref(bad);
    assert_false(admit_scan_offline_snapshot_valid(NULL));
    /* k still holds the good one. */
    assert_ptr_equal(admit_scan_offline_snapshot(k), good);
    json_decref(good);
    admit_scan_offline_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_own_scans),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_malformed_snapshots),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
