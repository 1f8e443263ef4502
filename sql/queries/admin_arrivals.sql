-- Check-ins per 10 minutes per list on one day (event time zone), for the arrivals chart, as
-- JSON: the day, the first hour shown ("08:00"), the number of 10-minute slots from there to the
-- end of the hour of the last arrival, the lists, and [list id, slot, count] triples.
-- $1 admin id, $2 slug, $3 day ("YYYY-MM-DD", or NULL: the latest day with arrivals).
WITH e AS (SELECT e.* FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)),
a AS (SELECT ad.list_id, ad.first_at AT TIME ZONE e.time_zone AS local
      FROM admissions ad JOIN e ON ad.event_id = e.id),
d AS (SELECT coalesce($3::date, (SELECT max(local)::date FROM a)) AS day),
r AS (SELECT date_trunc('hour', min(a.local)) AS lo,
             date_trunc('hour', max(a.local)) + interval '1 hour' AS hi
      FROM a, d WHERE a.local::date = d.day)
SELECT json_build_object(
    'day', to_char(d.day, 'FMDay FMDD FMMonth YYYY'),
    'day_iso', to_char(d.day, 'YYYY-MM-DD'),
    'start_minute', coalesce(extract(hour FROM r.lo)::integer * 60, 0),
    'slots', coalesce((extract(epoch FROM r.hi - r.lo) / 600)::integer, 0),
    'lists', coalesce((SELECT json_agg(json_build_object('id', l.id, 'name', l.name)
                                       ORDER BY l.position)
                       FROM checkin_lists l WHERE l.event_id = e.id), '[]'::json),
    'counts', coalesce((SELECT json_agg(json_build_array(c.list_id, c.slot, c.n))
                        FROM (SELECT a.list_id,
                                     floor(extract(epoch FROM a.local - r.lo) / 600)::integer
                                         AS slot,
                                     count(*) AS n
                              FROM a WHERE a.local::date = d.day GROUP BY 1, 2) c),
                       '[]'::json))::text
FROM e, d, r
