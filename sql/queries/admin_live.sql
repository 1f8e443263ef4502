-- The live door figures of an event, as JSON: per check-in list registered (confirmed),
-- checked in and currently inside, and the time of the figures (event time zone).
-- $1 admin id, $2 slug.
SELECT json_build_object(
    'lists', admit_admin_list_stats(e.id),
    'updated', to_char(now() AT TIME ZONE e.time_zone, 'HH24:MI:SS'))::text
FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)
