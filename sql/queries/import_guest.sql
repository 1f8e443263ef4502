-- One invited guest of admit import, inside its transaction. $1 event id, $2 access token,
-- $3 nonce, $4 given name, $5 family name, $6 email, $7 organisation, $8 organisation type,
-- $9 country, $10 dietary, $11 accessibility, $12 list names ('{}': every list).
SELECT outcome, detail
FROM admit_import_guest($1::integer, $2, $3, $4, $5, $6, $7, $8::organisation_type, $9, $10, $11,
                        $12::text[])
