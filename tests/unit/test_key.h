/* The set-up every test that signs or checks tickets shares: libsodium started, a fresh
 * ticket-signing key, and a keyring that trusts it. Header-only, like pgtest.h. */
#ifndef ADMIT_TEST_KEY_H
#define ADMIT_TEST_KEY_H

#include "admit/core/keys.h"

/* Returns -1 when libsodium cannot start (cmocka's group set-up convention), else 0. */
static inline int test_key_setup(struct admit_signing_key *key, struct admit_keyring *ring)
{
    if (admit_init() != ADMIT_OK)
        return -1;
    admit_key_generate(key);
    admit_keyring_init(ring);
    admit_keyring_add_public_of(ring, key);
    return 0;
}

/* Frees the keyring and wipes the key. */
static inline void test_key_teardown(struct admit_signing_key *key, struct admit_keyring *ring)
{
    admit_keyring_free(ring);
    admit_key_wipe(key);
}

#endif
