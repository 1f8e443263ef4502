#include "admit/core/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "admit/core/mem.h"

#define SECRET_TAG "admit-ed25519-secret-v1 "
#define PUBLIC_TAG "admit-ed25519-public-v1 "
#define TAG_LEN    (sizeof(SECRET_TAG) - 1)
/* tag + 64 hex digits + "\n" */
#define KEY_FILE_LEN (TAG_LEN + 64 + 1)

static const char key_id_domain[] = "admit/key-id/v1";

enum admit_rc admit_init(void)
{
    return sodium_init() < 0 ? ADMIT_ERR_CRYPTO : ADMIT_OK;
}

uint32_t admit_key_id(const uint8_t pk[32])
{
    uint8_t hash[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof hash);
    crypto_generichash_update(&st, (const uint8_t *)key_id_domain, sizeof key_id_domain);
    crypto_generichash_update(&st, pk, 32);
    crypto_generichash_final(&st, hash, sizeof hash);
    return (uint32_t)hash[0] << 24 | (uint32_t)hash[1] << 16 | (uint32_t)hash[2] << 8 | hash[3];
}

void admit_key_id_format(uint32_t key_id, char out[ADMIT_KEY_ID_STRLEN])
{
    snprintf(out, ADMIT_KEY_ID_STRLEN, "%08x", (unsigned)key_id);
}

void admit_key_public_format(const struct admit_public_key *key, char out[ADMIT_KEY_PUBLIC_HEXLEN])
{
    sodium_bin2hex(out, ADMIT_KEY_PUBLIC_HEXLEN, key->pk, sizeof key->pk);
}

/* Exactly 64 lower- or upper-case hex digits into 32 bytes. */
static enum admit_rc hex32(const char *hex, size_t len, uint8_t out[32])
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (len != 64)
        return ADMIT_ERR_INVALID;
    if (sodium_hex2bin(out, 32, hex, len, NULL, &bin_len, &end) != 0 || bin_len != 32 ||
        end != hex + len)
        return ADMIT_ERR_INVALID;
    return ADMIT_OK;
}

enum admit_rc admit_key_public_parse(const char *hex, struct admit_public_key *key)
{
    enum admit_rc rc = hex32(hex, strlen(hex), key->pk);
    if (rc == ADMIT_OK)
        key->key_id = admit_key_id(key->pk);
    return rc;
}

void admit_key_generate(struct admit_signing_key *key)
{
    crypto_sign_keypair(key->pk, key->sk);
    key->key_id = admit_key_id(key->pk);
}

void admit_key_wipe(struct admit_signing_key *key)
{
    sodium_memzero(key, sizeof *key);
}

/* Writes len bytes to a new file (O_EXCL) with the given mode and fsyncs it. */
static enum admit_rc write_new_file(const char *path, const char *content, size_t len, mode_t mode)
{
    enum admit_rc rc = ADMIT_ERR_IO;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? ADMIT_ERR_EXISTS : ADMIT_ERR_IO;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, content + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto done;
        off += (size_t)n;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
        goto done;
    rc = ADMIT_OK;
done:
    if (close(fd) != 0 && rc == ADMIT_OK)
        rc = ADMIT_ERR_IO;
    if (rc != ADMIT_OK) {
        int saved = errno;
        unlink(path);
        errno = saved;
    }
    return rc;
}

static void join_path(char *out, size_t cap, const char *dir, const char *file)
{
    snprintf(out, cap, "%s/%s", dir, file);
}

enum admit_rc admit_key_write_files(const char *dir, const struct admit_signing_key *key)
{
    enum admit_rc rc = ADMIT_ERR_IO;
    char secret_path[PATH_MAX], public_path[PATH_MAX];
    char secret_text[KEY_FILE_LEN + 1], public_text[KEY_FILE_LEN + 1];
    char hex[65];
    struct stat st;

    if (strlen(dir) + sizeof ADMIT_KEY_SECRET_FILE + 1 > PATH_MAX) {
        errno = ENAMETOOLONG;
        return ADMIT_ERR_IO;
    }
    join_path(secret_path, sizeof secret_path, dir, ADMIT_KEY_SECRET_FILE);
    join_path(public_path, sizeof public_path, dir, ADMIT_KEY_PUBLIC_FILE);
    if (lstat(secret_path, &st) == 0 || lstat(public_path, &st) == 0)
        return ADMIT_ERR_EXISTS;

    /* The file keeps the 32-byte seed; the 64-byte libsodium secret key is derived from it. */
    sodium_bin2hex(hex, sizeof hex, key->sk, 32);
    snprintf(secret_text, sizeof secret_text, "%s%s\n", SECRET_TAG, hex);
    sodium_bin2hex(hex, sizeof hex, key->pk, 32);
    snprintf(public_text, sizeof public_text, "%s%s\n", PUBLIC_TAG, hex);

