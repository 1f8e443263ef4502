/* The organisers' accounts (lib/register/admin.c), actions (lib/register/admin_actions.c) and event
 * form (lib/register/admin_event.c): everything decided before the database. What the database
 * decides (throttling, sessions, permissions, the actions) is tested over HTTP in
 * tests/integration/test_admin*.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/register/admin.h"
#include "admit/register/admin_actions.h"
#include "admit/register/admin_event.h"
#include "admit/core/keys.h"

/* A database nobody can reach: any function that gets as far as a query fails fast. */
#define NOWHERE "host=/nonexistent/admit-test dbname=none connect_timeout=1"

static int setup(void **state)
{
    (void)state;
    return admit_init() == ADMIT_OK ? 0 : -1;
}

static void password_rules(void **state)
{
    char long_password[ADMIT_ADMIN_PASSWORD_MAX + 2];
    (void)state;
    assert_non_null(admit_admin_password_problem(""));
    assert_non_null(admit_admin_password_problem("eleven char"));
    assert_null(admit_admin_password_problem("twelve chars"));
    assert_null(admit_admin_password_problem("ünïcödé pässwörd"));
    assert_non_null(admit_admin_password_problem("with a\nnewline in it"));
    assert_non_null(admit_admin_password_problem("with a \x01 control"));
    memset(long_password, 'a', sizeof long_password - 1);
    long_password[sizeof long_password - 1] = '\0';
    assert_non_null(admit_admin_password_problem(long_password));
    long_password[ADMIT_ADMIN_PASSWORD_MAX] = '\0';
    assert_null(admit_admin_password_problem(long_password));
}

static void hash_and_verify(void **state)
{
    char hash[ADMIT_ADMIN_HASH_SIZE], other[ADMIT_ADMIN_HASH_SIZE];
    (void)state;
    assert_int_equal(admit_admin_password_hash("correct horse battery", hash), ADMIT_OK);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_non_null(strstr(hash, "m=19456,t=2,p=1"));
    assert_true(admit_admin_password_verify(hash, "correct horse battery"));
    assert_false(admit_admin_password_verify(hash, "correct horse batterY"));
    assert_false(admit_admin_password_verify(hash, ""));
    /* Salted: the same password never hashes the same twice. */
    assert_int_equal(admit_admin_password_hash("correct horse battery", other), ADMIT_OK);
    assert_string_not_equal(hash, other);
    /* No such admin: a dummy check, always false. */
    assert_false(admit_admin_password_verify(NULL, "correct horse battery"));
    assert_false(admit_admin_password_verify(NULL, ""));
    assert_false(admit_admin_password_verify("not a hash", "x"));
}

