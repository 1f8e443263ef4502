/* The scanner's local state (lib/door/scan_state.c): the journal reader on good, bad and torn
 * lines, appending and reading back, repairing a journal a crash cut short, the folder lock, the
 * token file and its mode, JSON files, the state root and finding folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "admit/core/buf.h"
#include "admit/door/scan_state.h"

static char root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/admit-test-scan-state-%ld", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

struct seen {
    int kinds[4];
    char nonces[16][65];
    size_t n;
};

static void collect(void *ctx, enum admit_journal_kind kind, json_t *record)
{
    struct seen *s = ctx;
    s->kinds[kind]++;
    const char *nonce = json_string_value(json_object_get(record, "nonce"));
    if (s->n < 16)
        snprintf(s->nonces[s->n++], 65, "%s", nonce ? nonce : "-");
}

#define SCAN_RECORD(nonce)                                                                         \
    "{\"t\":\"scan\",\"nonce\":\"" nonce "\",\"payload\":\"AD1:X\",\"list\":\"Day 1\","            \
    "\"direction\":\"entry\",\"scanned_at\":\"2027-10-29T09:12:03.120Z\"}\n"

static void test_journal_parse(void **state)
{
    struct seen s;
    size_t bad = 0, torn = 0;
    (void)state;
    const char *text = SCAN_RECORD(
        "aaaaaaaa") "\n" /* blank lines are nothing */
                    "{\"t\":\"scan\",\"nonce\":\"bbbbbbbb\",\"payload\":\"x\",\"list\":\"L\","
                    "\"direction\":\"exit\",\"scanned_at\":\"2027-10-29T09:12:03Z\",\"gate\":\"G\","
                    "\"local\":{\"verdict\":\"valid\",\"registration_id\":5,\"name\":\"Ada\"}}\n"
                    "{\"t\":\"local\",\"nonce\":\"aaaaaaaa\",\"answer\":{\"verdict\":\"already_"
                    "checked_in\","
                    "\"first_at\":\"2027-10-29T09:00:00.000Z\",\"first_gate\":\"A\"}}\n"
                    "{\"t\":\"server\",\"nonce\":\"aaaaaaaa\",\"answer\":{\"verdict\":\"valid\","
                    "\"x\":[1]}}\n"
                    "{\"t\":\"sync\",\"cursor\":\"1:2:\"}\n"
                    "{\"t\":\"sync\"}\n"
                    /* bad lines */
                    "not json\n"
                    "[1,2]\n"
                    "{\"t\":\"other\"}\n"
                    "{\"nonce\":\"aaaaaaaa\"}\n"
                    "{\"t\":\"scan\",\"nonce\":\"short\",\"payload\":\"x\",\"list\":\"L\","
                    "\"direction\":\"entry\",\"scanned_at\":\"2027-10-29T09:12:03Z\"}\n"
                    "{\"t\":\"scan\",\"nonce\":\"cccccccc\",\"payload\":\"x\",\"list\":\"L\","
                    "\"direction\":\"up\",\"scanned_at\":\"2027-10-29T09:12:03Z\"}\n"
                    "{\"t\":\"scan\",\"nonce\":\"cccccccc\",\"payload\":\"x\",\"list\":\"\","
                    "\"direction\":\"entry\",\"scanned_at\":\"2027-10-29T09:12:03Z\"}\n"
                    "{\"t\":\"scan\",\"nonce\":\"cccccccc\",\"payload\":\"x\",\"list\":\"L\","
                    "\"direction\":\"entry\",\"scanned_at\":\"yesterday\"}\n"
                    "{\"t\":\"scan\",\"nonce\":\"cccccccc\",\"payload\":\"x\",\"list\":\"L\","
                    "\"direction\":\"entry\",\"scanned_at\":\"2027-10-29T09:12:03Z\",\"gate\":7}\n"
                    "{\"t\":\"scan\",\"nonce\":\"cccccccc\",\"payload\":\"x\",\"list\":\"L\","
                    "\"direction\":\"entry\",\"scanned_at\":\"2027-10-29T09:12:03Z\","
                    "\"local\":{\"verdict\":\"fine\"}}\n"
                    "{\"t\":\"local\",\"nonce\":\"aaaaaaaa\",\"answer\":{\"verdict\":\"valid\","
                    "\"registration_id\":-1}}\n"
                    "{\"t\":\"server\",\"nonce\":\"aaaaaaaa\",\"answer\":{\"verdict\":\"valid\","
                    "\"first_at\":\"soon\"}}\n"
                    "{\"t\":\"server\",\"nonce\":\"aaaaaaaa\",\"answer\":{\"verdict\":\"valid\","
                    "\"flagged\":\"no\"}}\n"
                    "{\"t\":\"server\",\"nonce\":\"aaaaaaaa\"}\n"
                    "{\"t\":\"sync\",\"cursor\":5}\n"
                    "{\"t\":\"sync\",\"t\":\"sync\"}\n" /* a duplicate key */
                    /* a last line cut short */
                    "{\"t\":\"scan\",\"nonce\":\"dddddddd\",\"pay";
    memset(&s, 0, sizeof s);
    admit_scan_journal_parse(text, strlen(text), collect, &s, &bad, &torn);
    assert_int_equal(s.kinds[ADMIT_JOURNAL_SCAN], 2);
    assert_int_equal(s.kinds[ADMIT_JOURNAL_LOCAL], 1);
    assert_int_equal(s.kinds[ADMIT_JOURNAL_SERVER], 1);
    assert_int_equal(s.kinds[ADMIT_JOURNAL_SYNC], 2);
    assert_string_equal(s.nonces[0], "aaaaaaaa");
    assert_string_equal(s.nonces[1], "bbbbbbbb");
    assert_int_equal(bad, 16);
    assert_int_equal(torn, strlen("{\"t\":\"scan\",\"nonce\":\"dddddddd\",\"pay"));

    /* Empty input, and input of only newlines. */
    memset(&s, 0, sizeof s);
    admit_scan_journal_parse("", 0, collect, &s, &bad, &torn);
    assert_int_equal(bad + torn + s.n, 0);
    admit_scan_journal_parse("\n\n\n", 3, collect, &s, &bad, &torn);
    assert_int_equal(bad + torn + s.n, 0);
    /* Never reads past len: the same record, its newline outside len, is torn. */
    const char *one = SCAN_RECORD("eeeeeeee");
    admit_scan_journal_parse(one, strlen(one) - 1, collect, &s, &bad, &torn);
    assert_int_equal(s.n, 0);
    assert_int_equal(torn, strlen(one) - 1);
}

