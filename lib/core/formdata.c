#include "admit/core/formdata.h"

#include <stdlib.h>
#include <string.h>

#include "admit/core/mem.h"

void admit_formdata_init(struct admit_formdata *form)
{
    form->fields = NULL;
    form->count = 0;
    form->text = NULL;
}

void admit_formdata_free(struct admit_formdata *form)
{
    free(form->fields);
    free(form->text);
    admit_formdata_init(form);
}

bool admit_formdata_text_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t extra;
        unsigned long cp;
        unsigned long min;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false; /* continuation byte, 0xc0, 0xc1 or 0xf5..0xff as a lead byte */
        }
        if (len - i - 1 < extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes len bytes of in into out (at most len bytes written) and NUL-terminates it.
 * Returns the decoded length, or -1 with *why set. */
static long decode(const char *in, size_t len, char *out, const char **why)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < len ? hex_digit(in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "malformed percent-encoding";
                return -1;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (!admit_formdata_text_valid(out, n)) {
        *why = memchr(out, '\0', n) != NULL ? "NUL byte in a field" : "invalid UTF-8 in a field";
        return -1;
    }
    return (long)n;
}

enum admit_rc admit_formdata_parse(struct admit_formdata *form, const char *text, size_t len,
                                   size_t max_fields, struct admit_error *err)
{
    const char *reason = "";
    enum admit_rc rc = ADMIT_ERR_INVALID;
    size_t pairs = 1;
    for (size_t i = 0; i < len; i++)
        pairs += text[i] == '&';
    /* Each field decodes to at most its own length plus two terminators. */
    form->text = admit_xmalloc(len + 2 * pairs + 1);
    form->fields = admit_xcalloc(pairs, sizeof *form->fields);
    char *out = form->text;
    size_t start = 0;
    while (start <= len) {
        size_t end = start;
        while (end < len && text[end] != '&')
            end++;
        if (end > start) {
            if (form->count == max_fields) {
                reason = "too many fields";
                rc = ADMIT_ERR_TOO_LARGE;
                goto done;
            }
            const char *eq = memchr(text + start, '=', end - start);
            size_t name_len = eq != NULL ? (size_t)(eq - (text + start)) : end - start;
            struct admit_formdata_field *f = &form->fields[form->count];
            long n = decode(text + start, name_len, out, &reason);
            if (n < 0)
                goto done;
            if (n == 0 || n > ADMIT_FORMDATA_MAX_NAME) {
                reason = n == 0 ? "a field without a name" : "a field name is too long";
                goto done;
            }
            f->name = out;
            out += n + 1;
            size_t value_off = eq != NULL ? name_len + 1 : name_len;
            n = decode(text + start + value_off, end - start - value_off, out, &reason);
            if (n < 0)
                goto done;
            f->value = out;
            f->value_len = (size_t)n;
            out += n + 1;
            form->count++;
        }
        start = end + 1;
    }
    rc = ADMIT_OK;
done:
    if (rc != ADMIT_OK)
        admit_formdata_free(form);
    admit_error_clear(err);
    if (rc != ADMIT_OK)
        admit_error_set(err, "%s", reason);
    return rc;
}

const char *admit_formdata_get(const struct admit_formdata *form, const char *name)
{
    for (size_t i = 0; i < form->count; i++)
        if (strcmp(form->fields[i].name, name) == 0)
            return form->fields[i].value;
    return NULL;
}

size_t admit_formdata_get_all(const struct admit_formdata *form, const char *name,
                              const char **values, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < form->count; i++) {
        if (strcmp(form->fields[i].name, name) != 0)
            continue;
        if (n < max)
            values[n] = form->fields[i].value;
        n++;
    }
    return n;
}
