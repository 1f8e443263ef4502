/* A scanner session (lib/scan_session*.c) against a fake check-in API in threads: setting up from
 * a token, online answers, going offline when the server stops answering, refusing a second
 * entry offline, finding the server again and uploading what it missed, a restart that forgets
 * nothing, a server that hangs (the scan waits its budget once, then never), a scanner that
 * never synced, list names as people type them, and the configuration errors a door operator
 * can make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admit/checkin/checkin.h"
#include "admit/core/keys.h"
#include "admit/door/scan_session.h"
#include "admit/core/ticket.h"
#include "test_scan_fake_api.h"
#include "test_key.h"

#define TOKEN "abcdefghijklmnopqrstuA"
#define EVENT 7

enum mode { UP, DOWN, REFUSE, HANG };

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
    if (t.attendee_id == 1) { /* as admitd answers: the name the door shows */
        json_object_set_new(a, "name", json_string("Ada Lovelace"));
        json_object_set_new(a, "organisation", json_string("Engines"));
    }
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
    if (world.mode == HANG) {
        res->status = -1; /* accepted, never answered */
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
        const char *payload = json_string_value(json_object_get(body, "payload"));
        /* A scan the server refuses as a request (as admitd refuses a nonce reused for
         * another scan): 409 and its error, nothing recorded. */
        if (payload != NULL && strcmp(payload, "REUSED") == 0) {
            res->status = 409;
            out = json_pack("{s:O, s:{s:i, s:s, s:s}}", "nonce", json_object_get(body, "nonce"),
                            "error", "status", 409, "code", "nonce_reused", "message", "no");
            json_decref(body);
            goto done;
        }
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
    if (test_key_setup(&key, &ring) != 0)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
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
    json_decref(world.received);
    json_decref(world.answers);
    test_key_teardown(&key, &ring);
    curl_global_cleanup();
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

struct events {
    int connected, offline, online, uploaded, warnings;
};

static void on_event(void *ctx, enum admit_scan_event event, const char *detail)
{
    struct events *e = ctx;
    (void)detail;
    e->connected += event == ADMIT_SCAN_EVENT_CONNECTED;
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

/* One scan: its answer as --json prints it, after checking that the typed fields say the same. */
static json_t *scan(struct admit_scan_session *s, const char *line)
{
    struct admit_scan_answer a;
    assert_int_equal(admit_scan_session_scan(s, line, strlen(line), &a), ADMIT_OK);
    json_t *j = json_incref(a.json);
    const char *v = json_string_value(json_object_get(j, "verdict"));
    if (a.error_code == NULL)
        assert_int_equal(a.verdict, admit_verdict_parse(v));
    else
        assert_null(v);
    assert_int_equal(a.offline, json_is_true(json_object_get(j, "offline")));
    assert_string_equal(a.nonce, json_string_value(json_object_get(j, "nonce")));
    const char *name = json_string_value(json_object_get(j, "name"));
    assert_string_equal(a.name, name ? name : "");
    admit_scan_answer_free(&a);
    return j;
}

static const char *verdict(const json_t *a)
{
    return json_string_value(json_object_get(a, "verdict"));
}

static long long clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Lets the background work run (as admit scan does between tickets) until done() holds or
 * max_ms passed; returns the last result of admit_scan_session_run. */
static enum admit_rc run_until(struct admit_scan_session *s,
                               bool (*done)(struct admit_scan_session *), long max_ms)
{
    long long deadline = clock_ms() + max_ms;
    bool ready;
    enum admit_rc rc = ADMIT_OK;
    while (!done(s) && clock_ms() < deadline && rc == ADMIT_OK)
        rc = admit_scan_session_run(s, -1, 50, &ready, NULL);
    return rc;
}

/* Lets the background work run until it stops the session (or max_ms pass); returns why, with
 * the message in err. */
static enum admit_rc run_until_error(struct admit_scan_session *s, struct admit_error *err,
                                     long max_ms)
{
    long long deadline = clock_ms() + max_ms;
    bool ready;
    enum admit_rc rc = ADMIT_OK;
    admit_error_clear(err);
    while (rc == ADMIT_OK && clock_ms() < deadline)
        rc = admit_scan_session_run(s, -1, 50, &ready, err);
    return rc;
}

static bool is_online(struct admit_scan_session *s)
{
    return admit_scan_session_online(s);
}

static bool is_synced(struct admit_scan_session *s)
{
    return admit_scan_session_synced(s);
}

static bool never(struct admit_scan_session *s)
{
    (void)s;
    return false;
}

static char ticket_a[ADMIT_TICKET_TEXT_MAX], ticket_b[ADMIT_TICKET_TEXT_MAX];

static void test_set_up_online(void **state)
{
    struct admit_scan_session *s = NULL;
    char path[512];
    struct admit_error err;
    struct stat sb;
    (void)state;
    assert_int_equal(admit_ticket_sign(&key, EVENT, 1, 0, ticket_a), ADMIT_OK);
    assert_int_equal(admit_ticket_sign(&key, EVENT, 2, 0, ticket_b), ADMIT_OK);
    struct admit_scan_config cfg = config(TOKEN);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_string_equal(admit_scan_session_event(s), "conf");
    assert_string_equal(admit_scan_session_gate(s), "Gate F"); /* the device's name */
    assert_false(admit_scan_session_online(s));                /* not before the server answers */
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
    struct admit_scan_answer blank = {.json = NULL};
    assert_int_equal(admit_scan_session_scan(s, " \r", 2, &blank), ADMIT_ERR_NOT_FOUND);
    assert_null(blank.json);
    /* Bytes no ticket has are kept out of the journal's JSON. */
    a = scan(s, "\xff\xfe\x01junk");
    assert_string_equal(verdict(a), "invalid");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 0);
    assert_int_equal(received(), 3);
    assert_true(admit_scan_session_online(s));
    /* A scan the server refuses as a request: an error, not a verdict, and never sent again. */
    a = scan(s, "REUSED");
    assert_null(json_object_get(a, "verdict"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "code")),
                        "nonce_reused");
    assert_true(json_is_false(json_object_get(a, "offline")));
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 0);
    assert_true(admit_scan_session_online(s));
    assert_int_equal(run_until(s, is_synced, 5000), ADMIT_OK);
    assert_true(admit_scan_session_synced(s));

    /* One process per state folder. */
    struct admit_scan_session *second = NULL;
    cfg = config(NULL);
    assert_int_equal(admit_scan_session_open(&cfg, true, &second, &err), ADMIT_ERR_STATE);
    assert_non_null(strstr(err.message, "another admit scan"));
    admit_scan_session_close(s);
}

