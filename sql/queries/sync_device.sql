-- What an offline door needs of its event, changed since a cursor: see admit_sync.
-- $1 SHA-256 of the device token (bytea, hex text form), $2 event slug, $3 cursor (NULL: all),
-- $4 the public keys (JSON array).
SELECT outcome, body::text FROM admit_sync($1::bytea, $2, $3, $4::json)
