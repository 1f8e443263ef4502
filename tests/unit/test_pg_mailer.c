/* The mailer's delivery loop (admit/mail/mailer.h) against a real PostgreSQL and the scripted
 * SMTP server of smtp_fake.h: its settings refused with the options' words, a confirmation
 * composed (QR code rendered with the signing key) and sent, a refused and a deferred message
 * recorded, --once telling that a message must wait, the SMTP server down, and a stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/keys.h"
#include "admit/mail/mailer.h"
#include "admit/register/event.h"
#include "enrol.h"
#include "pgtest.h"
#include "smtp_fake.h"

static struct pgtest pg;
static char keys_dir[] = "/tmp/admit-mailer-keys-XXXXXX";
static char templates_dir[2048];
static char smtp_url[64];

/* What the loop reported, one line per event. */
static char log_text[16384];
static int counts[ADMIT_MAILER_TAKEN_OVER + 1];

static void on_event(void *ctx, enum admit_mailer_event event, const char *detail)
{
    (void)ctx;
    counts[event]++;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", detail);
}

static int setup(void **state)
{
    struct admit_signing_key key;
    const char *src = getenv("ADMIT_SOURCE_DIR");
    if (admit_init() != ADMIT_OK || mkdtemp(keys_dir) == NULL)
        return -1;
    admit_key_generate(&key);
    enum admit_rc rc = admit_key_write_files(keys_dir, &key);
    admit_key_wipe(&key);
    if (rc != ADMIT_OK)
        return -1;
    snprintf(templates_dir, sizeof templates_dir, "%s/templates", src != NULL ? src : ".");
    pgtest_create(&pg, "mailer");
    if (smtp_fake_setup(state) != 0)
        return -1;
    snprintf(smtp_url, sizeof smtp_url, "smtp://127.0.0.1:%d/admit.test", port);
    struct admit_event_spec spec = {.slug = "mailer",
                                    .name = "Mailer conference",
                                    .time_zone = "Europe/Brussels",
                                    .starts = "2099-10-29 09:00",
                                    .ends = "2099-10-30 17:30",
                                    .capacity = 100,
                                    .contact_email = "events@example.org"};
    struct admit_error err;
    int id = 0;
    struct admit_db *db = admit_db_new(pg.dsn);
    rc = admit_event_create(db, &spec, &id, &err);
    admit_db_free(db);
    return rc == ADMIT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char path[256];
    smtp_fake_teardown(state);
    pgtest_drop(&pg);
    snprintf(path, sizeof path, "%s/%s", keys_dir, ADMIT_KEY_SECRET_FILE);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", keys_dir, ADMIT_KEY_PUBLIC_FILE);
    unlink(path);
    rmdir(keys_dir);
    return 0;
}

static struct admit_mailer_settings settings(void)
{
    return (struct admit_mailer_settings){
        .from = "Mailer Conference <tickets@admit.test>",
        .public_url = "https://tickets.example.org/",
        .keys_dir = keys_dir,
        .templates_dir = templates_dir,
        .smtp = {.url = smtp_url, .tls = ADMIT_SMTP_TLS_NEVER, .timeout_seconds = 10},
        .lease_seconds = 60,
        .backoff = {.min_seconds = 1, .max_seconds = 2},
    };
}

/* A registration for email, which queues its confirmation. */
static void register_email(const char *email)
{
    struct admit_registration_result res;
    struct admit_db *db = admit_db_new(pg.dsn);
    enrol(db, "mailer", email, &res);
    admit_db_free(db);
}

/* Runs the loop once (--once) with the settings s; returns what admit_mailer_run said. */
static bool run_once(const struct admit_mailer_settings *s, volatile sig_atomic_t *stop)
{
    struct admit_mailer *m = NULL;
    struct admit_error err;
    static volatile sig_atomic_t never;
    log_text[0] = '\0';
    memset(counts, 0, sizeof counts);
    if (admit_mailer_new(s, &m, &err) != ADMIT_OK)
        fail_msg("new: %s", err.message);
    if (admit_mailer_connect(m, pg.dsn, &err) != ADMIT_OK)
        fail_msg("connect: %s", err.message);
    struct admit_mailer_loop loop = {
        .poll_ms = 20, .once = true, .stop = stop != NULL ? stop : &never, .notify = on_event};
    bool waiting = admit_mailer_run(m, &loop);
    admit_mailer_free(m);
    return waiting;
}

