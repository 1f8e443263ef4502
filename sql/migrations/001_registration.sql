-- Migration 1: events, their check-in lists, registrations and capacity.
--
-- Capacity without a hot row: an event's free seats are spread over event_seats rows (shards).
-- A registration takes a seat from a random shard that nobody else holds (SKIP LOCKED), so
-- concurrent registrations rarely touch the same row. Only when no free seat is visible does it
-- take the event's advisory lock and look again, waiting this time; cancellations take the same
-- lock before they promote from the waiting list or give a seat back. Invariant, checked by the
-- tests: confirmed registrations + sum(event_seats.free) = events.capacity.

CREATE TYPE registration_status AS ENUM ('confirmed', 'waitlisted', 'cancelled');
CREATE TYPE organisation_type AS ENUM ('industry', 'research', 'public_body', 'association', 'other');

CREATE TABLE events (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    venue text NOT NULL DEFAULT '',
    venue_address text NOT NULL DEFAULT '',
    time_zone text NOT NULL DEFAULT 'UTC',
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    registration_opens_at timestamptz,   -- NULL: open now
    registration_closes_at timestamptz,  -- NULL: until the event starts
    capacity integer NOT NULL CHECK (capacity BETWEEN 0 AND 1000000),
    waitlist boolean NOT NULL DEFAULT true,
    organiser text NOT NULL DEFAULT '',
    contact_email text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (registration_closes_at IS NULL OR registration_opens_at IS NULL
           OR registration_closes_at > registration_opens_at)
);

-- Check-in lists: "Day 1", "Day 2", "Cluster session". A registration is valid for the lists
-- the attendee chose; reports are per list (and so per day and per session).
CREATE TABLE checkin_lists (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id integer NOT NULL REFERENCES events ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    day date,                       -- the event day it belongs to, for per-day reports
    position smallint NOT NULL DEFAULT 0,
    UNIQUE (event_id, name)
);
CREATE INDEX checkin_lists_event ON checkin_lists (event_id, position);

CREATE TABLE event_seats (
    event_id integer NOT NULL REFERENCES events ON DELETE CASCADE,
    shard smallint NOT NULL,
    free integer NOT NULL CHECK (free >= 0),
    PRIMARY KEY (event_id, shard)
);

CREATE TABLE registrations (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the attendee id in tickets
    event_id integer NOT NULL REFERENCES events,
    token text NOT NULL UNIQUE CHECK (length(token) >= 22),  -- 128-bit access token
    form_nonce text NOT NULL CHECK (length(form_nonce) BETWEEN 16 AND 64),
    status registration_status NOT NULL,
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    organisation text NOT NULL DEFAULT '' CHECK (length(organisation) <= 200),
    organisation_type organisation_type NOT NULL,
    country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    dietary text NOT NULL DEFAULT '' CHECK (length(dietary) <= 500),
    accessibility text NOT NULL DEFAULT '' CHECK (length(accessibility) <= 500),
    consent_at timestamptz NOT NULL,
    reissue smallint NOT NULL DEFAULT 0 CHECK (reissue >= 0),
    source text NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'import', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    UNIQUE (event_id, form_nonce)
);
-- One live registration per person and event; after a cancellation they may register again.
CREATE UNIQUE INDEX registrations_email ON registrations (event_id, lower(email))
    WHERE status <> 'cancelled';
-- The waiting list, in order of arrival.
CREATE INDEX registrations_waitlist ON registrations (event_id, id) WHERE status = 'waitlisted';

CREATE TABLE registration_lists (
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    list_id integer NOT NULL REFERENCES checkin_lists ON DELETE CASCADE,
    PRIMARY KEY (registration_id, list_id)
);
CREATE INDEX registration_lists_list ON registration_lists (list_id);

-- Rendered QR codes, once per ticket version: a reissue changes the version and so the image.
CREATE TABLE ticket_images (
    registration_id integer PRIMARY KEY REFERENCES registrations ON DELETE CASCADE,
    reissue smallint NOT NULL,
    svg text NOT NULL,
    png bytea NOT NULL
);

-- How many shards an event's seats are spread over.
CREATE FUNCTION admit_seat_shards() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 16';

