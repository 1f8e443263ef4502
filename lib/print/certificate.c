/* Signing and strictly verifying the payload of a certificate of attendance (its format: the
 * header). The shape follows lib/core/ticket.c, with a domain of its own. */
#include "admit/print/certificate.h"

#include <string.h>

#include <sodium.h>

#include "admit/core/base45.h"

#define HEAD_LEN   14 /* key id, event id, attendee id, n, 0 */
#define FIELDS_MAX (HEAD_LEN + 4 * ADMIT_CERTIFICATE_LISTS_MAX)
#define BINARY_MAX (FIELDS_MAX + crypto_sign_BYTES)
#define PREFIX_LEN (sizeof(ADMIT_CERTIFICATE_PREFIX) - 1)

_Static_assert(PREFIX_LEN + ADMIT_BASE45_ENCODED_LEN(BINARY_MAX) < ADMIT_CERTIFICATE_TEXT_MAX,
               "certificate text length");

static const char domain[] = "admit/certificate/v1";

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t fields_len(size_t lists)
{
    return HEAD_LEN + 4 * lists;
}

static int lists_ok(const struct admit_certificate *c)
{
    if (c->list_count < 1 || c->list_count > ADMIT_CERTIFICATE_LISTS_MAX)
        return 0;
    for (size_t i = 1; i < c->list_count; i++)
        if (c->list_ids[i] <= c->list_ids[i - 1])
            return 0;
    return 1;
}

/* The signed message: the domain with its NUL, then the fields. */
static size_t build_message(uint8_t *out, const uint8_t *fields, size_t len)
{
    memcpy(out, domain, sizeof domain);
    memcpy(out + sizeof domain, fields, len);
    return sizeof domain + len;
}

enum admit_rc admit_certificate_sign(const struct admit_signing_key *key,
                                     const struct admit_certificate *c,
                                     char out[ADMIT_CERTIFICATE_TEXT_MAX])
{
    uint8_t binary[BINARY_MAX];
    uint8_t message[sizeof domain + FIELDS_MAX];
    if (!lists_ok(c))
        return ADMIT_ERR_INVALID;
    put32(binary, key->key_id);
    put32(binary + 4, c->event_id);
    put32(binary + 8, c->attendee_id);
    binary[12] = (uint8_t)c->list_count;
    binary[13] = 0;
    for (size_t i = 0; i < c->list_count; i++)
        put32(binary + HEAD_LEN + 4 * i, c->list_ids[i]);
    size_t len = fields_len(c->list_count);
    size_t mlen = build_message(message, binary, len);
    if (crypto_sign_detached(binary + len, NULL, message, mlen, key->sk) != 0)
        return ADMIT_ERR_CRYPTO;
    memcpy(out, ADMIT_CERTIFICATE_PREFIX, PREFIX_LEN);
    size_t n = admit_base45_encode(binary, len + crypto_sign_BYTES, out + PREFIX_LEN);
    out[PREFIX_LEN + n] = '\0';
    return ADMIT_OK;
}

static enum admit_certificate_error check_prefix(const char *text, size_t len)
{
    size_t i = 2;
    if (len < 2 || text[0] != 'A' || text[1] != 'C')
        return ADMIT_CERTIFICATE_NOT_A_CERTIFICATE;
    while (i < len && i < 12 && text[i] >= '0' && text[i] <= '9')
        i++;
    if (i == 2 || i >= len || text[i] != ':')
        return ADMIT_CERTIFICATE_NOT_A_CERTIFICATE;
    if (i + 1 != PREFIX_LEN || memcmp(text, ADMIT_CERTIFICATE_PREFIX, PREFIX_LEN) != 0)
        return ADMIT_CERTIFICATE_UNKNOWN_VERSION;
    return ADMIT_CERTIFICATE_VALID;
}

/* Decodes the fields of binary (len bytes) into *out; false when they do not fit together. */
static int decode(const uint8_t *binary, size_t len, struct admit_certificate *out)
{
    if (len < HEAD_LEN + crypto_sign_BYTES || binary[13] != 0)
        return 0;
    out->key_id = get32(binary);
    out->event_id = get32(binary + 4);
    out->attendee_id = get32(binary + 8);
    out->list_count = binary[12];
    if (out->list_count < 1 || out->list_count > ADMIT_CERTIFICATE_LISTS_MAX ||
        len != fields_len(out->list_count) + crypto_sign_BYTES)
        return 0;
    for (size_t i = 0; i < out->list_count; i++)
        out->list_ids[i] = get32(binary + HEAD_LEN + 4 * i);
    return lists_ok(out);
}

enum admit_certificate_error admit_certificate_verify(const char *text, size_t len,
                                                      const struct admit_keyring *ring,
                                                      struct admit_certificate *out)
{
    uint8_t binary[BINARY_MAX];
    uint8_t message[sizeof domain + FIELDS_MAX];
    size_t binary_len = 0;
    memset(out, 0, sizeof *out);
    enum admit_certificate_error err = check_prefix(text, len);
    if (err != ADMIT_CERTIFICATE_VALID)
        return err;
    if (len - PREFIX_LEN > ADMIT_BASE45_ENCODED_LEN(BINARY_MAX) ||
        admit_base45_decode(text + PREFIX_LEN, len - PREFIX_LEN, binary, sizeof binary,
                            &binary_len) != ADMIT_BASE45_OK ||
        !decode(binary, binary_len, out)) {
        memset(out, 0, sizeof *out);
        return ADMIT_CERTIFICATE_MALFORMED;
    }
    size_t flen = fields_len(out->list_count);
    size_t mlen = build_message(message, binary, flen);
    int known = 0;
    for (size_t i = 0; i < ring->count; i++) {
        if (ring->keys[i].key_id != out->key_id)
            continue;
        known = 1;
        if (crypto_sign_verify_detached(binary + flen, message, mlen, ring->keys[i].pk) == 0)
            return ADMIT_CERTIFICATE_VALID;
    }
    return known ? ADMIT_CERTIFICATE_BAD_SIGNATURE : ADMIT_CERTIFICATE_UNKNOWN_KEY;
}

const char *admit_certificate_strerror(enum admit_certificate_error err)
{
    switch (err) {
    case ADMIT_CERTIFICATE_VALID:
        return "valid";
    case ADMIT_CERTIFICATE_NOT_A_CERTIFICATE:
        return "not an admit certificate (no AC<version>: prefix)";
    case ADMIT_CERTIFICATE_UNKNOWN_VERSION:
        return "unknown certificate format version";
    case ADMIT_CERTIFICATE_MALFORMED:
        return "malformed (truncated, extended or not canonical Base45)";
    case ADMIT_CERTIFICATE_UNKNOWN_KEY:
        return "signed by an unknown key";
    case ADMIT_CERTIFICATE_BAD_SIGNATURE:
        return "bad signature (forged or altered certificate)";
    }
    return "unknown certificate error";
}
