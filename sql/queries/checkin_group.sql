-- Online entry scans, the door's everyday case, decided in one statement: one scan, or a group
-- of scans from several doors that admitd gathered while earlier ones were in the database
-- (lib/checkin/checkin_pool.c), so that they share one transaction, one commit and one executor
-- start-up. Each gets the verdict admit_checkin_scan (sql/migrations/008_checkin_rule.sql) would
-- give it, by the same rule (admit_checkin_rule), without the function's dozen statements
-- (tests/unit/test_pg_checkin_group.c holds the two to the same answers). The statement answers only what it can decide alone; a scan it leaves
-- gets no row and nothing written for it, and the caller asks admit_checkin:
--   - the token is unknown or revoked, or the device was last seen over a minute ago (the
--     function records when);
--   - the nonce was seen before (a retry: the function answers what was answered, or refuses
--     a nonce reused for another scan: each scan keeps its key, admit_scan_key);
--   - the function or another group is working on this nonce or this ticket's admission (it
--     holds their locks), or an earlier scan of this group has the same nonce or ticket and list;
--   - the person already has this list's admission but is not inside (a re-entry updates it),
--     or the admission was made by a scan that committed after this statement began (its time
--     and gate are not visible here).
-- Two copies of one nonce in flight at once: the second does not get the nonce's lock (or, if
-- the first committed in between, fails on the nonce's unique index: 23505, nothing kept) and
-- the caller asks admit_checkin, which finds the first. Two doors admitting one ticket at
-- once: the admission's primary key lets one insert, the other then sees no admission (it
-- began before) and goes to admit_checkin, which answers already_checked_in. The locks are
-- only tried, never waited for, so two groups never wait for each other.
-- Arrays, one element per scan, in the same order: $1 SHA-256 of the device token (bytea), $2
-- nonce, $3 list name, $4 scanned at, $5 gate (NULL or '': the device's name); what admitd read
-- from the ticket: $6 event id, $7 registration id, $8 reissue counter, or $9 why it was
-- refused (then $6-$8 are NULL).
-- One row per scan decided: its position in the arrays (from 1), verdict, reason,
-- registration_id, name, organisation, first_at, first_gate, entered_at, entered_gate (the
-- latest entry: migration 6), door (the answers the organiser shows at the door: migration 17).
WITH i AS (
    SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                         $6::bigint[], $7::bigint[], $8::integer[], $9::text[])
                  WITH ORDINALITY AS i(token_hash, nonce, list, scanned_at, gate, event_id,
                                       registration_id, reissue, invalid, ord)
), d AS MATERIALIZED ( -- so that the locks below are tried for known devices only
    SELECT i.*, dv.id AS device_id, dv.event_id AS device_event, dv.name AS device_name
    FROM i JOIN devices dv ON dv.token_hash = i.token_hash AND dv.revoked_at IS NULL
                          AND dv.last_seen_at >= now() - interval '1 minute'
), s AS MATERIALIZED (
    SELECT d.ord, d.device_id, d.device_event AS event_id, d.nonce, d.scanned_at,
           coalesce(nullif(d.gate, ''), d.device_name) AS gate,
           l.id AS list_id, r.id AS registration_id,
           r.given_name || ' ' || r.family_name AS name, r.organisation,
           nextval('scans_id') AS scan_id,
           admit_scan_key(d.event_id, d.registration_id, d.reissue, d.invalid, d.list,
                          'entry') AS scan_key,
           x.rule[1] AS decided, x.rule[2] AS reason
    FROM d
    LEFT JOIN checkin_lists l ON l.event_id = d.device_event AND l.name = d.list
    LEFT JOIN registrations r ON r.id = d.registration_id AND r.event_id = l.event_id
    -- The verdict order, written once (migration 8); 'admit' goes on to the admission.
    CROSS JOIN LATERAL (
        SELECT admit_checkin_rule(d.invalid, d.event_id, d.device_event, l.id, r.id, r.status,
                                  d.reissue, r.reissue,
                                  EXISTS (SELECT 1 FROM registration_lists rl
                                          WHERE rl.registration_id = r.id AND rl.list_id = l.id),
                                  'entry') AS rule) AS x
    WHERE NOT EXISTS (SELECT 1 FROM scans x
                      WHERE x.device_id = d.device_id AND x.client_nonce = d.nonce)
      -- the same nonce or ticket earlier in the group: left to admit_checkin, after this commits
      AND NOT EXISTS (SELECT 1 FROM d e WHERE e.ord < d.ord
                      AND ((e.token_hash = d.token_hash AND e.nonce = d.nonce)
                           OR (e.registration_id = d.registration_id AND e.list = d.list)))
      -- admit_checkin's locks, tried, never waited for: while the function (or another group)
      -- works on this nonce or on this ticket's admission, the scan is left to it
      AND pg_try_advisory_xact_lock(-1, hashtext(d.device_id || '/' || d.nonce))
      AND (d.registration_id IS NULL
           OR pg_try_advisory_xact_lock(-2, hashtext(d.registration_id || '/' || d.list)))
), admitted AS (
    INSERT INTO admissions (registration_id, list_id, event_id, first_scan_id, first_at,
                            first_gate)
    SELECT registration_id, list_id, event_id, scan_id, scanned_at, gate
    FROM s WHERE decided = 'admit'
    ON CONFLICT (registration_id, list_id) DO NOTHING
    RETURNING first_scan_id
), v AS (
    SELECT s.*,
           CASE WHEN s.decided <> 'admit' THEN s.decided
                WHEN EXISTS (SELECT 1 FROM admitted ad WHERE ad.first_scan_id = s.scan_id)
                    THEN 'valid'
                WHEN a.inside THEN 'already_checked_in' END AS verdict,
           a.first_at, a.first_gate, coalesce(a.entered_at, a.first_at) AS entered_at,
           coalesce(a.entered_gate, a.first_gate) AS entered_gate
    FROM s
    LEFT JOIN admissions a ON s.decided = 'admit' AND a.registration_id = s.registration_id
                          AND a.list_id = s.list_id
), logged AS (
    INSERT INTO scans (id, event_id, registration_id, list_id, device_id, gate, direction,
                       scanned_at, offline, verdict, reason, flagged, client_nonce, source,
                       client_scan_key)
    OVERRIDING SYSTEM VALUE
    SELECT scan_id, event_id, registration_id, list_id, device_id, gate, 'entry',
           scanned_at, false, verdict, reason, false, nonce, 'scanner', scan_key
    FROM v WHERE verdict IS NOT NULL
)
SELECT ord, verdict, reason, registration_id, name, organisation,
       CASE WHEN verdict = 'already_checked_in' THEN admit_api_time(first_at) END,
       CASE WHEN verdict = 'already_checked_in' THEN first_gate END,
       CASE WHEN verdict = 'already_checked_in' THEN admit_api_time(entered_at) END,
       CASE WHEN verdict = 'already_checked_in' THEN entered_gate END,
       CASE WHEN registration_id IS NOT NULL AND name IS NOT NULL
            THEN admit_door_note(registration_id) END
FROM v WHERE verdict IS NOT NULL
