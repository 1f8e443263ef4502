#include "admit/register/form.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "admit/core/country.h"
#include "admit/core/email.h"
#include "admit/core/text.h"

void admit_form_add_error(struct admit_form_errors *errs, const char *field, const char *message)
{
    if (errs->count < ADMIT_FORM_MAX_ERRORS) {
        struct admit_error *e = &errs->items[errs->count++];
        admit_error_clear(e);
        admit_error_set_field(e, field);
        admit_error_set(e, "%s", message);
    }
}

long admit_form_text_chars(const char *s, int multiline)
{
    size_t chars = 0;
    unsigned flags = ADMIT_TEXT_ANY | (multiline ? ADMIT_TEXT_MULTILINE : 0);
    if (admit_text_check(s, flags, SIZE_MAX, &chars) != ADMIT_TEXT_OK || chars > LONG_MAX)
        return -1;
    return (long)chars;
}

static const char *check_text(const char *value, size_t max_chars, int multiline)
{
    unsigned flags = multiline ? ADMIT_TEXT_MULTILINE : 0;
    return admit_text_message(admit_text_check(value, flags, max_chars, NULL), flags);
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
        /* Only blanks or invisible characters: not filled in. */
        if (msg == NULL && fields[i].missing != NULL && !admit_text_visible(value))
            msg = fields[i].missing;
        if (msg != NULL)
            admit_form_add_error(errs, fields[i].name, msg);
    }
    return errs->count - before;
}
