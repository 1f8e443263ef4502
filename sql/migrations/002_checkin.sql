-- Migration 2: door check-in. Devices (scanners) authenticate with bearer tokens; every scan is
-- logged; the first accepted entry per ticket and check-in list is an admission, one row per
-- (registration, list) enforced by its primary key, so two doors scanning one ticket at the
-- same instant give exactly one "valid". Offline scanners sync what changed since a cursor.
--
-- The sync cursor is a PostgreSQL snapshot (pg_snapshot), not the largest change number seen:
-- a change number is drawn when a row is written but becomes visible when its transaction
-- commits, and transactions commit out of order, so a reader that saw number 12 committed may
-- later find 11 committed too, and a "since 12" cursor would skip it for ever (a revoked ticket
-- that an offline door keeps accepting). Every synced row carries the id of the transaction
-- that last wrote it (change_xid); a sync returns the rows its own snapshot sees but the
-- cursor's snapshot did not (pg_visible_in_snapshot), and its own snapshot becomes the next
-- cursor. That is exact whatever the commit order. change_seq stays as a plain change counter
-- for readers that want an order; bumping it marks a row as changed (the triggers below also
-- stamp change_xid).

CREATE SEQUENCE admit_changes;

ALTER TABLE registrations
    ADD COLUMN change_seq bigint NOT NULL DEFAULT nextval('admit_changes'),
    ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX registrations_sync ON registrations (event_id, change_xid);

CREATE FUNCTION admit_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('admit_changes');
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END $$;

-- What a door needs to know of a registration: its status, reissue counter, display name and
-- organisation (and its lists: see registration_lists_change). An explicit
-- UPDATE registrations SET change_seq = nextval('admit_changes') marks any other change.
CREATE TRIGGER registrations_change BEFORE UPDATE ON registrations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.reissue IS DISTINCT FROM NEW.reissue
                       OR OLD.given_name IS DISTINCT FROM NEW.given_name
                       OR OLD.family_name IS DISTINCT FROM NEW.family_name
                       OR OLD.organisation IS DISTINCT FROM NEW.organisation
                       OR OLD.change_seq IS DISTINCT FROM NEW.change_seq)
    EXECUTE FUNCTION admit_stamp_change();

-- A registration's lists changing is a change of the registration. Lists written in the
-- transaction that wrote the registration (registering, importing) cost no update.
CREATE FUNCTION admit_registration_lists_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registrations SET change_seq = nextval('admit_changes')
    WHERE id = CASE TG_OP WHEN 'DELETE' THEN OLD.registration_id ELSE NEW.registration_id END
      AND change_xid <> pg_current_xact_id();
    RETURN NULL;
END $$;

CREATE TRIGGER registration_lists_change AFTER INSERT OR DELETE ON registration_lists
    FOR EACH ROW EXECUTE FUNCTION admit_registration_lists_changed();

CREATE TABLE devices (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id integer NOT NULL REFERENCES events ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- SHA-256 of the bearer token: the token is shown once, when the device is added.
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_seen_at timestamptz
);
CREATE INDEX devices_event ON devices (event_id);
-- A name names one working device of an event: it is the default gate of its scans.
CREATE UNIQUE INDEX devices_active_name ON devices (event_id, name) WHERE revoked_at IS NULL;

CREATE TYPE scan_direction AS ENUM ('entry', 'exit');

