/* admit verify: check tickets the way a door does offline, against public key files; and
 * certificates of attendance ("AC1:...", lib/print/certificate.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/keys.h"
#include "admit/core/ticket.h"
#include "admit/print/certificate.h"
#include "cli.h"

/* Longer scanner lines than this cannot be tickets; they are reported as the wrong length. */
#define LINE_MAX_BYTES 1024

static const struct cli_opt verify_opts[] = {
    {"pub", 'p', CLI_STRING, "FILE", "ADMIT_PUBLIC_KEY", NULL, 0, 0, CLI_REQUIRED | CLI_REPEAT,
     "trusted public key file (a secret key file works too)"},
    {0},
};

/* A certificate of attendance ("AC1:...", admit/print/certificate.h): its verdict line, offline
 * (the names of the lists are on /verify, which has the database). Returns 1 when valid. */
static int verify_certificate(const struct admit_keyring *ring, const char *line, size_t len)
{
    struct admit_certificate c;
    enum admit_certificate_error err = admit_certificate_verify(line, len, ring, &c);
    if (err != ADMIT_CERTIFICATE_VALID) {
        printf("invalid certificate: %s\n", admit_certificate_strerror(err));
    } else {
        char id[ADMIT_KEY_ID_STRLEN];
        admit_key_id_format(c.key_id, id);
        printf("valid certificate event=%lu attendee=%lu lists=", (unsigned long)c.event_id,
               (unsigned long)c.attendee_id);
        for (size_t i = 0; i < c.list_count; i++)
            printf("%s%lu", i ? "," : "", (unsigned long)c.list_ids[i]);
        printf(" key=%s\n", id);
    }
    fflush(stdout);
    return err == ADMIT_CERTIFICATE_VALID;
}

/* Checks one normalised payload and prints its verdict line; returns 1 when valid. */
static int verify_one(const struct admit_keyring *ring, const char *line, size_t len, int too_long)
{
    if (!too_long && len >= 2 && line[0] == 'A' && line[1] == 'C')
        return verify_certificate(ring, line, len);
    struct admit_ticket t;
    enum admit_ticket_error err = ADMIT_TICKET_WRONG_LENGTH;
    if (!too_long)
        err = admit_ticket_verify(line, len, ring, &t);
    if (err != ADMIT_TICKET_VALID) {
        printf("invalid: %s\n", admit_ticket_strerror(err));
    } else {
        char id[ADMIT_KEY_ID_STRLEN];
        admit_key_id_format(t.key_id, id);
        printf("valid event=%lu attendee=%lu reissue=%u key=%s\n", (unsigned long)t.event_id,
               (unsigned long)t.attendee_id, (unsigned)t.reissue, id);
    }
    fflush(stdout); /* a person is waiting at the door for this line */
    return err == ADMIT_TICKET_VALID;
}

static int run_verify(const struct cli_args *args)
{
    struct admit_keyring ring;
    const char *const *paths;
    const char *env_path[1];
    size_t npaths = cli_get_all(args, "pub", &paths);
    int status = CLI_EXIT_USAGE;
    int all_valid = 1;

    admit_keyring_init(&ring);
    if (npaths == 0) {
        env_path[0] = cli_get(args, "pub");
        paths = env_path;
        npaths = 1;
    }
    for (size_t i = 0; i < npaths; i++) {
        struct admit_public_key key;
        enum admit_rc rc = admit_key_load_public(paths[i], &key);
        if (rc != ADMIT_OK) {
            cli_key_error(args, "public key", paths[i], rc);
            goto done;
        }
        admit_keyring_add(&ring, &key);
    }
    if (args->npositional > 1) {
        cli_error(args, "give one PAYLOAD, or none to read one per line from stdin");
        goto done;
    }
    if (args->npositional == 1) {
        char *line = args->positional[0];
        size_t len = admit_ticket_normalize(line, strlen(line));
        all_valid = verify_one(&ring, line, len, 0);
    } else {
        char line[LINE_MAX_BYTES];
        size_t len;
        int too_long;
        while (cli_read_line(stdin, line, sizeof line, &len, &too_long)) {
            if (!too_long)
                len = admit_ticket_normalize(line, len);
            if (!too_long && len == 0)
                continue; /* blank lines are not scans */
            if (!verify_one(&ring, line, len, too_long))
                all_valid = 0;
        }
        if (ferror(stdin)) {
            cli_error(args, "cannot read stdin: %s", strerror(errno));
            goto done;
        }
    }
    status = all_valid ? CLI_EXIT_OK : CLI_EXIT_NEGATIVE;
done:
    admit_keyring_free(&ring);
    return status;
}

const struct cli_cmd cli_verify_cmd = {
    "verify", "[PAYLOAD]",
    "verify ticket payloads (the argument, or one per line on stdin) against public keys",
    verify_opts, run_verify};
