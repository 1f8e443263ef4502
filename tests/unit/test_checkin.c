/* The check-in API's pure parts (lib/checkin/checkin.c, lib/checkin/device.c): the request parser
 * and every code it refuses with, preparing scans (signature checks, normalisation), times,
 * cursors, verdict names and reasons, bearer headers, token hashes and device names. The SQL side
 * is test_pg_checkin.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/checkin/checkin.h"
#include "admit/checkin/device.h"
#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "test_key.h"

static struct admit_signing_key key;
static struct admit_keyring ring;

static int setup(void **state)
{
    (void)state;
    return test_key_setup(&key, &ring);
}

static int teardown(void **state)
{
    (void)state;
    test_key_teardown(&key, &ring);
    return 0;
}

static void test_verdict_names(void **state)
{
    (void)state;
    static const char *const names[] = {"valid",      "already_checked_in", "revoked",
                                        "waitlisted", "not_on_list",        "wrong_event",
                                        "invalid"};
    for (int i = 0; i < ADMIT_VERDICT_COUNT; i++) {
        assert_string_equal(admit_verdict_name((enum admit_verdict)i), names[i]);
        assert_int_equal(admit_verdict_parse(names[i]), i);
    }
    assert_int_equal(admit_verdict_parse("VALID"), -1);
    assert_int_equal(admit_verdict_parse(""), -1);
    assert_int_equal(admit_verdict_parse(NULL), -1);
    assert_string_equal(admit_checkin_reason_text("cancelled"), "registration cancelled");
    assert_string_equal(admit_checkin_reason_text("bad_signature"),
                        admit_ticket_strerror(ADMIT_TICKET_BAD_SIGNATURE));
    assert_string_equal(admit_checkin_reason_text("something_new"), "something_new");
    assert_string_equal(admit_checkin_reason_text(NULL), "");
}

static void test_times(void **state)
{
    (void)state;
    static const char *const good[] = {
        "2027-10-29T09:12:03Z",      "2027-10-29T09:12:03.120Z",  "2027-10-29t09:12:03z",
        "2027-10-29 09:12:03+02:00", "2028-02-29T00:00:00-11:30", "2000-02-29T23:59:59.123456789Z",
        "1900-01-01T00:00:00Z",      "9999-12-31T23:59:59Z",      "2027-10-29T09:12:03+14:00",
        "2027-10-29T09:12:03+15:59", "2027-10-29T09:12:03-15:59",
    };
    static const char *const bad[] = {
        "",
        "2027-10-29",
        "2027-10-29T09:12:03",  /* no offset */
        "2027-10-29T09:12Z",    /* no seconds */
        "2027-02-29T09:12:03Z", /* not a leap year */
        "1900-02-29T09:12:03Z", /* nor this */
        "2027-04-31T09:12:03Z",
        "2027-13-01T09:12:03Z",
        "2027-00-01T09:12:03Z",
        "2027-10-00T09:12:03Z",
        "2027-10-29T24:00:00Z",
        "2027-10-29T23:60:00Z",
        "2027-10-29T23:59:60Z", /* no leap seconds */
        "1899-12-31T23:59:59Z",
        "2027-10-29T09:12:03.Z",
        "2027-10-29T09:12:03.1234567890Z",
        "2027-10-29T09:12:03+2:00",
        "2027-10-29T09:12:03+24:00",
        "2027-10-29T09:12:03+16:00", /* PostgreSQL refuses offsets of 16 hours or more */
        "2027-10-29T09:12:03-16:00",
        "2027-10-29T09:12:03+23:59",
        "2027-10-29T09:12:03Z ",
        " 2027-10-29T09:12:03Z",
        "2027-1O-29T09:12:03Z",
        "+2027-10-29T09:12:03Z",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(admit_checkin_time_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (admit_checkin_time_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(admit_checkin_time_valid(NULL));
    char now[ADMIT_CHECKIN_TIME_SIZE];
    admit_checkin_time_now(now);
    assert_true(admit_checkin_time_valid(now));
    assert_int_equal(strlen(now), 24);
}

static void test_cursors(void **state)
{
    (void)state;
    static const char *const good[] = {"1:1:", "740:752:741,744,750", "740:752:740,740", "12:34:12",
                                       "9999999999999999999:9999999999999999999:"};
    static const char *const bad[] = {
        "",       "1:1",      "1::",     ":1:",    "1:1:,",
        "1:1:2,", "1:1:2,,3", "1:2:3:4", "a:1:",   "1:1: 2",
        "-1:1:",  "0:0:",     "0:5:",    "9:3:",   "5:9:4",
        "5:9:9",  "5:9:7,6",  "5:9:6,",  "5:9:,6", "1:99999999999999999999:",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(admit_checkin_cursor_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (admit_checkin_cursor_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(admit_checkin_cursor_valid(NULL));
    char long_cursor[8200];
    memset(long_cursor, '1', sizeof long_cursor - 1);
    long_cursor[sizeof long_cursor - 1] = '\0';
    long_cursor[1] = ':';
    long_cursor[3] = ':';
    assert_false(admit_checkin_cursor_valid(long_cursor)); /* over 8192 characters */
}

/* Parses text; on success returns the request (free it), else checks status and code. */
static void parse_ok(const char *text, struct admit_checkin_request *req)
{
    struct admit_error err;
    if (admit_checkin_parse(text, strlen(text), req, &err) != ADMIT_OK)
        fail_msg("refused %s: %s %s", text, err.code, err.message);
}

static void parse_refused(const char *text, size_t len, unsigned status, const char *code)
{
    struct admit_checkin_request req;
    struct admit_error err;
    if (admit_checkin_parse(text, len, &req, &err) != ADMIT_ERR_INVALID)
        fail_msg("accepted %.200s", text);
    if (admit_checkin_error_status(&err) != status || strcmp(err.code, code) != 0)
        fail_msg("%.200s: %u %s (%s), want %u %s", text, admit_checkin_error_status(&err), err.code,
                 err.message, status, code);
    assert_true(strlen(err.message) > 0);
    assert_null(req.root);
    assert_null(req.scans);
    assert_int_equal(req.count, 0);
    admit_checkin_request_free(&req);
}

#define REFUSED(text, status, code) parse_refused(text, sizeof(text) - 1, status, code)
#define SCAN                        "\"payload\":\"AD1:X\",\"list\":\"Day 1\",\"nonce\":\"abcdefgh\""

static void test_parse_single_and_batch(void **state)
{
    struct admit_checkin_request req;
    (void)state;
    parse_ok("{" SCAN "}", &req);
    assert_false(req.batch);
    assert_int_equal(req.count, 1);
    assert_string_equal(req.scans[0].payload, "AD1:X");
    assert_int_equal(req.scans[0].payload_len, 5);
    assert_string_equal(req.scans[0].list, "Day 1");
    assert_string_equal(req.scans[0].nonce, "abcdefgh");
    assert_null(req.scans[0].gate);
    assert_false(req.scans[0].exit);
    assert_false(req.scans[0].offline);
    assert_int_equal(req.scans[0].door_verdict, -1);
    assert_true(admit_checkin_time_valid(req.scans[0].scanned_at)); /* now, by default */
    admit_checkin_request_free(&req);

    parse_ok("{\"scans\":[{" SCAN ",\"direction\":\"exit\",\"gate\":\"North\","
             "\"scanned_at\":\"2027-10-29T09:12:03+02:00\",\"offline\":true,"
             "\"door_verdict\":\"already_checked_in\"},{" SCAN ",\"direction\":\"entry\","
             "\"gate\":\"\",\"offline\":false}]}",
             &req);
    assert_true(req.batch);
    assert_int_equal(req.count, 2);
    assert_true(req.scans[0].exit);
    assert_string_equal(req.scans[0].gate, "North");
    assert_string_equal(req.scans[0].scanned_at, "2027-10-29T09:12:03+02:00");
    assert_true(req.scans[0].offline);
    assert_int_equal(req.scans[0].door_verdict, ADMIT_VERDICT_ALREADY_CHECKED_IN);
    assert_false(req.scans[1].exit);
    assert_string_equal(req.scans[1].gate, "");
    admit_checkin_request_free(&req);

    /* Names count characters, not bytes: 100 "é" (200 bytes) is a valid list name. */
    char text[1024];
    char name[256] = "";
    for (int i = 0; i < 100; i++)
        strcat(name, "\xc3\xa9");
    snprintf(text, sizeof text, "{\"payload\":\"\",\"list\":\"%s\",\"nonce\":\"%s\"}", name,
             "n-_0123456789012345678901234567890123456789012345678901234567890");
    parse_ok(text, &req);
    assert_int_equal(strlen(req.scans[0].nonce), 64);
    admit_checkin_request_free(&req);
}

static void test_parse_refusals(void **state)
{
    char text[65536];
    (void)state;
    REFUSED("", 400, "invalid_json");
    REFUSED("{", 400, "invalid_json");
    REFUSED("{} x", 400, "invalid_json");
    REFUSED("\"scan\"", 400, "invalid_json");
    REFUSED("42", 400, "invalid_json");
    REFUSED("[]", 400, "not_an_object");
    REFUSED("[{" SCAN "}]", 400, "not_an_object");
    REFUSED("{" SCAN ",\"nonce\":\"abcdefgi\"}", 400, "invalid_json"); /* duplicate key */
    REFUSED("{\"payload\":\"a\\u0000b\",\"list\":\"L\",\"nonce\":\"abcdefgh\"}", 400,
            "invalid_json");
    REFUSED("{\"payload\":\"\xff\",\"list\":\"L\",\"nonce\":\"abcdefgh\"}", 400, "invalid_json");
    REFUSED("{" SCAN ",\"extra\":1}", 400, "unknown_field");
    REFUSED("{\"payload\":1,\"list\":\"L\",\"nonce\":\"abcdefgh\"}", 400, "wrong_type");
    REFUSED("{" SCAN ",\"offline\":\"true\"}", 400, "wrong_type");
    REFUSED("{" SCAN ",\"offline\":1}", 400, "wrong_type");
    REFUSED("{" SCAN ",\"gate\":null}", 400, "wrong_type");
    REFUSED("{" SCAN ",\"scanned_at\":1700000000}", 400, "wrong_type");
    REFUSED("{\"list\":\"L\",\"nonce\":\"abcdefgh\"}", 400, "missing_field");
    REFUSED("{\"payload\":\"x\",\"nonce\":\"abcdefgh\"}", 400, "missing_field");
    REFUSED("{\"payload\":\"x\",\"list\":\"L\"}", 400, "missing_field");
    REFUSED("{}", 400, "missing_field");
    REFUSED("{\"payload\":\"x\",\"list\":\"\",\"nonce\":\"abcdefgh\"}", 400, "invalid_value");
    REFUSED("{\"payload\":\"x\",\"list\":\"a\\nb\",\"nonce\":\"abcdefgh\"}", 400, "invalid_value");
    REFUSED("{\"payload\":\"x\",\"list\":\"L\",\"nonce\":\"abcdefg\"}", 400, "invalid_value");
    REFUSED("{\"payload\":\"x\",\"list\":\"L\",\"nonce\":\"abcdefg!\"}", 400, "invalid_value");
    REFUSED("{" SCAN ",\"direction\":\"in\"}", 400, "invalid_value");
    REFUSED("{" SCAN ",\"scanned_at\":\"2027-02-30T00:00:00Z\"}", 400, "invalid_value");
    REFUSED("{" SCAN ",\"scanned_at\":\"2027-10-29T09:12:03.123456789+02:00 and more\"}", 400,
            "invalid_value");
    REFUSED("{" SCAN ",\"door_verdict\":\"ok\"}", 400, "invalid_value");
    REFUSED("{" SCAN ",\"gate\":\"\\t\"}", 400, "invalid_value");
    REFUSED("{\"scans\":[]}", 400, "empty_batch");
    REFUSED("{\"scans\":{}}", 400, "wrong_type");
    REFUSED("{\"scans\":null}", 400, "wrong_type");
    REFUSED("{\"scans\":[{" SCAN "}],\"x\":1}", 400, "unknown_field");
    REFUSED("{\"x\":1,\"scans\":[{" SCAN "}]}", 400, "unknown_field");

    /* A name of 101 characters; a nonce of 65. */
    snprintf(text, sizeof text, "{\"payload\":\"x\",\"list\":\"%0101d\",\"nonce\":\"abcdefgh\"}",
             0);
    parse_refused(text, strlen(text), 400, "invalid_value");
    snprintf(text, sizeof text,
             "{\"payload\":\"x\",\"list\":\"L\",\"gate\":\"%0101d\","
             "\"nonce\":\"abcdefgh\"}",
             0);
    parse_refused(text, strlen(text), 400, "invalid_value");
    snprintf(text, sizeof text, "{\"payload\":\"x\",\"list\":\"L\",\"nonce\":\"%065d\"}", 0);
    parse_refused(text, strlen(text), 400, "invalid_value");

    /* 501 scans: too many. The message names the scan that is wrong in a batch. */
    size_t used = (size_t)snprintf(text, sizeof text, "{\"scans\":[");
    for (int i = 0; i < ADMIT_CHECKIN_MAX_SCANS + 1; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s{}", i ? "," : "");
    snprintf(text + used, sizeof text - used, "]}");
    parse_refused(text, strlen(text), 413, "too_many_scans");

    struct admit_checkin_request req;
    struct admit_error err;
    /* Never reads past len: a valid prefix of a longer buffer. */
    const char *prefix = "{" SCAN "}garbage";
    assert_int_equal(admit_checkin_parse(prefix, strlen(prefix) - 7, &req, &err), ADMIT_OK);
    admit_checkin_request_free(&req);
    assert_int_equal(admit_checkin_parse(NULL, 0, &req, &err), ADMIT_ERR_INVALID);
    admit_checkin_request_free(&req);
}

/* In a batch, a scan that is refused is that scan's answer; the others are parsed. */
static void test_parse_batch_refuses_scan_by_scan(void **state)
{
    struct admit_checkin_request req;
    (void)state;
    static const char batch[] =
        "{\"scans\":["
        "{\"payload\":\"AD1:X\",\"list\":\"Day 1\",\"nonce\":\"abcdefgh\"},"
        "\"x\","
        "{\"payload\":\"x\",\"nonce\":\"abcdefgi\"},"
        "{\"payload\":\"AD1:X\",\"list\":\"Day 1\",\"nonce\":\"abcdefgh\",\"gate\":1},"
        "{\"payload\":\"AD1:X\",\"list\":\"Day 1\",\"nonce\":\"bad nonce\"},"
        "{\"payload\":\"AD1:X\",\"list\":\"Day 1\",\"nonce\":\"abcdefgj\","
        "\"scanned_at\":\"2027-10-29T09:12:03+16:00\"},"
        "{\"payload\":\"AD1:X\",\"list\":\"Day 1\",\"nonce\":\"abcdefgk\"}]}";
    parse_ok(batch, &req);
    assert_true(req.batch);
    assert_int_equal(req.count, 7);
    static const struct {
        const char *code, *nonce, *message;
    } want[] = {
        {NULL, "abcdefgh", NULL},
        {"not_an_object", NULL, "scan 2 must be a JSON object"},
        {"missing_field", "abcdefgi", "scan 3 has no \"list\""},
        {"wrong_type", "abcdefgh", "field \"gate\" of scan 4 must be a string"},
        {"invalid_value", NULL, NULL},
        {"invalid_value", "abcdefgj", NULL},
        {NULL, "abcdefgk", NULL},
    };
    for (size_t i = 0; i < req.count; i++) {
        const struct admit_checkin_scan *scan = &req.scans[i];
        if (want[i].code == NULL) {
            assert_null(scan->refused.code);
            assert_string_equal(scan->list, "Day 1");
        } else {
            assert_string_equal(scan->refused.code, want[i].code);
            assert_int_equal(admit_checkin_error_status(&scan->refused), 400);
            assert_null(scan->list);
        }
        if (want[i].nonce == NULL)
            assert_null(scan->nonce);
        else
            assert_string_equal(scan->nonce, want[i].nonce);
        if (want[i].message != NULL)
            assert_string_equal(scan->refused.message, want[i].message);
    }
    assert_non_null(strstr(req.scans[5].refused.message, "15:59"));
    /* The SQL argument holds the scans to decide, and their answers are errors in place. */
    json_t *args = admit_checkin_prepare(&req, &ring);
    assert_int_equal(json_array_size(args), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(args, 1), "nonce")),
                        "abcdefgk");
    json_decref(args);
    json_t *answer = admit_checkin_error_json(&req.scans[3].refused, req.scans[3].nonce);
    char *text = json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
                        "{\"error\":{\"code\":\"wrong_type\",\"message\":\"field \\\"gate\\\" "
                        "of scan 4 must be a string\",\"status\":400},\"nonce\":\"abcdefgh\"}");
    assert_int_equal(admit_checkin_answer_status(answer), 400);
    free(text);
    json_decref(answer);
    admit_checkin_request_free(&req);
    json_t *verdict = json_pack("{s:s, s:s}", "nonce", "abcdefgh", "verdict", "valid");
    assert_int_equal(admit_checkin_answer_status(verdict), 200);
    json_decref(verdict);
}

/* The SQL argument of a single scan with payload. */
static json_t *prepared(const char *payload)
{
    struct admit_checkin_request req;
    struct admit_error err;
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "payload", payload, "list", "Day 1", "nonce", "abcdefgh");
    char *text = json_dumps(body, 0);
    assert_int_equal(admit_checkin_parse(text, strlen(text), &req, &err), ADMIT_OK);
    json_t *scans = admit_checkin_prepare(&req, &ring);
    json_t *scan = json_incref(json_array_get(scans, 0));
    json_decref(scans);
    admit_checkin_request_free(&req);
    json_decref(body);
    free(text);
    return scan;
}

static const char *s_of(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(obj, field));
}

