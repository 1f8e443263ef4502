-- Creates an event with its check-in lists. Times are local times in the event's time zone
-- ("2027-10-29 09:00"). $1 slug, $2 name, $3 venue, $4 venue address, $5 time zone, $6 starts,
-- $7 ends, $8 registration opens, $9 registration closes, $10 capacity, $11 list names,
-- $12 list days, $13 description, $14 organiser, $15 contact email.
SELECT admit_event_create($1, $2, $3, $4, $5,
                          $6::timestamp AT TIME ZONE $5, $7::timestamp AT TIME ZONE $5,
                          $8::timestamp AT TIME ZONE $5, $9::timestamp AT TIME ZONE $5,
                          $10::integer, $11::text[], $12::date[], $13, $14, $15)
