#include "admit/core/text.h"

#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#define ZWNJ 0x200c
#define ZWJ  0x200d

static bool letter_or_mark(UChar32 c)
{
    return c >= 0 && (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_M_MASK)) != 0;
}

static bool pictographic(UChar32 c)
{
    return c >= 0 && u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC);
}

/* A joiner where a script or an emoji sequence needs it: between two letters or marks, or (the
 * joiner) after an emoji, its variation selector or skin tone and before another emoji. prev and
 * next are -1 at the ends. */
static bool joiner_needed(UChar32 c, UChar32 prev, UChar32 next)
{
    if (c != ZWNJ && c != ZWJ)
        return false;
    if (letter_or_mark(prev) && letter_or_mark(next))
        return true;
    return c == ZWJ && pictographic(next) &&
           (pictographic(prev) || prev == 0xfe0f ||
            (prev >= 0 && u_hasBinaryProperty(prev, UCHAR_EMOJI_MODIFIER)));
}

static bool invisible(UChar32 c)
{
    int8_t type = u_charType(c);
    if (type == U_FORMAT_CHAR || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR)
        return true;
    return type != U_NON_SPACING_MARK && u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

enum admit_text_verdict admit_text_check(const char *s, unsigned flags, size_t max_chars,
                                         size_t *chars)
{
    size_t len = strlen(s), count = 0;
    enum admit_text_verdict verdict = ADMIT_TEXT_OK;
    UChar32 prev = -1;
    if (chars != NULL)
        *chars = 0;
    if (len > INT32_MAX)
        return ADMIT_TEXT_TOO_LONG;
    for (int32_t i = 0, n = (int32_t)len; i < n; count++) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0) /* ill-formed: a stray byte, an overlong form, a surrogate */
            return ADMIT_TEXT_NOT_TEXT;
        if (u_charType(c) == U_CONTROL_CHAR &&
            !((flags & ADMIT_TEXT_MULTILINE) && (c == '\n' || c == '\r' || c == '\t')))
            return ADMIT_TEXT_NOT_TEXT;
        if (!(flags & ADMIT_TEXT_ANY) && invisible(c)) {
            UChar32 next = -1;
            int32_t j = i;
            if (j < n)
                U8_NEXT(s, j, n, next);
            if (!joiner_needed(c, prev, next))
                verdict = ADMIT_TEXT_INVISIBLE;
        }
        prev = c;
    }
    if (verdict == ADMIT_TEXT_OK && count > max_chars)
        verdict = ADMIT_TEXT_TOO_LONG;
    if (chars != NULL && (verdict == ADMIT_TEXT_OK || verdict == ADMIT_TEXT_TOO_LONG))
        *chars = count;
    return verdict;
}

bool admit_text_visible(const char *s)
{
    size_t len = strlen(s);
    if (len > INT32_MAX)
        len = INT32_MAX;
    for (int32_t i = 0, n = (int32_t)len; i < n;) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0)
            continue;
        if ((U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_P_MASK | U_GC_S_MASK)) != 0 &&
            !u_isUWhiteSpace(c) && !u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) &&
            c != 0x2800 /* braille pattern blank */)
            return true;
    }
    return false;
}

const char *admit_text_message(enum admit_text_verdict verdict, unsigned flags)
{
    switch (verdict) {
    case ADMIT_TEXT_OK:
        return NULL;
    case ADMIT_TEXT_NOT_TEXT:
        return (flags & ADMIT_TEXT_MULTILINE)
                   ? "Use ordinary text (no control characters)"
                   : "Use ordinary text on one line (no control characters)";
    case ADMIT_TEXT_INVISIBLE:
        return "This holds invisible characters (such as a right-to-left mark or a zero-width "
               "space) that can make it show as something else: type it again rather than "
               "pasting it";
    case ADMIT_TEXT_TOO_LONG:
        return "This is too long";
    }
    return "This is not valid";
}
