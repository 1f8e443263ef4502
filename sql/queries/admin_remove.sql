-- admit admin remove: the admin, their sessions and event grants. $1 email.
DELETE FROM admins WHERE lower(email) = lower($1) RETURNING id
