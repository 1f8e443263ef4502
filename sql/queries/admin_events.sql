-- The organisers' home: the events this admin may see, newest first, with their figures, as
-- one JSON array. $1 admin id.
SELECT coalesce(json_agg(json_build_object(
    'slug', e.slug, 'name', e.name, 'dates', admit_date_range(e.starts_at, e.ends_at, e.time_zone),
    'venue', e.venue, 'capacity', e.capacity,
    'confirmed', (SELECT count(*) FROM registrations r
                  WHERE r.event_id = e.id AND r.status = 'confirmed'),
    'waitlisted', (SELECT count(*) FROM registrations r
                   WHERE r.event_id = e.id AND r.status = 'waitlisted'),
    'checked_in', (SELECT count(DISTINCT a.registration_id) FROM admissions a
                   WHERE a.event_id = e.id))
    ORDER BY e.starts_at DESC), '[]'::json)::text
FROM events e WHERE admit_admin_may($1, e.id)
