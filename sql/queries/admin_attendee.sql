-- One attendee as the organisers see them, as JSON: the registration, the ticket (access token,
-- reissue counter), the actions refused in its state, every list of the event with whether they
-- are on it and when and where they were first admitted, and every scan of their ticket, per
-- list, entries and exits apart. $1 admin id, $2 slug, $3 registration id.
SELECT json_build_object(
    'event', admit_event_json(e),
    'id', r.id, 'status', r.status, 'given_name', r.given_name, 'family_name', r.family_name,
    'email', r.email, 'organisation', r.organisation, 'organisation_type', r.organisation_type,
    'country', r.country, 'dietary', r.dietary, 'accessibility', r.accessibility,
    'source', r.source, 'token', r.token, 'reissue', r.reissue,
    'answers', admit_answers_admin(r.id),
    -- Why each action makes no sense now (NULL: offered).
    'refusals', json_build_object(
        'cancel', admit_admin_action_refusal('cancel', r.status),
        'reissue', admit_admin_action_refusal('reissue', r.status),
        'promote', admit_admin_action_refusal('promote', r.status),
        'checkin', admit_admin_action_refusal('checkin', r.status)),
    'registered', to_char(r.created_at AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY, HH24:MI'),
    'cancelled_at', to_char(r.cancelled_at AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY, HH24:MI'),
    'waitlist_position', CASE WHEN r.status = 'waitlisted' THEN
        (SELECT count(*) FROM registrations w
         WHERE w.event_id = r.event_id AND w.status = 'waitlisted' AND w.id <= r.id) END,
    'lists', coalesce((SELECT json_agg(json_build_object(
        'id', l.id, 'name', l.name, 'day', to_char(l.day, 'FMDay FMDD FMMonth'),
        'on_list', EXISTS (SELECT 1 FROM registration_lists rl
                           WHERE rl.registration_id = r.id AND rl.list_id = l.id),
        -- On the waiting list of this full session (migration 18): not on it yet.
        'waiting', EXISTS (SELECT 1 FROM registration_list_waits w
                           WHERE w.registration_id = r.id AND w.list_id = l.id),
        'admitted', a.registration_id IS NOT NULL,
        'first_at', to_char(a.first_at AT TIME ZONE e.time_zone, 'FMDD FMMonth, HH24:MI:SS'),
        'first_gate', a.first_gate, 'inside', a.inside) ORDER BY l.position)
        FROM checkin_lists l
        LEFT JOIN admissions a ON a.registration_id = r.id AND a.list_id = l.id
        WHERE l.event_id = e.id), '[]'::json),
    -- The ticket's scans per check-in list (in the lists' order; scans of no list last), each
    -- list's entries and exits apart, each in time order.
    'scan_lists', coalesce((SELECT json_agg(g.scans ORDER BY g.position NULLS LAST, g.list_id)
        FROM (SELECT l.position, s.list_id, json_build_object(
            'list', coalesce(l.name, 'No list'),
            'entries', count(*) FILTER (WHERE s.direction = 'entry'),
            'exits', count(*) FILTER (WHERE s.direction = 'exit'),
            'has_entries', count(*) FILTER (WHERE s.direction = 'entry') > 0,
            'has_exits', count(*) FILTER (WHERE s.direction = 'exit') > 0,
            'entries_one', count(*) FILTER (WHERE s.direction = 'entry') = 1,
            'exits_one', count(*) FILTER (WHERE s.direction = 'exit') = 1,
            'entry_scans', coalesce(json_agg(admit_admin_scan_json(s, d.name, e.time_zone)
                ORDER BY s.scanned_at, s.id) FILTER (WHERE s.direction = 'entry'), '[]'::json),
            'exit_scans', coalesce(json_agg(admit_admin_scan_json(s, d.name, e.time_zone)
                ORDER BY s.scanned_at, s.id) FILTER (WHERE s.direction = 'exit'), '[]'::json))
            AS scans
            FROM scans s LEFT JOIN checkin_lists l ON l.id = s.list_id
            LEFT JOIN devices d ON d.id = s.device_id
            WHERE s.registration_id = r.id
            GROUP BY l.position, l.name, s.list_id) g), '[]'::json))::text
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = $3::integer AND e.slug = $2 AND admit_admin_may($1, e.id)
