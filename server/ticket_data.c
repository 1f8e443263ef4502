/* "Your data" (GDPR Art. 15 and 20, issue 18): from the ticket page, everything held about the
 * attendee, as a readable page and as a JSON download; reached through the ticket's secret
 * link, like the ticket itself. admit/register/privacy.h. */
#include <stdio.h>

#include "admit/register/privacy.h"
#include "pages.h"
#include "router.h"

/* The data behind the path's token into *out; answers itself (404, 503/500) when it is not. */
static bool load(struct http_request *req, json_t **out)
{
    http_no_store(req);
    enum admit_rc rc = admit_privacy_access_token(http_db(req), http_param(req, "token"), out);
    if (rc == ADMIT_ERR_NOT_FOUND)
        http_respond_error(req, 404, "Ticket not found",
                           "This ticket link is not valid, or its data has been erased. Check "
                           "that you copied the whole link from your confirmation.");
    else if (rc != ADMIT_OK)
        http_respond_db_error(req, rc);
    return rc == ADMIT_OK;
}

static void data_json(struct http_request *req)
{
    json_t *data = NULL;
    if (!load(req, &data))
        return;
    http_respond_json(req, 200, data);
    http_set_header(req, "Content-Disposition", "attachment; filename=\"my-registration.json\"");
}

static void data_page(struct http_request *req)
{
    json_t *data = NULL;
    char url[96];
    if (!load(req, &data))
        return;
    snprintf(url, sizeof url, "/tickets/%s", http_param(req, "token"));
    json_t *context =
        json_pack("{s:s, s:o, s:s}", "title", "Your data", "data", data, "ticket_url", url);
    http_render(req, 200, "ticket_data.html", context);
}

/* One entry a line: a table to read down (clang-format would fill the lines). */
/* clang-format off */
const struct http_route ticket_data_routes[] = {
    {HTTP_GET, "/tickets/:token/data", data_page, HTTP_ROUTE_DB},
    {HTTP_GET, "/tickets/:token/data.json", data_json, HTTP_ROUTE_DB},
    {0},
};
/* clang-format on */
