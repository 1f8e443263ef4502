#include "admit/core/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "admit/core/mem.h"
#include "admit/core/secret_file.h"

const char *cli_program = "admit";

/* getopt_long's value for --help-man (options use 256 + their index, --help 'h'). */
#define HELP_MAN 1
/* Room for a variable's name with "_FILE" after it. */
#define ENV_NAME_MAX 128

static size_t count_opts(const struct cli_cmd *cmd)
{
    size_t n = 0;
    while (cmd->opts != NULL && cmd->opts[n].name != NULL)
        n++;
    return n;
}

static void print_help(const struct cli_cmd *cmd)
{
    size_t n = count_opts(cmd);
    int any_env = 0;
    printf("Usage: %s%s%s [OPTIONS]%s%s\n\n%s\n\nOptions:\n", cli_program, cmd->name ? " " : "",
           cmd->name ? cmd->name : "", cmd->positional ? " " : "",
           cmd->positional ? cmd->positional : "", cmd->summary);
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        char left[64];
        any_env |= o->env != NULL && o->type != CLI_FLAG;
        if (o->flags & CLI_ENV_ONLY)
            snprintf(left, sizeof left, "    $%s", o->env);
        else if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        printf("  %-28s %s", left, o->help);
        if (o->flags & CLI_REQUIRED)
            printf(" (required)");
        if (o->flags & CLI_REPEAT)
            printf(" (repeatable)");
        if (o->type == CLI_UINT)
            printf(" [%lu..%lu]", o->min, o->max);
        if (o->def)
            printf(" [default: %s]", o->def);
        if (o->flags & CLI_ENV_ONLY)
            printf(" [environment only]");
        else if (o->env)
            printf(" [env: %s]", o->env);
        printf("\n");
    }
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
    printf("  %-28s %s\n", "    --help-man", "show the options as man page source and exit");
    if (any_env)
        printf("\nA setting with a variable (ADMIT_X) can instead be read from the file named by\n"
               "ADMIT_X_FILE, for secrets (e.g. ADMIT_DATABASE_URL_FILE=%%d/database-url in a\n"
               "systemd unit: a credential); that file must not be open to others.\n");
}

/* Writes text as roff: backslashes escaped, never a control character at a line's start. */
static void roff_text(const char *text)
{
    if (text[0] == '.' || text[0] == '\'')
        fputs("\\&", stdout);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\\')
            fputs("\\e", stdout);
        else if (*p == '-')
            fputs("\\-", stdout);
        else
            putchar(*p);
    }
}

void cli_print_man(const struct cli_cmd *cmd)
{
    size_t n = count_opts(cmd);
    if (cmd->name != NULL) {
        printf(".SS \"%s %s\"\n", cli_program, cmd->name);
        printf("\\fB%s %s\\fR [\\fIOPTIONS\\fR]", cli_program, cmd->name);
        if (cmd->positional) {
            putchar(' ');
            roff_text(cmd->positional);
        }
        printf("\n.br\n");
        roff_text(cmd->summary);
        putchar('\n');
    }
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        printf(".TP\n");
        if (o->flags & CLI_ENV_ONLY)
            printf("\\fB%s\\fR (environment only)", o->env);
        else if (o->short_name)
            printf("\\fB\\-%c\\fR, \\fB\\-\\-", o->short_name);
        else
            printf("\\fB\\-\\-");
        if (!(o->flags & CLI_ENV_ONLY)) {
            roff_text(o->name);
            printf("\\fR");
            if (o->arg) {
                printf(" \\fI");
                roff_text(o->arg);
                printf("\\fR");
            }
        }
        putchar('\n');
        roff_text(o->help);
        if (o->help[0] != '\0' && o->help[strlen(o->help) - 1] != '.')
            putchar('.');
        if (o->flags & CLI_REQUIRED)
            printf(" Required.");
        if (o->flags & CLI_REPEAT)
            printf(" Repeatable.");
        if (o->type == CLI_UINT)
            printf(" From %lu to %lu.", o->min, o->max);
        if (o->def) {
            printf(" Default: \\fB");
            roff_text(o->def);
            printf("\\fR.");
        }
        if (o->env && !(o->flags & CLI_ENV_ONLY))
            printf(" Environment: \\fB%s\\fR.", o->env);
        else if (o->flags & CLI_ENV_ONLY)
            printf(" Or from the file \\fB%s_FILE\\fR names.", o->env);
        putchar('\n');
    }
}