-- Creates an event with its lists and its seat shards. Lists are given as parallel arrays of
-- names and days (a NULL day for a list that is not tied to one day).
CREATE FUNCTION admit_event_create(
    p_slug text, p_name text, p_venue text, p_venue_address text, p_time_zone text,
    p_starts_at timestamptz, p_ends_at timestamptz, p_opens_at timestamptz,
    p_closes_at timestamptz, p_capacity integer, p_list_names text[], p_list_days date[],
    p_description text DEFAULT '', p_organiser text DEFAULT '', p_contact_email text DEFAULT '')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_id integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', p_time_zone USING ERRCODE = '22023';
    END IF;
    INSERT INTO events (slug, name, venue, venue_address, time_zone, starts_at, ends_at,
                        registration_opens_at, registration_closes_at, capacity, description,
                        organiser, contact_email)
    VALUES (p_slug, p_name, p_venue, p_venue_address, p_time_zone, p_starts_at, p_ends_at,
            p_opens_at, p_closes_at, p_capacity, p_description, p_organiser, p_contact_email)
    RETURNING id INTO v_id;
    INSERT INTO checkin_lists (event_id, name, day, position)
    SELECT v_id, n.name, n.day, n.ord - 1
    FROM unnest(p_list_names, p_list_days) WITH ORDINALITY AS n(name, day, ord);
    PERFORM admit_seats_resize(v_id, p_capacity);
    RETURN v_id;
END $$;

