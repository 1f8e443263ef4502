-- The scans of one API call, one round trip: see admit_checkin in sql/migrations.
-- $1 SHA-256 of the device token (bytea, hex text form), $2 the scans (a JSON array).
SELECT admit_checkin($1::bytea, $2::jsonb)::text
