-- Everything held about the attendee behind a ticket's access token, as JSON (see
-- admit_access_json); NULL for an unknown token. $1 token.
SELECT admit_access_json(ARRAY(SELECT id FROM registrations WHERE token = $1))::text
