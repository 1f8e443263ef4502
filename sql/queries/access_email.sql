-- Everything held about a person, by email, in the events the organiser may see, as JSON (see
-- admit_access_email, which records it in the audit log); NULL for nobody. $1 admin id (NULL:
-- the shell), $2 email, $3 client address ('' from the shell).
SELECT admit_access_email($1::integer, $2, $3)::text
