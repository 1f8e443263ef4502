-- The scanners of an event as a JSON array, newest first; NULL when there is no such event.
-- $1 event slug.
SELECT CASE WHEN e.id IS NULL THEN NULL ELSE coalesce((
    SELECT json_agg(json_build_object(
               'id', d.id, 'name', d.name, 'created_at', admit_api_time(d.created_at),
               'revoked_at', admit_api_time(d.revoked_at),
               'last_seen_at', admit_api_time(d.last_seen_at),
               'scans', (SELECT count(*) FROM scans s WHERE s.device_id = d.id))
           ORDER BY d.id DESC)
    FROM devices d WHERE d.event_id = e.id), '[]'::json)::text END
FROM (SELECT 1) AS one LEFT JOIN events e ON e.slug = $1
