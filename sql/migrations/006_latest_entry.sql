-- Migration 6: an admission remembers its latest entry, so that a door's "already checked in"
-- after an exit and a re-entry says when and where the person last came in (issue 13), not
-- their first entry of the day.
--
-- entered_at, entered_gate: the latest entry's time and gate; NULL while the first entry is the
-- latest (first_at, first_gate). Written by a re-entry, and kept when an earlier offline entry
-- takes the first entry over (the displaced entry is then the latest). The answers to a scan
-- (already_checked_in) and the sync's admissions carry them as "entered_at" and
-- "entered_gate", beside "first_at" and "first_gate", which keep their meaning. The door's
-- group statement (sql/queries/checkin_group.sql) reads them too; it never writes an entry
-- that is not a first one (re-entries are left to admit_checkin_scan).
ALTER TABLE admissions ADD COLUMN entered_at timestamptz, ADD COLUMN entered_gate text;

-- The answer gains the latest entry. SQL functions that call it are not tracked as dependants:
-- the callers are replaced below.
DROP FUNCTION admit_checkin_answer(text, text, text, boolean, boolean, boolean, scan_direction,
                                   text, integer, text, text, timestamptz, text);
CREATE FUNCTION admit_checkin_answer(p_nonce text, p_verdict text, p_reason text,
                                     p_flagged boolean, p_offline boolean, p_replayed boolean,
                                     p_direction scan_direction, p_list text,
                                     p_registration_id integer, p_name text,
                                     p_organisation text, p_first_at timestamptz,
                                     p_first_gate text, p_entered_at timestamptz,
                                     p_entered_gate text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'nonce', p_nonce, 'verdict', p_verdict, 'reason', p_reason, 'flagged', p_flagged,
        'offline', p_offline, 'replayed', p_replayed, 'direction', p_direction, 'list', p_list,
        'registration_id', p_registration_id, 'name', p_name, 'organisation', p_organisation,
        'first_at', admit_api_time(p_first_at), 'first_gate', p_first_gate,
        'entered_at', admit_api_time(p_entered_at), 'entered_gate', p_entered_gate))
$$;

CREATE OR REPLACE FUNCTION admit_checkin_replay(p_scan scans) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT admit_checkin_answer(
        p_scan.client_nonce, p_scan.verdict, p_scan.reason, p_scan.flagged, p_scan.offline, true,
        p_scan.direction, (SELECT l.name FROM checkin_lists l WHERE l.id = p_scan.list_id),
        p_scan.registration_id, r.given_name || ' ' || r.family_name, r.organisation,
        CASE WHEN p_scan.verdict = 'already_checked_in' THEN a.first_at END,
        CASE WHEN p_scan.verdict = 'already_checked_in' THEN a.first_gate END,
        CASE WHEN p_scan.verdict = 'already_checked_in'
             THEN coalesce(a.entered_at, a.first_at) END,
        CASE WHEN p_scan.verdict = 'already_checked_in'
             THEN coalesce(a.entered_gate, a.first_gate) END)
    FROM (SELECT 1) AS one
    LEFT JOIN registrations r ON r.id = p_scan.registration_id
    LEFT JOIN admissions a ON a.registration_id = p_scan.registration_id
                          AND a.list_id = p_scan.list_id
$$;

-- As in migration 2, with the latest entry written on a re-entry and answered.
CREATE OR REPLACE FUNCTION admit_checkin_scan(p_device devices, p_nonce text, p_list text,
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
    v_entered_at timestamptz;
    v_entered_gate text;
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
                    -- Earliest wins: this offline entry happened first. The entry it displaces
                    -- stays the latest one unless a later one was recorded.
                    UPDATE scans SET verdict = 'already_checked_in', reason = 'offline_conflict',
                                     flagged = true
                    WHERE id = v_adm.first_scan_id;
                    UPDATE admissions SET first_scan_id = v_scan, first_at = p_scanned_at,
                                          first_gate = v_gate,
                                          entered_at = coalesce(entered_at, v_adm.first_at),
                                          entered_gate = coalesce(entered_gate, v_adm.first_gate)
                    WHERE registration_id = v_reg AND list_id = v_list;
                    v_verdict := 'valid';
                ELSIF NOT v_adm.inside
                      AND coalesce(v_adm.last_at, v_adm.first_at) <= p_scanned_at THEN
                    UPDATE admissions SET inside = true, last_at = p_scanned_at,
                                          entered_at = p_scanned_at, entered_gate = v_gate
                    WHERE registration_id = v_reg AND list_id = v_list;
                    v_verdict := 'valid';
                    v_reason := 're_entry';
                ELSE
                    v_verdict := 'already_checked_in';
                    v_first_at := v_adm.first_at;
                    v_first_gate := v_adm.first_gate;
                    v_entered_at := coalesce(v_adm.entered_at, v_adm.first_at);
                    v_entered_gate := coalesce(v_adm.entered_gate, v_adm.first_gate);
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
                                v_first_at, v_first_gate, v_entered_at, v_entered_gate);
END $$;

-- As in migration 2, with the latest entry of each admission.
CREATE OR REPLACE FUNCTION admit_sync(p_token_hash bytea, p_slug text, p_since text, p_keys json,
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
                       'entered_at', admit_api_time(coalesce(a.entered_at, a.first_at)),
                       'entered_gate', coalesce(a.entered_gate, a.first_gate),
                       'inside', a.inside)
                   ORDER BY a.registration_id, a.list_id)
            FROM admissions a
            WHERE a.event_id = v_event.id
              AND (v_full OR (a.change_xid >= pg_snapshot_xmin(v_since)
                              AND NOT pg_visible_in_snapshot(a.change_xid, v_since)))),
            '[]'::json));
    outcome := 'ok';
END $$;
-- Tickets' QR images are rendered once per ticket version and kept (ticket_images). The SVG now
-- carries its own width and height (lib/core/qr.c), so that viewers draw it at a scannable size:
-- the kept ones are dropped, to be rendered again at their next view.
DELETE FROM ticket_images;