-- Spreads an event's free seats (capacity minus confirmed registrations) over the shards again.
-- Used at creation and when an organiser changes the capacity; holds the event's lock.
CREATE FUNCTION admit_seats_resize(p_event_id integer, p_capacity integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_free integer;
    v_shards integer := admit_seat_shards();
BEGIN
    PERFORM pg_advisory_xact_lock(p_event_id);
    PERFORM 1 FROM event_seats WHERE event_id = p_event_id FOR UPDATE;
    SELECT p_capacity - count(*) INTO v_free
    FROM registrations WHERE event_id = p_event_id AND status = 'confirmed';
    IF v_free < 0 THEN
        RAISE EXCEPTION 'capacity % is below the % confirmed registrations',
            p_capacity, p_capacity - v_free USING ERRCODE = '22023';
    END IF;
    DELETE FROM event_seats WHERE event_id = p_event_id;
    INSERT INTO event_seats (event_id, shard, free)
    SELECT p_event_id, s, v_free / v_shards + CASE WHEN s < v_free % v_shards THEN 1 ELSE 0 END
    FROM generate_series(0, v_shards - 1) AS s;
    UPDATE events SET capacity = p_capacity WHERE id = p_event_id;
END $$;

-- Takes one free seat of the event, or returns false when there is none.
--
-- Fast path, in a subtransaction: the first shard with a free seat that nobody holds, from a
-- random one on (SKIP LOCKED), never waiting. FOR UPDATE keeps its lock on a row it locked,
-- re-checked and skipped (its last seat went meanwhile); rolling the subtransaction back when
-- no seat was found releases such locks, so the slow path starts holding no shard.
-- Slow path: under the event's lock, shared with other registrations but exclusive of
-- cancellations and capacity changes (which take it exclusively), wait for shards held by
-- registrations in flight and look again, so "no seat" is only answered when every shard is
-- really empty, and a cancellation either sees this registration on the waiting list or has
-- already put its seat back where this one finds it. Slow-path registrations lock shards in
-- shard order, so they cannot wait for each other in a cycle; a shard they hold after finding
-- it empty stays empty (only cancellations and resizes add seats, and they wait for them).
CREATE FUNCTION admit_seat_take(p_event_id integer) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_shard smallint;
    v_start integer := floor(random() * admit_seat_shards());
BEGIN
    BEGIN
        SELECT shard INTO v_shard FROM event_seats
        WHERE event_id = p_event_id AND free > 0
        ORDER BY (shard - v_start + admit_seat_shards()) % admit_seat_shards()
        LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            UPDATE event_seats SET free = free - 1
            WHERE event_id = p_event_id AND shard = v_shard;
            RETURN true;
        END IF;
        RAISE EXCEPTION 'no unlocked seat' USING ERRCODE = 'AD001';
    EXCEPTION WHEN SQLSTATE 'AD001' THEN
        NULL;
    END;
    PERFORM pg_advisory_xact_lock_shared(p_event_id);
    LOOP
        SELECT shard INTO v_shard FROM event_seats
        WHERE event_id = p_event_id AND free > 0 ORDER BY shard LIMIT 1 FOR UPDATE;
        IF FOUND THEN
            UPDATE event_seats SET free = free - 1 WHERE event_id = p_event_id AND shard = v_shard;
            RETURN true;
        END IF;
        -- LIMIT 1 FOR UPDATE can come back empty when the row it waited for was emptied while
        -- another still has seats: only a fresh look that finds none means full.
        IF NOT EXISTS (SELECT 1 FROM event_seats WHERE event_id = p_event_id AND free > 0) THEN
            RETURN false;
        END IF;
    END LOOP;
END $$;

-- Registers one attendee: one round trip, one transaction.
-- outcome: 'created' (new registration), 'duplicate' (this form was already submitted: the
-- existing registration is returned), 'email_taken', 'not_found', 'not_open', 'closed',
-- 'full' (no seat and no waiting list), 'bad_list' (a list not of this event), 'no_list' (the
-- event has lists and none was chosen).
CREATE FUNCTION admit_register(
    p_slug text, p_form_nonce text, p_token text, p_given_name text, p_family_name text,
    p_email text, p_organisation text, p_organisation_type organisation_type, p_country text,
    p_dietary text, p_accessibility text, p_list_ids integer[], p_source text DEFAULT 'web',
    OUT outcome text, OUT registration_id integer, OUT token text,
    OUT status registration_status)
LANGUAGE plpgsql AS $$
DECLARE
    v_event events%ROWTYPE;
    v_lists_known integer;
    v_lists_all integer;
BEGIN
    -- The event and, if this form was submitted before (double click, reload, retry), that
    -- registration: a second submission is not a new one.
    SELECT e.id, e.registration_opens_at, e.registration_closes_at, e.starts_at, e.waitlist,
           r.id, r.token, r.status
    INTO v_event.id, v_event.registration_opens_at, v_event.registration_closes_at,
         v_event.starts_at, v_event.waitlist, registration_id, token, status
    FROM events e
    LEFT JOIN registrations r ON r.event_id = e.id AND r.form_nonce = p_form_nonce
    WHERE e.slug = p_slug;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF registration_id IS NOT NULL THEN
        outcome := 'duplicate';
        RETURN;
    END IF;
    IF v_event.registration_opens_at IS NOT NULL AND now() < v_event.registration_opens_at THEN
        outcome := 'not_open';
        RETURN;
    END IF;
    IF now() >= coalesce(v_event.registration_closes_at, v_event.starts_at) THEN
        outcome := 'closed';
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE id = ANY (p_list_ids)), count(*)
    INTO v_lists_known, v_lists_all FROM checkin_lists WHERE event_id = v_event.id;
    IF v_lists_known <> cardinality(p_list_ids) THEN
        outcome := 'bad_list';
        RETURN;
    END IF;
    IF cardinality(p_list_ids) = 0 AND v_lists_all > 0 THEN
        outcome := 'no_list';
        RETURN;
    END IF;

    INSERT INTO registrations AS r (event_id, token, form_nonce, status, given_name, family_name,
                                    email, organisation, organisation_type, country, dietary,
                                    accessibility, consent_at, source, confirmed_at)
    VALUES (v_event.id, p_token, p_form_nonce, 'confirmed', p_given_name, p_family_name, p_email,
            p_organisation, p_organisation_type, p_country, p_dietary, p_accessibility, now(),
            p_source, now())
    ON CONFLICT DO NOTHING
    RETURNING r.id, r.token INTO registration_id, token;
    IF NOT FOUND THEN
        -- Either the same form raced with itself (its twin has committed by now) or this
        -- email already holds a live registration.
        SELECT r.id, r.token, r.status INTO registration_id, token, status
        FROM registrations r WHERE r.event_id = v_event.id AND r.form_nonce = p_form_nonce;
        IF FOUND THEN
            outcome := 'duplicate';
        ELSE
            outcome := 'email_taken';
        END IF;
        RETURN;
    END IF;

    IF admit_seat_take(v_event.id) THEN
        status := 'confirmed';
    ELSIF v_event.waitlist THEN
        status := 'waitlisted';
        UPDATE registrations SET status = 'waitlisted', confirmed_at = NULL
        WHERE id = registration_id;
    ELSE
        -- Nothing of this attempt may remain: undo the insert.
        DELETE FROM registrations WHERE id = registration_id;
        registration_id := NULL;
        token := NULL;
        outcome := 'full';
        RETURN;
    END IF;
    INSERT INTO registration_lists (registration_id, list_id)
    SELECT registration_id, l FROM unnest(p_list_ids) AS l;
    outcome := 'created';
