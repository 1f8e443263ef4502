/* Table-driven option parsing for the admit subcommands and admitd: each command declares its
 * options once (name, argument, environment variable, bounds, help), and --help and the man
 * pages (--help-man) are generated from that table.
 *
 * Where a value comes from, first found wins: the command line; the option's environment
 * variable (ADMIT_X); the file named by ADMIT_X_FILE (for secrets: a DSN with its password, an
 * SMTP password; systemd credentials are such files, ADMIT_X_FILE=%d/NAME in a unit); the
 * default. ADMIT_X and ADMIT_X_FILE both set is a usage error, and so is a file that cannot be
 * read, that others may read, or that holds no single-line value; its content is never printed. */
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
    CLI_ENV_ONLY = 1 << 2, /* a secret: only its environment variable (or ADMIT_X_FILE), never a
                              command-line option, which other users of the machine can see */
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
    /* env[i]: cmd->opts[i]'s value from its variable or its file, NULL when neither is set. */
    const char *env[CLI_MAX_OPTS];
    char *file_values[CLI_MAX_OPTS]; /* owned, wiped when freed: the values read from files */
    char **positional;
    int npositional;
};

/* The program messages and help name: "admit" unless main sets it (admitd sets "admitd"). */
extern const char *cli_program;

/* Exit codes shared by every command. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_NEGATIVE = 1, CLI_EXIT_USAGE = 2 };

/* Parses argv (argv[0] is the command name) and reads the environment (ADMIT_X, ADMIT_X_FILE).
 * Returns CLI_EXIT_OK on success, CLI_EXIT_USAGE after printing one line on stderr for a usage
 * error, or -1 after printing help on stdout (--help, or --help-man: the options as man page
 * source, cli_print_man). Free with cli_args_free, which wipes the values read from files. */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out);
void cli_args_free(struct cli_args *args);

/* The last value of an option, else its environment variable, else the file its ADMIT_X_FILE
 * names, else its default, else NULL. Valid until cli_args_free. */
const char *cli_get(const struct cli_args *args, const char *name);
/* Whether the option was set (command line, variable or file), rather than left to default. */
int cli_given(const struct cli_args *args, const char *name);
/* All command-line values of a repeatable option (env and default are not consulted). */
size_t cli_get_all(const struct cli_args *args, const char *name, const char *const **values);
/* How many times a flag was given (an env value of "1"/"true"/"yes" counts as once). */
int cli_flag(const struct cli_args *args, const char *name);
/* The value of a CLI_UINT option, already checked against its bounds by cli_parse. */
unsigned long cli_get_uint(const struct cli_args *args, const char *name);

/* --templates (admitd, admit mailer): as given (command line, variable or file), else the
 * installed templates (ADMIT_DEFAULT_TEMPLATES, under the install prefix), except for a binary
 * run from the build folder it was built in, which uses the checkout's templates/: a build runs
 * as is, and an installed copy never reads a checkout. lib/core/templates_dir.c. */
const char *cli_templates_dir(const struct cli_args *args);

/* Prints cmd's options as man page source (roff) on stdout: under a subsection named after the
 * command when it has a name ("admit keygen"), as bare tagged paragraphs otherwise (admitd). */
void cli_print_man(const struct cli_cmd *cmd);

/* Prints "admit CMD: message" on stderr ("PROGRAM: message" when cmd->name is NULL). */
void cli_error(const struct cli_args *args, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
