-- Removes or moves ($4: remove, up, down) the question $3 of event $2 as admin $1; false when
-- there is no such question.
SELECT admit_question_act($1::integer, $2, $3::integer, $4)
