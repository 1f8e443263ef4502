-- The door review: scans flagged for review (entries a door let through offline that the server
-- refuses, entries displaced by an earlier offline one, forced check-ins), newest first, as
-- JSON: each case with the scan as the door saw it, the attendee, the entry that counts on that
-- list (the admission's first scan) and the review, if any. $1 admin id, $2 slug, $3 open
-- cases only (not reviewed).
SELECT json_build_object(
    'event', admit_event_json(e),
    'total', (SELECT count(*) FROM scans s WHERE s.event_id = e.id AND s.flagged),
    'open', (SELECT count(*) FROM scans s
             WHERE s.event_id = e.id AND s.flagged
               AND NOT EXISTS (SELECT 1 FROM scan_reviews v WHERE v.scan_id = s.id)),
    'cases', coalesce((SELECT json_agg(json_build_object(
        'scan', admit_admin_scan_json(s, d.name, e.time_zone),
        'registration_id', s.registration_id, 'given_name', r.given_name,
        'family_name', r.family_name, 'organisation', r.organisation, 'list', l.name,
        'forced', s.source = 'manual',
        'duplicate', s.source <> 'manual' AND s.verdict = 'already_checked_in',
        'refused', s.source <> 'manual' AND s.verdict <> 'already_checked_in',
        'counted', CASE WHEN a.registration_id IS NOT NULL THEN json_build_object(
            'time', to_char(a.first_at AT TIME ZONE e.time_zone, 'FMDD FMMonth, HH24:MI:SS'),
            'gate', a.first_gate, 'device', cd.name, 'offline', coalesce(c.offline, false),
            'this', a.first_scan_id = s.id) END,
        'review', CASE WHEN v.scan_id IS NOT NULL THEN json_build_object(
            'by', v.reviewer, 'note', v.note,
            'at', to_char(v.reviewed_at AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY, HH24:MI'))
            END)
        ORDER BY s.scanned_at DESC, s.id DESC)
        FROM scans s LEFT JOIN registrations r ON r.id = s.registration_id
        LEFT JOIN checkin_lists l ON l.id = s.list_id LEFT JOIN devices d ON d.id = s.device_id
        LEFT JOIN admissions a ON a.registration_id = s.registration_id AND a.list_id = s.list_id
        LEFT JOIN scans c ON c.id = a.first_scan_id LEFT JOIN devices cd ON cd.id = c.device_id
        LEFT JOIN scan_reviews v ON v.scan_id = s.id
        WHERE s.event_id = e.id AND s.flagged AND (NOT $3::boolean OR v.scan_id IS NULL)),
        '[]'::json))::text
FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)
