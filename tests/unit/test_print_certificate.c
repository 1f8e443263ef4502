/* The certificate of attendance's signed payload (lib/print/certificate.c): round trip, strict
 * parsing (every bit flip, truncation and extension refused), domain separation from tickets,
 * and the badge layouts file's parser (lib/print/badge_layout.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/ticket.h"
#include "admit/print/badge.h"
#include "admit/print/certificate.h"
#include "test_key.h"

struct fixture {
    struct admit_signing_key key;
    struct admit_keyring ring;
    struct admit_certificate c;
    char text[ADMIT_CERTIFICATE_TEXT_MAX];
};

static int setup(void **state)
{
    static struct fixture f;
    if (test_key_setup(&f.key, &f.ring) != 0)
        return -1;
    f.c = (struct admit_certificate){0, 7, 123456, 3, {11, 12, 40}};
    if (admit_certificate_sign(&f.key, &f.c, f.text) != ADMIT_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_key_teardown(&f->key, &f->ring);
    return 0;
}

static enum admit_certificate_error check(const struct fixture *f, const char *text, size_t len)
{
    struct admit_certificate out;
    return admit_certificate_verify(text, len, &f->ring, &out);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct admit_certificate out;
    assert_int_equal(strncmp(f->text, "AC1:", 4), 0);
    assert_int_equal(admit_certificate_verify(f->text, strlen(f->text), &f->ring, &out),
                     ADMIT_CERTIFICATE_VALID);
    assert_int_equal(out.key_id, f->key.key_id);
    assert_int_equal(out.event_id, 7);
    assert_int_equal(out.attendee_id, 123456);
    assert_int_equal(out.list_count, 3);
    assert_int_equal(out.list_ids[2], 40);
}

static void test_bad_lists_are_not_signed(void **state)
{
    struct fixture *f = *state;
    char text[ADMIT_CERTIFICATE_TEXT_MAX];
    struct admit_certificate none = {0, 1, 1, 0, {0}};
    struct admit_certificate unsorted = {0, 1, 1, 2, {5, 5}};
    struct admit_certificate many = {0, 1, 1, ADMIT_CERTIFICATE_LISTS_MAX + 1, {0}};
    assert_int_equal(admit_certificate_sign(&f->key, &none, text), ADMIT_ERR_INVALID);
    assert_int_equal(admit_certificate_sign(&f->key, &unsorted, text), ADMIT_ERR_INVALID);
    assert_int_equal(admit_certificate_sign(&f->key, &many, text), ADMIT_ERR_INVALID);
}

static void test_every_bit_flip_and_length_refused(void **state)
{
    struct fixture *f = *state;
    char text[ADMIT_CERTIFICATE_TEXT_MAX + 2];
    size_t len = strlen(f->text);
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(text, f->text, len + 1);
            text[i] = (char)(text[i] ^ (1 << bit));
            assert_int_not_equal(check(f, text, len), ADMIT_CERTIFICATE_VALID);
        }
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(check(f, f->text, n), ADMIT_CERTIFICATE_VALID);
    memcpy(text, f->text, len);
    text[len] = '0';
    assert_int_not_equal(check(f, text, len + 1), ADMIT_CERTIFICATE_VALID);
}

static void test_reasons(void **state)
{
    struct fixture *f = *state;
    struct admit_keyring empty;
    struct admit_certificate out;
    assert_int_equal(check(f, "hello", 5), ADMIT_CERTIFICATE_NOT_A_CERTIFICATE);
    assert_int_equal(check(f, "AC2:ABC", 7), ADMIT_CERTIFICATE_UNKNOWN_VERSION);
    assert_int_equal(check(f, "AC1:ABC", 7), ADMIT_CERTIFICATE_MALFORMED);
    admit_keyring_init(&empty);
    assert_int_equal(admit_certificate_verify(f->text, strlen(f->text), &empty, &out),
                     ADMIT_CERTIFICATE_UNKNOWN_KEY);
    admit_keyring_free(&empty);
    assert_string_equal(admit_certificate_strerror(ADMIT_CERTIFICATE_BAD_SIGNATURE),
                        "bad signature (forged or altered certificate)");
}

/* A ticket's signature never makes a certificate, nor the other way round. */
static void test_domain_separation(void **state)
{
    struct fixture *f = *state;
    char ticket[ADMIT_TICKET_TEXT_MAX];
    struct admit_ticket t;
    assert_int_equal(admit_ticket_sign(&f->key, 7, 123456, 0, ticket), ADMIT_OK);
    assert_int_not_equal(check(f, ticket, strlen(ticket)), ADMIT_CERTIFICATE_VALID);
    assert_int_not_equal(admit_ticket_verify(f->text, strlen(f->text), &f->ring, &t),
                         ADMIT_TICKET_VALID);
    /* The ticket's signed bytes under a certificate's prefix are not a certificate either. */
    char swapped[ADMIT_TICKET_TEXT_MAX];
    memcpy(swapped, ticket, sizeof swapped);
    swapped[1] = 'C';
    assert_int_not_equal(check(f, swapped, strlen(swapped)), ADMIT_CERTIFICATE_VALID);
}

static void test_layouts(void **state)
{
    (void)state;
    struct admit_badge_layouts set;
    struct admit_error err;
    const char good[] = "# comment\n\na6 105 148 30 14 12 45\nx-1 99.1 67.7 18 9 8 28\n";
    assert_int_equal(admit_badge_layouts_parse(good, strlen(good), "t", &set, &err), ADMIT_OK);
    assert_int_equal(set.count, 2);
    assert_non_null(admit_badge_layout_find(&set, "x-1"));
    assert_null(admit_badge_layout_find(&set, "a7"));
    const char *bad[] = {"A6 105 148 30 14 12 45\n",   "a6 105 148 30 14 12\n",
                         "a6 105 148 30 14 12 45 9\n", "a6 10 148 30 14 12 45\n",
                         "a6 105 148 300 14 12 45\n",  "a6 105 148 30 14 12 104\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(admit_badge_layouts_parse(bad[i], strlen(bad[i]), "t", &set, &err),
                         ADMIT_ERR_INVALID);
        assert_int_equal(err.line, 1);
        assert_string_equal(err.message,
                            "t, line 1: not a badge layout (see the comment at the top)");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_lists_are_not_signed),
        cmocka_unit_test(test_every_bit_flip_and_length_refused),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_domain_separation),
        cmocka_unit_test(test_layouts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
