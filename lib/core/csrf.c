#include "admit/core/csrf.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "admit/core/token.h"

static const char key_domain[] = "admit/csrf-key/v1";

void admit_csrf_key_derive(const struct admit_signing_key *signing, struct admit_csrf_key *out)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, signing->sk, sizeof signing->sk);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)key_domain, sizeof key_domain - 1);
    crypto_auth_hmacsha256_final(&st, out->bytes);
    sodium_memzero(&st, sizeof st);
}

void admit_csrf_key_wipe(struct admit_csrf_key *key)
{
    sodium_memzero(key->bytes, sizeof key->bytes);
}

static bool form_id_valid(const char *form_id)
{
    size_t n = form_id != NULL ? strlen(form_id) : 0;
    return n > 0 && n <= ADMIT_CSRF_MAX_FORM_ID;
}

enum admit_rc admit_csrf_token(const struct admit_csrf_key *key, const char *cookie,
                               const char *form_id, char out[ADMIT_CSRF_TOKEN_SIZE])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    out[0] = '\0';
    if (cookie == NULL || !admit_token_valid(cookie) || !form_id_valid(form_id))
        return ADMIT_ERR_INVALID;
    crypto_auth_hmacsha256_init(&st, key->bytes, sizeof key->bytes);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)cookie, ADMIT_TOKEN_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)form_id, strlen(form_id));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, ADMIT_CSRF_TOKEN_SIZE, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(mac, sizeof mac);
    return ADMIT_OK;
}

bool admit_csrf_verify(const struct admit_csrf_key *key, const char *cookie, const char *form_id,
                       const char *token)
{
    char expected[ADMIT_CSRF_TOKEN_SIZE];
    bool ok = false;
    if (token == NULL || strlen(token) != ADMIT_CSRF_TOKEN_LEN)
        goto done;
    if (admit_csrf_token(key, cookie, form_id, expected) != ADMIT_OK)
        goto done;
    ok = sodium_memcmp(expected, token, ADMIT_CSRF_TOKEN_LEN) == 0;
done:
    sodium_memzero(expected, sizeof expected);
    return ok;
}

/* Whether origin is scheme "://" host for one of the schemes a browser posts forms from. */
static bool origin_is_host(const char *origin, const char *host)
{
    static const char *const schemes[] = {"http://", "https://"};
    if (host == NULL || host[0] == '\0')
        return false;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i]);
        if (strncasecmp(origin, schemes[i], n) == 0 && strcasecmp(origin + n, host) == 0)
            return true;
    }
    return false;
}

/* Whether origin is the origin of url: its scheme, "://" and authority, without the path. */
static bool origin_is_url(const char *origin, const char *url)
{
    const char *sep = url != NULL ? strstr(url, "://") : NULL;
    if (sep == NULL || sep == url)
        return false;
    size_t n = (size_t)(sep + 3 - url);
    n += strcspn(url + n, "/?#");
    return n > (size_t)(sep + 3 - url) && strlen(origin) == n && strncasecmp(origin, url, n) == 0;
}

bool admit_csrf_origin_ok(const char *origin, const char *host, const char *public_url)
{
    if (origin == NULL)
        return true;
    return origin_is_host(origin, host) || origin_is_url(origin, public_url);
}
