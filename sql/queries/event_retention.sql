-- Sets how many days after its end an event's registrations are kept. $1 slug, $2 days.
-- 'set' or 'not_found'.
SELECT admit_event_retention($1, $2::integer)
