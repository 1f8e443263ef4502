-- Before a password is checked: seconds the client must still wait, and the admin's id and
-- password hash (NULL when no admin has this email). $1 email, $2 client address.
SELECT retry_after, admin_id, password_hash FROM admit_admin_login_check($1, $2)
