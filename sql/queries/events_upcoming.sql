-- The home page: events that have not ended, soonest first, as one JSON array.
SELECT coalesce(json_agg(admit_event_json(e) ORDER BY e.starts_at), '[]'::json)::text
FROM events e WHERE e.ends_at > now()
