-- Migration 8: the check-in verdict order written once (issue 15).
--
-- admit_checkin_rule decides what a scan's ticket, list and registration allow, before any
-- admission is looked at, in the one order both online paths follow: the SQL function
-- admit_checkin_scan (re-created below from migration 7's, its chain of refusals replaced by a
-- call) and the door's group statement (sql/queries/checkin_group.sql, which calls it in place
-- of its two CASE chains). It is a single SELECT of one CASE, IMMUTABLE: PostgreSQL inlines it
-- into the group statement, so that the EXISTS passed as p_on_list is still evaluated only when
-- the earlier checks pass (EXPLAIN VERBOSE shows the CASE, not a call).
--
-- It returns {verdict, reason}: a refusal as the door shows it ('invalid' with the ticket's
-- error code, 'unknown_list' or 'unknown_attendee'; 'wrong_event'; 'revoked' 'cancelled' or
-- 'reissued'; 'invalid' 'unknown_reissue'; 'waitlisted'; 'not_on_list'), or {'exit', ''} for an
-- exit the ticket allows, or {'admit', ''} for an entry that goes on to the admission (the
-- caller then decides valid, re_entry or already_checked_in). The offline decision of a door
-- follows the same order where it can know (lib/door/scan_offline.c; the differences are
-- listed there and tested against this: tests/unit/test_pg_verdict_parity.c).
CREATE FUNCTION admit_checkin_rule(p_invalid text, p_ticket_event bigint,
                                   p_device_event integer, p_list integer,
                                   p_registration integer, p_status registration_status,
                                   p_ticket_reissue integer, p_reissue integer,
                                   p_on_list boolean, p_direction scan_direction)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_invalid IS NOT NULL THEN ARRAY['invalid', p_invalid]
        WHEN p_ticket_event IS DISTINCT FROM p_device_event THEN ARRAY['wrong_event', '']
        WHEN p_list IS NULL THEN ARRAY['invalid', 'unknown_list']
        WHEN p_registration IS NULL THEN ARRAY['invalid', 'unknown_attendee']
        WHEN p_status = 'cancelled' THEN ARRAY['revoked', 'cancelled']
        WHEN p_ticket_reissue < p_reissue THEN ARRAY['revoked', 'reissued']
        WHEN p_ticket_reissue > p_reissue THEN ARRAY['invalid', 'unknown_reissue']
        WHEN p_direction = 'exit' THEN ARRAY['exit', '']
        WHEN p_status = 'waitlisted' THEN ARRAY['waitlisted', '']
        WHEN NOT p_on_list THEN ARRAY['not_on_list', '']
        ELSE ARRAY['admit', ''] END
$$;

-- admit_checkin_scan of migration 7, its refusals decided by admit_checkin_rule.
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
    v_rule text[];
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
    v_rule := admit_checkin_rule(p_invalid, p_event_id, p_device.event_id, v_list, v_reg,
                                 v_status, p_reissue, v_reissue, v_on_list, p_direction);
    IF v_rule[1] NOT IN ('exit', 'admit') THEN
        v_verdict := v_rule[1];
        v_reason := v_rule[2];
    ELSE
        IF v_rule[1] = 'exit' THEN
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
                       scanned_at, offline, verdict, reason, flagged, client_nonce, source,
                       client_scan_key)
    OVERRIDING SYSTEM VALUE
    VALUES (v_scan, p_device.event_id, v_reg, v_list, p_device.id, v_gate, p_direction,
            p_scanned_at, p_offline, v_verdict, v_reason, v_flagged, p_nonce, 'scanner', v_key);
    RETURN admit_checkin_answer(p_nonce, v_verdict, v_reason, v_flagged, p_offline, false,
                                p_direction, p_list, v_reg, v_name, v_organisation,
                                v_first_at, v_first_gate, v_entered_at, v_entered_gate);
END $$;