END $$;

-- Cancels the registration behind an access token. A confirmed seat goes to the first person
-- on the waiting list, or back to the pool. outcome: 'cancelled', 'already_cancelled',
-- 'not_found'. promoted_id: the registration promoted from the waiting list, if any.
CREATE FUNCTION admit_cancel(p_token text, OUT outcome text, OUT registration_id integer,
                             OUT promoted_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
BEGIN
    SELECT * INTO v_reg FROM registrations WHERE token = p_token;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    registration_id := v_reg.id;
    -- The event lock orders this against registrations that found the event full.
    PERFORM pg_advisory_xact_lock(v_reg.event_id);
    SELECT * INTO v_reg FROM registrations WHERE id = v_reg.id FOR UPDATE;
    IF v_reg.status = 'cancelled' THEN
        outcome := 'already_cancelled';
        RETURN;
    END IF;
    UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = v_reg.id;
    IF v_reg.status = 'confirmed' THEN
        promoted_id := admit_seat_release(v_reg.event_id);
    END IF;
    outcome := 'cancelled';
END $$;

-- Gives a freed seat to the first person on the waiting list (returning their registration
-- id), or back to the pool (returning NULL). The caller holds the event's advisory lock.
CREATE FUNCTION admit_seat_release(p_event_id integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_next integer;
    -- Drawn once: random() in the WHERE clause would be drawn again for every row.
    v_shard integer := floor(random() * admit_seat_shards());
BEGIN
    SELECT id INTO v_next FROM registrations
    WHERE event_id = p_event_id AND status = 'waitlisted' ORDER BY id LIMIT 1 FOR UPDATE;
    IF FOUND THEN
        UPDATE registrations SET status = 'confirmed', confirmed_at = now() WHERE id = v_next;
        RETURN v_next;
    END IF;
    UPDATE event_seats SET free = free + 1 WHERE event_id = p_event_id AND shard = v_shard;
    RETURN NULL;
END $$;

-- "29–30 October 2027", "30 October – 2 November 2027", "31 December 2027 – 1 January 2028":
-- how an event's dates read on its pages, in its own time zone.
CREATE FUNCTION admit_date_range(p_starts timestamptz, p_ends timestamptz, p_time_zone text)
RETURNS text LANGUAGE sql STABLE AS $$
    WITH d AS (SELECT (p_starts AT TIME ZONE p_time_zone)::date AS s,
                      (p_ends AT TIME ZONE p_time_zone)::date AS e)
    SELECT CASE
        WHEN s = e THEN to_char(s, 'FMDD FMMonth YYYY')
        WHEN date_trunc('month', s) = date_trunc('month', e)
            THEN to_char(s, 'FMDD') || '–' || to_char(e, 'FMDD FMMonth YYYY')
        WHEN date_trunc('year', s) = date_trunc('year', e)
            THEN to_char(s, 'FMDD FMMonth') || ' – ' || to_char(e, 'FMDD FMMonth YYYY')
        ELSE to_char(s, 'FMDD FMMonth YYYY') || ' – ' || to_char(e, 'FMDD FMMonth YYYY')
    END FROM d
$$;

-- Where registration stands for an event right now: 'not_open', 'open' or 'closed'.
CREATE FUNCTION admit_registration_state(e events) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN e.registration_opens_at IS NOT NULL AND now() < e.registration_opens_at THEN 'not_open'
        WHEN now() >= coalesce(e.registration_closes_at, e.starts_at) THEN 'closed'
        ELSE 'open'
    END
$$;

-- The public description of an event, as the JSON its pages are rendered from.
CREATE FUNCTION admit_event_json(e events) RETURNS json LANGUAGE sql STABLE AS $$
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
                           FROM checkin_lists l WHERE l.event_id = e.id), '[]'::json))
$$;
