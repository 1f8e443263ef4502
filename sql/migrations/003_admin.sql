-- Migration 3: the organisers' area. Administrators and what they may see, browser sessions,
-- login throttling, and the organisers' actions on registrations (cancel, reissue, promote,
-- check in by name) and events (create, edit), each one SQL function: one round trip, one
-- transaction, so that later migrations can hang more work (emails) on the same transaction.
--
-- Permission model: an administrator either has all_events (every event, and may create new
-- ones) or is limited to the events listed in admin_events. Every event-scoped query filters on
-- admit_admin_may(admin, event), so an event the administrator may not see does not exist for
-- them: its pages and exports answer 404, exactly as an unknown slug.

CREATE TABLE admins (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    -- libsodium crypto_pwhash_str (argon2id, parameters inside the string).
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    all_events boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX admins_email ON admins (lower(email));

CREATE TABLE admin_events (
    admin_id integer NOT NULL REFERENCES admins ON DELETE CASCADE,
    event_id integer NOT NULL REFERENCES events ON DELETE CASCADE,
    PRIMARY KEY (admin_id, event_id)
);

-- Browser sessions. Only the SHA-256 of the session id is stored: a copy of this table (a
-- backup, a replica) lets nobody in.
CREATE TABLE admin_sessions (
    id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    admin_id integer NOT NULL REFERENCES admins ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL -- absolute end, whatever the activity
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

-- Failed logins, per account (the lower-cased email, whether or not such an admin exists, so
-- that throttling reveals nothing) and per client address.
CREATE TABLE admin_login_throttle (
    kind text NOT NULL CHECK (kind IN ('account', 'ip')),
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 254),
    failures integer NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Who checked someone in by hand (NULL for scanner scans, and once the admin is removed: the
-- scan's reason keeps their email).
ALTER TABLE scans ADD COLUMN admin_id integer REFERENCES admins ON DELETE SET NULL;

-- Session lifetime: idle timeout and absolute lifetime.
CREATE FUNCTION admit_admin_session_idle() RETURNS interval LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '2 hours' $$;
CREATE FUNCTION admit_admin_session_lifetime() RETURNS interval LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '12 hours' $$;

-- Throttling rules, in one place. After `free` failures in a row, each further attempt must
-- wait 1, 2, 4, ... seconds after the last failure, up to `cap`; failures older than `window`
-- are forgotten. Per account the cap is a minute, so the real user always gets in after at
-- most a minute whatever an attacker does; per address it is harsher (more free attempts, for
-- offices behind one address, but a cap of ten minutes), since one address trying many
-- accounts is an attack.
CREATE FUNCTION admit_login_rule(p_kind text, OUT free integer, OUT cap integer,
                                 OUT window_ interval)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_kind WHEN 'account' THEN 3 ELSE 10 END,
           CASE p_kind WHEN 'account' THEN 60 ELSE 600 END,
           CASE p_kind WHEN 'account' THEN interval '15 minutes' ELSE interval '1 hour' END
$$;

-- Seconds to wait before the next attempt for (kind, key): 0 when it may go ahead.
CREATE FUNCTION admit_login_wait(p_kind text, p_key text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(greatest(0, ceil(extract(epoch FROM
               t.last_failure_at
               + make_interval(secs => least(r.cap, 2 ^ least(t.failures - r.free - 1, 30)))
               - now())))::integer), 0)
    FROM admin_login_throttle t, admit_login_rule(p_kind) r
    WHERE t.kind = p_kind AND t.key = p_key AND t.failures > r.free
      AND t.last_failure_at > now() - r.window_
$$;

-- Before checking a password: how long the client must still wait (0: go ahead), and the
-- admin's id and hash (NULL when there is no such admin: the caller then verifies against a
-- dummy hash, so that the answer takes as long).
CREATE FUNCTION admit_admin_login_check(p_email text, p_ip text, OUT retry_after integer,
                                        OUT admin_id integer, OUT password_hash text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    retry_after := greatest(admit_login_wait('account', lower(p_email)),
                            admit_login_wait('ip', p_ip));
    SELECT a.id, a.password_hash INTO admin_id, password_hash
    FROM admins a WHERE lower(a.email) = lower(p_email);
END $$;

-- After checking a password. A success resets the account's failures, ends the session the
-- browser came with (if any) and opens a new one; a failure counts against the account and
-- the address. Expired sessions are swept on the way.
CREATE FUNCTION admit_admin_login_finish(p_email text, p_ip text, p_admin_id integer,
                                         p_ok boolean, p_session_hash bytea,
                                         p_old_session_hash bytea)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_ok THEN
        DELETE FROM admin_login_throttle WHERE kind = 'account' AND key = lower(p_email);
        DELETE FROM admin_sessions WHERE id_hash = p_old_session_hash;
        DELETE FROM admin_sessions WHERE expires_at < now()
            OR last_seen_at < now() - admit_admin_session_idle();
        INSERT INTO admin_sessions (id_hash, admin_id, expires_at)
        VALUES (p_session_hash, p_admin_id, now() + admit_admin_session_lifetime());
        RETURN;
    END IF;
    INSERT INTO admin_login_throttle AS t (kind, key, failures, last_failure_at)
    VALUES ('account', lower(p_email), 1, now()), ('ip', p_ip, 1, now())
    ON CONFLICT (kind, key) DO UPDATE
    SET failures = CASE WHEN t.last_failure_at < now() - (admit_login_rule(t.kind)).window_
                        THEN 1 ELSE t.failures + 1 END,
        last_failure_at = now();
END $$;

-- The admin behind a session, or no row when the session is unknown, idle too long or past
-- its lifetime (then it is deleted). Marks it as seen (at most once a minute, to spare writes).
CREATE FUNCTION admit_admin_session_touch(p_hash bytea, OUT admin_id integer, OUT email text,
                                          OUT all_events boolean)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
    v_session admin_sessions%ROWTYPE;
BEGIN
    SELECT * INTO v_session FROM admin_sessions WHERE id_hash = p_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_session.expires_at <= now()
       OR v_session.last_seen_at <= now() - admit_admin_session_idle() THEN
        DELETE FROM admin_sessions WHERE id_hash = p_hash;
        RETURN;
    END IF;
    IF v_session.last_seen_at < now() - interval '1 minute' THEN
        UPDATE admin_sessions SET last_seen_at = now() WHERE id_hash = p_hash;
    END IF;
    RETURN QUERY SELECT a.id, a.email, a.all_events FROM admins a WHERE a.id = v_session.admin_id;
END $$;

-- The ILIKE pattern that finds text anywhere, with the wildcards of the text itself escaped.
CREATE FUNCTION admit_like_anywhere(p_text text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '%' || replace(replace(replace(p_text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- Whether an admin may see and act on an event.
CREATE FUNCTION admit_admin_may(p_admin_id integer, p_event_id integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM admins a
                   WHERE a.id = p_admin_id
                     AND (a.all_events OR EXISTS (SELECT 1 FROM admin_events ae
                                                  WHERE ae.admin_id = a.id
                                                    AND ae.event_id = p_event_id)))
$$;

-- Per check-in list of an event, as a JSON array: registered (confirmed and on the list),
-- checked in (admitted) and currently inside. For the overview and the live door view.
CREATE FUNCTION admit_admin_list_stats(p_event_id integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
        'id', l.id, 'name', l.name, 'day', to_char(l.day, 'FMDay FMDD FMMonth'),
        'registered', (SELECT count(*) FROM registration_lists rl
                       JOIN registrations r ON r.id = rl.registration_id
                       WHERE rl.list_id = l.id AND r.status = 'confirmed'),
        'checked_in', (SELECT count(*) FROM admissions a WHERE a.list_id = l.id),
        'inside', (SELECT count(*) FROM admissions a WHERE a.list_id = l.id AND a.inside))
        ORDER BY l.position), '[]'::json)
    FROM checkin_lists l WHERE l.event_id = p_event_id
$$;

-- admit admin add: outcome 'added', 'exists' (this email is taken) or 'unknown_event' (with
-- the first slug that names no event). No slugs: the admin may see every event.
CREATE FUNCTION admit_admin_add(p_email text, p_hash text, p_slugs text[], OUT outcome text,
                                OUT detail text)
LANGUAGE plpgsql AS $$
DECLARE
    v_id integer;
BEGIN
    SELECT s INTO detail FROM unnest(p_slugs) AS s
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.slug = s) LIMIT 1;
    IF FOUND THEN
        outcome := 'unknown_event';
        RETURN;
    END IF;
    INSERT INTO admins (email, password_hash, all_events)
    VALUES (p_email, p_hash, cardinality(p_slugs) = 0)
    ON CONFLICT DO NOTHING RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        outcome := 'exists';
        RETURN;
    END IF;
    INSERT INTO admin_events (admin_id, event_id)
    SELECT v_id, e.id FROM events e WHERE e.slug = ANY (p_slugs);
    outcome := 'added';
END $$;

-- admit admin password: a new password ends every session of that admin. Returns whether the
-- admin exists.
CREATE FUNCTION admit_admin_set_password(p_email text, p_hash text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_id integer;
BEGIN
    UPDATE admins SET password_hash = p_hash WHERE lower(email) = lower(p_email)
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    DELETE FROM admin_sessions WHERE admin_id = v_id;
    RETURN true;
END $$;

-- Cancels a registration on an organiser's behalf: the same rules as the attendee's own
-- cancellation (admit_cancel: the seat goes to the first person on the waiting list).
-- outcome: 'cancelled', 'already_cancelled', 'not_found' (no such registration in an event
-- this admin may see). promoted_id: who got the seat, if anyone.
CREATE FUNCTION admit_admin_cancel(p_admin_id integer, p_slug text, p_registration_id integer,
                                   OUT outcome text, OUT promoted_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_token text;
BEGIN
    SELECT r.token INTO v_token
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = p_registration_id AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id);
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT c.outcome, c.promoted_id INTO outcome, promoted_id FROM admit_cancel(v_token) c;
END $$;

-- Reissues a ticket: the reissue counter goes up (the old QR code is refused by the check-in
-- API at once, and by offline scanners once they sync: the change_seq trigger of migration 2
-- marks the registration as changed) and the access token is replaced (the old ticket link
-- stops working too), so a leaked ticket is dead whichever way it leaked. The QR image cache
-- is keyed on the counter: the next view renders the new code. outcome: 'reissued',
-- 'cancelled' (nothing to reissue), 'limit' (the counter is exhausted), 'not_found'.
CREATE FUNCTION admit_admin_reissue(p_admin_id integer, p_slug text, p_registration_id integer,
                                    p_new_token text, OUT outcome text, OUT reissue integer,
                                    OUT token text)
LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
BEGIN
    SELECT r.* INTO v_reg
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = p_registration_id AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id)
    FOR UPDATE OF r;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF v_reg.status = 'cancelled' THEN
        outcome := 'cancelled';
        RETURN;
    END IF;
    IF v_reg.reissue >= 32767 THEN
        outcome := 'limit';
        RETURN;
    END IF;
    UPDATE registrations r SET reissue = r.reissue + 1, token = p_new_token
    WHERE r.id = v_reg.id RETURNING r.reissue, r.token INTO reissue, token;
    DELETE FROM ticket_images WHERE registration_id = v_reg.id;
    outcome := 'reissued';
END $$;

-- Moves someone from the waiting list to a confirmed seat, out of turn if the organiser wants,
-- but only into a free seat: capacity is never exceeded. outcome: 'promoted', 'full' (no free
-- seat: raise the capacity first), 'not_waitlisted', 'not_found'.
CREATE FUNCTION admit_admin_promote(p_admin_id integer, p_slug text, p_registration_id integer,
                                    OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
BEGIN
    SELECT r.* INTO v_reg
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = p_registration_id AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id);
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    -- The event lock orders this against cancellations that promote the next in line.
    PERFORM pg_advisory_xact_lock(v_reg.event_id);
    SELECT * INTO v_reg FROM registrations WHERE id = v_reg.id FOR UPDATE;
    IF v_reg.status <> 'waitlisted' THEN
        outcome := 'not_waitlisted';
        RETURN;
    END IF;
    IF NOT admit_seat_take(v_reg.event_id) THEN
        outcome := 'full';
        RETURN;
    END IF;
    UPDATE registrations SET status = 'confirmed', confirmed_at = now() WHERE id = v_reg.id;
    outcome := 'promoted';
END $$;

-- Checks someone in by name at the door (their phone died): a scan of source 'manual' without
-- a device, by this admin, and the admission with the door's rule (the first accepted entry
-- per ticket and list wins: the admissions primary key). With p_force, someone who is not on
-- the list is let in all the same, and the scan is flagged for review. Refused attempts are
-- logged too. outcome: 'checked_in', 'already_checked_in' (first_at and first_gate say when
-- and where), 'not_on_list', 'waitlisted', 'cancelled', 'not_found' (registration or list).
CREATE FUNCTION admit_admin_checkin(p_admin_id integer, p_slug text, p_registration_id integer,
                                    p_list_id integer, p_force boolean, p_nonce text,
                                    OUT outcome text, OUT first_at timestamptz,
                                    OUT first_gate text)
LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
    v_on_list boolean;
    v_scan bigint;
    v_verdict text;
    v_reason text;
BEGIN
    SELECT r.* INTO v_reg
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = p_registration_id AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id);
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM checkin_lists
                                WHERE id = p_list_id AND event_id = v_reg.event_id) THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT 'by ' || a.email INTO v_reason FROM admins a WHERE a.id = p_admin_id;
    v_on_list := EXISTS (SELECT 1 FROM registration_lists
                         WHERE registration_id = v_reg.id AND list_id = p_list_id);
    v_verdict := CASE
        WHEN v_reg.status = 'cancelled' THEN 'revoked'
        WHEN v_reg.status = 'waitlisted' THEN 'waitlisted'
        WHEN NOT v_on_list AND NOT p_force THEN 'not_on_list'
        ELSE 'valid' END;
    IF v_verdict = 'valid' AND NOT v_on_list THEN
        v_reason := 'forced ' || v_reason || ': not on this list';
    END IF;
    INSERT INTO scans (event_id, registration_id, list_id, device_id, gate, direction, scanned_at,
                       verdict, reason, flagged, client_nonce, source, admin_id)
    VALUES (v_reg.event_id, v_reg.id, p_list_id, NULL, 'manual', 'entry', now(), v_verdict,
            v_reason, v_verdict = 'valid' AND NOT v_on_list, p_nonce, 'manual', p_admin_id)
    RETURNING id INTO v_scan;
    IF v_verdict <> 'valid' THEN
        outcome := CASE v_verdict WHEN 'revoked' THEN 'cancelled' ELSE v_verdict END;
        RETURN;
    END IF;
    INSERT INTO admissions (registration_id, list_id, event_id, first_scan_id, first_at,
                            first_gate)
    VALUES (v_reg.id, p_list_id, v_reg.event_id, v_scan, now(), 'manual')
    ON CONFLICT (registration_id, list_id) DO NOTHING;
    IF FOUND THEN
        outcome := 'checked_in';
        first_at := now();
        first_gate := 'manual';
        RETURN;
    END IF;
    UPDATE scans SET verdict = 'already_checked_in', flagged = false WHERE id = v_scan;
    SELECT a.first_at, a.first_gate INTO first_at, first_gate
    FROM admissions a WHERE a.registration_id = v_reg.id AND a.list_id = p_list_id;
    outcome := 'already_checked_in';
END $$;

-- Raised inside admit_admin_event_save for a field the organiser must correct; the HINT names
-- the field.
CREATE FUNCTION admit_admin_field_error(p_field text, p_message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'AD010', MESSAGE = p_message, HINT = p_field;
END $$;

-- A local time "YYYY-MM-DD HH:MM" in a time zone, or the field error when it is no real time
-- (30 February). NULL stays NULL.
CREATE FUNCTION admit_admin_local_time(p_text text, p_time_zone text, p_field text)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_text IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN p_text::timestamp AT TIME ZONE p_time_zone;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM admit_admin_field_error(p_field, 'This is not a real date and time');
    RETURN NULL;
END $$;

-- Creates (p_slug NULL) or updates an event with its check-in lists, as the organisers' form
-- sends it (already checked for shape by the server). Lists come as parallel arrays: an id
-- (NULL for a new list), a name and a day (NULL: no day); an existing list sent without a name
-- is removed, which is refused while anyone is registered for it or was scanned on it. A
-- capacity change goes through admit_seats_resize (never below the confirmed registrations).
-- Creating needs an admin with all_events. outcome: 'created' or 'updated' (slug: the event's),
-- 'invalid' (field and message: what to correct; nothing was changed), 'slug_taken',
-- 'not_found'.
CREATE FUNCTION admit_admin_event_save(
    p_admin_id integer, p_slug text, p_new_slug text, p_name text, p_description text,
    p_venue text, p_venue_address text, p_organiser text, p_contact_email text,
    p_time_zone text, p_starts text, p_ends text, p_opens text, p_closes text,
    p_capacity integer, p_waitlist boolean, p_list_ids integer[], p_list_names text[],
    p_list_days date[], OUT outcome text, OUT slug text, OUT field text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
    v_event events%ROWTYPE;
    v_starts timestamptz;
    v_ends timestamptz;
    v_opens timestamptz;
    v_closes timestamptz;
    v_confirmed integer;
    v_item record;
    v_position integer := 0;
BEGIN
    IF p_slug IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM admins WHERE id = p_admin_id AND all_events) THEN
            outcome := 'not_found';
            RETURN;
        END IF;
    ELSE
        SELECT e.* INTO v_event FROM events e
        WHERE e.slug = p_slug AND admit_admin_may(p_admin_id, e.id) FOR UPDATE;
        IF NOT FOUND THEN
            outcome := 'not_found';
            RETURN;
        END IF;
    END IF;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
            PERFORM admit_admin_field_error('time_zone',
                'Choose a time zone from the list, like Europe/Brussels');
        END IF;
        v_starts := admit_admin_local_time(p_starts, p_time_zone, 'starts');
        v_ends := admit_admin_local_time(p_ends, p_time_zone, 'ends');
        v_opens := admit_admin_local_time(p_opens, p_time_zone, 'opens');
        v_closes := admit_admin_local_time(p_closes, p_time_zone, 'closes');
        IF v_ends <= v_starts THEN
            PERFORM admit_admin_field_error('ends', 'The event must end after it starts');
        END IF;
        IF v_opens IS NOT NULL AND v_closes IS NOT NULL AND v_closes <= v_opens THEN
            PERFORM admit_admin_field_error('closes',
                'Registration must close after it opens');
        END IF;
        IF p_slug IS NULL THEN
            IF EXISTS (SELECT 1 FROM events e WHERE e.slug = p_new_slug) THEN
                outcome := 'slug_taken';
                RETURN;
            END IF;
            v_event.id := admit_event_create(p_new_slug, p_name, p_venue, p_venue_address,
                                             p_time_zone, v_starts, v_ends, v_opens, v_closes,
                                             p_capacity, '{}'::text[], '{}'::date[],
                                             p_description, p_organiser, p_contact_email);
            outcome := 'created';
        ELSE
            UPDATE events e SET name = p_name, description = p_description, venue = p_venue,
                venue_address = p_venue_address, organiser = p_organiser,
                contact_email = p_contact_email, time_zone = p_time_zone, starts_at = v_starts,
                ends_at = v_ends, registration_opens_at = v_opens,
                registration_closes_at = v_closes, waitlist = p_waitlist
            WHERE e.id = v_event.id;
            IF p_capacity <> v_event.capacity THEN
                SELECT count(*) INTO v_confirmed FROM registrations
                WHERE event_id = v_event.id AND status = 'confirmed';
                IF p_capacity < v_confirmed THEN
                    PERFORM admit_admin_field_error('capacity', format(
                        '%s registrations are confirmed: the capacity cannot go below that '
                        '(cancel registrations first)', v_confirmed));
                END IF;
                PERFORM admit_seats_resize(v_event.id, p_capacity);
            END IF;
            outcome := 'updated';
        END IF;
        UPDATE events SET waitlist = p_waitlist WHERE id = v_event.id;

        -- Removed lists first (their names may be reused), then renamed and new ones.
        FOR v_item IN
            SELECT l.id, l.name FROM checkin_lists l
            JOIN unnest(p_list_ids, p_list_names) AS n(id, name) ON n.id = l.id
            WHERE l.event_id = v_event.id AND coalesce(n.name, '') = ''
        LOOP
            IF EXISTS (SELECT 1 FROM registration_lists WHERE list_id = v_item.id)
               OR EXISTS (SELECT 1 FROM scans WHERE list_id = v_item.id) THEN
                PERFORM admit_admin_field_error('lists', format(
                    'The list "%s" has registrations or scans: it cannot be removed',
                    v_item.name));
            END IF;
            DELETE FROM checkin_lists WHERE id = v_item.id;
        END LOOP;
        FOR v_item IN
            SELECT n.id, n.name, n.day, n.ord
            FROM unnest(p_list_ids, p_list_names, p_list_days) WITH ORDINALITY AS n(id, name, day, ord)
            WHERE coalesce(n.name, '') <> '' ORDER BY n.ord
        LOOP
            IF v_item.id IS NULL THEN
                INSERT INTO checkin_lists (event_id, name, day, position)
                VALUES (v_event.id, v_item.name, v_item.day, v_position);
            ELSE
                UPDATE checkin_lists SET name = v_item.name, day = v_item.day,
                    position = v_position
                WHERE id = v_item.id AND event_id = v_event.id;
                IF NOT FOUND THEN
                    PERFORM admit_admin_field_error('lists',
                        'A list of this form no longer exists: reload the page');
                END IF;
            END IF;
            v_position := v_position + 1;
        END LOOP;
    EXCEPTION
        WHEN SQLSTATE 'AD010' THEN
            GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, field = PG_EXCEPTION_HINT;
            outcome := 'invalid';
            RETURN;
        WHEN unique_violation THEN
            outcome := 'invalid';
            field := 'lists';
            message := 'Two check-in lists have the same name';
            RETURN;
    END;
    SELECT e.slug INTO slug FROM events e WHERE e.id = v_event.id;
END $$;

-- One invited guest of `admit import`, inside the importer's transaction (the importer rolls
-- everything back on the first problem). Confirmed at once, with a seat (capacity still holds),
-- source 'import'; the organiser who imports vouches for the guest's consent. p_list_names: the
-- check-in lists by name; empty: every list of the event. outcome: 'imported', 'email_taken'
-- (already registered, or twice in the file), 'bad_list' (detail: the unknown name), 'full'.
CREATE FUNCTION admit_import_guest(
    p_event_id integer, p_token text, p_form_nonce text, p_given_name text, p_family_name text,
    p_email text, p_organisation text, p_organisation_type organisation_type, p_country text,
    p_dietary text, p_accessibility text, p_list_names text[], OUT outcome text,
    OUT detail text)
LANGUAGE plpgsql AS $$
DECLARE
    v_id integer;
BEGIN
    SELECT n INTO detail FROM unnest(p_list_names) AS n
    WHERE NOT EXISTS (SELECT 1 FROM checkin_lists l WHERE l.event_id = p_event_id AND l.name = n)
    LIMIT 1;
    IF FOUND THEN
        outcome := 'bad_list';
        RETURN;
    END IF;
    INSERT INTO registrations (event_id, token, form_nonce, status, given_name, family_name, email,
                               organisation, organisation_type, country, dietary, accessibility,
                               consent_at, source, confirmed_at)
    VALUES (p_event_id, p_token, p_form_nonce, 'confirmed', p_given_name, p_family_name, p_email,
            p_organisation, p_organisation_type, p_country, p_dietary, p_accessibility, now(),
            'import', now())
    ON CONFLICT DO NOTHING RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        outcome := 'email_taken';
        RETURN;
    END IF;
    IF NOT admit_seat_take(p_event_id) THEN
        outcome := 'full';
        RETURN;
    END IF;
    INSERT INTO registration_lists (registration_id, list_id)
    SELECT v_id, l.id FROM checkin_lists l
    WHERE l.event_id = p_event_id AND (cardinality(p_list_names) = 0 OR l.name = ANY (p_list_names));
    outcome := 'imported';
END $$;