static void refused_with(struct admit_mailer_settings s, const char *words)
{
    struct admit_mailer *m = NULL;
    struct admit_error err;
    assert_int_not_equal(admit_mailer_new(&s, &m, &err), ADMIT_OK);
    assert_null(m);
    if (strstr(err.message, words) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", err.message, words);
}

static void test_settings_refused(void **state)
{
    (void)state;
    struct admit_mailer_settings s = settings();
    s.from = "not an address";
    refused_with(s, "--from \"not an address\": expected \"Name <address>\"");
    s = settings();
    s.public_url = "ftp://x";
    refused_with(s, "--public-url \"ftp://x\": expected http://HOST or https://HOST");
    s = settings();
    s.smtp.url = "http://x";
    refused_with(s, "--smtp-url: expected smtp://HOST:PORT or smtps://HOST:PORT");
    s = settings();
    s.smtp.url = "smtp://mail.example.org:587";
    s.smtp.user = "u";
    s.smtp.password = "s3cret-pw";
    refused_with(s, "SMTP credentials are only sent over TLS");
    s = settings();
    s.lease_seconds = 10;
    refused_with(s, "--lease must be at least twice --smtp-timeout");
    s = settings();
    s.backoff.min_seconds = 5;
    refused_with(s, "--retry-max must be at least --retry-min");
    s = settings();
    s.keys_dir = "/nonexistent";
    refused_with(s, "cannot read /nonexistent/ticket-signing.key");
    s = settings();
    s.templates_dir = "/nonexistent";
    refused_with(s, "cannot load the templates: ");

    struct admit_mailer *m = NULL;
    struct admit_error err;
    s = settings();
    assert_int_equal(admit_mailer_new(&s, &m, &err), ADMIT_OK);
    assert_int_equal(admit_mailer_connect(m, "host=/nonexistent dbname=x", &err),
                     ADMIT_ERR_DB_UNAVAILABLE);
    assert_non_null(strstr(err.message, "cannot connect to the database: "));
    admit_mailer_free(m);
}

static void test_sent_refused_deferred(void **state)
{
    (void)state;
    struct admit_mailer_settings s = settings();
    /* Nothing due: done at once, nothing waits. */
    assert_false(run_once(&s, NULL));
    assert_string_equal(log_text, "");

    register_email("ann@example.org");
    assert_false(run_once(&s, NULL));
    assert_int_equal(counts[ADMIT_MAILER_SENT], 1);
    assert_non_null(strstr(log_text, "sent message="));
    assert_non_null(strstr(log_text, "kind=confirmation attempt=1"));
    assert_non_null(strstr(received, "ann@example.org"));
    assert_non_null(strstr(received, "Content-Type: image/png")); /* the QR code, made here */
    assert_string_equal(pgtest_value(pg.dsn, "SELECT string_agg(state::text, ',') FROM "
                                             "mail_outbox WHERE recipient = 'ann@example.org'"),
                        "sent");

    register_email("refuse@example.org");
    register_email("later@example.org");
    assert_true(run_once(&s, NULL)); /* the 4xx one waits */
    assert_int_equal(counts[ADMIT_MAILER_FAILED], 1);
    assert_int_equal(counts[ADMIT_MAILER_DEFERRED], 1);
    assert_non_null(strstr(log_text, "refused message="));
    assert_non_null(strstr(log_text, "550 5.1.1"));
    assert_non_null(strstr(log_text, "deferred message="));
    assert_string_equal(pgtest_value(pg.dsn, "SELECT state || ' ' || attempts FROM mail_outbox "
                                             "WHERE recipient = 'refuse@example.org'"),
                        "failed 1");
    assert_string_equal(pgtest_value(pg.dsn, "SELECT state || ' ' || attempts FROM mail_outbox "
                                             "WHERE recipient = 'later@example.org'"),
                        "pending 1");
}

/* Every pending message due now, back-off or not. */
static void make_due(void)
{
    pgtest_value(pg.dsn, "WITH due AS (UPDATE mail_outbox SET next_attempt_at = now() WHERE "
                         "state = 'pending' RETURNING 1) SELECT count(*) FROM due");
}

static void test_smtp_down_and_stop(void **state)
{
    (void)state;
    struct admit_mailer_settings s = settings();
    make_due();
    /* Nobody answers: the message goes back to pending, --once says it waits. */
    s.smtp.url = "smtp://127.0.0.1:1";
    assert_true(run_once(&s, NULL));
    assert_int_equal(counts[ADMIT_MAILER_SMTP_DOWN], 1);
    assert_non_null(strstr(log_text, "SMTP server unavailable (message="));
    assert_string_equal(pgtest_value(pg.dsn, "SELECT state || ' ' || attempts FROM mail_outbox "
                                             "WHERE recipient = 'later@example.org'"),
                        "pending 2");

    /* Stopped before it starts: nothing is claimed. */
    static volatile sig_atomic_t stop = 1;
    s = settings();
    make_due();
    assert_false(run_once(&s, &stop));
    assert_string_equal(log_text, "");
    assert_string_equal(pgtest_value(pg.dsn, "SELECT attempts FROM mail_outbox WHERE recipient "
                                             "= 'later@example.org'"),
                        "2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_refused),
        cmocka_unit_test(test_sent_refused_deferred),
        cmocka_unit_test(test_smtp_down_and_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
