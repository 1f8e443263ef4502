-- An event as its edit form shows it: local times in the event's time zone, lists with their
-- days and session settings (places, times). $1 admin id, $2 slug.
SELECT json_build_object(
    'slug', e.slug, 'name', e.name, 'description', e.description, 'venue', e.venue,
    'venue_address', e.venue_address, 'organiser', e.organiser,
    'contact_email', e.contact_email, 'time_zone', e.time_zone,
    'starts', to_char(e.starts_at AT TIME ZONE e.time_zone, 'YYYY-MM-DD"T"HH24:MI'),
    'ends', to_char(e.ends_at AT TIME ZONE e.time_zone, 'YYYY-MM-DD"T"HH24:MI'),
    'opens', coalesce(to_char(e.registration_opens_at AT TIME ZONE e.time_zone,
                              'YYYY-MM-DD"T"HH24:MI'), ''),
    'closes', coalesce(to_char(e.registration_closes_at AT TIME ZONE e.time_zone,
                               'YYYY-MM-DD"T"HH24:MI'), ''),
    'edits_close', coalesce(to_char(e.edits_close_at AT TIME ZONE e.time_zone,
                                    'YYYY-MM-DD"T"HH24:MI'), ''),
    'capacity', e.capacity::text, 'waitlist', e.waitlist,
    'retention_days', e.retention_days::text, 'privacy_notice_url', e.privacy_notice_url,
    'controller', e.controller,
    'attach_pdf_ticket', e.attach_pdf_ticket,
    'lists', coalesce((SELECT json_agg(json_build_object(
                           'id', l.id::text, 'name', l.name,
                           'day', coalesce(to_char(l.day, 'YYYY-MM-DD'), ''),
                           'capacity', coalesce(l.capacity::text, ''),
                           'session_starts', coalesce(to_char(l.starts_at AT TIME ZONE e.time_zone,
                                                              'YYYY-MM-DD"T"HH24:MI'), ''),
                           'session_ends', coalesce(to_char(l.ends_at AT TIME ZONE e.time_zone,
                                                            'YYYY-MM-DD"T"HH24:MI'), ''))
                           ORDER BY l.position)
                       FROM checkin_lists l WHERE l.event_id = e.id), '[]'::json))::text
FROM events e WHERE e.slug = $2 AND admit_admin_may($1, e.id)
