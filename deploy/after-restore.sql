-- Run once after restoring admit's database from a pg_dump into another PostgreSQL cluster
-- (README.md, "Backup and restore"), before admitd serves it:
--   psql -v ON_ERROR_STOP=1 -d admit -f after-restore.sql
--
-- Why: door scanners sync what changed since their last sync, told apart by the transaction id
-- that last changed each registration and admission (change_xid). A dump carries those ids from
-- the old cluster, where the counter was further on than in the new one: until the new counter
-- passes them, every restored row would look changed at every sync, and each door would
-- download the whole event again and again. Stamping them with this transaction's id makes
-- each door download them once more and then only what changes. (A physical backup restored
-- with pg_basebackup keeps the counter: it needs none of this.)
BEGIN;
UPDATE registrations SET change_xid = pg_current_xact_id();
UPDATE admissions SET change_xid = pg_current_xact_id();
COMMIT;
