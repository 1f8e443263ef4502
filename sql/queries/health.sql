-- Is the database answering, and which migrations does it hold? No parameters. One row: the
-- highest migration applied (0 when none) and how many are applied. admitd is healthy when both
-- are the number of migrations it was built with (lib/core/health.c, /healthz).
SELECT coalesce(max(version), 0) AS latest, count(*) AS applied FROM schema_migrations