    rc = write_new_file(secret_path, secret_text, KEY_FILE_LEN, 0600);
    if (rc != ADMIT_OK)
        goto done;
    rc = write_new_file(public_path, public_text, KEY_FILE_LEN, 0644);
    if (rc != ADMIT_OK) {
        int saved = errno;
        unlink(secret_path);
        errno = saved;
    }
done:
    sodium_memzero(secret_text, sizeof secret_text);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

/* Reads a whole key file (at most KEY_FILE_LEN + 1 bytes, to detect longer files) into out.
 * With secret set, refuses files that group or others can access. */
static enum admit_rc read_key_file(const char *path, int secret, char *out, size_t cap, size_t *len)
{
    enum admit_rc rc = ADMIT_ERR_IO;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ADMIT_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto done;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        rc = ADMIT_ERR_INVALID;
        goto done;
    }
    if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        rc = ADMIT_ERR_PERMISSION;
        goto done;
    }
    size_t off = 0;
    for (;;) {
        ssize_t n = read(fd, out + off, cap - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto done;
        if (n == 0 || off + (size_t)n == cap) {
            off += (size_t)n;
            break;
        }
        off += (size_t)n;
    }
    *len = off;
    rc = ADMIT_OK;
done:
    close(fd);
    return rc;
}

/* Checks "TAG<64 hex>\n" (the newline optional) and decodes the 32 bytes. */
static enum admit_rc parse_key_text(const char *text, size_t len, const char *tag, uint8_t out[32])
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len != TAG_LEN + 64 || memcmp(text, tag, TAG_LEN) != 0)
        return ADMIT_ERR_INVALID;
    return hex32(text + TAG_LEN, 64, out);
}

enum admit_rc admit_key_load_secret(const char *path, struct admit_signing_key *key)
{
    char text[KEY_FILE_LEN + 2];
    uint8_t seed[32];
    size_t len = 0;
    enum admit_rc rc = read_key_file(path, 1, text, sizeof text, &len);
    if (rc != ADMIT_OK)
        goto done;
    rc = parse_key_text(text, len, SECRET_TAG, seed);
    if (rc != ADMIT_OK)
        goto done;
    crypto_sign_seed_keypair(key->pk, key->sk, seed);
    key->key_id = admit_key_id(key->pk);
done:
    sodium_memzero(text, sizeof text);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

enum admit_rc admit_key_load_public(const char *path, struct admit_public_key *key)
{
    char text[KEY_FILE_LEN + 2];
    size_t len = 0;
    enum admit_rc rc = read_key_file(path, 0, text, sizeof text, &len);
    if (rc != ADMIT_OK)
        goto done;
    if (len >= TAG_LEN && memcmp(text, SECRET_TAG, TAG_LEN) == 0) {
        /* A secret key file names its public half too; it must still be private. */
        struct admit_signing_key signing;
        sodium_memzero(text, sizeof text);
        rc = admit_key_load_secret(path, &signing);
        if (rc == ADMIT_OK) {
            memcpy(key->pk, signing.pk, sizeof key->pk);
            key->key_id = signing.key_id;
        }
        admit_key_wipe(&signing);
        goto done;
    }
    rc = parse_key_text(text, len, PUBLIC_TAG, key->pk);
    if (rc == ADMIT_OK)
        key->key_id = admit_key_id(key->pk);
done:
    sodium_memzero(text, sizeof text);
    return rc;
}

void admit_keyring_init(struct admit_keyring *ring)
{
    ring->keys = NULL;
    ring->count = 0;
    ring->own = NULL;
}

void admit_keyring_add(struct admit_keyring *ring, const struct admit_public_key *key)
{
    for (size_t i = 0; i < ring->count; i++)
        if (memcmp(ring->keys[i].pk, key->pk, sizeof key->pk) == 0)
            return;
    ring->keys = admit_xrealloc(ring->keys, (ring->count + 1) * sizeof *ring->keys);
    ring->keys[ring->count++] = *key;
}

void admit_keyring_add_public_of(struct admit_keyring *ring, const struct admit_signing_key *key)
{
    struct admit_public_key pub = {.key_id = key->key_id};
    memcpy(pub.pk, key->pk, sizeof pub.pk);
    admit_keyring_add(ring, &pub);
}

void admit_keyring_add_own(struct admit_keyring *ring, const struct admit_signing_key *key)
{
    admit_keyring_add_public_of(ring, key);
    ring->own = key;
}

const struct admit_public_key *admit_keyring_find(const struct admit_keyring *ring, uint32_t key_id)
{
    for (size_t i = 0; i < ring->count; i++)
        if (ring->keys[i].key_id == key_id)
            return &ring->keys[i];
    return NULL;
}

void admit_keyring_free(struct admit_keyring *ring)
{
    free(ring->keys);
    ring->keys = NULL;
    ring->count = 0;
    ring->own = NULL;
}
