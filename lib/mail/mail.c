#include "admit/mail/mail.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admit/core/email.h"
#include "admit/mail/ics.h"
#include "admit/mail/mime.h"

/* Rendered bodies and the calendar are much smaller; this only bounds a runaway template. */
#define PART_MAX (1u << 20)

const char *const admit_mail_templates[] = {
    "email/subject.txt",
    "email/ticket.txt",
    "email/ticket.html",
    "email/waitlisted.txt",
    "email/waitlisted.html",
    "email/cancelled.txt",
    "email/cancelled.html",
    "email/resend.txt",
    "email/resend.html",
    "email/changed.txt",
    "email/changed.html",
    "email/email_confirm.txt",
    "email/email_confirm.html",
    "email/certificate.txt",
    "email/certificate.html",
    "email/event.ics",
    "email/session_promoted.txt",
    "email/session_promoted.html",
    NULL,
};

/* What each kind of message is made of. */
struct kind {
    const char *name;
    const char *announces; /* the registration status it tells of; NULL: none (resend) */
    const char *body;      /* templates email/BODY.txt and email/BODY.html */
    int qr;                /* carries the QR code */
    const char *calendar;  /* iCalendar METHOD of the attached event.ics, or NULL */
    const char *pdf;       /* the name of its PDF attachment (when given one), or NULL */
    int pdf_required;      /* the message is its PDF: none, no message */
};

static const struct kind kinds[] = {
    {"confirmation", "confirmed", "ticket", 1, "PUBLISH", "ticket.pdf", 0},
    {"promoted", "confirmed", "ticket", 1, "PUBLISH", "ticket.pdf", 0},
    {"reissued", "confirmed", "ticket", 1, "PUBLISH", "ticket.pdf", 0},
    {"waitlisted", "waitlisted", "waitlisted", 0, NULL, NULL, 0},
    {"cancelled", "cancelled", "cancelled", 0, "CANCEL", NULL, 0},
    {"resend", NULL, "resend", 0, NULL, NULL, 0},
    {"changed", NULL, "changed", 0, NULL, NULL, 0},
    {"email_confirm", NULL, "email_confirm", 0, NULL, NULL, 0},
    {"certificate", NULL, "certificate", 0, NULL, "certificate.pdf", 1},
    /* A place in a full session came free (migration 18): details.session names it. */
    {"session_promoted", NULL, "session_promoted", 0, NULL, NULL, 0},
};

/* The iCalendar METHOD a message's event.ics has, or NULL when it has none: a cancellation only
 * takes the event out of calendars that got it, so only when the ticket had been confirmed. */
static const char *calendar_method(const struct kind *k, const json_t *payload)
{
    const char *was = json_string_value(json_object_get(payload, "previous_status"));
    if (k->calendar != NULL && strcmp(k->calendar, "CANCEL") == 0 &&
        (was == NULL || strcmp(was, "confirmed") != 0))
        return NULL;
    return k->calendar;
}

static const struct kind *find_kind(const json_t *payload)
{
    const char *name = json_string_value(json_object_get(payload, "kind"));
    for (size_t i = 0; name != NULL && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i].name) == 0)
            return &kinds[i];
    return NULL;
}

static const char *registration_status(const json_t *payload)
{
    return json_string_value(json_object_get(json_object_get(payload, "registration"), "status"));
}

const char *admit_mail_superseded(const json_t *payload)
{
    const struct kind *k = find_kind(payload);
    const char *status = registration_status(payload);
    if (k == NULL || k->announces == NULL || status == NULL)
        return NULL;
    if (strcmp(status, k->announces) == 0)
        return NULL;
    if (strcmp(status, "cancelled") == 0)
        return "the registration was cancelled before this message went out";
    if (strcmp(status, "confirmed") == 0)
        return "the registration was confirmed before this message went out";
    return "the registration changed before this message went out";
}

