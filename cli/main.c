/* admit: the operator's command-line tool. Dispatches to one subcommand from the table below. */
#include <stdio.h>
#include <string.h>

#include "admit/keys.h"
#include "cli.h"

static const struct cli_cmd *const commands[] = {
    &cli_keygen_cmd,
    &cli_ticket_cmd,
    &cli_verify_cmd,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "Usage: admit COMMAND [OPTIONS]\n\n"
                 "admit: event registration and check-in. Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nRun 'admit COMMAND --help' for a command's options.\n"
                 "Exit status: 0 success, 1 a negative answer (an invalid ticket), "
                 "2 a usage or configuration error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "admit: missing command (see admit --help)\n");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (admit_init() != ADMIT_OK) {
        fprintf(stderr, "admit: cannot initialise libsodium\n");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) != 0)
            continue;
        struct cli_args args;
        int rc = cli_parse(commands[i], argc - 1, argv + 1, &args);
        if (rc == -1)
            return CLI_EXIT_OK;
        if (rc != CLI_EXIT_OK)
            return rc;
        rc = commands[i]->run(&args);
        cli_args_free(&args);
        return rc;
    }
    fprintf(stderr, "admit: unknown command \"%s\" (see admit --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
}

int cli_read_line(FILE *in, char *buf, size_t cap, size_t *len, int *too_long)
{
    size_t n = 0;
    int got_any = 0;
    *too_long = 0;
    for (;;) {
        int c = getc(in);
        if (c == EOF)
            break;
        got_any = 1;
        if (c == '\n')
            break;
        if (n + 1 < cap)
            buf[n++] = (char)c;
        else
            *too_long = 1;
    }
    buf[n] = '\0';
    *len = n;
    return got_any;
}
