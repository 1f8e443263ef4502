-- Sets a password through a link, once. $1 SHA-256 of its token (bytea), $2 the new hash.
SELECT status, email FROM admit_admin_link_use($1::bytea, $2)
