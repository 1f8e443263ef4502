#include "admit/core/ticket.h"

#include <string.h>

#include <sodium.h>

#include "admit/core/base45.h"

#define FIELDS_LEN 14 /* key id, event id, attendee id, reissue */
#define BINARY_LEN (FIELDS_LEN + crypto_sign_BYTES)
#define PREFIX_LEN (sizeof(ADMIT_TICKET_PREFIX) - 1)
#define BODY_LEN   ADMIT_BASE45_ENCODED_LEN(BINARY_LEN)

_Static_assert(PREFIX_LEN + BODY_LEN == ADMIT_TICKET_TEXT_LEN, "ticket text length");
_Static_assert(BINARY_LEN % 2 == 0, "the last Base45 group must be a triplet (see normalize)");

/* Including the NUL makes the domain a prefix-free tag. */
static const char domain[] = "admit/ticket/v1";
#define MESSAGE_LEN (sizeof domain + FIELDS_LEN)

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

static void encode_fields(uint8_t out[FIELDS_LEN], const struct admit_ticket *t)
{
    put32(out, t->key_id);
    put32(out + 4, t->event_id);
    put32(out + 8, t->attendee_id);
    out[12] = (uint8_t)(t->reissue >> 8);
    out[13] = (uint8_t)t->reissue;
}

static void decode_fields(const uint8_t in[FIELDS_LEN], struct admit_ticket *t)
{
    t->key_id = get32(in);
    t->event_id = get32(in + 4);
    t->attendee_id = get32(in + 8);
    t->reissue = (uint16_t)(in[12] << 8 | in[13]);
}

static void build_message(uint8_t out[MESSAGE_LEN], const uint8_t fields[FIELDS_LEN])
{
    memcpy(out, domain, sizeof domain);
    memcpy(out + sizeof domain, fields, FIELDS_LEN);
}

enum admit_rc admit_ticket_sign(const struct admit_signing_key *key, uint32_t event_id,
                                uint32_t attendee_id, uint16_t reissue,
                                char out[ADMIT_TICKET_TEXT_MAX])
{
    struct admit_ticket t = {key->key_id, event_id, attendee_id, reissue};
    uint8_t binary[BINARY_LEN];
    uint8_t message[MESSAGE_LEN];

    encode_fields(binary, &t);
    build_message(message, binary);
    if (crypto_sign_detached(binary + FIELDS_LEN, NULL, message, sizeof message, key->sk) != 0)
        return ADMIT_ERR_CRYPTO;
    memcpy(out, ADMIT_TICKET_PREFIX, PREFIX_LEN);
    admit_base45_encode(binary, sizeof binary, out + PREFIX_LEN);
    return ADMIT_OK;
}

/* Classifies the prefix: "AD<digits>:" with digits "1" is ours, other digits an unknown
 * version, anything else not a ticket. Returns the prefix length through *prefix_len. */
static enum admit_ticket_error check_prefix(const char *text, size_t len, size_t *prefix_len)
{
    size_t i = 2;
    if (len < 2 || text[0] != 'A' || text[1] != 'D')
        return ADMIT_TICKET_NOT_A_TICKET;
    while (i < len && i < 12 && text[i] >= '0' && text[i] <= '9')
        i++;
    if (i == 2 || i >= len || text[i] != ':')
        return ADMIT_TICKET_NOT_A_TICKET;
    *prefix_len = i + 1;
    if (*prefix_len != PREFIX_LEN || memcmp(text, ADMIT_TICKET_PREFIX, PREFIX_LEN) != 0)
        return ADMIT_TICKET_UNKNOWN_VERSION;
    return ADMIT_TICKET_VALID;
}

enum admit_ticket_error admit_ticket_verify(const char *text, size_t len,
                                            const struct admit_keyring *ring,
                                            struct admit_ticket *out)
{
    uint8_t binary[BINARY_LEN];
    uint8_t message[MESSAGE_LEN];
    size_t prefix_len = 0, binary_len = 0;

