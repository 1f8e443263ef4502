/* Composing the outbox's messages with the real templates/email/: headers (encoded names,
 * Message-ID, Date, Reply-To), the MIME structure of each kind, escaping of what attendees and
 * organisers typed, the .ics (folded, its UID, time zone and method), line lengths, the same
 * bytes on every attempt, and the refusals (non-ASCII address, missing QR code, bad payload). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admit/mail/mail.h"
#include "admit/mail/mime.h"

#define UUID "6f1d2c3b-4a59-4867-9786-a5b4c3d2e1f0"

static struct admit_tmpl_set *set;
static struct admit_mail_sender sender;

static int setup(void **state)
{
    (void)state;
    char dir[2048];
    struct admit_error err;
    const char *src = getenv("ADMIT_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/templates", src != NULL ? src : ".");
    if (admit_tmpl_set_load_dir(dir, &set, &err) != ADMIT_OK) {
        fprintf(stderr, "templates: %s\n", err.message);
        return -1;
    }
    for (size_t i = 0; admit_mail_templates[i] != NULL; i++)
        if (!admit_tmpl_set_has(set, admit_mail_templates[i]))
            return -1;
    sender = (struct admit_mail_sender){.from_name = "TERRA Conf\xc3\xa9rence",
                                        .from_addr = "tickets@terra.example",
                                        .public_url = "https://tickets.example.org",
                                        .templates = set};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    admit_tmpl_set_free(set);
    return 0;
}

/* A payload as admit_mail_claim returns it; hostile when asked. */
static json_t *payload(const char *kind, const char *status, const char *previous, int hostile)
{
    const char *given = hostile ? "<script>alert(1)</script>" : "Zo\xc3\xab";
    const char *event_name = hostile ? "Soil & <b>Health</b>" : "TERRA Final Conference 2099";
    json_t *observances = json_pack(
        "[{s:s, s:s, s:s, s:b, s:s}, {s:s, s:s, s:s, s:b, s:s}, {s:s, s:s, s:s, s:b, s:s}]",
        "starts", "20990101T000000", "offset_from", "+0100", "offset_to", "+0100", "daylight", 0,
        "name", "CET", "starts", "20990329T020000", "offset_from", "+0100", "offset_to", "+0200",
        "daylight", 1, "name", "CEST", "starts", "20991025T030000", "offset_from", "+0200",
        "offset_to", "+0100", "daylight", 0, "name", "CET");
    json_t *p = json_pack(
        "{s:s, s:s, s:s, s:i, s:i, s:s?, s:b, s:b,"
        " s:{s:i, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:n, s:[{s:s, s:s}]},"
        " s:{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
        " s:{s:s, s:s, s:s, s:o}, s:n}",
        "kind", kind, "recipient", "zoe.nunez@example.org", "message_uuid", UUID, "date",
        1795856703, "revision", 2, "previous_status", previous, "was_confirmed",
        previous != NULL && strcmp(previous, "confirmed") == 0, "was_waitlisted",
        previous != NULL && strcmp(previous, "waitlisted") == 0, "registration", "id", 5,
        "event_id", 2, "token", "AbCdEfGhIjKlMnOpQrStUv", "status", status, "reissue", 0,
        "given_name", given, "family_name",
        "N\xc3\xba\xc3\xb1"
        "ez",
        "organisation", hostile ? "\"><img src=x onerror=alert(2)>" : "ULB", "waitlist_position",
        "lists", "name", "Day 1", "day", "Friday 29 October", "event", "id", 2, "slug",
        "terra-2099", "name", event_name, "venue", "Museum of Natural Sciences", "venue_address",
        "Rue Vautier 29, 1000 Brussels", "time_zone", "Europe/Brussels", "dates",
        "29\xe2\x80\x93"
        "30 October 2099",
        "starts", "Thursday 29 October 2099, 09:00", "ends", "Friday 30 October 2099, 17:30",
        "organiser", "The TERRA consortium", "contact_email", "events@terra.example", "description",
        "", "calendar", "starts", "20991029T090000", "ends", "20991030T173000", "stamp",
        "20261128T090503Z", "observances", observances, "png");
    assert_non_null(p);
    return p;
}

static const unsigned char png[] = "\x89PNG\r\n\x1a\nnot really a png, but bytes";

