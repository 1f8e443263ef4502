/* "Send my ticket again": an attendee who lost the link to their ticket page enters their email
 * address and gets, by email, the links of every live registration it holds. The page answers
 * the same whether the address is registered or not, and whether or not the request was
 * throttled, so it tells nobody who registered; the work behind it is one round trip in every
 * case (admit_resend_request), which keeps the timing alike too. */
#include "admit/register/form.h"
#include "admit/register/resend.h"
#include "router.h"

#define RESEND_FORM "resend"

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
    struct admit_form_values form;
    struct admit_error err;
    const char *email = NULL;
    if (!http_csrf_check(req, RESEND_FORM))
        return;
    admit_form_values_init(&form, http_form_data(req));
    if (admit_resend_read(&form, &email, &err) != ADMIT_OK) {
        render(req, 422, 0, email, err.message);
        goto done;
    }
    enum admit_rc rc =
        admit_resend_request(http_db(req), email, http_client(req), ADMIT_RESEND_PER_ADDRESS,
                             ADMIT_RESEND_PER_CLIENT, &outcome);
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        goto done;
    }
    /* The log says nothing of the outcome either: it is the same line in every case. */
    render(req, 200, 1, email, NULL);
done:
    admit_form_values_free(&form);
}

const struct http_route resend_routes[] = {
    {HTTP_GET, "/tickets/resend", resend_page, 0},
    {HTTP_POST, "/tickets/resend", resend, HTTP_ROUTE_DB},
    {0},
};
