/* The scanner's HTTP client (lib/door/checkin_client.c) against a fake API in a thread: what each
 * kind of answer becomes, time limits, the bearer token sent but never reported, server keys
 * and path escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admit/door/checkin_client.h"
#include "admit/core/keys.h"
#include "test_scan_fake_api.h"

#define TOKEN "abcdefghijklmnopqrstuA"

/* What the fake answers, set by each test. */
static struct fake_response next;

static void handler(void *ctx, const struct fake_request *req, struct fake_response *res)
{
    (void)ctx;
    (void)req;
    *res = next;
    res->body = fake_strdup(next.body);
}

static struct fake_api api;

static int setup(void **state)
{
    (void)state;
    if (admit_init() != ADMIT_OK)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    fake_api_start(&api, handler, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_api_stop(&api);
    curl_global_cleanup();
    return 0;
}

static struct admit_checkin_client *client_for(const char *token)
{
    char url[64];
    struct admit_checkin_client *c = NULL;
    fake_api_url(&api, url, sizeof url);
    assert_int_equal(admit_checkin_client_new(url, token, NULL, &c), ADMIT_OK);
    return c;
}

static void test_server_keys(void **state)
{
    char key[ADMIT_CLIENT_SERVER_KEY_SIZE];
    (void)state;
    static const struct {
        const char *url, *key;
    } good[] = {
        {"http://127.0.0.1:8080", "127.0.0.1_8080"},
        {"http://127.0.0.1:8080/", "127.0.0.1_8080"},
        {"https://Tickets.Example.org", "tickets.example.org_443"},
        {"http://tickets.example.org/admit", "tickets.example.org_80"},
        {"http://[::1]:9000", "___1__9000"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(admit_checkin_client_server_key(good[i].url, key), ADMIT_OK);
        assert_string_equal(key, good[i].key);
    }
    static const char *const bad[] = {
        "",
        "ftp://example.org",
        "example.org:8080",
        "http://",
        "http://user@example.org",
        "http://example.org/?q=1",
        "file:///etc/passwd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(admit_checkin_client_server_key(bad[i], key), ADMIT_ERR_INVALID);
        assert_string_equal(key, "");
    }
    assert_int_equal(admit_checkin_client_server_key(NULL, key), ADMIT_ERR_INVALID);
    struct admit_checkin_client *c = NULL;
    assert_int_equal(admit_checkin_client_new("gopher://x", TOKEN, NULL, &c), ADMIT_ERR_INVALID);
    assert_null(c);
}

static void test_path_append(void **state)
{
    char path[32] = "/api/v1/events/";
    (void)state;
    assert_int_equal(admit_checkin_client_path_append(path, sizeof path, "a b/c"), 0);
    assert_string_equal(path, "/api/v1/events/a%20b%2Fc");
    char fits[23] = "/sync?since=";
    assert_int_equal(admit_checkin_client_path_append(fits, sizeof fits, "12:34:"), 0);
    assert_string_equal(fits, "/sync?since=12%3A34%3A");
    /* One byte short: nothing is appended. */
    char tiny[22] = "/sync?since=";
    assert_int_equal(admit_checkin_client_path_append(tiny, sizeof tiny, "12:34:"), -1);
    assert_string_equal(tiny, "/sync?since=");
    char unreserved[32] = "";
    assert_int_equal(admit_checkin_client_path_append(unreserved, sizeof unreserved, "aZ09-._~"),
                     0);
    assert_string_equal(unreserved, "aZ09-._~");
    char other[16] = "/x?since=";
    assert_int_equal(admit_checkin_client_path_append(other, sizeof other, "1:2:3:4"), -1);
    assert_string_equal(other, "/x?since=");
}

static void test_answers(void **state)
{
    struct admit_checkin_client *c = client_for(TOKEN);
    json_t *answer = NULL;
    struct admit_error why;
    (void)state;

    next = (struct fake_response){200, "{\"verdict\":\"valid\"}", 0};
    json_t *body = json_pack("{s:s}", "payload", "AD1:X");
    assert_int_equal(
        admit_checkin_client_call(c, "POST", "/api/v1/checkins", body, 5000, &answer, &why),
        ADMIT_CLIENT_OK);
    json_decref(body);
    assert_string_equal(json_string_value(json_object_get(answer, "verdict")), "valid");
    json_decref(answer);
    pthread_mutex_lock(&api.lock);
    assert_string_equal(api.last.method, "POST");
    assert_string_equal(api.last.path, "/api/v1/checkins");
    assert_string_equal(api.last.authorization, "Bearer " TOKEN);
    assert_string_equal(api.last.body, "{\"payload\":\"AD1:X\"}");
    pthread_mutex_unlock(&api.lock);

    static const struct {
        int status;
        const char *body;
        enum admit_client_status want;
        const char *why;
    } cases[] = {
        {401, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"no\"}}", ADMIT_CLIENT_REFUSED,
         "HTTP 401 unauthorized: no"},
        {404, "{\"error\":{\"code\":\"not_found\",\"message\":\"gone\"}}", ADMIT_CLIENT_NOT_FOUND,
         "HTTP 404 not_found: gone"},
        {400, "{\"error\":{\"code\":\"invalid_value\",\"message\":\"bad nonce\"}}",
         ADMIT_CLIENT_REJECTED, "HTTP 400 invalid_value: bad nonce"},
        {413, "not json", ADMIT_CLIENT_REJECTED, "HTTP 413 error: (no message)"},
        {503, "{\"error\":{}}", ADMIT_CLIENT_UNAVAILABLE, "the server answered HTTP 503"},
        {500, NULL, ADMIT_CLIENT_UNAVAILABLE, "the server answered HTTP 500"},
        {200, "<html>", ADMIT_CLIENT_REJECTED, "the server's answer is not JSON"},
        {0, NULL, ADMIT_CLIENT_UNREACHABLE, NULL}, /* closed without an answer */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        next = (struct fake_response){cases[i].status, (char *)cases[i].body, 0};
        enum admit_client_status st =
            admit_checkin_client_call(c, "GET", "/api/v1/device", NULL, 5000, &answer, &why);
        assert_int_equal(st, cases[i].want);
        if (cases[i].why != NULL)
            assert_string_equal(why.message, cases[i].why);
        assert_null(strstr(why.message, TOKEN));
        if (st == ADMIT_CLIENT_REFUSED)
            assert_non_null(json_object_get(answer, "error")); /* the error body comes back */
        json_decref(answer);
        answer = NULL;
    }
    admit_checkin_client_free(c);
}

static void test_time_limits(void **state)
{
    struct admit_checkin_client *c = client_for(TOKEN);
    json_t *answer = NULL;
    struct admit_error why;
    struct timespec t0, t1;
    (void)state;
    /* A server that answers too late is unreachable, within the budget. */
    next = (struct fake_response){200, "{}", 1500};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(admit_checkin_client_call(c, "GET", "/slow", NULL, 300, &answer, &why),
                     ADMIT_CLIENT_UNREACHABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 1200);
    assert_null(answer);
    assert_non_null(strstr(why.message, "no answer within")); /* "no answer within 300 ms" */
    admit_checkin_client_free(c);

    /* Nobody listening: refused at once. */
    assert_int_equal(admit_checkin_client_new("http://127.0.0.1:1", NULL, NULL, &c), ADMIT_OK);
    assert_int_equal(admit_checkin_client_call(c, "GET", "/x", NULL, 1000, &answer, &why),
                     ADMIT_CLIENT_UNREACHABLE);
    admit_checkin_client_free(c);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Calls run side by side and never hold the caller: a call that hangs does not delay another,
 * and one abandoned mid-way is gone at once. */
static void test_calls_side_by_side(void **state)
{
    struct admit_checkin_client *c = client_for(TOKEN);
    json_t *answer = NULL;
    struct admit_error why;
    struct timespec t0;
    (void)state;
    next = (struct fake_response){-1, NULL, 0}; /* this one is never answered */
    pthread_mutex_lock(&api.lock);
    int base = api.requests;
    pthread_mutex_unlock(&api.lock);
    struct admit_client_call *hung = admit_checkin_client_start(c, "GET", "/hung", NULL, 60000);
    /* Let it reach the server, whose next answers come at once. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int seen = base;
    while (seen == base && ms_since(&t0) < 5000) {
        admit_checkin_client_wait(c, -1, 10);
        pthread_mutex_lock(&api.lock);
        seen = api.requests;
        pthread_mutex_unlock(&api.lock);
    }
    assert_int_equal(seen, base + 1);
    next = (struct fake_response){200, "{\"verdict\":\"valid\"}", 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct admit_client_call *quick = admit_checkin_client_start(c, "GET", "/quick", NULL, 5000);
    assert_false(admit_client_call_done(quick)); /* starting never waits */
    while (!admit_client_call_done(quick) && ms_since(&t0) < 5000)
        admit_checkin_client_wait(c, -1, 1000);
    assert_true(admit_client_call_done(quick));
    assert_true(ms_since(&t0) < 2000);
    assert_int_equal(admit_client_call_result(quick, &answer, &why), ADMIT_CLIENT_OK);
    json_decref(answer);
    admit_client_call_free(quick);
    assert_false(admit_client_call_done(hung));
    assert_int_equal(admit_client_call_result(hung, &answer, &why), ADMIT_CLIENT_UNREACHABLE);
    assert_null(answer);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    admit_client_call_free(hung);
    assert_true(ms_since(&t0) < 100);
    admit_client_call_free(NULL);
    admit_checkin_client_free(c);
}

/* Waiting ends when the caller's descriptor has something to read, or is hung up. */
static void test_wait_for_input(void **state)
{
    struct admit_checkin_client *c = client_for(TOKEN);
    int fds[2];
    struct timespec t0;
    (void)state;
    assert_int_equal(pipe(fds), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_false(admit_checkin_client_wait(c, fds[0], 200)); /* nothing: the full wait */
    assert_true(ms_since(&t0) >= 150);
    assert_int_equal(write(fds[1], "x\n", 2), 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(admit_checkin_client_wait(c, fds[0], 5000));
    assert_true(ms_since(&t0) < 1000);
    char buf[8];
    assert_int_equal(read(fds[0], buf, sizeof buf), 2);
    close(fds[1]); /* the end of input */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(admit_checkin_client_wait(c, fds[0], 5000));
    assert_true(ms_since(&t0) < 1000);
    close(fds[0]);
    admit_checkin_client_free(c);
}

static void test_without_token(void **state)
{
    struct admit_checkin_client *c = client_for(NULL);
    json_t *answer = NULL;
    (void)state;
    next = (struct fake_response){200, "[1,2]", 0};
    assert_int_equal(
        admit_checkin_client_call(c, "GET", "/api/v1/device", NULL, 5000, &answer, NULL),
        ADMIT_CLIENT_OK);
    assert_int_equal(json_array_size(answer), 2);
    json_decref(answer);
    pthread_mutex_lock(&api.lock);
    assert_string_equal(api.last.authorization, "");
    pthread_mutex_unlock(&api.lock);
    admit_checkin_client_free(c);
    admit_checkin_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_keys),    cmocka_unit_test(test_path_append),
        cmocka_unit_test(test_answers),        cmocka_unit_test(test_time_limits),
        cmocka_unit_test(test_without_token),  cmocka_unit_test(test_calls_side_by_side),
        cmocka_unit_test(test_wait_for_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
