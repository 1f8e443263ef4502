/* The signed ticket: round trip, one distinct reason per failure, and tampering of every kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "admit/core/base45.h"
#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "test_key.h"

struct fixture {
    struct admit_signing_key key, other;
    struct admit_keyring ring; /* trusts key only */
    char text[ADMIT_TICKET_TEXT_MAX];
};

static int setup(void **state)
{
    static struct fixture f;
    if (test_key_setup(&f.key, &f.ring) != 0)
        return -1;
    admit_key_generate(&f.other);
    if (admit_ticket_sign(&f.key, 7, 123456, 2, f.text) != ADMIT_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_key_teardown(&f->key, &f->ring);
    admit_key_wipe(&f->other);
    return 0;
}

static enum admit_ticket_error verify(const struct fixture *f, const char *text, size_t len)
{
    struct admit_ticket t;
    return admit_ticket_verify(text, len, &f->ring, &t);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct admit_ticket t;
    assert_int_equal(strlen(f->text), ADMIT_TICKET_TEXT_LEN);
    assert_memory_equal(f->text, "AD1:", 4);
    assert_int_equal(admit_ticket_verify(f->text, strlen(f->text), &f->ring, &t),
                     ADMIT_TICKET_VALID);
    assert_int_equal(t.event_id, 7);
    assert_int_equal(t.attendee_id, 123456);
    assert_int_equal(t.reissue, 2);
    assert_int_equal(t.key_id, f->key.key_id);
    /* Only the QR alphanumeric alphabet: the whole text fits alphanumeric mode. */
    for (size_t i = 0; i < ADMIT_TICKET_TEXT_LEN; i++)
        assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", f->text[i]));
}

static void test_extreme_fields(void **state)
{
    struct fixture *f = *state;
    char text[ADMIT_TICKET_TEXT_MAX];
    struct admit_ticket t;
    assert_int_equal(admit_ticket_sign(&f->key, UINT32_MAX, UINT32_MAX, UINT16_MAX, text),
                     ADMIT_OK);
    assert_int_equal(admit_ticket_verify(text, strlen(text), &f->ring, &t), ADMIT_TICKET_VALID);
    assert_int_equal(t.event_id, UINT32_MAX);
    assert_int_equal(t.attendee_id, UINT32_MAX);
    assert_int_equal(t.reissue, UINT16_MAX);
}

static void test_every_bit_flip_rejected(void **state)
{
    struct fixture *f = *state;
    char copy[ADMIT_TICKET_TEXT_MAX];
    for (size_t i = 0; i < ADMIT_TICKET_TEXT_LEN; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, f->text, sizeof copy);
            copy[i] = (char)(copy[i] ^ (1 << bit));
            enum admit_ticket_error err = verify(f, copy, ADMIT_TICKET_TEXT_LEN);
            if (err == ADMIT_TICKET_VALID)
                fail_msg("bit %d of byte %zu flipped and still valid", bit, i);
        }
    }
}

static void test_truncated_and_extended_rejected(void **state)
{
    struct fixture *f = *state;
    char longer[ADMIT_TICKET_TEXT_MAX + 8];
    for (size_t len = 0; len < ADMIT_TICKET_TEXT_LEN; len++) {
        enum admit_ticket_error err = verify(f, f->text, len);
        assert_int_not_equal(err, ADMIT_TICKET_VALID);
        if (len >= 4)
            assert_int_equal(err, ADMIT_TICKET_WRONG_LENGTH);
    }
    const char *extra = "0A $:";
    for (size_t i = 0; i < strlen(extra); i++) {
        memcpy(longer, f->text, ADMIT_TICKET_TEXT_LEN);
        longer[ADMIT_TICKET_TEXT_LEN] = extra[i];
        assert_int_equal(verify(f, longer, ADMIT_TICKET_TEXT_LEN + 1), ADMIT_TICKET_WRONG_LENGTH);
    }
    /* A NUL byte inside the declared length is not a terminator the parser trusts. */
    memcpy(longer, f->text, ADMIT_TICKET_TEXT_LEN);
    longer[ADMIT_TICKET_TEXT_LEN] = '\0';
    assert_int_equal(verify(f, longer, ADMIT_TICKET_TEXT_LEN + 1), ADMIT_TICKET_WRONG_LENGTH);
}

