#include "admit/register/form.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admit/core/country.h"
#include "admit/core/email.h"
#include "admit/core/formdata.h"
#include "admit/core/mem.h"
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

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *admit_form_normalise(const char *raw)
{
    while (is_blank(*raw))
        raw++;
    size_t len = strlen(raw);
    while (len > 0 && is_blank(raw[len - 1]))
        len--;
    char *value = admit_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!(raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n'))
            value[n++] = raw[i];
    value[n] = '\0';
    return value;
}

void admit_form_values_init(struct admit_form_values *v, const struct admit_formdata *raw)
{
    memset(v, 0, sizeof *v);
    v->raw = raw;
}

const char *admit_form_values_get(void *ctx, const char *name)
{
    struct admit_form_values *v = ctx;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->names[i], name) == 0)
            return v->values[i];
    const char *raw = v->raw != NULL ? admit_formdata_get(v->raw, name) : NULL;
    if (raw == NULL)
        return NULL;
    v->names = admit_xrealloc(v->names, (v->count + 1) * sizeof *v->names);
    v->values = admit_xrealloc(v->values, (v->count + 1) * sizeof *v->values);
    v->names[v->count] = admit_xstrdup(name);
    v->values[v->count] = admit_form_normalise(raw);
    return v->values[v->count++];
}

void admit_form_values_free(struct admit_form_values *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free(v->names[i]);
        free(v->values[i]);
    }
    free(v->values);
    free(v->names);
    admit_form_values_init(v, v->raw);
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
