/* admit keygen: creates the ticket-signing key pair; and the one way every command reports a key
 * file it cannot use (cli_key_error). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admit/core/keys.h"
#include "cli.h"

static const struct cli_opt keygen_opts[] = {
    {"dir", 'd', CLI_STRING, "DIR", "ADMIT_KEYS_DIR", NULL, 0, 0, CLI_REQUIRED,
     "folder for ticket-signing.key (mode 0600) and ticket-signing.pub; created if missing"},
    {0},
};

static int run_keygen(const struct cli_args *args)
{
    const char *dir = cli_get(args, "dir");
    struct admit_signing_key key;
    char id[ADMIT_KEY_ID_STRLEN];
    int status = CLI_EXIT_USAGE;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        cli_error(args, "cannot create %s: %s", dir, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    admit_key_generate(&key);
    enum admit_rc rc = admit_key_write_files(dir, &key);
    if (rc == ADMIT_ERR_EXISTS) {
        cli_error(args, "%s already holds a key (%s or %s); refusing to overwrite it", dir,
                  ADMIT_KEY_SECRET_FILE, ADMIT_KEY_PUBLIC_FILE);
        goto done;
    }
    if (rc != ADMIT_OK) {
        cli_error(args, "cannot write the key files in %s: %s", dir, strerror(errno));
        goto done;
    }
    admit_key_id_format(key.key_id, id);
    printf("%s\n", id);
    fprintf(stderr, "admit keygen: wrote %s/%s (secret, mode 0600) and %s/%s\n", dir,
            ADMIT_KEY_SECRET_FILE, dir, ADMIT_KEY_PUBLIC_FILE);
    status = CLI_EXIT_OK;
done:
    admit_key_wipe(&key);
    return status;
}

const struct cli_cmd cli_keygen_cmd = {
    "keygen", NULL, "generate the Ed25519 ticket-signing key pair and print its key id",
    keygen_opts, run_keygen};

/* Describes why a key file could not be used, in one line. */
void cli_key_error(const struct cli_args *args, const char *what, const char *path,
                   enum admit_rc rc)
{
    if (rc == ADMIT_ERR_PERMISSION)
        cli_error(args, "%s %s is readable by other users; run chmod 600 %s", what, path, path);
    else if (rc == ADMIT_ERR_INVALID)
        cli_error(args, "%s %s is not an admit key file", what, path);
    else
        cli_error(args, "cannot read %s %s: %s", what, path, strerror(errno));
}
