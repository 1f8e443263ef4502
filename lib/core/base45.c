#include "admit/core/base45.h"

static const char alphabet[45] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* Character -> value + 1, so that the zero default of the other 211 entries means "not in the
 * alphabet". A constant table keeps decoding reentrant with no initialisation step. */
static const signed char values[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['G'] = 17, ['H'] = 18, ['I'] = 19, ['J'] = 20, ['K'] = 21, ['L'] = 22, ['M'] = 23, ['N'] = 24,
    ['O'] = 25, ['P'] = 26, ['Q'] = 27, ['R'] = 28, ['S'] = 29, ['T'] = 30, ['U'] = 31, ['V'] = 32,
    ['W'] = 33, ['X'] = 34, ['Y'] = 35, ['Z'] = 36, [' '] = 37, ['$'] = 38, ['%'] = 39, ['*'] = 40,
    ['+'] = 41, ['-'] = 42, ['.'] = 43, ['/'] = 44, [':'] = 45,
};

static int value_of(char c)
{
    return values[(unsigned char)c] - 1;
}

size_t admit_base45_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        unsigned v = (unsigned)in[i] * 256u + in[i + 1];
        out[o++] = alphabet[v % 45];
        v /= 45;
        out[o++] = alphabet[v % 45];
        out[o++] = alphabet[v / 45];
    }
    if (i < n) {
        unsigned v = in[i];
        out[o++] = alphabet[v % 45];
        out[o++] = alphabet[v / 45];
    }
    out[o] = '\0';
    return o;
}

enum admit_base45_error admit_base45_decode(const char *in, size_t len, uint8_t *out,
                                            size_t out_cap, size_t *out_len)
{
    if (len % 3 == 1)
        return ADMIT_BASE45_BAD_LENGTH;
    size_t need = (len / 3) * 2 + (len % 3 == 2 ? 1 : 0);
    if (need > out_cap)
        return ADMIT_BASE45_OUT_TOO_SMALL;
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        int c = value_of(in[i]), d = value_of(in[i + 1]), e = value_of(in[i + 2]);
        if (c < 0 || d < 0 || e < 0)
            return ADMIT_BASE45_BAD_CHAR;
        unsigned long v = (unsigned long)c + (unsigned long)d * 45 + (unsigned long)e * 2025;
        if (v > 0xffff)
            return ADMIT_BASE45_OVERFLOW;
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)(v & 0xff);
    }
    if (i < len) {
        int c = value_of(in[i]), d = value_of(in[i + 1]);
        if (c < 0 || d < 0)
            return ADMIT_BASE45_BAD_CHAR;
        unsigned v = (unsigned)c + (unsigned)d * 45;
        if (v > 0xff)
            return ADMIT_BASE45_OVERFLOW;
        out[o++] = (uint8_t)v;
    }
    *out_len = o;
    return ADMIT_BASE45_OK;
}

const char *admit_base45_strerror(enum admit_base45_error err)
{
    switch (err) {
    case ADMIT_BASE45_OK:
        return "valid Base45";
    case ADMIT_BASE45_BAD_CHAR:
        return "character outside the Base45 alphabet";
    case ADMIT_BASE45_BAD_LENGTH:
        return "dangling single Base45 character";
    case ADMIT_BASE45_OVERFLOW:
        return "Base45 group out of range (non-canonical)";
    case ADMIT_BASE45_OUT_TOO_SMALL:
        return "decoded data too long";
    }
    return "unknown Base45 error";
}
