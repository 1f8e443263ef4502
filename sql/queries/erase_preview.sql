-- The registrations an erasure would erase, as JSON (see admit_erase_preview). $1 admin id, $2
-- event slug and $3 registration id (one registration), or $4 email (every event, $3 NULL).
SELECT admit_erase_preview($1::integer, $2, $3::integer, $4)::text
