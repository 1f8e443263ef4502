/* The MIME writer: base64 and quoted-printable against RFC examples and decoded back (random
 * inputs too), RFC 2047 headers decoded back word by word with every line within 78, addresses,
 * --from parsing, dates, and the multipart structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/core/email.h"
#include "admit/mail/mime.h"

/* ---- Decoders, for checking ------------------------------------------------------------------ */

static int b64_value(char c)
{
    const char *digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(digits, c) : NULL;
    return p != NULL ? (int)(p - digits) : -1;
}

/* Decodes base64 (line breaks skipped) into out; returns the length. */
static size_t b64_decode(const char *in, size_t len, unsigned char *out)
{
    unsigned long acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n' || in[i] == '=')
            continue;
        int v = b64_value(in[i]);
        assert_true(v >= 0);
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    fail_msg("bad hex digit %c", c);
    return 0;
}

/* Decodes quoted-printable into out (CRLF kept as line breaks). */
static size_t qp_decode(const char *in, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=' && i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 2;
        } else if (in[i] == '=') {
            assert_true(i + 2 < len);
            out[n++] = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out[n++] = in[i];
        }
    }
    return n;
}

/* Every line of text ends with CRLF and is at most max characters. */
static void assert_lines_within(const char *text, size_t len, size_t max)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            assert_true(i > 0 && text[i - 1] == '\r');
            if (i - 1 - start > max)
                fail_msg("line of %zu characters: %.*s", i - 1 - start, (int)(i - 1 - start),
                         text + start);
            start = i + 1;
        } else if (text[i] == '\r') {
            assert_true(i + 1 < len && text[i + 1] == '\n');
        }
    }
    assert_true(start == len || len - start <= max);
}

/* Decodes an RFC 2047 header value (after "Name: "): encoded words and plain text, folding
 * removed. Each encoded word must decode to valid UTF-8 on its own. */
static void header_decode(const char *value, char *out, size_t outlen)
{
    size_t n = 0;
    const char *p = value;
    while (*p != '\0') {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
            p += 3;
            continue;
        }
        if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(p + 10, "?=");
            assert_non_null(end);
            assert_true(end + 2 - p <= 75);
            unsigned char bytes[128];
            size_t k = b64_decode(p + 10, (size_t)(end - p - 10), bytes);
            /* Whole characters only. */
            for (size_t i = 0; i < k;) {
                size_t c = bytes[i] < 0x80 ? 1 : bytes[i] < 0xE0 ? 2 : bytes[i] < 0xF0 ? 3 : 4;
                assert_true(bytes[i] < 0x80 || bytes[i] >= 0xC2);
                assert_true(i + c <= k);
                i += c;
            }
            assert_true(n + k < outlen);
            memcpy(out + n, bytes, k);
            n += k;
            p = end + 2;
            continue;
        }
        assert_true(n + 1 < outlen);
        out[n++] = *p++;
    }
    out[n] = '\0';
}

/* ---- Encoders -------------------------------------------------------------------------------- */

static void test_base64(void **state)
{
    (void)state;
    static const char *const vectors[][2] = {
        {"", ""},
        {"f", "Zg==\r\n"},
        {"fo", "Zm8=\r\n"},
        {"foo", "Zm9v\r\n"},
        {"foob", "Zm9vYg==\r\n"},
        {"foobar", "Zm9vYmFy\r\n"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        struct admit_buf b;
        admit_buf_init(&b, 1024);
        assert_int_equal(admit_mime_base64(&b, vectors[i][0], strlen(vectors[i][0])), ADMIT_OK);
        assert_string_equal(admit_buf_cstr(&b), vectors[i][1]);
        admit_buf_free(&b);
    }
    /* Long input: 76-character lines, decoding back to the bytes. */
    unsigned char data[1000], back[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof data; len += 19) {
        struct admit_buf b;
        admit_buf_init(&b, 4096);
        assert_int_equal(admit_mime_base64(&b, data, len), ADMIT_OK);
        assert_lines_within(b.data ? b.data : "", b.len, 76);
        if (len > 57)
            assert_int_equal(strchr(b.data, '\r') - b.data, 76);
        assert_int_equal(b64_decode(b.data ? b.data : "", b.len, back), len);
        assert_memory_equal(back, data, len);
        admit_buf_free(&b);
    }
}

static void qp(const char *in, const char *expected)
{
    struct admit_buf b;
    admit_buf_init(&b, 4096);
    assert_int_equal(admit_mime_quoted_printable(&b, in, strlen(in)), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), expected);
    admit_buf_free(&b);
}

