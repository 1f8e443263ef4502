-- Migration 12: door devices and organisers managed from /admin (issue 16).
--
-- Devices: the functions of migration 2 (admit device add / revoke / list) gain an acting
-- admin. NULL is the operator at the shell (admit device ...), who has every event; an
-- organiser only reaches the events admit_admin_may gives them, and for the others the answer
-- is 'not_found', exactly as for an event that does not exist. The old two-argument functions
-- stay for the release before this one and call the new ones, so each rule has one home.
--
-- Organisers: an all-events organiser adds and removes organisers and makes one-time password
-- links. A link's token is shown once; the database keeps its SHA-256. It works once, for a
-- day, and only the newest link of an organiser works. Setting a password through it ends the
-- organiser's sessions, as admit admin password does.
--
-- Additive: new functions and one new table; admit_device_add(text, text, bytea) and
-- admit_device_revoke(text, text) are replaced with the same signatures and behaviour.

CREATE FUNCTION admit_device_add_as(p_admin integer, p_slug text, p_name text,
                                    p_token_hash bytea, OUT outcome text, OUT device_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_event integer;
BEGIN
    SELECT id INTO v_event FROM events WHERE slug = p_slug;
    IF NOT FOUND OR (p_admin IS NOT NULL AND NOT admit_admin_may(p_admin, v_event)) THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    INSERT INTO devices (event_id, name, token_hash) VALUES (v_event, p_name, p_token_hash)
    ON CONFLICT DO NOTHING RETURNING id INTO device_id;
    outcome := CASE WHEN device_id IS NULL THEN 'name_taken' ELSE 'added' END;
END $$;

CREATE OR REPLACE FUNCTION admit_device_add(p_slug text, p_name text, p_token_hash bytea,
                                            OUT outcome text, OUT device_id integer)
LANGUAGE sql AS $$
    SELECT a.outcome, a.device_id FROM admit_device_add_as(NULL, p_slug, p_name, p_token_hash) a
$$;

-- Revokes the working device of the event p_slug named p_name (p_device NULL: admit device
-- revoke) or with the id p_device (p_name NULL: the web form, so that a form sent again after
-- a new device took the old name cannot revoke the new one). outcome 'revoked' or 'not_found'.
CREATE FUNCTION admit_device_revoke_as(p_admin integer, p_slug text, p_name text,
                                       p_device integer, OUT outcome text,
                                       OUT device_id integer)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE devices d SET revoked_at = now()
    FROM events e
    WHERE e.id = d.event_id AND e.slug = p_slug AND d.revoked_at IS NULL
      AND (p_name IS NULL OR d.name = p_name) AND (p_device IS NULL OR d.id = p_device)
      AND (p_name IS NOT NULL OR p_device IS NOT NULL)
      AND (p_admin IS NULL OR admit_admin_may(p_admin, e.id))
    RETURNING d.id INTO device_id;
    outcome := CASE WHEN device_id IS NULL THEN 'not_found' ELSE 'revoked' END;
END $$;

CREATE OR REPLACE FUNCTION admit_device_revoke(p_slug text, p_name text, OUT outcome text,
                                               OUT device_id integer)
LANGUAGE sql AS $$
    SELECT r.outcome, r.device_id FROM admit_device_revoke_as(NULL, p_slug, p_name, NULL) r
$$;

-- The devices of an event, newest first, for admit device list (the "devices" array) and the
-- organisers' page: {event: {slug, name}, devices: [{id, name, created_at, revoked_at,
-- last_seen_at (API times, UTC), created, revoked, last_seen (in the event's time zone, for
-- people), scans}]}. NULL when there is no such event or p_admin may not see it.
CREATE FUNCTION admit_device_list_json(p_admin integer, p_slug text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'event', json_build_object('slug', e.slug, 'name', e.name),
        'devices', coalesce((
            SELECT json_agg(json_build_object(
                'id', d.id, 'name', d.name, 'created_at', admit_api_time(d.created_at),
                'revoked_at', admit_api_time(d.revoked_at),
                'last_seen_at', admit_api_time(d.last_seen_at),
                'created', to_char(d.created_at AT TIME ZONE e.time_zone,
                                   'FMDD FMMonth YYYY, HH24:MI'),
                'revoked', to_char(d.revoked_at AT TIME ZONE e.time_zone,
                                   'FMDD FMMonth YYYY, HH24:MI'),
                'last_seen', to_char(d.last_seen_at AT TIME ZONE e.time_zone,
                                     'FMDD FMMonth YYYY, HH24:MI'),
                'active', d.revoked_at IS NULL,
                'scans', (SELECT count(*) FROM scans s WHERE s.device_id = d.id))
                ORDER BY d.id DESC)
            FROM devices d WHERE d.event_id = e.id), '[]'::json))
    FROM events e
    WHERE e.slug = p_slug AND (p_admin IS NULL OR admit_admin_may(p_admin, e.id))
