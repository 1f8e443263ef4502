-- The audit log for an all-events organiser (NULL for others), newest first. $1 admin id, $2 at
-- most this many entries (NULL: all). See admit_audit_list.
SELECT admit_audit_list($1::integer, $2::integer)::text
