/* Unguessable random tokens (128 bits, base64url without padding: 22 characters) for ticket
 * access links, form nonces, cookies, sessions and device tokens. */
#ifndef ADMIT_TOKEN_H
#define ADMIT_TOKEN_H

#include <stddef.h>

#define ADMIT_TOKEN_LEN  22
#define ADMIT_TOKEN_SIZE (ADMIT_TOKEN_LEN + 1)

/* Writes a fresh token and its terminator into out. */
void admit_token_new(char out[ADMIT_TOKEN_SIZE]);
/* 1 when s has the shape of a token: exactly 22 characters of [A-Za-z0-9_-]. */
int admit_token_valid(const char *s);

#endif
