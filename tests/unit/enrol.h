/* For test_pg_* tests that need attendees: one registration through admit_registration_submit,
 * as the web form makes it (a fresh form nonce, no check-in lists). Header-only. */
#ifndef ADMIT_TEST_ENROL_H
#define ADMIT_TEST_ENROL_H

#include "admit/register/registration.h"

/* Registers email for the event slug into *res; fails the test unless it is a new one. */
static void enrol(struct admit_db *db, const char *slug, const char *email,
                  struct admit_registration_result *res)
{
    char nonce[ADMIT_TOKEN_SIZE];
    admit_token_new(nonce);
    struct admit_registration r = {.form_nonce = nonce,
                                   .given_name = "Ada",
                                   .family_name = "Lovelace",
                                   .email = email,
                                   .organisation = "Analytical Engines",
                                   .organisation_type = "research",
                                   .country = "BE",
                                   .dietary = "",
                                   .accessibility = "",
                                   .source = "web"};
    if (admit_registration_submit(db, slug, &r, res) != ADMIT_OK ||
        res->outcome != ADMIT_REG_CREATED)
        fail_msg("register %s for %s", email, slug);
}

#endif
