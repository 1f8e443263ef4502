#include "admit/core/list_match.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "admit/core/mem.h"

/* Longest name compared (a list's name is far shorter). */
#define KEY_MAX 1024

/* The code point of the UTF-8 sequence at s (into *cp), and its length; 0 when s does not start
 * a well-formed sequence. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || s[0] >= 0xf5)
        return 0;
    uint32_t v = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < least[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static bool is_dash(uint32_t cp)
{
    /* Hyphens, figure dash, en and em dashes, horizontal bar, minus sign, and their small and
     * full-width forms. */
    return cp == '-' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xfe58 ||
           cp == 0xfe63 || cp == 0xff0d;
}

static bool is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

void admit_list_name_fold(const char *name, char *key, size_t keylen)
{
    /* C.UTF-8 is built into glibc (2.35 and later): the case mapping of every script, whatever
     * the program's own locale. */
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    const unsigned char *p = (const unsigned char *)name;
    size_t used = 0;
    bool space = false, dash = false;
    if (keylen == 0)
        return;
    while (*p != '\0') {
        uint32_t cp;
        char enc[4];
        size_t in = utf8_decode(p, &cp), out;
        if (in == 0) { /* not UTF-8: the byte as it is */
            enc[0] = (char)*p;
            in = out = 1;
        } else if (is_space(cp)) {
            space = !dash; /* "Day 1 - Plenary" is "Day 1-Plenary" */
            p += in;
            continue;
        } else {
            if (is_dash(cp)) {
                cp = '-';
                space = false;
            } else if (utf8 != (locale_t)0)
                cp = (uint32_t)towlower_l((wint_t)cp, utf8);
            else if (cp < 0x80 && cp >= 'A' && cp <= 'Z')
                cp += 'a' - 'A';
            out = utf8_encode(cp, enc);
        }
        size_t need = out + (space && used > 0);
        if (used + need >= keylen)
            break;
        if (space && used > 0)
            key[used++] = ' ';
        space = false;
        dash = out == 1 && enc[0] == '-';
        memcpy(key + used, enc, out);
        used += out;
        p += in;
    }
    key[used] = '\0';
    if (utf8 != (locale_t)0)
        freelocale(utf8);
}

/* typed as a list number (1 to n), or 0. */
static size_t number_of(const char *typed, size_t n)
{
    size_t v = 0;
    const char *p = typed;
    while (*p == ' ')
        p++;
    if (*p < '1' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (size_t)(*p - '0');
        if (v > n)
            return 0;
    }
    while (*p == ' ')
        p++;
    return *p == '\0' ? v : 0;
}

enum admit_rc admit_list_match(const char *const *names, size_t n, const char *typed, size_t *index)
{
    char want[KEY_MAX], key[KEY_MAX];
    size_t found = 0, at = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], typed) == 0) {
            *index = i;
            return ADMIT_OK;
        }
    }
    admit_list_name_fold(typed, want, sizeof want);
    for (size_t i = 0; i < n && want[0] != '\0'; i++) {
        admit_list_name_fold(names[i], key, sizeof key);
        if (strcmp(key, want) == 0 && found++ == 0)
            at = i;
    }
    if (found == 1) {
        *index = at;
        return ADMIT_OK;
    }
    if (found > 1)
        return ADMIT_ERR_CONFLICT;
    size_t number = number_of(typed, n);
    if (number == 0)
        return ADMIT_ERR_NOT_FOUND;
    *index = number - 1;
    return ADMIT_OK;
}
