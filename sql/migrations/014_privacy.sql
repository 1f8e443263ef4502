-- Migration 14: personal data has a life cycle (issue 18). README.md, "Personal data", is the
-- account of it for organisers and their data-protection officers; this file is its machinery.
--
-- - Retention per event: events.retention_days (default 90) after the event ends, its
--   registrations are anonymised in place by admit_purge (admit purge, from cron or the
--   admit-purge.timer unit in deploy/systemd). Dietary and accessibility notes go as soon as
--   the event has ended.
-- - Anonymisation (admit_anonymise) erases names, email, organisation name, free-text answers,
--   the access token, the cached ticket images and the registration's messages in the outbox;
--   it keeps what the funding body's report needs (organisation type, country, status, lists,
--   scans, admissions and their times), so that the attendance report and the per-list counts
--   are the same before and after.
-- - Erasure on request (admit_erase_registration, admit_erase_email): the same anonymisation at
--   once; a registration whose event has not ended is cancelled first (its seat goes to the
--   waiting list), so that its QR code is refused at the door at once ('revoked',
--   'cancelled') and by offline scanners at their next sync (the status and name changes mark
--   the row changed: migration 2's registrations_change trigger), which also replaces the name
--   the scanner holds.
-- - Other schedules (admit_purge): finished outbox messages (recipient addresses) after
--   admit_mail_retention(); the devices of events past their retention; login throttling rows
--   past their window; admin sessions past their end; "send my ticket again" requests after an
--   hour; the audit log after admit_audit_retention().
-- - The audit log (audit_log): organisers' exports of personal data, erasures and access
--   copies: who, when, what, from which address, and ids only (no names, no emails).
-- - Access (admit_access_json): everything held about a registration, for the attendee's
--   "your data" pages and an organiser's copy by email (admit_access_email).
-- - The privacy notice: its link, the data controller, its versions, and the version each
--   registration accepted.
--
-- Additive: new columns with constant defaults, a new table, new functions and triggers,
-- admit_event_json replaced by a version with more keys, and admit_admin_event_save_privacy
-- beside migration 13's admit_admin_event_save_edits (kept for the release before).

ALTER TABLE events ADD COLUMN retention_days integer NOT NULL DEFAULT 90
    CHECK (retention_days BETWEEN 0 AND 3650);
-- When the registration was anonymised (by retention or by erasure); NULL: it holds its data.
ALTER TABLE registrations ADD COLUMN anonymised_at timestamptz;

-- The privacy notice: the organisers' full notice (a link) and the data controller's name and
-- contact, both shown on the registration form; privacy_notice_version counts the notice's
-- versions (it goes up when the link, the controller or the retention changes), and each
-- registration records the version in force when it was made (consent_at says when). Before
-- anyone has registered, changes make no new version: nobody accepted the earlier one.
ALTER TABLE events
    ADD COLUMN privacy_notice_url text NOT NULL DEFAULT ''
        CHECK (privacy_notice_url = '' OR (privacy_notice_url ~ '^https?://[^[:space:]]+$'
                                           AND length(privacy_notice_url) <= 500)),
    ADD COLUMN controller text NOT NULL DEFAULT '' CHECK (length(controller) <= 300),
    ADD COLUMN privacy_notice_version integer NOT NULL DEFAULT 1;
ALTER TABLE registrations ADD COLUMN notice_version integer;

CREATE FUNCTION admit_notice_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.registrations WHERE event_id = OLD.id) THEN
        NEW.privacy_notice_version := OLD.privacy_notice_version + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER events_notice_version BEFORE UPDATE ON events
    FOR EACH ROW WHEN (OLD.privacy_notice_url IS DISTINCT FROM NEW.privacy_notice_url
                       OR OLD.controller IS DISTINCT FROM NEW.controller
                       OR OLD.retention_days IS DISTINCT FROM NEW.retention_days)
    EXECUTE FUNCTION admit_notice_version_bump();

