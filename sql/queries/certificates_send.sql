-- Emails every certificate of an event not sent yet (admit_certificates_send, migration 16): one
-- row (outcome, queued, already). $1 admin id (NULL: any event), $2 slug.
SELECT outcome, queued, already FROM admit_certificates_send($1::integer, $2)
