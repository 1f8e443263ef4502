/* Reading submitted forms in the library: the trimming rule (admit_form_normalise), the values
 * the validators see (admit_form_values), the registration form (admit_registration_read), the
 * edit form (admit_edit_read) and the resend form (admit_resend_read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/formdata.h"
#include "admit/core/token.h"
#include "admit/register/edit.h"
#include "admit/register/form.h"
#include "admit/register/registration.h"
#include "admit/register/resend.h"

static void parse(struct admit_formdata *form, const char *text)
{
    struct admit_error err;
    admit_formdata_init(form);
    if (admit_formdata_parse(form, text, strlen(text), 100, &err) != ADMIT_OK)
        fail_msg("%s: %s", text, err.message);
}

static void check_normalised(const char *raw, const char *want)
{
    char *got = admit_form_normalise(raw);
    assert_string_equal(got, want);
    free(got);
}

static void test_normalise(void **state)
{
    (void)state;
    check_normalised("  Ann \t", "Ann");
    check_normalised("\r\n\tAnn Smith\r\n", "Ann Smith");
    check_normalised("line one\r\nline two\r\n", "line one\nline two");
    check_normalised("a\rb", "a\rb"); /* a lone CR is the text rule's to refuse */
    check_normalised(" \t\r\n ", "");
    check_normalised("", "");
    /* Only ASCII white space: a no-break space is text (the rule of admit/text.h decides). */
    check_normalised("\xc2\xa0x\xc2\xa0", "\xc2\xa0x\xc2\xa0");
}

static void test_values(void **state)
{
    (void)state;
    struct admit_formdata raw;
    struct admit_form_values v;
    parse(&raw, "name=+Ann+&note=a%0D%0Ab&name=second&empty=");
    admit_form_values_init(&v, &raw);
    assert_string_equal(admit_form_values_get(&v, "name"), "Ann");
    assert_string_equal(admit_form_values_get(&v, "note"), "a\nb");
    assert_string_equal(admit_form_values_get(&v, "empty"), "");
    assert_null(admit_form_values_get(&v, "absent"));
    /* Asked again: the same copy. */
    const char *first = admit_form_values_get(&v, "name");
    assert_ptr_equal(admit_form_values_get(&v, "name"), first);
    admit_form_values_free(&v);
    assert_int_equal(v.count, 0);
    admit_formdata_free(&raw);

    /* No form at all reads as one with no fields. */
    admit_form_values_init(&v, NULL);
    assert_null(admit_form_values_get(&v, "name"));
    admit_form_values_free(&v);
}

/* A complete registration form, with text around every value; extra is appended. */
static void registration_form(char *out, size_t outlen, const char *nonce, const char *extra)
{
    snprintf(out, outlen,
             "given_name=+Ann+&family_name=%%09Smith%%0D%%0A&email=+ann%%40example.org+"
             "&organisation=ULB&organisation_type=research&country=+BE&dietary=no+nuts%%0D%%0A"
             "please&consent=yes&form_nonce=+%s+%s",
             nonce, extra);
}

static void test_registration_read(void **state)
{
    (void)state;
    char nonce[ADMIT_TOKEN_SIZE], text[2048];
    struct admit_formdata raw;
    struct admit_form_values v;
    struct admit_registration in;
    struct admit_form_errors errs = {.count = 0};
    admit_token_new(nonce);

    registration_form(text, sizeof text, nonce, "&lists=3&lists=5");
    parse(&raw, text);
    admit_form_values_init(&v, &raw);
    assert_int_equal(admit_registration_read(&v, &in, &errs), 0);
    assert_string_equal(in.given_name, "Ann");
    assert_string_equal(in.family_name, "Smith");
    assert_string_equal(in.email, "ann@example.org");
    assert_string_equal(in.country, "BE");
    assert_string_equal(in.dietary, "no nuts\nplease");
    assert_string_equal(in.form_nonce, nonce);
    assert_int_equal(in.nlists, 2);
    assert_int_equal(in.list_ids[0], 3);
    assert_int_equal(in.list_ids[1], 5);
    admit_form_values_free(&v);
    admit_formdata_free(&raw);

    /* More lists than an event can have: refused on "lists", after the other checks. */
    char lists[16 * (ADMIT_EVENT_MAX_LISTS + 1) + 1] = "";
    for (int i = 1; i <= ADMIT_EVENT_MAX_LISTS + 1; i++)
        snprintf(lists + strlen(lists), sizeof lists - strlen(lists), "&lists=%d", i);
    registration_form(text, sizeof text, nonce, lists);
    parse(&raw, text);
    admit_form_values_init(&v, &raw);
    assert_int_equal(admit_registration_read(&v, &in, &errs), 1);
    assert_string_equal(errs.items[0].field, "lists");
    assert_string_equal(errs.items[0].message, "Choose days and sessions from the list");
    admit_form_values_free(&v);
    admit_formdata_free(&raw);

    /* Blank values are missing ones. */
    errs.count = 0;
    parse(&raw, "given_name=++&consent=yes");
    admit_form_values_init(&v, &raw);
    assert_true(admit_registration_read(&v, &in, &errs) > 0);
    assert_string_equal(errs.items[0].field, "given_name");
    assert_string_equal(errs.items[0].message, "Enter your given name");
    admit_form_values_free(&v);
    admit_formdata_free(&raw);
}

