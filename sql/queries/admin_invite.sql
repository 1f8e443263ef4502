-- An organiser added from the web with their first password link. $1 acting admin id, $2 name,
-- $3 email, $4 a hash of a password nobody knows, $5 event slugs ('{}': all events), $6 SHA-256
-- of the link's token (bytea).
SELECT outcome, detail, admin_id
FROM admit_admin_invite($1::integer, $2, $3, $4, $5::text[], $6::bytea)