-- Every way in (the form, the import, the organisers) records the notice version in force; a
-- row that comes with its version (a restored backup) keeps it. Names schema-qualified: a
-- restore runs with an empty search_path.
CREATE FUNCTION admit_notice_version_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.notice_version IS NULL THEN
        SELECT e.privacy_notice_version INTO NEW.notice_version
        FROM public.events e WHERE e.id = NEW.event_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER registrations_notice_version BEFORE INSERT ON registrations
    FOR EACH ROW EXECUTE FUNCTION admit_notice_version_record();

CREATE FUNCTION admit_mail_retention() RETURNS interval LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '30 days' $$;
CREATE FUNCTION admit_audit_retention() RETURNS interval LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '2 years' $$;

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    admin_id integer REFERENCES admins ON DELETE SET NULL, -- NULL: the operator's shell
    actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 254), -- admin's email, or 'shell'
    action text NOT NULL CHECK (action ~ '^[a-z_.]{1,64}$'),
    event_id integer,           -- no foreign key: the log outlives what it names
    registration_id integer,
    detail text NOT NULL DEFAULT '' CHECK (length(detail) <= 200), -- counts, never names
    client text NOT NULL DEFAULT '' CHECK (length(client) <= 64)   -- address, or '' (shell)
);
CREATE INDEX audit_log_at ON audit_log (at);

