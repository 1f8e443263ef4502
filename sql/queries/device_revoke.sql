-- Revokes a working scanner. $1 acting admin id (NULL: the operator), $2 event slug, $3 device
-- name or NULL, $4 device id or NULL (one of the two).
SELECT outcome, device_id FROM admit_device_revoke_as($1::integer, $2, $3, $4::integer)
