#include "admit/checkin/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "admit/core/buf.h"
#include "admit/core/qr.h"
#include "admit/core/text.h"
#include "admit/core/mem.h"

void admit_device_token_hash(const char *token, char out[ADMIT_DEVICE_HASH_SIZE])
{
    admit_token_hash(token, out);
}

int admit_device_bearer(const char *header, char out[ADMIT_TOKEN_SIZE])
{
    static const char scheme[] = "Bearer";
    out[0] = '\0';
    if (header == NULL || strncasecmp(header, scheme, sizeof scheme - 1) != 0)
        return 0;
    const char *p = header + sizeof scheme - 1;
    if (*p != ' ')
        return 0;
    while (*p == ' ')
        p++;
    if (!admit_token_valid(p))
        return 0;
    memcpy(out, p, ADMIT_TOKEN_SIZE);
    return 1;
}

const char *admit_device_name_problem(const char *name)
{
    switch (admit_text_check(name, 0, ADMIT_DEVICE_NAME_MAX, NULL)) {
    case ADMIT_TEXT_OK:
        break;
    case ADMIT_TEXT_NOT_TEXT:
        return "a device name is one line of ordinary text (no control characters)";
    case ADMIT_TEXT_INVISIBLE:
        return "a device name cannot hold invisible characters (right-to-left marks, zero-width "
               "spaces and the like): type it again";
    case ADMIT_TEXT_TOO_LONG:
        return "a device name has at most 100 characters";
    }
    if (!admit_text_visible(name))
        return "a device name cannot be empty (nor only blanks)";
    return NULL;
}

static enum admit_device_outcome outcome_of(const char *text)
{
    if (strcmp(text, "added") == 0 || strcmp(text, "revoked") == 0)
        return ADMIT_DEVICE_DONE;
    if (strcmp(text, "name_taken") == 0)
        return ADMIT_DEVICE_NAME_TAKEN;
    if (strcmp(text, "not_found") == 0)
        return ADMIT_DEVICE_NOT_FOUND;
    return ADMIT_DEVICE_NO_EVENT;
}

/* admin_id as a query parameter: NULL for the operator. */
static const char *admin_param(int admin_id, char *buf, size_t len)
{
    if (admin_id == ADMIT_DEVICE_OPERATOR)
        return NULL;
    snprintf(buf, len, "%d", admin_id);
    return buf;
}

enum admit_rc admit_device_add_as(struct admit_db *db, int admin_id, const char *slug,
                                  const char *name, char token[ADMIT_TOKEN_SIZE], int *id,
                                  enum admit_device_outcome *outcome)
{
    char hash[ADMIT_DEVICE_HASH_SIZE], admin[16];
    PGresult *res = NULL;
    *id = 0;
    *outcome = ADMIT_DEVICE_NO_EVENT;
    token[0] = '\0';
    if (admit_device_name_problem(name) != NULL)
        return ADMIT_ERR_INVALID;
    admit_token_new(token);
    admit_device_token_hash(token, hash);
    const char *params[4] = {admin_param(admin_id, admin, sizeof admin), slug, name, hash};
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_DEVICE_ADD, 4, params, &res);
    if (rc != ADMIT_OK)
        goto done;
    const char *what = PQgetvalue(res, 0, 0);
    /* admit_device_add says 'not_found' for an unknown event; revoke says it for a device. */
    *outcome = strcmp(what, "not_found") == 0 ? ADMIT_DEVICE_NO_EVENT : outcome_of(what);
    if (*outcome == ADMIT_DEVICE_DONE)
        *id = atoi(PQgetvalue(res, 0, 1));
done:
    if (rc != ADMIT_OK || *outcome != ADMIT_DEVICE_DONE)
        sodium_memzero(token, ADMIT_TOKEN_SIZE);
    PQclear(res);
    return rc;
}

enum admit_rc admit_device_add(struct admit_db *db, const char *slug, const char *name,
                               char token[ADMIT_TOKEN_SIZE], int *id,
                               enum admit_device_outcome *outcome)
{
    return admit_device_add_as(db, ADMIT_DEVICE_OPERATOR, slug, name, token, id, outcome);
}

enum admit_rc admit_device_revoke_as(struct admit_db *db, int admin_id, const char *slug,
                                     const char *name, int device_id, int *id,
                                     enum admit_device_outcome *outcome)
{
    PGresult *res = NULL;
    char admin[16], device[16];
    snprintf(device, sizeof device, "%d", device_id);
    const char *params[4] = {admin_param(admin_id, admin, sizeof admin), slug, name,
                             name == NULL ? device : NULL};
    *id = 0;
    *outcome = ADMIT_DEVICE_NOT_FOUND;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_DEVICE_REVOKE, 4, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    *outcome = outcome_of(PQgetvalue(res, 0, 0));
    if (!PQgetisnull(res, 0, 1))
        *id = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
    return ADMIT_OK;
}

enum admit_rc admit_device_revoke(struct admit_db *db, const char *slug, const char *name, int *id,
                                  enum admit_device_outcome *outcome)
{
    return admit_device_revoke_as(db, ADMIT_DEVICE_OPERATOR, slug, name, 0, id, outcome);
}

/* Runs q with one parameter; its one value (JSON text) into *json, or ADMIT_ERR_NOT_FOUND for
 * no row or NULL. */
static enum admit_rc query_json(struct admit_db *db, enum admit_query q, int n,
                                const char *const *params, char **json)
{
    PGresult *res = NULL;
    *json = NULL;
    enum admit_rc rc = admit_db_query(db, q, n, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        rc = ADMIT_ERR_NOT_FOUND;
    else
        *json = admit_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

enum admit_rc admit_device_list(struct admit_db *db, const char *slug, char **json)
{
    const char *params[1] = {slug};
    return query_json(db, ADMIT_Q_DEVICE_LIST, 1, params, json);
}

enum admit_rc admit_device_page(struct admit_db *db, int admin_id, const char *slug, json_t **out)
{
    char admin[16];
    const char *params[2] = {admin_param(admin_id, admin, sizeof admin), slug};
    return admit_db_query_json(db, ADMIT_Q_DEVICE_PAGE, 2, params, out);
}

enum admit_rc admit_device_whoami(struct admit_db *db, const char *token_hash, char **json)
{
    const char *params[1] = {token_hash};
    return query_json(db, ADMIT_Q_DEVICE_WHOAMI, 1, params, json);
}

enum admit_rc admit_device_token_qr_svg(const char *token, struct admit_buf *out)
{
    struct admit_qr *qr = NULL;
    enum admit_rc rc = admit_qr_encode(token, &qr);
    if (rc == ADMIT_OK)
        rc = admit_qr_svg_labelled(qr, "Device token QR code", out);
    admit_qr_free(qr);
    return rc;
}
