/* CSRF tokens (lib/core/csrf.c): derivation, binding to cookie and form, tampering, Origin checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/csrf.h"
#include "admit/core/keys.h"
#include "admit/core/token.h"

struct fixture {
    struct admit_signing_key signing;
    struct admit_csrf_key key;
    char cookie[ADMIT_TOKEN_SIZE];
};

static int setup(void **state)
{
    static struct fixture f;
    if (admit_init() != ADMIT_OK)
        return -1;
    admit_key_generate(&f.signing);
    admit_csrf_key_derive(&f.signing, &f.key);
    admit_token_new(f.cookie);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    admit_key_wipe(&f->signing);
    admit_csrf_key_wipe(&f->key);
    return 0;
}

static void test_token_shape_and_verify(void **state)
{
    struct fixture *f = *state;
    char token[ADMIT_CSRF_TOKEN_SIZE];
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, "register", token), ADMIT_OK);
    assert_int_equal(strlen(token), ADMIT_CSRF_TOKEN_LEN);
    for (const char *p = token; *p != '\0'; p++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    assert_true(admit_csrf_verify(&f->key, f->cookie, "register", token));
    /* Deterministic: the same inputs give the same token. */
    char again[ADMIT_CSRF_TOKEN_SIZE];
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, "register", again), ADMIT_OK);
    assert_string_equal(token, again);
}

static void test_bound_to_cookie_form_and_key(void **state)
{
    struct fixture *f = *state;
    char token[ADMIT_CSRF_TOKEN_SIZE];
    char other_cookie[ADMIT_TOKEN_SIZE];
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, "register", token), ADMIT_OK);
    admit_token_new(other_cookie);
    assert_false(admit_csrf_verify(&f->key, other_cookie, "register", token));
    assert_false(admit_csrf_verify(&f->key, f->cookie, "cancel", token));
    assert_false(admit_csrf_verify(&f->key, f->cookie, "registe", token));
    assert_false(admit_csrf_verify(&f->key, f->cookie, "register2", token));

    /* Another signing key (another deployment) gives another CSRF key. */
    struct admit_signing_key other_signing;
    struct admit_csrf_key other_key;
    admit_key_generate(&other_signing);
    admit_csrf_key_derive(&other_signing, &other_key);
    assert_false(admit_csrf_verify(&other_key, f->cookie, "register", token));
    admit_key_wipe(&other_signing);
    admit_csrf_key_wipe(&other_key);
}

static void test_same_signing_key_same_csrf_key(void **state)
{
    struct fixture *f = *state;
    /* Two admitd processes loading the same key file agree on every token. */
    struct admit_signing_key copy = f->signing;
    struct admit_csrf_key key2;
    admit_csrf_key_derive(&copy, &key2);
    assert_memory_equal(key2.bytes, f->key.bytes, sizeof key2.bytes);
    /* And the CSRF key is not the signing key itself. */
    assert_memory_not_equal(key2.bytes, f->signing.sk, sizeof key2.bytes);
    admit_key_wipe(&copy);
    admit_csrf_key_wipe(&key2);
}

static void test_every_bit_flip_is_refused(void **state)
{
    struct fixture *f = *state;
    char token[ADMIT_CSRF_TOKEN_SIZE];
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, "register", token), ADMIT_OK);
    for (size_t i = 0; i < ADMIT_CSRF_TOKEN_LEN; i++) {
        char changed[ADMIT_CSRF_TOKEN_SIZE];
        memcpy(changed, token, sizeof changed);
        changed[i] = changed[i] == 'A' ? 'B' : 'A';
        assert_false(admit_csrf_verify(&f->key, f->cookie, "register", changed));
    }
}