-- One audit row. p_admin_id NULL: the operator's shell.
CREATE FUNCTION admit_audit(p_admin_id integer, p_action text, p_event_id integer,
                            p_registration_id integer, p_detail text, p_client text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO audit_log (admin_id, actor, action, event_id, registration_id, detail, client)
    VALUES (p_admin_id,
            coalesce((SELECT email FROM admins WHERE id = p_admin_id), 'shell'),
            p_action, p_event_id, p_registration_id, coalesce(p_detail, ''),
            coalesce(p_client, ''))
$$;

-- Anonymises registrations in place; returns how many were anonymised now (those anonymised
-- already are left alone). The attendee's messages in the outbox go (they hold the address;
-- a mailer sending one meanwhile finds it gone when it finishes), and so do the cached ticket
-- images; what editing kept (migration 13's change log values, address changes) goes through
-- admit_edit_forget. Marking the attendee as told of the row's state keeps the mail trigger of migration 4
-- from queueing a message to the erased address.
CREATE FUNCTION admit_anonymise(p_ids integer[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    WITH done AS (
        UPDATE registrations r
        SET given_name = 'Anonymised', family_name = '#' || r.id,
            email = 'anonymised-' || r.id || '@invalid', organisation = '', dietary = '',
            accessibility = '', token = 'anonymised-' || replace(gen_random_uuid()::text, '-', ''),
            anonymised_at = now()
        WHERE r.id = ANY (p_ids) AND r.anonymised_at IS NULL
        RETURNING r.id, r.status, r.reissue)
    INSERT INTO mail_notified AS n (registration_id, status, reissue)
    SELECT id, status, reissue FROM done
    ON CONFLICT (registration_id) DO UPDATE SET status = EXCLUDED.status,
                                                reissue = EXCLUDED.reissue;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    PERFORM admit_edit_forget(id) FROM unnest(p_ids) AS id;
    DELETE FROM mail_outbox WHERE registration_id = ANY (p_ids);
    DELETE FROM ticket_images WHERE registration_id = ANY (p_ids);
    RETURN v_count;
END $$;

-- Erasure on request of registrations: those of events not yet ended are cancelled first (the
-- seat goes to the waiting list, the QR code is refused at once), then all are anonymised.
-- Returns how many were anonymised now.
CREATE FUNCTION admit_erase_ids(p_ids integer[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_token text;
BEGIN
    FOR v_token IN
        SELECT r.token FROM registrations r JOIN events e ON e.id = r.event_id
        WHERE r.id = ANY (p_ids) AND r.status <> 'cancelled' AND e.ends_at > now()
        ORDER BY r.id
    LOOP
        PERFORM admit_cancel(v_token);
    END LOOP;
    RETURN admit_anonymise(p_ids);
END $$;

-- Erases one registration of an event the admin may see (p_admin_id NULL: the shell, every
-- event). outcome 'erased', 'already' (anonymised before) or 'not_found'.
CREATE FUNCTION admit_erase_registration(p_admin_id integer, p_slug text,
                                         p_registration_id integer, p_client text,
                                         OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    v_event integer;
    v_done timestamptz;
BEGIN
    SELECT e.id, r.anonymised_at INTO v_event, v_done
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = p_registration_id AND e.slug = p_slug
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id));
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF v_done IS NOT NULL THEN
        outcome := 'already';
        RETURN;
    END IF;
    PERFORM admit_erase_ids(ARRAY[p_registration_id]);
    PERFORM admit_audit(p_admin_id, 'erase.registration', v_event, p_registration_id, '',
                        p_client);
    outcome := 'erased';
END $$;

-- Erases every registration with this email address in the events the admin may see (NULL:
-- all), and the "send my ticket again" messages to it. Returns the erased registrations as a
-- JSON array of {"event": slug, "registration_id": id} (empty: nobody).
-- A change log's items ([{"field", "label", "old", "new"}], migration 13) with every old or new
-- value equal to p_email (in any case) replaced by "(erased)".
CREATE FUNCTION admit_changes_redact(p_changes jsonb, p_email text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_agg(
        CASE WHEN lower(i->>'new') = lower(p_email) OR lower(i->>'old') = lower(p_email)
             THEN i || jsonb_build_object(
                 'old', CASE WHEN lower(i->>'old') = lower(p_email) THEN '(erased)'
                             ELSE i->>'old' END,
                 'new', CASE WHEN lower(i->>'new') = lower(p_email) THEN '(erased)'
                             ELSE i->>'new' END)
             ELSE i END ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(coalesce(p_changes, '[]'::jsonb)) WITH ORDINALITY AS x(i, n)
$$;

CREATE FUNCTION admit_erase_email(p_admin_id integer, p_email text, p_client text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_ids integer[];
    v_out json;
BEGIN
    SELECT coalesce(array_agg(r.id ORDER BY r.id), '{}'),
           coalesce(json_agg(json_build_object('event', e.slug, 'registration_id', r.id)
                             ORDER BY r.id), '[]'::json)
    INTO v_ids, v_out
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE lower(r.email) = lower(p_email) AND r.anonymised_at IS NULL
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id));
    PERFORM admit_erase_ids(v_ids);
    DELETE FROM mail_outbox WHERE kind = 'resend' AND lower(recipient) = lower(p_email);
    -- An address only asked for in an edit (its link not followed) is the person's data, not
    -- the registration's: the request and its message go, the registration stays as it is.
    DELETE FROM mail_outbox o USING registrations r, events e
    WHERE o.kind = 'email_confirm' AND lower(o.recipient) = lower(p_email)
      AND r.id = o.registration_id AND e.id = r.event_id
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id));
    DELETE FROM email_changes c USING registrations r, events e
    WHERE lower(c.new_email) = lower(p_email) AND r.id = c.registration_id AND e.id = r.event_id
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id));
    -- The change log and the summaries of the edits that asked for it: the address redacted.
    UPDATE registration_changes c SET changes = admit_changes_redact(c.changes, p_email)
    FROM registrations r, events e
    WHERE r.id = c.registration_id AND e.id = r.event_id
      AND admit_changes_redact(c.changes, p_email) <> c.changes
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id));
    UPDATE mail_outbox o
    SET details = jsonb_set(o.details, '{changes}', admit_changes_redact(o.details->'changes',
                                                                         p_email))
    FROM registrations r, events e
    WHERE o.kind = 'changed' AND r.id = o.registration_id AND e.id = r.event_id
      AND admit_changes_redact(o.details->'changes', p_email) <> o.details->'changes'
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id));
    PERFORM admit_audit(p_admin_id, 'erase.email', r.event_id, r.id, '', p_client)
    FROM registrations r WHERE r.id = ANY (v_ids);
    RETURN v_out;
