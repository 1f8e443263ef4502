/* The door's offline verdicts against the server's, on the same scenarios (issue 15): for each,
 * a door syncs (admit_checkin_sync), decides offline from that snapshot
 * (admit_scan_offline_decide), and then the server decides the same scan
 * (admit_checkin_submit, which follows admit_checkin_rule of migration 8). Both must agree,
 * except for the deliberate differences include/admit/door/scan_offline.h lists, each asserted here
 * as the offline answer it must be: unknown_attendee  a well-signed ticket for a registration the
 * server does not have: the door cannot tell it from someone registered since its last sync, and
 *                       the signature is the proof (valid offline)
 *     unknown_reissue   a well-signed ticket newer than the registration: the door cannot tell it
 *                       from a reissue since its last sync (valid offline)
 * and what changed since the door's last sync, which it cannot know (a cancellation since: valid
 * offline, the upload later flags it for the organisers). Someone registered since the last sync
 * is not a difference: both say valid (the door without a name; tests/unit/test_scan_offline.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define CHECKIN_SCANS_LABEL "verdict_parity"
#include "admit/door/scan_offline.h"
#include "checkin_scans.h"

static struct admit_db *db;
static char hash[ADMIT_DEVICE_HASH_SIZE];

struct scenario {
    const char *what;
    int event, reg, reissue; /* the ticket (event 0: the payload below) */
    const char *payload;
    const char *list;
    bool exit;
    const char *before;  /* SQL run before the sync ("REG" is the registration), or NULL */
    const char *after;   /* SQL run after the sync, before both decide, or NULL */
    bool admit_first;    /* the person was checked in (online) before the sync */
    bool exit_first;     /* and then out */
    const char *offline; /* NULL: the same as online; else "verdict/reason" offline */
};

/* Runs template with its "REG" replaced by reg. */
static void change_for(const char *template, int reg)
{
    char sql[512];
    const char *at = strstr(template, "REG");
    assert_non_null(at);
    snprintf(sql, sizeof sql, "%.*s%d%s", (int)(at - template), template, reg, at + 3);
    change("%s", sql);
}

/* "verdict/reason" of answer into out. */
static void verdict_of(const json_t *answer, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", json_string_value(json_object_get(answer, "verdict")),
             json_string_value(json_object_get(answer, "reason")) ?: "");
}

/* One scan decided by the server. */
static json_t *online(int event, int reg, int reissue, const char *payload, const char *list,
                      bool exit)
{
    struct admit_checkin_request req;
    struct admit_error err;
    json_t *answers = NULL;
    char *body = scan_body(event, reg, reissue, payload, list, NULL,
                           exit ? "\"direction\": \"exit\"" : NULL);
    if (admit_checkin_parse(body, strlen(body), &req, &err) != ADMIT_OK)
        fail_msg("%s", err.message);
    assert_int_equal(admit_checkin_submit(db, hash, &req, &ring, &answers), ADMIT_OK);
    admit_checkin_request_free(&req);
    free(body);
    json_t *answer = json_incref(json_array_get(answers, 0));
    json_decref(answers);
    return answer;
}

/* What a door synced now knows. */
static struct admit_scan_offline *synced(void)
{
    char *text = NULL;
    enum admit_sync_outcome outcome;
    json_error_t jerr;
    assert_int_equal(admit_checkin_sync(db, hash, "conf", NULL, &ring, &text, &outcome), ADMIT_OK);
    assert_int_equal(outcome, ADMIT_SYNC_OK);
    json_t *snapshot = json_loads(text, 0, &jerr);
    free(text);
    struct admit_scan_offline *k = admit_scan_offline_new();
    assert_int_equal(admit_scan_offline_load(k, snapshot), ADMIT_OK);
    json_decref(snapshot);
    return k;
}

