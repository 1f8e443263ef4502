/* admit: the operator's command-line tool. Dispatches to one subcommand from the table below. */
#include <stdio.h>
#include <string.h>

#include "admit/core/keys.h"
#include "cli.h"

/* One entry a line: a table to read down (clang-format would fill the lines). */
/* clang-format off */
static const struct cli_cmd *const commands[] = {
    &cli_keygen_cmd,
    &cli_ticket_cmd,
    &cli_verify_cmd,
    &cli_migrate_cmd,
    &cli_event_create_cmd,
    &cli_event_capacity_cmd,
    &cli_admin_add_cmd,
    &cli_admin_password_cmd,
    &cli_admin_remove_cmd,
    &cli_admin_list_cmd,
    &cli_export_cmd,
    &cli_import_cmd,
    &cli_device_add_cmd,
    &cli_device_revoke_cmd,
    &cli_device_list_cmd,
    &cli_scan_cmd,
    &cli_sync_cmd,
    &cli_mailer_cmd,
    &cli_purge_cmd,
    &cli_erase_cmd,
    &cli_access_cmd,
    &cli_print_badges_cmd,
    &cli_print_certificates_cmd,
    &cli_evidence_verify_cmd, /* before "evidence", which would take "verify" as its own */
    &cli_evidence_cmd,
};
/* clang-format on */
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "Usage: admit COMMAND [OPTIONS]\n\n"
                 "admit: event registration and check-in. Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-16s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nRun 'admit COMMAND --help' for a command's options (all of them: man admit;\n"
                 "admit --help-man prints its source).\n"
                 "Exit status: 0 success, 1 a negative answer (an invalid ticket), "
                 "2 a usage or configuration error.\n");
}

/* How many words of argv (after the program name) name cmd: 0 when it is not cmd. */
static int matches(const char *name, int argc, char **argv)
{
    const char *space = strchr(name, ' ');
    if (space == NULL)
        return strcmp(argv[1], name) == 0 ? 1 : 0;
    size_t family = (size_t)(space - name);
    if (strlen(argv[1]) != family || strncmp(argv[1], name, family) != 0)
        return 0;
    return argc > 2 && strcmp(argv[2], space + 1) == 0 ? 2 : 0;
}

/* "admit event" or "admit event --help": lists the actions of a command family. Returns 1 if
 * argv[1] names a family. Help goes to stdout, a missing action to stderr. */
static int family_usage(int argc, char **argv)
{
    int help = argc > 2 && strcmp(argv[2], "--help") == 0;
    int found = 0;
    size_t n = strlen(argv[1]);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *name = commands[i]->name;
        if (strncmp(name, argv[1], n) != 0 || name[n] != ' ')
            continue;
        if (!found && !help)
            fprintf(stderr, "admit %s: missing or unknown action (see admit %s --help)\n", argv[1],
                    argv[1]);
        if (!found && help)
            printf("Usage: admit %s ACTION [OPTIONS]\n\nActions:\n", argv[1]);
        if (help)
            printf("  %-16s %s\n", name + n + 1, commands[i]->summary);
        found = 1;
    }
    return found;
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
    if (strcmp(argv[1], "--help-man") == 0) { /* every command's options, for admit(1) */
        for (size_t i = 0; i < NCOMMANDS; i++)
            cli_print_man(commands[i]);
        return CLI_EXIT_OK;
    }
    if (admit_init() != ADMIT_OK) {
        fprintf(stderr, "admit: cannot initialise libsodium\n");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        /* A command is one word ("migrate") or a family and an action ("event create"). */
        int words = matches(commands[i]->name, argc, argv);
        if (words == 0)
            continue;
        struct cli_args args;
        int rc = cli_parse(commands[i], argc - words, argv + words, &args);
        if (rc == -1)
            return CLI_EXIT_OK;
        if (rc != CLI_EXIT_OK)
            return rc;
        rc = commands[i]->run(&args);
        cli_args_free(&args);
        return rc;
    }
    if (family_usage(argc, argv))
        return argc > 2 && strcmp(argv[2], "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (argc > 2)
        fprintf(stderr, "admit: unknown command \"%s %s\" (see admit --help)\n", argv[1], argv[2]);
    else
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
