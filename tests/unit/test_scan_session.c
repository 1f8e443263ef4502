/* A scanner session (lib/scan_session.c) against a fake check-in API in a thread: setting up from
 * a token, online answers, going offline when the server stops answering, refusing a second
 * entry offline, finding the server again and uploading what it missed, a restart that forgets
 * nothing, and the configuration errors a door operator can make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admit/checkin.h"
#include "admit/keys.h"
#include "admit/scan_session.h"
#include "admit/ticket.h"
#include "test_scan_fake_api.h"

#define TOKEN "abcdefghijklmnopqrstuA"
#define EVENT 7

enum mode { UP, DOWN, REFUSE };

/* The fake server's world. */
static struct {
    pthread_mutex_t lock;
    enum mode mode;
    json_t *admitted; /* registration id -> admission (as the sync sends it) */
    json_t *received; /* every scan posted, in order */
    json_t *answers;  /* nonce -> answer, for replays */
} world = {PTHREAD_MUTEX_INITIALIZER, UP, NULL, NULL, NULL};

static struct admit_signing_key key;
static struct admit_keyring ring;
static struct fake_api api;
static char root[256];

static json_t *snapshot_json(void)
{
    char id[ADMIT_KEY_ID_STRLEN], hex[ADMIT_KEY_PUBLIC_HEXLEN];
    struct admit_public_key pub = {.key_id = key.key_id};
    memcpy(pub.pk, key.pk, 32);
    admit_key_id_format(key.key_id, id);
    admit_key_public_format(&pub, hex);
    json_t *admissions = json_array();
    const char *reg;
    json_t *a;
    json_object_foreach(world.admitted, reg, a)
    {
        json_array_append(admissions, a);
    }
    return json_pack("{s:{s:i, s:s}, s:{s:i, s:s}, s:s, s:b, s:[{s:s, s:s}], "
                     "s:[{s:i, s:s}, {s:i, s:s}], s:[{s:i, s:s, s:i, s:s, s:s, s:[i]}], s:o}",
                     "event", "id", EVENT, "slug", "conf", "device", "id", 1, "name", "Gate F",
                     "cursor", "5:5:", "full", 1, "keys", "key_id", id, "public_key", hex, "lists",
                     "id", 11, "name", "Day 1", "id", 12, "name", "Day 2", "registrations", "id", 1,
                     "status", "confirmed", "reissue", 0, "name", "Ada Lovelace", "organisation",
                     "Engines", "lists", 11, "admissions", admissions);
}

/* The answer to one posted scan: the first entry of a ticket is valid, later ones are
 * duplicates; a nonce seen before gets its first answer again. */
static json_t *answer_scan(json_t *scan)
{
    const char *nonce = json_string_value(json_object_get(scan, "nonce"));
    const char *payload = json_string_value(json_object_get(scan, "payload"));
    json_t *old = json_object_get(world.answers, nonce);
    if (old != NULL)
        return json_incref(old);
    struct admit_ticket t;
    char id[16];
    json_array_append(world.received, scan);
    if (admit_ticket_verify(payload, strlen(payload), &ring, &t) != ADMIT_TICKET_VALID) {
        json_t *a = json_pack("{s:s, s:s, s:s}", "nonce", nonce, "verdict", "invalid", "reason",
                              "not_a_ticket");
        json_object_set(world.answers, nonce, a);
        return a;
    }
    snprintf(id, sizeof id, "%u", t.attendee_id);
    json_t *first = json_object_get(world.admitted, id);
    json_t *a = json_pack("{s:s, s:s, s:s, s:i}", "nonce", nonce, "verdict",
                          first ? "already_checked_in" : "valid", "reason", "", "registration_id",
                          (int)t.attendee_id);
    if (first != NULL) {
        json_object_set(a, "first_at", json_object_get(first, "first_at"));
        json_object_set(a, "first_gate", json_object_get(first, "first_gate"));
    } else {
        json_object_set_new(world.admitted, id,
                            json_pack("{s:i, s:i, s:s, s:s, s:b}", "registration_id",
                                      (int)t.attendee_id, "list_id", 11, "first_at",
                                      "2027-10-29T08:00:00.000Z", "first_gate", "Gate Z", "inside",
                                      1));
    }
    json_object_set(world.answers, nonce, a);
    return a;
}

