-- Before a password is checked: seconds the client must still wait (0: go ahead, the attempt is
-- already counted as a failure), the admin's id and password hash (NULL when no admin has this
-- email), and what a success hands back to admin_login_succeeded. $1 email, $2 client address.
SELECT retry_after, admin_id, password_hash, attempt_at, ip_failure_before
FROM admit_admin_login_begin($1, $2)