$$;

-- One-time links that set an organiser's password.
CREATE TABLE admin_password_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    admin_id integer NOT NULL REFERENCES admins ON DELETE CASCADE,
    created_by integer REFERENCES admins ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX admin_password_links_admin ON admin_password_links (admin_id);

-- The organiser's name, as the organisers' page shows it ('' for those added by admit admin add,
-- and by the release before this one, which does not know the column).
ALTER TABLE admins ADD COLUMN name text NOT NULL DEFAULT '' CHECK (length(name) <= 200);

CREATE FUNCTION admit_admin_link_lifetime() RETURNS interval LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '24 hours' $$;

-- Whether p_actor may manage organisers: an all-events organiser.
CREATE FUNCTION admit_admin_manages_admins(p_actor integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM admins WHERE id = p_actor AND all_events)
$$;

-- The organisers' page as JSON: {organisers: [{id, name, email, all_events, me, events: [{slug,
-- name}], sessions, created}] by email, events: [{slug, name}] (every event, for the form)}.
-- NULL unless p_actor manages organisers.
CREATE FUNCTION admit_admin_list_json(p_actor integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN admit_admin_manages_admins(p_actor) THEN json_build_object(
        'organisers', coalesce((SELECT json_agg(json_build_object(
            'id', a.id, 'name', a.name, 'email', a.email, 'all_events', a.all_events,
            'me', a.id = p_actor,
            'events', coalesce((SELECT json_agg(json_build_object('slug', e.slug, 'name', e.name)
                                                ORDER BY e.slug)
                                FROM admin_events ae JOIN events e ON e.id = ae.event_id
                                WHERE ae.admin_id = a.id), '[]'::json),
            'sessions', (SELECT count(*) FROM admin_sessions s
                         WHERE s.admin_id = a.id AND s.expires_at > now()),
            'created', to_char(a.created_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY'))
            ORDER BY lower(a.email)) FROM admins a), '[]'::json),
        'events', coalesce((SELECT json_agg(json_build_object('slug', e.slug, 'name', e.name)
                                            ORDER BY e.starts_at DESC, e.slug)
                            FROM events e), '[]'::json)) END
$$;

-- A new password link for the organiser p_admin, made by p_actor; earlier unused links of
-- that organiser stop working. outcome 'created' (email: the organiser's), 'forbidden' (the
-- actor does not manage organisers) or 'not_found'.
CREATE FUNCTION admit_admin_link_create(p_actor integer, p_admin integer, p_token_hash bytea,
                                        OUT outcome text, OUT email text)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT admit_admin_manages_admins(p_actor) THEN
        outcome := 'forbidden';
        RETURN;
    END IF;
    SELECT a.email INTO email FROM admins a WHERE a.id = p_admin FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    -- Replaced links expire now (so that they say so), and long-dead ones go.
    UPDATE admin_password_links SET expires_at = now()
    WHERE admin_id = p_admin AND used_at IS NULL AND expires_at > now();
    DELETE FROM admin_password_links WHERE expires_at < now() - interval '30 days';
    INSERT INTO admin_password_links (token_hash, admin_id, created_by, expires_at)
    VALUES (p_token_hash, p_admin, p_actor, now() + admit_admin_link_lifetime());
    outcome := 'created';
END $$;

-- Adds an organiser from the web (admit_admin_add: p_hash is a password nobody knows), with
-- their name, and, in the same transaction, their first password link. outcome as
-- admit_admin_add ('added', 'exists', 'unknown_event' with detail) or 'forbidden'; admin_id the
-- new organiser's.
CREATE FUNCTION admit_admin_invite(p_actor integer, p_name text, p_email text, p_hash text,
                                   p_slugs text[], p_token_hash bytea, OUT outcome text,
                                   OUT detail text, OUT admin_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_link record;
BEGIN
    IF NOT admit_admin_manages_admins(p_actor) THEN
        outcome := 'forbidden';
        RETURN;
    END IF;
    SELECT a.outcome, a.detail INTO outcome, detail FROM admit_admin_add(p_email, p_hash, p_slugs) a;
    IF outcome <> 'added' THEN
        RETURN;
    END IF;
    UPDATE admins a SET name = p_name WHERE lower(a.email) = lower(p_email)
    RETURNING a.id INTO admin_id;
    SELECT * INTO v_link FROM admit_admin_link_create(p_actor, admin_id, p_token_hash);
END $$;

-- What a password link is: status 'ok', 'used', 'expired' or 'unknown', and the organiser's
-- email (NULL when unknown).
CREATE FUNCTION admit_admin_link_status(p_token_hash bytea, OUT status text, OUT email text)
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT CASE WHEN l.used_at IS NOT NULL THEN 'used'
                                 WHEN l.expires_at <= now() THEN 'expired' ELSE 'ok' END
                     FROM admin_password_links l WHERE l.token_hash = p_token_hash), 'unknown'),
           (SELECT a.email FROM admin_password_links l JOIN admins a ON a.id = l.admin_id
            WHERE l.token_hash = p_token_hash)
$$;

-- Sets the password through a link, once: the link is used up and every session of the
-- organiser ends. status as admit_admin_link_status ('ok': the password is set).
CREATE FUNCTION admit_admin_link_use(p_token_hash bytea, p_hash text, OUT status text,
                                     OUT email text)
LANGUAGE plpgsql AS $$
DECLARE
    v_link admin_password_links%ROWTYPE;
BEGIN
    SELECT * INTO v_link FROM admin_password_links WHERE token_hash = p_token_hash FOR UPDATE;
    SELECT s.status, s.email INTO status, email FROM admit_admin_link_status(p_token_hash) s;
    IF status <> 'ok' THEN
        RETURN;
    END IF;
    UPDATE admin_password_links SET used_at = now() WHERE token_hash = p_token_hash;
    UPDATE admins SET password_hash = p_hash WHERE id = v_link.admin_id;
    DELETE FROM admin_sessions WHERE admin_id = v_link.admin_id;
END $$;

-- Removes the organiser p_admin (with their sessions, grants and links), by p_actor.
-- outcome 'removed' (email: who), 'forbidden', 'self' (nobody removes themselves: another
-- all-events organiser, or admit admin remove, does) or 'not_found'.
CREATE FUNCTION admit_admin_remove_as(p_actor integer, p_admin integer, OUT outcome text,
                                      OUT email text)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT admit_admin_manages_admins(p_actor) THEN
        outcome := 'forbidden';
    ELSIF p_actor = p_admin THEN
        outcome := 'self';
    ELSE
        DELETE FROM admins a WHERE a.id = p_admin RETURNING a.email INTO email;
        outcome := CASE WHEN email IS NULL THEN 'not_found' ELSE 'removed' END;
    END IF;
END $$;
