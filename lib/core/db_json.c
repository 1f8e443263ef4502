/* The queries whose answer is one JSON document (a page's data). */
#include "admit/core/db.h"

enum admit_rc admit_db_query_json(struct admit_db *db, enum admit_query q, int nparams,
                                  const char *const *params, json_t **out)
{
    PGresult *res = NULL;
    json_error_t error;
    *out = NULL;
    enum admit_rc rc = admit_db_query(db, q, nparams, params, &res);
    if (rc != ADMIT_OK)
        return rc;
    rc = ADMIT_ERR_NOT_FOUND;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        *out = json_loads(PQgetvalue(res, 0, 0), JSON_REJECT_DUPLICATES, &error);
        rc = *out != NULL ? ADMIT_OK : ADMIT_ERR_INVALID;
    }
    PQclear(res);
    return rc;
}
