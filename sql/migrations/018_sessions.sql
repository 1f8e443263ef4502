-- Migration 18: sessions with seats (issue 17).
--
-- A check-in list (a day, the dinner, a workshop) may have its own capacity (NULL: unlimited, as
-- before) and its own waiting list, and optional start and end times.
--
-- Places are taken exactly as the event's seats are (migration 1): a list's free places are
-- spread over list_seats shards; a registration takes one from a shard nobody holds (SKIP
-- LOCKED), and only when it sees none takes the list's advisory lock (the two-key form, class
-- 17, so it never collides with the event's one-key lock) shared and looks again, waiting.
-- Everything that frees or adds places (a cancellation, a list removed by an edit, a capacity
-- raised) takes that lock exclusively and gives the places to the list's waiting list first, in
-- order of arrival, in the same transaction (admit_list_promote).
--
-- Who holds a place: a row of registration_lists on a list with a capacity, of a registration
-- that is not cancelled. Who waits: a row of registration_list_waits. A waiting person is not in
-- registration_lists at all, so the door (online admit_checkin_rule, offline the sync snapshot),
-- the reports' "registered" and the certificates see only confirmed places without any change.
-- Invariant: holders + sum(list_seats.free) = checkin_lists.capacity.
--
-- The rule lives in triggers of registration_lists and registrations, so that every path that
-- chooses or drops a list or cancels a registration (the form, an edit, the organisers' actions,
-- imports) keeps it without being edited: a BEFORE INSERT trigger takes the place or turns the
-- row into a wait; an AFTER DELETE trigger gives a place back; a status change of the
-- registration gives all its places back (cancelled) or takes places for its waits (confirmed
-- from the event's waiting list). A registration on the event's waiting list takes no session
-- place: it waits for its sessions too, and tries for them when it gets its event seat.
--
-- Safe live (README, "Upgrading"). Additive only: nullable columns, new tables, new functions
-- and triggers, a new mail kind, and a wrapper of admit_registration_edit under its own name.

ALTER TABLE checkin_lists
    ADD COLUMN capacity integer CHECK (capacity IS NULL OR capacity BETWEEN 0 AND 1000000),
    ADD COLUMN starts_at timestamptz,
    ADD COLUMN ends_at timestamptz,
    ADD CONSTRAINT checkin_lists_times CHECK (starts_at IS NULL OR ends_at IS NULL
                                              OR ends_at > starts_at);

CREATE TABLE list_seats (
    list_id integer NOT NULL REFERENCES checkin_lists ON DELETE CASCADE,
    shard smallint NOT NULL,
    free integer NOT NULL CHECK (free >= 0),
    PRIMARY KEY (list_id, shard)
);

-- A session's waiting list, in order of arrival (id).
CREATE TABLE registration_list_waits (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    list_id integer NOT NULL REFERENCES checkin_lists ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (registration_id, list_id)
);
CREATE INDEX registration_list_waits_list ON registration_list_waits (list_id, id);

ALTER TYPE mail_kind ADD VALUE IF NOT EXISTS 'session_promoted';

-- The list's advisory lock: class 17 of the two-key form.
CREATE FUNCTION admit_list_lock(p_list_id integer) RETURNS void LANGUAGE sql AS
    'SELECT pg_advisory_xact_lock(17, p_list_id)';

-- Takes one free place of a list, or returns false when there is none: admit_seat_take
-- (migration 1) for list_seats, with the same fast and slow paths and the same reasoning.
CREATE FUNCTION admit_list_seat_take(p_list_id integer) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_shard smallint;
    v_start integer := floor(random() * admit_seat_shards());
BEGIN
    BEGIN
        SELECT shard INTO v_shard FROM list_seats
        WHERE list_id = p_list_id AND free > 0
        ORDER BY (shard - v_start + admit_seat_shards()) % admit_seat_shards()
        LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            UPDATE list_seats SET free = free - 1 WHERE list_id = p_list_id AND shard = v_shard;
            RETURN true;
        END IF;
        RAISE EXCEPTION 'no unlocked place' USING ERRCODE = 'AD001';
    EXCEPTION WHEN SQLSTATE 'AD001' THEN
        NULL;
    END;
    PERFORM pg_advisory_xact_lock_shared(17, p_list_id);
    LOOP
        SELECT shard INTO v_shard FROM list_seats
        WHERE list_id = p_list_id AND free > 0 ORDER BY shard LIMIT 1 FOR UPDATE;
        IF FOUND THEN
            UPDATE list_seats SET free = free - 1 WHERE list_id = p_list_id AND shard = v_shard;
            RETURN true;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM list_seats WHERE list_id = p_list_id AND free > 0) THEN
            RETURN false;
        END IF;
    END LOOP;
