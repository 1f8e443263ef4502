#include "admit/core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void admit_error_clear(struct admit_error *err)
{
    if (err == NULL)
        return;
    err->message[0] = '\0';
    err->field[0] = '\0';
    err->code = NULL;
    err->line = 0;
}

/* Cuts s (a buffer of size bytes that vsnprintf filled, wanting `wanted` bytes) back to the
 * start of a UTF-8 character when it was cut. */
static void cut_at_character(char *s, size_t size, int wanted)
{
    if (wanted < 0) {
        s[0] = '\0';
        return;
    }
    if ((size_t)wanted < size)
        return;
    size_t kept = size - 1, start = kept;
    while (start > 0 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    unsigned char lead = (unsigned char)s[start - 1];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (start - 1 + len > kept)
        s[start - 1] = '\0';
}

void admit_error_set(struct admit_error *err, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL)
        return;
    va_start(ap, fmt);
    int wanted = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    cut_at_character(err->message, sizeof err->message, wanted);
}

void admit_error_set_field(struct admit_error *err, const char *field)
{
    if (err == NULL)
        return;
    int wanted = snprintf(err->field, sizeof err->field, "%s", field != NULL ? field : "");
    cut_at_character(err->field, sizeof err->field, wanted);
}
