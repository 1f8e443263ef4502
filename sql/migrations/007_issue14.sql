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

-- admit_checkin_scan of migration 6 (the latest entry), with the key: checked when the nonce
-- comes again, stored with the scan. Nothing else changes.
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

-- Login throttling: the wait checked and the attempt counted in one step (issue 14).
--
-- Migration 3 checked the wait (admit_admin_login_check), then admitd checked the password,
-- then counted the failure (admit_admin_login_finish): guesses sent at once all passed the check
-- before any was counted, so 60 of them got 20 password checks where one after the other gets 4.
-- Now an attempt that may go ahead is counted as a failure at once, under the lock of the
-- account's and the address's rows, before admitd checks the password; a success takes it back.
-- Concurrent attempts on one account or one address queue on those locks for the length of one
-- statement, never of a password check, and each sees the ones before it counted. The rules
-- (admit_login_rule, admit_login_wait) are those of migration 3.

-- Before a password is checked, one transaction: how long the client must still wait (0: go
-- ahead, and the attempt is counted against the account and the address as a failure now), the
-- admin's id and hash (NULL when no admin has this email: admitd checks a dummy hash), and for a
-- success to take the count back, when this attempt was counted and the address's last failure
-- before it (NULL if none counts). A refused attempt counts nothing.
CREATE FUNCTION admit_admin_login_begin(p_email text, p_ip text, OUT retry_after integer,
                                        OUT admin_id integer, OUT password_hash text,
                                        OUT attempt_at timestamptz,
                                        OUT ip_failure_before timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_account text := lower(p_email);
BEGIN
    -- The two rows, made if missing, locked in one order (the account's first, as VALUES lists
    -- them): every attempt on this account or from this address waits here for the one before
    -- it to be counted, and two attempts never wait for each other crosswise.
    INSERT INTO admin_login_throttle AS t (kind, key, failures, last_failure_at)
    VALUES ('account', v_account, 0, now()), ('ip', p_ip, 0, now())
    ON CONFLICT (kind, key) DO UPDATE SET failures = t.failures;
    retry_after := greatest(admit_login_wait('account', v_account), admit_login_wait('ip', p_ip));
    IF retry_after > 0 THEN
        DELETE FROM admin_login_throttle
        WHERE failures = 0 AND (kind, key) IN (('account', v_account), ('ip', p_ip));
        RETURN;
    END IF;
    SELECT t.last_failure_at INTO ip_failure_before FROM admin_login_throttle t
    WHERE t.kind = 'ip' AND t.key = p_ip AND t.failures > 0
      AND t.last_failure_at >= now() - (admit_login_rule('ip')).window_;
    attempt_at := now();
    UPDATE admin_login_throttle t
    SET failures = CASE WHEN t.last_failure_at < now() - (admit_login_rule(t.kind)).window_
                        THEN 1 ELSE t.failures + 1 END,
        last_failure_at = now()
    WHERE (t.kind, t.key) IN (('account', v_account), ('ip', p_ip));
    SELECT a.id, a.password_hash INTO admin_id, password_hash
    FROM admins a WHERE lower(a.email) = v_account;
END $$;

-- After the right password: the account's failures are forgotten, the address's count of this
-- attempt (made at p_attempt_at) is taken back, with its last failure back to the one before
-- (p_ip_failure_before) unless another came since; the session the browser came with (if any)
-- ends and a new one opens. Expired sessions are swept on the way. A wrong password needs no
-- second step: admit_admin_login_begin counted it.
CREATE FUNCTION admit_admin_login_succeeded(p_email text, p_ip text, p_admin_id integer,
                                            p_session_hash bytea, p_old_session_hash bytea,
                                            p_attempt_at timestamptz,
                                            p_ip_failure_before timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM admin_login_throttle WHERE kind = 'account' AND key = lower(p_email);
    UPDATE admin_login_throttle
    SET failures = failures - 1,
        last_failure_at = CASE WHEN last_failure_at = p_attempt_at
                               THEN coalesce(p_ip_failure_before, last_failure_at)
                               ELSE last_failure_at END
    WHERE kind = 'ip' AND key = p_ip AND failures > 0;
    DELETE FROM admin_login_throttle WHERE kind = 'ip' AND key = p_ip AND failures = 0;
    DELETE FROM admin_sessions WHERE id_hash = p_old_session_hash;
    DELETE FROM admin_sessions WHERE expires_at < now()
        OR last_seen_at < now() - admit_admin_session_idle();
    INSERT INTO admin_sessions (id_hash, admin_id, expires_at)
    VALUES (p_session_hash, p_admin_id, now() + admit_admin_session_lifetime());
END $$;

-- The pair of migration 3 let parallel guesses through: gone, so that nothing calls it.
DROP FUNCTION admit_admin_login_check(text, text);
DROP FUNCTION admit_admin_login_finish(text, text, integer, boolean, bytea, bytea);