END $$;

-- Gives up to p_places places of a list to its waiting list, first come first served, skipping
-- people who wait for the event itself; each promoted person gets a 'session_promoted' email.
-- Returns how many were promoted. The caller holds the list's lock exclusively.
CREATE FUNCTION admit_list_promote(p_list_id integer, p_places integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_wait record;
    v_done integer := 0;
BEGIN
    FOR v_wait IN
        SELECT w.id, w.registration_id, r.email, l.name
        FROM registration_list_waits w
        JOIN registrations r ON r.id = w.registration_id
        JOIN checkin_lists l ON l.id = w.list_id
        WHERE w.list_id = p_list_id AND r.status = 'confirmed'
        ORDER BY w.id LIMIT greatest(p_places, 0) FOR UPDATE OF w
    LOOP
        DELETE FROM registration_list_waits WHERE id = v_wait.id;
        PERFORM set_config('admit.list_place_held', 'on', true);
        INSERT INTO registration_lists (registration_id, list_id)
        VALUES (v_wait.registration_id, p_list_id) ON CONFLICT DO NOTHING;
        PERFORM set_config('admit.list_place_held', '', true);
        INSERT INTO mail_outbox (kind, registration_id, recipient, details)
        VALUES ('session_promoted', v_wait.registration_id, v_wait.email,
                jsonb_build_object('session', v_wait.name));
        v_done := v_done + 1;
    END LOOP;
    RETURN v_done;
END $$;

-- A place of a list freed: to the first person waiting, else back to the pool. Takes the
-- list's lock exclusively.
CREATE FUNCTION admit_list_seat_release(p_list_id integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_shard integer := floor(random() * admit_seat_shards());
BEGIN
    PERFORM admit_list_lock(p_list_id);
    IF admit_list_promote(p_list_id, 1) = 0 THEN
        UPDATE list_seats SET free = free + 1 WHERE list_id = p_list_id AND shard = v_shard;
    END IF;
END $$;

-- Sets a list's capacity (NULL: unlimited) and spreads its free places over the shards again;
-- places added go to the waiting list first. Refuses (22023) a capacity below the places held.
CREATE FUNCTION admit_list_seats_resize(p_list_id integer, p_capacity integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_free integer;
    v_shards integer := admit_seat_shards();
BEGIN
    PERFORM admit_list_lock(p_list_id);
    PERFORM 1 FROM list_seats WHERE list_id = p_list_id FOR UPDATE;
    UPDATE checkin_lists SET capacity = p_capacity WHERE id = p_list_id;
    DELETE FROM list_seats WHERE list_id = p_list_id;
    IF p_capacity IS NULL THEN
        PERFORM admit_list_promote(p_list_id, 2147483647);
        RETURN;
    END IF;
    SELECT p_capacity - count(*) INTO v_free
    FROM registration_lists rl JOIN registrations r ON r.id = rl.registration_id
    WHERE rl.list_id = p_list_id AND r.status <> 'cancelled';
    IF v_free < 0 THEN
        RAISE EXCEPTION 'capacity % is below the % places taken', p_capacity, p_capacity - v_free
            USING ERRCODE = '22023';
    END IF;
    v_free := v_free - admit_list_promote(p_list_id, v_free);
    INSERT INTO list_seats (list_id, shard, free)
    SELECT p_list_id, s, v_free / v_shards + CASE WHEN s < v_free % v_shards THEN 1 ELSE 0 END
    FROM generate_series(0, v_shards - 1) AS s;
END $$;

-- Whether two of these lists have times that overlap (both with a start and an end; a session
-- ending at 11:00 and one starting at 11:00 do not overlap).
CREATE FUNCTION admit_lists_overlap(p_list_ids integer[]) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM checkin_lists a JOIN checkin_lists b
          ON a.id < b.id AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        WHERE a.id = ANY (p_list_ids) AND b.id = ANY (p_list_ids)
          AND a.starts_at IS NOT NULL AND a.ends_at IS NOT NULL
          AND b.starts_at IS NOT NULL AND b.ends_at IS NOT NULL)
$$;

-- BEFORE INSERT on registration_lists: refuses a list overlapping one the registration holds or
-- waits for (SQLSTATE AD017; the form and the edit check first and say why), then takes a place
-- of a list with a capacity, or turns the row into a wait (the row is not inserted).
CREATE FUNCTION admit_registration_list_take() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_list checkin_lists%ROWTYPE;
BEGIN
    IF current_setting('admit.list_place_held', true) = 'on' THEN
        RETURN NEW;
    END IF;
    SELECT * INTO v_list FROM checkin_lists WHERE id = NEW.list_id;
    IF v_list.starts_at IS NOT NULL AND v_list.ends_at IS NOT NULL AND admit_lists_overlap(
            ARRAY(SELECT list_id FROM registration_lists WHERE registration_id = NEW.registration_id
                  UNION SELECT list_id FROM registration_list_waits
                  WHERE registration_id = NEW.registration_id) || NEW.list_id) THEN
        RAISE EXCEPTION 'list % overlaps a session of registration %', NEW.list_id,
            NEW.registration_id USING ERRCODE = 'AD017';
    END IF;
    IF v_list.capacity IS NULL THEN
        RETURN NEW;
    END IF;
    IF (SELECT status FROM registrations WHERE id = NEW.registration_id) = 'confirmed'
       AND admit_list_seat_take(NEW.list_id) THEN
        RETURN NEW;
    END IF;
    INSERT INTO registration_list_waits (registration_id, list_id)
    VALUES (NEW.registration_id, NEW.list_id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER registration_lists_take BEFORE INSERT ON registration_lists
    FOR EACH ROW EXECUTE FUNCTION admit_registration_list_take();

-- AFTER DELETE on registration_lists (an edit drops a session): the place of a live
-- registration goes to the next person waiting. A row deleted with its registration (erasure)
-- frees nothing: the registration is gone and its status unknown; admit_list_seats_resize
-- recounts.
CREATE FUNCTION admit_registration_list_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM checkin_lists WHERE id = OLD.list_id AND capacity IS NOT NULL)
       AND EXISTS (SELECT 1 FROM registrations WHERE id = OLD.registration_id
                   AND status <> 'cancelled') THEN
        PERFORM admit_list_seat_release(OLD.list_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER registration_lists_release AFTER DELETE ON registration_lists
    FOR EACH ROW EXECUTE FUNCTION admit_registration_list_release();

-- AFTER UPDATE OF status on registrations: a cancellation gives back every session place it
-- held (in list id order, the order registrations send their lists in, so that neither two
-- cancellations nor a cancellation and a registration lock lists in a cycle) and leaves its
-- session waiting lists; a registration promoted from the event's waiting list takes what
-- places are free for the sessions it waits for (none are free while someone confirmed waits).
CREATE FUNCTION admit_registration_sessions_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_list integer;
    v_wait record;
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        DELETE FROM registration_list_waits WHERE registration_id = NEW.id;
        FOR v_list IN
            SELECT rl.list_id FROM registration_lists rl JOIN checkin_lists l ON l.id = rl.list_id
            WHERE rl.registration_id = NEW.id AND l.capacity IS NOT NULL ORDER BY rl.list_id
        LOOP
            PERFORM admit_list_seat_release(v_list);
        END LOOP;
    ELSIF NEW.status = 'confirmed' AND OLD.status = 'waitlisted' THEN
        FOR v_wait IN
            SELECT id, list_id FROM registration_list_waits WHERE registration_id = NEW.id
            ORDER BY list_id
        LOOP
            IF admit_list_seat_take(v_wait.list_id) THEN
                DELETE FROM registration_list_waits WHERE id = v_wait.id;
                PERFORM set_config('admit.list_place_held', 'on', true);
                INSERT INTO registration_lists (registration_id, list_id)
                VALUES (NEW.id, v_wait.list_id) ON CONFLICT DO NOTHING;
                PERFORM set_config('admit.list_place_held', '', true);
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER registrations_sessions_follow AFTER UPDATE OF status ON registrations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION admit_registration_sessions_follow();

-- The sessions a registration waits for, in list order: names with their place in line.
CREATE FUNCTION admit_registration_waits(p_registration_id integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'name', l.name,
               'position', (SELECT count(*) FROM registration_list_waits o
                            WHERE o.list_id = w.list_id AND o.id <= w.id))
             ORDER BY l.position, l.id), '[]'::json)
    FROM registration_list_waits w JOIN checkin_lists l ON l.id = w.list_id
    WHERE w.registration_id = p_registration_id
$$;

-- An edit (admit_registration_edit, migrations 13 and 14) with sessions: lists whose times
-- overlap are refused ('overlap', nothing saved), and a session the edit drops is dropped from
-- its waiting list too (a held place is given back by registration_lists_release; a person
-- only waiting for it changes no registration_lists row, so the edit says 'unchanged'). Wrapped
-- under its own name, as migration 14 did.
ALTER FUNCTION admit_registration_edit(text, integer, text, integer, integer, text, text, text,
                                       text, organisation_type, text, text, text, integer[], text)
    RENAME TO admit_registration_edit_before_016;
CREATE FUNCTION admit_registration_edit(
    p_token text, p_admin_id integer, p_slug text, p_registration_id integer, p_version integer,
    p_given_name text, p_family_name text, p_email text, p_organisation text,
    p_organisation_type organisation_type, p_country text, p_dietary text, p_accessibility text,
    p_list_ids integer[], p_confirm_token text,
    OUT outcome text, OUT registration_id integer, OUT token text, OUT version integer,
    OUT changes jsonb, OUT email_pending boolean)
LANGUAGE plpgsql AS $$
BEGIN
    IF admit_lists_overlap(p_list_ids) THEN
        outcome := 'overlap';
        registration_id := p_registration_id;
        email_pending := false;
        RETURN;
    END IF;
    SELECT * INTO outcome, registration_id, token, version, changes, email_pending
    FROM admit_registration_edit_before_016(p_token, p_admin_id, p_slug, p_registration_id,
        p_version, p_given_name, p_family_name, p_email, p_organisation, p_organisation_type,
        p_country, p_dietary, p_accessibility, p_list_ids, p_confirm_token);
    IF outcome IN ('saved', 'unchanged') THEN
        DELETE FROM registration_list_waits w
        WHERE w.registration_id = admit_registration_edit.registration_id
          AND w.list_id <> ALL (p_list_ids);
    END IF;
END $$;

-- Sets a list's session settings: capacity (NULL: unlimited) and times (both or neither).
-- outcome: 'saved', 'not_found', 'below_taken' (fewer places than people holding one),
-- 'bad_times' (an end not after the start, or only one of them).
CREATE FUNCTION admit_list_session_set(p_list_id integer, p_capacity integer,
                                       p_starts_at timestamptz, p_ends_at timestamptz,
                                       OUT outcome text)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM checkin_lists WHERE id = p_list_id) THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF (p_starts_at IS NULL) <> (p_ends_at IS NULL) OR p_ends_at <= p_starts_at THEN
        outcome := 'bad_times';
        RETURN;
    END IF;
    BEGIN
        PERFORM admit_list_seats_resize(p_list_id, p_capacity);
    EXCEPTION WHEN SQLSTATE '22023' THEN
        outcome := 'below_taken';
        RETURN;
    END;
    UPDATE checkin_lists SET starts_at = p_starts_at, ends_at = p_ends_at WHERE id = p_list_id;
    outcome := 'saved';
