-- A one-time password link for an organiser. $1 acting admin id, $2 organiser id, $3 SHA-256 of
-- the link's token (bytea).
SELECT outcome, email FROM admit_admin_link_create($1::integer, $2::integer, $3::bytea)
