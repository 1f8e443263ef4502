-- The organisers' questions page as JSON ({event, questions, limits}); NULL when there is no such
-- event or the admin may not manage it. $1 admin id, $2 event slug.
SELECT admit_question_page_json($1::integer, $2)::text