static void test_malformed_inputs(void **state)
{
    struct fixture *f = *state;
    char token[ADMIT_CSRF_TOKEN_SIZE];
    char long_id[ADMIT_CSRF_MAX_FORM_ID + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';

    assert_int_equal(admit_csrf_token(&f->key, "short", "register", token), ADMIT_ERR_INVALID);
    assert_string_equal(token, "");
    assert_int_equal(admit_csrf_token(&f->key, NULL, "register", token), ADMIT_ERR_INVALID);
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, "", token), ADMIT_ERR_INVALID);
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, NULL, token), ADMIT_ERR_INVALID);
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, long_id, token), ADMIT_ERR_INVALID);
    long_id[ADMIT_CSRF_MAX_FORM_ID] = '\0';
    assert_int_equal(admit_csrf_token(&f->key, f->cookie, long_id, token), ADMIT_OK);

    assert_int_equal(admit_csrf_token(&f->key, f->cookie, "register", token), ADMIT_OK);
    assert_false(admit_csrf_verify(&f->key, f->cookie, "register", NULL));
    assert_false(admit_csrf_verify(&f->key, f->cookie, "register", ""));
    assert_false(admit_csrf_verify(&f->key, NULL, "register", token));
    assert_false(admit_csrf_verify(&f->key, "", "register", token));
    /* A cookie that is not token-shaped (a forged "admit_csrf=x") never verifies. */
    assert_false(admit_csrf_verify(&f->key, "AAAAAAAAAAAAAAAAAAAAA!", "register", token));
    /* Truncated or extended tokens. */
    char cut[ADMIT_CSRF_TOKEN_SIZE];
    memcpy(cut, token, sizeof cut);
    cut[ADMIT_CSRF_TOKEN_LEN - 1] = '\0';
    assert_false(admit_csrf_verify(&f->key, f->cookie, "register", cut));
    char longer[ADMIT_CSRF_TOKEN_SIZE + 1];
    snprintf(longer, sizeof longer, "%sA", token);
    assert_false(admit_csrf_verify(&f->key, f->cookie, "register", longer));
}

static void test_origin(void **state)
{
    (void)state;
    /* No Origin header: allowed (the token decides). */
    assert_true(admit_csrf_origin_ok(NULL, "127.0.0.1:8080", NULL));
    /* Same host, either scheme, any case. */
    assert_true(admit_csrf_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", NULL));
    assert_true(admit_csrf_origin_ok("https://Tickets.Example.org", "tickets.example.org", ""));
    /* Another host or port. */
    assert_false(admit_csrf_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8080", NULL));
    assert_false(admit_csrf_origin_ok("http://evil.example", "127.0.0.1:8080", NULL));
    assert_false(admit_csrf_origin_ok("http://127.0.0.1:8080.evil", "127.0.0.1:8080", NULL));
    assert_false(admit_csrf_origin_ok("http://127.0.0.1", "127.0.0.1:8080", NULL));
    /* Opaque origins and junk. */
    assert_false(admit_csrf_origin_ok("null", "127.0.0.1:8080", NULL));
    assert_false(admit_csrf_origin_ok("", "127.0.0.1:8080", NULL));
    assert_false(admit_csrf_origin_ok("127.0.0.1:8080", "127.0.0.1:8080", NULL));
    assert_false(admit_csrf_origin_ok("ftp://127.0.0.1:8080", "127.0.0.1:8080", NULL));
    /* No Host header: only the public URL can match. */
    assert_false(admit_csrf_origin_ok("http://127.0.0.1:8080", NULL, NULL));
    assert_false(admit_csrf_origin_ok("http://127.0.0.1:8080", "", NULL));
    /* Behind a reverse proxy: the public URL's origin, path ignored. */
    const char *pub = "https://tickets.example.org/admit/";
    assert_true(admit_csrf_origin_ok("https://tickets.example.org", "10.0.0.5:8080", pub));
    assert_true(admit_csrf_origin_ok("https://TICKETS.example.org", NULL, pub));
    assert_false(admit_csrf_origin_ok("http://tickets.example.org", "10.0.0.5:8080", pub));
    assert_false(admit_csrf_origin_ok("https://tickets.example.org.evil", NULL, pub));
    assert_false(admit_csrf_origin_ok("https://tickets.example.org/admit", NULL, pub));
    assert_false(admit_csrf_origin_ok("https://tickets.example.org", NULL, "not a url"));
    assert_false(admit_csrf_origin_ok("https://", NULL, "https://"));
    assert_true(admit_csrf_origin_ok("https://a.org:8443", NULL, "https://a.org:8443"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_shape_and_verify),
        cmocka_unit_test(test_bound_to_cookie_form_and_key),
        cmocka_unit_test(test_same_signing_key_same_csrf_key),
        cmocka_unit_test(test_every_bit_flip_is_refused),
        cmocka_unit_test(test_malformed_inputs),
        cmocka_unit_test(test_origin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
