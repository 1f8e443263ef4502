-- What a verified certificate's payload refers to, as JSON: the event, the person (NULL once
-- the registration is gone: erased or anonymised people are not named) and, for each list id
-- of the payload, its name and whether the database still holds that admission. No row when
-- the event does not exist. $1 event id, $2 registration id, $3 the payload's list ids
-- (integer[]).
SELECT json_build_object(
    'event', admit_event_json(e),
    'person', (SELECT json_build_object('given_name', r.given_name, 'family_name', r.family_name,
                                        'organisation', r.organisation)
               FROM registrations r WHERE r.id = $2::integer AND r.event_id = e.id),
    'lists', (SELECT coalesce(json_agg(json_build_object(
                  'id', x.id, 'name', coalesce(l.name, 'a list that no longer exists'),
                  'day', to_char(l.day, 'FMDay FMDD FMMonth YYYY'),
                  'admitted', a.registration_id IS NOT NULL,
                  'first', to_char(a.first_at AT TIME ZONE e.time_zone,
                                   'FMDD FMMonth YYYY, HH24:MI')) ORDER BY x.id), '[]'::json)
              FROM unnest($3::integer[]) AS x(id)
              LEFT JOIN checkin_lists l ON l.id = x.id AND l.event_id = e.id
              LEFT JOIN admissions a ON a.list_id = x.id AND a.registration_id = $2::integer))::text
FROM events e WHERE e.id = $1::integer
