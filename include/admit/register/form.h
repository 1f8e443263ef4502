/* Form fields declared as tables: each field names its validator, and the validator writes the
 * message shown next to the field. Shared by the registration form and the admin forms. */
#ifndef ADMIT_FORM_H
#define ADMIT_FORM_H

#include <stddef.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"

struct admit_formdata;

/* Checks one value (never NULL; "" when absent). Returns NULL when valid, else the message a
 * person sees next to the field, e.g. "Enter an email address like name@example.org". */
typedef const char *(*admit_form_validator)(const char *value, size_t max_chars);

struct admit_form_field {
    const char *name;    /* the HTML name attribute */
    const char *label;   /* what the page calls it */
    const char *missing; /* the message when it is empty; NULL when the field is optional */
    size_t max_chars;    /* Unicode characters, not bytes */
    admit_form_validator validate;
};

#define ADMIT_FORM_MAX_ERRORS 16

/* The problems of a submitted form, one per bad field, in the order found: each an admit_error
 * (admit/core/error.h) with its field and message set. */
struct admit_form_errors {
    struct admit_error items[ADMIT_FORM_MAX_ERRORS];
    size_t count;
};

/* Looks up a submitted value by field name; NULL when absent. */
typedef const char *(*admit_form_lookup)(void *ctx, const char *name);

/* The rule for what a form validator sees of a submitted value, in one place: the white space
 * around it (space, tab, CR, LF) removed, and each CR LF line break as LF (browsers send a
 * textarea's line breaks as CR LF but count them as one character against its maxlength).
 * Returns a new string the caller frees. */
char *admit_form_normalise(const char *raw);

/* The values of a submitted form as the validators read them: each is normalised
 * (admit_form_normalise) the first time it is asked for, and kept until
 * admit_form_values_free. */
struct admit_form_values {
    const struct admit_formdata *raw; /* not owned */
    char **names;                     /* owned, count of each */
    char **values;
    size_t count;
};

/* Reads raw (admit/core/formdata.h; NULL: an empty form) through the rule above. */
void admit_form_values_init(struct admit_form_values *v, const struct admit_formdata *raw);
/* The normalised first value of the field name, or NULL when it was not sent; ctx is the
 * struct admit_form_values (the signature of admit_form_lookup). Valid until
 * admit_form_values_free. */
const char *admit_form_values_get(void *ctx, const char *name);
/* Frees the normalised copies and leaves v empty. */
void admit_form_values_free(struct admit_form_values *v);

/* Validates every field of the table (n entries) against the submitted values, in table order,
 * and appends one error per bad field to errs: a required field (missing set) that is absent,
 * empty or shows nothing (admit_text_visible) gets its missing message. Returns the number of
 * errors added. */
size_t admit_form_validate(const struct admit_form_field *fields, size_t n, admit_form_lookup get,
                           void *ctx, struct admit_form_errors *errs);

/* Appends an error for field with message, both copied (ignored when errs is full). */
void admit_form_add_error(struct admit_form_errors *errs, const char *field, const char *message);

/* The number of Unicode characters in s if it is valid UTF-8 without control characters
 * (newline and tab allowed only when multiline), else -1. Invisible characters are not refused
 * here: text people see is checked with admit_text_check (admit/text.h). */
long admit_form_text_chars(const char *s, int multiline);

/* Validators for the common kinds of field; text is checked by the rule of admit/text.h. */
const char *admit_form_valid_line(const char *value, size_t max_chars);      /* one line */
const char *admit_form_valid_paragraph(const char *value, size_t max_chars); /* newlines ok */
const char *admit_form_valid_email(const char *value, size_t max_chars);     /* admit/email.h */
const char *admit_form_valid_country(const char *value, size_t max_chars);

#endif
