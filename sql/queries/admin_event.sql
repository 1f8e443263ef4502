-- One event's overview for its organisers, as JSON: the public description, registration
-- figures, flagged scans, and per check-in list the registered, checked-in and inside counts.
-- No row when the event does not exist or this admin may not see it. $1 admin id, $2 slug.
SELECT (admit_event_json(e)::jsonb || jsonb_build_object(
    'confirmed', (SELECT count(*) FROM registrations r
                  WHERE r.event_id = e.id AND r.status = 'confirmed'),
    'waitlisted', (SELECT count(*) FROM registrations r
                   WHERE r.event_id = e.id AND r.status = 'waitlisted'),
    'cancelled', (SELECT count(*) FROM registrations r
                  WHERE r.event_id = e.id AND r.status = 'cancelled'),
    'flagged', (SELECT count(*) FROM scans s WHERE s.event_id = e.id AND s.flagged),
    'list_stats', admit_admin_list_stats(e.id)))::text
FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)