static void test_quoted_printable(void **state)
{
    (void)state;
    qp("hello", "hello");
    qp("a=b", "a=3Db");
    qp("line one\nline two\n", "line one\r\nline two\r\n");
    qp("crlf\r\nkept\r\n", "crlf\r\nkept\r\n");
    qp("trailing space \nand tab\t\n", "trailing space=20\r\nand tab=09\r\n");
    qp("end space ", "end space=20");
    qp("inner  spaces stay", "inner  spaces stay");
    qp("Zo\xc3\xab", "Zo=C3=AB");
    qp("lone\rcr", "lone=0Dcr");
    qp("", "");
    /* A line of exactly 76 characters needs no soft break; 77 does. */
    char line[80];
    memset(line, 'a', 76);
    line[76] = '\0';
    qp(line, line);
    line[76] = 'b';
    line[77] = '\0';
    char expected[90];
    snprintf(expected, sizeof expected, "%.75s=\r\nab", line);
    qp(line, expected);
}

static void test_quoted_printable_random(void **state)
{
    (void)state;
    static const char alphabet[] = "ab =\t\n\r.\xc3\xa9\x01\xff";
    srand(7);
    for (int round = 0; round < 2000; round++) {
        char in[400], normal[400], back[1600];
        size_t len = (size_t)(rand() % 300), n = 0;
        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[rand() % (sizeof alphabet - 1)];
        /* What decoding must give: line breaks as CRLF. */
        for (size_t i = 0; i < len; i++) {
            if (in[i] == '\n' && !(i > 0 && in[i - 1] == '\r'))
                normal[n++] = '\r';
            normal[n++] = in[i];
        }
        struct admit_buf b;
        admit_buf_init(&b, 8192);
        assert_int_equal(admit_mime_quoted_printable(&b, in, len), ADMIT_OK);
        const char *out = b.data ? b.data : "";
        assert_lines_within(out, b.len, 76);
        for (size_t i = 0; i < b.len; i++) {
            unsigned char c = (unsigned char)out[i];
            assert_true(c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7F) || c == '\t');
            /* No white space at the end of a line: transports strip it. */
            if (c == '\r')
                assert_true(i == 0 || (out[i - 1] != ' ' && out[i - 1] != '\t'));
        }
        assert_int_equal(qp_decode(out, b.len, back), n);
        assert_memory_equal(back, normal, n);
        admit_buf_free(&b);
    }
}

/* ---- Headers --------------------------------------------------------------------------------- */

/* Writes a header and checks: CRLF lines within 78 (or limit), decoding gives value back. */
static void header_round_trip(const char *value, size_t limit, int expect_encoded)
{
    struct admit_buf b;
    char decoded[4096];
    admit_buf_init(&b, 16384);
    assert_int_equal(admit_mime_header_text(&b, "Subject", value), ADMIT_OK);
    assert_lines_within(b.data, b.len, limit);
    assert_true(b.len >= 2 && b.data[b.len - 2] == '\r' && b.data[b.len - 1] == '\n');
    assert_memory_equal(b.data, "Subject: ", 9);
    b.data[b.len - 2] = '\0';
    /* Only folds: every line break is followed by a space. */
    for (const char *p = strchr(b.data, '\n'); p != NULL; p = strchr(p + 1, '\n'))
        assert_int_equal(p[1], ' ');
    assert_int_equal(strstr(b.data, "=?UTF-8?B?") != NULL, expect_encoded);
    if (!expect_encoded) {
        /* Unfolding plain text: CRLF removed, the space kept. */
        char unfolded[4096];
        size_t n = 0;
        for (const char *p = b.data + 9; *p != '\0'; p++)
            if (*p != '\r' && *p != '\n')
                unfolded[n++] = *p;
        unfolded[n] = '\0';
        assert_string_equal(unfolded, value);
    } else {
        header_decode(b.data + 9, decoded, sizeof decoded);
        assert_string_equal(decoded, value);
    }
    admit_buf_free(&b);
}

