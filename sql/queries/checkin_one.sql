-- One online entry scan, the door's everyday case, in one statement: the same verdict as
-- admit_checkin_scan (sql/migrations/002_checkin.sql) gives it, without the function's dozen
-- statements (tests/unit/test_pg_checkin_one.c holds the two to the same answers). It answers
-- only what it can decide alone and otherwise returns no row, having written nothing, and the
-- caller asks admit_checkin:
--   - the token is unknown or revoked, or the device was last seen over a minute ago (the
--     function records when);
--   - the nonce was seen before (a retry: the function answers what was answered);
--   - the function is working on this nonce or this ticket's admission (it holds their locks);
--   - the person already has this list's admission but is not inside (a re-entry updates it),
--     or the admission was made by a scan that committed after this statement began (its time
--     and gate are not visible here).
-- Two copies of one nonce in flight at once: the second does not get the nonce's lock (or, if
-- the first committed in between, fails on the nonce's unique index: 23505, nothing kept) and
-- the caller asks admit_checkin, which finds the first. Two doors admitting one ticket at
-- once: the admission's primary key lets one insert, the other then sees no admission (it
-- began before) and goes to admit_checkin, which answers already_checked_in.
-- $1 SHA-256 of the device token (bytea, hex text form), $2 nonce, $3 list name, $4 scanned
-- at, $5 gate ('' or NULL: the device's name); what admitd read from the ticket: $6 event id,
-- $7 registration id, $8 reissue counter, or $9 why it was refused (then $6-$8 are NULL).
-- One row: verdict, reason, registration_id, name, organisation, first_at, first_gate.
WITH d AS MATERIALIZED ( -- so that the locks below are tried for this device only
    SELECT id, event_id, name FROM devices
    WHERE token_hash = $1::bytea AND revoked_at IS NULL
      AND last_seen_at >= now() - interval '1 minute'
), s AS MATERIALIZED (
    SELECT d.id AS device_id, d.event_id, coalesce(nullif($5::text, ''), d.name) AS gate,
           l.id AS list_id, r.id AS registration_id,
           r.given_name || ' ' || r.family_name AS name, r.organisation,
           nextval('scans_id') AS scan_id,
           CASE WHEN $9::text IS NOT NULL THEN 'invalid'
                WHEN $6::bigint IS DISTINCT FROM d.event_id THEN 'wrong_event'
                WHEN l.id IS NULL OR r.id IS NULL THEN 'invalid'
                WHEN r.status = 'cancelled' OR $8::integer < r.reissue THEN 'revoked'
                WHEN $8::integer > r.reissue THEN 'invalid'
                WHEN r.status = 'waitlisted' THEN 'waitlisted'
                WHEN NOT EXISTS (SELECT 1 FROM registration_lists rl
                                 WHERE rl.registration_id = r.id AND rl.list_id = l.id)
                    THEN 'not_on_list'
                ELSE 'admit' END AS decided,
           CASE WHEN $9::text IS NOT NULL THEN $9::text
                WHEN $6::bigint IS DISTINCT FROM d.event_id THEN ''
                WHEN l.id IS NULL THEN 'unknown_list'
                WHEN r.id IS NULL THEN 'unknown_attendee'
                WHEN r.status = 'cancelled' THEN 'cancelled'
                WHEN $8::integer < r.reissue THEN 'reissued'
                WHEN $8::integer > r.reissue THEN 'unknown_reissue'
                ELSE '' END AS reason
    FROM d
    LEFT JOIN checkin_lists l ON l.event_id = d.event_id AND l.name = $3::text
    LEFT JOIN registrations r ON r.id = $7::bigint AND r.event_id = l.event_id
    WHERE NOT EXISTS (SELECT 1 FROM scans x
                      WHERE x.device_id = d.id AND x.client_nonce = $2::text)
      -- admit_checkin's locks, tried, never waited for: while the function works on this nonce
      -- or on this ticket's admission, the scan is left to it (and waits there).
      AND pg_try_advisory_xact_lock(-1, hashtext(d.id || '/' || $2::text))
      AND ($7::bigint IS NULL
           OR pg_try_advisory_xact_lock(-2, hashtext($7::bigint || '/' || $3::text)))
), admitted AS (
    INSERT INTO admissions (registration_id, list_id, event_id, first_scan_id, first_at,
                            first_gate)
    SELECT registration_id, list_id, event_id, scan_id, $4::timestamptz, gate
    FROM s WHERE decided = 'admit'
    ON CONFLICT (registration_id, list_id) DO NOTHING
    RETURNING registration_id
), v AS (
    SELECT s.*,
           CASE WHEN s.decided <> 'admit' THEN s.decided
                WHEN EXISTS (SELECT 1 FROM admitted) THEN 'valid'
                WHEN a.inside THEN 'already_checked_in' END AS verdict,
           a.first_at, a.first_gate
    FROM s
    LEFT JOIN admissions a ON s.decided = 'admit' AND a.registration_id = s.registration_id
                          AND a.list_id = s.list_id
), logged AS (
    INSERT INTO scans (id, event_id, registration_id, list_id, device_id, gate, direction,
                       scanned_at, offline, verdict, reason, flagged, client_nonce, source)
    OVERRIDING SYSTEM VALUE
    SELECT scan_id, event_id, registration_id, list_id, device_id, gate, 'entry',
           $4::timestamptz, false, verdict, reason, false, $2::text, 'scanner'
    FROM v WHERE verdict IS NOT NULL
)
SELECT verdict, reason, registration_id, name, organisation,
       CASE WHEN verdict = 'already_checked_in' THEN admit_api_time(first_at) END,
       CASE WHEN verdict = 'already_checked_in' THEN first_gate END
FROM v WHERE verdict IS NOT NULL