static char *compose(json_t *p, enum admit_rc expected, struct admit_error *err)
{
    struct admit_buf out;
    admit_buf_init(&out, ADMIT_MAIL_MAX);
    enum admit_rc rc = admit_mail_compose(&sender, p, png, sizeof png - 1, &out, err);
    if (rc != expected)
        fail_msg("compose: %s (%s)", admit_strerror(rc), err->message);
    if (rc != ADMIT_OK) {
        assert_int_equal(out.len, 0);
        admit_buf_free(&out);
        return NULL;
    }
    return admit_buf_steal(&out, NULL);
}

/* CRLF everywhere and no line over max. */
static void assert_lines(const char *m, size_t max)
{
    size_t start = 0, len = strlen(m);
    for (size_t i = 0; i < len; i++) {
        if (m[i] != '\n')
            continue;
        assert_true(i > 0 && m[i - 1] == '\r');
        if (i - 1 - start > max)
            fail_msg("line over %zu: %.*s", max, (int)(i - 1 - start), m + start);
        start = i + 1;
    }
    assert_int_equal(start, len);
}

static int b64_value(char c)
{
    const char *d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(d, c) : NULL;
    return p != NULL ? (int)(p - d) : -1;
}

/* The decoded body of the first part whose Content-Type starts with type (malloc'ed). */
static char *part(const char *m, const char *type)
{
    char header[128];
    snprintf(header, sizeof header, "Content-Type: %s", type);
    const char *h = strstr(m, header);
    if (h == NULL)
        return NULL;
    const char *body = strstr(h, "\r\n\r\n");
    assert_non_null(body);
    int qp = strstr(h, "quoted-printable") != NULL && strstr(h, "quoted-printable") < body;
    body += 4;
    const char *end = strstr(body, "\r\n--=_admit-");
    assert_non_null(end);
    char *out = calloc(1, (size_t)(end - body) + 1);
    size_t n = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (const char *p = body; p < end; p++) {
        if (qp && p[0] == '=' && p[1] == '\r') {
            p += 2;
        } else if (qp && p[0] == '=') {
            char hex[3] = {p[1], p[2], 0};
            out[n++] = (char)strtol(hex, NULL, 16);
            p += 2;
        } else if (qp) {
            out[n++] = *p;
        } else if (b64_value(*p) >= 0) {
            acc = (acc << 6) | (unsigned long)b64_value(*p);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[n++] = (char)(acc >> bits);
            }
        }
    }
    out[n] = '\0';
    return out;
}

static void assert_has(const char *text, const char *needle)
{
    if (text == NULL || strstr(text, needle) == NULL)
        fail_msg("missing \"%s\" in:\n%s", needle, text ? text : "(null)");
}

static void assert_lacks(const char *text, const char *needle)
{
    if (text != NULL && strstr(text, needle) != NULL)
        fail_msg("unexpected \"%s\" in:\n%s", needle, text);
}

