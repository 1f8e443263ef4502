-- An organiser moves someone from the waiting list into a free seat. $1 admin id, $2 slug,
-- $3 registration id.
SELECT outcome FROM admit_admin_promote($1::integer, $2, $3::integer)
