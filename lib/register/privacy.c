/* Retention, purge and erasure on request: one SQL function each (sql/queries/purge.sql,
 * erase_registration.sql, erase_email.sql, event_retention.sql). */
#include "admit/register/privacy.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "admit/core/token.h"
#include "admit/sql.h"

enum admit_rc admit_privacy_purge(struct admit_db *db, bool dry_run, json_t **counts)
{
    const char *params[1] = {dry_run ? "true" : "false"};
    return admit_db_query_json(db, ADMIT_Q_PURGE, 1, params, counts);
}

/* admin_id as a parameter: NULL for the shell (0). */
static const char *admin_param(int admin_id, char text[16])
{
    if (admin_id <= 0)
        return NULL;
    snprintf(text, 16, "%d", admin_id);
    return text;
}

enum admit_rc admit_privacy_erase_registration(struct admit_db *db, int admin_id, const char *slug,
                                               int id, const char *client,
                                               enum admit_erase_outcome *out)
{
    char admin[16], id_text[16];
    PGresult *res = NULL;
    *out = ADMIT_ERASE_NOT_FOUND;
    snprintf(id_text, sizeof id_text, "%d", id);
    const char *params[4] = {admin_param(admin_id, admin), slug, id_text, client};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_ERASE_REGISTRATION, 4, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    const char *outcome = PQgetvalue(res, 0, 0);
    *out = strcmp(outcome, "erased") == 0    ? ADMIT_ERASE_DONE
           : strcmp(outcome, "already") == 0 ? ADMIT_ERASE_ALREADY
                                             : ADMIT_ERASE_NOT_FOUND;
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_privacy_erase_email(struct admit_db *db, int admin_id, const char *email,
                                        const char *client, json_t **erased)
{
    char admin[16];
    const char *params[3] = {admin_param(admin_id, admin), email, client};
    return admit_db_query_json(db, ADMIT_Q_ERASE_EMAIL, 3, params, erased);
}

enum admit_rc admit_privacy_erase_preview(struct admit_db *db, int admin_id, const char *slug,
                                          int id, const char *email, json_t **found)
{
    char admin[16], id_text[16];
    snprintf(id_text, sizeof id_text, "%d", id);
    const char *params[4] = {admin_param(admin_id, admin), id > 0 ? slug : NULL,
                             id > 0 ? id_text : NULL, id > 0 ? NULL : email};
    return admit_db_query_json(db, ADMIT_Q_ERASE_PREVIEW, 4, params, found);
}

enum admit_rc admit_privacy_access_token(struct admit_db *db, const char *token, json_t **out)
{
    *out = NULL;
    if (token == NULL || !admit_token_valid(token))
        return ADMIT_ERR_NOT_FOUND;
    const char *params[1] = {token};
    return admit_db_query_json(db, ADMIT_Q_ACCESS_TOKEN, 1, params, out);
}

enum admit_rc admit_privacy_access_email(struct admit_db *db, int admin_id, const char *email,
                                         const char *client, json_t **out)
{
    char admin[16];
    const char *params[3] = {admin_param(admin_id, admin), email, client};
    return admit_db_query_json(db, ADMIT_Q_ACCESS_EMAIL, 3, params, out);
}

enum admit_rc admit_privacy_set_retention(struct admit_db *db, const char *slug, int days)
{
    char days_text[16];
    PGresult *res = NULL;
    if (days < 0 || days > ADMIT_RETENTION_DAYS_MAX)
        return ADMIT_ERR_INVALID;
    snprintf(days_text, sizeof days_text, "%d", days);
    const char *params[2] = {slug, days_text};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EVENT_RETENTION, 2, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    rc = strcmp(PQgetvalue(res, 0, 0), "set") == 0 ? ADMIT_OK : ADMIT_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}
