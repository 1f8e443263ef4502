-- The questions of the registration form of event $1 (slug), in order, as JSON; NULL when there
-- is no such event.
SELECT admit_questions_of(e.id, false)::text FROM events e WHERE e.slug = $1
