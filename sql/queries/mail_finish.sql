-- Records how an attempt to send a message ended (admit_mail_finish). $1 message id, $2 attempt,
-- $3 outcome ('sent', 'failed', 'superseded', 'retry'), $4 the server's reply or the reason,
-- $5 and $6 the back-off bounds in seconds.
SELECT admit_mail_finish($1::bigint, $2::integer, $3, $4, $5::integer, $6::integer)