    memset(out, 0, sizeof *out);
    enum admit_ticket_error err = check_prefix(text, len, &prefix_len);
    if (err != ADMIT_TICKET_VALID)
        return err;
    if (len != ADMIT_TICKET_TEXT_LEN)
        return ADMIT_TICKET_WRONG_LENGTH;
    if (admit_base45_decode(text + PREFIX_LEN, BODY_LEN, binary, sizeof binary, &binary_len) !=
            ADMIT_BASE45_OK ||
        binary_len != BINARY_LEN)
        return ADMIT_TICKET_MALFORMED;

    decode_fields(binary, out);
    build_message(message, binary);
    /* A ticket of the key this process signs with: valid if its signature is the one signing
     * the fields again gives (Ed25519 signatures are deterministic, RFC 8032), found in a third
     * of a verify's time; the online door's every scan comes this way. Any other signature is
     * verified as below, so exactly the tickets that verify accepts are accepted. */
    if (ring->own != NULL && ring->own->key_id == out->key_id) {
        uint8_t expected[crypto_sign_BYTES];
        if (crypto_sign_detached(expected, NULL, message, sizeof message, ring->own->sk) == 0 &&
            sodium_memcmp(expected, binary + FIELDS_LEN, sizeof expected) == 0)
            return ADMIT_TICKET_VALID;
    }
    /* Key ids are 32-bit hashes: in the unlikely case two trusted keys share one, try both. */
    int known = 0;
    for (size_t i = 0; i < ring->count; i++) {
        if (ring->keys[i].key_id != out->key_id)
            continue;
        known = 1;
        if (crypto_sign_verify_detached(binary + FIELDS_LEN, message, sizeof message,
                                        ring->keys[i].pk) == 0)
            return ADMIT_TICKET_VALID;
    }
    return known ? ADMIT_TICKET_BAD_SIGNATURE : ADMIT_TICKET_UNKNOWN_KEY;
}

const char *admit_ticket_strerror(enum admit_ticket_error err)
{
    switch (err) {
    case ADMIT_TICKET_VALID:
        return "valid";
    case ADMIT_TICKET_NOT_A_TICKET:
        return "not an admit ticket (no AD<version>: prefix)";
    case ADMIT_TICKET_UNKNOWN_VERSION:
        return "unknown ticket format version";
    case ADMIT_TICKET_WRONG_LENGTH:
        return "wrong length (truncated or extended ticket)";
    case ADMIT_TICKET_MALFORMED:
        return "malformed encoding (not canonical Base45)";
    case ADMIT_TICKET_UNKNOWN_KEY:
        return "signed by an unknown key";
    case ADMIT_TICKET_BAD_SIGNATURE:
        return "bad signature (forged or altered ticket)";
    }
    return "unknown ticket error";
}

const char *admit_ticket_error_code(enum admit_ticket_error err)
{
    switch (err) {
    case ADMIT_TICKET_VALID:
        return "valid";
    case ADMIT_TICKET_NOT_A_TICKET:
        return "not_a_ticket";
    case ADMIT_TICKET_UNKNOWN_VERSION:
        return "unknown_version";
    case ADMIT_TICKET_WRONG_LENGTH:
        return "wrong_length";
    case ADMIT_TICKET_MALFORMED:
        return "malformed";
    case ADMIT_TICKET_UNKNOWN_KEY:
        return "unknown_key";
    case ADMIT_TICKET_BAD_SIGNATURE:
        return "bad_signature";
    }
    return "unknown";
}

static int is_trimmed(unsigned char c)
{
    return c <= ' ' || c == 0x7f;
}

size_t admit_ticket_normalize(char *line, size_t len)
{
    size_t start = 0;
    while (start < len && is_trimmed((unsigned char)line[start]))
        start++;
    while (len > start && is_trimmed((unsigned char)line[len - 1]))
        len--;
    len -= start;
    memmove(line, line + start, len);
    line[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (line[i] >= 'a' && line[i] <= 'z')
            line[i] = (char)(line[i] - 'a' + 'A');
    return len;
}