/* The edit form: the registration's fields read as the registration form reads them, without
 * consent or nonce, and the version it showed. */
static void test_edit_read(void **state)
{
    (void)state;
    char text[2048];
    struct admit_formdata raw;
    struct admit_form_values v;
    struct admit_edit in;
    struct admit_form_errors errs = {.count = 0};

    snprintf(text, sizeof text,
             "given_name=+Ann+&family_name=Smith&email=ann%%40example.org&organisation=ULB"
             "&organisation_type=research&country=BE&dietary=no+nuts%%0D%%0Aplease"
             "&version=+7+&lists=5&lists=3&lists=5");
    parse(&raw, text);
    admit_form_values_init(&v, &raw);
    assert_int_equal(admit_edit_read(&v, &in, &errs), 0);
    assert_string_equal(in.details.given_name, "Ann");
    assert_string_equal(in.details.dietary, "no nuts\nplease");
    assert_int_equal(in.version, 7);
    assert_int_equal(in.details.nlists, 2); /* the same list twice is one */
    assert_int_equal(in.details.list_ids[0], 5);
    assert_int_equal(in.details.list_ids[1], 3);
    admit_form_values_free(&v);
    admit_formdata_free(&raw);

    /* A version that is not one, a bad field, a list that is not an id: one error each. */
    const char *bad[][2] = {
        {"given_name=Ann&family_name=Smith&email=ann%40example.org&organisation=ULB"
         "&organisation_type=research&country=BE&version=0",
         "version"},
        {"given_name=Ann&family_name=Smith&email=ann%40example.org&organisation=ULB"
         "&organisation_type=research&country=BE&version=two",
         "version"},
        {"given_name=Ann&family_name=Smith&email=ann%40example.org&organisation=ULB"
         "&organisation_type=research&country=BE",
         "version"},
        {"given_name=Ann&family_name=Smith&email=ann&organisation=ULB"
         "&organisation_type=research&country=BE&version=1",
         "email"},
        {"given_name=Ann&family_name=Smith&email=ann%40example.org&organisation=ULB"
         "&organisation_type=research&country=BE&version=1&lists=-1",
         "lists"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errs.count = 0;
        parse(&raw, bad[i][0]);
        admit_form_values_init(&v, &raw);
        assert_int_equal(admit_edit_read(&v, &in, &errs), 1);
        assert_string_equal(errs.items[0].field, bad[i][1]);
        admit_form_values_free(&v);
        admit_formdata_free(&raw);
    }
}

static void test_resend_read(void **state)
{
    (void)state;
    struct admit_formdata raw;
    struct admit_form_values v;
    struct admit_error err;
    const char *email = NULL;

    parse(&raw, "email=%0D%0A+ann%40example.org%09");
    admit_form_values_init(&v, &raw);
    assert_int_equal(admit_resend_read(&v, &email, &err), ADMIT_OK);
    assert_string_equal(email, "ann@example.org");
    assert_string_equal(err.message, "");
    admit_form_values_free(&v);
    admit_formdata_free(&raw);

    parse(&raw, "email=+++");
    admit_form_values_init(&v, &raw);
    assert_int_equal(admit_resend_read(&v, &email, &err), ADMIT_ERR_INVALID);
    assert_string_equal(email, "");
    assert_string_equal(err.field, "email");
    assert_string_equal(err.message, "Enter the email address you registered with");
    admit_form_values_free(&v);
    admit_formdata_free(&raw);

    admit_form_values_init(&v, NULL);
    assert_int_equal(admit_resend_read(&v, &email, &err), ADMIT_ERR_INVALID);
    assert_string_equal(email, "");
    admit_form_values_free(&v);

    parse(&raw, "email=not-an-address");
    admit_form_values_init(&v, &raw);
    assert_int_equal(admit_resend_read(&v, &email, &err), ADMIT_ERR_INVALID);
    assert_string_equal(email, "not-an-address");
    assert_true(strlen(err.message) > 0);
    admit_form_values_free(&v);
    admit_formdata_free(&raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),         cmocka_unit_test(test_values),
        cmocka_unit_test(test_registration_read), cmocka_unit_test(test_edit_read),
        cmocka_unit_test(test_resend_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
