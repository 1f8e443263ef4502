/* Pages cut at their marks and filled per request (lib/core/splice.c): a filled page must be
 * exactly the page rendered with the values in place of the marks, for any placement of the marks,
 * and for the real event page of templates/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "admit/core/buf.h"
#include "admit/core/keys.h"
#include "admit/core/splice.h"
#include "admit/core/tmpl.h"
#include "admit/core/token.h"

/* text with every occurrence of each marks[i] replaced by values[i], searching left to right for
 * the earliest mark: the reference the splice must agree with. */
static char *replace_all(const char *text, const char *const *marks, const char *const *values,
                         size_t n)
{
    struct admit_buf out;
    admit_buf_init(&out, 1 << 24);
    const char *p = text;
    for (;;) {
        const char *best = NULL;
        size_t which = 0;
        for (size_t i = 0; i < n; i++) {
            const char *q = strstr(p, marks[i]);
            if (q != NULL && (best == NULL || q < best)) {
                best = q;
                which = i;
            }
        }
        if (best == NULL)
            break;
        assert_int_equal(admit_buf_append(&out, p, (size_t)(best - p)), ADMIT_OK);
        assert_int_equal(admit_buf_puts(&out, values[which]), ADMIT_OK);
        p = best + strlen(marks[which]);
    }
    assert_int_equal(admit_buf_puts(&out, p), ADMIT_OK);
    return admit_buf_steal(&out, NULL);
}

static void check(const char *text, const char *const *marks, const char *const *values, size_t n)
{
    struct admit_splice *s = NULL;
    char *page = NULL;
    size_t len = 0;
    assert_int_equal(admit_splice_cut(text, strlen(text), marks, n, &s), ADMIT_OK);
    assert_int_equal(admit_splice_fill(s, values, &page, &len), ADMIT_OK);
    char *expected = replace_all(text, marks, values, n);
    assert_string_equal(page, expected);
    assert_int_equal(len, strlen(expected));
    free(expected);
    free(page);
    admit_splice_free(s);
}

