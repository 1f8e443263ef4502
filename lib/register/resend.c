/* "Send my ticket again": one SQL function (sql/queries/resend_request.sql) queues the email
 * through the outbox, with the per-address and per-client limits. */
#include "admit/register/resend.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "admit/sql.h"

enum admit_rc admit_resend_read(struct admit_form_values *v, const char **email,
                                struct admit_error *err)
{
    const char *value = admit_form_values_get(v, "email");
    *email = value != NULL ? value : "";
    admit_error_clear(err);
    const char *problem = (*email)[0] == '\0'
                              ? "Enter the email address you registered with"
                              : admit_form_valid_email(*email, ADMIT_RESEND_EMAIL_MAX);
    if (problem == NULL)
        return ADMIT_OK;
    admit_error_set_field(err, "email");
    admit_error_set(err, "%s", problem);
    return ADMIT_ERR_INVALID;
}

enum admit_rc admit_resend_request(struct admit_db *db, const char *email, const char *client,
                                   unsigned per_address, unsigned per_client,
                                   enum admit_resend_outcome *out)
{
    char per_address_text[16], per_client_text[16];
    PGresult *res = NULL;
    *out = ADMIT_RESEND_NONE;
    snprintf(per_address_text, sizeof per_address_text, "%u", per_address);
    snprintf(per_client_text, sizeof per_client_text, "%u", per_client);
    const char *params[4] = {email, client, per_address_text, per_client_text};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_RESEND_REQUEST, 4, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *outcome = PQgetvalue(res, 0, 0);
    *out = strcmp(outcome, "queued") == 0      ? ADMIT_RESEND_QUEUED
           : strcmp(outcome, "throttled") == 0 ? ADMIT_RESEND_THROTTLED
                                               : ADMIT_RESEND_NONE;
    PQclear(res);
    return ADMIT_OK;
}
