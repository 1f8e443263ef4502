/* The signed payload of a certificate of attendance, version 1: what its QR code carries.
 *
 * Text form: "AC1:" followed by the Base45 encoding of
 *     key id (4) | event id (4) | attendee id (4) | n (1) | 0 (1) | n list ids (4 each) |
 *     Ed25519 signature (64)
 * integers big-endian, 1 <= n <= ADMIT_CERTIFICATE_LISTS_MAX, list ids strictly increasing (one
 * encoding per certificate). The signature covers the domain string "admit/certificate/v1" (with
 * its NUL) and the bytes before it, so neither a ticket's signature nor anything else signed
 * with the same key ever verifies as a certificate, nor a certificate as a ticket. Same keys as
 * tickets (admit/core/keys.h). The lists are the days and sessions the person was admitted to;
 * names are looked up by whoever shows the certificate (/verify), nothing personal is in it. */
#ifndef ADMIT_PRINT_CERTIFICATE_H
#define ADMIT_PRINT_CERTIFICATE_H

#include <stddef.h>
#include <stdint.h>

#include "admit/core/keys.h"
#include "admit/core/rc.h"

#define ADMIT_CERTIFICATE_PREFIX    "AC1:"
#define ADMIT_CERTIFICATE_LISTS_MAX 32
/* A buffer for the longest text form with its terminator. */
#define ADMIT_CERTIFICATE_TEXT_MAX 400

struct admit_certificate {
    uint32_t key_id;
    uint32_t event_id;
    uint32_t attendee_id;
    size_t list_count;
    uint32_t list_ids[ADMIT_CERTIFICATE_LISTS_MAX];
};

enum admit_certificate_error {
    ADMIT_CERTIFICATE_VALID = 0,
    ADMIT_CERTIFICATE_NOT_A_CERTIFICATE, /* does not start with "AC<version>:" */
    ADMIT_CERTIFICATE_UNKNOWN_VERSION,
    ADMIT_CERTIFICATE_MALFORMED, /* not canonical Base45, or lengths and fields do not agree */
    ADMIT_CERTIFICATE_UNKNOWN_KEY,
    ADMIT_CERTIFICATE_BAD_SIGNATURE,
};

/* Signs c (its key_id is taken from key) and writes the text form, NUL-terminated, into out.
 * ADMIT_ERR_INVALID when c has no list, more than ADMIT_CERTIFICATE_LISTS_MAX, or list ids not
 * strictly increasing. */
enum admit_rc admit_certificate_sign(const struct admit_signing_key *key,
                                     const struct admit_certificate *c,
                                     char out[ADMIT_CERTIFICATE_TEXT_MAX]) ADMIT_MUST_CHECK;

/* Strictly parses and verifies len bytes of text against ring: no whitespace, no lower case, no
 * trailing bytes. On ADMIT_CERTIFICATE_VALID fills *out; on UNKNOWN_KEY and BAD_SIGNATURE *out
 * holds the decoded but untrusted fields; otherwise *out is zeroed. */
enum admit_certificate_error
admit_certificate_verify(const char *text, size_t len, const struct admit_keyring *ring,
                         struct admit_certificate *out) ADMIT_MUST_CHECK;

/* Why a text is not a valid certificate, in words; static storage. */
const char *admit_certificate_strerror(enum admit_certificate_error err);

#endif