static void test_confirmation(void **state)
{
    (void)state;
    struct admit_error err;
    json_t *p = payload("confirmation", "confirmed", NULL, 0);
    char *m = compose(p, ADMIT_OK, &err);
    assert_lines(m, 78);
    assert_has(m, "Date: Sat, 28 Nov 2026 09:05:03 +0000\r\n");
    assert_has(m, "From: =?UTF-8?B?");
    assert_has(m, "<tickets@terra.example>\r\n");
    assert_has(m, "To: =?UTF-8?B?");
    assert_has(m, "<zoe.nunez@example.org>\r\n");
    assert_has(m, "Reply-To: <events@terra.example>\r\n");
    assert_has(m, "Subject: Your ticket for TERRA Final Conference 2099\r\n");
    assert_has(m, "Message-ID: <" UUID "@terra.example>\r\n");
    assert_has(m, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
    /* The structure, outermost first. */
    const char *mixed = strstr(m, "Content-Type: multipart/mixed;");
    const char *related = strstr(m, "Content-Type: multipart/related;");
    const char *alternative = strstr(m, "Content-Type: multipart/alternative;");
    const char *text = strstr(m, "Content-Type: text/plain; charset=utf-8");
    const char *html = strstr(m, "Content-Type: text/html; charset=utf-8");
    const char *image = strstr(m, "Content-Type: image/png");
    const char *ics = strstr(m, "Content-Type: text/calendar; charset=utf-8; method=PUBLISH;");
    assert_true(mixed && related && alternative && text && html && image && ics);
    assert_true(mixed < related && related < alternative && alternative < text && text < html &&
                html < image && image < ics);
    assert_has(related, "type=\"multipart/alternative\"");
    assert_has(image, "Content-ID: <qr-" UUID "@admit>\r\nContent-Disposition: inline; "
                      "filename=\"ticket-qr.png\"");
    assert_has(ics, "Content-Disposition: attachment; filename=\"event.ics\"");

    char *plain = part(m, "text/plain");
    assert_has(plain, "Hello Zo\xc3\xab,");
    assert_has(plain, "https://tickets.example.org/tickets/AbCdEfGhIjKlMnOpQrStUv\r\n");
    assert_has(plain, "https://tickets.example.org/tickets/AbCdEfGhIjKlMnOpQrStUv/cancel");
    assert_has(plain, "Day 1 (Friday 29 October)");
    assert_has(plain, "https://tickets.example.org/tickets/resend");
    char *h = part(m, "text/html");
    assert_has(h, "<img src=\"cid:qr-" UUID "@admit\"");
    assert_has(h, "href=\"https://tickets.example.org/tickets/AbCdEfGhIjKlMnOpQrStUv\"");
    char *image_bytes = part(m, "image/png");
    assert_memory_equal(image_bytes, png, 8);
    char *cal = part(m, "text/calendar");
    assert_has(cal, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    assert_has(cal, "METHOD:PUBLISH\r\n");
    assert_has(cal, "BEGIN:VTIMEZONE\r\nTZID:Europe/Brussels\r\nBEGIN:STANDARD\r\n"
                    "DTSTART:20990101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\n"
                    "TZNAME:CET\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:20990329T020000\r\n");
    assert_has(cal, "UID:registration-5-event-2@tickets.example.org\r\n");
    assert_has(cal, "SEQUENCE:2\r\n");
    assert_has(cal, "DTSTAMP:20261128T090503Z\r\n");
    assert_has(cal, "DTSTART;TZID=Europe/Brussels:20991029T090000\r\n");
    assert_has(cal, "DTEND;TZID=Europe/Brussels:20991030T173000\r\n");
    assert_has(cal, "LOCATION:Museum of Natural Sciences\\, Rue Vautier 29\\, 1000 Brussels\r\n");
    assert_has(cal, "STATUS:CONFIRMED\r\n");
    assert_has(cal, "ORGANIZER:mailto:events@terra.example\r\n");
    /* The ticket link lets its holder cancel: calendars are shared, so it is not in them. */
    assert_has(cal, "URL:https://tickets.example.org/events/terra-2099\r\n");
    assert_lacks(cal, "AbCdEfGhIjKlMnOpQrStUv");
    assert_has(cal, "END:VCALENDAR\r\n");
    assert_lacks(cal, "\r\n\r\n");
    assert_lines(cal, 75);

    /* Every attempt writes the same bytes. */
    char *again = compose(p, ADMIT_OK, &err);
    assert_string_equal(again, m);
    free(again);
    free(plain);
    free(h);
    free(image_bytes);
    free(cal);
    free(m);
    json_decref(p);
}

static void test_escaping(void **state)
{
    (void)state;
    struct admit_error err;
    json_t *p = payload("promoted", "confirmed", "waitlisted", 1);
    char *m = compose(p, ADMIT_OK, &err);
    assert_lines(m, 78);
    /* Subject: plain ASCII here, and the markup stays text (no HTML in a header). */
    assert_has(m, "Subject: A seat is yours: your ticket for Soil & <b>Health</b>\r\n");
    char *h = part(m, "text/html");
    assert_has(h, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_has(h, "Soil &amp; &lt;b&gt;Health&lt;/b&gt;");
    assert_has(h, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    assert_lacks(h, "<script>");
    assert_lacks(h, "<b>Health");
    assert_has(h, "a seat has freed up");
    char *plain = part(m, "text/plain");
    assert_has(plain, "Hello <script>alert(1)</script>,"); /* plain text is not HTML */
    char *cal = part(m, "text/calendar");
    assert_has(cal, "SUMMARY:Soil & <b>Health</b>\r\n");
    free(h);
    free(plain);
    free(cal);
    free(m);
    json_decref(p);
}

static void test_other_kinds(void **state)
{
    (void)state;
    struct admit_error err;
    /* Waitlisted: text and HTML only, no ticket, no calendar. */
    json_t *p = payload("waitlisted", "waitlisted", NULL, 0);
    json_object_set_new(json_object_get(p, "registration"), "waitlist_position", json_integer(4));
    char *m = compose(p, ADMIT_OK, &err);
    assert_has(m, "Subject: You are on the waiting list for TERRA Final Conference 2099\r\n");
    assert_has(m, "Content-Type: multipart/alternative;");
    assert_lacks(m, "multipart/mixed");
    assert_lacks(m, "image/png");
    assert_lacks(m, "text/calendar");
    char *plain = part(m, "text/plain");
    assert_has(plain, "waiting list, number 4.");
    free(plain);
    free(m);
    json_decref(p);

    /* Cancelled after a confirmation: the calendar entry is withdrawn. */
    p = payload("cancelled", "cancelled", "confirmed", 0);
    m = compose(p, ADMIT_OK, &err);
    assert_has(m, "Subject: Registration cancelled: TERRA Final Conference 2099\r\n");
    assert_lacks(m, "image/png");
    char *cal = part(m, "text/calendar; charset=utf-8; method=CANCEL");
    assert_has(cal, "METHOD:CANCEL\r\n");
    assert_has(cal, "STATUS:CANCELLED\r\n");
    assert_has(cal, "UID:registration-5-event-2@tickets.example.org\r\n");
    assert_has(cal, "ATTENDEE:mailto:zoe.nunez@example.org\r\n");
    plain = part(m, "text/plain");
    assert_has(plain, "is cancelled");
    free(plain);
    free(cal);
    free(m);
    json_decref(p);

    /* Cancelled from the waiting list: no calendar entry to withdraw. */
    p = payload("cancelled", "cancelled", "waitlisted", 0);
    m = compose(p, ADMIT_OK, &err);
    assert_lacks(m, "text/calendar");
    plain = part(m, "text/plain");
    assert_has(plain, "left the waiting list");
    free(plain);
    free(m);
    json_decref(p);

    /* Reissued: the ticket again. */
    p = payload("reissued", "confirmed", "confirmed", 0);
    m = compose(p, ADMIT_OK, &err);
    assert_has(m, "Subject: Your new ticket for TERRA Final Conference 2099\r\n");
    assert_has(m, "image/png");
    plain = part(m, "text/plain");
    assert_has(plain, "has been reissued");
    free(plain);
    free(m);
    json_decref(p);

    /* Resend: every ticket link of the address. */
    p = json_pack("{s:s, s:s, s:s, s:i, s:i, s:[{s:s, s:s, s:b, s:b, s:{s:s, s:s, s:s}},"
                  " {s:s, s:s, s:b, s:b, s:{s:s, s:s, s:s}}]}",
                  "kind", "resend", "recipient", "zoe.nunez@example.org", "message_uuid", UUID,
                  "date", 1795856703, "revision", 0, "registrations", "token",
                  "TokenOne______________", "status", "confirmed", "is_confirmed", 1,
                  "is_waitlisted", 0, "event", "name", "First <event>", "dates", "1 May 2099",
                  "venue", "", "token", "TokenTwo______________", "status", "waitlisted",
                  "is_confirmed", 0, "is_waitlisted", 1, "event", "name", "Second", "dates",
                  "2 May 2099", "venue", "");
    assert_null(admit_mail_superseded(p));
    assert_false(admit_mail_needs_qr(p));
    m = compose(p, ADMIT_OK, &err);
    assert_has(m, "Subject: Your ticket links\r\n");
    assert_has(m, "To: <zoe.nunez@example.org>\r\n");
    assert_lacks(m, "Reply-To");
    plain = part(m, "text/plain");
    assert_has(plain, "https://tickets.example.org/tickets/TokenOne______________");
    assert_has(plain, "Second, 2 May 2099 (waiting list)");
    char *h = part(m, "text/html");
    assert_has(h, "https://tickets.example.org/tickets/TokenTwo______________");
    assert_has(h, "First &lt;event&gt;");
    free(h);
    free(plain);
    free(m);
    json_decref(p);
}

static void test_refusals(void **state)
{
    (void)state;
    struct admit_error err;
    struct admit_buf out;
    json_t *p = payload("confirmation", "confirmed", NULL, 0);
    /* A non-ASCII address would need SMTPUTF8: the address rule (admit/email.h) says why. */
    json_object_set_new(p, "recipient", json_string("zo\xc3\xab@example.org"));
    compose(p, ADMIT_ERR_INVALID, &err);
    assert_has(err.message,
               "the recipient's address cannot be written to: Our emails cannot reach an "
               "address with accents");
    json_object_set_new(p, "recipient", json_string("a@example.org\r\nBcc: x@example.org"));
    compose(p, ADMIT_ERR_INVALID, &err);
    json_object_set_new(p, "recipient", json_string("zoe@example.org"));
    /* No QR code for a ticket. */
    admit_buf_init(&out, ADMIT_MAIL_MAX);
    assert_int_equal(admit_mail_compose(&sender, p, NULL, 0, &out, &err), ADMIT_ERR_INVALID);
    assert_has(err.message, "QR");
    assert_int_equal(out.len, 0);
    /* Too small an output buffer: nothing appended. */
    struct admit_buf small;
    admit_buf_init(&small, 100);
    assert_int_equal(admit_mail_compose(&sender, p, png, sizeof png - 1, &small, &err),
                     ADMIT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    /* Unknown kind, bad UUID, vanished registration. */
    json_object_set_new(p, "kind", json_string("spam"));
    compose(p, ADMIT_ERR_INVALID, &err);
    json_object_set_new(p, "kind", json_string("confirmation"));
    json_object_set_new(p, "message_uuid", json_string("<evil>"));
    compose(p, ADMIT_ERR_INVALID, &err);
    json_object_set_new(p, "message_uuid", json_string(UUID));
    json_object_set_new(p, "registration", json_null());
    compose(p, ADMIT_ERR_INVALID, &err);
    json_decref(p);

    /* Superseded: a confirmation whose registration is cancelled by now. */
    p = payload("confirmation", "cancelled", NULL, 0);
    assert_non_null(admit_mail_superseded(p));
    json_decref(p);
    p = payload("waitlisted", "confirmed", NULL, 0);
    assert_non_null(admit_mail_superseded(p));
    json_decref(p);
    p = payload("cancelled", "cancelled", "confirmed", 0);
    assert_null(admit_mail_superseded(p));
    json_decref(p);
    admit_buf_free(&out);
    admit_buf_free(&small);
}

/* The PDF attachments: the PDF ticket on a ticket message when given, none on a message without
 * a ticket, and a certificate that cannot go without its PDF. */
static void test_pdf_attachments(void **state)
{
    (void)state;
    static const unsigned char pdf[] = "%PDF-1.5 not really a pdf";
    struct admit_error err;
    struct admit_buf out;
    json_t *p = payload("confirmation", "confirmed", NULL, 0);
    admit_buf_init(&out, ADMIT_MAIL_MAX);
    assert_int_equal(admit_mail_compose_with_pdf(&sender, p, png, sizeof png - 1, pdf,
                                                 sizeof pdf - 1, &out, &err),
                     ADMIT_OK);
    assert_has(admit_buf_cstr(&out), "Content-Type: application/pdf");
    assert_has(admit_buf_cstr(&out), "filename=\"ticket.pdf\"");
    assert_has(admit_buf_cstr(&out), "JVBERi0xLjUgbm90IHJlYWxseSBhIHBkZg=="); /* base64 of pdf */
    admit_buf_free(&out);
    json_decref(p);

    /* A waiting-list message has no ticket: a PDF given is not attached. */
    p = payload("waitlisted", "waitlisted", NULL, 0);
    assert_int_equal(
        admit_mail_compose_with_pdf(&sender, p, NULL, 0, pdf, sizeof pdf - 1, &out, &err),
        ADMIT_OK);
    assert_lacks(admit_buf_cstr(&out), "application/pdf");
    assert_lacks(admit_buf_cstr(&out), "multipart/mixed");
    admit_buf_free(&out);
    json_decref(p);

    /* A certificate: its PDF as certificate.pdf, in multipart/mixed; without it, no message. */
    p = payload("certificate", "confirmed", NULL, 0);
    assert_true(admit_mail_is_certificate(p));
    assert_false(admit_mail_needs_qr(p));
    assert_null(admit_mail_superseded(p));
    assert_int_equal(
        admit_mail_compose_with_pdf(&sender, p, NULL, 0, pdf, sizeof pdf - 1, &out, &err),
        ADMIT_OK);
    assert_has(admit_buf_cstr(&out), "Subject: Your certificate of attendance: TERRA Final");
    assert_has(admit_buf_cstr(&out), "Content-Type: multipart/mixed");
    assert_has(admit_buf_cstr(&out), "filename=\"certificate.pdf\"");
    assert_lacks(admit_buf_cstr(&out), "image/png");
    admit_buf_free(&out);
    assert_int_equal(admit_mail_compose(&sender, p, NULL, 0, &out, &err), ADMIT_ERR_INVALID);
    assert_has(err.message, "certificate.pdf");
    assert_int_equal(out.len, 0);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confirmation),    cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_other_kinds),     cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_pdf_attachments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
