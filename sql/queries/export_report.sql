-- The attendance report of an event: per check-in list (and for the whole event: list id
-- NULL), registered (confirmed, on the list) and attended (admitted there) counts, in total and
-- by organisation type and by country. dimension: 'total', 'organisation_type' or 'country'
-- (a list nobody is on has its total row only, and a key of '' where there is no one).
-- Whole event: registered = every confirmed registration, attended = admitted on any list.
-- Then, per row: no_shows (registered, never admitted there) and, on total rows, waiting (whole
-- event: on the event's waiting list; a session: on its waiting list, migration 18).
-- $1 event id.
WITH per_list AS (
    SELECT list_id, reg, bool_or(registered) AS registered, bool_or(attended) AS attended
    FROM (SELECT rl.list_id, rl.registration_id AS reg, true AS registered, false AS attended
          FROM registration_lists rl JOIN registrations r ON r.id = rl.registration_id
          WHERE r.event_id = $1::integer AND r.status = 'confirmed'
          UNION ALL
          SELECT a.list_id, a.registration_id, false, true
          FROM admissions a WHERE a.event_id = $1::integer) x
    GROUP BY list_id, reg),
whole AS (
    SELECT NULL::integer AS list_id, r.id AS reg, r.status = 'confirmed' AS registered,
           EXISTS (SELECT 1 FROM admissions a WHERE a.registration_id = r.id) AS attended
    FROM registrations r WHERE r.event_id = $1::integer
      AND (r.status = 'confirmed' OR EXISTS (SELECT 1 FROM admissions a
                                             WHERE a.registration_id = r.id))),
rows AS (SELECT * FROM per_list UNION ALL SELECT * FROM whole),
-- Every list has its section, people or not; list id 0 is the whole event.
sections AS (SELECT l.id, l.name, l.day, l.position FROM checkin_lists l
             WHERE l.event_id = $1::integer
             UNION ALL SELECT 0, NULL, NULL, NULL)
SELECT nullif(s.id, 0), s.name, to_char(s.day, 'YYYY-MM-DD'),
       CASE WHEN GROUPING(r.organisation_type) = 0 THEN 'organisation_type'
            WHEN GROUPING(r.country) = 0 THEN 'country' ELSE 'total' END,
       coalesce(r.organisation_type::text, r.country::text, ''),
       count(*) FILTER (WHERE x.registered), count(*) FILTER (WHERE x.attended),
       CASE WHEN GROUPING(r.organisation_type) = 1 AND GROUPING(r.country) = 1 THEN
           CASE WHEN s.id = 0 THEN (SELECT count(*) FROM registrations w
                                    WHERE w.event_id = $1::integer AND w.status = 'waitlisted')
                ELSE (SELECT count(*) FROM registration_list_waits w
                      JOIN registrations wr ON wr.id = w.registration_id
                      WHERE w.list_id = s.id AND wr.status <> 'cancelled') END END,
       count(*) FILTER (WHERE x.registered AND NOT x.attended)
FROM sections s
LEFT JOIN rows x ON coalesce(x.list_id, 0) = s.id
LEFT JOIN registrations r ON r.id = x.reg
GROUP BY GROUPING SETS ((s.id, s.name, s.day, s.position),
                        (s.id, s.name, s.day, s.position, r.organisation_type),
                        (s.id, s.name, s.day, s.position, r.country))
ORDER BY s.position NULLS FIRST, s.id, 4 DESC, 5
