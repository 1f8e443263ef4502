-- Migration 16: PDFs by email (issue 20). The confirmation email can attach the PDF ticket, the
-- organisers' choice per event, off by default; and the organisers can send every certificate
-- of attendance by email (a new message kind, 'certificate', with the PDF attached), once per
-- person, only to people admitted at least once.
--
-- Additive: one column with a default (the release before ignores it), a new enum value (a
-- mailer of the release before fails a 'certificate' message as of an unknown kind: upgrade the
-- mailers before sending certificates), a new table and new functions.
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

ALTER TYPE mail_kind ADD VALUE IF NOT EXISTS 'certificate';

-- Who was sent their certificate (queued in mail_outbox): the one row per registration that
-- makes sending twice send nothing new.
CREATE TABLE certificate_mail (
    registration_id integer PRIMARY KEY REFERENCES registrations ON DELETE CASCADE,
    queued_at timestamptz NOT NULL DEFAULT now()
);

-- Queues a 'certificate' message for every person of event p_slug (for admin p_admin_id, or any
-- event when NULL: the command line) admitted at least once and not anonymised, who was not sent
-- one before. outcome: 'queued' (queued: how many now; already: how many earlier), 'not_yet'
-- (the event has not ended and its certificates are not released: nothing queued) or
-- 'not_found'. plpgsql: the new enum value may not be named in this migration's transaction.
CREATE FUNCTION admit_certificates_send(p_admin_id integer, p_slug text, OUT outcome text,
                                        OUT queued integer, OUT already integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_event events%ROWTYPE;
BEGIN
    queued := 0;
    already := 0;
    -- Locked: two senders at once queue each message once (the second waits, then finds them).
    SELECT * INTO v_event FROM events e
    WHERE e.slug = p_slug AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id))
    FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF admit_certificate_state(v_event) = 'not_yet' THEN
        outcome := 'not_yet';
        RETURN;
    END IF;
    WITH fresh AS (
        INSERT INTO certificate_mail (registration_id)
        SELECT r.id FROM registrations r
        WHERE r.event_id = v_event.id AND r.anonymised_at IS NULL
          AND EXISTS (SELECT 1 FROM admissions a WHERE a.registration_id = r.id)
        ON CONFLICT DO NOTHING
        RETURNING registration_id),
    mailed AS (
        INSERT INTO mail_outbox (kind, registration_id, recipient)
        SELECT 'certificate', r.id, r.email FROM fresh f JOIN registrations r ON r.id = f.registration_id
        RETURNING 1)
    SELECT count(*) INTO queued FROM mailed;
    SELECT count(*) - queued INTO already
    FROM certificate_mail c JOIN registrations r ON r.id = c.registration_id
    WHERE r.event_id = v_event.id;
    outcome := 'queued';
END $$;
