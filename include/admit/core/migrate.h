/* Schema migrations: the numbered, forward-only files of sql/migrations/, compiled into the
 * binaries, applied by `admit migrate` and checked by admitd at start. */
#ifndef ADMIT_MIGRATE_H
#define ADMIT_MIGRATE_H

#include "admit/core/db.h"
#include "admit/core/error.h"

/* Checks that every migration compiled into this binary has been applied. ADMIT_OK if so;
 * ADMIT_ERR_STATE (with *applied and *expected set) if the database is behind or ahead. */
enum admit_rc admit_migrate_check(struct admit_db *db, int *applied,
                                  int *expected) ADMIT_MUST_CHECK;

/* Applies the pending migrations, each in its own transaction, under an advisory lock so two
 * runs at once are safe; records what ran in schema_migrations. Running it twice is a no-op.
 * A migration already applied whose text has changed since is an error (ADMIT_ERR_STATE), as
 * is a database newer than the binary. report(name, ctx) is called for each migration applied
 * (may be NULL). On error, err (admit/core/error.h) holds one line saying what failed. */
enum admit_rc admit_migrate_apply(struct admit_db *db, void (*report)(const char *name, void *ctx),
                                  void *ctx, struct admit_error *err) ADMIT_MUST_CHECK;

#endif
