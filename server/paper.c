/* Paper for attendees: the PDF ticket and the certificate of attendance behind the ticket's
 * access token (a PDF, or a page saying why there is none), and /verify, where anyone checks a
 * certificate's QR text. Each handler calls one function of lib/print/certificates.c. */
#include <stdio.h>
#include <string.h>

#include "admit/print/certificates.h"
#include "admit/print/ticket_pdf.h"
#include "pages.h"
#include "router.h"

#define CERTIFICATE_MAX (2u << 20)
#define CODE_MAX        1000

static void certificate(struct http_request *req)
{
    struct admit_buf pdf;
    char url[300];
    enum admit_certificate_refusal refusal = ADMIT_CERTIFICATE_GIVEN;
    json_t *page = NULL;
    const struct http_server *server = http_server(req);
    http_no_store(req);
    snprintf(url, sizeof url, "%s/verify", server->public_url);
    admit_buf_init(&pdf, CERTIFICATE_MAX);
    enum admit_rc rc = admit_certificate_make(http_db(req), http_param(req, "token"),
                                              server->signing_key, url, &pdf, &refusal, &page);
    if (rc == ADMIT_ERR_NOT_FOUND || rc == ADMIT_ERR_INVALID)
        http_respond_error(req, 404, "Ticket not found",
                           "This ticket link is not valid. Check that you copied the whole link "
                           "from your confirmation email.");
    else if (rc != ADMIT_OK)
        http_respond_db_error(req, rc);
    else if (refusal == ADMIT_CERTIFICATE_GIVEN) {
        size_t len = 0;
        char *bytes = admit_buf_steal(&pdf, &len);
        http_respond_bytes(req, 200, "application/pdf", bytes, len, HTTP_TAKE);
        http_set_header(req, "Content-Disposition",
                        "attachment; filename=\"certificate-of-attendance.pdf\"");
    } else {
        json_t *context =
            json_pack("{s:s, s:O, s:b, s:b, s:b}", "title", "Certificate of attendance", "page",
                      page, "not_yet", refusal == ADMIT_CERTIFICATE_NOT_YET, "not_admitted",
                      refusal == ADMIT_CERTIFICATE_NOT_ADMITTED, "too_many",
                      refusal == ADMIT_CERTIFICATE_TOO_MANY);
        http_render(req, 409, "certificate.html", context);
    }
    json_decref(page);
    admit_buf_free(&pdf);
}

static void ticket_pdf(struct http_request *req)
{
    struct admit_buf pdf;
    bool confirmed = false;
    http_no_store(req);
    admit_buf_init(&pdf, CERTIFICATE_MAX);
    enum admit_rc rc = admit_ticket_pdf_make(http_db(req), http_param(req, "token"),
                                             http_server(req)->signing_key, &pdf, &confirmed);
    if (rc == ADMIT_ERR_NOT_FOUND || rc == ADMIT_ERR_INVALID)
        http_respond_error(req, 404, "Ticket not found",
                           "This ticket link is not valid. Check that you copied the whole link "
                           "from your confirmation email.");
    else if (rc != ADMIT_OK)
        http_respond_db_error(req, rc);
    else if (!confirmed)
        http_respond_error(req, 409, "No ticket",
                           "This registration has no ticket: it is on the waiting list or "
                           "cancelled. Your ticket page says where it stands.");
    else {
        size_t len = 0;
        char *bytes = admit_buf_steal(&pdf, &len);
        http_respond_bytes(req, 200, "application/pdf", bytes, len, HTTP_TAKE);
        http_set_header(req, "Content-Disposition", "attachment; filename=\"ticket.pdf\"");
    }
    admit_buf_free(&pdf);
}

static void verify(struct http_request *req)
{
    const char *code = http_query(req, "code");
    enum admit_certificate_error error = ADMIT_CERTIFICATE_NOT_A_CERTIFICATE;
    json_t *facts = NULL;
    json_t *context =
        json_pack("{s:s, s:s}", "title", "Check a certificate", "code", code != NULL ? code : "");
    if (code != NULL && code[0] != '\0') {
        size_t len = strnlen(code, CODE_MAX + 1);
        enum admit_rc rc = ADMIT_OK;
        if (len <= CODE_MAX)
            rc = admit_certificate_check(http_db(req), code, len, http_server(req)->keyring, &error,
                                         &facts);
        else
            error = ADMIT_CERTIFICATE_MALFORMED;
        if (rc != ADMIT_OK) {
            json_decref(context);
            http_respond_db_error(req, rc);
            return;
        }
        json_object_set_new(context, "checked", json_true());
        json_object_set_new(context, "valid", json_boolean(error == ADMIT_CERTIFICATE_VALID));
        json_object_set_new(context, "reason", json_string(admit_certificate_strerror(error)));
        if (facts != NULL)
            json_object_set_new(context, "facts", facts);
    }
    http_render(req, 200, "verify.html", context);
}

const struct http_route paper_routes[] = {
    {HTTP_GET, "/tickets/:token/certificate.pdf", certificate, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/ticket.pdf", ticket_pdf, HTTP_ROUTE_DB},
    {HTTP_GET, "/verify", verify, HTTP_ROUTE_DB},
    {0},
};
