-- A registration as its edit form shows it, as JSON: the values, the version, the event (with
-- the edit deadline and whether it has passed), the lists chosen (held or waited for), the address waiting for its
-- confirmation, and, for organisers, the change log. $1 access token (the attendee; NULL for an
-- organiser), $2 admin id (NULL for the attendee), $3 slug, $4 registration id.
SELECT json_build_object(
    'id', r.id, 'token', r.token, 'status', r.status, 'version', r.version,
    'values', json_build_object(
        'given_name', r.given_name, 'family_name', r.family_name, 'email', r.email,
        'organisation', r.organisation, 'organisation_type', r.organisation_type,
        'country', r.country, 'dietary', r.dietary, 'accessibility', r.accessibility),
    -- Chosen: the lists held and the full sessions waited for (migration 18), so that saving
    -- the form unchanged keeps the person's place in those waiting lines.
    'list_ids', coalesce((SELECT json_agg(x.list_id ORDER BY x.list_id)
                          FROM (SELECT rl.list_id FROM registration_lists rl
                                WHERE rl.registration_id = r.id
                                UNION SELECT w.list_id FROM registration_list_waits w
                                WHERE w.registration_id = r.id) x),
                         '[]'::json),
    'pending_email', (SELECT c.new_email FROM email_changes c
                      WHERE c.registration_id = r.id AND c.confirmed_at IS NULL
                        AND c.superseded_at IS NULL AND c.expires_at > now()
                      ORDER BY c.id DESC LIMIT 1),
    'edit_until', to_char(admit_edit_deadline(e) AT TIME ZONE e.time_zone,
                          'FMDD FMMonth YYYY, HH24:MI'),
    'edit_closed', now() >= admit_edit_deadline(e),
    'event', admit_event_json(e),
    'changes', CASE WHEN $2::integer IS NOT NULL
                    THEN admit_registration_change_log(r.id, e.time_zone) END)::text
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE CASE WHEN $2::integer IS NULL THEN r.token = $1
           ELSE r.id = $4::integer AND e.slug = $3 AND admit_admin_may($2::integer, e.id) END
