/* admit admin add | password | remove | list: the organisers who may log in to /admin.
 * Passwords are asked on the terminal (twice, without echo), or read as one line from standard
 * input when it is not a terminal (scripts: printf '%s\n' "$PASSWORD" | admit admin add ...);
 * they never appear on the command line, where other users could see them. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "admit/register/admin.h"
#include "admit/core/db.h"
#include "cli.h"

#define PASSWORD_BUF (ADMIT_ADMIN_PASSWORD_MAX + 2)

/* Reads one line without its line end; returns 0 at end of input or when it is too long. */
static int read_password_line(FILE *in, char *buf, size_t cap)
{
    size_t len = 0;
    int too_long = 0;
    if (!cli_read_line(in, buf, cap, &len, &too_long) || too_long)
        return 0;
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return 1;
}

/* Asks on the terminal without echo. */
static int ask(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return 0;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    int ok = read_password_line(stdin, buf, cap);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

/* The new password into buf: asked twice on a terminal, else one line of standard input. */
static int get_password(const struct cli_args *args, const char *email, char *buf, size_t cap)
{
    char again[PASSWORD_BUF];
    int ok = 0;
    if (!isatty(STDIN_FILENO)) {
        if (!read_password_line(stdin, buf, cap)) {
            cli_error(args,
                      "expected the password as one line on standard input (at most %d "
                      "bytes)",
                      ADMIT_ADMIN_PASSWORD_MAX);
            return 0;
        }
        return 1;
    }
    char prompt[400];
    snprintf(prompt, sizeof prompt, "Password for %s: ", email);
    if (!ask(prompt, buf, cap) || !ask("The same password again: ", again, sizeof again)) {
        cli_error(args, "no password given");
    } else if (strcmp(buf, again) != 0) {
        cli_error(args, "the two passwords differ");
    } else {
        ok = 1;
    }
    sodium_memzero(again, sizeof again);
    return ok;
}

static const struct cli_opt add_opts[] = {
    CLI_OPT_DB,
    {"email", 0, CLI_STRING, "EMAIL", NULL, NULL, 0, 0, CLI_REQUIRED,
     "the organiser's email address, their login"},
    {"event", 0, CLI_STRING, "SLUG", NULL, NULL, 0, 0, CLI_REPEAT,
     "an event they may see and run; without --event: every event, and they may create events"},
    {0},
};

static int run_add(const struct cli_args *args)
{
    char password[PASSWORD_BUF];
    struct admit_error err;
    const char *const *slugs;
    const char *email = cli_get(args, "email");
    size_t n = cli_get_all(args, "event", &slugs);
    int status = CLI_EXIT_USAGE;
    if (!get_password(args, email, password, sizeof password))
        goto done;
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_admin_add(db, email, password, slugs, n, &err);
    admit_db_free(db);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        goto done;
    }
    if (n == 0)
        printf("admin %s added: every event\n", email);
    else
        printf("admin %s added: %zu event%s\n", email, n, n == 1 ? "" : "s");
    status = CLI_EXIT_OK;
done:
    sodium_memzero(password, sizeof password);
    return status;
}

static const struct cli_opt email_opts[] = {
    CLI_OPT_DB,
    {"email", 0, CLI_STRING, "EMAIL", NULL, NULL, 0, 0, CLI_REQUIRED, "the organiser's email"},
    {0},
};

static int run_password(const struct cli_args *args)
{
    char password[PASSWORD_BUF];
    struct admit_error err;
    const char *email = cli_get(args, "email");
    int status = CLI_EXIT_USAGE;
    if (!get_password(args, email, password, sizeof password))
        goto done;
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_admin_set_password(db, email, password, &err);
    admit_db_free(db);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        goto done;
    }
    printf("password of %s changed; their sessions are ended\n", email);
    status = CLI_EXIT_OK;
done:
    sodium_memzero(password, sizeof password);
    return status;
}

static int run_remove(const struct cli_args *args)
{
    const char *email = cli_get(args, "email");
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_admin_remove(db, email);
    int status = CLI_EXIT_OK;
    if (rc == ADMIT_ERR_NOT_FOUND) {
        cli_error(args, "no admin has the email %s", email);
        status = CLI_EXIT_NEGATIVE;
    } else if (rc != ADMIT_OK) {
        cli_error(args, "%s", admit_db_error(db));
        status = CLI_EXIT_USAGE;
    } else {
        printf("admin %s removed\n", email);
    }
    admit_db_free(db);
    return status;
}

static const struct cli_opt list_opts[] = {
    CLI_OPT_DB,
    {0},
};

static void print_admin(void *ctx, const struct admit_admin_entry *e)
{
    (void)ctx;
    printf("%s\tevents=%s\tsessions=%ld\n", e->email, e->events, e->sessions);
}

static int run_list(const struct cli_args *args)
{
    struct admit_error err;
    struct admit_db *db = admit_db_new(cli_get(args, "db"));
    enum admit_rc rc = admit_admin_list(db, print_admin, NULL, &err);
    admit_db_free(db);
    if (rc != ADMIT_OK) {
        cli_error(args, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_admin_add_cmd = {
    "admin add", NULL,
    "add an organiser who may log in to /admin (password asked, or one line on stdin)", add_opts,
    run_add};
const struct cli_cmd cli_admin_password_cmd = {
    "admin password", NULL, "change an organiser's password (and end their sessions)", email_opts,
    run_password};
const struct cli_cmd cli_admin_remove_cmd = {
    "admin remove", NULL, "remove an organiser and end their sessions", email_opts, run_remove};
const struct cli_cmd cli_admin_list_cmd = {
    "admin list", NULL, "list the organisers with their events (* for all) and open sessions",
    list_opts, run_list};
