-- registrations.csv: every registration of an event, in the columns of
-- admit_registration_columns (lib/register/export.c; the importer reads the same). Times are local to
-- the event ("2030-10-29 09:00:00": export_setup.sql sets ISO dates). The list names are
-- aggregated once for the event and joined, not looked up row by row. The last column holds the
-- answers to the event's questions as a JSON array (admit_answers_row, one column each in the
-- file, in the order of export_questions.sql). $1 event id.
SELECT r.id, r.status, r.given_name, r.family_name, r.email, r.organisation,
       r.organisation_type, r.country, r.dietary, r.accessibility, coalesce(n.names, ''),
       r.source, (r.created_at AT TIME ZONE e.time_zone)::timestamp(0)::text,
       admit_answers_row($1::integer, r.id, e.time_zone)
FROM registrations r
JOIN events e ON e.id = r.event_id
LEFT JOIN (SELECT rl.registration_id, string_agg(l.name, '; ' ORDER BY l.position) AS names
           FROM registration_lists rl JOIN checkin_lists l ON l.id = rl.list_id
           WHERE l.event_id = $1::integer
           GROUP BY rl.registration_id) n ON n.registration_id = r.id
WHERE r.event_id = $1::integer ORDER BY r.id