END $$;

-- Per session: registered (holding a place), waiting, checked in, no-shows (registered, not
-- checked in), with its capacity; for the attendance report and its CSV.
CREATE FUNCTION admit_session_figures(p_event_id integer) RETURNS TABLE (
    list_id integer, name text, capacity integer, registered bigint, waiting bigint,
    checked_in bigint, no_shows bigint)
LANGUAGE sql STABLE AS $$
    SELECT l.id, l.name, l.capacity, h.registered, w.waiting, h.checked_in,
           h.registered - h.checked_in
    FROM checkin_lists l
    CROSS JOIN LATERAL (
        SELECT count(*) AS registered,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM admissions a WHERE a.registration_id = rl.registration_id
                     AND a.list_id = l.id)) AS checked_in
        FROM registration_lists rl JOIN registrations r ON r.id = rl.registration_id
        WHERE rl.list_id = l.id AND r.status = 'confirmed') h
    CROSS JOIN LATERAL (
        SELECT count(*) AS waiting FROM registration_list_waits rw
        JOIN registrations r ON r.id = rw.registration_id
        WHERE rw.list_id = l.id AND r.status <> 'cancelled') w
    WHERE l.event_id = p_event_id
    ORDER BY l.position, l.id
$$;

-- Saves the organisers' event form (admit_admin_event_save_privacy, migration 14) with each
-- list's session settings: p_list_caps (NULL: unlimited), p_list_starts and p_list_ends (local
-- "YYYY-MM-DD HH:MM" in the event's time zone, or NULL), parallel to the list names. NULL arrays
-- (a form without session settings): every list keeps its own. All or nothing: a capacity
-- below the places already taken, or times that are no real time or end before they start,
-- answer 'invalid' on field 'lists' and nothing of the form is saved.
CREATE FUNCTION admit_admin_event_save_sessions(
    p_admin_id integer, p_slug text, p_new_slug text, p_name text, p_description text,
    p_venue text, p_venue_address text, p_organiser text, p_contact_email text,
    p_time_zone text, p_starts text, p_ends text, p_opens text, p_closes text,
    p_capacity integer, p_waitlist boolean, p_list_ids integer[], p_list_names text[],
    p_list_days date[], p_edits_close text, p_retention_days integer,
    p_privacy_notice_url text, p_controller text, p_list_caps integer[], p_list_starts text[],
    p_list_ends text[], OUT outcome text, OUT slug text, OUT field text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
    v_row record;
    v_set text;
BEGIN
    BEGIN
        SELECT s.outcome, s.slug, s.field, s.message INTO outcome, slug, field, message
        FROM admit_admin_event_save_privacy(p_admin_id, p_slug, p_new_slug, p_name,
            p_description, p_venue, p_venue_address, p_organiser, p_contact_email, p_time_zone,
            p_starts, p_ends, p_opens, p_closes, p_capacity, p_waitlist, p_list_ids,
            p_list_names, p_list_days, p_edits_close, p_retention_days, p_privacy_notice_url,
            p_controller) s;
        IF outcome NOT IN ('created', 'updated') OR p_list_caps IS NULL THEN
            RETURN;
        END IF;
        FOR v_row IN
            SELECT l.id, n.cap, n.starts, n.ends, e.time_zone, n.name
            FROM unnest(p_list_names, p_list_caps, p_list_starts, p_list_ends)
                 AS n(name, cap, starts, ends)
            JOIN events e ON e.slug = admit_admin_event_save_sessions.slug
            JOIN checkin_lists l ON l.event_id = e.id AND l.name = n.name
            ORDER BY l.id
        LOOP
            v_set := admit_list_session_set(v_row.id, v_row.cap,
                admit_admin_local_time(v_row.starts, v_row.time_zone, 'lists'),
                admit_admin_local_time(v_row.ends, v_row.time_zone, 'lists'));
            IF v_set <> 'saved' THEN
                message := CASE v_set
                    WHEN 'below_taken' THEN format(
                        'More people already hold a place in "%s" than %s: raise its places',
                        v_row.name, v_row.cap)
                    ELSE format('The session "%s" must end after it starts', v_row.name) END;
                RAISE EXCEPTION USING ERRCODE = 'AD016', MESSAGE = message;
            END IF;
        END LOOP;
    EXCEPTION
        WHEN SQLSTATE 'AD016' THEN
            outcome := 'invalid';
            field := 'lists';
            message := SQLERRM;
        WHEN SQLSTATE 'AD010' THEN
            outcome := 'invalid';
            field := 'lists';
            message := 'Enter session times that exist, like 2027-10-29 14:00';
    END;
END $$;

-- Per check-in list, as migration 3's, plus its places ('' for no limit) and how many wait for
-- it: the organisers' overview shows a session's fill.
CREATE OR REPLACE FUNCTION admit_admin_list_stats(p_event_id integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
        'id', l.id, 'name', l.name, 'day', to_char(l.day, 'FMDay FMDD FMMonth'),
        'registered', (SELECT count(*) FROM registration_lists rl
                       JOIN registrations r ON r.id = rl.registration_id
                       WHERE rl.list_id = l.id AND r.status = 'confirmed'),
        'checked_in', (SELECT count(*) FROM admissions a WHERE a.list_id = l.id),
        'inside', (SELECT count(*) FROM admissions a WHERE a.list_id = l.id AND a.inside),
        'places', coalesce(l.capacity::text, ''),
        'waiting', (SELECT count(*) FROM registration_list_waits w
                    JOIN registrations r ON r.id = w.registration_id
                    WHERE w.list_id = l.id AND r.status <> 'cancelled'))
        ORDER BY l.position), '[]'::json)
    FROM checkin_lists l WHERE l.event_id = p_event_id
$$;