static void handler(void *ctx, const struct fake_request *req, struct fake_response *res)
{
    json_error_t jerr;
    json_t *out = NULL;
    (void)ctx;
    pthread_mutex_lock(&world.lock);
    res->status = 200;
    if (world.mode == DOWN) {
        res->status = 503;
        goto done;
    }
    if (world.mode == REFUSE || strcmp(req->authorization, "Bearer " TOKEN) != 0) {
        res->status = 401;
        out = json_pack("{s:{s:s, s:s}}", "error", "code", "unauthorized", "message", "no");
        goto done;
    }
    if (strcmp(req->path, "/api/v1/device") == 0) {
        out = json_pack("{s:{s:i, s:s}, s:{s:i, s:s}}", "device", "id", 1, "name", "Gate F",
                        "event", "id", EVENT, "slug", "conf");
    } else if (strncmp(req->path, "/api/v1/events/conf/sync", 24) == 0) {
        out = snapshot_json();
    } else if (strcmp(req->path, "/api/v1/checkins") == 0) {
        json_t *body = json_loads(req->body, 0, &jerr);
        json_t *scans = json_object_get(body, "scans");
        if (scans != NULL) {
            size_t i;
            json_t *scan;
            out = json_pack("{s:[]}", "results");
            json_array_foreach(scans, i, scan)
            {
                json_array_append_new(json_object_get(out, "results"), answer_scan(scan));
            }
        } else {
            out = answer_scan(body);
        }
        json_decref(body);
    } else {
        res->status = 404;
    }
done:
    if (out != NULL) {
        res->body = json_dumps(out, JSON_COMPACT);
        json_decref(out);
    }
    pthread_mutex_unlock(&world.lock);
}

static void set_mode(enum mode m)
{
    pthread_mutex_lock(&world.lock);
    world.mode = m;
    pthread_mutex_unlock(&world.lock);
}

static size_t received(void)
{
    pthread_mutex_lock(&world.lock);
    size_t n = json_array_size(world.received);
    pthread_mutex_unlock(&world.lock);
    return n;
}