static void test_header_text(void **state)
{
    (void)state;
    struct admit_buf b;
    admit_buf_init(&b, 4096);
    assert_int_equal(admit_mime_header_text(&b, "Subject", "Your ticket for TERRA 2027"), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "Subject: Your ticket for TERRA 2027\r\n");
    admit_buf_free(&b);

    header_round_trip("Your ticket for TERRA 2027", 78, 0);
    header_round_trip(
        "A seat is yours: your ticket for the Final Conference of the TERRA project on "
        "soil health across Europe, with its cluster session and plenary days",
        78, 0);
    header_round_trip("Votre billet pour la Conf\xc3\xa9"
                      "rence finale",
                      78, 1);
    /* Long and every width of character: no line over 78, no character split. */
    char mixed[2048] = "";
    for (int i = 0; i < 40; i++)
        strcat(mixed, "a\xc3\xa9\xe2\x82\xac\xe6\xbc\xa2\xf0\x9f\x8e\x9f ");
    header_round_trip(mixed, 78, 1);
    /* What could break the header apart is encoded. */
    header_round_trip("Hi\r\nBcc: victim@example.org", 78, 1);
    header_round_trip("tab\there", 78, 1);
    header_round_trip("looks =?like?= a word", 78, 1);
    /* A word longer than a line: folded where it can be, within the hard limit. */
    char longword[600];
    memset(longword, 'x', 500);
    longword[500] = '\0';
    header_round_trip(longword, 998, 0);
    memset(longword, 'x', 595);
    longword[595] = '\0';
    header_round_trip(longword, 998, 0);

    admit_buf_init(&b, 4096);
    assert_int_equal(admit_mime_header_text(&b, "Subject", "bad \xc3("), ADMIT_ERR_INVALID);
    assert_int_equal(admit_mime_header_text(&b, "Sub ject", "x"), ADMIT_ERR_INVALID);
    assert_int_equal(admit_mime_header_text(&b, "Subject:", "x"), ADMIT_ERR_INVALID);
    assert_int_equal(b.len, 0);
    admit_buf_free(&b);
}

static void address(const char *display, const char *addr, const char *expected)
{
    struct admit_buf b;
    admit_buf_init(&b, 4096);
    assert_int_equal(admit_mime_header_address(&b, "To", display, addr), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), expected);
    admit_buf_free(&b);
}

static void test_header_address(void **state)
{
    (void)state;
    address("Ada Lovelace", "ada@example.org", "To: Ada Lovelace <ada@example.org>\r\n");
    address(NULL, "ada@example.org", "To: <ada@example.org>\r\n");
    address("", "ada@example.org", "To: <ada@example.org>\r\n");
    address("Lovelace, Ada", "ada@example.org", "To: \"Lovelace, Ada\" <ada@example.org>\r\n");
    address("Ada \"the\" C\\L", "a@example.org",
            "To: \"Ada \\\"the\\\" C\\\\L\" <a@example.org>\r\n");
    address("Zo\xc3\xab", "z@example.org", "To: =?UTF-8?B?Wm/Dqw==?= <z@example.org>\r\n");

    /* A long non-ASCII name: folded encoded words, the address on a line that fits. */
    struct admit_buf b;
    char decoded[1024];
    admit_buf_init(&b, 4096);
    const char *name = "Marie-H\xc3\xa9l\xc3\xa8"
                       "ne van den Broeck-\xc3\x85str\xc3\xb6"
                       "m "
                       "\xc3\x91\xc3\xba\xc3\xb1\xc3\xa9"
                       "z de la Fuente y Garc\xc3\xad"
                       "a";
    assert_int_equal(admit_mime_header_address(&b, "To", name, "mh.vandenbroeck@ulb.example"),
                     ADMIT_OK);
    assert_lines_within(b.data, b.len, 78);
    char *lt = strrchr(b.data, '<');
    assert_non_null(lt);
    assert_string_equal(lt, "<mh.vandenbroeck@ulb.example>\r\n");
    lt[-1] = '\0'; /* the space before the address */
    char *value = b.data + 4;
    size_t vlen = strlen(value);
    if (vlen >= 2 && value[vlen - 2] == '\r')
        value[vlen - 2] = '\0';
    header_decode(value, decoded, sizeof decoded);
    assert_string_equal(decoded, name);
    admit_buf_free(&b);

    admit_buf_init(&b, 4096);
    static const char *const bad[] = {"a b@example.org",
                                      "noat",
                                      "@example.org",
                                      "a@nodot",
                                      "a@@example.org",
                                      "\xc3\xbc@example.org",
                                      "a@example.org\r\nBcc: x",
                                      "<a@example.org>",
                                      "a@.example.org",
                                      "a@example..org",
                                      "\"q\"@example.org",
                                      "a@example.org."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_non_null(admit_email_problem(bad[i]));
        assert_int_equal(admit_mime_header_address(&b, "To", "X", bad[i]), ADMIT_ERR_INVALID);
    }
    assert_int_equal(admit_mime_header_address(&b, "To", "bad \xff", "a@example.org"),
                     ADMIT_ERR_INVALID);
    assert_int_equal(b.len, 0);
    admit_buf_free(&b);
    assert_null(admit_email_problem("first.last+tag@sub.example.org"));
    assert_null(admit_email_problem("o'brien@example.ie"));
}

