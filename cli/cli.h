/* The admit subcommands: one table entry per command, one file per family. */
#ifndef ADMIT_CLI_H
#define ADMIT_CLI_H

#include <stdio.h>

#include "admit/core/opts.h"
#include "admit/core/rc.h"

extern const struct cli_cmd cli_keygen_cmd;
extern const struct cli_cmd cli_ticket_cmd;
extern const struct cli_cmd cli_verify_cmd;
extern const struct cli_cmd cli_migrate_cmd;
extern const struct cli_cmd cli_event_create_cmd;
extern const struct cli_cmd cli_event_capacity_cmd;
/* Organisers (cli/admin.c) and CSV exports and imports (cli/export.c). */
extern const struct cli_cmd cli_admin_add_cmd;
extern const struct cli_cmd cli_admin_password_cmd;
extern const struct cli_cmd cli_admin_remove_cmd;
extern const struct cli_cmd cli_admin_list_cmd;
extern const struct cli_cmd cli_export_cmd;
extern const struct cli_cmd cli_import_cmd;
/* Door check-in (cli/device.c, cli/scan.c, cli/sync.c). */
extern const struct cli_cmd cli_device_add_cmd;
extern const struct cli_cmd cli_device_revoke_cmd;
extern const struct cli_cmd cli_device_list_cmd;
extern const struct cli_cmd cli_scan_cmd;
extern const struct cli_cmd cli_sync_cmd;
/* The e-mail outbox's sender (cli/mailer.c). */
extern const struct cli_cmd cli_mailer_cmd;
/* Personal data: retention and erasure on request (cli/purge.c, cli/erase.c). */
extern const struct cli_cmd cli_purge_cmd;
extern const struct cli_cmd cli_erase_cmd;
extern const struct cli_cmd cli_access_cmd; /* cli/access.c */
/* Paper: badges, releasing certificates (cli/print.c). */
extern const struct cli_cmd cli_print_badges_cmd;
extern const struct cli_cmd cli_print_certificates_cmd;
/* The evidence pack (cli/evidence.c). */
extern const struct cli_cmd cli_evidence_verify_cmd;
extern const struct cli_cmd cli_evidence_cmd;

/* clang-format 14 breaks a braced initialiser inside a macro onto lines of its own: these
 * option rows stay in the layout of the tables they join. */
/* clang-format off */
/* The --db option every database command shares. */
#define CLI_OPT_DB                                                                                 \
    {"db", 0, CLI_STRING, "DSN", "ADMIT_DATABASE_URL", NULL, 0, 0, CLI_REQUIRED,                \
     "PostgreSQL connection string (e.g. \"host=/path/run dbname=admit\")"}

/* The options admit scan and admit sync share (cli/scan.c, cli/sync.c). */
#define CLI_OPT_SCAN_SERVER                                                                        \
    {"server", 's', CLI_STRING, "URL", "ADMIT_SCAN_SERVER", NULL, 0, 0, CLI_REQUIRED,           \
     "admitd's address, e.g. http://10.0.0.2:8080"}
#define CLI_OPT_SCAN_TOKEN                                                                         \
    {"token", 't', CLI_STRING, "TOKEN", "ADMIT_SCAN_TOKEN", NULL, 0, 0, 0,                      \
     "the device token from admit device add: needed once, then kept in the state folder "      \
     "(prefer the variable: other users can see command lines)"}
#define CLI_OPT_SCAN_EVENT                                                                         \
    {"event", 'e', CLI_STRING, "SLUG", "ADMIT_SCAN_EVENT", NULL, 0, 0, 0,                       \
     "the event, when this computer scans for several events of the server"}
#define CLI_OPT_SCAN_CA_FILE                                                                       \
    {"ca-file", 0, CLI_STRING, "FILE", "ADMIT_SCAN_CA_FILE", NULL, 0, 0, 0,                     \
     "certificate authorities (PEM) to trust for an https server with a private CA (default: "  \
     "the system's)"}
#define CLI_OPT_SCAN_STATE_DIR                                                                     \
    {"state-dir", 0, CLI_STRING, "DIR", "ADMIT_STATE_DIR", NULL, 0, 0, 0,                       \
     "where the scanner keeps its state (default: $XDG_STATE_HOME/admit, else "                 \
     "~/.local/state/admit)"}
/* clang-format on */

/* One line on stderr saying why the key file at path (what: "signing key", "public key") could
 * not be used, from the rc of admit_key_*_read (cli/keygen.c). */
void cli_key_error(const struct cli_args *args, const char *what, const char *path,
                   enum admit_rc rc);

/* Reads one line of at most cap - 1 bytes (without its newline) into buf. Returns 1 when a line
 * was read, 0 at end of input. A longer line is consumed whole and reported with *too_long. */
int cli_read_line(FILE *in, char *buf, size_t cap, size_t *len, int *too_long);

#endif