static void session_hash(void **state)
{
    char a[ADMIT_ADMIN_SESSION_HASH_SIZE], b[ADMIT_ADMIN_SESSION_HASH_SIZE];
    char id[ADMIT_TOKEN_SIZE];
    (void)state;
    admit_token_new(id);
    admit_admin_session_hash(id, a);
    assert_int_equal(strlen(a), 66);
    assert_memory_equal(a, "\\x", 2);
    assert_int_equal(strspn(a + 2, "0123456789abcdef"), 64);
    assert_null(strstr(a, id));
    admit_admin_session_hash(id, b);
    assert_string_equal(a, b);
    id[0] = id[0] == 'A' ? 'B' : 'A';
    admit_admin_session_hash(id, b);
    assert_string_not_equal(a, b);
    /* SHA-256 of "abc". */
    admit_admin_session_hash("abc", a);
    assert_string_equal(a, "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void refused_before_the_database(void **state)
{
    struct admit_db *db = admit_db_new(NOWHERE);
    struct admit_login_result login;
    struct admit_admin admin;
    char long_email[300];
    struct admit_error err;
    (void)state;
    assert_int_equal(admit_admin_login(db, "", "password", "127.0.0.1", NULL, &login),
                     ADMIT_ERR_INVALID);
    assert_int_equal(login.outcome, ADMIT_LOGIN_FAILED);
    memset(long_email, 'a', sizeof long_email - 1);
    long_email[sizeof long_email - 1] = '\0';
    assert_int_equal(admit_admin_login(db, long_email, "password", "127.0.0.1", NULL, &login),
                     ADMIT_ERR_INVALID);
    assert_int_equal(admit_admin_login(db, "a@example.org", "password", "", NULL, &login),
                     ADMIT_ERR_INVALID);
    /* Malformed or missing session ids never reach the database. */
    assert_int_equal(admit_admin_session(db, NULL, &admin), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_admin_session(db, "short", &admin), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_admin_session(db, "AAAAAAAAAAAAAAAAAAAAA!", &admin),
                     ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_admin_logout(db, "nonsense"), ADMIT_OK);
    assert_int_equal(admit_admin_logout(db, NULL), ADMIT_OK);
    /* admit admin add checks the email and the password first. */
    assert_int_equal(admit_admin_add(db, "not-an-email", "long enough password", NULL, 0, &err),
                     ADMIT_ERR_INVALID);
    assert_non_null(strstr(err.message, "Enter an email address"));
    assert_int_equal(admit_admin_add(db, "a@example.org", "short", NULL, 0, &err),
                     ADMIT_ERR_INVALID);
    assert_non_null(strstr(err.message, "at least 12 characters"));
    assert_int_equal(admit_admin_set_password(db, "a@example.org", "short", &err),
                     ADMIT_ERR_INVALID);
    admit_db_free(db);
}

static void unreachable_database(void **state)
{
    struct admit_db *db = admit_db_new(NOWHERE);
    struct admit_login_result login;
    struct admit_admin admin;
    struct admit_admin_result result;
    char id[ADMIT_TOKEN_SIZE];
    struct admit_error err;
    (void)state;
    admit_token_new(id);
    assert_int_equal(admit_admin_login(db, "a@example.org", "password", "::1", NULL, &login),
                     ADMIT_ERR_DB_UNAVAILABLE);
    assert_int_equal(login.outcome, ADMIT_LOGIN_FAILED);
    assert_string_equal(login.session_id, "");
    assert_int_equal(admit_admin_session(db, id, &admin), ADMIT_ERR_DB_UNAVAILABLE);
    assert_int_equal(admin.id, 0);
    for (int kind = ADMIT_ADMIN_CANCEL; kind <= ADMIT_ADMIN_CHECKIN; kind++) {
        struct admit_admin_action action = {(enum admit_admin_action_kind)kind, id, 1, false};
        assert_int_equal(admit_admin_act(db, 1, "ev", 1, &action, &result),
                         ADMIT_ERR_DB_UNAVAILABLE);
        action.key = "not a key";
        assert_int_equal(admit_admin_act(db, 1, "ev", 1, &action, &result), ADMIT_ERR_INVALID);
    }
    assert_int_equal(admit_admin_add(db, "a@example.org", "long enough password", NULL, 0, &err),
                     ADMIT_ERR_DB_UNAVAILABLE);
    assert_int_equal(admit_admin_remove(db, "a@example.org"), ADMIT_ERR_DB_UNAVAILABLE);
    admit_db_free(db);
}

static void outcome_messages(void **state)
{
    (void)state;
    for (int o = ADMIT_ADMIN_DONE; o <= ADMIT_ADMIN_IS_WAITLISTED; o++) {
        const char *m = admit_admin_outcome_message((enum admit_admin_outcome)o);
        assert_non_null(m);
        assert_true(strlen(m) > 4);
        assert_true(m[strlen(m) - 1] == '.');
    }
    assert_non_null(strstr(admit_admin_outcome_message(ADMIT_ADMIN_FULL), "raise the capacity"));
    /* "cancelled" is the cancellation done, and the reason any other action is refused. */
    assert_int_equal(admit_admin_outcome_of("cancelled", ADMIT_ADMIN_CANCEL), ADMIT_ADMIN_DONE);
    assert_int_equal(admit_admin_outcome_of("cancelled", ADMIT_ADMIN_REISSUE),
                     ADMIT_ADMIN_IS_CANCELLED);
    assert_int_equal(admit_admin_outcome_of("waitlisted", ADMIT_ADMIN_REISSUE),
                     ADMIT_ADMIN_IS_WAITLISTED);
    assert_int_equal(admit_admin_outcome_of("nonsense", ADMIT_ADMIN_PROMOTE),
                     ADMIT_ADMIN_NOT_FOUND);
}

/* A form as name=value pairs. */
struct form {
    const char *const *pairs;
};

static const char *lookup(void *ctx, const char *name)
{
    const struct form *f = ctx;
    for (size_t i = 0; f->pairs[i] != NULL; i += 2)
        if (strcmp(f->pairs[i], name) == 0)
            return f->pairs[i + 1];
    return NULL;
}

static const char *const good[] = {"slug",
                                   "terra-2030",
                                   "name",
                                   "TERRA",
                                   "time_zone",
                                   "Europe/Brussels",
                                   "starts",
                                   "2030-10-29T09:00",
                                   "ends",
                                   "2030-10-30 17:30",
                                   "opens",
                                   "",
                                   "closes",
                                   "",
                                   "capacity",
                                   "200",
                                   "waitlist",
                                   "yes",
                                   "contact_email",
                                   "",
                                   NULL};

/* good with one field replaced. */
static size_t check_with(const char *name, const char *value, bool creating,
                         struct admit_form_errors *errs, struct admit_admin_event_form *out)
{
    const char *pairs[64];
    size_t n = 0;
    for (size_t i = 0; good[i] != NULL; i += 2) {
        pairs[n++] = good[i];
        pairs[n++] = name != NULL && strcmp(good[i], name) == 0 ? value : good[i + 1];
    }
    pairs[n] = NULL;
    struct form f = {pairs};
    memset(errs, 0, sizeof *errs);
    struct admit_admin_event_rows rows = {NULL, NULL, NULL, NULL, NULL, NULL, 0};
    return admit_admin_event_check(lookup, &f, creating, &rows, out, errs);
}

static void event_form(void **state)
{
    struct admit_form_errors errs;
    struct admit_admin_event_form form;
    (void)state;
    assert_int_equal(check_with(NULL, NULL, true, &errs, &form), 0);
    assert_string_equal(form.slug, "terra-2030");
    assert_string_equal(form.starts, "2030-10-29T09:00");
    assert_true(form.waitlist);
    assert_int_equal(form.nlists, 0);
    static const struct {
        const char *name, *value, *field, *message;
    } bad[] = {
        {"slug", "Bad Slug", "slug", "lower-case"},
        {"slug", "", "slug", "short name"},
        {"name", "", "name", "Enter the event"},
        {"name", "two\nlines", "name", "one line"},
        {"starts", "29/10/2030 09:00", "starts", "like 2027-10-29 09:00"},
        {"ends", "", "ends", "when the event ends"},
        {"opens", "soon", "opens", "like 2027-10-29"},
        {"capacity", "-1", "capacity", "whole number"},
        {"capacity", "1000001", "capacity", "whole number"},
        {"capacity", "12a", "capacity", "whole number"},
        {"time_zone", "Europe/Brussels; DROP", "time_zone", "like Europe/Brussels"},
        {"contact_email", "nobody", "contact_email", "email address"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(check_with(bad[i].name, bad[i].value, true, &errs, &form), 1);
        assert_string_equal(errs.items[0].field, bad[i].field);
        if (strstr(errs.items[0].message, bad[i].message) == NULL)
            fail_msg("%s=%s: \"%s\"", bad[i].name, bad[i].value, errs.items[0].message);
    }
    /* Editing: the slug is not part of the form (it cannot change). */
    assert_int_equal(check_with("slug", "Not Valid", false, &errs, &form), 0);
    assert_null(form.slug);
    assert_int_equal(check_with("waitlist", "no", true, &errs, &form), 0);
    assert_false(form.waitlist);
}

static void event_form_lists(void **state)
{
    struct admit_form_errors errs = {.count = 0};
    struct admit_admin_event_form form;
    struct form f = {good};
    (void)state;
    const char *ids[] = {"7", "", "", "9"};
    const char *names[] = {"Day 1", "Day 2", "", ""};
    const char *days[] = {"2030-10-29", "", "", ""};
    struct admit_admin_event_rows rows = {ids, names, days, NULL, NULL, NULL, 4};
    assert_int_equal(admit_admin_event_check(lookup, &f, false, &rows, &form, &errs), 0);
    assert_false(form.sessions);
    assert_string_equal(form.lists[0].capacity, "");
    assert_int_equal(form.nlists, 3); /* the blank row is skipped; list 9 is to be removed */
    assert_string_equal(form.lists[0].id, "7");
    assert_string_equal(form.lists[1].name, "Day 2");
    assert_string_equal(form.lists[2].id, "9");
    assert_string_equal(form.lists[2].name, "");

    static const struct {
        const char *id, *name, *day, *message;
    } bad[] = {
        {"x1", "Day", "", "reload"},
        {"", "Day 1", "", "same name"},
        {"", "Tab\tname", "", "one line"},
        {"", "Later", "30/10/2030", "days like"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *ids2[] = {"", bad[i].id}, *names2[] = {"Day 1", bad[i].name},
                   *days2[] = {"", bad[i].day};
        struct admit_admin_event_rows rows2 = {ids2, names2, days2, NULL, NULL, NULL, 2};
        memset(&errs, 0, sizeof errs);
        assert_int_equal(admit_admin_event_check(lookup, &f, true, &rows2, &form, &errs), 1);
        assert_string_equal(errs.items[0].field, "lists");
        assert_non_null(strstr(errs.items[0].message, bad[i].message));
    }
    /* Session settings (issue 17): places and times, both times or neither. */
    static const struct {
        const char *cap, *starts, *ends, *message; /* message NULL: valid */
    } sessions[] = {
        {"40", "2030-10-30 14:00", "2030-10-30 16:00", NULL},
        {"", "", "", NULL},
        {"-1", "", "", "whole number"},
        {"1000001", "", "", "whole number"},
        {"", "2030-10-30 14:00", "", "both a start and an end"},
        {"", "tomorrow", "2030-10-30 16:00", "session times like"},
    };
    for (size_t i = 0; i < sizeof sessions / sizeof sessions[0]; i++) {
        const char *ids2[] = {""}, *names2[] = {"Dinner"}, *days2[] = {""};
        const char *caps[] = {sessions[i].cap}, *starts[] = {sessions[i].starts},
                   *ends[] = {sessions[i].ends};
        struct admit_admin_event_rows rows2 = {ids2, names2, days2, caps, starts, ends, 1};
        memset(&errs, 0, sizeof errs);
        size_t n = admit_admin_event_check(lookup, &f, true, &rows2, &form, &errs);
        if (sessions[i].message == NULL) {
            assert_int_equal(n, 0);
            assert_true(form.sessions);
            assert_string_equal(form.lists[0].capacity, sessions[i].cap);
            continue;
        }
        assert_int_equal(n, 1);
        assert_string_equal(errs.items[0].field, "lists");
        if (strstr(errs.items[0].message, sessions[i].message) == NULL)
            fail_msg("session %zu: \"%s\"", i, errs.items[0].message);
    }
    /* At most ADMIT_EVENT_MAX_LISTS lists. */
    const char *many_ids[ADMIT_EVENT_MAX_LISTS + 1], *many_names[ADMIT_EVENT_MAX_LISTS + 1],
        *many_days[ADMIT_EVENT_MAX_LISTS + 1];
    char name_text[ADMIT_EVENT_MAX_LISTS + 1][16];
    for (size_t i = 0; i <= ADMIT_EVENT_MAX_LISTS; i++) {
        snprintf(name_text[i], sizeof name_text[i], "List %zu", i);
        many_ids[i] = "";
        many_names[i] = name_text[i];
        many_days[i] = "";
    }
    memset(&errs, 0, sizeof errs);
    struct admit_admin_event_rows many = {
        many_ids, many_names, many_days, NULL, NULL, NULL, ADMIT_EVENT_MAX_LISTS + 1};
    assert_int_equal(admit_admin_event_check(lookup, &f, true, &many, &form, &errs), 1);
    assert_non_null(strstr(errs.items[0].message, "at most 32"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(password_rules),       cmocka_unit_test(hash_and_verify),
        cmocka_unit_test(session_hash),         cmocka_unit_test(refused_before_the_database),
        cmocka_unit_test(unreachable_database), cmocka_unit_test(outcome_messages),
        cmocka_unit_test(event_form),           cmocka_unit_test(event_form_lists),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
