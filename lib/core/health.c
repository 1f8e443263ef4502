#include "admit/core/health.h"

#include <stdlib.h>

#include "admit/sql.h"

enum admit_rc admit_health_schema(struct admit_db *db, int *applied, int *expected)
{
    PGresult *res = NULL;
    *applied = 0;
    *expected = admit_migration_count;
    enum admit_rc rc = admit_db_query(db, ADMIT_Q_HEALTH, 0, NULL, &res);
    if (rc != ADMIT_OK)
        return rc;
    rc = ADMIT_ERR_DB;
    if (PQntuples(res) != 1 || PQnfields(res) != 2)
        goto done;
    int latest = atoi(PQgetvalue(res, 0, 0));
    int count = atoi(PQgetvalue(res, 0, 1));
    /* Versions are unique and positive: as many as the latest means none is missing; with a
     * gap, the database is behind at best. */
    *applied = count < latest ? count : latest;
    rc = latest >= admit_migration_count && count == latest ? ADMIT_OK : ADMIT_ERR_STATE;
done:
    PQclear(res);
    return rc;
}
