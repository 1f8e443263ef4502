-- One page of an event's attendee list, as JSON: the event, the number of matches and the rows
-- (with the lists each one is on and whether they were admitted there). $1 admin id, $2 slug,
-- $3 search text ('' for none: name, email or organisation, anywhere, any case and accents:
-- migration 10), $4 status
-- ('' for any), $5 check-in list id (NULL for any), $6 checked in: '' any, 'yes', 'no' (on
-- that list, or on any list), $7 offset, $8 page size.
WITH e AS (SELECT e.* FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)),
matches AS (
    SELECT r.* FROM registrations r JOIN e ON r.event_id = e.id
    WHERE ($3 = '' OR admit_registration_search_text(r.given_name, r.family_name, r.email,
                                                     r.organisation)
                      LIKE admit_like_anywhere(admit_fold($3)))
      AND ($4 = '' OR r.status::text = $4)
      AND ($5::integer IS NULL OR EXISTS (SELECT 1 FROM registration_lists rl
                                          WHERE rl.registration_id = r.id
                                            AND rl.list_id = $5::integer))
      AND ($6 = '' OR ($6 = 'yes') = EXISTS (SELECT 1 FROM admissions a
                                             WHERE a.registration_id = r.id
                                               AND ($5::integer IS NULL
                                                    OR a.list_id = $5::integer)))),
page AS (SELECT * FROM matches
         ORDER BY family_name COLLATE "und-x-icu", given_name COLLATE "und-x-icu", id
         OFFSET $7::integer LIMIT $8::integer)
SELECT json_build_object(
    'event', (SELECT admit_event_json(e) FROM e),
    'total', (SELECT count(*) FROM matches),
    'rows', coalesce((SELECT json_agg(json_build_object(
        'id', p.id, 'given_name', p.given_name, 'family_name', p.family_name, 'email', p.email,
        'organisation', p.organisation, 'status', p.status,
        'lists', coalesce((SELECT json_agg(json_build_object(
                               'name', l.name,
                               'admitted', EXISTS (SELECT 1 FROM admissions a
                                                   WHERE a.registration_id = p.id
                                                     AND a.list_id = l.id))
                               ORDER BY l.position)
                           FROM registration_lists rl JOIN checkin_lists l ON l.id = rl.list_id
                           WHERE rl.registration_id = p.id), '[]'::json))
        ORDER BY p.family_name COLLATE "und-x-icu", p.given_name COLLATE "und-x-icu", p.id)
        FROM page p), '[]'::json))::text
FROM e
