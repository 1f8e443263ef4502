-- Revokes the working scanner of that name. $1 event slug, $2 device name.
SELECT outcome, device_id FROM admit_device_revoke($1, $2)
