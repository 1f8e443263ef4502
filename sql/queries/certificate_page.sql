-- What a certificate of attendance shows, by the ticket's access token, as JSON: the person,
-- the event, whether certificates can be had yet (admit_certificate_state: 'released', 'ended',
-- 'not_yet') and the lists they were admitted to (admit_certificate_lists, by list id: the
-- order the signed payload carries them in). $1 token.
SELECT json_build_object(
    'registration_id', r.id, 'event_id', r.event_id, 'token', r.token, 'status', r.status,
    'given_name', r.given_name, 'family_name', r.family_name, 'organisation', r.organisation,
    'event', admit_event_json(e),
    'certificate_state', admit_certificate_state(e),
    'ends', to_char(e.ends_at AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY, HH24:MI'),
    'lists', admit_certificate_lists(r.id))::text
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.token = $1
