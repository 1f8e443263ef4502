-- Whether the messages that carry a ticket of event $1 (id) attach it as a PDF (the organisers'
-- setting, migration 16): one row, or none for an event that is gone.
SELECT e.attach_pdf_ticket FROM events e WHERE e.id = $1::integer
