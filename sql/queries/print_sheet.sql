-- A signed attendance sheet: the event's details, then per check-in list (in the event's
-- order) one row per person on it (confirmed and registered for it, or admitted there anyway),
-- sorted by family name, with the first entry's time (local to the event) or NULL. Columns: list
-- id, list name, list day, person's name, organisation, organisation type in words, country,
-- check-in time, event name, dates, venue, organiser. $1 event id, $2 list id (NULL: every list).
SELECT l.id, l.name, coalesce(to_char(l.day, 'FMDay FMDD FMMonth YYYY'), ''),
       r.family_name || ', ' || r.given_name, r.organisation,
       CASE r.organisation_type WHEN 'industry' THEN 'Industry' WHEN 'research' THEN 'Research'
            WHEN 'public_body' THEN 'Public body' WHEN 'association' THEN 'Association'
            ELSE 'Other' END,
       r.country, to_char(a.first_at AT TIME ZONE e.time_zone, 'DD/MM HH24:MI'),
       e.name, admit_date_range(e.starts_at, e.ends_at, e.time_zone), e.venue, e.organiser
FROM checkin_lists l
JOIN events e ON e.id = l.event_id
JOIN registrations r ON r.event_id = e.id
LEFT JOIN registration_lists rl ON rl.registration_id = r.id AND rl.list_id = l.id
LEFT JOIN admissions a ON a.registration_id = r.id AND a.list_id = l.id
WHERE l.event_id = $1::integer AND ($2::integer IS NULL OR l.id = $2::integer)
  AND (a.registration_id IS NOT NULL OR (r.status = 'confirmed' AND rl.list_id IS NOT NULL))
ORDER BY l.position, l.id, lower(r.family_name), lower(r.given_name), r.id
