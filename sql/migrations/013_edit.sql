-- Migration 13: editing a registration (issue 16), by its attendee until the event's edit
-- deadline and by its organisers at any time, every change recorded.
--
-- Additive only (live-safe): a nullable column on events, a version column with a default on
-- registrations, two new tables, two new mail kinds and a column of mail_outbox, new functions;
-- admit_mail_payload is wrapped, not rewritten (the one before this migration is renamed and
-- called), so a later migration can wrap it again.
--
-- What a door sees of an edit follows migration 2's change log: the names and the organisation
-- are columns its registrations_change trigger watches, and a list added or removed goes
-- through registration_lists_change; either stamps the registration's change_xid, so online
-- scans see the edit at once (they read the tables) and offline doors at their next sync. An
-- edit never touches the reissue counter: the QR code holds only the event id, the attendee id
-- and that counter, none of which an edit changes, so the printed ticket stays valid.

-- NULL: attendees may edit until registration closes (or, without a closing time, until the
-- event starts): see admit_edit_deadline.
ALTER TABLE events ADD COLUMN edits_close_at timestamptz;

-- Optimistic concurrency: every saved edit raises it; a form carries the version it showed.
ALTER TABLE registrations ADD COLUMN version integer NOT NULL DEFAULT 1;

-- Every change of a registration's details: who (the attendee, or which organiser: the id while
-- the admin exists, the email always), when, and per field the old and the new value
-- ([{"field", "label", "old", "new"}], lists as their names joined by ", ").
CREATE TABLE registration_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    changed_at timestamptz NOT NULL DEFAULT now(),
    by_admin_id integer REFERENCES admins ON DELETE SET NULL,
    by_admin_email text,  -- NULL: the attendee
    changes jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'array')
);
CREATE INDEX registration_changes_registration ON registration_changes (registration_id, id);

-- A new email address waiting for its confirmation link (sent to it) to be followed. Only the
-- SHA-256 of the link's token is kept here; the token itself travels in the outbox message.
CREATE TABLE email_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    new_email text NOT NULL CHECK (length(new_email) BETWEEN 3 AND 254),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    requested_at timestamptz NOT NULL DEFAULT now(),
    by_admin_id integer REFERENCES admins ON DELETE SET NULL,
    by_admin_email text,
    expires_at timestamptz NOT NULL,
    confirmed_at timestamptz,
    superseded_at timestamptz
);
CREATE INDEX email_changes_registration ON email_changes (registration_id);

-- 'changed': the summary of an edit, to the address the registration had before it;
-- 'email_confirm': the confirmation link, to the new address. Their details (the changes, the
-- link's token and the new address) are in mail_outbox.details.
ALTER TYPE mail_kind ADD VALUE IF NOT EXISTS 'changed';
ALTER TYPE mail_kind ADD VALUE IF NOT EXISTS 'email_confirm';
ALTER TABLE mail_outbox ADD COLUMN details jsonb;

-- How long a confirmation link for a new email address works.
CREATE FUNCTION admit_email_change_lifetime() RETURNS interval LANGUAGE sql IMMUTABLE
AS $$ SELECT interval '48 hours' $$;

-- Until when the attendee may edit their registration: the organiser's setting, else when
-- registration closes, else when the event starts.
CREATE FUNCTION admit_edit_deadline(e events) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(e.edits_close_at, e.registration_closes_at, e.starts_at)
$$;

-- The names of the lists of a registration as one line ("Day 1, Day 2"), in the event's order.
CREATE FUNCTION admit_registration_list_names(p_registration_id integer) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(l.name, ', ' ORDER BY l.position, l.id), '')
    FROM registration_lists rl JOIN checkin_lists l ON l.id = rl.list_id
    WHERE rl.registration_id = p_registration_id
$$;

