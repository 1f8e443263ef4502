/* admit ticket / admit verify: issue a signed ticket, check tickets the way a door does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/buf.h"
#include "admit/fileio.h"
#include "admit/keys.h"
#include "admit/qr.h"
#include "admit/ticket.h"
#include "cli.h"

#define IMAGE_MAX (4u << 20)
/* Longer scanner lines than this cannot be tickets; they are reported as the wrong length. */
#define LINE_MAX_BYTES 1024

static const struct cli_opt ticket_opts[] = {
    {"key", 'k', CLI_STRING, "FILE", "ADMIT_SIGNING_KEY", NULL, 0, 0, CLI_REQUIRED,
     "secret ticket-signing key (mode 0600)"},
    {"event", 'e', CLI_UINT, "N", NULL, NULL, 1, UINT32_MAX, CLI_REQUIRED, "event id"},
    {"attendee", 'a', CLI_UINT, "N", NULL, NULL, 1, UINT32_MAX, CLI_REQUIRED, "attendee id"},
    {"reissue", 'r', CLI_UINT, "N", NULL, "0", 0, UINT16_MAX, 0,
     "reissue counter (a reissued ticket invalidates the older ones)"},
    {"svg", 0, CLI_STRING, "FILE", NULL, NULL, 0, 0, 0, "also write the QR code as SVG"},
    {"png", 0, CLI_STRING, "FILE", NULL, NULL, 0, 0, 0, "also write the QR code as PNG"},
    {"module-px", 0, CLI_UINT, "N", NULL, "8", 1, ADMIT_QR_MODULE_PX_MAX, 0,
     "PNG pixels per QR module"},
    {0},
};

/* Describes why a key file could not be used, in one line. */
static void key_error(const struct cli_args *args, const char *what, const char *path,
                      enum admit_rc rc)
{
    if (rc == ADMIT_ERR_PERMISSION)
        cli_error(args, "%s %s is readable by other users; run chmod 600 %s", what, path, path);
    else if (rc == ADMIT_ERR_INVALID)
        cli_error(args, "%s %s is not an admit key file", what, path);
    else
        cli_error(args, "cannot read %s %s: %s", what, path, strerror(errno));
}

static int write_image(const struct cli_args *args, const struct admit_qr *qr, const char *path,
                       int png)
{
    struct admit_buf out;
    int status = CLI_EXIT_USAGE;
    admit_buf_init(&out, IMAGE_MAX);
    enum admit_rc rc = png ? admit_qr_png(qr, (unsigned)cli_get_uint(args, "module-px"), &out)
                           : admit_qr_svg(qr, &out);
    if (rc != ADMIT_OK) {
        cli_error(args, "cannot render %s: %s", path, admit_strerror(rc));
        goto done;
    }
    if (admit_file_write_atomic(path, out.data, out.len, 0644) != ADMIT_OK) {
        cli_error(args, "cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    status = CLI_EXIT_OK;
done:
    admit_buf_free(&out);
    return status;
}

static int run_ticket(const struct cli_args *args)
{
    const char *key_path = cli_get(args, "key");
    const char *svg = cli_get(args, "svg");
    const char *png = cli_get(args, "png");
    struct admit_signing_key key;
    struct admit_qr *qr = NULL;
    char text[ADMIT_TICKET_TEXT_MAX];
    int status = CLI_EXIT_USAGE;

    enum admit_rc rc = admit_key_load_secret(key_path, &key);
    if (rc != ADMIT_OK) {
        key_error(args, "signing key", key_path, rc);
        goto done;
    }
    rc = admit_ticket_sign(&key, (uint32_t)cli_get_uint(args, "event"),
                           (uint32_t)cli_get_uint(args, "attendee"),
                           (uint16_t)cli_get_uint(args, "reissue"), text);
    if (rc != ADMIT_OK) {
        cli_error(args, "cannot sign: %s", admit_strerror(rc));
        goto done;
    }
    if (svg != NULL || png != NULL) {
        rc = admit_qr_encode(text, &qr);
        if (rc != ADMIT_OK) {
            cli_error(args, "cannot encode the QR code: %s", admit_strerror(rc));
            goto done;
        }
        if (svg != NULL && write_image(args, qr, svg, 0) != CLI_EXIT_OK)
            goto done;
        if (png != NULL && write_image(args, qr, png, 1) != CLI_EXIT_OK)
            goto done;
    }
    printf("%s\n", text);
    status = CLI_EXIT_OK;
done:
    admit_qr_free(qr);
    admit_key_wipe(&key);
    return status;
}

const struct cli_cmd cli_ticket_cmd = {
    "ticket", NULL, "sign a ticket, print its payload text and optionally write its QR code",
    ticket_opts, run_ticket};

static const struct cli_opt verify_opts[] = {
    {"pub", 'p', CLI_STRING, "FILE", "ADMIT_PUBLIC_KEY", NULL, 0, 0, CLI_REQUIRED | CLI_REPEAT,
     "trusted public key file (a secret key file works too)"},
    {0},
};

/* Checks one normalised payload and prints its verdict line; returns 1 when valid. */
static int verify_one(const struct admit_keyring *ring, const char *line, size_t len,
                      int too_long)
{
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
            key_error(args, "public key", paths[i], rc);
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