int admit_mail_needs_qr(const json_t *payload)
{
    const struct kind *k = find_kind(payload);
    return k != NULL && k->qr;
}

int admit_mail_is_certificate(const json_t *payload)
{
    const struct kind *k = find_kind(payload);
    return k != NULL && k->pdf_required;
}

/* The host of a URL ("https://tickets.example.org:8443/x" -> "tickets.example.org"), into out. */
static void url_host(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? p + 3 : url;
    size_t n = strcspn(p, ":/?#");
    if (n == 0 || n >= outlen) {
        snprintf(out, outlen, "admit.invalid");
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Renders template name with context into a fresh buffer of at most PART_MAX bytes. */
static enum admit_rc render(const struct admit_mail_sender *s, const char *name, json_t *context,
                            struct admit_buf *out, struct admit_error *err)
{
    admit_buf_init(out, PART_MAX);
    enum admit_rc rc = admit_tmpl_render(s->templates, name, context, out);
    if (rc != ADMIT_OK)
        admit_error_set(err, "template %s: %s", name, admit_strerror(rc));
    return rc;
}

/* The template context: the payload and what the templates need besides. */
static json_t *context_for(const struct admit_mail_sender *s, const json_t *payload,
                           const struct kind *k, const char *method, const char *qr_cid,
                           const char *host)
{
    char url[512];
    json_t *ctx = json_deep_copy(payload);
    json_t *registration = json_object_get(ctx, "registration");
    json_t *event = json_object_get(ctx, "event");
    json_object_del(ctx, "png");
    json_object_set_new(ctx, "site", json_pack("{s:s}", "url", s->public_url));
    json_object_set_new(ctx, "from_name", json_string(s->from_name));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char flag[32];
        snprintf(flag, sizeof flag, "is_%s", kinds[i].name);
        json_object_set_new(ctx, flag, json_boolean(&kinds[i] == k));
    }
    json_object_set_new(ctx, "has_qr", json_boolean(k->qr));
    json_object_set_new(ctx, "has_calendar", json_boolean(method != NULL));
    json_object_set_new(ctx, "qr_cid", json_string(qr_cid));
    const char *token = json_string_value(json_object_get(registration, "token"));
    if (token != NULL) {
        snprintf(url, sizeof url, "%s/tickets/%s", s->public_url, token);
        json_object_set_new(ctx, "ticket_url", json_string(url));
        snprintf(url, sizeof url, "%s/tickets/%s/cancel", s->public_url, token);
        json_object_set_new(ctx, "cancel_url", json_string(url));
        snprintf(url, sizeof url, "%s/tickets/%s/edit", s->public_url, token);
        json_object_set_new(ctx, "edit_url", json_string(url));
    }
    const char *confirm =
        json_string_value(json_object_get(json_object_get(ctx, "details"), "confirm_token"));
    if (confirm != NULL) {
        snprintf(url, sizeof url, "%s/email/confirm/%s", s->public_url, confirm);
        json_object_set_new(ctx, "confirm_url", json_string(url));
    }
    const char *slug = json_string_value(json_object_get(event, "slug"));
    if (slug != NULL) {
        snprintf(url, sizeof url, "%s/events/%s", s->public_url, slug);
        json_object_set_new(ctx, "event_url", json_string(url));
    }
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(ctx, "registrations"), i, item)
    {
        token = json_string_value(json_object_get(item, "token"));
        snprintf(url, sizeof url, "%s/tickets/%s", s->public_url, token ? token : "");
        json_object_set_new(item, "ticket_url", json_string(url));
    }
    json_t *calendar = json_object_get(ctx, "calendar");
    if (method != NULL && calendar != NULL) {
        json_int_t reg_id = json_integer_value(json_object_get(registration, "id"));
        json_int_t event_id = json_integer_value(json_object_get(registration, "event_id"));
        char uid[300];
        /* One UID per registration and event: every message about it updates one entry. */
        snprintf(uid, sizeof uid, "registration-%lld-event-%lld@%s", (long long)reg_id,
                 (long long)event_id, host);
        json_object_set_new(calendar, "uid", json_string(uid));
        json_object_set_new(calendar, "method", json_string(method));
        json_object_set_new(calendar, "is_cancel", json_boolean(strcmp(method, "CANCEL") == 0));
        json_object_set_new(calendar, "sequence", json_deep_copy(json_object_get(ctx, "revision")));
        const char *contact = json_string_value(json_object_get(event, "contact_email"));
        if (contact != NULL && admit_email_problem(contact) == NULL)
            json_object_set_new(calendar, "organizer", json_string(contact));
    }
    return ctx;
}

