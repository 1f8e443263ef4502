/* Decoding application/x-www-form-urlencoded text (what a browser posts for an HTML form) into
 * name/value fields, strictly: the server answers 400 for anything this refuses, so validators
 * (admit/form.h) only ever see well-formed UTF-8 without NUL bytes.
 *
 * Format (WHATWG URL standard, "application/x-www-form-urlencoded parsing"): fields are separated
 * by '&'; a field is NAME=VALUE or NAME (value ""); '+' is a space; %XX is the byte 0xXX (either
 * case). Empty fields ("a=1&&b=2", a trailing '&') are skipped. Refused, unlike the standard,
 * which would pass them through: a '%' not followed by two hex digits, a decoded NUL byte,
 * decoded text that is not valid UTF-8 (RFC 3629: no overlong forms, no surrogates), an empty
 * name, a name longer than ADMIT_FORMDATA_MAX_NAME bytes, more fields than the caller allows.
 * A name given several times (checkboxes: "lists=1&lists=3") keeps every value, in order. */
#ifndef ADMIT_FORMDATA_H
#define ADMIT_FORMDATA_H

#include <stdbool.h>
#include <stddef.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"

/* Longest field name, in bytes after decoding. */
#define ADMIT_FORMDATA_MAX_NAME 256

struct admit_formdata_field {
    const char *name;  /* decoded, NUL-terminated; points into the owning admit_formdata */
    const char *value; /* decoded, NUL-terminated ("" when absent) */
    size_t value_len;  /* strlen(value) */
};

struct admit_formdata {
    struct admit_formdata_field *fields; /* owned; in the order they were sent */
    size_t count;
    char *text; /* owned: the decoded names and values */
};

/* Prepares an empty set of fields. Allocates nothing. */
void admit_formdata_init(struct admit_formdata *form);
/* Frees the fields and leaves form empty. */
void admit_formdata_free(struct admit_formdata *form);

/* Decodes len bytes of text (need not be NUL-terminated) into form, which must be empty.
 * ADMIT_ERR_INVALID for malformed text, ADMIT_ERR_TOO_LARGE for more than max_fields fields;
 * then form is left empty and err (may be NULL) says why in a few English words, e.g.
 * "malformed percent-encoding". */
enum admit_rc admit_formdata_parse(struct admit_formdata *form, const char *text, size_t len,
                                   size_t max_fields, struct admit_error *err) ADMIT_MUST_CHECK;

/* The first value of the field name, or NULL when it was not sent. Valid while form is. */
const char *admit_formdata_get(const struct admit_formdata *form, const char *name);

/* Every value of the field name in the order sent: stores up to max of them in values and
 * returns how many there are in all (which may exceed max). */
size_t admit_formdata_get_all(const struct admit_formdata *form, const char *name,
                              const char **values, size_t max);

/* Whether the len bytes at s are valid UTF-8 (RFC 3629) without a NUL byte. */
bool admit_formdata_text_valid(const char *s, size_t len);

#endif
