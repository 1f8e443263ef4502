-- Creates ($2 NULL) or updates an event from the organisers' form; see admit_admin_event_save,
-- admit_admin_event_save_edits, admit_admin_event_save_privacy and
-- admit_admin_event_save_sessions.
-- $1 admin id, $2 slug of the event edited, $3 slug of a new event, $4 name, $5 description,
-- $6 venue, $7 venue address, $8 organiser, $9 contact email, $10 time zone, $11 starts,
-- $12 ends, $13 registration opens, $14 closes (local "YYYY-MM-DD HH:MM" or NULL),
-- $15 capacity, $16 waiting list, $17 list ids ('{1,NULL}'), $18 list names, $19 list days, $20 until when
-- attendees may edit their registration (local, or NULL: when registration closes), $21 retention
-- in days, $22 privacy notice URL, $23 data controller (NULL: the default for a new event,
-- unchanged for an edit), $24 list capacities, $25 session starts, $26 session ends (parallel to
-- the list names; NULL arrays: unchanged).
SELECT outcome, slug, field, message
FROM admit_admin_event_save_sessions($1::integer, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                                     $12, $13, $14, $15::integer, $16::boolean, $17::integer[],
                                     $18::text[], $19::date[], $20, $21::integer, $22, $23,
                                     $24::integer[], $25::text[], $26::text[])