static void test_answer_valid(void **state)
{
    (void)state;
    json_t *a =
        json_pack("{s:s, s:s, s:i, s:b, s:s}", "verdict", "revoked", "reason", "cancelled",
                  "registration_id", 4, "offline", 1, "first_at", "2027-10-29T09:12:03+02:00");
    assert_true(admit_scan_answer_valid(a));
    json_object_set_new(a, "registration_id", json_integer(0));
    assert_false(admit_scan_answer_valid(a));
    json_object_set_new(a, "registration_id", json_integer(4294967296LL));
    assert_false(admit_scan_answer_valid(a));
    json_object_set_new(a, "registration_id", json_integer(1));
    json_object_set_new(a, "name", json_integer(1));
    assert_false(admit_scan_answer_valid(a));
    json_object_del(a, "name");
    json_object_set_new(a, "verdict", json_string("nope"));
    assert_false(admit_scan_answer_valid(a));
    json_decref(a);
    assert_false(admit_scan_answer_valid(NULL));
}

static void test_root(void **state)
{
    struct admit_buf out;
    (void)state;
    admit_buf_init(&out, 4096);
    char *saved_xdg = getenv("XDG_STATE_HOME") ? strdup(getenv("XDG_STATE_HOME")) : NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    assert_int_equal(admit_scan_state_root("/x/y", &out), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "/x/y");
    admit_buf_reset(&out);
    setenv("XDG_STATE_HOME", "/state", 1);
    assert_int_equal(admit_scan_state_root(NULL, &out), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "/state/admit");
    admit_buf_reset(&out);
    setenv("XDG_STATE_HOME", "relative/path", 1); /* invalid per the spec: ignored */
    setenv("HOME", "/home/door", 1);
    assert_int_equal(admit_scan_state_root("", &out), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&out), "/home/door/.local/state/admit");
    admit_buf_reset(&out);
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    assert_int_equal(admit_scan_state_root(NULL, &out), ADMIT_ERR_NOT_FOUND);
    if (saved_xdg)
        setenv("XDG_STATE_HOME", saved_xdg, 1);
    if (saved_home)
        setenv("HOME", saved_home, 1);
    free(saved_xdg);
    free(saved_home);
    admit_buf_free(&out);
}

