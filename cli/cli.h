/* The admit subcommands: one table entry per command, one file per family. */
#ifndef ADMIT_CLI_H
#define ADMIT_CLI_H

#include <stdio.h>

#include "opts.h"

extern const struct cli_cmd cli_keygen_cmd;
extern const struct cli_cmd cli_ticket_cmd;
extern const struct cli_cmd cli_verify_cmd;
extern const struct cli_cmd cli_migrate_cmd;
extern const struct cli_cmd cli_event_create_cmd;

/* The --db option every database command shares. */
#define CLI_OPT_DB                                                                                 \
    {"db", 0, CLI_STRING, "DSN", "ADMIT_DATABASE_URL", NULL, 0, 0, CLI_REQUIRED,                \
     "PostgreSQL connection string (e.g. \"host=/path/run dbname=admit\")"}

/* Reads one line of at most cap - 1 bytes (without its newline) into buf. Returns 1 when a line
 * was read, 0 at end of input. A longer line is consumed whole and reported with *too_long. */
int cli_read_line(FILE *in, char *buf, size_t cap, size_t *len, int *too_long);

#endif
