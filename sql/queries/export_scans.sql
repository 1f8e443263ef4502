-- scans.csv: the full scan log of an event, oldest first. Times are local to the event (ISO:
-- see export_setup.sql). $1 event id.
SELECT s.id, (s.scanned_at AT TIME ZONE e.time_zone)::timestamp(0)::text,
       (s.received_at AT TIME ZONE e.time_zone)::timestamp(0)::text, l.name,
       s.registration_id, r.given_name, r.family_name, s.direction, s.verdict, s.gate, d.name,
       s.source, CASE WHEN s.offline THEN 'yes' ELSE 'no' END,
       CASE WHEN s.flagged THEN 'yes' ELSE 'no' END, s.reason
FROM scans s JOIN events e ON e.id = s.event_id
LEFT JOIN checkin_lists l ON l.id = s.list_id
LEFT JOIN registrations r ON r.id = s.registration_id
LEFT JOIN devices d ON d.id = s.device_id
WHERE s.event_id = $1::integer ORDER BY s.scanned_at, s.id
