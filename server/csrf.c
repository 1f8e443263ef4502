/* CSRF protection of form posts for handlers: the browser's cookie, the tokens forms carry and
 * the check. The cryptography is lib/core/csrf.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"
#include "http_internal.h"

/* The name of the CSRF cookie on this server (admit/csrf.h). */
static const char *cookie_name(const struct http_request *req)
{
    return req->server->secure_cookies ? ADMIT_CSRF_COOKIE_NAME_SECURE : ADMIT_CSRF_COOKIE_NAME;
}

/* The browser's CSRF cookie, creating one for this response when it has none (or a forged,
 * malformed one). */
static const char *browser_cookie(struct http_request *req)
{
    if (req->csrf_cookie[0] != '\0')
        return req->csrf_cookie;
    const char *sent = http_cookie(req, cookie_name(req));
    if (sent != NULL && admit_token_valid(sent)) {
        memcpy(req->csrf_cookie, sent, ADMIT_TOKEN_SIZE);
    } else {
        admit_token_new(req->csrf_cookie);
        req->csrf_cookie_new = true;
    }
    return req->csrf_cookie;
}

const char *http_csrf_token(struct http_request *req, const char *form_id)
{
    char token[ADMIT_CSRF_TOKEN_SIZE];
    if (req->ncsrf_tokens == HTTP_MAX_CSRF_TOKENS ||
        admit_csrf_token(&req->server->csrf_key, browser_cookie(req), form_id, token) != ADMIT_OK) {
        http_log("internal error: CSRF token for form \"%s\" of %s (empty or too long id, or "
                 "more than %d forms on one page)",
                 form_id, http_route_pattern(req), HTTP_MAX_CSRF_TOKENS);
        abort();
    }
    char *copy = admit_xstrdup(token);
    req->csrf_tokens[req->ncsrf_tokens++] = copy;
    return copy;
}

bool http_csrf_check(struct http_request *req, const char *form_id)
{
    const char *message = NULL;
    req->csrf_checked = true;
    if (!admit_csrf_origin_ok(http_header(req, "Origin"), http_header(req, "Host"),
                              req->server->public_url)) {
        http_log_note(req, "csrf-origin");
        message = "This form was sent from another site. Open the form on this site and send it "
                  "again.";
    } else if (http_cookie(req, cookie_name(req)) == NULL) {
        http_log_note(req, "csrf-no-cookie");
        message = "Your browser did not send this site's security cookie with the form. Allow "
                  "cookies for this site, reload the form and send it again.";
    } else if (!admit_csrf_verify(&req->server->csrf_key, http_cookie(req, cookie_name(req)),
                                  form_id, http_form(req, HTTP_CSRF_FIELD))) {
        http_log_note(req, "csrf-token");
        message = "This form has expired or was changed. Reload the page and send the form "
                  "again.";
    }
    if (message == NULL)
        return true;
    http_respond_error(req, 403, "Form not accepted", message);
    return false;
}

bool http_csrf_set_cookie(const struct http_request *req, char *out, size_t outlen)
{
    if (!req->csrf_cookie_new)
        return false;
    /* A session cookie: the browser forgets it when it closes, the next form page sets another. */
    int n = snprintf(out, outlen, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", cookie_name(req),
                     req->csrf_cookie, req->server->secure_cookies ? "; Secure" : "");
    return n > 0 && (size_t)n < outlen;
}