END $$;

-- The retention work due now, each on its own schedule; returns what was (p_dry_run: what
-- would be) done, as counts in a JSON object. Idempotent: a second run finds nothing to do.
-- A dry run does the same work in a subtransaction and rolls it back.
CREATE FUNCTION admit_purge(p_dry_run boolean) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v json;
BEGIN
    BEGIN
        v := admit_purge_now();
        IF p_dry_run THEN
            RAISE EXCEPTION 'dry run' USING ERRCODE = 'P0004';
        END IF;
    EXCEPTION WHEN assert_failure THEN
        NULL; -- the variables keep their values; the work is rolled back
    END;
    RETURN v;
END $$;

CREATE FUNCTION admit_purge_now() RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_notes integer;
    v_anonymised integer;
    v_mail integer;
    v_devices integer;
    v_throttle integer;
    v_sessions integer;
    v_resend integer;
    v_audit integer;
BEGIN
    UPDATE registrations r SET dietary = '', accessibility = ''
    FROM events e
    WHERE e.id = r.event_id AND e.ends_at < now() AND (r.dietary <> '' OR r.accessibility <> '');
    GET DIAGNOSTICS v_notes = ROW_COUNT;
    v_anonymised := admit_anonymise(ARRAY(
        SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id
        WHERE r.anonymised_at IS NULL
          AND e.ends_at + make_interval(days => e.retention_days) < now()));
    DELETE FROM mail_outbox
    WHERE state IN ('sent', 'failed', 'superseded')
      AND coalesce(finished_at, created_at) < now() - admit_mail_retention();
    GET DIAGNOSTICS v_mail = ROW_COUNT;
    DELETE FROM devices d USING events e
    WHERE e.id = d.event_id AND e.ends_at + make_interval(days => e.retention_days) < now();
    GET DIAGNOSTICS v_devices = ROW_COUNT;
    DELETE FROM admin_login_throttle t
    WHERE t.last_failure_at < now() - (admit_login_rule(t.kind)).window_;
    GET DIAGNOSTICS v_throttle = ROW_COUNT;
    DELETE FROM admin_sessions
    WHERE expires_at < now() OR last_seen_at < now() - admit_admin_session_idle();
    GET DIAGNOSTICS v_sessions = ROW_COUNT;
    DELETE FROM resend_requests WHERE requested_at < now() - interval '1 hour';
    GET DIAGNOSTICS v_resend = ROW_COUNT;
    DELETE FROM audit_log WHERE at < now() - admit_audit_retention();
    GET DIAGNOSTICS v_audit = ROW_COUNT;
    RETURN json_build_object(
        'notes_cleared', v_notes, 'registrations_anonymised', v_anonymised,
        'messages_deleted', v_mail, 'devices_deleted', v_devices,
        'login_throttle_deleted', v_throttle, 'sessions_deleted', v_sessions,
        'resend_requests_deleted', v_resend, 'audit_entries_deleted', v_audit);
END $$;

-- Sets an event's retention and privacy notice (admit event create --retention-days,
-- --privacy-notice, --controller); NULL leaves a setting as it is. outcome 'set' or
-- 'not_found'.
CREATE FUNCTION admit_event_privacy(p_slug text, p_days integer, p_url text, p_controller text)
RETURNS text LANGUAGE sql AS $$
    WITH e AS (UPDATE events SET retention_days = coalesce(p_days, retention_days),
                                 privacy_notice_url = coalesce(p_url, privacy_notice_url),
                                 controller = coalesce(p_controller, controller)
               WHERE slug = p_slug RETURNING id)
    SELECT CASE WHEN EXISTS (SELECT 1 FROM e) THEN 'set' ELSE 'not_found' END
$$;

