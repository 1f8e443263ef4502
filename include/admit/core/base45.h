/* Base45 (RFC 9285): bytes as text in the QR alphanumeric alphabet "0-9A-Z $%*+-./:". */
#ifndef ADMIT_BASE45_H
#define ADMIT_BASE45_H

#include <stddef.h>
#include <stdint.h>

#include "admit/core/rc.h"

/* Characters needed to encode n bytes (no terminator). */
#define ADMIT_BASE45_ENCODED_LEN(n) (((n) / 2) * 3 + ((n) % 2) * 2)

/* Why a decode failed; ADMIT_BASE45_OK on success. */
enum admit_base45_error {
    ADMIT_BASE45_OK = 0,
    ADMIT_BASE45_BAD_CHAR,     /* a character outside the alphabet (lower case included) */
    ADMIT_BASE45_BAD_LENGTH,   /* length mod 3 == 1: a dangling single character */
    ADMIT_BASE45_OVERFLOW,     /* a triplet above 65535 or a final pair above 255 */
    ADMIT_BASE45_OUT_TOO_SMALL /* the output buffer cannot hold the result */
};

/* Encodes n bytes of in into out, which must hold ADMIT_BASE45_ENCODED_LEN(n) + 1 bytes; out is
 * NUL-terminated. Returns the number of characters written. */
size_t admit_base45_encode(const uint8_t *in, size_t n, char *out);

/* Decodes len characters of in into out (capacity out_cap). On success stores the byte count in
 * *out_len. Every input has at most one decoding, and only canonical encodings are accepted. */
enum admit_base45_error admit_base45_decode(const char *in, size_t len, uint8_t *out,
                                            size_t out_cap, size_t *out_len) ADMIT_MUST_CHECK;

/* A human-readable reason for err; static storage. */
const char *admit_base45_strerror(enum admit_base45_error err);

#endif
