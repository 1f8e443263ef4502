-- Adds a scanner to an event. $1 acting admin id (NULL: the operator, every event), $2 event
-- slug, $3 device name, $4 SHA-256 of its token (bytea).
SELECT outcome, device_id FROM admit_device_add_as($1::integer, $2, $3, $4::bytea)