-- admit_event_json of migration 1, with the retention for the privacy notice: retention_days
-- and retention_until (the local date the registrations are anonymised).
CREATE OR REPLACE FUNCTION admit_event_json(e events) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', e.id, 'slug', e.slug, 'name', e.name, 'description', e.description,
        'venue', e.venue, 'venue_address', e.venue_address, 'organiser', e.organiser,
        'contact_email', e.contact_email, 'time_zone', e.time_zone,
        'dates', admit_date_range(e.starts_at, e.ends_at, e.time_zone),
        'starts', to_char(e.starts_at AT TIME ZONE e.time_zone, 'FMDay FMDD FMMonth YYYY, HH24:MI'),
        'ends', to_char(e.ends_at AT TIME ZONE e.time_zone, 'FMDay FMDD FMMonth YYYY, HH24:MI'),
        'starts_iso', to_char(e.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'opens', to_char(e.registration_opens_at AT TIME ZONE e.time_zone,
                         'FMDay FMDD FMMonth YYYY, HH24:MI'),
        'closes', to_char(coalesce(e.registration_closes_at, e.starts_at) AT TIME ZONE e.time_zone,
                          'FMDay FMDD FMMonth YYYY, HH24:MI'),
        'state', admit_registration_state(e),
        'capacity', e.capacity,
        'free_seats', (SELECT coalesce(sum(free), 0) FROM event_seats s WHERE s.event_id = e.id),
        'waitlist', e.waitlist,
        'lists', coalesce((SELECT json_agg(json_build_object(
                               'id', l.id, 'name', l.name,
                               'day', to_char(l.day, 'FMDay FMDD FMMonth')) ORDER BY l.position)
                           FROM checkin_lists l WHERE l.event_id = e.id), '[]'::json),
        'retention_days', e.retention_days,
        'privacy_notice_url', e.privacy_notice_url, 'controller', e.controller,
        'privacy_notice_version', e.privacy_notice_version,
        'retention_until', to_char((e.ends_at + make_interval(days => e.retention_days))
                                   AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY'))
$$;

-- admit_admin_event_save_edits of migration 13 with the event's retention and privacy notice
-- (the organisers' form): NULL leaves a setting as it is (for a new event: 90 days, no link, no
-- controller). The functions before stay, for the release before this one.
CREATE FUNCTION admit_admin_event_save_privacy(
    p_admin_id integer, p_slug text, p_new_slug text, p_name text, p_description text,
    p_venue text, p_venue_address text, p_organiser text, p_contact_email text,
    p_time_zone text, p_starts text, p_ends text, p_opens text, p_closes text,
    p_capacity integer, p_waitlist boolean, p_list_ids integer[], p_list_names text[],
    p_list_days date[], p_edits_close text, p_retention_days integer,
    p_privacy_notice_url text, p_controller text, OUT outcome text, OUT slug text,
    OUT field text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_retention_days NOT BETWEEN 0 AND 3650 THEN
        outcome := 'invalid';
        field := 'retention_days';
        message := 'Enter a whole number of days from 0 to 3650';
        RETURN;
    END IF;
    IF p_privacy_notice_url <> '' AND (p_privacy_notice_url !~ '^https?://[^[:space:]]+$'
                                       OR length(p_privacy_notice_url) > 500) THEN
        outcome := 'invalid';
        field := 'privacy_notice_url';
        message := 'Enter the whole address of the privacy notice, starting with https://';
        RETURN;
    END IF;
    SELECT s.outcome, s.slug, s.field, s.message INTO outcome, slug, field, message
    FROM admit_admin_event_save_edits(p_admin_id, p_slug, p_new_slug, p_name, p_description,
                                      p_venue, p_venue_address, p_organiser, p_contact_email,
                                      p_time_zone, p_starts, p_ends, p_opens, p_closes,
                                      p_capacity, p_waitlist, p_list_ids, p_list_names,
                                      p_list_days, p_edits_close) s;
    IF outcome IN ('created', 'updated') THEN
        PERFORM admit_event_privacy(admit_admin_event_save_privacy.slug, p_retention_days,
                                    p_privacy_notice_url, p_controller);
    END IF;
END $$;

-- What an erasure would erase, for its confirmation page: the registrations not yet anonymised
-- of registration p_registration_id of event p_slug, or else of address p_email, in the events
-- the admin may see. A JSON array of {event, event_name, registration_id, name, email, status},
-- empty when there is nothing to erase.
CREATE FUNCTION admit_erase_preview(p_admin_id integer, p_slug text, p_registration_id integer,
                                    p_email text)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'event', e.slug, 'event_name', e.name, 'registration_id', r.id,
               'name', r.given_name || ' ' || r.family_name, 'email', r.email,
               'status', r.status) ORDER BY e.starts_at, r.id), '[]'::json)
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.anonymised_at IS NULL
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, e.id))
      AND CASE WHEN p_registration_id IS NOT NULL
               THEN r.id = p_registration_id AND e.slug = p_slug
               ELSE lower(r.email) = lower(p_email) END
