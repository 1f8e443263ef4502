-- What an export is about: the event's id and name, and the id of the check-in list named
-- $2 (NULL when $2 is NULL or names no list of the event). No row when there is no such event,
-- or when admin $3 (NULL from the shell: no restriction) may not see it. $1 slug.
SELECT e.id, l.id, e.name
FROM events e LEFT JOIN checkin_lists l ON l.event_id = e.id AND l.name = $2
WHERE e.slug = $1 AND ($3::integer IS NULL OR admit_admin_may($3::integer, e.id))
