-- "Send my ticket again" (admit_resend_request). $1 email address, $2 client address,
-- $3 requests per address and hour, $4 requests per client and hour.
SELECT admit_resend_request($1, $2, $3::integer, $4::integer)
