-- An organiser marks a flagged scan reviewed: see admit_admin_scan_review in
-- sql/migrations/011_admin_safe_actions.sql. $1 admin id, $2 slug, $3 scan id, $4 note.
SELECT admit_admin_scan_review($1::integer, $2, $3::bigint, $4)