static void test_offline_and_back(void **state)
{
    struct admit_scan_session *s = NULL;
    struct admit_error err;
    (void)state;
    struct admit_scan_config cfg = config(NULL); /* the stored token */
    memset(&events, 0, sizeof events);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
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
    /* The background tries again while the server is down: nothing reaches it. */
    assert_int_equal(run_until(s, never, 300), ADMIT_OK);
    assert_int_equal(received(), before);
    assert_false(admit_scan_session_online(s));

    set_mode(UP);
    assert_int_equal(run_until(s, is_online, 20000), ADMIT_OK);
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

/* The journal keeps no name nor organisation, online or offline: the door shows them, from the
 * server's answer or the snapshot, and forgets them (README.md, "Personal data"). */
static void test_journal_holds_no_names(void **state)
{
    struct admit_scan_session *s = NULL;
    struct admit_error err;
    char path[600];
    (void)state;
    struct admit_scan_config cfg = config(NULL);
    set_mode(UP);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    json_t *a = scan(s, ticket_a); /* online: the server's answer names Ada */
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Ada Lovelace");
    json_decref(a);
    set_mode(DOWN);
    a = scan(s, ticket_a); /* offline: the snapshot names her */
    assert_true(json_is_true(json_object_get(a, "offline")));
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Ada Lovelace");
    json_decref(a);
    set_mode(UP);
    struct admit_error why;
    assert_int_equal(admit_scan_session_upload(s, NULL, NULL, 5000, &why), ADMIT_SCAN_LINK_OK);
    snprintf(path, sizeof path, "%s/journal.jsonl", admit_scan_session_dir(s));
    admit_scan_session_close(s);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lines++;
        if (strstr(line, "Lovelace") != NULL)
            fail_msg("%s", line);
        assert_null(strstr(line, "Engines"));
    }
    fclose(f);
    assert_true(lines >= 4);
}

