-- Adds a scanner to an event. $1 event slug, $2 device name, $3 SHA-256 of its token (bytea).
SELECT outcome, device_id FROM admit_device_add($1, $2, $3::bytea)
