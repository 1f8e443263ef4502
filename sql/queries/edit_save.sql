-- Saves an edit of a registration; see admit_registration_edit. $1 access token (the attendee;
-- NULL for an organiser), $2 admin id (NULL for the attendee), $3 slug, $4 registration id,
-- $5 version the form showed, $6 given name, $7 family name, $8 email, $9 organisation,
-- $10 organisation type, $11 country, $12 dietary, $13 accessibility, $14 list ids ('{1,2}'),
-- $15 a new token for the email confirmation link.
SELECT outcome, registration_id, token, version, changes::text, email_pending
FROM admit_registration_edit($1, $2::integer, $3, $4::integer, $5::integer, $6, $7, $8, $9,
                             $10::organisation_type, $11, $12, $13, $14::integer[], $15)
