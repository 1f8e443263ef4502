-- Migration 15: certificates of attendance (issue 20).
--
-- An attendee may download a certificate naming the check-in lists (days and sessions) they
-- were admitted to, once the event has ended or the organisers released them earlier
-- (events.certificates_released). The rule is admit_certificate_state, in one place; the
-- certificate's lists are the person's admissions, nothing else.
--
-- Additive: one column with a default (the release before ignores it) and new functions.

ALTER TABLE events ADD COLUMN certificates_released boolean NOT NULL DEFAULT false;

-- Whether certificates of event e can be had: 'released' (by the organisers), 'ended' (the
-- event is over) or 'not_yet'.
CREATE FUNCTION admit_certificate_state(e events) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e.certificates_released THEN 'released'
                WHEN now() >= e.ends_at THEN 'ended'
                ELSE 'not_yet' END
$$;

-- The lists registration p_id was admitted to, in the event's order, as JSON:
-- [{"id", "name", "day", "first"}] (the first entry in the event's time zone).
CREATE FUNCTION admit_certificate_lists(p_id integer) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'id', l.id, 'name', l.name, 'day', to_char(l.day, 'FMDay FMDD FMMonth YYYY'),
               'first', to_char(a.first_at AT TIME ZONE e.time_zone, 'FMDD FMMonth YYYY, HH24:MI'))
               ORDER BY l.id), '[]'::json)
    FROM admissions a
    JOIN checkin_lists l ON l.id = a.list_id
    JOIN events e ON e.id = l.event_id
    WHERE a.registration_id = p_id
$$;
