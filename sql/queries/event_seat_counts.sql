-- How an event's seats stand: its capacity, the confirmed registrations and the people waiting.
-- $1 event slug.
SELECT e.capacity,
       (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'confirmed'),
       (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'waitlisted')
FROM events e WHERE e.slug = $1
