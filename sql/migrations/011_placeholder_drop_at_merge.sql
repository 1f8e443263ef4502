-- PLACEHOLDER on branch issue16-devices only: migration 11 belongs to issue16-safe
-- (011_admin_safe_actions.sql). Delete this file when merging; embed_sql refuses two 011s.
SELECT 1;
