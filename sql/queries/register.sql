-- One registration, one round trip: see admit_register in sql/migrations.
-- $1 slug, $2 form nonce, $3 new access token, $4 given name, $5 family name, $6 email,
-- $7 organisation, $8 organisation type, $9 country, $10 dietary, $11 accessibility,
-- $12 check-in list ids ('{1,2}'), $13 source.
SELECT outcome, registration_id, token, status
FROM admit_register($1, $2, $3, $4, $5, $6, $7, $8::organisation_type, $9, $10, $11,
                    $12::integer[], $13)