static void path(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", root, name);
}

struct count {
    size_t scans, others;
};

static void count_records(void *ctx, enum admit_journal_kind kind, json_t *record)
{
    struct count *c = ctx;
    (void)record;
    if (kind == ADMIT_JOURNAL_SCAN)
        c->scans++;
    else
        c->others++;
}

static void test_folder_lock_token_and_files(void **state)
{
    char dir[512], file[600];
    struct admit_scan_state *st = NULL, *second = NULL;
    char token[ADMIT_TOKEN_SIZE];
    struct stat sb;
    (void)state;
    path(dir, sizeof dir, "deep/er/h_8080_conf");
    assert_int_equal(admit_scan_state_open(dir, &st), ADMIT_OK);
    assert_string_equal(admit_scan_state_dir(st), dir);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* One process at a time. */
    assert_int_equal(admit_scan_state_open(dir, &second), ADMIT_ERR_STATE);
    assert_null(second);

    assert_int_equal(admit_scan_state_token_read(st, token), ADMIT_ERR_NOT_FOUND);
    assert_int_equal(admit_scan_state_token_write(st, "not a token"), ADMIT_ERR_INVALID);
    assert_int_equal(admit_scan_state_token_write(st, "abcdefghijklmnopqrstuA"), ADMIT_OK);
    snprintf(file, sizeof file, "%s/token", dir);
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(admit_scan_state_token_read(st, token), ADMIT_OK);
    assert_string_equal(token, "abcdefghijklmnopqrstuA");
    assert_int_equal(admit_scan_state_peek_token(dir, token), ADMIT_OK);
    chmod(file, 0640);
    assert_int_equal(admit_scan_state_token_read(st, token), ADMIT_ERR_PERMISSION);
    chmod(file, 0600);
    FILE *f = fopen(file, "w");
    fputs("abc\n", f);
    fclose(f);
    assert_int_equal(admit_scan_state_token_read(st, token), ADMIT_ERR_INVALID);
    assert_string_equal(token, "");

    json_t *v = NULL;
    assert_int_equal(admit_scan_state_json_read(st, "snapshot.json", &v), ADMIT_ERR_NOT_FOUND);
    json_t *snap = json_pack("{s:s, s:[i,i]}", "cursor", "1:2:", "ids", 1, 2);
    assert_int_equal(admit_scan_state_json_write(st, "snapshot.json", snap), ADMIT_OK);
    assert_int_equal(admit_scan_state_json_read(st, "snapshot.json", &v), ADMIT_OK);
    assert_true(json_equal(v, snap));
    json_decref(v);
    json_decref(snap);
    snprintf(file, sizeof file, "%s/bad.json", dir);
    f = fopen(file, "w");
    fputs("{oops", f);
    fclose(f);
    assert_int_equal(admit_scan_state_json_read(st, "bad.json", &v), ADMIT_ERR_INVALID);
    assert_null(v);

    /* Append, read back. */
    json_t *records[3];
    for (int i = 0; i < 3; i++) {
        char nonce[16];
        snprintf(nonce, sizeof nonce, "nonce-%02d", i);
        records[i] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "t", "scan", "nonce", nonce,
                               "payload", "AD1:X", "list", "Day 1", "direction", "entry",
                               "scanned_at", "2027-10-29T09:12:03.120Z");
    }
    assert_int_equal(admit_scan_state_append(st, records, 3), ADMIT_OK);
    json_t *marker = json_pack("{s:s}", "t", "sync");
    assert_int_equal(admit_scan_state_append(st, &marker, 1), ADMIT_OK);
    json_decref(marker);
    for (int i = 0; i < 3; i++)
        json_decref(records[i]);
    struct count c = {0, 0};
    size_t bad = 0;
    assert_int_equal(admit_scan_state_journal_read(st, count_records, &c, &bad), ADMIT_OK);
    assert_int_equal(c.scans, 3);
    assert_int_equal(c.others, 1);
    assert_int_equal(bad, 0);
    admit_scan_state_close(st);

    /* A crash cut the last write short: opening repairs the journal, appending goes on. */
    snprintf(file, sizeof file, "%s/journal.jsonl", dir);
    f = fopen(file, "a");
    fputs("{\"t\":\"scan\",\"nonce\":\"torn", f);
    fclose(f);
    assert_int_equal(admit_scan_state_open(dir, &st), ADMIT_OK);
    json_t *after = json_pack("{s:s}", "t", "sync");
    assert_int_equal(admit_scan_state_append(st, &after, 1), ADMIT_OK);
    json_decref(after);
    memset(&c, 0, sizeof c);
    assert_int_equal(admit_scan_state_journal_read(st, count_records, &c, &bad), ADMIT_OK);
    assert_int_equal(c.scans, 3);
    assert_int_equal(c.others, 2);
    assert_int_equal(bad, 0);
    admit_scan_state_close(st);
    admit_scan_state_close(NULL);

    /* A journal that is one torn line: emptied. */
    path(dir, sizeof dir, "deep/er/h_8080_torn");
    assert_int_equal(admit_scan_state_open(dir, &st), ADMIT_OK);
    admit_scan_state_close(st);
    snprintf(file, sizeof file, "%s/journal.jsonl", dir);
    f = fopen(file, "w");
    fputs("{\"t\":", f);
    fclose(f);
    assert_int_equal(admit_scan_state_open(dir, &st), ADMIT_OK);
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    admit_scan_state_close(st);
}

static void test_find(void **state)
{
    char dir[512];
    char **names = NULL;
    (void)state;
    path(dir, sizeof dir, "roots/a");
    assert_int_equal(admit_scan_state_find(dir, "h_1_", &names), ADMIT_OK);
    assert_null(names[0]); /* a missing root holds nothing */
    admit_scan_state_names_free(names);
    static const char *const folders[] = {"h_1_zeta", "h_1_alpha", "h_2_alpha", "h_1_"};
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        char sub[600];
        struct admit_scan_state *st = NULL;
        snprintf(sub, sizeof sub, "%s/%s", dir, folders[i]);
        assert_int_equal(admit_scan_state_open(sub, &st), ADMIT_OK);
        admit_scan_state_close(st);
    }
    assert_int_equal(admit_scan_state_find(dir, "h_1_", &names), ADMIT_OK);
    assert_string_equal(names[0], "h_1_");
    assert_string_equal(names[1], "h_1_alpha");
    assert_string_equal(names[2], "h_1_zeta");
    assert_null(names[3]);
    admit_scan_state_names_free(names);
    admit_scan_state_names_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_parse), cmocka_unit_test(test_answer_valid),
        cmocka_unit_test(test_root),          cmocka_unit_test(test_folder_lock_token_and_files),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