static void mailbox(const char *text, enum admit_rc rc, const char *name, const char *addr)
{
    char n[64], a[64];
    assert_int_equal(admit_mime_parse_mailbox(text, n, sizeof n, a, sizeof a), rc);
    assert_string_equal(n, name);
    assert_string_equal(a, addr);
}

static void test_parse_mailbox(void **state)
{
    (void)state;
    mailbox("TERRA Conference <tickets@terra.example>", ADMIT_OK, "TERRA Conference",
            "tickets@terra.example");
    mailbox("  \"TERRA, Final\" <t@terra.example> ", ADMIT_OK, "TERRA, Final", "t@terra.example");
    mailbox("t@terra.example", ADMIT_OK, "", "t@terra.example");
    mailbox("<t@terra.example>", ADMIT_OK, "", "t@terra.example");
    mailbox("Conf\xc3\xa9"
            "rence <t@terra.example>",
            ADMIT_OK,
            "Conf\xc3\xa9"
            "rence",
            "t@terra.example");
    mailbox("nobody", ADMIT_ERR_INVALID, "", "");
    mailbox("Name <not an address>", ADMIT_ERR_INVALID, "", "");
    mailbox("Name t@terra.example>", ADMIT_ERR_INVALID, "", "");
    mailbox("Na\"me <t@terra.example>", ADMIT_ERR_INVALID, "", "");
    mailbox("", ADMIT_ERR_INVALID, "", "");
    char n[4], a[64];
    assert_int_equal(
        admit_mime_parse_mailbox("Long name <t@terra.example>", n, sizeof n, a, sizeof a),
        ADMIT_ERR_TOO_LARGE);
}

static void test_date(void **state)
{
    (void)state;
    struct admit_buf b;
    admit_buf_init(&b, 128);
    assert_int_equal(admit_mime_date(&b, 0), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "Thu, 1 Jan 1970 00:00:00 +0000");
    admit_buf_reset(&b);
    assert_int_equal(admit_mime_date(&b, 1795856703), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "Sat, 28 Nov 2026 09:05:03 +0000");
    admit_buf_reset(&b);
    assert_int_equal(admit_mime_date(&b, 951868799), ADMIT_OK);
    assert_string_equal(admit_buf_cstr(&b), "Tue, 29 Feb 2000 23:59:59 +0000");
    admit_buf_free(&b);
}

/* ---- Multipart ------------------------------------------------------------------------------- */

