#include "admit/core/token.h"

#include <string.h>

#include <sodium.h>

void admit_token_new(char out[ADMIT_TOKEN_SIZE])
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, ADMIT_TOKEN_SIZE, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void admit_token_hash(const char *text, char out[ADMIT_TOKEN_HASH_SIZE])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)text, strlen(text));
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, ADMIT_TOKEN_HASH_SIZE - 2, hash, sizeof hash);
}

int admit_token_valid(const char *s)
{
    if (strlen(s) != ADMIT_TOKEN_LEN)
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    /* 22 characters carry 132 bits; the last one only takes values whose low bits are zero. */
    return strchr("AQgw", s[ADMIT_TOKEN_LEN - 1]) != NULL;
}
