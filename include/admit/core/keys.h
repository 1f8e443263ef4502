/* Ed25519 ticket-signing keys: generation, key ids, key files and the set of public keys a
 * verifier trusts. Secret keys live only in files of mode 0600, never in the database or logs. */
#ifndef ADMIT_KEYS_H
#define ADMIT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "admit/core/rc.h"

#define ADMIT_KEY_SECRET_FILE "ticket-signing.key"
#define ADMIT_KEY_PUBLIC_FILE "ticket-signing.pub"
/* Text form of a key id: 8 lower-case hex digits plus NUL. */
#define ADMIT_KEY_ID_STRLEN 9
/* Text form of a public key: 64 lower-case hex digits plus NUL. */
#define ADMIT_KEY_PUBLIC_HEXLEN 65

struct admit_public_key {
    uint32_t key_id;
    uint8_t pk[32];
};

/* Holds secret material: wipe with admit_key_wipe() on every path. */
struct admit_signing_key {
    uint32_t key_id;
    uint8_t pk[32];
    uint8_t sk[64];
};

/* A growable set of trusted public keys, looked up by key id. */
struct admit_keyring {
    struct admit_public_key *keys; /* owned */
    size_t count;
    /* The key this process signs tickets with, when it holds one (admitd; see
     * admit_keyring_add_own). Not owned: admit_keyring_free neither frees nor wipes it. */
    const struct admit_signing_key *own;
};

/* Initialises libsodium. Call once before anything else in libadmit; thread-safe, idempotent. */
enum admit_rc admit_init(void) ADMIT_MUST_CHECK;

/* The key id of a public key: the first four bytes of a domain-separated BLAKE2b hash. */
uint32_t admit_key_id(const uint8_t pk[32]);
/* Writes the key id as 8 lower-case hex digits into out. */
void admit_key_id_format(uint32_t key_id, char out[ADMIT_KEY_ID_STRLEN]);
/* Writes pk as 64 lower-case hex digits into out. */
void admit_key_public_format(const struct admit_public_key *key, char out[ADMIT_KEY_PUBLIC_HEXLEN]);
/* Parses 64 hex digits (exactly) into key, deriving the key id. ADMIT_ERR_INVALID otherwise. */
enum admit_rc admit_key_public_parse(const char *hex,
                                     struct admit_public_key *key) ADMIT_MUST_CHECK;

/* Fills key with a fresh random key pair. */
void admit_key_generate(struct admit_signing_key *key);
/* Wipes the secret part of key. */
void admit_key_wipe(struct admit_signing_key *key);

/* Writes DIR/ticket-signing.key (mode 0600) and DIR/ticket-signing.pub (0644), fsynced.
 * ADMIT_ERR_EXISTS if either file exists (nothing is overwritten, nothing half-written is left);
 * ADMIT_ERR_IO with errno set on other failures. */
enum admit_rc admit_key_write_files(const char *dir,
                                    const struct admit_signing_key *key) ADMIT_MUST_CHECK;

/* Loads a secret key file. ADMIT_ERR_PERMISSION if group or others may access it,
 * ADMIT_ERR_IO (errno set) if it cannot be read, ADMIT_ERR_INVALID if it is not a key file. */
enum admit_rc admit_key_load_secret(const char *path,
                                    struct admit_signing_key *key) ADMIT_MUST_CHECK;
/* Loads a public key file; same errors as admit_key_load_secret except PERMISSION. A secret key
 * file is accepted too (its public half is used). */
enum admit_rc admit_key_load_public(const char *path,
                                    struct admit_public_key *key) ADMIT_MUST_CHECK;

/* Keyring: init empty, add a key (a key already present is not added twice), find by id
 * (NULL when unknown; the pointer is valid until the next add), free. */
void admit_keyring_init(struct admit_keyring *ring);
void admit_keyring_add(struct admit_keyring *ring, const struct admit_public_key *key);
/* Trusts the public half of a signing key (the ring keeps no pointer to key). */
void admit_keyring_add_public_of(struct admit_keyring *ring, const struct admit_signing_key *key);
/* Trusts key's public half, and remembers key (which must outlive the ring) so that
 * admit_ticket_verify checks a ticket of that key by signing its fields again: Ed25519
 * signatures are deterministic, and signing costs a third of a verify (lib/core/ticket.c). */
void admit_keyring_add_own(struct admit_keyring *ring, const struct admit_signing_key *key);
const struct admit_public_key *admit_keyring_find(const struct admit_keyring *ring,
                                                  uint32_t key_id);
void admit_keyring_free(struct admit_keyring *ring);

#endif
