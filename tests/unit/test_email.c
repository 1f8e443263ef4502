/* The email address rule (lib/core/email.c): what admit accepts is what its mailer can send to. The
 * same rule end to end, from every entry point: tests/integration/test_email_addresses.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/email.h"

#define SHAPE     "Enter an email address like name@example.org"
#define NON_ASCII "Our emails cannot reach an address with accents"
#define SPECIALS  "An email address cannot contain spaces"

static void test_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "a@b.co",
        "first.last+tag@sub.example.org",
        "o'brien@example.ie",
        "UPPER.Case_99@Example-Domain.ORG",
        "!#$%&'*+-/=?^_`{|}~@example.org",
        "x@a-b.c-d.example",
        "x@123.example.org",
        "x@example.x1",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (admit_email_problem(good[i]) != NULL)
            fail_msg("refused \"%s\": %s", good[i], admit_email_problem(good[i]));
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *addr, *message; /* the start of the message */
    } bad[] = {
        {"", SHAPE},
        {"noat", SHAPE},
        {"@example.org", SHAPE},
        {"a@", SHAPE},
        {"a@@example.org", SHAPE},
        {"a@b@example.org", SHAPE},
        {"a@nodot", SHAPE},
        {"a@.example.org", SHAPE},
        {"a@example..org", SHAPE},
        {"a@example.org.", SHAPE},
        {"a@-example.org", SHAPE},
        {"a@example-.org", SHAPE},
        {"a@exa_mple.org", SHAPE},
        {"a@example.123", SHAPE},
        {"a..b@example.org", SHAPE},
        {".a@example.org", SHAPE},
        {"a.@example.org", SHAPE},
        {"j\xc3\xbcrgen@example.org", NON_ASCII},
        {"x@b\xc3\xbc"
         "cher.de",
         NON_ASCII},
        {"\xe6\x9d\x8e@example.cn", NON_ASCII},
        {"\xff@example.org", NON_ASCII},
        {"a b@example.org", SPECIALS},
        {"a:b@example.org", SPECIALS},
        {"a;b@example.org", SPECIALS},
        {"a,b@example.org", SPECIALS},
        {"<a@example.org>", SPECIALS},
        {"\"q\"@example.org", SPECIALS},
        {"a\\b@example.org", SPECIALS},
        {"a@[127.0.0.1]", SPECIALS},
        {"a(comment)@example.org", SPECIALS},
        {"a@example.org\r\nBcc: x@example.org", "Use ordinary text on one line"},
        {"a\t@example.org", "Use ordinary text on one line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *problem = admit_email_problem(bad[i].addr);
        if (problem == NULL || strncmp(problem, bad[i].message, strlen(bad[i].message)) != 0)
            fail_msg("\"%s\": %s, want %s", bad[i].addr, problem ? problem : "accepted",
                     bad[i].message);
    }
}

static void test_lengths(void **state)
{
    char addr[400];
    (void)state;
    /* 64 characters before the @ are fine, 65 are not. */
    snprintf(addr, sizeof addr, "%064d@example.org", 0);
    assert_null(admit_email_problem(addr));
    snprintf(addr, sizeof addr, "%065d@example.org", 0);
    assert_string_equal(admit_email_problem(addr),
                        "The part before the @ has at most 64 characters");
    /* A label of 63 characters is fine, 64 are not. */
    snprintf(addr, sizeof addr, "a@%063d.org", 0);
    assert_null(admit_email_problem(addr));
    snprintf(addr, sizeof addr, "a@%064d.org", 0);
    assert_string_equal(admit_email_problem(addr), SHAPE);
    /* 254 characters in all, not 255. */
    snprintf(addr, sizeof addr, "a@%063d.%063d.%063d.%056d.org", 0, 0, 0, 0);
    assert_int_equal(strlen(addr), 254);
    assert_null(admit_email_problem(addr));
    snprintf(addr, sizeof addr, "a@%063d.%063d.%063d.%057d.org", 0, 0, 0, 0);
    assert_string_equal(admit_email_problem(addr), "This is too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
