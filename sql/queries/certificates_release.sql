-- Releases the certificates of attendance of event $1 (slug) before it ends ($2 true), or
-- withdraws that ($2 false: they come when the event ends). One row with the event's id, none
-- when there is no such event.
UPDATE events SET certificates_released = $2::boolean WHERE slug = $1::text RETURNING id
