/* Key files: modes, refusal to overwrite, permission checks, corrupt files, key ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "admit/core/fileio.h"
#include "admit/core/keys.h"

struct fixture {
    char dir[64];
    char secret[128], public[128];
};

static int setup(void **state)
{
    static struct fixture f;
    if (admit_init() != ADMIT_OK)
        return -1;
    snprintf(f.dir, sizeof f.dir, "/tmp/admit-test-keys-XXXXXX");
    if (mkdtemp(f.dir) == NULL)
        return -1;
    snprintf(f.secret, sizeof f.secret, "%s/%s", f.dir, ADMIT_KEY_SECRET_FILE);
    snprintf(f.public, sizeof f.public, "%s/%s", f.dir, ADMIT_KEY_PUBLIC_FILE);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->secret);
    unlink(f->public);
    rmdir(f->dir);
    return 0;
}

static void test_write_and_load(void **state)
{
    struct fixture *f = *state;
    struct admit_signing_key key, loaded;
    struct admit_public_key pub;
    struct stat st;

    admit_key_generate(&key);
    assert_int_equal(admit_key_write_files(f->dir, &key), ADMIT_OK);
    assert_int_equal(stat(f->secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(f->public, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    assert_int_equal(admit_key_load_secret(f->secret, &loaded), ADMIT_OK);
    assert_memory_equal(loaded.sk, key.sk, sizeof key.sk);
    assert_int_equal(loaded.key_id, key.key_id);
    assert_int_equal(admit_key_load_public(f->public, &pub), ADMIT_OK);
    assert_memory_equal(pub.pk, key.pk, 32);
    assert_int_equal(pub.key_id, key.key_id);
    /* A (private) secret key file also yields its public half. */
    assert_int_equal(admit_key_load_public(f->secret, &pub), ADMIT_OK);
    assert_int_equal(pub.key_id, key.key_id);

    /* Never overwritten, and the refusal leaves the original intact. */
    struct admit_signing_key other;
    admit_key_generate(&other);
    assert_int_equal(admit_key_write_files(f->dir, &other), ADMIT_ERR_EXISTS);
    assert_int_equal(admit_key_load_secret(f->secret, &loaded), ADMIT_OK);
    assert_int_equal(loaded.key_id, key.key_id);

    admit_key_wipe(&key);
    admit_key_wipe(&other);
    admit_key_wipe(&loaded);
    for (size_t i = 0; i < sizeof loaded.sk; i++)
        assert_int_equal(loaded.sk[i], 0);
}

static void test_secret_permissions(void **state)
{
    struct fixture *f = *state;
    struct admit_signing_key key;
    struct admit_public_key pub;
    assert_int_equal(chmod(f->secret, 0640), 0);
    assert_int_equal(admit_key_load_secret(f->secret, &key), ADMIT_ERR_PERMISSION);
    assert_int_equal(admit_key_load_public(f->secret, &pub), ADMIT_ERR_PERMISSION);
    assert_int_equal(chmod(f->secret, 0604), 0);
    assert_int_equal(admit_key_load_secret(f->secret, &key), ADMIT_ERR_PERMISSION);
    assert_int_equal(chmod(f->secret, 0400), 0);
    assert_int_equal(admit_key_load_secret(f->secret, &key), ADMIT_OK);
    admit_key_wipe(&key);
}

static void test_bad_files(void **state)
{
    struct fixture *f = *state;
    struct admit_signing_key key;
    struct admit_public_key pub;
    char path[160];
    snprintf(path, sizeof path, "%s/bad", f->dir);

    assert_int_equal(admit_key_load_public("/nonexistent/admit.pub", &pub), ADMIT_ERR_IO);
    assert_int_equal(admit_key_load_public(f->dir, &pub), ADMIT_ERR_INVALID); /* a folder */

    static const char *const bad[] = {
        "",
        "admit-ed25519-public-v1 \n",
        "admit-ed25519-public-v1 "
        "zz00000000000000000000000000000000000000000000000000000000000000\n",
        "admit-ed25519-public-v1 00000000000000000000000000000000000000000000000000000000000000\n",
        "admit-ed25519-public-v1 "
        "000000000000000000000000000000000000000000000000000000000000000000\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(admit_file_write_atomic(path, bad[i], strlen(bad[i]), 0600), ADMIT_OK);
        assert_int_equal(admit_key_load_public(path, &pub), ADMIT_ERR_INVALID);
        assert_int_equal(admit_key_load_secret(path, &key), ADMIT_ERR_INVALID);
    }
    unlink(path);
}

static void test_key_id_and_hex(void **state)
{
    (void)state;
    struct admit_public_key a, b;
    char id[ADMIT_KEY_ID_STRLEN], hex[ADMIT_KEY_PUBLIC_HEXLEN];
    memset(a.pk, 0x11, 32);
    a.key_id = admit_key_id(a.pk);
    admit_key_id_format(0x0000abcd, id);
    assert_string_equal(id, "0000abcd");
    admit_key_public_format(&a, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(admit_key_public_parse(hex, &b), ADMIT_OK);
    assert_memory_equal(a.pk, b.pk, 32);
    assert_int_equal(a.key_id, b.key_id);
    assert_int_equal(admit_key_public_parse("abc", &b), ADMIT_ERR_INVALID);
    hex[10] = 'g';
    assert_int_equal(admit_key_public_parse(hex, &b), ADMIT_ERR_INVALID);
    /* Key ids differ for different keys (a 32-bit hash: collisions are possible but not here). */
    memset(b.pk, 0x12, 32);
    assert_int_not_equal(admit_key_id(a.pk), admit_key_id(b.pk));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_and_load),
        cmocka_unit_test(test_secret_permissions),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_key_id_and_hex),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
