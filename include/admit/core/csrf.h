/* Protection of HTML forms against cross-site request forgery (the pure, testable part; the
 * server glue is in server/csrf.c).
 *
 * Each browser gets a random cookie (128 bits, the shape of admit/token.h). A form carries a
 * token bound to that cookie and to a form id:
 *     token = base64url(HMAC-SHA256(csrf_key, cookie || form_id))   (43 characters, no padding)
 * The cookie has a fixed length, so the concatenation is unambiguous. csrf_key is derived from
 * the ticket-signing key under a domain string, so several admitd instances sharing one keys
 * folder accept each other's tokens, and nothing is stored. A cross-site page can make the
 * browser send the cookie (or, with SameSite=Strict, not even that) but cannot read it, so it
 * cannot compute the token. */
#ifndef ADMIT_CSRF_H
#define ADMIT_CSRF_H

#include <stdbool.h>
#include <stdint.h>

#include "admit/core/keys.h"
#include "admit/core/rc.h"

/* The browser's cookie: "__Host-admit_csrf" (with Secure) when admitd's public URL is https, as
 * the admin session cookie: the prefix makes browsers refuse it unless it was set by this host,
 * over https, for Path=/, so a sibling domain or a plain-http page cannot plant one. Over plain
 * http (a venue network) the prefix is impossible (it requires Secure): "admit_csrf". */
#define ADMIT_CSRF_COOKIE_NAME        "admit_csrf"
#define ADMIT_CSRF_COOKIE_NAME_SECURE "__Host-admit_csrf"
/* Characters of a form token, and the size of a buffer holding one with its terminator. */
#define ADMIT_CSRF_TOKEN_LEN  43
#define ADMIT_CSRF_TOKEN_SIZE (ADMIT_CSRF_TOKEN_LEN + 1)
/* Longest form id accepted, in bytes. */
#define ADMIT_CSRF_MAX_FORM_ID 128

/* Secret material: wipe with admit_csrf_key_wipe. */
struct admit_csrf_key {
    uint8_t bytes[32];
};

/* Derives the CSRF key from the ticket-signing key: HMAC-SHA256 keyed with the secret key over
 * the domain string "admit/csrf-key/v1". Deterministic: the same signing key gives the same
 * CSRF key in every process. */
void admit_csrf_key_derive(const struct admit_signing_key *signing, struct admit_csrf_key *out);
/* Wipes key. */
void admit_csrf_key_wipe(struct admit_csrf_key *key);

/* Writes into out the token of the form form_id for the browser holding cookie.
 * ADMIT_ERR_INVALID (out set to "") when cookie is not a token (admit_token_valid) or form_id is
 * empty or longer than ADMIT_CSRF_MAX_FORM_ID. */
enum admit_rc admit_csrf_token(const struct admit_csrf_key *key, const char *cookie,
                               const char *form_id,
                               char out[ADMIT_CSRF_TOKEN_SIZE]) ADMIT_MUST_CHECK;

/* Whether token is the token of form_id for cookie; compared in constant time (sodium_memcmp).
 * False for any NULL or malformed argument. */
bool admit_csrf_verify(const struct admit_csrf_key *key, const char *cookie, const char *form_id,
                       const char *token);

/* Whether a request's Origin header may post a form to this server. True when origin is NULL
 * (the browser sent none: old browsers, same-origin navigations of some browsers; the token
 * still protects). Otherwise origin must be exactly "http://" or "https://" followed by host
 * (the request's Host header), or the origin of public_url ("https://tickets.example.org" from
 * "https://tickets.example.org/any/path"), compared without regard to case. "null" and every
 * other value are refused. host and public_url may be NULL or "". */
bool admit_csrf_origin_ok(const char *origin, const char *host, const char *public_url);

#endif
