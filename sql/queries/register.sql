-- One registration, one round trip: see admit_register in sql/migrations.
-- $1 slug, $2 form nonce, $3 new access token, $4 given name, $5 family name, $6 email,
-- $7 organisation, $8 organisation type, $9 country, $10 dietary, $11 accessibility,
-- $12 check-in list ids ('{1,2}'), $13 source, $14 the answers to the event's questions
-- ({"question id": "value"}, checked by the form; stored by admit_answers_save in this same
-- statement, so a registration never stands without its answers).
-- Sessions whose times overlap (migration 18) are refused before anything is written: outcome
-- 'overlap' (the condition holds no column, so it gates the call of admit_register).
SELECT r.outcome, r.registration_id, r.token, r.status,
       admit_answers_save(r.registration_id, r.outcome, $14::jsonb)
FROM admit_register($1, $2, $3, $4, $5, $6, $7, $8::organisation_type, $9, $10, $11,
                    $12::integer[], $13) r
WHERE NOT admit_lists_overlap($12::integer[])
UNION ALL
SELECT 'overlap', NULL, NULL, NULL::registration_status, NULL::integer
WHERE admit_lists_overlap($12::integer[])
