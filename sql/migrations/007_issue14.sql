-- Migration 7 (issue 14): a check-in nonce sent again with another scan is refused.
--
-- A device's nonce names one scan: sent again (a retry after a timeout, the offline upload of
-- an online attempt whose answer was lost), it is answered with what was answered the first
-- time. Until now that held whatever came with the nonce the second time, so a nonce reused
-- for another ticket showed the door the earlier scan's person. Each scan now keeps a key of
-- what it was about (client_scan_key), and the same nonce with another key is refused
-- ("nonce_reused": admitd answers 409, or that scan's error in a batch) with nothing written.
-- Scans stored before this migration have no key: their nonces are replayed as before.

-- What a scan is about, as the device sent it: the ticket as admitd read it (event,
-- registration and reissue counter, or why it is not a ticket), the list's name and the
-- direction. Not the time, the gate or whether it was offline: the upload of a scan first tried
-- online is the same scan. A SHA-256 of them joined by '|', the list's name last: the others
-- are numbers, admitd's reason codes and the direction, which hold no '|', so the text is
-- unambiguous (3 µs a scan; a JSON array took twice that). STABLE as convert_to is, so that it
-- is inlined into the statements that use it.
CREATE FUNCTION admit_scan_key(p_event_id bigint, p_registration_id bigint, p_reissue integer,
                               p_invalid text, p_list text, p_direction scan_direction)
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(format('%s|%s|%s|%s|%s|%s', p_event_id, p_registration_id,
                                    p_reissue, p_invalid, p_direction, p_list), 'UTF8'))
$$;

ALTER TABLE scans ADD COLUMN client_scan_key bytea CHECK (length(client_scan_key) = 32);

-- admit_checkin_scan of migration 2, with the key: checked when the nonce comes again, stored
-- with the scan. Nothing else changes.
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
    v_scan bigint := nextval('scans_id');
    v_key bytea := admit_scan_key(p_event_id, p_registration_id, p_reissue, p_invalid, p_list,
                                  p_direction);
BEGIN
    -- The same nonce again (a retry after a timeout, the upload of a scan whose online attempt
    -- timed out) is the same scan: answer what was answered. The caller's lock on the nonce
    -- orders two copies in flight at once; the second then finds the first. The same nonce
    -- with another ticket, list or direction is not that scan: refused, nothing written (a
    -- replay would show the door the earlier scan's person).
    SELECT * INTO v_old FROM scans WHERE device_id = p_device.id AND client_nonce = p_nonce;
    IF FOUND THEN
        IF v_old.client_scan_key <> v_key THEN
            RETURN jsonb_build_object('nonce', p_nonce, 'error', 'nonce_reused');
        END IF;
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
                       scanned_at, offline, verdict, reason, flagged, client_nonce, source,
                       client_scan_key)
    OVERRIDING SYSTEM VALUE
    VALUES (v_scan, p_device.event_id, v_reg, v_list, p_device.id, v_gate, p_direction,
            p_scanned_at, p_offline, v_verdict, v_reason, v_flagged, p_nonce, 'scanner', v_key);
    RETURN admit_checkin_answer(p_nonce, v_verdict, v_reason, v_flagged, p_offline, false,
                                p_direction, p_list, v_reg, v_name, v_organisation,
                                v_first_at, v_first_gate);
END $$;