static void run(const struct scenario *sc)
{
    char off[128], on[128];
    if (sc->before != NULL)
        change_for(sc->before, sc->reg);
    if (sc->admit_first)
        json_decref(online(conf_id, sc->reg, 0, NULL, "Day 1", false));
    if (sc->exit_first)
        json_decref(online(conf_id, sc->reg, 0, NULL, "Day 1", true));
    struct admit_scan_offline *k = synced();
    if (sc->after != NULL)
        change_for(sc->after, sc->reg);
    char ticket[ADMIT_TICKET_TEXT_MAX];
    const char *text = sc->payload;
    if (text == NULL) {
        assert_int_equal(admit_ticket_sign(&key, (uint32_t)sc->event, (uint32_t)sc->reg,
                                           (uint16_t)sc->reissue, ticket),
                         ADMIT_OK);
        text = ticket;
    }
    json_t *door = admit_scan_offline_decide(k, text, strlen(text), sc->list, sc->exit);
    verdict_of(door, off, sizeof off);
    json_t *server = online(sc->event, sc->reg, sc->reissue, sc->payload, sc->list, sc->exit);
    verdict_of(server, on, sizeof on);
    if (sc->offline == NULL && strcmp(off, on) != 0)
        fail_msg("%s: offline %s, online %s", sc->what, off, on);
    if (sc->offline != NULL && strcmp(off, sc->offline) != 0)
        fail_msg("%s: offline %s, expected %s (online %s)", sc->what, off, sc->offline, on);
    if (sc->offline != NULL && strcmp(off, on) == 0)
        fail_msg("%s: listed as a difference, but both say %s", sc->what, on);
    json_decref(door);
    json_decref(server);
    admit_scan_offline_free(k);
}

static void test_same_verdicts(void **state)
{
    (void)state;
    db = admit_db_new(pg.dsn);
    door(db, "Parity door", hash);
    int p = first;
    const struct scenario scenarios[] = {
        {"a first entry", conf_id, p, 0, NULL, "Day 1", false, NULL, NULL, false, false, NULL},
        {"cancelled", conf_id, p + 1, 0, NULL, "Day 1", false,
         "UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = REG", NULL,
         false, false, NULL},
        {"an older copy of a reissued ticket", conf_id, p + 2, 0, NULL, "Day 1", false,
         "UPDATE registrations SET reissue = 1 WHERE id = REG", NULL, false, false, NULL},
        {"waitlisted", conf_id, p + 3, 0, NULL, "Day 1", false,
         "UPDATE registrations SET status = 'waitlisted', confirmed_at = NULL WHERE id = REG", NULL,
         false, false, NULL},
        {"not on this list", conf_id, p + 4, 0, NULL, "Day 2", false, NULL, NULL, false, false,
         NULL},
        {"another event's ticket", other_id, first + PEOPLE, 0, NULL, "Day 1", false, NULL, NULL,
         false, false, NULL},
        {"no such list", conf_id, p + 5, 0, NULL, "Day 9", false, NULL, NULL, false, false, NULL},
        {"not a ticket", 0, 0, 0, "HELLO", "Day 1", false, NULL, NULL, false, false, NULL},
        {"damaged", 0, 0, 0, "AD1:NOT A TICKET", "Day 1", false, NULL, NULL, false, false, NULL},
        {"inside already", conf_id, p + 6, 0, NULL, "Day 1", false, NULL, NULL, true, false, NULL},
        {"an exit of someone inside", conf_id, p + 7, 0, NULL, "Day 1", true, NULL, NULL, true,
         false, NULL},
        {"an exit of someone not inside", conf_id, p + 8, 0, NULL, "Day 1", true, NULL, NULL, false,
         false, NULL},
        {"back in after going out", conf_id, p + 9, 0, NULL, "Day 1", false, NULL, NULL, true, true,
         NULL},
        {"no such registration", conf_id, 99999999, 0, NULL, "Day 1", false, NULL, NULL, false,
         false, "valid/"},
        {"a ticket newer than its registration", conf_id, p + 11, 3, NULL, "Day 1", false, NULL,
         NULL, false, false, "valid/"},
        {"cancelled since the sync", conf_id, p + 12, 0, NULL, "Day 1", false, NULL,
         "UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = REG",
         false, false, "valid/"},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        run(&scenarios[i]);
    /* The first scenario's person is in: the server says so, as the door would now. */
    json_t *again = online(conf_id, p, 0, NULL, "Day 1", false);
    assert_verdict(again, "already_checked_in", "");
    json_decref(again);
    admit_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_verdicts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