static void test_distinct_reasons(void **state)
{
    struct fixture *f = *state;
    char copy[ADMIT_TICKET_TEXT_MAX];

    assert_int_equal(verify(f, "", 0), ADMIT_TICKET_NOT_A_TICKET);
    assert_int_equal(verify(f, "https://example.org/", 20), ADMIT_TICKET_NOT_A_TICKET);
    assert_int_equal(verify(f, "AD:XYZ", 6), ADMIT_TICKET_NOT_A_TICKET);
    assert_int_equal(verify(f, "ADX:XYZ", 7), ADMIT_TICKET_NOT_A_TICKET);

    memcpy(copy, f->text, sizeof copy);
    copy[2] = '2';
    assert_int_equal(verify(f, copy, ADMIT_TICKET_TEXT_LEN), ADMIT_TICKET_UNKNOWN_VERSION);
    assert_int_equal(verify(f, "AD12:ABC", 8), ADMIT_TICKET_UNKNOWN_VERSION);

    assert_int_equal(verify(f, f->text, ADMIT_TICKET_TEXT_LEN - 3), ADMIT_TICKET_WRONG_LENGTH);

    memcpy(copy, f->text, sizeof copy);
    copy[10] = 'a'; /* lower case is not Base45 */
    assert_int_equal(verify(f, copy, ADMIT_TICKET_TEXT_LEN), ADMIT_TICKET_MALFORMED);
    memcpy(copy + 4, "GGW", 3); /* a triplet above 65535: not canonical */
    assert_int_equal(verify(f, copy, ADMIT_TICKET_TEXT_LEN), ADMIT_TICKET_MALFORMED);

    char foreign[ADMIT_TICKET_TEXT_MAX];
    assert_int_equal(admit_ticket_sign(&f->other, 7, 123456, 2, foreign), ADMIT_OK);
    assert_int_equal(verify(f, foreign, ADMIT_TICKET_TEXT_LEN), ADMIT_TICKET_UNKNOWN_KEY);

    /* Change the attendee inside a correctly encoded payload: the signature no longer matches. */
    uint8_t bin[78];
    size_t n = 0;
    assert_int_equal(admit_base45_decode(f->text + 4, 117, bin, sizeof bin, &n), ADMIT_BASE45_OK);
    bin[11] ^= 1;
    memcpy(copy, "AD1:", 4);
    admit_base45_encode(bin, sizeof bin, copy + 4);
    assert_int_equal(verify(f, copy, ADMIT_TICKET_TEXT_LEN), ADMIT_TICKET_BAD_SIGNATURE);

    /* Each reason has its own text and code. */
    for (int a = ADMIT_TICKET_VALID; a <= ADMIT_TICKET_BAD_SIGNATURE; a++) {
        for (int b = a + 1; b <= ADMIT_TICKET_BAD_SIGNATURE; b++) {
            assert_string_not_equal(admit_ticket_strerror((enum admit_ticket_error)a),
                                    admit_ticket_strerror((enum admit_ticket_error)b));
            assert_string_not_equal(admit_ticket_error_code((enum admit_ticket_error)a),
                                    admit_ticket_error_code((enum admit_ticket_error)b));
        }
    }
}

static void test_domain_separation(void **state)
{
    struct fixture *f = *state;
    /* A signature over the bare fields (no domain string) must not verify as a ticket. */
    uint8_t bin[78];
    size_t n = 0;
    char copy[ADMIT_TICKET_TEXT_MAX];
    assert_int_equal(admit_base45_decode(f->text + 4, 117, bin, sizeof bin, &n), ADMIT_BASE45_OK);
    crypto_sign_detached(bin + 14, NULL, bin, 14, f->key.sk);
    memcpy(copy, "AD1:", 4);
    admit_base45_encode(bin, sizeof bin, copy + 4);
    assert_int_equal(verify(f, copy, ADMIT_TICKET_TEXT_LEN), ADMIT_TICKET_BAD_SIGNATURE);
}

static void test_key_rotation(void **state)
{
    struct fixture *f = *state;
    struct admit_keyring ring;
    struct admit_public_key a = {f->key.key_id, {0}}, b = {f->other.key_id, {0}};
    char old_ticket[ADMIT_TICKET_TEXT_MAX], new_ticket[ADMIT_TICKET_TEXT_MAX];
    memcpy(a.pk, f->key.pk, 32);
    memcpy(b.pk, f->other.pk, 32);
    admit_keyring_init(&ring);
    admit_keyring_add(&ring, &a);
    admit_keyring_add(&ring, &b);
    admit_keyring_add(&ring, &a); /* no duplicates */
    assert_int_equal(ring.count, 2);
    assert_int_equal(admit_ticket_sign(&f->key, 1, 2, 0, old_ticket), ADMIT_OK);
    assert_int_equal(admit_ticket_sign(&f->other, 1, 2, 0, new_ticket), ADMIT_OK);
    struct admit_ticket t;
    assert_int_equal(admit_ticket_verify(old_ticket, 121, &ring, &t), ADMIT_TICKET_VALID);
    assert_int_equal(t.key_id, f->key.key_id);
    assert_int_equal(admit_ticket_verify(new_ticket, 121, &ring, &t), ADMIT_TICKET_VALID);
    assert_int_equal(t.key_id, f->other.key_id);
    admit_keyring_free(&ring);
}

/* admitd's keyring holds its own signing key: a ticket of that key is checked by signing again.
 * It must accept and refuse exactly what verify does. */