-- Every scan, accepted or not: the scan log organisers export and review.
--
-- Scans and admissions are written at the rate of the doors, and only by the SQL functions of
-- this schema, which read the event, list and device of each scan in the same transaction. So
-- they carry no foreign keys to those three tables: a foreign key check locks its parent row
-- (FOR KEY SHARE), every door of an event would lock the same event and list rows in every
-- transaction (multixacts), and the checks cost a third of a check-in's time. Events, lists and
-- devices are never deleted while they have scans (an event's lists are only removed without
-- scans: admit_admin_event_save). The references to registrations stay, with ON DELETE
-- CASCADE: erasing a person erases their scans and admissions.
CREATE TABLE scans (
    -- admit_checkin_scan draws the id first (the admission names its scan): nextval('scans_id').
    id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME scans_id) PRIMARY KEY,
    event_id integer NOT NULL,
    registration_id integer REFERENCES registrations ON DELETE CASCADE, -- NULL: not a ticket
    list_id integer,
    device_id integer,                      -- NULL for a check-in by an organiser
    gate text NOT NULL DEFAULT '',
    direction scan_direction NOT NULL,
    scanned_at timestamptz NOT NULL,         -- when the door saw it (the device's clock)
    received_at timestamptz NOT NULL DEFAULT now(),
    offline boolean NOT NULL DEFAULT false,
    verdict text NOT NULL CHECK (verdict IN ('valid', 'already_checked_in', 'revoked',
                                             'waitlisted', 'not_on_list', 'wrong_event',
                                             'invalid')),
    reason text NOT NULL DEFAULT '',
    -- Accepted at the door while offline although the server would have refused it (the same
    -- ticket used at two doors), or forced by an organiser: listed for review.
    flagged boolean NOT NULL DEFAULT false,
    client_nonce text NOT NULL CHECK (length(client_nonce) BETWEEN 8 AND 64),
    source text NOT NULL DEFAULT 'scanner' CHECK (source IN ('scanner', 'manual')),
    UNIQUE (device_id, client_nonce)
);
CREATE INDEX scans_event_time ON scans (event_id, scanned_at);
CREATE INDEX scans_registration ON scans (registration_id);
CREATE INDEX scans_flagged ON scans (event_id) WHERE flagged;

-- The first accepted entry per ticket and list. inside: entered and not (yet) scanned out;
-- last_at: the time of the scan that last set inside (NULL: first_at), so that an old offline
-- scan uploaded late never undoes a newer one.
CREATE TABLE admissions (
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    list_id integer NOT NULL,
    event_id integer NOT NULL,
    -- The scan that admitted (see scans for the missing foreign keys): admit_checkin_scan writes
    -- the admission before that scan, so that the scan row is written once, with its verdict.
    first_scan_id bigint NOT NULL,
    first_at timestamptz NOT NULL,
    first_gate text NOT NULL,
    inside boolean NOT NULL DEFAULT true,
    last_at timestamptz,
    change_seq bigint NOT NULL DEFAULT nextval('admit_changes'),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (registration_id, list_id)
);
CREATE INDEX admissions_sync ON admissions (event_id, change_xid);
CREATE INDEX admissions_list_time ON admissions (list_id, first_at);

CREATE TRIGGER admissions_change BEFORE UPDATE ON admissions
    FOR EACH ROW EXECUTE FUNCTION admit_stamp_change();

