/* Sending over SMTP (libcurl) against a scripted SMTP server on a loopback port, and what each
 * answer means: delivered (dot-stuffing undone by the server gives the message back), refused
 * for good (5xx to RCPT or DATA), deferred (4xx), server unavailable (nothing listening, a
 * refusing greeting, a refused sender, a refused login), credentials never in the reply, and
 * one connection for several messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/mail/mail_smtp.h"
#include "smtp_fake.h"

static struct admit_smtp *handle(const char *user, const char *password)
{
    char url[64];
    struct admit_smtp *s = NULL;
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d/admit.test", port);
    struct admit_smtp_config cfg = {.url = url,
                                    .user = user,
                                    .password = password,
                                    .tls = ADMIT_SMTP_TLS_NEVER,
                                    .timeout_seconds = 10};
    assert_int_equal(admit_smtp_new(&cfg, &s), ADMIT_OK);
    return s;
}

static const char message[] = "Subject: test\r\n\r\nline one\r\n.hidden dot line\r\n.\r\nend\r\n";

static void test_sent_and_connection_reuse(void **state)
{
    (void)state;
    char text[256];
    struct admit_smtp *s = handle(NULL, NULL);
    int before = accepts;
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_SENT);
    assert_string_equal(received, message);
    assert_string_equal(text, "250 queued");
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok2@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_SENT);
    assert_int_equal(accepts - before, 1); /* the second message used the same connection */
    admit_smtp_free(s);
}

static void test_refused_and_deferred(void **state)
{
    (void)state;
    char text[256];
    struct admit_smtp *s = handle(NULL, NULL);
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "refuse@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_REFUSED);
    assert_string_equal(text, "550 5.1.1 <refuse@example.org>: mailbox unknown");
    /* The next message goes on. */
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_SENT);
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "later@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_DEFERRED);
    assert_string_equal(text, "451 4.3.0 try again later");
    /* Refused after the content: 5xx to the end of DATA. */
    data_code = 554;
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_REFUSED);
    assert_string_equal(text, "554 no");
    data_code = 452;
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_DEFERRED);
    data_code = 250;
    admit_smtp_free(s);
}

static void test_unavailable(void **state)
{
    (void)state;
    char text[256];
    /* The sender refused: no message is at fault. */
    struct admit_smtp *s = handle(NULL, NULL);
    refuse_sender = 1;
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_UNAVAILABLE);
    assert_string_equal(text, "550 5.7.1 sender not allowed");
    refuse_sender = 0;
    admit_smtp_free(s);
    /* A server that will not talk. */
    greeting_code = 554;
    s = handle(NULL, NULL);
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_UNAVAILABLE);
    greeting_code = 220;
    admit_smtp_free(s);
    /* Nothing listening. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd); /* a port that was free a moment ago, and is closed now */
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", ntohs(addr.sin_port));
    struct admit_smtp_config cfg = {.url = url, .tls = ADMIT_SMTP_TLS_TRY, .timeout_seconds = 5};
    assert_int_equal(admit_smtp_new(&cfg, &s), ADMIT_OK);
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_UNAVAILABLE);
    assert_true(strlen(text) > 0);
    admit_smtp_free(s);
}

static void test_credentials(void **state)
{
    (void)state;
    char text[256];
    struct admit_smtp *s = handle("user", "secret");
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_SENT);
    assert_non_null(strstr(auth_line, "AUTH PLAIN"));
    admit_smtp_free(s);
    /* A refused login: the server is unusable, and the reply never holds the password. */
    s = handle("user", "wrong-password");
    assert_int_equal(admit_smtp_send(s, "tickets@admit.test", "ok@example.org", message,
                                     strlen(message), text, sizeof text),
                     ADMIT_SMTP_UNAVAILABLE);
    assert_null(strstr(text, "wrong-password"));
    assert_non_null(strstr(text, "535"));
    admit_smtp_free(s);
}

static void test_config(void **state)
{
    (void)state;
    struct admit_smtp *s = NULL;
    struct admit_smtp_config cfg = {.url = "http://127.0.0.1:25", .timeout_seconds = 5};
    assert_int_equal(admit_smtp_new(&cfg, &s), ADMIT_ERR_INVALID);
    assert_null(s);
    cfg.url = "smtps://mail.example.org:465";
    assert_int_equal(admit_smtp_new(&cfg, &s), ADMIT_OK);
    admit_smtp_free(s);
    admit_smtp_free(NULL);
    assert_true(admit_smtp_url_loopback("smtp://127.0.0.1:2525"));
    assert_true(admit_smtp_url_loopback("smtp://localhost"));
    assert_true(admit_smtp_url_loopback("smtp://[::1]:25/x"));
    assert_false(admit_smtp_url_loopback("smtp://mail.example.org:587"));
    assert_false(admit_smtp_url_loopback("smtp://127.0.0.1.evil.example:25"));
    assert_false(admit_smtp_url_loopback("not a url"));
    assert_string_equal(admit_smtp_result_name(ADMIT_SMTP_REFUSED), "refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sent_and_connection_reuse),
        cmocka_unit_test(test_refused_and_deferred),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, smtp_fake_setup, smtp_fake_teardown);
}