void cli_error(const struct cli_args *args, const char *fmt, ...)
{
    va_list ap;
    if (args->cmd->name != NULL)
        fprintf(stderr, "%s %s: ", cli_program, args->cmd->name);
    else
        fprintf(stderr, "%s: ", cli_program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* source names where value came from ("--listen", "$ADMIT_LISTEN"); a value read from a file
 * (file set) is not shown: it may be a secret. */
static int check_value(const struct cli_args *args, const struct cli_opt *o, const char *value,
                       const char *source, int file)
{
    unsigned long v;
    if (o->type == CLI_UINT && parse_uint(value, o->min, o->max, &v) != 0) {
        if (file)
            cli_error(args, "%s: expected a whole number from %lu to %lu in the file", source,
                      o->min, o->max);
        else
            cli_error(args, "%s: expected a whole number from %lu to %lu, got \"%s\"", source,
                      o->min, o->max, value);
        return -1;
    }
    return 0;
}

/* Reads the file $var_file names into args->file_values[i]; one line on stderr when it cannot. */
static int read_env_file(struct cli_args *args, size_t i, const char *var_file, const char *path)
{
    char *value = admit_xmalloc(ADMIT_SECRET_FILE_MAX + 1);
    size_t len = 0;
    enum admit_rc rc = admit_secret_file_read(path, value, ADMIT_SECRET_FILE_MAX + 1, &len);
    if (rc == ADMIT_OK) {
        args->file_values[i] = value;
        args->env[i] = value;
        return 0;
    }
    if (rc == ADMIT_ERR_IO)
        cli_error(args, "$%s: cannot read %s: %s", var_file, path, strerror(errno));
    else if (rc == ADMIT_ERR_PERMISSION)
        cli_error(args, "$%s: %s is open to others: it holds a secret, chmod o-rwx it", var_file,
                  path);
    else if (rc == ADMIT_ERR_TOO_LARGE)
        cli_error(args, "$%s: %s is larger than %d bytes", var_file, path, ADMIT_SECRET_FILE_MAX);
    else
        cli_error(args, "$%s: %s must be a file holding the value on one line", var_file, path);
    sodium_memzero(value, ADMIT_SECRET_FILE_MAX + 1);
    free(value);
    return -1;
}

/* Fills args->env[i] from the option's variable or, failing that, its _FILE variable. */
static int read_env(struct cli_args *args, size_t i)
{
    const struct cli_opt *o = &args->cmd->opts[i];
    char source[ENV_NAME_MAX + 1];
    char var_file[ENV_NAME_MAX];
    const char *value = getenv(o->env);
    args->env[i] = value != NULL && *value != '\0' ? value : NULL;
    if (o->type == CLI_FLAG)
        return 0;
    snprintf(source, sizeof source, "$%s", o->env);
    snprintf(var_file, sizeof var_file, "%s_FILE", o->env);
    const char *path = getenv(var_file);
    if (path == NULL || *path == '\0')
        return args->env[i] != NULL ? check_value(args, o, args->env[i], source, 0) : 0;
    if (args->env[i] != NULL) {
        cli_error(args, "set %s or %s, not both", o->env, var_file);
        return -1;
    }
    if (read_env_file(args, i, var_file, path) != 0)
        return -1;
    snprintf(source, sizeof source, "$%s", var_file);
    return check_value(args, o, args->env[i], source, 1);
}

/* getopt_long's tables for the n options of cmd (those read from the environment only are not
 * on the command line); each option's value array made for argc values. */
static void getopt_tables(const struct cli_cmd *cmd, size_t n, int argc, struct cli_args *out,
                          struct option *longopts, char *shortopts)
{
    size_t s = 0, nlong = 0;
    shortopts[s++] = ':'; /* report a missing argument distinctly */
    shortopts[s++] = 'h';
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        out->values[i] = admit_xcalloc((size_t)argc + 1, sizeof(char *));
        if (o->flags & CLI_ENV_ONLY)
            continue;
        longopts[nlong++] = (struct option){
            o->name, o->type == CLI_FLAG ? no_argument : required_argument, NULL, 256 + (int)i};
        if (o->short_name) {
            shortopts[s++] = o->short_name;
            if (o->type != CLI_FLAG)
                shortopts[s++] = ':';
        }
    }
    longopts[nlong++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[nlong++] = (struct option){"help-man", no_argument, NULL, HELP_MAN};
    longopts[nlong] = (struct option){NULL, 0, NULL, 0};
    shortopts[s] = '\0';
}

/* Takes option c (getopt_long's answer) with its value optarg; 0, or non-zero with the error
 * said. */
static int take_option(struct cli_args *out, size_t n, int c)
{
    const struct cli_cmd *cmd = out->cmd;
    size_t i = 0;
    if (c >= 256) {
        i = (size_t)(c - 256);
    } else {
        while (i < n && cmd->opts[i].short_name != c)
            i++;
    }
    const struct cli_opt *o = &cmd->opts[i];
    char source[64];
    snprintf(source, sizeof source, "--%s", o->name);
    if (o->type != CLI_FLAG && check_value(out, o, optarg, source, 0) != 0)
        return -1;
    if (out->count[i] > 0 && !(o->flags & CLI_REPEAT) && o->type != CLI_FLAG) {
        cli_error(out, "--%s given more than once", o->name);
        return -1;
    }
    out->values[i][out->count[i]++] = o->type == CLI_FLAG ? "1" : optarg;
    return 0;
}

/* After the command line: the options it did not give, from the environment, and the required
 * ones all there; 0, or non-zero with the error said. */
static int take_environment(struct cli_args *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &out->cmd->opts[i];
        /* The command line wins: a variable or file it overrides is not read. */
        if (o->env != NULL && out->count[i] == 0 && read_env(out, i) != 0)
            return -1;
        if ((o->flags & CLI_REQUIRED) && out->count[i] == 0 && out->env[i] == NULL) {
            if (o->flags & CLI_ENV_ONLY)
                cli_error(out, "set %s (or %s_FILE)", o->env, o->env);
            else if (o->env)
                cli_error(out, "--%s is required (or set %s)", o->name, o->env);
            else
                cli_error(out, "--%s is required", o->name);
            return -1;
        }
    }
    return 0;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out)
{
    size_t n = count_opts(cmd);
    struct option longopts[CLI_MAX_OPTS + 3];
    char shortopts[2 * CLI_MAX_OPTS + 4];
    int rc = CLI_EXIT_USAGE;

    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    if (n > CLI_MAX_OPTS) {
        cli_error(out, "internal error: too many options");
        return CLI_EXIT_USAGE;
    }
    getopt_tables(cmd, n, argc, out, longopts, shortopts);
    optind = 1;
    opterr = 0;
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (c == -1)
            break;
        if (c == 'h' || c == HELP_MAN) {
            if (c == 'h')
                print_help(cmd);
            else
                cli_print_man(cmd);
            rc = -1;
            goto done;
        }
        if (c == '?' || c == ':') {
            const char *arg = prev < argc ? argv[prev] : "?";
            if (c == ':')
                cli_error(out, "option %s needs an argument (see --help)", arg);
            else
                cli_error(out, "unknown option %s (see --help)", arg);
            goto done;
        }
        if (take_option(out, n, c) != 0)
            goto done;
    }
    out->positional = argv + optind;
    out->npositional = argc - optind;
    if (out->npositional > 0 && cmd->positional == NULL) {
        cli_error(out, "unexpected argument \"%s\" (see --help)", out->positional[0]);
        goto done;
    }
    if (take_environment(out, n) == 0)
        rc = CLI_EXIT_OK;
done:
    if (rc != CLI_EXIT_OK)
        cli_args_free(out);
    return rc;
}

