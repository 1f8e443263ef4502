/* admit ticket: issue a signed ticket, with its QR code as SVG or PNG. Checking them: verify.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/buf.h"
#include "admit/core/fileio.h"
#include "admit/core/keys.h"
#include "admit/core/qr.h"
#include "admit/core/ticket.h"
#include "cli.h"

#define IMAGE_MAX (4u << 20)

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
        cli_key_error(args, "signing key", key_path, rc);
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
