-- The device, event and lists behind a token (no row when unknown or revoked).
-- $1 SHA-256 of the device token (bytea, hex text form).
SELECT admit_device_whoami($1::bytea)::text
