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

/* The stored form of a secret token (a device token, a session id): the SHA-256 of text as
 * PostgreSQL's bytea text, "\x" and 64 lower-case hex digits, plus NUL. The database keeps
 * only this, so that a copy of it opens nothing. */
#define ADMIT_TOKEN_HASH_SIZE 67
void admit_token_hash(const char *text, char out[ADMIT_TOKEN_HASH_SIZE]);

#endif