$$;

-- Everything held about the people of registrations p_ids (GDPR Art. 15 and 20), as the JSON
-- an attendee downloads from their ticket page and an organiser produces by email (admit
-- access): per registration its event, the registration as stored, its lists, its check-ins
-- and scans, and the messages sent about it. Times in UTC (admit_api_time). NULL when p_ids
-- names no registration.
CREATE FUNCTION admit_access_json(p_ids integer[]) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN count(*) > 0 THEN json_build_object(
        'about', 'Everything this registration system holds about you, per registration. '
                 || 'Ask the organisers (event.contact_email) to correct or erase it.',
        'generated_at', admit_api_time(now()),
        'registrations', json_agg(json_build_object(
            'event', json_build_object(
                'name', e.name, 'slug', e.slug, 'starts_at', admit_api_time(e.starts_at),
                'ends_at', admit_api_time(e.ends_at), 'organiser', e.organiser,
                'contact_email', e.contact_email, 'controller', e.controller,
                'privacy_notice_url', e.privacy_notice_url, 'retention_days', e.retention_days,
                'anonymised_after', admit_api_time(e.ends_at
                                                   + make_interval(days => e.retention_days))),
            'registration', json_build_object(
                'id', r.id, 'status', r.status, 'given_name', r.given_name,
                'family_name', r.family_name, 'email', r.email, 'organisation', r.organisation,
                'organisation_type', r.organisation_type, 'country', r.country,
                'dietary', r.dietary, 'accessibility', r.accessibility,
                'consent_at', admit_api_time(r.consent_at), 'notice_version', r.notice_version,
                'source', r.source,
                'ticket_version', r.reissue, 'created_at', admit_api_time(r.created_at),
                'confirmed_at', admit_api_time(r.confirmed_at),
                'cancelled_at', admit_api_time(r.cancelled_at)),
            'lists', coalesce((SELECT json_agg(l.name ORDER BY l.position)
                               FROM registration_lists rl JOIN checkin_lists l ON l.id = rl.list_id
                               WHERE rl.registration_id = r.id), '[]'::json),
            'check_ins', coalesce((SELECT json_agg(json_build_object(
                                       'list', l.name, 'first_at', admit_api_time(a.first_at),
                                       'gate', a.first_gate, 'inside', a.inside)
                                       ORDER BY a.first_at)
                                   FROM admissions a JOIN checkin_lists l ON l.id = a.list_id
                                   WHERE a.registration_id = r.id), '[]'::json),
            'scans', coalesce((SELECT json_agg(json_build_object(
                                   'scanned_at', admit_api_time(s.scanned_at), 'list', l.name,
                                   'direction', s.direction, 'verdict', s.verdict,
                                   'gate', s.gate) ORDER BY s.scanned_at, s.id)
                               FROM scans s LEFT JOIN checkin_lists l ON l.id = s.list_id
                               WHERE s.registration_id = r.id), '[]'::json),
            'emails', coalesce((SELECT json_agg(json_build_object(
                                    'kind', o.kind, 'to', o.recipient, 'state', o.state,
                                    'queued_at', admit_api_time(o.created_at),
                                    'finished_at', admit_api_time(o.finished_at))
                                    ORDER BY o.id)
                                FROM mail_outbox o WHERE o.registration_id = r.id), '[]'::json))
            ORDER BY e.starts_at, r.id)) END
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = ANY (p_ids)
$$;

