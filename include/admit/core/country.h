/* Countries (ISO 3166-1 alpha-2) for the registration form and the attendance report. */
#ifndef ADMIT_COUNTRY_H
#define ADMIT_COUNTRY_H

#include <stddef.h>

struct admit_country {
    const char *code; /* "BE" */
    const char *name; /* "Belgium" (English) */
};

/* The number of countries, and the i-th in order of name (NULL past the end). */
size_t admit_country_count(void);
const struct admit_country *admit_country_at(size_t i);
/* The country with this upper-case code, or NULL. */
const struct admit_country *admit_country_find(const char *code);

#endif
