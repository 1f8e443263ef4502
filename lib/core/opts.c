#include "admit/core/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admit/core/mem.h"

const char *cli_program = "admit";

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
    printf("Usage: %s%s%s [OPTIONS]%s%s\n\n%s\n\nOptions:\n", cli_program, cmd->name ? " " : "",
           cmd->name ? cmd->name : "", cmd->positional ? " " : "",
           cmd->positional ? cmd->positional : "", cmd->summary);
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        char left[64];
        if (o->short_name)
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
        if (o->env)
            printf(" [env: %s]", o->env);
        printf("\n");
    }
    printf("  %-28s %s\n", "-h, --help", "show this help and exit");
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

static int check_value(const struct cli_args *args, const struct cli_opt *o, const char *value,
                       const char *source)
{
    unsigned long v;
    if (o->type == CLI_UINT && parse_uint(value, o->min, o->max, &v) != 0) {
        cli_error(args, "%s%s: expected a whole number from %lu to %lu, got \"%s\"", source,
                  o->name, o->min, o->max, value);
        return -1;
    }
    return 0;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out)
{
    size_t n = count_opts(cmd);
    struct option longopts[CLI_MAX_OPTS + 2];
    char shortopts[2 * CLI_MAX_OPTS + 4];
    size_t s = 0;
    int rc = CLI_EXIT_USAGE;

    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    if (n > CLI_MAX_OPTS) {
        cli_error(out, "internal error: too many options");
        return CLI_EXIT_USAGE;
    }
    shortopts[s++] = ':'; /* report a missing argument distinctly */
    shortopts[s++] = 'h';
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        longopts[i] = (struct option){
            o->name, o->type == CLI_FLAG ? no_argument : required_argument, NULL, 256 + (int)i};
        if (o->short_name) {
            shortopts[s++] = o->short_name;
            if (o->type != CLI_FLAG)
                shortopts[s++] = ':';
        }
        out->values[i] = admit_xcalloc((size_t)argc + 1, sizeof(char *));
    }
    longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
    shortopts[s] = '\0';

    optind = 1;
    opterr = 0;
    for (;;) {
        int prev = optind;
        int c = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (c == -1)
            break;
        if (c == 'h') {
            print_help(cmd);
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
        size_t i = 0;
        if (c >= 256) {
            i = (size_t)(c - 256);
        } else {
            while (i < n && cmd->opts[i].short_name != c)
                i++;
        }
        const struct cli_opt *o = &cmd->opts[i];
        if (o->type != CLI_FLAG && check_value(out, o, optarg, "--") != 0)
            goto done;
        if (out->count[i] > 0 && !(o->flags & CLI_REPEAT) && o->type != CLI_FLAG) {
            cli_error(out, "--%s given more than once", o->name);
            goto done;
        }
        out->values[i][out->count[i]++] = o->type == CLI_FLAG ? "1" : optarg;
    }
    out->positional = argv + optind;
    out->npositional = argc - optind;
    if (out->npositional > 0 && cmd->positional == NULL) {
        cli_error(out, "unexpected argument \"%s\" (see --help)", out->positional[0]);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        const char *env = o->env && out->count[i] == 0 ? getenv(o->env) : NULL;
        if (env != NULL && *env != '\0' && o->type != CLI_FLAG &&
            check_value(out, o, env, "$") != 0)
            goto done;
        if ((o->flags & CLI_REQUIRED) && out->count[i] == 0 && (env == NULL || *env == '\0')) {
            if (o->env)
                cli_error(out, "--%s is required (or set %s)", o->name, o->env);
            else
                cli_error(out, "--%s is required", o->name);
            goto done;
        }
    }
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
    const struct cli_opt *o = &args->cmd->opts[i];
    if (args->count[i] > 0)
        return args->values[i][args->count[i] - 1];
    if (o->env != NULL) {
        const char *env = getenv(o->env);
        if (env != NULL && *env != '\0')
            return env;
    }
    return o->def;
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
    const struct cli_opt *o = &args->cmd->opts[i];
    if (args->count[i] > 0)
        return (int)args->count[i];
    if (o->env != NULL) {
        const char *env = getenv(o->env);
        if (env != NULL &&
            (strcmp(env, "1") == 0 || strcasecmp(env, "true") == 0 || strcasecmp(env, "yes") == 0))
            return 1;
    }
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
