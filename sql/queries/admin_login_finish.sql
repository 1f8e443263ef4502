-- After a password was checked: a new session (and the old one ended) on success, a counted
-- failure otherwise. $1 email, $2 client address, $3 admin id (NULL if none), $4 success,
-- $5 SHA-256 of the new session id (hex bytea), $6 that of the session the browser had (or NULL).
SELECT admit_admin_login_finish($1, $2, $3::integer, $4::boolean, $5::bytea, $6::bytea)
