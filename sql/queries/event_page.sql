-- The event page: everything about one event, by slug, as JSON. $1 slug.
-- Its lists carry, for sessions with places or times (migration 18), session_note ("12 places
-- left", or full: its waiting list) and session_times (local start and end).
SELECT (admit_event_json(e)::jsonb || jsonb_build_object('lists', coalesce((
    SELECT jsonb_agg(jsonb_build_object(
               'id', l.id, 'name', l.name, 'day', to_char(l.day, 'FMDay FMDD FMMonth'),
               'session_note', CASE
                   WHEN l.capacity IS NULL THEN NULL
                   WHEN f.free = 1 THEN '1 place left'
                   WHEN f.free > 0 THEN f.free || ' places left'
                   ELSE 'Full: if you choose it, you go on its waiting list' END,
               'session_times', to_char(l.starts_at AT TIME ZONE e.time_zone,
                                        'FMDay FMDD FMMonth, HH24:MI')
                                || '–' || to_char(l.ends_at AT TIME ZONE e.time_zone, 'HH24:MI'))
           ORDER BY l.position)
    FROM checkin_lists l
    CROSS JOIN LATERAL (SELECT coalesce(sum(s.free), 0) AS free FROM list_seats s
                        WHERE s.list_id = l.id) f
    WHERE l.event_id = e.id), '[]'::jsonb)))::text
FROM events e WHERE e.slug = $1
