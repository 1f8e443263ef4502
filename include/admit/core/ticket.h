/* The signed ticket, version 1.
 *
 * Text form: "AD1:" followed by the Base45 encoding of 78 bytes:
 *     key id (4) | event id (4) | attendee id (4) | reissue counter (2) | Ed25519 signature (64)
 * integers big-endian. The signature covers the domain string "admit/ticket/v1" (with its NUL),
 * then the first 14 bytes above, so a signature made for anything else never verifies as a
 * ticket. The whole text is 121 characters of the QR alphanumeric alphabet: QR version 5 at
 * error-correction level M. Nothing personal is in it. */
#ifndef ADMIT_TICKET_H
#define ADMIT_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "admit/core/keys.h"
#include "admit/core/rc.h"

#define ADMIT_TICKET_VERSION  1
#define ADMIT_TICKET_PREFIX   "AD1:"
#define ADMIT_TICKET_TEXT_LEN 121
/* A buffer for the text form with its terminator. */
#define ADMIT_TICKET_TEXT_MAX 122

struct admit_ticket {
    uint32_t key_id;
    uint32_t event_id;
    uint32_t attendee_id;
    uint16_t reissue;
};

/* Why a text is not a valid ticket. Each has its own message (admit_ticket_strerror). */
enum admit_ticket_error {
    ADMIT_TICKET_VALID = 0,
    ADMIT_TICKET_NOT_A_TICKET, /* does not start with "AD<version>:" */
    ADMIT_TICKET_UNKNOWN_VERSION,
    ADMIT_TICKET_WRONG_LENGTH,
    ADMIT_TICKET_MALFORMED, /* not canonical Base45 */
    ADMIT_TICKET_UNKNOWN_KEY,
    ADMIT_TICKET_BAD_SIGNATURE,
};

/* Signs the ticket (event, attendee, reissue; key_id is taken from key) and writes its text form,
 * NUL-terminated, into out. */
enum admit_rc admit_ticket_sign(const struct admit_signing_key *key, uint32_t event_id,
                                uint32_t attendee_id, uint16_t reissue,
                                char out[ADMIT_TICKET_TEXT_MAX]) ADMIT_MUST_CHECK;

/* Strictly parses and verifies len bytes of text against the keys in ring. No whitespace,
 * no lower case, no trailing bytes are tolerated (see admit_ticket_normalize for scanner input).
 * On ADMIT_TICKET_VALID fills *out; on ADMIT_TICKET_UNKNOWN_KEY and ADMIT_TICKET_BAD_SIGNATURE
 * *out holds the decoded but untrusted fields (useful for messages); otherwise *out is zeroed. */
enum admit_ticket_error admit_ticket_verify(const char *text, size_t len,
                                            const struct admit_keyring *ring,
                                            struct admit_ticket *out) ADMIT_MUST_CHECK;

/* A human-readable reason, e.g. "bad signature"; static storage. */
const char *admit_ticket_strerror(enum admit_ticket_error err);
/* A stable machine code, e.g. "bad_signature"; static storage. */
const char *admit_ticket_error_code(enum admit_ticket_error err);

/* Cleans one line typed by a door scanner, in place (NUL-terminating it), and returns its new
 * length: drops spaces and control characters (CR, LF, tab, ...) at both ends and folds a-z to
 * upper case (Base45 has no lower case, so keyboard wedges with Caps Lock on still work). This
 * never changes a real ticket: its text starts with "AD" and ends with the third character of a
 * Base45 triplet, which is at most 65535 / 2025 = 32, never a space (36). Spaces inside are kept:
 * space is a Base45 digit. */
size_t admit_ticket_normalize(char *line, size_t len);

#endif
