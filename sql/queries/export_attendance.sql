-- attendance.csv: per check-in list, one row per confirmed attendee on it (and anyone admitted
-- there without being on it: forced check-ins), whether they came, and their first entry's time
-- (local to the event, ISO: see export_setup.sql) and gate. $1 event id, $2 list id (NULL:
-- every list). In registration order within a list, as registrations.csv: sorting 100,000 rows
-- by collated names took longer than the whole export may (a spreadsheet sorts in one click).
SELECT r.id, r.given_name, r.family_name, r.email, r.organisation, r.organisation_type,
       r.country, l.name, CASE WHEN a.registration_id IS NULL THEN 'no' ELSE 'yes' END,
       (a.first_at AT TIME ZONE e.time_zone)::timestamp(0)::text, a.first_gate
FROM checkin_lists l
JOIN events e ON e.id = l.event_id
JOIN registrations r ON r.event_id = e.id
LEFT JOIN registration_lists rl ON rl.registration_id = r.id AND rl.list_id = l.id
LEFT JOIN admissions a ON a.registration_id = r.id AND a.list_id = l.id
WHERE l.event_id = $1::integer AND ($2::integer IS NULL OR l.id = $2::integer)
  AND (a.registration_id IS NOT NULL OR (r.status = 'confirmed' AND rl.list_id IS NOT NULL))
ORDER BY l.position, l.id, r.id
