-- What a password link is ('ok', 'used', 'expired', 'unknown') and whose. $1 SHA-256 of its
-- token (bytea).
SELECT status, email FROM admit_admin_link_status($1::bytea)
