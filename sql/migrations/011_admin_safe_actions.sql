-- Migration 11: organisers' actions that cannot be undone happen once (issue 16).
--
-- Cancel, reissue, move from the waiting list and check in by name are confirmed on a page of
-- their own whose form carries a fresh key (a token, like the registration form's nonce). The
-- action runs through admit_admin_act, which records the key in admin_actions in the same
-- transaction: a second submission of the same form (a double click, a reload, the back button,
-- two tabs at once) finds the key and answers what the first one did instead of acting again.
-- Two submissions at the same moment meet at the key's primary key: the second waits for the
-- first to commit, then finds its row. A refused action (no free seat, a state where the action
-- makes no sense) leaves no row, so the same form works once the reason is gone.
--
-- admin_actions is also the organisers' action log: who did what to which registration, when.
--
-- Additive only: a new table and new functions; the release before keeps calling the functions
-- of migration 3, which are unchanged.

CREATE TABLE admin_actions (
    key text PRIMARY KEY CHECK (length(key) BETWEEN 16 AND 64),
    admin_id integer REFERENCES admins ON DELETE SET NULL,
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    action text NOT NULL CHECK (action IN ('cancel', 'reissue', 'promote', 'checkin')),
    list_id integer,
    outcome text NOT NULL DEFAULT '',
    promoted_id integer,
    done_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_registration ON admin_actions (registration_id, done_at);

-- Why p_action makes no sense for a registration in p_status (the outcome the page reports),
-- or NULL when it may go ahead. The attendee page offers only the actions this allows.
CREATE FUNCTION admit_admin_action_refusal(p_action text, p_status registration_status)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_action = 'cancel' AND p_status = 'cancelled' THEN 'already_cancelled'
        WHEN p_action IN ('reissue', 'checkin') AND p_status = 'cancelled' THEN 'cancelled'
        WHEN p_action IN ('reissue', 'checkin') AND p_status = 'waitlisted' THEN 'waitlisted'
        WHEN p_action = 'promote' AND p_status <> 'waitlisted' THEN 'not_waitlisted'
    END
$$;

-- Runs p_action ('cancel', 'reissue', 'promote', 'checkin') once for the form key p_key.
-- p_list_id and p_force: the check-in's list and whether it is forced; p_secret: the new access
-- token of a reissue, the scan nonce of a check-in. outcome: as the functions of migration 3
-- say it ('cancelled', 'reissued', 'promoted', 'checked_in' when done; 'not_found', refusals),
-- or 'key_reused' when p_key was used for another action or attendee. replayed: the outcome is
-- that of an earlier submission of the same key, and nothing was done now.
CREATE FUNCTION admit_admin_act(p_admin_id integer, p_slug text, p_registration_id integer,
                                p_action text, p_key text, p_list_id integer, p_force boolean,
                                p_secret text, OUT outcome text, OUT promoted_id integer,
                                OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_status registration_status;
    v_done admin_actions%ROWTYPE;
    v_outcome text;
    v_promoted integer;
BEGIN
    replayed := false;
    SELECT r.status INTO v_status
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.id = p_registration_id AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id);
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    INSERT INTO admin_actions (key, admin_id, registration_id, action, list_id)
    VALUES (p_key, p_admin_id, p_registration_id, p_action, p_list_id)
    ON CONFLICT (key) DO NOTHING;
    IF NOT FOUND THEN
        SELECT * INTO v_done FROM admin_actions a WHERE a.key = p_key;
        IF v_done.registration_id <> p_registration_id OR v_done.action <> p_action
           OR v_done.admin_id IS DISTINCT FROM p_admin_id THEN
            outcome := 'key_reused';
        ELSE
            outcome := v_done.outcome;
            promoted_id := v_done.promoted_id;
            replayed := true;
        END IF;
        RETURN;
    END IF;
    -- A check-in refused for the registration's state is still logged as a scan by
    -- admit_admin_checkin; the other actions are refused here.
    v_outcome := CASE WHEN p_action <> 'checkin'
                      THEN admit_admin_action_refusal(p_action, v_status) END;
    IF v_outcome IS NULL THEN
        CASE p_action
        WHEN 'cancel' THEN
            SELECT c.outcome, c.promoted_id INTO v_outcome, v_promoted
            FROM admit_admin_cancel(p_admin_id, p_slug, p_registration_id) c;
        WHEN 'reissue' THEN
            SELECT c.outcome INTO v_outcome
            FROM admit_admin_reissue(p_admin_id, p_slug, p_registration_id, p_secret) c;
        WHEN 'promote' THEN
            SELECT c.outcome INTO v_outcome
            FROM admit_admin_promote(p_admin_id, p_slug, p_registration_id) c;
        ELSE
            SELECT c.outcome INTO v_outcome
            FROM admit_admin_checkin(p_admin_id, p_slug, p_registration_id, p_list_id, p_force,
                                     p_secret) c;
        END CASE;
    END IF;
    IF (p_action = 'cancel' AND v_outcome = 'cancelled')
       OR v_outcome IN ('reissued', 'promoted', 'checked_in') THEN
        UPDATE admin_actions a SET outcome = v_outcome, promoted_id = v_promoted
        WHERE a.key = p_key;
    ELSE
        DELETE FROM admin_actions a WHERE a.key = p_key;
    END IF;
    outcome := v_outcome;
    promoted_id := v_promoted;
END $$;

-- One scan as the organisers' pages show it (the attendee's scans, the door review); p_device:
-- the device's name (NULL: by hand), p_time_zone: the event's.
CREATE FUNCTION admit_admin_scan_json(s scans, p_device text, p_time_zone text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', s.id,
        'time', to_char(s.scanned_at AT TIME ZONE p_time_zone, 'FMDD FMMonth, HH24:MI:SS'),
        'gate', s.gate, 'device', p_device, 'direction', s.direction, 'offline', s.offline,
        'flagged', s.flagged, 'verdict', s.verdict, 'reason', s.reason, 'source', s.source)
$$;

-- Door review: an organiser marks a flagged scan (an entry a door let through offline that the
-- server refuses, an entry displaced by an earlier offline one, a forced check-in) reviewed,
-- with a note. One review per scan; reviewer keeps the admin's email as it was, so that the
-- record still says who after the admin is removed.
CREATE TABLE scan_reviews (
    scan_id bigint PRIMARY KEY REFERENCES scans ON DELETE CASCADE,
    admin_id integer REFERENCES admins ON DELETE SET NULL,
    reviewer text NOT NULL,
    note text NOT NULL CHECK (length(note) BETWEEN 1 AND 1000),
    reviewed_at timestamptz NOT NULL DEFAULT now()
);

-- Marks the flagged scan p_scan_id of the event p_slug reviewed by p_admin_id with p_note.
-- Returns 'reviewed', 'already_reviewed' (the first review stands: a form sent twice records
-- one) or 'not_found' (no such flagged scan in an event this admin may see).
CREATE FUNCTION admit_admin_scan_review(p_admin_id integer, p_slug text, p_scan_id bigint,
                                        p_note text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM scans s JOIN events e ON e.id = s.event_id
    WHERE s.id = p_scan_id AND s.flagged AND e.slug = p_slug AND admit_admin_may(p_admin_id, e.id);
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    INSERT INTO scan_reviews (scan_id, admin_id, reviewer, note)
    SELECT p_scan_id, a.id, a.email, p_note FROM admins a WHERE a.id = p_admin_id
    ON CONFLICT (scan_id) DO NOTHING;
    RETURN CASE WHEN FOUND THEN 'reviewed' ELSE 'already_reviewed' END;
END $$;
