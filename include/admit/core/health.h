/* Whether the database can serve this build, for admitd's /healthz: a load balancer sends
 * traffic only to instances whose database answers and holds the schema they were built for. */
#ifndef ADMIT_HEALTH_H
#define ADMIT_HEALTH_H

#include "admit/core/db.h"
#include "admit/core/rc.h"

/* Asks the database (one round trip, the prepared statement sql/queries/health.sql) which
 * migrations it holds. *expected is the number this build was compiled with (sql/migrations/),
 * *applied the highest one applied (how many are applied when some before it are missing; 0
 * when none, or on a database error). ADMIT_OK when migrations 1 to *expected are applied, and
 * maybe more: a newer release migrated the database while this one still serves, the normal
 * state of a rolling upgrade (*applied > *expected tells it). ADMIT_ERR_STATE when the
 * database is behind (admit migrate has not run); ADMIT_ERR_DB_UNAVAILABLE or ADMIT_ERR_DB as
 * admit_db_query. */
enum admit_rc admit_health_schema(struct admit_db *db, int *applied,
                                  int *expected) ADMIT_MUST_CHECK;

#endif