-- Timestamps in the API: UTC, milliseconds, "2027-10-29T09:12:03.120Z". STABLE like to_char,
-- not IMMUTABLE: a function whose body is not immutable is never inlined, and a SQL function
-- that is not inlined is parsed and planned at every call (most of a check-in's time).
CREATE FUNCTION admit_api_time(p_at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Devices: admit device add / revoke. outcome 'added', 'not_found' (no such event) or
-- 'name_taken' (a working device of the event has this name).
CREATE FUNCTION admit_device_add(p_slug text, p_name text, p_token_hash bytea,
                                 OUT outcome text, OUT device_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_event integer;
BEGIN
    SELECT id INTO v_event FROM events WHERE slug = p_slug;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    INSERT INTO devices (event_id, name, token_hash) VALUES (v_event, p_name, p_token_hash)
    ON CONFLICT DO NOTHING RETURNING id INTO device_id;
    outcome := CASE WHEN device_id IS NULL THEN 'name_taken' ELSE 'added' END;
END $$;

-- outcome 'revoked' or 'not_found' (no working device of that name in that event). A revoked
-- token is refused at once by every API call.
CREATE FUNCTION admit_device_revoke(p_slug text, p_name text, OUT outcome text,
                                    OUT device_id integer)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE devices d SET revoked_at = now()
    FROM events e
    WHERE e.id = d.event_id AND e.slug = p_slug AND d.name = p_name AND d.revoked_at IS NULL
    RETURNING d.id INTO device_id;
    outcome := CASE WHEN device_id IS NULL THEN 'not_found' ELSE 'revoked' END;
END $$;

-- One check-in answer, as the API sends it (absent fields are left out).
CREATE FUNCTION admit_checkin_answer(p_nonce text, p_verdict text, p_reason text,
                                     p_flagged boolean, p_offline boolean, p_replayed boolean,
                                     p_direction scan_direction, p_list text,
                                     p_registration_id integer, p_name text,
                                     p_organisation text, p_first_at timestamptz,
                                     p_first_gate text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'nonce', p_nonce, 'verdict', p_verdict, 'reason', p_reason, 'flagged', p_flagged,
        'offline', p_offline, 'replayed', p_replayed, 'direction', p_direction, 'list', p_list,
        'registration_id', p_registration_id, 'name', p_name, 'organisation', p_organisation,
        'first_at', admit_api_time(p_first_at), 'first_gate', p_first_gate))
$$;

-- The answer to a scan seen before (its nonce was sent again), from what was stored.
CREATE FUNCTION admit_checkin_replay(p_scan scans) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT admit_checkin_answer(
        p_scan.client_nonce, p_scan.verdict, p_scan.reason, p_scan.flagged, p_scan.offline, true,
        p_scan.direction, (SELECT l.name FROM checkin_lists l WHERE l.id = p_scan.list_id),
        p_scan.registration_id, r.given_name || ' ' || r.family_name, r.organisation,
        CASE WHEN p_scan.verdict = 'already_checked_in' THEN a.first_at END,
        CASE WHEN p_scan.verdict = 'already_checked_in' THEN a.first_gate END)
    FROM (SELECT 1) AS one
    LEFT JOIN registrations r ON r.id = p_scan.registration_id
    LEFT JOIN admissions a ON a.registration_id = p_scan.registration_id
                          AND a.list_id = p_scan.list_id
$$;

-- One scan of a device: the verdict, the scan log row and the admission, in the caller's
-- transaction, which holds the locks admit_checkin takes for this scan. The ticket was checked
-- by admitd (signature, key, format): p_invalid is its reason when it was refused, else
-- p_event_id, p_registration_id and p_reissue are what the ticket says. p_door_verdict is what
-- an offline door showed (NULL online).
--
-- Verdicts, in the order they are decided: invalid (p_invalid); wrong_event (the ticket's event
-- is not the device's); invalid 'unknown_list' (no list of that name), 'unknown_attendee' (no
-- such registration in the event); revoked ('cancelled', or 'reissued' for an older ticket);
-- invalid 'unknown_reissue' (a counter above the registration's); then for an exit: valid (the
-- person is no longer inside; reason 'not_inside' when they were not); for an entry:
-- waitlisted; not_on_list; valid when the admission is new, or the person had scanned out
-- ('re_entry'); else already_checked_in.
-- Offline scans upload later and are reconciled: the earliest entry wins (an earlier offline
-- entry takes the admission over, and the scan that held it becomes the flagged duplicate);
-- one that the door accepted but the server refuses is stored as refused and flagged for the
-- organisers; one that the door refused changes no admission.
CREATE FUNCTION admit_checkin_scan(p_device devices, p_nonce text, p_list text,
                                   p_direction scan_direction, p_scanned_at timestamptz,
                                   p_gate text, p_offline boolean, p_door_verdict text,
                                   p_event_id bigint, p_registration_id bigint,
                                   p_reissue integer, p_invalid text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_old scans%ROWTYPE;
    v_gate text := coalesce(nullif(p_gate, ''), p_device.name);
    v_door text := CASE WHEN p_offline THEN coalesce(p_door_verdict, 'valid') END;
    v_list integer;
    v_reg integer;
    v_status registration_status;
    v_reissue integer;
    v_name text;
    v_organisation text;
    v_on_list boolean;
    v_adm admissions%ROWTYPE;
    v_verdict text;
    v_reason text := '';
    v_flagged boolean := false;
    v_first_at timestamptz;
    v_first_gate text;
    v_scan bigint := nextval('scans_id');
BEGIN
    -- The same nonce again (a retry after a timeout, the upload of a scan whose online attempt
    -- timed out) is the same scan: answer what was answered. The caller's lock on the nonce
    -- orders two copies in flight at once; the second then finds the first.
    SELECT * INTO v_old FROM scans WHERE device_id = p_device.id AND client_nonce = p_nonce;
    IF FOUND THEN
        IF v_door = 'valid' AND v_old.verdict <> 'valid' AND NOT v_old.flagged THEN
            -- The online attempt was refused but its answer never came back: the door let
            -- the person in offline.
            UPDATE scans SET flagged = true, offline = true WHERE id = v_old.id
            RETURNING * INTO v_old;
        END IF;
        RETURN admit_checkin_replay(v_old);
    END IF;

    -- The list, the registration and whether it is on the list, in one statement.
    SELECT l.id, r.id, r.status, r.reissue, r.given_name || ' ' || r.family_name,
           r.organisation, EXISTS (SELECT 1 FROM registration_lists rl
                                   WHERE rl.registration_id = r.id AND rl.list_id = l.id)
    INTO v_list, v_reg, v_status, v_reissue, v_name, v_organisation, v_on_list
    FROM checkin_lists l
    LEFT JOIN registrations r ON r.id = p_registration_id AND r.event_id = l.event_id
    WHERE l.event_id = p_device.event_id AND l.name = p_list;
    IF p_invalid IS NOT NULL THEN
        v_verdict := 'invalid';
        v_reason := p_invalid;
    ELSIF p_event_id IS DISTINCT FROM p_device.event_id THEN
        v_verdict := 'wrong_event';
    ELSIF v_list IS NULL THEN
        v_verdict := 'invalid';
        v_reason := 'unknown_list';
    ELSE
        IF v_reg IS NULL THEN
            v_verdict := 'invalid';
            v_reason := 'unknown_attendee';
        ELSIF v_status = 'cancelled' THEN
            v_verdict := 'revoked';
            v_reason := 'cancelled';
        ELSIF p_reissue < v_reissue THEN
            v_verdict := 'revoked';
            v_reason := 'reissued';
        ELSIF p_reissue > v_reissue THEN
            v_verdict := 'invalid';
            v_reason := 'unknown_reissue';
        ELSIF p_direction = 'exit' THEN
            v_verdict := 'valid';
            SELECT * INTO v_adm FROM admissions
            WHERE registration_id = v_reg AND list_id = v_list FOR UPDATE;
            IF FOUND AND v_adm.inside
               AND coalesce(v_adm.last_at, v_adm.first_at) <= p_scanned_at THEN
                UPDATE admissions SET inside = false, last_at = p_scanned_at
                WHERE registration_id = v_reg AND list_id = v_list;
            ELSE
                v_reason := 'not_inside';
            END IF;
        ELSIF v_status = 'waitlisted' THEN
            v_verdict := 'waitlisted';
        ELSIF NOT v_on_list THEN
            v_verdict := 'not_on_list';
        ELSIF v_door IS NOT NULL AND v_door <> 'valid' THEN
            -- Nobody went in: the admissions stay as they are.
            v_verdict := v_door;
            v_reason := 'refused_offline';
        ELSE
            INSERT INTO admissions (registration_id, list_id, event_id, first_scan_id,
                                    first_at, first_gate)
            VALUES (v_reg, v_list, p_device.event_id, v_scan, p_scanned_at, v_gate)
            ON CONFLICT (registration_id, list_id) DO NOTHING;
            IF FOUND THEN
                v_verdict := 'valid';
            ELSE
                SELECT * INTO v_adm FROM admissions
                WHERE registration_id = v_reg AND list_id = v_list FOR UPDATE;
                IF p_offline AND p_scanned_at < v_adm.first_at THEN
                    -- Earliest wins: this offline entry happened first.
                    UPDATE scans SET verdict = 'already_checked_in', reason = 'offline_conflict',
                                     flagged = true
                    WHERE id = v_adm.first_scan_id;
                    UPDATE admissions SET first_scan_id = v_scan, first_at = p_scanned_at,
                                          first_gate = v_gate
                    WHERE registration_id = v_reg AND list_id = v_list;
                    v_verdict := 'valid';
                ELSIF NOT v_adm.inside
                      AND coalesce(v_adm.last_at, v_adm.first_at) <= p_scanned_at THEN
                    UPDATE admissions SET inside = true, last_at = p_scanned_at
                    WHERE registration_id = v_reg AND list_id = v_list;
                    v_verdict := 'valid';
                    v_reason := 're_entry';
                ELSE
                    v_verdict := 'already_checked_in';
                    v_first_at := v_adm.first_at;
                    v_first_gate := v_adm.first_gate;
                END IF;
            END IF;
        END IF;
    END IF;

    IF v_door = 'valid' AND v_verdict <> 'valid' THEN
        -- The door let someone in whom the server refuses: for the organisers to review.
        v_flagged := true;
        IF v_reason = '' THEN
            v_reason := 'offline_conflict';
        END IF;
    END IF;
    INSERT INTO scans (id, event_id, registration_id, list_id, device_id, gate, direction,
                       scanned_at, offline, verdict, reason, flagged, client_nonce, source)
    OVERRIDING SYSTEM VALUE
    VALUES (v_scan, p_device.event_id, v_reg, v_list, p_device.id, v_gate, p_direction,
            p_scanned_at, p_offline, v_verdict, v_reason, v_flagged, p_nonce, 'scanner');
    RETURN admit_checkin_answer(p_nonce, v_verdict, v_reason, v_flagged, p_offline, false,
                                p_direction, p_list, v_reg, v_name, v_organisation,
                                v_first_at, v_first_gate);
END $$;

-- POST /api/v1/checkins: the scans of the device whose token hashes to p_token_hash, one
-- transaction. p_scans is a JSON array built by admitd, one object per scan with the
-- parameters of admit_checkin_scan (nonce, list, direction, scanned_at, gate, offline,
-- door_verdict, event_id, registration_id, reissue, invalid). The batch is reconciled in the
-- order of scanned_at (then of the array); the answers come back in the order of the array.
-- NULL when the token is unknown or revoked.
CREATE FUNCTION admit_checkin(p_token_hash bytea, p_scans jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_device devices%ROWTYPE;
    v_scan record;
    v_one jsonb;
    v_answers jsonb[] := '{}';
BEGIN
    SELECT * INTO v_device FROM devices WHERE token_hash = p_token_hash AND revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- At most one write a minute for "last seen", not one per scan.
    IF v_device.last_seen_at IS NULL OR v_device.last_seen_at < now() - interval '1 minute' THEN
        UPDATE devices SET last_seen_at = now() WHERE id = v_device.id;
    END IF;
    -- The transaction-level locks the batch needs, all of them, in one global order: one per
    -- (device, nonce), so that two copies of a scan in flight at once are one scan, and one per
    -- (ticket, list), so that one transaction at a time works on an admission. Taken in order up
    -- front, two batches from two doors holding the same tickets in different orders wait for
    -- each other instead of deadlocking, as row locks taken scan by scan would. A hash collision
    -- only makes two unrelated scans wait for each other.
    IF jsonb_array_length(p_scans) = 1 THEN
        -- One scan (the door online): the same locks in the same order, without the sorting.
        v_one := p_scans -> 0;
        IF v_one ->> 'registration_id' IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(-2, hashtext((v_one ->> 'registration_id') || '/' ||
                                                       (v_one ->> 'list')));
        END IF;
        PERFORM pg_advisory_xact_lock(-1, hashtext(v_device.id || '/' || (v_one ->> 'nonce')));
        RETURN jsonb_build_array(admit_checkin_scan(
            v_device, v_one ->> 'nonce', v_one ->> 'list', (v_one ->> 'direction')::scan_direction,
            (v_one ->> 'scanned_at')::timestamptz, v_one ->> 'gate',
            coalesce((v_one ->> 'offline')::boolean, false), v_one ->> 'door_verdict',
            (v_one ->> 'event_id')::bigint, (v_one ->> 'registration_id')::bigint,
            (v_one ->> 'reissue')::integer, v_one ->> 'invalid'));
    END IF;
    PERFORM pg_advisory_xact_lock(k.space, k.key)
    FROM (SELECT DISTINCT space, key FROM (
              SELECT -1 AS space, hashtext(v_device.id || '/' || (e ->> 'nonce')) AS key
              FROM jsonb_array_elements(p_scans) AS e
              UNION ALL
              SELECT -2, hashtext((e ->> 'registration_id') || '/' || (e ->> 'list'))
              FROM jsonb_array_elements(p_scans) AS e
              WHERE e ->> 'registration_id' IS NOT NULL) AS keys
          ORDER BY space, key) AS k;
    FOR v_scan IN
        SELECT s.*, x.ord
        FROM jsonb_array_elements(p_scans) WITH ORDINALITY AS x(value, ord),
             jsonb_to_record(x.value) AS s(nonce text, list text, direction scan_direction,
                                           scanned_at timestamptz, gate text, offline boolean,
                                           door_verdict text, event_id bigint,
                                           registration_id bigint, reissue integer,
                                           invalid text)
        ORDER BY s.scanned_at, x.ord
    LOOP
        v_answers[v_scan.ord] := admit_checkin_scan(
            v_device, v_scan.nonce, v_scan.list, v_scan.direction, v_scan.scanned_at,
            v_scan.gate, coalesce(v_scan.offline, false), v_scan.door_verdict, v_scan.event_id,
            v_scan.registration_id, v_scan.reissue, v_scan.invalid);
    END LOOP;
    RETURN to_jsonb(v_answers);
END $$;

-- The device behind a token: GET /api/v1/device. NULL when unknown or revoked.
CREATE FUNCTION admit_device_whoami(p_token_hash bytea) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'device', json_build_object('id', d.id, 'name', d.name),
        'event', json_build_object('id', e.id, 'slug', e.slug, 'name', e.name,
                                   'time_zone', e.time_zone),
        'lists', coalesce((SELECT json_agg(json_build_object('id', l.id, 'name', l.name,
                                                             'day', l.day) ORDER BY l.position)
                           FROM checkin_lists l WHERE l.event_id = e.id), '[]'::json))
    FROM devices d JOIN events e ON e.id = d.event_id
    WHERE d.token_hash = p_token_hash AND d.revoked_at IS NULL
$$;

-- GET /api/v1/events/SLUG/sync?since=CURSOR: what an offline door needs, for the device's own
-- event. outcome 'ok' (body set), 'unauthorized' (unknown or revoked token) or 'not_found'
-- (the slug is not the device's event, whether or not it exists). p_since NULL: everything
-- (also for a cursor from another database, whose horizon lies ahead of ours); else the
-- registrations and admissions written by transactions that p_since did not see. p_keys: the
-- public keys, from admitd's keyring. STABLE, so that every query here and the new cursor are
-- one and the same snapshot.
CREATE FUNCTION admit_sync(p_token_hash bytea, p_slug text, p_since text, p_keys json,
                           OUT outcome text, OUT body json)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_device devices%ROWTYPE;
    v_event events%ROWTYPE;
    v_now pg_snapshot := pg_current_snapshot();
    v_since pg_snapshot := p_since::pg_snapshot;
    v_full boolean;
BEGIN
    SELECT * INTO v_device FROM devices WHERE token_hash = p_token_hash AND revoked_at IS NULL;
    IF NOT FOUND THEN
        outcome := 'unauthorized';
        RETURN;
    END IF;
    SELECT * INTO v_event FROM events WHERE id = v_device.event_id;
    IF v_event.slug <> p_slug THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    v_full := v_since IS NULL OR pg_snapshot_xmax(v_since) > pg_snapshot_xmax(v_now);
    body := json_build_object(
        'event', json_build_object('id', v_event.id, 'slug', v_event.slug, 'name', v_event.name,
                                   'time_zone', v_event.time_zone),
        'device', json_build_object('id', v_device.id, 'name', v_device.name),
        'cursor', v_now::text,
        'full', v_full,
        'keys', p_keys,
        'lists', coalesce((SELECT json_agg(json_build_object('id', l.id, 'name', l.name,
                                                             'day', l.day) ORDER BY l.position)
                           FROM checkin_lists l WHERE l.event_id = v_event.id), '[]'::json),
        'registrations', coalesce((
            SELECT json_agg(json_build_object(
                       'id', r.id, 'status', r.status, 'reissue', r.reissue,
                       'name', r.given_name || ' ' || r.family_name,
                       'organisation', r.organisation,
                       'lists', coalesce((SELECT json_agg(rl.list_id ORDER BY rl.list_id)
                                          FROM registration_lists rl
                                          WHERE rl.registration_id = r.id), '[]'::json))
                   ORDER BY r.id)
            FROM registrations r
            WHERE r.event_id = v_event.id
              AND (v_full OR (r.change_xid >= pg_snapshot_xmin(v_since)
                              AND NOT pg_visible_in_snapshot(r.change_xid, v_since)))),
            '[]'::json),
        'admissions', coalesce((
            SELECT json_agg(json_build_object(
                       'registration_id', a.registration_id, 'list_id', a.list_id,
                       'first_at', admit_api_time(a.first_at), 'first_gate', a.first_gate,
                       'inside', a.inside)
                   ORDER BY a.registration_id, a.list_id)
            FROM admissions a
            WHERE a.event_id = v_event.id
              AND (v_full OR (a.change_xid >= pg_snapshot_xmin(v_since)
                              AND NOT pg_visible_in_snapshot(a.change_xid, v_since)))),
            '[]'::json));
    outcome := 'ok';
END $$;