static void test_own_key_signs_again(void **state)
{
    struct fixture *f = *state;
    struct admit_keyring own;
    struct admit_ticket t;
    char copy[ADMIT_TICKET_TEXT_MAX], foreign[ADMIT_TICKET_TEXT_MAX];
    admit_keyring_init(&own);
    admit_keyring_add_own(&own, &f->key);
    assert_ptr_equal(own.own, &f->key);
    assert_int_equal(own.count, 1);
    assert_memory_equal(own.keys[0].pk, f->key.pk, 32);
    assert_int_equal(admit_ticket_verify(f->text, ADMIT_TICKET_TEXT_LEN, &own, &t),
                     ADMIT_TICKET_VALID);
    assert_int_equal(t.key_id, f->key.key_id);
    assert_int_equal(t.event_id, 7);
    assert_int_equal(t.attendee_id, 123456);
    assert_int_equal(t.reissue, 2);
    for (size_t i = 0; i < ADMIT_TICKET_TEXT_LEN; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, f->text, sizeof copy);
            copy[i] = (char)(copy[i] ^ (1 << bit));
            struct admit_ticket a, b;
            enum admit_ticket_error with_own =
                admit_ticket_verify(copy, ADMIT_TICKET_TEXT_LEN, &own, &a);
            if (with_own == ADMIT_TICKET_VALID)
                fail_msg("bit %d of byte %zu flipped and still valid", bit, i);
            assert_int_equal(with_own,
                             admit_ticket_verify(copy, ADMIT_TICKET_TEXT_LEN, &f->ring, &b));
        }
    }
    /* Signed by another key under the own key's id: not what signing again gives, so verify
     * decides, with the public key of that id. The own key refuses it... */
    struct admit_signing_key impostor = f->other;
    impostor.key_id = f->key.key_id;
    assert_int_equal(admit_ticket_sign(&impostor, 7, 123456, 2, foreign), ADMIT_OK);
    assert_int_equal(admit_ticket_verify(foreign, ADMIT_TICKET_TEXT_LEN, &own, &t),
                     ADMIT_TICKET_BAD_SIGNATURE);
    /* ...and a trusted key whose id collides with the own key's accepts it, as without own. */
    struct admit_public_key colliding = {f->key.key_id, {0}};
    memcpy(colliding.pk, f->other.pk, 32);
    admit_keyring_add(&own, &colliding);
    assert_int_equal(admit_ticket_verify(foreign, ADMIT_TICKET_TEXT_LEN, &own, &t),
                     ADMIT_TICKET_VALID);
    assert_int_equal(admit_ticket_verify(f->text, ADMIT_TICKET_TEXT_LEN, &own, &t),
                     ADMIT_TICKET_VALID);
    /* A key this ring does not trust is still unknown. */
    struct admit_signing_key stranger;
    admit_key_generate(&stranger);
    assert_int_equal(admit_ticket_sign(&stranger, 7, 123456, 2, foreign), ADMIT_OK);
    assert_int_equal(admit_ticket_verify(foreign, ADMIT_TICKET_TEXT_LEN, &own, &t),
                     ADMIT_TICKET_UNKNOWN_KEY);
    admit_key_wipe(&stranger);
    admit_key_wipe(&impostor);
    admit_keyring_free(&own);
    assert_null(own.own);
}

static void test_normalize_scanner_input(void **state)
{
    struct fixture *f = *state;
    char line[256];
    /* Keyboard wedge with Caps Lock on, CR LF terminator, padding on both sides. */
    snprintf(line, sizeof line, " \t%s \r\n", f->text);
    for (char *p = line; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    size_t len = admit_ticket_normalize(line, strlen(line));
    assert_int_equal(len, ADMIT_TICKET_TEXT_LEN);
    assert_string_equal(line, f->text);
    assert_int_equal(verify(f, line, len), ADMIT_TICKET_VALID);

    /* Spaces inside are Base45 digits and are kept. */
    snprintf(line, sizeof line, "AD1:A B");
    assert_int_equal(admit_ticket_normalize(line, strlen(line)), 7);
    assert_string_equal(line, "AD1:A B");

    snprintf(line, sizeof line, " \r\n\t ");
    assert_int_equal(admit_ticket_normalize(line, strlen(line)), 0);
    assert_string_equal(line, "");
}

static void test_ticket_never_ends_or_starts_with_space(void **state)
{
    struct fixture *f = *state;
    /* normalize() trims spaces at the ends; that is only safe if no ticket has one there. */
    char text[ADMIT_TICKET_TEXT_MAX];
    for (uint32_t i = 1; i <= 2000; i++) {
        assert_int_equal(admit_ticket_sign(&f->key, i, i * 7919u, (uint16_t)i, text), ADMIT_OK);
        assert_int_not_equal(text[0], ' ');
        assert_int_not_equal(text[ADMIT_TICKET_TEXT_LEN - 1], ' ');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_extreme_fields),
        cmocka_unit_test(test_every_bit_flip_rejected),
        cmocka_unit_test(test_truncated_and_extended_rejected),
        cmocka_unit_test(test_distinct_reasons),
        cmocka_unit_test(test_domain_separation),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_own_key_signs_again),
        cmocka_unit_test(test_normalize_scanner_input),
        cmocka_unit_test(test_ticket_never_ends_or_starts_with_space),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