-- What an organiser (p_admin_id; NULL: the shell) may produce for a person by email: their
-- registrations in the events the organiser may see. Recorded in the audit log. NULL: none.
CREATE FUNCTION admit_access_email(p_admin_id integer, p_email text, p_client text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_ids integer[];
BEGIN
    SELECT array_agg(r.id) INTO v_ids
    FROM registrations r
    WHERE lower(r.email) = lower(p_email) AND r.anonymised_at IS NULL
      AND (p_admin_id IS NULL OR admit_admin_may(p_admin_id, r.event_id));
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM admit_audit(p_admin_id, 'access.email', r.event_id, r.id, '', p_client)
    FROM registrations r WHERE r.id = ANY (v_ids);
    RETURN admit_access_json(v_ids);
END $$;

-- The audit log as all-events organisers see it (others: NULL), newest first, at most p_limit
-- entries (NULL: all). A JSON array of {id, at, actor, action, event, registration_id, detail,
-- client}; times in UTC.
CREATE FUNCTION admit_audit_list(p_admin_id integer, p_limit integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM admins WHERE id = p_admin_id AND all_events) THEN
        coalesce((SELECT json_agg(json_build_object(
                      'id', a.id, 'at', admit_api_time(a.at), 'actor', a.actor,
                      'action', a.action, 'event', coalesce(e.slug, ''),
                      'registration_id', a.registration_id, 'detail', a.detail,
                      'client', a.client) ORDER BY a.id DESC)
                  FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT p_limit) a
                  LEFT JOIN events e ON e.id = a.event_id), '[]'::json) END
$$;

-- Nothing is ever sent to an anonymised address: an organiser's later action on an anonymised
-- registration (a cancellation after the event, a reissue) would otherwise queue a message to
-- anonymised-N@invalid. The WHEN clause keeps the trigger off every other insert.
CREATE FUNCTION admit_mail_skip_anonymised() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END $$;
CREATE TRIGGER mail_outbox_skip_anonymised BEFORE INSERT ON mail_outbox
    FOR EACH ROW WHEN (NEW.recipient LIKE 'anonymised-%@invalid')
    EXECUTE FUNCTION admit_mail_skip_anonymised();

-- An erased registration keeps no personal data, and an edit must not put any back: the
-- organisers' edit (which has no deadline) answers 'erased' for it. Migration 13's function is
-- wrapped under its own name, as migration 13 wrapped admit_mail_payload.
ALTER FUNCTION admit_registration_edit(text, integer, text, integer, integer, text, text, text,
                                       text, organisation_type, text, text, text, integer[], text)
    RENAME TO admit_registration_edit_before_014;
CREATE FUNCTION admit_registration_edit(
    p_token text, p_admin_id integer, p_slug text, p_registration_id integer, p_version integer,
    p_given_name text, p_family_name text, p_email text, p_organisation text,
    p_organisation_type organisation_type, p_country text, p_dietary text, p_accessibility text,
    p_list_ids integer[], p_confirm_token text,
    OUT outcome text, OUT registration_id integer, OUT token text, OUT version integer,
    OUT changes jsonb, OUT email_pending boolean)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_admin_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM registrations r JOIN events e ON e.id = r.event_id
            WHERE r.id = p_registration_id AND e.slug = p_slug AND r.anonymised_at IS NOT NULL
              AND admit_admin_may(p_admin_id, e.id)) THEN
        outcome := 'erased';
        registration_id := p_registration_id;
        email_pending := false;
        RETURN;
    END IF;
    SELECT * INTO outcome, registration_id, token, version, changes, email_pending
    FROM admit_registration_edit_before_014(p_token, p_admin_id, p_slug, p_registration_id,
        p_version, p_given_name, p_family_name, p_email, p_organisation, p_organisation_type,
        p_country, p_dietary, p_accessibility, p_list_ids, p_confirm_token);
END $$;
