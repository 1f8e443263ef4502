-- admit admin password: replaces the hash and ends the admin's sessions. $1 email, $2 hash.
SELECT admit_admin_set_password($1, $2)