static void test_restart_forgets_nothing(void **state)
{
    struct admit_scan_session *s = NULL;
    char ticket_c[ADMIT_TICKET_TEXT_MAX];
    struct admit_error err;
    (void)state;
    struct admit_scan_config cfg = config(NULL);
    set_mode(DOWN);
    memset(&events, 0, sizeof events);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_false(admit_scan_session_online(s)); /* started offline, from the last sync */
    assert_int_equal(admit_ticket_sign(&key, EVENT, 3, 0, ticket_c), ADMIT_OK);
    json_t *a = scan(s, ticket_c);
    assert_string_equal(verdict(a), "valid");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 1);
    admit_scan_session_close(s); /* as if killed: nothing uploaded */

    s = NULL;
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_int_equal(admit_scan_session_pending(s), 1);
    a = scan(s, ticket_c);
    assert_string_equal(verdict(a), "already_checked_in");
    json_decref(a);
    assert_int_equal(admit_scan_session_pending(s), 2);
    struct admit_error why;
    assert_int_equal(admit_scan_session_upload(s, NULL, NULL, 5000, &why), ADMIT_SCAN_LINK_DOWN);
    /* A server that hangs: the upload ends at its total time limit, and says so. */
    set_mode(HANG);
    long long t0 = clock_ms();
    assert_int_equal(admit_scan_session_upload(s, NULL, NULL, 400, &why), ADMIT_SCAN_LINK_DOWN);
    assert_true(clock_ms() - t0 < 1500);
    assert_non_null(strstr(why.message, "no answer within"));
    t0 = clock_ms();
    assert_int_equal(admit_scan_session_sync(s, 300, &why), ADMIT_SCAN_LINK_DOWN);
    assert_true(clock_ms() - t0 < 1500);
    assert_int_equal(admit_scan_session_pending(s), 2);
    set_mode(UP);
    assert_int_equal(admit_scan_session_upload(s, NULL, NULL, 5000, &why), ADMIT_SCAN_LINK_OK);
    assert_int_equal(admit_scan_session_pending(s), 0);
    assert_int_equal(admit_scan_session_sync(s, 5000, &why), ADMIT_SCAN_LINK_OK);
    size_t regs = 0, adms = 0;
    admit_scan_session_counts(s, &regs, &adms);
    assert_int_equal(regs, 1);
    admit_scan_session_close(s);
    admit_scan_session_close(NULL);
}

static void test_configuration_errors(void **state)
{
    struct admit_scan_session *s = NULL;
    struct admit_error err;
    (void)state;
    struct admit_scan_config cfg = config(NULL);
    cfg.list = "Day 9";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_INVALID);
    assert_string_equal(err.message,
                        "event conf has no check-in list \"Day 9\" (its lists: 1. \"Day 1\", "
                        "2. \"Day 2\")");
    cfg = config(NULL);
    cfg.server = "ftp://x";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_INVALID);
    cfg = config("short");
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_INVALID);
    cfg = config("ZYXWVUTSRQPONMLKJIHGFA"); /* well-formed, refused by the server */
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_PERMISSION);
    assert_null(strstr(err.message, "ZYXWVUTSRQPONMLKJIHGFA"));
    cfg = config(NULL);
    cfg.event = "unknown";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_INVALID);
    assert_non_null(strstr(err.message, "no scanner is set up here for event unknown"));
    /* Another state root: nothing set up, and no server to ask. */
    char other[300];
    snprintf(other, sizeof other, "%s/other", root);
    cfg = config(NULL);
    cfg.state_root = other;
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_INVALID);
    assert_non_null(strstr(err.message, "give the device token once"));
    set_mode(DOWN);
    cfg = config(TOKEN);
    cfg.state_root = other;
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "connect once first"));
    set_mode(UP);
    /* A revoked token at start: the door opens from its disk, and the first answer stops it. */
    set_mode(REFUSE);
    cfg = config(NULL);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_int_equal(run_until_error(s, &err, 5000), ADMIT_ERR_PERMISSION);
    assert_non_null(strstr(err.message, "refused this device token"));
    admit_scan_session_close(s);
    set_mode(UP);
    /* A token refused in the middle of the day: the scan says so. */
    cfg = config(NULL);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    set_mode(REFUSE);
    struct admit_scan_answer a = {.json = NULL};
    assert_int_equal(admit_scan_session_scan(s, ticket_a, strlen(ticket_a), &a),
                     ADMIT_ERR_PERMISSION);
    assert_null(a.json);
    set_mode(UP);
    admit_scan_session_close(s);
}

/* A server that accepts and never answers: the first scan waits its budget, the next ones are
 * decided at once, and the background finds the server when it is back. The budget is wide (1.5 s)
 * so that "at once" has a margin a loaded machine cannot eat: a journal fsync under a busy disk and
 * a sanitizer may take a few hundred milliseconds, a scan that waited on the network takes the
 * whole budget. */