static enum admit_rc write_headers(const struct admit_mail_sender *s, const json_t *payload,
                                   const char *subject, const char *uuid, struct admit_buf *out,
                                   struct admit_error *err)
{
    const char *recipient = json_string_value(json_object_get(payload, "recipient"));
    const json_t *registration = json_object_get(payload, "registration");
    const char *given = json_string_value(json_object_get(registration, "given_name"));
    const char *family = json_string_value(json_object_get(registration, "family_name"));
    const char *contact =
        json_string_value(json_object_get(json_object_get(payload, "event"), "contact_email"));
    json_t *date = json_object_get(payload, "date");
    const char *at = strchr(s->from_addr, '@');
    char name[420] = "";
    enum admit_rc rc;

    if (given != NULL && family != NULL)
        snprintf(name, sizeof name, "%s %s", given, family);
    const char *problem = recipient != NULL ? admit_email_problem(recipient) : "there is none";
    if (problem != NULL) {
        admit_error_set(err, "the recipient's address cannot be written to: %s", problem);
        return ADMIT_ERR_INVALID;
    }
    rc = admit_buf_puts(out, "Date: ");
    if (rc == ADMIT_OK)
        rc = admit_mime_date(out,
                             json_is_integer(date) ? (time_t)json_integer_value(date) : time(NULL));
    if (rc == ADMIT_OK)
        rc = admit_buf_puts(out, "\r\n");
    if (rc == ADMIT_OK)
        rc = admit_mime_header_address(out, "From", s->from_name, s->from_addr);
    if (rc == ADMIT_OK)
        rc = admit_mime_header_address(out, "To", name, recipient);
    if (rc == ADMIT_OK && contact != NULL && admit_email_problem(contact) == NULL)
        rc = admit_mime_header_address(out, "Reply-To", NULL, contact);
    if (rc == ADMIT_OK)
        rc = admit_mime_header_text(out, "Subject", subject);
    if (rc == ADMIT_OK)
        rc = admit_buf_printf(out, "Message-ID: <%s@%s>\r\n", uuid, at != NULL ? at + 1 : "admit");
    if (rc == ADMIT_OK)
        rc = admit_buf_puts(out, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
    if (rc == ADMIT_ERR_INVALID)
        admit_error_set(err, "a header value is not valid UTF-8 text");
    return rc;
}

/* One line of subject: the rendered template with its line breaks turned into spaces and the
 * ends trimmed. */
static void subject_line(struct admit_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r' || b->data[i] == '\t')
            b->data[i] = ' ';
    size_t start = 0, end = b->len;
    while (start < end && b->data[start] == ' ')
        start++;
    while (end > start && b->data[end - 1] == ' ')
        end--;
    memmove(b->data, b->data + start, end - start);
    admit_buf_truncate(b, end - start);
}

/* A UUID as PostgreSQL prints it: 36 characters of hex digits and dashes. */
static int uuid_valid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL)
            return 0;
    }
    return 1;
}

/* What a message is made of, rendered from the templates before any MIME is written. */
struct parts {
    struct admit_buf subject, text, html, ics_text, ics;
};

