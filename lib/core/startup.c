#include "admit/core/startup.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/mem.h"
#include "admit/core/migrate.h"

/* Longest path of a key file. */
#define PATH_MAX_BYTES 4096

static enum admit_rc load_secret(const char *dir, struct admit_buf *path,
                                 struct admit_signing_key *key, struct admit_error *err)
{
    if (admit_buf_printf(path, "%s/%s", dir, ADMIT_KEY_SECRET_FILE) != ADMIT_OK) {
        admit_error_set(err, "--keys %s: path too long", dir);
        return ADMIT_ERR_TOO_LARGE;
    }
    enum admit_rc rc = admit_key_load_secret(admit_buf_cstr(path), key);
    if (rc == ADMIT_ERR_PERMISSION)
        admit_error_set(err, "%s is readable by group or others: chmod 600 it",
                        admit_buf_cstr(path));
    else if (rc == ADMIT_ERR_IO)
        admit_error_set(err, "cannot read %s: %s (create a key with admit keygen --dir %s)",
                        admit_buf_cstr(path), strerror(errno), dir);
    else if (rc != ADMIT_OK)
        admit_error_set(err, "%s is not a ticket-signing key file", admit_buf_cstr(path));
    return rc;
}

/* Every dir/NAME.pub into ring. */
static enum admit_rc load_public(const char *dir, struct admit_buf *path,
                                 struct admit_keyring *ring, struct admit_error *err)
{
    enum admit_rc rc = ADMIT_ERR_IO;
    DIR *d = opendir(dir);
    if (d == NULL) {
        admit_error_set(err, "cannot list %s: %s", dir, strerror(errno));
        return rc;
    }
    for (;;) {
        errno = 0;
        const struct dirent *entry = readdir(d);
        if (entry == NULL) {
            if (errno != 0) {
                admit_error_set(err, "cannot list %s: %s", dir, strerror(errno));
                goto done;
            }
            break;
        }
        size_t n = strlen(entry->d_name);
        if (entry->d_name[0] == '.' || n < 5 || strcmp(entry->d_name + n - 4, ".pub") != 0)
            continue;
        struct admit_public_key pub;
        admit_buf_reset(path);
        rc = admit_buf_printf(path, "%s/%s", dir, entry->d_name);
        if (rc == ADMIT_OK)
            rc = admit_key_load_public(admit_buf_cstr(path), &pub);
        if (rc != ADMIT_OK) {
            admit_error_set(err, "%s is not a readable public key file", admit_buf_cstr(path));
            goto done;
        }
        admit_keyring_add(ring, &pub);
    }
    rc = ADMIT_OK;
done:
    closedir(d);
    return rc;
}

enum admit_rc admit_startup_keys(const char *dir, struct admit_signing_key *key,
                                 struct admit_keyring *ring, struct admit_error *err)
{
    struct admit_buf path;
    admit_error_clear(err);
    admit_buf_init(&path, PATH_MAX_BYTES);
    enum admit_rc rc = load_secret(dir, &path, key, err);
    if (rc == ADMIT_OK && ring != NULL) {
        admit_keyring_add_own(ring, key);
        rc = load_public(dir, &path, ring, err);
    }
    admit_buf_free(&path);
    return rc;
}

enum admit_rc admit_startup_public_url(const char *url, char **out, struct admit_error *err)
{
    admit_error_clear(err);
    *out = NULL;
    if (url == NULL) {
        *out = admit_xstrdup("");
        return ADMIT_OK;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0 || n <= scheme || strpbrk(url, " \t\r\n\"<>") != NULL) {
        admit_error_set(err, "--public-url \"%s\": expected http://HOST or https://HOST", url);
        return ADMIT_ERR_INVALID;
    }
    *out = admit_xstrndup(url, n);
    return ADMIT_OK;
}

enum admit_rc admit_startup_templates(const char *dir, const char *const *required,
                                      struct admit_tmpl_set **out, struct admit_error *err)
{
    struct admit_error why;
    admit_error_clear(err);
    enum admit_rc rc = admit_tmpl_set_load_dir(dir, out, &why);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot load the templates: %s", why.message);
        return rc;
    }
    for (size_t i = 0; required != NULL && required[i] != NULL; i++) {
        if (!admit_tmpl_set_has(*out, required[i])) {
            admit_error_set_field(err, required[i]);
            admit_error_set(err, "%s/%s is missing", dir, required[i]);
            admit_tmpl_set_free(*out);
            *out = NULL;
            return ADMIT_ERR_NOT_FOUND;
        }
    }
    return ADMIT_OK;
}

enum admit_rc admit_startup_database(struct admit_db *db, const char *program,
                                     struct admit_error *err)
{
    int applied = 0, expected = 0;
    admit_error_clear(err);
    enum admit_rc rc = admit_db_connect(db);
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot connect to the database: %s", admit_db_error(db));
        return rc;
    }
    rc = admit_migrate_check(db, &applied, &expected);
    if (rc == ADMIT_ERR_STATE && applied < expected) {
        admit_error_set(err,
                        "database is at migration %d of %d: run admit migrate --db ... (with the "
                        "same connection string) first",
                        applied, expected);
        return rc;
    }
    if (rc == ADMIT_ERR_STATE) {
        admit_error_set(err,
                        "database has migrations this %s does not know (it knows %d): upgrade %s",
                        program, expected, program);
        return rc;
    }
    if (rc != ADMIT_OK) {
        admit_error_set(err, "cannot read the database's migrations: %s", admit_db_error(db));
        return rc;
    }
    rc = admit_db_ready(db);
    if (rc != ADMIT_OK)
        admit_error_set(err, "the database does not accept %s's queries: %s", program,
                        admit_db_error(db));
    return rc;
}