static void test_hung_server(void **state)
{
    enum { BUDGET = 1500 };
    struct admit_scan_session *s = NULL;
    char ticket[ADMIT_TICKET_TEXT_MAX];
    struct admit_error err;
    (void)state;
    set_mode(UP);
    struct admit_scan_config cfg = config(NULL);
    cfg.timeout_ms = BUDGET;
    memset(&events, 0, sizeof events);
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_int_equal(run_until(s, is_online, 5000), ADMIT_OK);
    set_mode(HANG);
    assert_int_equal(admit_ticket_sign(&key, EVENT, 40, 0, ticket), ADMIT_OK);
    long long t0 = clock_ms();
    json_t *a = scan(s, ticket);
    long first = (long)(clock_ms() - t0);
    assert_true(json_is_true(json_object_get(a, "offline")));
    assert_string_equal(verdict(a), "valid");
    json_decref(a);
    assert_true(first >= BUDGET - 100 && first < BUDGET + 1500);
    for (unsigned i = 41; i < 51; i++) {
        assert_int_equal(admit_ticket_sign(&key, EVENT, i, 0, ticket), ADMIT_OK);
        t0 = clock_ms();
        a = scan(s, ticket);
        assert_true(clock_ms() - t0 < BUDGET / 3); /* local work only, never the network */
        assert_true(json_is_true(json_object_get(a, "offline")));
        json_decref(a);
        /* Between tickets the background tries the server, which hangs: the loop never waits. */
        t0 = clock_ms();
        assert_int_equal(run_until(s, never, 100), ADMIT_OK);
        assert_true(clock_ms() - t0 < BUDGET / 2);
    }
    assert_int_equal(admit_scan_session_pending(s), 11);
    set_mode(UP);
    assert_int_equal(run_until(s, is_online, 20000), ADMIT_OK);
    assert_int_equal(admit_scan_session_pending(s), 0);
    assert_int_equal(events.online, 1);
    admit_scan_session_close(s);
}

/* A door set up with --event and never synced starts anyway, says every ticket cannot be
 * checked while the server is away, and checks its list once the first sync arrives. */
static void test_never_synced(void **state)
{
    struct admit_scan_session *s = NULL;
    char other[300];
    struct admit_error err;
    (void)state;
    snprintf(other, sizeof other, "%s/never", root);
    set_mode(DOWN);
    struct admit_scan_config cfg = config(TOKEN);
    cfg.state_root = other;
    cfg.event = "conf";
    cfg.list = "day 1"; /* as typed: checked at the first sync */
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_false(admit_scan_session_synced(s));
    json_t *a = scan(s, ticket_a);
    assert_string_equal(verdict(a), "invalid");
    assert_string_equal(json_string_value(json_object_get(a, "reason")), "no_keys");
    json_decref(a);
    set_mode(UP);
    assert_int_equal(run_until(s, is_online, 20000), ADMIT_OK);
    assert_true(admit_scan_session_synced(s));
    assert_string_equal(admit_scan_session_list(s), "Day 1");
    assert_int_equal(admit_scan_session_pending(s), 0);
    /* The scan journaled before the sync reached the server under the list's own name. */
    pthread_mutex_lock(&world.lock);
    json_t *last = json_array_get(world.received, json_array_size(world.received) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "list")), "Day 1");
    pthread_mutex_unlock(&world.lock);
    admit_scan_session_close(s);

    /* A list the first sync does not know ends the session with the lists it has. */
    char again[300];
    snprintf(again, sizeof again, "%s/never2", root);
    cfg.state_root = again;
    cfg.list = "Day 7";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
    assert_int_equal(run_until_error(s, &err, 10000), ADMIT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no check-in list \"Day 7\""));
    admit_scan_session_close(s);
}

/* --list as people type it: any case, a hyphen for an en dash, or the list's number. */
static void test_list_as_typed(void **state)
{
    struct admit_scan_session *s = NULL;
    struct admit_error err;
    (void)state;
    static const struct {
        const char *typed, *list;
    } cases[] = {{"day 1", "Day 1"}, {"  DAY   2 ", "Day 2"}, {"2", "Day 2"}, {"1", "Day 1"}};
    set_mode(UP); /* whatever a failed test before left */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct admit_scan_config cfg = config(NULL);
        cfg.list = cases[i].typed;
        assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_OK);
        assert_string_equal(admit_scan_session_list(s), cases[i].list);
        admit_scan_session_close(s);
    }
    struct admit_scan_config cfg = config(NULL);
    cfg.list = "3";
    assert_int_equal(admit_scan_session_open(&cfg, true, &s, &err), ADMIT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_up_online),
        cmocka_unit_test(test_offline_and_back),
        cmocka_unit_test(test_journal_holds_no_names),
        cmocka_unit_test(test_restart_forgets_nothing),
        cmocka_unit_test(test_configuration_errors),
        cmocka_unit_test(test_hung_server),
        cmocka_unit_test(test_never_synced),
        cmocka_unit_test(test_list_as_typed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
