-- Migration 18: the confirmation email can attach the PDF ticket (issue 20), the organisers'
-- choice per event, off by default.
--
-- Additive: one column with a default (the release before ignores it) and one new function.
-- Kept apart from the event form's save function (admit_admin_event_save_privacy and what
-- wraps it): the form sets this setting with admit_event_attach_pdf_ticket after saving.

ALTER TABLE events ADD COLUMN attach_pdf_ticket boolean NOT NULL DEFAULT false;

-- Sets whether the messages that carry a ticket (confirmation, promoted, reissued) of event
-- p_slug attach it as a PDF, for admin p_admin_id; false when the admin may not edit the event
-- or there is no such event.
CREATE FUNCTION admit_event_attach_pdf_ticket(p_admin_id integer, p_slug text, p_on boolean)
RETURNS boolean LANGUAGE sql AS $$
    WITH changed AS (
        UPDATE events e SET attach_pdf_ticket = p_on
        WHERE e.slug = p_slug AND admit_admin_may(p_admin_id, e.id)
        RETURNING e.id)
    SELECT EXISTS (SELECT 1 FROM changed)
$$;
