-- Adds ($3 NULL) or changes the question $3 of event $2 as admin $1: $4 kind, $5 label, $6 help,
-- $7 required, $8 options (text[] literal), $9 shown at the door. See admit_question_save.
SELECT outcome, question_id
FROM admit_question_save($1::integer, $2, $3::integer, $4, $5, $6, $7::boolean, $8::text[],
                         $9::boolean)
