-- Scans flagged for review (offline double entries, forced check-ins), newest first, as JSON.
-- $1 admin id, $2 slug.
SELECT json_build_object(
    'event', admit_event_json(e),
    'scans', coalesce((SELECT json_agg(json_build_object(
        'id', s.id,
        'time', to_char(s.scanned_at AT TIME ZONE e.time_zone, 'FMDD FMMonth, HH24:MI:SS'),
        'registration_id', s.registration_id, 'given_name', r.given_name,
        'family_name', r.family_name, 'list', l.name, 'gate', s.gate, 'device', d.name,
        'offline', s.offline, 'verdict', s.verdict, 'reason', s.reason, 'source', s.source)
        ORDER BY s.scanned_at DESC, s.id DESC)
        FROM scans s LEFT JOIN registrations r ON r.id = s.registration_id
        LEFT JOIN checkin_lists l ON l.id = s.list_id LEFT JOIN devices d ON d.id = s.device_id
        WHERE s.event_id = e.id AND s.flagged), '[]'::json))::text
FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)