static int setup(void **state)
{
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    admit_key_generate(&key);
    admit_keyring_init(&ring);
    admit_keyring_add_public_of(&ring, &key);
    world.admitted = json_object();
    world.received = json_array();
    world.answers = json_object();
    fake_api_start(&api, handler, NULL);
    snprintf(root, sizeof root, "/tmp/admit-test-scan-session-%ld", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    fake_api_stop(&api);
    json_decref(world.admitted);
    admit_keyring_free(&ring);
    json_decref(world.received);
    json_decref(world.answers);
    admit_key_wipe(&key);
    curl_global_cleanup();
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

struct events {
    int offline, online, uploaded, warnings;
};

static void on_event(void *ctx, enum admit_scan_event event, const char *detail)
{
    struct events *e = ctx;
    (void)detail;
    e->offline += event == ADMIT_SCAN_EVENT_OFFLINE;
    e->online += event == ADMIT_SCAN_EVENT_ONLINE;
    e->uploaded += event == ADMIT_SCAN_EVENT_UPLOADED;
    e->warnings += event == ADMIT_SCAN_EVENT_WARNING;
}

static char server_url[64];
static struct events events;

static struct admit_scan_config config(const char *token)
{
    fake_api_url(&api, server_url, sizeof server_url);
    struct admit_scan_config cfg = {.server = server_url,
                                    .token = token,
                                    .list = "Day 1",
                                    .timeout_ms = 2000,
                                    .state_root = root,
                                    .notify = on_event,
                                    .notify_ctx = &events};
    return cfg;
}

static json_t *scan(struct admit_scan_session *s, const char *line)
{
    json_t *answer = NULL;
    assert_int_equal(admit_scan_session_scan(s, line, strlen(line), &answer), ADMIT_OK);
    return answer;
}

static const char *verdict(const json_t *a)
{
    return json_string_value(json_object_get(a, "verdict"));
}

static char ticket_a[ADMIT_TICKET_TEXT_MAX], ticket_b[ADMIT_TICKET_TEXT_MAX];

static void test_set_up_online(void **state)
{
    struct admit_scan_session *s = NULL;
    char err[512], path[512];
    struct stat sb;
    (void)state;
    assert_int_equal(admit_ticket_sign(&key, EVENT, 1, 0, ticket_a), ADMIT_OK);
    assert_int_equal(admit_ticket_sign(&key, EVENT, 2, 0, ticket_b), ADMIT_OK);
    struct admit_scan_config cfg = config(TOKEN);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_OK);
    assert_string_equal(admit_scan_session_event(s), "conf");
    assert_string_equal(admit_scan_session_gate(s), "Gate F"); /* the device's name */
    assert_true(admit_scan_session_online(s));
    snprintf(path, sizeof path, "%s/127.0.0.1_%d_conf/token", root, api.port);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    *strrchr(path, '/') = '\0';
    assert_string_equal(admit_scan_session_dir(s), path);

    json_t *a = scan(s, ticket_a);
    assert_string_equal(verdict(a), "valid");
    assert_true(json_is_false(json_object_get(a, "offline")));
    assert_string_equal(json_string_value(json_object_get(a, "list")), "Day 1");
    assert_string_equal(json_string_value(json_object_get(a, "direction")), "entry");
    assert_true(admit_checkin_time_valid(json_string_value(json_object_get(a, "scanned_at"))));
    json_decref(a);
    /* What a keyboard wedge types: normalised before it is sent. */
    char typed[200];
    snprintf(typed, sizeof typed, "  %s\r", ticket_a);
    for (char *p = typed; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    a = scan(s, typed);
    assert_string_equal(verdict(a), "already_checked_in");
    json_decref(a);
    json_t *blank = NULL;
    assert_int_equal(admit_scan_session_scan(s, " \r", 2, &blank), ADMIT_ERR_NOT_FOUND);
    assert_null(blank);
    /* Bytes no ticket has are kept out of the journal's JSON. */
    a = scan(s, "\xff\xfe\x01junk");
    assert_string_equal(verdict(a), "invalid");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 0);
    assert_int_equal(received(), 3);

    /* One process per state folder. */
    struct admit_scan_session *second = NULL;
    cfg = config(NULL);
    assert_int_equal(admit_scan_session_open(&cfg, true, &second, err, sizeof err),
                     ADMIT_ERR_STATE);
    assert_non_null(strstr(err, "another admit scan"));
    admit_scan_session_close(s);
}

static void test_offline_and_back(void **state)
{
    struct admit_scan_session *s = NULL;
    char err[512];
    (void)state;
    struct admit_scan_config cfg = config(NULL); /* the stored token */
    memset(&events, 0, sizeof events);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_OK);
    set_mode(DOWN);
    size_t before = received();
    json_t *a = scan(s, ticket_b);
    assert_string_equal(verdict(a), "valid");
    assert_true(json_is_true(json_object_get(a, "offline")));
    assert_null(json_object_get(a, "name")); /* registered after the last sync */
    json_decref(a);
    assert_false(admit_scan_session_online(s));
    assert_int_equal(events.offline, 1);
    a = scan(s, ticket_b); /* a second entry at this door, offline */
    assert_string_equal(verdict(a), "already_checked_in");
    assert_string_equal(json_string_value(json_object_get(a, "first_gate")), "Gate F");
    json_decref(a);
    a = scan(s, ticket_a); /* admitted online earlier */
    assert_string_equal(verdict(a), "already_checked_in");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 3);
    /* Not yet time to try again: nothing is sent. */
    assert_true(admit_scan_session_wait_ms(s) > 0);
    assert_int_equal(admit_scan_session_tick(s), ADMIT_OK);
    assert_int_equal(received(), before);

    set_mode(UP);
    for (int i = 0; i < 100 && !admit_scan_session_online(s); i++) {
        fake_sleep_ms(admit_scan_session_wait_ms(s) + 10);
        assert_int_equal(admit_scan_session_tick(s), ADMIT_OK);
    }
    assert_true(admit_scan_session_online(s));
    assert_int_equal(events.online, 1);
    assert_int_equal(events.uploaded, 1);
    assert_int_equal(admit_scan_session_pending(s), 0);
    pthread_mutex_lock(&world.lock);
    size_t n = json_array_size(world.received);
    assert_int_equal(n, before + 3);
    json_t *first = json_array_get(world.received, before);
    assert_true(json_is_true(json_object_get(first, "offline")));
    assert_string_equal(json_string_value(json_object_get(first, "door_verdict")), "valid");
    json_t *second = json_array_get(world.received, before + 1);
    assert_string_equal(json_string_value(json_object_get(second, "door_verdict")),
                        "already_checked_in");
    pthread_mutex_unlock(&world.lock);
    /* Online again: answers come from the server. */
    a = scan(s, ticket_b);
    assert_true(json_is_false(json_object_get(a, "offline")));
    assert_string_equal(verdict(a), "already_checked_in");
    json_decref(a);
    admit_scan_session_close(s);
}

