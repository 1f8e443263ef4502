-- Erases (anonymises) one registration on request. $1 admin id (NULL: the shell), $2 event slug,
-- $3 registration id, $4 client address ('' from the shell). outcome 'erased', 'already',
-- 'not_found'.
SELECT outcome FROM admit_erase_registration($1::integer, $2, $3::integer, $4)
