-- Claims the next message to send (admit_mail_claim): no row when nothing is due.
-- $1 lease in seconds.
SELECT message_id, attempt, payload FROM admit_mail_claim($1::integer) WHERE message_id IS NOT NULL
