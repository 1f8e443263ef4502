-- An organiser cancels a registration. $1 admin id, $2 slug, $3 registration id.
SELECT outcome, promoted_id FROM admit_admin_cancel($1::integer, $2, $3::integer)
