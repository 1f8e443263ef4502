-- Erases (anonymises) every registration with an email address in the events the admin may see,
-- as a JSON array of {event, registration_id}. $1 admin id (NULL: the shell), $2 email, $3 client
-- address ('' from the shell).
SELECT admit_erase_email($1::integer, $2, $3)::text
