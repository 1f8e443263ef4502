/* Fuzz target for the signed ticket parser (lib/core/ticket.c).
 *
 * The keyring trusts two fixed keys, as a door does after one key rotation. They are derived
 * from fixed seeds with crypto_sign_seed_keypair, so the seed corpus in corpus/ticket/ holds real
 * tickets that verify. Every input goes through admit_ticket_verify as it is, and again after
 * admit_ticket_normalize (what the scanner does with a line). The property: a VALID verdict is
 * only ever given to the exact text this target produces by signing the decoded fields itself
 * (Ed25519 in libsodium is deterministic), which proves that the parser accepts one canonical
 * text per ticket and nothing else: no second Base45 spelling, no trailing bytes, no other case.
 * Every other verdict must leave the fields as the header promises. A second keyring trusts the
 * same keys but holds the first as its own (admitd's: checked by signing again, not by verify);
 * it must give every input exactly the verdict and fields the first gives.
 *
 * Regenerating the valid seeds (the key file holds the hex of the 32-byte seed below):
 *   printf 'admit-ed25519-secret-v1 %s\n' \
 *       "$(printf 'admit fuzz ticket key: current!!' | xxd -p -c 64)" > fuzz.key
 *   chmod 600 fuzz.key
 *   build/cli/admit ticket --key fuzz.key --event 1 --attendee 1 \
 *       > corpus/ticket/valid-current-1-1-0
 * (then strip the trailing newline: `truncate -s 121 FILE`). valid-previous-* is signed with the
 * second seed, unknown-key-* with "admit fuzz ticket key: untrusted", which is not in the ring. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admit/core/keys.h"
#include "admit/core/mem.h"
#include "admit/core/ticket.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Scanner lines are cut at 1 KiB by the CLI; longer inputs only cost time. */
#define INPUT_MAX 1024
#define KEY_COUNT 2

/* Exactly 32 characters each: the Ed25519 seeds. Not secret; test keys only. */
static const char seeds[KEY_COUNT][33] = {
    "admit fuzz ticket key: current!!",
    "admit fuzz ticket key: previous!",
};

static struct admit_signing_key keys[KEY_COUNT];
static struct admit_keyring ring;
static struct admit_keyring own_ring; /* the same keys, the first as admitd's own */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(admit_init() == ADMIT_OK);
    admit_keyring_init(&ring);
    for (size_t i = 0; i < KEY_COUNT; i++) {
        CHECK(crypto_sign_seed_keypair(keys[i].pk, keys[i].sk, (const uint8_t *)seeds[i]) == 0);
        keys[i].key_id = admit_key_id(keys[i].pk);
        admit_keyring_add_public_of(&ring, &keys[i]);
    }
    CHECK(ring.count == KEY_COUNT);
    admit_keyring_init(&own_ring);
    admit_keyring_add_own(&own_ring, &keys[0]);
    admit_keyring_add_public_of(&own_ring, &keys[1]);
    CHECK(own_ring.count == KEY_COUNT && own_ring.own == &keys[0]);
    return 0;
}

static const struct admit_signing_key *signing_key(uint32_t key_id)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (keys[i].key_id == key_id)
            return &keys[i];
    return NULL;
}

static int is_zero(const struct admit_ticket *t)
{
    return t->key_id == 0 && t->event_id == 0 && t->attendee_id == 0 && t->reissue == 0;
}

/* Checks that verdict (with fields t) is the right one for len bytes of text. */
static void check_verdict(const char *text, size_t len, enum admit_ticket_error verdict,
                          const struct admit_ticket *t)
{
    const struct admit_signing_key *key = signing_key(t->key_id);
    char expected[ADMIT_TICKET_TEXT_MAX];

    CHECK(admit_ticket_strerror(verdict) != NULL);
    CHECK(admit_ticket_error_code(verdict) != NULL);
    switch (verdict) {
    case ADMIT_TICKET_VALID:
        CHECK(key != NULL);
        CHECK(admit_ticket_sign(key, t->event_id, t->attendee_id, t->reissue, expected) ==
              ADMIT_OK);
        CHECK(strlen(expected) == ADMIT_TICKET_TEXT_LEN);
        CHECK(len == ADMIT_TICKET_TEXT_LEN);
        CHECK(memcmp(text, expected, len) == 0);
        break;
    case ADMIT_TICKET_UNKNOWN_KEY:
        CHECK(key == NULL);
        CHECK(admit_keyring_find(&ring, t->key_id) == NULL);
        CHECK(len == ADMIT_TICKET_TEXT_LEN);
        break;
    case ADMIT_TICKET_BAD_SIGNATURE:
        CHECK(key != NULL);
        CHECK(len == ADMIT_TICKET_TEXT_LEN);
        break;
    case ADMIT_TICKET_NOT_A_TICKET:
    case ADMIT_TICKET_UNKNOWN_VERSION:
    case ADMIT_TICKET_WRONG_LENGTH:
    case ADMIT_TICKET_MALFORMED:
        CHECK(is_zero(t));
        break;
    default:
        CHECK(!"verdict outside enum admit_ticket_error");
    }
    if (verdict != ADMIT_TICKET_NOT_A_TICKET)
        CHECK(len >= 4 && text[0] == 'A' && text[1] == 'D');
}

static int is_trimmed(unsigned char c)
{
    return c <= ' ' || c == 0x7f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct admit_ticket t, t2;
    if (size > INPUT_MAX)
        return -1; /* keep it out of the corpus */

    /* As typed: libFuzzer's buffer is exactly size bytes, with no terminator. */
    enum admit_ticket_error verdict = admit_ticket_verify((const char *)data, size, &ring, &t);
    check_verdict((const char *)data, size, verdict, &t);
    struct admit_ticket t_own;
    CHECK(admit_ticket_verify((const char *)data, size, &own_ring, &t_own) == verdict);
    CHECK(t.key_id == t_own.key_id && t.event_id == t_own.event_id &&
          t.attendee_id == t_own.attendee_id && t.reissue == t_own.reissue);

    /* As the scanner does it: normalise a copy (which needs room for the terminator). */
    char *line = admit_xmalloc(size + 1);
    memcpy(line, data, size);
    size_t len = admit_ticket_normalize(line, size);
    CHECK(len <= size);
    CHECK(line[len] == '\0');
    CHECK(len == 0 ||
          (!is_trimmed((unsigned char)line[0]) && !is_trimmed((unsigned char)line[len - 1])));
    for (size_t i = 0; i < len; i++)
        CHECK(!(line[i] >= 'a' && line[i] <= 'z'));
    enum admit_ticket_error verdict2 = admit_ticket_verify(line, len, &ring, &t2);
    check_verdict(line, len, verdict2, &t2);

    /* The header promises that normalising never changes a real ticket. */
    if (verdict == ADMIT_TICKET_VALID) {
        CHECK(verdict2 == ADMIT_TICKET_VALID);
        CHECK(len == size && memcmp(line, data, size) == 0);
        CHECK(t.key_id == t2.key_id && t.event_id == t2.event_id &&
              t.attendee_id == t2.attendee_id && t.reissue == t2.reissue);
    }
    /* Normalising is idempotent. */
    CHECK(admit_ticket_normalize(line, len) == len);
    free(line);
    return 0;
}