/* Renders the subject, the text and HTML bodies and, when method is set, the folded calendar. */
static enum admit_rc render_parts(const struct admit_mail_sender *s, const struct kind *k,
                                  const char *method, json_t *ctx, struct parts *p,
                                  struct admit_error *err)
{
    char name[64];
    enum admit_rc rc = render(s, "email/subject.txt", ctx, &p->subject, err);
    if (rc != ADMIT_OK)
        return rc;
    subject_line(&p->subject);
    snprintf(name, sizeof name, "email/%s.txt", k->body);
    rc = render(s, name, ctx, &p->text, err);
    snprintf(name, sizeof name, "email/%s.html", k->body);
    if (rc == ADMIT_OK)
        rc = render(s, name, ctx, &p->html, err);
    if (rc == ADMIT_OK && method != NULL)
        rc = render(s, "email/event.ics", ctx, &p->ics_text, err);
    if (rc == ADMIT_OK && method != NULL) {
        rc = admit_ics_fold(&p->ics, p->ics_text.data, p->ics_text.len);
        if (rc != ADMIT_OK)
            admit_error_set(err, "email/event.ics: %s", admit_strerror(rc));
    }
    return rc;
}

/* The MIME tree after the headers: mixed (when there is a calendar or a PDF ticket) > related
 * (when there is a QR code) > alternative (text, HTML), then the QR image, the PDF ticket and
 * the calendar attachment. */
/* What goes with the bodies: the QR code (inline) and the PDF ticket (attached), when present. */
struct attachments {
    const void *png, *pdf;
    size_t png_len, pdf_len;
};

static enum admit_rc write_body(struct admit_mime *mime, const struct kind *k, const char *method,
                                const struct parts *p, const char *qr_cid,
                                const struct attachments *a)
{
    bool pdf = k->pdf != NULL && a->pdf_len > 0;
    bool mixed = method != NULL || pdf;
    char content_type[128];
    enum admit_rc rc = ADMIT_OK;
    if (mixed)
        rc = admit_mime_multipart_begin(mime, "mixed", NULL);
    if (rc == ADMIT_OK && k->qr)
        rc = admit_mime_multipart_begin(mime, "related", "type=\"multipart/alternative\"");
    if (rc == ADMIT_OK)
        rc = admit_mime_multipart_begin(mime, "alternative", NULL);
    if (rc == ADMIT_OK)
        rc = admit_mime_part(mime,
                             &(struct admit_mime_part){.content_type = "text/plain; charset=utf-8",
                                                       .encoding = ADMIT_MIME_QUOTED_PRINTABLE,
                                                       .body = p->text.data,
                                                       .len = p->text.len});
    if (rc == ADMIT_OK)
        rc = admit_mime_part(mime,
                             &(struct admit_mime_part){.content_type = "text/html; charset=utf-8",
                                                       .encoding = ADMIT_MIME_QUOTED_PRINTABLE,
                                                       .body = p->html.data,
                                                       .len = p->html.len});
    if (rc == ADMIT_OK)
        rc = admit_mime_multipart_end(mime); /* alternative */
    if (rc == ADMIT_OK && k->qr)
        rc = admit_mime_part(mime, &(struct admit_mime_part){.content_type = "image/png",
                                                             .encoding = ADMIT_MIME_BASE64,
                                                             .content_id = qr_cid,
                                                             .disposition = "inline",
                                                             .filename = "ticket-qr.png",
                                                             .body = a->png,
                                                             .len = a->png_len});
    if (rc == ADMIT_OK && k->qr)
        rc = admit_mime_multipart_end(mime); /* related */
    if (rc == ADMIT_OK && pdf)
        rc = admit_mime_part(mime, &(struct admit_mime_part){.content_type = "application/pdf",
                                                             .encoding = ADMIT_MIME_BASE64,
                                                             .disposition = "attachment",
                                                             .filename = k->pdf,
                                                             .body = a->pdf,
                                                             .len = a->pdf_len});
    if (rc == ADMIT_OK && method != NULL) {
        snprintf(content_type, sizeof content_type,
                 "text/calendar; charset=utf-8; method=%s; name=\"event.ics\"", method);
        rc = admit_mime_part(mime, &(struct admit_mime_part){.content_type = content_type,
                                                             .encoding = ADMIT_MIME_BASE64,
                                                             .disposition = "attachment",
                                                             .filename = "event.ics",
                                                             .body = p->ics.data,
                                                             .len = p->ics.len});
    }
    if (rc == ADMIT_OK && mixed)
        rc = admit_mime_multipart_end(mime); /* mixed */
    return rc;
}

