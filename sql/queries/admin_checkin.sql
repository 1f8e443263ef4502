-- An organiser checks someone in by name. $1 admin id, $2 slug, $3 registration id,
-- $4 check-in list id, $5 force (not on the list), $6 scan nonce.
SELECT outcome, first_at, first_gate
FROM admit_admin_checkin($1::integer, $2, $3::integer, $4::integer, $5::boolean, $6)
