-- Records one organiser action in the audit log (see admit_audit). $1 admin id (NULL: the shell),
-- $2 action, $3 event id, $4 registration id, $5 detail (never personal data), $6 client address.
SELECT admit_audit($1::integer, $2, $3::integer, $4::integer, $5, $6)