static void test_restart_forgets_nothing(void **state)
{
    struct admit_scan_session *s = NULL;
    char err[512], ticket_c[ADMIT_TICKET_TEXT_MAX];
    (void)state;
    struct admit_scan_config cfg = config(NULL);
    set_mode(DOWN);
    memset(&events, 0, sizeof events);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_OK);
    assert_false(admit_scan_session_online(s)); /* started offline, from the last sync */
    assert_int_equal(admit_ticket_sign(&key, EVENT, 3, 0, ticket_c), ADMIT_OK);
    json_t *a = scan(s, ticket_c);
    assert_string_equal(verdict(a), "valid");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 1);
    admit_scan_session_close(s); /* as if killed: nothing uploaded */

    s = NULL;
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_OK);
    assert_int_equal(admit_scan_session_pending(s), 1);
    a = scan(s, ticket_c);
    assert_string_equal(verdict(a), "already_checked_in");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 2);
    char why[256];
    assert_int_equal(admit_scan_session_upload(s, NULL, NULL, why, sizeof why),
                     ADMIT_SCAN_LINK_DOWN);
    set_mode(UP);
    assert_int_equal(admit_scan_session_upload(s, NULL, NULL, why, sizeof why), ADMIT_SCAN_LINK_OK);
    assert_int_equal(admit_scan_session_pending(s), 0);
    assert_int_equal(admit_scan_session_sync(s, why, sizeof why), ADMIT_SCAN_LINK_OK);
    size_t regs = 0, adms = 0;
    admit_scan_session_counts(s, &regs, &adms);
    assert_int_equal(regs, 1);
    admit_scan_session_close(s);
    admit_scan_session_close(NULL);
}

static void test_configuration_errors(void **state)
{
    struct admit_scan_session *s = NULL;
    char err[512];
    (void)state;
    struct admit_scan_config cfg = config(NULL);
    cfg.list = "Day 9";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_ERR_INVALID);
    assert_string_equal(err, "event conf has no check-in list \"Day 9\" (its lists: \"Day 1\", "
                             "\"Day 2\")");
    cfg = config(NULL);
    cfg.server = "ftp://x";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_ERR_INVALID);
    cfg = config("short");
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_ERR_INVALID);
    cfg = config("ZYXWVUTSRQPONMLKJIHGFA"); /* well-formed, refused by the server */
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err),
                     ADMIT_ERR_PERMISSION);
    assert_null(strstr(err, "ZYXWVUTSRQPONMLKJIHGFA"));
    cfg = config(NULL);
    cfg.event = "unknown";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_ERR_INVALID);
    assert_non_null(strstr(err, "no scanner is set up here for event unknown"));
    /* Another state root: nothing set up, and no server to ask. */
    char other[300];
    snprintf(other, sizeof other, "%s/other", root);
    cfg = config(NULL);
    cfg.state_root = other;
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_ERR_INVALID);
    assert_non_null(strstr(err, "give the device token once"));
    set_mode(DOWN);
    cfg = config(TOKEN);
    cfg.state_root = other;
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "connect once first"));
    set_mode(UP);
    /* A revoked token at start. */
    set_mode(REFUSE);
    cfg = config(NULL);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err),
                     ADMIT_ERR_PERMISSION);
    set_mode(UP);
    /* A token refused in the middle of the day: the scan says so. */
    cfg = config(NULL);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, err, sizeof err), ADMIT_OK);
    set_mode(REFUSE);
    json_t *a = NULL;
    assert_int_equal(admit_scan_session_scan(s, ticket_a, strlen(ticket_a), &a),
                     ADMIT_ERR_PERMISSION);
    assert_null(a);
    set_mode(UP);
    admit_scan_session_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_up_online),
        cmocka_unit_test(test_offline_and_back),
        cmocka_unit_test(test_restart_forgets_nothing),
        cmocka_unit_test(test_configuration_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
