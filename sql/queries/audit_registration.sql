-- Records an organiser's change to one registration in the audit log (see admit_audit): its
-- event taken from the registration. $1 admin id, $2 action, $3 registration id, $4 client.
SELECT admit_audit($1::integer, $2, r.event_id, r.id, '', $4)
FROM registrations r WHERE r.id = $3::integer
