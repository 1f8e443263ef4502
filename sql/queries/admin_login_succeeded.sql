-- After the right password: the failure counted by admin_login_begin taken back, a new session
-- (and the old one ended). $1 email, $2 client address, $3 admin id, $4 SHA-256 of the new
-- session id (hex bytea), $5 that of the session the browser had (or NULL), $6 attempt_at and
-- $7 ip_failure_before as admin_login_begin returned them.
SELECT admit_admin_login_succeeded($1, $2, $3::integer, $4::bytea, $5::bytea, $6::timestamptz,
                                   $7::timestamptz)