static void test_placements(void **state)
{
    (void)state;
    const char *marks[] = {"MARKone", "MARKtwo"};
    const char *values[] = {"v1", "a-much_longer-value-0123456789"};
    static const char *const texts[] = {
        "",
        "no marks at all",
        "MARKone",
        "MARKoneMARKtwo",
        "MARKtwoMARKone at the start, then MARKone in the middle and at the end MARKtwo",
        "<input value=\"MARKone\"><input value=\"MARKtwo\">",
        "MARKon MARKtw MARKoneMARKone nearly, twice",
        "only the second: MARKtwo MARKtwo MARKtwo",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check(texts[i], marks, values, 2);
    /* Values shorter, longer and equal to the marks. */
    const char *same[] = {"MARKtwo", "MARKone"};
    check(texts[4], marks, same, 2);
}

/* The end of one mark is the start of the other: the earlier occurrence wins and the overlapped
 * one is not a hole. */
static void test_overlapping_marks(void **state)
{
    (void)state;
    const char *marks[] = {"abcXY", "XYdef"};
    const char *values[] = {"1", "2"};
    check("abcXYdef", marks, values, 2);
    check("XYdefabcXY", marks, values, 2);
    check("abcXYdef XYdef", marks, values, 2);
    struct admit_splice *s = NULL;
    assert_int_equal(admit_splice_cut("abcXYdef", 8, marks, 2, &s), ADMIT_OK);
    assert_int_equal(admit_splice_holes(s, 0), 1);
    assert_int_equal(admit_splice_holes(s, 1), 0);
    assert_int_equal(admit_splice_holes(s, 2), 0);
    admit_splice_free(s);
}

static void test_hole_counts_and_bytes(void **state)
{
    (void)state;
    const char *marks[] = {"N0nce"};
    const char *values[] = {"x"};
    const char text[] = "a N0nce b\0N0nce c"; /* a NUL byte in the text is kept */
    struct admit_splice *s = NULL;
    char *page = NULL;
    size_t len = 0;
    assert_int_equal(admit_splice_cut(text, sizeof text - 1, marks, 1, &s), ADMIT_OK);
    assert_int_equal(admit_splice_holes(s, 0), 2);
    assert_int_equal(admit_splice_fill(s, values, &page, &len), ADMIT_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(page, "a x b\0x c", 10);
    free(page);
    admit_splice_free(s);
}

static void test_refused(void **state)
{
    (void)state;
    struct admit_splice *s = (struct admit_splice *)&s; /* must be reset to NULL */
    const char *bad_marks[][2] = {
        {"", "ok"}, /* empty */
        {"has space", "ok"},
        {"<b>", "ok"},
        {"a&b", "ok"},
        {"quo\"te", "ok"},
        {"same", "same"}, /* one contains the other */
        {"long-mark", "mark"},
    };
    for (size_t i = 0; i < sizeof bad_marks / sizeof bad_marks[0]; i++) {
        assert_int_equal(admit_splice_cut("text", 4, bad_marks[i], 2, &s), ADMIT_ERR_INVALID);
        assert_null(s);
        s = (struct admit_splice *)&s;
    }
    const char *one[] = {"mark"};
    assert_int_equal(admit_splice_cut("text", 4, one, 0, &s), ADMIT_ERR_INVALID);
    assert_int_equal(admit_splice_cut("text", 4, NULL, 1, &s), ADMIT_ERR_INVALID);
    assert_int_equal(admit_splice_cut(NULL, 4, one, 1, &s), ADMIT_ERR_INVALID);
    const char *nine[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    assert_int_equal(admit_splice_cut("text", 4, nine, 9, &s), ADMIT_ERR_INVALID);
    char huge[ADMIT_SPLICE_MAX_TOKEN + 2];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *too_long[] = {huge};
    assert_int_equal(admit_splice_cut("text", 4, too_long, 1, &s), ADMIT_ERR_INVALID);

    /* Values that escaping would have changed are refused, not inserted. */
    assert_int_equal(admit_splice_cut("<p>mark</p>", 11, one, 1, &s), ADMIT_OK);
    static const char *const bad_values[] = {"<script>", "\"", "a'b", "a&b", "", "a b", "é"};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        char *page = (char *)"unset";
        size_t len = 99;
        const char *values[] = {bad_values[i]};
        assert_int_equal(admit_splice_fill(s, values, &page, &len), ADMIT_ERR_INVALID);
        assert_null(page);
        assert_int_equal(len, 0);
    }
    char *page = NULL;
    size_t len = 0;
    const char *too_long_value[] = {huge};
    assert_int_equal(admit_splice_fill(s, too_long_value, &page, &len), ADMIT_ERR_INVALID);
    assert_int_equal(admit_splice_fill(s, NULL, &page, &len), ADMIT_ERR_INVALID);
    admit_splice_free(s);
    admit_splice_free(NULL);
}

/* The real event page, as server/public.c caches it: rendered once with random marks for the
 * CSRF token and the nonce, then filled, equals the page rendered with the tokens themselves. */
static void test_event_page(void **state)
{
    (void)state;
    char dir[2048], mark_csrf[ADMIT_TOKEN_SIZE], mark_nonce[ADMIT_TOKEN_SIZE];
    char nonce[ADMIT_TOKEN_SIZE];
    const char *src = getenv("ADMIT_SOURCE_DIR");
    struct admit_tmpl_set *set = NULL;
    struct admit_error err;
    snprintf(dir, sizeof dir, "%s/templates", src != NULL ? src : ".");
    assert_int_equal(admit_tmpl_set_load_dir(dir, &set, &err), ADMIT_OK);
    admit_token_new(mark_csrf);
    admit_token_new(mark_nonce);
    admit_token_new(nonce);
    const char *csrf = "kq3YqU1ZzP4-bW1o5gq2mV8tqk3Jk5cFtyvN0Jp1aZ_"; /* 43 characters */

    json_t *event = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:b, s:b, s:b, "
        "s:b, s:[{s:i, s:s, s:s}]}",
        "slug", "terra", "name", "TERRA <Final> & \"Conference\"", "description", "Soil & health",
        "venue", "Museum", "venue_address", "Rue Vautier 29", "organiser", "TERRA", "contact_email",
        "events@example.org", "time_zone", "Europe/Brussels", "dates", "29–30 October 2027",
        "starts", "Friday 29 October 2027, 09:00", "closes", "Friday 29 October 2027, 09:00",
        "capacity", 200, "free_seats", 150, "waitlist", 1, "is_open", 1, "is_not_open", 0,
        "is_closed", 0, "full", 0, "lists", "id", 1, "name", "Day 1", "day", "Friday 29 October");
    const char *pair[2][2] = {{mark_csrf, mark_nonce}, {csrf, nonce}};
    char *rendered[2];
    for (int k = 0; k < 2; k++) {
        json_t *ctx = json_pack(
            "{s:O, s:O, s:{s:s, s:s, s:s, s:{}, s:{}, s:[], s:b}, s:[{s:s, s:s, s:b}], "
            "s:[{s:s, s:s, s:b}], s:[{s:i, s:s, s:b}], s:{s:s}}",
            "title", json_object_get(event, "name"), "event", event, "form", "action",
            "/events/terra/register", "csrf_token", pair[k][0], "nonce", pair[k][1], "values",
            "errors", "error_list", "has_errors", 0, "countries", "code", "BE", "name", "Belgium",
            "selected", 0, "organisation_types", "value", "research", "label", "Research",
            "selected", 0, "lists", "id", 1, "name", "Day 1", "checked", 0, "site", "url", "");
        assert_non_null(ctx);
        struct admit_buf out;
        admit_buf_init(&out, 1 << 22);
        assert_int_equal(admit_tmpl_render(set, "event.html", ctx, &out), ADMIT_OK);
        rendered[k] = admit_buf_steal(&out, NULL);
        json_decref(ctx);
    }
    struct admit_splice *s = NULL;
    char *page = NULL;
    size_t len = 0;
    assert_int_equal(admit_splice_cut(rendered[0], strlen(rendered[0]), pair[0], 2, &s), ADMIT_OK);
    assert_int_equal(admit_splice_holes(s, 0), 1);
    assert_int_equal(admit_splice_holes(s, 1), 1);
    assert_int_equal(admit_splice_fill(s, pair[1], &page, &len), ADMIT_OK);
    assert_string_equal(page, rendered[1]);
    assert_non_null(strstr(page, nonce));
    assert_null(strstr(page, mark_nonce));
    free(page);
    admit_splice_free(s);
    free(rendered[0]);
    free(rendered[1]);
    json_decref(event);
    admit_tmpl_set_free(set);
}

int main(void)
{
    if (admit_init() != ADMIT_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placements),
        cmocka_unit_test(test_overlapping_marks),
        cmocka_unit_test(test_hole_counts_and_bytes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_event_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