void cli_args_free(struct cli_args *args)
{
    for (size_t i = 0; i < CLI_MAX_OPTS; i++) {
        free(args->values[i]);
        args->values[i] = NULL;
        args->count[i] = 0;
        args->env[i] = NULL;
        if (args->file_values[i] != NULL) {
            sodium_memzero(args->file_values[i], ADMIT_SECRET_FILE_MAX + 1);
            free(args->file_values[i]);
            args->file_values[i] = NULL;
        }
    }
}

static ssize_t find(const struct cli_args *args, const char *name)
{
    size_t n = count_opts(args->cmd);
    for (size_t i = 0; i < n; i++)
        if (strcmp(args->cmd->opts[i].name, name) == 0)
            return (ssize_t)i;
    fprintf(stderr, "%s: internal error: no option --%s\n", cli_program, name);
    abort();
}

const char *cli_get(const struct cli_args *args, const char *name)
{
    size_t i = (size_t)find(args, name);
    if (args->count[i] > 0)
        return args->values[i][args->count[i] - 1];
    if (args->env[i] != NULL)
        return args->env[i];
    return args->cmd->opts[i].def;
}

int cli_given(const struct cli_args *args, const char *name)
{
    size_t i = (size_t)find(args, name);
    return args->count[i] > 0 || args->env[i] != NULL;
}

size_t cli_get_all(const struct cli_args *args, const char *name, const char *const **values)
{
    size_t i = (size_t)find(args, name);
    *values = args->values[i];
    return args->count[i];
}

int cli_flag(const struct cli_args *args, const char *name)
{
    size_t i = (size_t)find(args, name);
    const char *env = args->env[i];
    if (args->count[i] > 0)
        return (int)args->count[i];
    if (env != NULL &&
        (strcmp(env, "1") == 0 || strcasecmp(env, "true") == 0 || strcasecmp(env, "yes") == 0))
        return 1;
    return 0;
}

unsigned long cli_get_uint(const struct cli_args *args, const char *name)
{
    size_t i = (size_t)find(args, name);
    const struct cli_opt *o = &args->cmd->opts[i];
    const char *text = cli_get(args, name);
    unsigned long v = o->min;
    if (text != NULL && parse_uint(text, o->min, o->max, &v) != 0)
        v = o->min; /* unreachable: cli_parse checked it */
    return v;
}
