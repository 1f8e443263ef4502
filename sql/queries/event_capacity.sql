-- Sets the capacity of the event with slug $1 to $2. The seats a larger capacity adds go to the
-- waiting list first, in order, in this transaction (admit_seats_resize, migration 9); a capacity
-- below the confirmed registrations raises 22023 and changes nothing. No row: no such event.
SELECT e.id FROM events e, LATERAL admit_seats_resize(e.id, $2::integer) AS resized
WHERE e.slug = $1
