-- Sets an event's "attach the PDF ticket to the emails" (admit_event_attach_pdf_ticket): one row,
-- true when the event was found. $1 admin id, $2 slug, $3 on (boolean).
SELECT admit_event_attach_pdf_ticket($1::integer, $2, $3::boolean)
