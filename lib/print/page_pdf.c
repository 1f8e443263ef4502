/* One-page A4 PDFs for an attendee: the certificate of attendance (who, which event, the days
 * and sessions they were admitted to, the signed payload as a QR code and as text) and the
 * ticket (the event, the person, the ticket's QR code, the lists it admits to). */
#include <cairo-pdf.h>
#include <stdio.h>

#include "print_internal.h"

#define A4_W    (210.0 * PT_PER_MM)
#define A4_H    (297.0 * PT_PER_MM)
#define SIDE    (20.0 * PT_PER_MM)
#define QR_SIDE (50.0 * PT_PER_MM)

static const char *member(json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s != NULL ? s : "";
}

static void line(cairo_t *cr, const char *text, double pt, bool bold, double *y, int lines)
{
    struct print_box box = {SIDE, A4_W - 2 * SIDE, pt * 1.3 * lines, pt, 7, lines, bold, true};
    print_text(cr, text, &box, y);
}

static void lists(cairo_t *cr, json_t *page, double *y)
{
    char text[600];
    size_t i;
    json_t *list;
    json_array_foreach(json_object_get(page, "lists"), i, list)
    {
        const char *day = member(list, "day");
        snprintf(text, sizeof text, "• %s%s%s — first admitted %s", member(list, "name"),
                 day[0] ? ", " : "", day, member(list, "first"));
        struct print_box box = {
            SIDE + 10 * PT_PER_MM, A4_W - 2 * SIDE - 10 * PT_PER_MM, 32, 12, 7, 2, false, false};
        print_text(cr, text, &box, y);
        if (*y > A4_H - QR_SIDE - 40 * PT_PER_MM)
            break; /* ADMIT_CERTIFICATE_LISTS_MAX lists fit at 7 pt; never here in practice */
    }
}

static enum admit_rc body(cairo_t *cr, json_t *page, const char *payload, const char *verify_url)
{
    char text[1200];
    json_t *event = json_object_get(page, "event");
    double y = 30 * PT_PER_MM;
    line(cr, "Certificate of attendance", 28, true, &y, 1);
    y += 8 * PT_PER_MM;
    line(cr, "This certifies that", 13, false, &y, 1);
    snprintf(text, sizeof text, "%s %s", member(page, "given_name"), member(page, "family_name"));
    line(cr, text, 24, true, &y, 2);
    line(cr, member(page, "organisation"), 14, false, &y, 2);
    line(cr, "attended", 13, false, &y, 1);
    line(cr, member(event, "name"), 20, true, &y, 2);
    snprintf(text, sizeof text, "%s%s%s", member(event, "venue"),
             member(event, "venue")[0] ? ", " : "", member(event, "dates"));
    line(cr, text, 13, false, &y, 2);
    y += 6 * PT_PER_MM;
    line(cr, "on these days and sessions, as recorded when they were admitted at the door:", 12,
         false, &y, 2);
    lists(cr, page, &y);
    double qr_y = A4_H - SIDE - QR_SIDE;
    enum admit_rc rc = print_qr_draw(cr, payload, SIDE, qr_y, QR_SIDE);
    double x = SIDE + QR_SIDE + 5 * PT_PER_MM, w = A4_W - x - SIDE;
    snprintf(text, sizeof text,
             "Anyone can check this certificate: scan the code, or enter the text below, at %s. "
             "It is signed by the organisers' ticket key; a changed letter makes it invalid.",
             verify_url);
    double ty = qr_y + 4 * PT_PER_MM;
    struct print_box note = {x, w, 60, 10, 7, 5, false, false};
    print_text(cr, text, &note, &ty);
    struct print_box code = {x, w, 60, 8, 5, 6, false, false};
    print_text(cr, payload, &code, &ty);
    snprintf(text, sizeof text, "Issued by %s",
             member(event, "organiser")[0] ? member(event, "organiser") : member(event, "name"));
    print_text(cr, text, &note, &ty);
    return rc;
}

enum admit_rc print_certificate_draw(cairo_t *cr, json_t *page, const char *payload,
                                     const char *verify_url)
{
    return body(cr, page, payload, verify_url);
}

static cairo_status_t append(void *closure, const unsigned char *data, unsigned int len)
{
    return admit_buf_append(closure, data, len) == ADMIT_OK ? CAIRO_STATUS_SUCCESS
                                                            : CAIRO_STATUS_WRITE_ERROR;
}

static enum admit_rc ticket_body(cairo_t *cr, json_t *page, const char *payload)
{
    char text[1200];
    json_t *event = json_object_get(page, "event");
    double y = 25 * PT_PER_MM;
    line(cr, member(event, "name"), 22, true, &y, 2);
    snprintf(text, sizeof text, "%s – %s", member(event, "starts"), member(event, "ends"));
    line(cr, text, 12, false, &y, 2);
    snprintf(text, sizeof text, "%s%s%s", member(event, "venue"),
             member(event, "venue_address")[0] ? ", " : "", member(event, "venue_address"));
    line(cr, text, 12, false, &y, 2);
    y += 8 * PT_PER_MM;
    snprintf(text, sizeof text, "%s %s", member(page, "given_name"), member(page, "family_name"));
    line(cr, text, 24, true, &y, 2);
    line(cr, member(page, "organisation"), 14, false, &y, 2);
    y += 4 * PT_PER_MM;
    double side = 80 * PT_PER_MM;
    enum admit_rc rc = print_qr_draw(cr, payload, (A4_W - side) / 2, y, side);
    y += side + 4 * PT_PER_MM;
    line(cr, "Show this code at the entrance, on paper or on a screen.", 12, false, &y, 2);
    y += 4 * PT_PER_MM;
    line(cr, "Admits to", 12, true, &y, 1);
    size_t i;
    json_t *list;
    json_array_foreach(json_object_get(page, "lists"), i, list)
    {
        const char *day = member(list, "day");
        snprintf(text, sizeof text, "%s%s%s", member(list, "name"), day[0] ? ", " : "", day);
        line(cr, text, 11, false, &y, 1);
        if (y > A4_H - 30 * PT_PER_MM)
            break;
    }
    return rc;
}

/* One A4 page drawn by draw into out (see print_certificate_pdf). */
static enum admit_rc one_page(const char *title, json_t *page, const char *payload,
                              const char *verify_url, bool ticket, struct admit_buf *out)
{
    size_t at = out->len;
    cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(append, out, A4_W, A4_H);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "admit");
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 0, 0, 0);
    enum admit_rc rc =
        ticket ? ticket_body(cr, page, payload) : body(cr, page, payload, verify_url);
    cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (rc == ADMIT_OK && status != CAIRO_STATUS_SUCCESS)
        rc = status == CAIRO_STATUS_WRITE_ERROR ? ADMIT_ERR_TOO_LARGE : ADMIT_ERR_IO;
    if (rc != ADMIT_OK)
        admit_buf_truncate(out, at);
    return rc;
}

enum admit_rc print_certificate_pdf(json_t *page, const char *payload, const char *verify_url,
                                    struct admit_buf *out)
{
    return one_page("Certificate of attendance", page, payload, verify_url, false, out);
}

enum admit_rc print_ticket_pdf(json_t *page, const char *payload, struct admit_buf *out)
{
    return one_page("Ticket", page, payload, "", true, out);
}
