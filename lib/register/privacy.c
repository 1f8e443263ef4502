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

enum admit_rc admit_privacy_audit(struct admit_db *db, int admin_id, const char *action,
                                  int event_id, const char *client)
{
    char admin[16], event[16];
    PGresult *res = NULL;
    snprintf(event, sizeof event, "%d", event_id);
    const char *params[6] = {
        admin_param(admin_id, admin), action, event_id > 0 ? event : NULL, NULL, "", client};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_AUDIT_ADD, 6, params, &res);
    PQclear(res);
    return rc;
}

enum admit_rc admit_privacy_audit_registration(struct admit_db *db, int admin_id,
                                               const char *action, int registration_id,
                                               const char *client)
{
    char admin[16], registration[16];
    PGresult *res = NULL;
    snprintf(registration, sizeof registration, "%d", registration_id);
    const char *params[4] = {admin_param(admin_id, admin), action, registration, client};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_AUDIT_REGISTRATION, 4, params, &res);
    PQclear(res);
    return rc;
}

enum admit_rc admit_privacy_audit_list(struct admit_db *db, int admin_id, int limit, json_t **out)
{
    char admin[16], limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    const char *params[2] = {admin_param(admin_id, admin), limit > 0 ? limit_text : NULL};
    return admit_db_query_json(db, ADMIT_Q_AUDIT_LIST, 2, params, out);
}

/* One entry's field as CSV text: strings as they are, numbers in decimal, null empty. */
static const char *field_text(const json_t *v, char number[32])
{
    if (json_is_integer(v)) {
        snprintf(number, 32, "%lld", (long long)json_integer_value(v));
        return number;
    }
    return json_is_string(v) ? json_string_value(v) : NULL;
}

enum admit_rc admit_privacy_audit_csv(struct admit_db *db, int admin_id,
                                      enum admit_csv_flavour flavour, struct admit_buf *csv)
{
    static const char *const columns[8] = {
        "id", "at", "actor", "action", "event", "registration_id", "detail", "client"};
    struct admit_csv_writer writer;
    json_t *entries = NULL, *entry;
    size_t i;
    enum admit_rc rc = admit_privacy_audit_list(db, admin_id, 0, &entries);
    if (rc != ADMIT_OK)
        return rc;
    admit_csv_writer_init(&writer, flavour, admit_csv_sink_buf, csv);
    rc = admit_csv_write_row(&writer, columns, 8);
    json_array_foreach(entries, i, entry)
    {
        char numbers[8][32];
        const char *fields[8];
        for (size_t c = 0; c < 8; c++)
            fields[c] = field_text(json_object_get(entry, columns[c]), numbers[c]);
        if (rc == ADMIT_OK)
            rc = admit_csv_write_row(&writer, fields, 8);
    }
    if (rc == ADMIT_OK)
        rc = admit_csv_flush(&writer);
    json_decref(entries);
    return rc;
}

enum admit_rc admit_privacy_set_event(struct admit_db *db, const char *slug, int days,
                                      const char *notice_url, const char *controller)
{
    char days_text[16];
    PGresult *res = NULL;
    if (days < -1 || days > ADMIT_RETENTION_DAYS_MAX ||
        (notice_url != NULL && notice_url[0] != '\0' && strncmp(notice_url, "https://", 8) != 0 &&
         strncmp(notice_url, "http://", 7) != 0) ||
        (controller != NULL && strlen(controller) > 300))
        return ADMIT_ERR_INVALID;
    snprintf(days_text, sizeof days_text, "%d", days);
    const char *params[4] = {slug, days >= 0 ? days_text : NULL, notice_url, controller};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_EVENT_PRIVACY, 4, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    rc = strcmp(PQgetvalue(res, 0, 0), "set") == 0 ? ADMIT_OK : ADMIT_ERR_NOT_FOUND;
    PQclear(res);
    return rc;
}
