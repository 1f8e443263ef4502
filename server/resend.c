/* "Send my ticket again": an attendee who lost the link to their ticket page enters their email
 * address and gets, by email, the links of every live registration it holds. The page answers
 * the same whether the address is registered or not, and whether or not the request was
 * throttled, so it tells nobody who registered; the work behind it is one round trip in every
 * case (admit_resend_request), which keeps the timing alike too. */
#include <stdlib.h>
#include <string.h>

#include "admit/register/form.h"
#include "admit/register/resend.h"
#include "admit/core/mem.h"
#include "router.h"

#define RESEND_FORM "resend"
/* Requests honoured per hour: per address (each may send one message), and per client address
 * (behind a reverse proxy every client shares the proxy's address: keep this generous). */
#define RESEND_PER_ADDRESS 3
#define RESEND_PER_CLIENT  60
#define EMAIL_MAX_CHARS    254

/* The page: the form (sent false), or the answer to it (sent true). */
static void render(struct http_request *req, unsigned status, int sent, const char *email,
                   const char *error)
{
    json_t *context =
        json_pack("{s:s, s:s, s:b, s:s, s:s?}", "title", "Get your ticket link again", "csrf_token",
                  http_csrf_token(req, RESEND_FORM), "sent", sent, "email", email, "error", error);
    http_no_store(req);
    http_render(req, status, "resend.html", context);
}

static void resend_page(struct http_request *req)
{
    render(req, 200, 0, "", NULL);
}

static void resend(struct http_request *req)
{
    enum admit_resend_outcome outcome;
    if (!http_csrf_check(req, RESEND_FORM))
        return;
    const char *raw = http_form(req, "email");
    raw = raw != NULL ? raw : "";
    while (*raw == ' ' || *raw == '\t' || *raw == '\r' || *raw == '\n')
        raw++;
    size_t len = strlen(raw);
    while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\t' || raw[len - 1] == '\r' ||
                       raw[len - 1] == '\n'))
        len--;
    char *email = admit_xstrndup(raw, len);
    const char *error = email[0] == '\0' ? "Enter the email address you registered with"
                                         : admit_form_valid_email(email, EMAIL_MAX_CHARS);
    if (error != NULL) {
        render(req, 422, 0, email, error);
        goto done;
    }
    enum admit_rc rc = admit_resend_request(http_db(req), email, http_client(req),
                                            RESEND_PER_ADDRESS, RESEND_PER_CLIENT, &outcome);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        goto done;
    }
    /* The log says nothing of the outcome either: it is the same line in every case. */
    render(req, 200, 1, email, NULL);
done:
    free(email);
}

const struct http_route resend_routes[] = {
    {HTTP_GET, "/tickets/resend", resend_page, 0},
    {HTTP_POST, "/tickets/resend", resend, HTTP_ROUTE_DB},
    {0},
};
