/* Sending an event's certificates of attendance by email from /admin (the button on the event's
 * page): one call of admit_certificates_send, then back to the page, which says how many went
 * out, or why none did. */
#include <stdio.h>

#include "admin.h"
#include "admit/print/certificates.h"

void admin_certificates_send(struct http_request *req)
{
    struct admit_admin admin;
    struct admit_certificates_sent sent;
    char location[200];
    if (!http_csrf_check(req, ADMIN_CSRF_FORM))
        return;
    const char *slug = admin_event_begin(req, &admin, ADMIN_PAGE);
    if (slug == NULL)
        return;
    enum admit_rc rc = admit_certificates_send(http_db(req), admin.id, slug, &sent);
    if (rc == ADMIT_ERR_NOT_FOUND) {
        admin_not_found(req);
        return;
    }
    if (rc != ADMIT_OK) {
        http_respond_db_error(req, rc);
        return;
    }
    if (sent.not_yet)
        snprintf(location, sizeof location, "/admin/events/%s?certificates=not_yet", slug);
    else
        snprintf(location, sizeof location, "/admin/events/%s?certificates=%ld&before=%ld", slug,
                 sent.queued, sent.already);
    http_log_note(req, sent.not_yet ? "certificates-not-yet" : "certificates-sent");
    http_redirect(req, location);
}
