#include "admit/form.h"

#include <string.h>

#include "admit/country.h"
#include "admit/email.h"

void admit_form_add_error(struct admit_form_errors *errs, const char *field, const char *message)
{
    if (errs->count < ADMIT_FORM_MAX_ERRORS) {
        errs->items[errs->count].field = field;
        errs->items[errs->count].message = message;
        errs->count++;
    }
}

long admit_form_text_chars(const char *s, int multiline)
{
    const unsigned char *p = (const unsigned char *)s;
    long chars = 0;
    while (*p != '\0') {
        unsigned c = *p;
        size_t extra;
        unsigned min;
        if (c < 0x80) {
            if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
                return -1;
            p++;
            chars++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            min = 0x80;
            c &= 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            min = 0x800;
            c &= 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return -1;
        }
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
            c = (c << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF, and C1 controls are refused. */
        if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || (c >= 0x80 && c < 0xa0))
            return -1;
        p += extra + 1;
        chars++;
    }
    return chars;
}

static const char *check_text(const char *value, size_t max_chars, int multiline)
{
    long n = admit_form_text_chars(value, multiline);
    if (n < 0)
        return multiline ? "Use ordinary text (no control characters)"
                         : "Use ordinary text on one line (no control characters)";
    if ((size_t)n > max_chars)
        return "This is too long";
    return NULL;
}

const char *admit_form_valid_line(const char *value, size_t max_chars)
{
    return check_text(value, max_chars, 0);
}

const char *admit_form_valid_paragraph(const char *value, size_t max_chars)
{
    return check_text(value, max_chars, 1);
}

const char *admit_form_valid_email(const char *value, size_t max_chars)
{
    const char *problem = admit_email_problem(value);
    if (problem == NULL && strlen(value) > max_chars)
        problem = "This is too long";
    return problem;
}

const char *admit_form_valid_country(const char *value, size_t max_chars)
{
    (void)max_chars;
    return admit_country_find(value) != NULL ? NULL : "Choose a country from the list";
}

size_t admit_form_validate(const struct admit_form_field *fields, size_t n, admit_form_lookup get,
                           void *ctx, struct admit_form_errors *errs)
{
    size_t before = errs->count;
    for (size_t i = 0; i < n; i++) {
        const char *value = get(ctx, fields[i].name);
        if (value == NULL || value[0] == '\0') {
            if (fields[i].missing != NULL)
                admit_form_add_error(errs, fields[i].name, fields[i].missing);
            continue;
        }
        const char *msg = fields[i].validate(value, fields[i].max_chars);
        if (msg != NULL)
            admit_form_add_error(errs, fields[i].name, msg);
    }
    return errs->count - before;
}