static void test_multipart(void **state)
{
    (void)state;
    struct admit_buf b;
    struct admit_mime m;
    admit_buf_init(&b, 1 << 16);
    admit_mime_init(&m, &b, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    assert_int_equal(admit_mime_multipart_begin(&m, "mixed", NULL), ADMIT_OK);
    assert_int_equal(admit_mime_multipart_begin(&m, "alternative", NULL), ADMIT_OK);
    assert_int_equal(
        admit_mime_part(&m, &(struct admit_mime_part){.content_type = "text/plain; charset=utf-8",
                                                      .encoding = ADMIT_MIME_QUOTED_PRINTABLE,
                                                      .body = "Hello =\n",
                                                      .len = 8}),
        ADMIT_OK);
    assert_int_equal(
        admit_mime_part(&m, &(struct admit_mime_part){.content_type = "text/html; charset=utf-8",
                                                      .encoding = ADMIT_MIME_QUOTED_PRINTABLE,
                                                      .body = "<p>Hi</p>",
                                                      .len = 9}),
        ADMIT_OK);
    assert_int_equal(admit_mime_multipart_end(&m), ADMIT_OK);
    assert_int_equal(
        admit_mime_part(
            &m,
            &(struct admit_mime_part){
                .content_type = "text/calendar; charset=utf-8; method=PUBLISH; name=\"event.ics\"",
                .encoding = ADMIT_MIME_BASE64,
                .disposition = "attachment",
                .filename = "event.ics",
                .body = "foo",
                .len = 3}),
        ADMIT_OK);
    assert_int_equal(admit_mime_multipart_end(&m), ADMIT_OK);
    assert_int_equal(admit_mime_multipart_end(&m), ADMIT_ERR_STATE);
    const char *expected =
        "Content-Type: multipart/mixed;\r\n"
        " boundary=\"=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-0\"\r\n"
        "\r\n"
        "--=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-0\r\n"
        "Content-Type: multipart/alternative;\r\n"
        " boundary=\"=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-1\"\r\n"
        "\r\n"
        "--=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Hello =3D\r\n"
        "--=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-1\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "<p>Hi</p>\r\n"
        "--=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-1--\r\n"
        "--=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-0\r\n"
        "Content-Type: text/calendar; charset=utf-8; method=PUBLISH; name=\"event.ics\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"event.ics\"\r\n"
        "\r\n"
        "Zm9v\r\n"
        "--=_admit-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-0--\r\n";
    assert_string_equal(admit_buf_cstr(&b), expected);
    assert_lines_within(b.data, b.len, 78);

    /* Bad part headers are refused before anything is written. */
    admit_buf_reset(&b);
    struct admit_mime_part part = {.content_type = "image/png",
                                   .encoding = ADMIT_MIME_BASE64,
                                   .content_id = "qr@admit",
                                   .disposition = "inline",
                                   .filename = "ticket-qr.png",
                                   .body = "x",
                                   .len = 1};
    assert_int_equal(admit_mime_part(&m, &part), ADMIT_OK);
    assert_non_null(strstr(b.data, "Content-ID: <qr@admit>\r\n"));
    assert_non_null(strstr(b.data, "Content-Disposition: inline; filename=\"ticket-qr.png\"\r\n"));
    admit_buf_reset(&b);
    part.content_id = "qr <x>@admit";
    assert_int_equal(admit_mime_part(&m, &part), ADMIT_ERR_INVALID);
    part.content_id = "no-at";
    assert_int_equal(admit_mime_part(&m, &part), ADMIT_ERR_INVALID);
    part.content_id = NULL;
    part.filename = "../etc/passwd";
    assert_int_equal(admit_mime_part(&m, &part), ADMIT_ERR_INVALID);
    part.filename = "ok.png";
    part.disposition = "evil";
    assert_int_equal(admit_mime_part(&m, &part), ADMIT_ERR_INVALID);
    part.disposition = "inline";
    part.content_type = "image/png\r\nX-Evil: 1";
    assert_int_equal(admit_mime_part(&m, &part), ADMIT_ERR_INVALID);
    assert_int_equal(b.len, 0);

    /* Nesting is bounded. */
    for (int i = 0; i < ADMIT_MIME_MAX_DEPTH; i++)
        assert_int_equal(admit_mime_multipart_begin(&m, "mixed", NULL), ADMIT_OK);
    assert_int_equal(admit_mime_multipart_begin(&m, "mixed", NULL), ADMIT_ERR_STATE);
    admit_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_quoted_printable),
        cmocka_unit_test(test_quoted_printable_random),
        cmocka_unit_test(test_header_text),
        cmocka_unit_test(test_header_address),
        cmocka_unit_test(test_parse_mailbox),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_multipart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