-- One change of the summary: {"field", "label", "old", "new"}, or nothing when old = new.
CREATE FUNCTION admit_change_item(p_field text, p_label text, p_old text, p_new text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_old IS DISTINCT FROM p_new THEN
        jsonb_build_array(jsonb_build_object('field', p_field, 'label', p_label,
                                             'old', p_old, 'new', p_new))
    ELSE '[]'::jsonb END
$$;

-- Records a change of registration p_reg (by p_admin_id, NULL for the attendee) and queues the
-- summary to p_recipient. Nothing when p_changes is empty.
CREATE FUNCTION admit_change_record(p_reg integer, p_admin_id integer, p_changes jsonb,
                                    p_recipient text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_array_length(p_changes) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO registration_changes (registration_id, by_admin_id, by_admin_email, changes)
    VALUES (p_reg, p_admin_id, (SELECT email FROM admins WHERE id = p_admin_id), p_changes);
    INSERT INTO mail_outbox (kind, registration_id, recipient, details)
    VALUES ('changed', p_reg, p_recipient,
            jsonb_build_object('changes', p_changes, 'by_organiser', p_admin_id IS NOT NULL));
END $$;

-- Whether registration r already holds these values: its fields, exactly these lists, and as
-- its email either this address or, waiting for its confirmation, a request for it.
CREATE FUNCTION admit_registration_holds(
    r registrations, p_given_name text, p_family_name text, p_email text, p_organisation text,
    p_organisation_type organisation_type, p_country text, p_dietary text, p_accessibility text,
    p_list_ids integer[])
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT r.given_name = p_given_name AND r.family_name = p_family_name
       AND r.organisation = p_organisation AND r.organisation_type = p_organisation_type
       AND r.country = p_country AND r.dietary = p_dietary AND r.accessibility = p_accessibility
       AND (r.email = p_email
            OR EXISTS (SELECT 1 FROM email_changes c
                       WHERE c.registration_id = r.id AND c.new_email = p_email
                         AND c.confirmed_at IS NULL AND c.superseded_at IS NULL
                         AND c.expires_at > now()))
       AND ARRAY(SELECT rl.list_id FROM registration_lists rl
                 WHERE rl.registration_id = r.id ORDER BY rl.list_id)
           = ARRAY(SELECT DISTINCT l FROM unnest(p_list_ids) AS l ORDER BY l)
$$;

-- Saves an edit of a registration: by its attendee (p_token; refused after the deadline) or by
-- an organiser (p_admin_id, p_slug, p_registration_id; within the events they may see). One
-- transaction. The fields are those of the registration form, already validated by the server
-- (admit_registration_fields); p_version is the version the form showed.
-- A new email address is not stored: a confirmation link (token p_confirm_token) goes to it,
-- and admit_email_change_confirm applies it. Lists: the event's capacity counts registrations,
-- not lists, so adding or removing a list needs no seat (issue 17 adds per-list capacity: its
-- check belongs here); a removed list is deleted, which the door sync reports.
-- outcome: 'saved' (changes: what changed, email_pending: a confirmation link was sent),
-- 'unchanged', 'stale' (the registration changed since the form was shown, and not into what
-- the form asks for, as it does when the same form comes twice: nothing saved),
-- 'closed' (past the deadline), 'cancelled', 'bad_list', 'no_list', 'not_found'.
CREATE FUNCTION admit_registration_edit(
    p_token text, p_admin_id integer, p_slug text, p_registration_id integer, p_version integer,
    p_given_name text, p_family_name text, p_email text, p_organisation text,
    p_organisation_type organisation_type, p_country text, p_dietary text, p_accessibility text,
    p_list_ids integer[], p_confirm_token text,
    OUT outcome text, OUT registration_id integer, OUT token text, OUT version integer,
    OUT changes jsonb, OUT email_pending boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
    v_event events%ROWTYPE;
    v_known integer;
    v_all integer;
    v_old_lists text;
    v_new_lists text;
BEGIN
    email_pending := false;
    IF p_admin_id IS NULL THEN
        SELECT r.* INTO v_reg FROM registrations r WHERE r.token = p_token FOR UPDATE;
    ELSE
        SELECT r.* INTO v_reg FROM registrations r JOIN events e ON e.id = r.event_id
        WHERE r.id = p_registration_id AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id)
        FOR UPDATE OF r;
    END IF;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    registration_id := v_reg.id;
    token := v_reg.token;
    version := v_reg.version;
    SELECT * INTO v_event FROM events WHERE id = v_reg.event_id;
    IF v_reg.status = 'cancelled' THEN
        outcome := 'cancelled';
    ELSIF p_admin_id IS NULL AND now() >= admit_edit_deadline(v_event) THEN
        outcome := 'closed';
    ELSIF v_reg.version <> p_version THEN
        -- The same form sent again (a double click, a retry after a lost answer) finds what it
        -- asked for already there: answered as saved, recorded once.
        IF admit_registration_holds(v_reg, p_given_name, p_family_name, p_email, p_organisation,
                                    p_organisation_type, p_country, p_dietary, p_accessibility,
                                    p_list_ids) THEN
            outcome := 'saved';
            email_pending := p_email <> v_reg.email;
            changes := '[]'::jsonb;
        ELSE
            outcome := 'stale';
        END IF;
    END IF;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE id = ANY (p_list_ids)), count(*) INTO v_known, v_all
    FROM checkin_lists WHERE event_id = v_event.id;
    IF v_known <> cardinality(p_list_ids) THEN
        outcome := 'bad_list';
        RETURN;
    END IF;
    IF cardinality(p_list_ids) = 0 AND v_all > 0 THEN
        outcome := 'no_list';
        RETURN;
    END IF;
    -- An address that another registration of the event holds is not refused here: that would
    -- tell whoever holds a ticket link which addresses are registered (the registration form
    -- does not say it either). Its link goes out as any other, and confirming it is refused.

    v_old_lists := admit_registration_list_names(v_reg.id);
    DELETE FROM registration_lists rl
    WHERE rl.registration_id = v_reg.id AND rl.list_id <> ALL (p_list_ids);
    INSERT INTO registration_lists (registration_id, list_id)
    SELECT v_reg.id, l FROM unnest(p_list_ids) AS l ON CONFLICT DO NOTHING;
    v_new_lists := admit_registration_list_names(v_reg.id);

    changes := admit_change_item('given_name', 'Given name', v_reg.given_name, p_given_name)
        || admit_change_item('family_name', 'Family name', v_reg.family_name, p_family_name)
        || admit_change_item('organisation', 'Organisation', v_reg.organisation, p_organisation)
        || admit_change_item('organisation_type', 'Type of organisation',
                             v_reg.organisation_type::text, p_organisation_type::text)
        || admit_change_item('country', 'Country', v_reg.country::text, p_country)
        || admit_change_item('dietary', 'Dietary requirements', v_reg.dietary, p_dietary)
        || admit_change_item('accessibility', 'Accessibility needs', v_reg.accessibility,
                             p_accessibility)
        || admit_change_item('lists', 'Days and sessions', v_old_lists, v_new_lists);
    IF p_email <> v_reg.email THEN
        -- An earlier link that was not followed stops working: only the latest address counts.
        UPDATE email_changes SET superseded_at = now()
        WHERE email_changes.registration_id = v_reg.id
          AND confirmed_at IS NULL AND superseded_at IS NULL;
        INSERT INTO email_changes (registration_id, new_email, token_hash, by_admin_id,
                                   by_admin_email, expires_at)
        VALUES (v_reg.id, p_email, sha256(convert_to(p_confirm_token, 'UTF8')), p_admin_id,
                (SELECT email FROM admins WHERE id = p_admin_id),
                now() + admit_email_change_lifetime());
        INSERT INTO mail_outbox (kind, registration_id, recipient, details)
        VALUES ('email_confirm', v_reg.id, p_email,
                jsonb_build_object('confirm_token', p_confirm_token, 'new_email', p_email,
                                   'old_email', v_reg.email,
                                   'by_organiser', p_admin_id IS NOT NULL));
        changes := changes || jsonb_build_array(jsonb_build_object(
            'field', 'email_requested', 'label', 'Email address (waiting for confirmation)',
            'old', v_reg.email, 'new', p_email));
        email_pending := true;
    END IF;
    IF jsonb_array_length(changes) = 0 THEN
        outcome := 'unchanged';
        RETURN;
    END IF;
    UPDATE registrations r
    SET given_name = p_given_name, family_name = p_family_name, organisation = p_organisation,
        organisation_type = p_organisation_type, country = p_country, dietary = p_dietary,
        accessibility = p_accessibility, version = r.version + 1
    WHERE r.id = v_reg.id
    RETURNING r.version INTO version;
    PERFORM admit_change_record(v_reg.id, p_admin_id, changes, v_reg.email);
    outcome := 'saved';
END $$;

-- Follows a confirmation link: the registration's email becomes the new address, the change is
-- recorded (by whoever asked for it) and its summary goes to the new address. Works once.
-- outcome: 'confirmed' (token: the registration's access token), 'used' (followed before),
-- 'expired', 'superseded' (a newer address was asked for since), 'cancelled', 'email_taken'
-- (meanwhile another live registration of the event took the address), 'not_found'.
CREATE FUNCTION admit_email_change_confirm(p_confirm_token text, OUT outcome text,
                                           OUT token text, OUT new_email text)
LANGUAGE plpgsql AS $$
DECLARE
    v_change email_changes%ROWTYPE;
    v_reg registrations%ROWTYPE;
BEGIN
    SELECT * INTO v_change FROM email_changes
    WHERE token_hash = sha256(convert_to(p_confirm_token, 'UTF8')) FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT * INTO v_reg FROM registrations WHERE id = v_change.registration_id FOR UPDATE;
    token := v_reg.token;
    new_email := v_change.new_email;
    IF v_change.confirmed_at IS NOT NULL THEN
        outcome := 'used';
    ELSIF v_change.superseded_at IS NOT NULL THEN
        outcome := 'superseded';
    ELSIF v_change.expires_at <= now() THEN
        outcome := 'expired';
    ELSIF v_reg.status = 'cancelled' THEN
        outcome := 'cancelled';
    ELSIF EXISTS (SELECT 1 FROM registrations o WHERE o.event_id = v_reg.event_id
                  AND o.id <> v_reg.id AND o.status <> 'cancelled'
                  AND lower(o.email) = lower(v_change.new_email)) THEN
        outcome := 'email_taken';
    END IF;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;
    UPDATE email_changes SET confirmed_at = now() WHERE id = v_change.id;
    UPDATE registrations r SET email = v_change.new_email, version = r.version + 1
    WHERE r.id = v_reg.id;
    PERFORM admit_change_record(
        v_reg.id, v_change.by_admin_id,
        admit_change_item('email', 'Email address', v_reg.email, v_change.new_email),
        v_change.new_email);
    outcome := 'confirmed';
END $$;

-- The change log of a registration, newest first, as JSON for the organisers' pages:
-- [{"at", "by" (the organiser's email, or "the attendee"), "by_attendee", "changes"}].
CREATE FUNCTION admit_registration_change_log(p_registration_id integer, p_time_zone text)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'at', to_char(c.changed_at AT TIME ZONE p_time_zone, 'FMDD FMMonth YYYY, HH24:MI:SS'),
               'by', coalesce(c.by_admin_email, 'the attendee'),
               'by_attendee', c.by_admin_email IS NULL,
               'changes', c.changes) ORDER BY c.id DESC), '[]'::json)
    FROM registration_changes c WHERE c.registration_id = p_registration_id
$$;

-- The mail payload of migration 4, plus the message's details (the change summary, the
-- confirmation link's token).
ALTER FUNCTION admit_mail_payload(mail_outbox) RENAME TO admit_mail_payload_before_013;
CREATE FUNCTION admit_mail_payload(o mail_outbox) RETURNS json LANGUAGE sql AS $$
    SELECT (admit_mail_payload_before_013(o)::jsonb
            || jsonb_build_object('details', o.details))::json
$$;

-- Saves the organisers' event form (admit_admin_event_save, migration 3) and the attendees'
-- edit deadline with it (p_edits_close: local "YYYY-MM-DD HH:MM", NULL for the default). The
-- same outcomes; 'invalid' for a deadline that is no real time or after the event ends.
CREATE FUNCTION admit_admin_event_save_edits(
    p_admin_id integer, p_slug text, p_new_slug text, p_name text, p_description text,
    p_venue text, p_venue_address text, p_organiser text, p_contact_email text,
    p_time_zone text, p_starts text, p_ends text, p_opens text, p_closes text,
    p_capacity integer, p_waitlist boolean, p_list_ids integer[], p_list_names text[],
    p_list_days date[], p_edits_close text,
    OUT outcome text, OUT slug text, OUT field text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
    v_event events%ROWTYPE;
    v_close timestamptz;
BEGIN
    -- In a block of its own: a deadline refused after the event was saved undoes the save.
    BEGIN
        SELECT s.outcome, s.slug, s.field, s.message INTO outcome, slug, field, message
        FROM admit_admin_event_save(p_admin_id, p_slug, p_new_slug, p_name, p_description,
                                    p_venue, p_venue_address, p_organiser, p_contact_email,
                                    p_time_zone, p_starts, p_ends, p_opens, p_closes,
                                    p_capacity, p_waitlist, p_list_ids, p_list_names,
                                    p_list_days) s;
        IF outcome NOT IN ('created', 'updated') THEN
            RETURN;
        END IF;
        SELECT * INTO v_event FROM events e WHERE e.slug = admit_admin_event_save_edits.slug;
        v_close := admit_admin_local_time(p_edits_close, v_event.time_zone, 'edits_close');
        IF v_close > v_event.ends_at THEN
            PERFORM admit_admin_field_error('edits_close',
                'Choose a time before the event ends, or leave it empty');
        END IF;
        UPDATE events SET edits_close_at = v_close WHERE id = v_event.id;
    EXCEPTION WHEN SQLSTATE 'AD010' THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, field = PG_EXCEPTION_HINT;
        outcome := 'invalid';
        slug := NULL;
    END;
END $$;

-- For erasure and the end of retention (the privacy rules of DESIGN.md): what editing kept of
-- a registration's personal data goes, what the organisers' history needs without it stays.
-- The change log keeps when, who and which fields, without the old and new values; address
-- requests are deleted; queued edit messages lose their details (a message not sent yet is
-- superseded: it would tell what is no longer held). Call it wherever a registration is
-- anonymised in place.
CREATE FUNCTION admit_edit_forget(p_registration_id integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registration_changes c
    SET changes = (SELECT coalesce(jsonb_agg(item - 'old' - 'new'), '[]'::jsonb)
                   FROM jsonb_array_elements(c.changes) AS item)
    WHERE c.registration_id = p_registration_id;
    DELETE FROM email_changes WHERE registration_id = p_registration_id;
    UPDATE mail_outbox
    SET state = CASE WHEN state = 'pending' THEN 'superseded'::mail_state ELSE state END,
        finished_at = CASE WHEN state = 'pending' THEN now() ELSE finished_at END,
        details = NULL
    WHERE registration_id = p_registration_id AND details IS NOT NULL;
END $$;
