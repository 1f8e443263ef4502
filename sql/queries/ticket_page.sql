-- The ticket page of one registration, by access token, as JSON: the attendee, the event,
-- the lists they are on, their place on the waiting list, and the cached QR code (NULL when
-- it has not been rendered for this ticket version yet), and until when the attendee may change
-- it (edit_until, edit_open), and the full sessions they wait for (session_waits). $1 token.
SELECT json_build_object(
    'registration_id', r.id, 'event_id', r.event_id, 'token', r.token, 'status', r.status,
    'given_name', r.given_name, 'family_name', r.family_name, 'email', r.email,
    'organisation', r.organisation, 'reissue', r.reissue,
    'consents', admit_ticket_consents(r.id),
    'registered', to_char(r.created_at AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY, HH24:MI'),
    'waitlist_position', CASE WHEN r.status = 'waitlisted' THEN
        (SELECT count(*) FROM registrations w
         WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.id <= r.id) END,
    'lists', coalesce((SELECT json_agg(json_build_object('id', l.id, 'name', l.name,
                                                         'day', to_char(l.day, 'FMDay FMDD FMMonth'))
                                       ORDER BY l.position)
                       FROM registration_lists rl JOIN checkin_lists l ON l.id = rl.list_id
                       WHERE rl.registration_id = r.id), '[]'::json),
    -- The sessions (migration 18) this person waits for: name and place in line.
    'session_waits', admit_registration_waits(r.id),
    'event', admit_event_json(e),
    'edit_until', to_char(admit_edit_deadline(e) AT TIME ZONE e.time_zone,
                          'FMDD FMMonth YYYY, HH24:MI'),
    'edit_open', now() < admit_edit_deadline(e),
    'qr_svg', (SELECT t.svg FROM ticket_images t
               WHERE t.registration_id = r.id AND t.reissue = r.reissue))::text
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.token = $1