static void test_prepare(void **state)
{
    char ticket[ADMIT_TICKET_TEXT_MAX];
    char text[512];
    (void)state;
    assert_int_equal(admit_ticket_sign(&key, 7, 42, 3, ticket), ADMIT_OK);
    json_t *scan = prepared(ticket);
    assert_int_equal(json_integer_value(json_object_get(scan, "event_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(scan, "registration_id")), 42);
    assert_int_equal(json_integer_value(json_object_get(scan, "reissue")), 3);
    assert_null(json_object_get(scan, "invalid"));
    assert_string_equal(s_of(scan, "nonce"), "abcdefgh");
    assert_string_equal(s_of(scan, "list"), "Day 1");
    assert_string_equal(s_of(scan, "direction"), "entry");
    assert_true(json_is_false(json_object_get(scan, "offline")));
    assert_null(json_object_get(scan, "gate"));
    assert_null(json_object_get(scan, "door_verdict"));
    json_decref(scan);

    /* What a keyboard wedge types is normalised first. */
    snprintf(text, sizeof text, " \t%s\r\n", ticket);
    for (char *p = text; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    scan = prepared(text);
    assert_int_equal(json_integer_value(json_object_get(scan, "registration_id")), 42);
    json_decref(scan);

    char forged[ADMIT_TICKET_TEXT_MAX];
    memcpy(forged, ticket, sizeof forged);
    forged[100] = forged[100] == '0' ? '1' : '0';
    static const struct {
        const char *payload;
        const char *reason;
    } cases[] = {
        {"hello", "not_a_ticket"},
        {"", "not_a_ticket"},
        {"AD9:xyz", "unknown_version"},
        {"AD1:ABC", "wrong_length"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scan = prepared(cases[i].payload);
        assert_string_equal(s_of(scan, "invalid"), cases[i].reason);
        assert_null(json_object_get(scan, "registration_id"));
        json_decref(scan);
    }
    scan = prepared(forged);
    assert_string_equal(s_of(scan, "invalid"), "bad_signature");
    assert_null(json_object_get(scan, "event_id")); /* an untrusted ticket says nothing */
    json_decref(scan);
    struct admit_signing_key other;
    admit_key_generate(&other);
    assert_int_equal(admit_ticket_sign(&other, 7, 42, 3, ticket), ADMIT_OK);
    admit_key_wipe(&other);
    scan = prepared(ticket);
    assert_string_equal(s_of(scan, "invalid"), "unknown_key");
    json_decref(scan);
    /* Longer than any scanner line: refused without decoding. */
    char huge[3000];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "AD1:", 4);
    scan = prepared(huge);
    assert_string_equal(s_of(scan, "invalid"), "wrong_length");
    json_decref(scan);

    /* Gate and door verdict pass through. */
    struct admit_checkin_request req;
    struct admit_error err;
    const char *body = "{\"payload\":\"x\",\"list\":\"L\",\"nonce\":\"abcdefgh\",\"gate\":\"G\","
                       "\"offline\":true,\"door_verdict\":\"revoked\",\"direction\":\"exit\"}";
    assert_int_equal(admit_checkin_parse(body, strlen(body), &req, &err), ADMIT_OK);
    json_t *scans = admit_checkin_prepare(&req, &ring);
    scan = json_array_get(scans, 0);
    assert_string_equal(s_of(scan, "gate"), "G");
    assert_string_equal(s_of(scan, "door_verdict"), "revoked");
    assert_string_equal(s_of(scan, "direction"), "exit");
    assert_true(json_is_true(json_object_get(scan, "offline")));
    json_decref(scans);
    admit_checkin_request_free(&req);
}

static void test_keys_json(void **state)
{
    char id[ADMIT_KEY_ID_STRLEN];
    (void)state;
    json_t *keys = admit_checkin_keys_json(&ring);
    assert_int_equal(json_array_size(keys), 1);
    admit_key_id_format(key.key_id, id);
    assert_string_equal(s_of(json_array_get(keys, 0), "key_id"), id);
    struct admit_public_key back;
    assert_int_equal(admit_key_public_parse(s_of(json_array_get(keys, 0), "public_key"), &back),
                     ADMIT_OK);
    assert_memory_equal(back.pk, key.pk, 32);
    json_decref(keys);
}

static void test_device_tokens(void **state)
{
    char hash[ADMIT_DEVICE_HASH_SIZE];
    char token[ADMIT_TOKEN_SIZE];
    (void)state;
    /* FIPS 180-2: SHA-256("abc"). */
    admit_device_token_hash("abc", hash);
    assert_string_equal(hash,
                        "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    assert_true(admit_device_bearer("Bearer abcdefghijklmnopqrstuA", token));
    assert_string_equal(token, "abcdefghijklmnopqrstuA");
    assert_true(admit_device_bearer("bearer    abcdefghijklmnopqrstuA", token));
    static const char *const bad[] = {
        "Bearer",
        "Bearer ",
        "Bearerabcdefghijklmnopqrstuv",
        "Basic abcdefghijklmnopqrstuA",
        "Bearer abcdefghijklmnopqrstu",
        "Bearer abcdefghijklmnopqrstuAA",
        "Bearer abcdefghijklmnopqrstuA ",
        "Bearer abcdefghijklmnopqrstuB", /* not a token's last character */
        "Bearer\tabcdefghijklmnopqrstuA",
        "Bearer abcdefghij/lmnopqrstuA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(admit_device_bearer(bad[i], token));
        assert_string_equal(token, "");
    }
    assert_false(admit_device_bearer(NULL, token));

    assert_null(admit_device_name_problem("Gate A"));
    assert_null(admit_device_name_problem("Entrée nord"));
    assert_non_null(admit_device_name_problem(""));
    assert_non_null(admit_device_name_problem("a\nb"));
    assert_non_null(admit_device_name_problem("\xff"));
    char name[128];
    memset(name, 'x', 101);
    name[101] = '\0';
    assert_non_null(admit_device_name_problem(name));
    name[100] = '\0';
    assert_null(admit_device_name_problem(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_names),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_cursors),
        cmocka_unit_test(test_parse_single_and_batch),
        cmocka_unit_test(test_parse_batch_refuses_scan_by_scan),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_keys_json),
        cmocka_unit_test(test_device_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