enum admit_rc admit_mail_compose(const struct admit_mail_sender *s, const json_t *payload,
                                 const void *png, size_t png_len, struct admit_buf *out,
                                 struct admit_error *err)
{
    return admit_mail_compose_with_pdf(s, payload, png, png_len, NULL, 0, out, err);
}

enum admit_rc admit_mail_compose_with_pdf(const struct admit_mail_sender *s, const json_t *payload,
                                          const void *png, size_t png_len, const void *pdf,
                                          size_t pdf_len, struct admit_buf *out,
                                          struct admit_error *err)
{
    const struct attachments a = {png, pdf, png_len, pdf != NULL ? pdf_len : 0};
    struct parts p;
    struct admit_buf message;
    char qr_cid[80], host[256];
    json_t *ctx = NULL;
    const struct kind *k = find_kind(payload);
    const char *uuid = json_string_value(json_object_get(payload, "message_uuid"));
    enum admit_rc rc = ADMIT_ERR_INVALID;
    const char *method = NULL;
    struct admit_mime mime;

    admit_buf_init(&p.subject, PART_MAX);
    admit_buf_init(&p.text, PART_MAX);
    admit_buf_init(&p.html, PART_MAX);
    admit_buf_init(&p.ics_text, PART_MAX);
    admit_buf_init(&p.ics, PART_MAX);
    admit_buf_init(&message, ADMIT_MAIL_MAX);
    admit_error_clear(err);
    if (k == NULL || !uuid_valid(uuid)) {
        admit_error_set(err, "the message has no known kind or no valid message_uuid");
        goto done;
    }
    if (k->announces != NULL && !json_is_object(json_object_get(payload, "registration"))) {
        admit_error_set(err, "the message's registration no longer exists");
        goto done;
    }
    if (k->qr && (png == NULL || png_len == 0)) {
        admit_error_set(err, "the ticket's QR code is missing");
        goto done;
    }
    if (k->pdf_required && a.pdf_len == 0) {
        admit_error_set(err, "the message's PDF (%s) is missing", k->pdf);
        goto done;
    }
    snprintf(qr_cid, sizeof qr_cid, "qr-%s@admit", uuid);
    url_host(s->public_url, host, sizeof host);
    method = calendar_method(k, payload);
    ctx = context_for(s, payload, k, method, qr_cid, host);
    rc = render_parts(s, k, method, ctx, &p, err);
    if (rc == ADMIT_OK)
        rc = write_headers(s, payload, admit_buf_cstr(&p.subject), uuid, &message, err);
    if (rc != ADMIT_OK)
        goto done;
    admit_mime_init(&mime, &message, uuid);
    rc = write_body(&mime, k, method, &p, qr_cid, &a);
    if (rc == ADMIT_OK)
        rc = admit_buf_append(out, message.data, message.len);
    if (rc != ADMIT_OK && err != NULL && err->message[0] == '\0')
        admit_error_set(err, "the message could not be written: %s", admit_strerror(rc));
done:
    json_decref(ctx);
    admit_buf_free(&p.subject);
    admit_buf_free(&p.text);
    admit_buf_free(&p.html);
    admit_buf_free(&p.ics_text);
    admit_buf_free(&p.ics);
    admit_buf_free(&message);
    return rc;
}
