-- The event page: everything about one event, by slug, as JSON. $1 slug.
SELECT admit_event_json(e)::text FROM events e WHERE e.slug = $1
