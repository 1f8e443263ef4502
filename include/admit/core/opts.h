/* Table-driven option parsing for the admit subcommands: each command declares its options once
 * (name, argument, environment variable, bounds, help) and --help is generated from that table. */
#ifndef ADMIT_CLI_OPTS_H
#define ADMIT_CLI_OPTS_H

#include <stddef.h>

enum cli_type {
    CLI_FLAG,   /* no argument; counted */
    CLI_STRING, /* any text */
    CLI_UINT,   /* decimal integer within [min, max] */
};

enum {
    CLI_REQUIRED = 1 << 0, /* must be given (on the command line or through env) */
    CLI_REPEAT = 1 << 1,   /* may be given several times; all values are kept */
};

struct cli_opt {
    const char *name; /* long option name without the dashes */
    char short_name;  /* 0 for none */
    enum cli_type type;
    const char *arg; /* placeholder shown in help, e.g. "FILE" */
    const char *env; /* environment variable used when the option is absent, or NULL */
    const char *def; /* default value as text, or NULL */
    unsigned long min, max;
    unsigned flags;
    const char *help;
};

struct cli_args;

struct cli_cmd {
    const char *name;       /* e.g. "keygen"; NULL for a program without subcommands (admitd) */
    const char *positional; /* e.g. "[PAYLOAD]", shown in usage; NULL if none are accepted */
    const char *summary;
    const struct cli_opt *opts; /* terminated by an entry with name == NULL */
    int (*run)(const struct cli_args *args);
};

#define CLI_MAX_OPTS 32

struct cli_args {
    const struct cli_cmd *cmd;
    /* values[i] are the occurrences of cmd->opts[i]; count[i] how many. */
    const char **values[CLI_MAX_OPTS];
    size_t count[CLI_MAX_OPTS];
    char **positional;
    int npositional;
};

/* The program messages and help name: "admit" unless main sets it (admitd sets "admitd"). */
extern const char *cli_program;

/* Exit codes shared by every command. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_NEGATIVE = 1, CLI_EXIT_USAGE = 2 };

/* Parses argv (argv[0] is the command name). Returns CLI_EXIT_OK on success, CLI_EXIT_USAGE
 * after printing one line on stderr for a usage error, or -1 after printing help on stdout
 * (--help). Free with cli_args_free. */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out);
void cli_args_free(struct cli_args *args);

/* The last value of an option, else its environment variable, else its default, else NULL. */
const char *cli_get(const struct cli_args *args, const char *name);
/* All command-line values of a repeatable option (env and default are not consulted). */
size_t cli_get_all(const struct cli_args *args, const char *name, const char *const **values);
/* How many times a flag was given (an env value of "1"/"true"/"yes" counts as once). */
int cli_flag(const struct cli_args *args, const char *name);
/* The value of a CLI_UINT option, already checked against its bounds by cli_parse. */
unsigned long cli_get_uint(const struct cli_args *args, const char *name);

/* Prints "admit CMD: message" on stderr ("PROGRAM: message" when cmd->name is NULL). */
void cli_error(const struct cli_args *args, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
