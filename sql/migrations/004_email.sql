-- Migration 4: e-mail through a transactional outbox.
--
-- Every message an attendee gets is a row of mail_outbox, written in the same transaction as the
-- change it tells about: a registration that rolls back leaves no message, and one that commits
-- always has its message. No business function writes these rows itself. A deferred constraint
-- trigger on registrations runs at commit, once per changed row, reads the row's final state,
-- compares it with what its attendee was last told (mail_notified) and queues the one message
-- that tells the difference: 'confirmation', 'waitlisted', 'promoted', 'cancelled' or
-- 'reissued'. So every path that changes a registration (the web form, cancelling and its
-- promotion, the organisers' actions, imports, anything written later) is covered without being
-- edited, and only the final state is told: admit_register inserts a registration as confirmed
-- and turns it into waitlisted in the same transaction (one 'waitlisted' message), and deletes
-- it again when the event is full (no message).
--
-- A transaction that must not mail (an import of people who were told otherwise) runs
-- SET LOCAL admit.mail = 'off': the trigger then records the state as told and queues nothing.
-- SET CONSTRAINTS ALL IMMEDIATE would make the trigger run after each statement instead of at
-- commit, so that intermediate states could be mailed: nothing in admit does that.
--
-- The messages themselves are rendered and sent by `admit mailer` (cli/mailer.c), which claims
-- one row at a time: pending -> sending (committed before it talks to SMTP, with a lease) ->
-- sent | failed (refused for good, with the server's reply) | superseded (the registration
-- changed again before it went out, and a later message tells the news) or back to pending with
-- an exponential back-off when the SMTP server is unreachable or answers 4xx. A row still in
-- 'sending' when its lease ends belongs to a mailer that died: another claims it and sends it
-- again, with the same Message-ID (message_uuid), which is the one at-least-once window.

CREATE TYPE mail_kind AS ENUM ('confirmation', 'waitlisted', 'promoted', 'cancelled', 'reissued',
                               'resend');
CREATE TYPE mail_state AS ENUM ('pending', 'sending', 'sent', 'failed', 'superseded');

-- What each registration's attendee was last told about it (or, for rows that existed before
-- this migration or changed with admit.mail off, is taken to know). A table of its own rather
-- than columns of registrations: recording it never rewrites a registration row, so it adds no
-- row version to that table, fires no trigger of other migrations and changes no change_seq.
-- revision counts the messages sent about the registration: the iCalendar SEQUENCE.
CREATE TABLE mail_notified (
    registration_id integer PRIMARY KEY REFERENCES registrations ON DELETE CASCADE,
    status registration_status NOT NULL,
    reissue smallint NOT NULL,
    revision integer NOT NULL DEFAULT 0
);
-- Registrations made before e-mail existed were never told anything by mail: nothing is sent
-- for them now, and later changes are told from here on.
INSERT INTO mail_notified (registration_id, status, reissue)
SELECT id, status, reissue FROM registrations;

CREATE TABLE mail_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind mail_kind NOT NULL,
    registration_id integer REFERENCES registrations ON DELETE CASCADE, -- NULL for 'resend'
    recipient text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    previous_status registration_status,  -- what the attendee knew before this message
    revision integer NOT NULL DEFAULT 0,
    -- The Message-ID is <message_uuid@domain of the From address>: the same for every attempt.
    message_uuid uuid NOT NULL DEFAULT gen_random_uuid(),
    state mail_state NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,            -- while 'sending'
    first_attempt_at timestamptz,       -- the message's Date
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    last_error text NOT NULL DEFAULT '',
    CHECK ((kind = 'resend') = (registration_id IS NULL))
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX mail_outbox_leased ON mail_outbox (lease_until) WHERE state = 'sending';
CREATE INDEX mail_outbox_registration ON mail_outbox (registration_id);

-- The message that tells an attendee who knows (p_was, p_was_reissue) that the registration is
-- now (p_now, p_now_reissue); NULL when there is nothing to tell.
CREATE FUNCTION admit_mail_kind(p_was registration_status, p_was_reissue smallint,
                                p_now registration_status, p_now_reissue smallint)
RETURNS mail_kind LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_now = 'cancelled' THEN
            CASE WHEN p_was IN ('confirmed', 'waitlisted') THEN 'cancelled'::mail_kind END
        WHEN p_now = 'waitlisted' THEN
            CASE WHEN p_was IS DISTINCT FROM 'waitlisted' THEN 'waitlisted'::mail_kind END
        WHEN p_was IS NULL OR p_was = 'cancelled' THEN 'confirmation'::mail_kind
        WHEN p_was = 'waitlisted' THEN 'promoted'::mail_kind
        WHEN p_was_reissue IS DISTINCT FROM p_now_reissue THEN 'reissued'::mail_kind
    END
$$;

-- The deferred trigger: see the top of this file. Runs at commit, in the committing transaction,
-- which holds the row lock of every registration it changed.
CREATE FUNCTION admit_mail_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
    v_last mail_notified%ROWTYPE;
    v_kind mail_kind;
    v_revision integer;
BEGIN
    SELECT * INTO v_reg FROM registrations WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL; -- deleted again in the same transaction: nobody to tell
    END IF;
    SELECT * INTO v_last FROM mail_notified WHERE registration_id = v_reg.id FOR UPDATE;
    IF FOUND AND v_last.status = v_reg.status AND v_last.reissue = v_reg.reissue THEN
        RETURN NULL; -- told already, by this trigger for an earlier change of this transaction
    END IF;
    v_kind := admit_mail_kind(v_last.status, v_last.reissue, v_reg.status, v_reg.reissue);
    IF coalesce(current_setting('admit.mail', true), '') = 'off' THEN
        v_kind := NULL;
    END IF;
    v_revision := coalesce(v_last.revision, 0) + CASE WHEN v_kind IS NULL THEN 0 ELSE 1 END;
    INSERT INTO mail_notified AS n (registration_id, status, reissue, revision)
    VALUES (v_reg.id, v_reg.status, v_reg.reissue, v_revision)
    ON CONFLICT (registration_id) DO UPDATE
    SET status = EXCLUDED.status, reissue = EXCLUDED.reissue, revision = EXCLUDED.revision;
    IF v_kind IS NOT NULL THEN
        INSERT INTO mail_outbox (kind, registration_id, recipient, previous_status, revision)
        VALUES (v_kind, v_reg.id, v_reg.email, v_last.status, v_revision);
    END IF;
    RETURN NULL;
END $$;

-- The WHEN clause is evaluated when the row changes, so other updates queue nothing.
CREATE CONSTRAINT TRIGGER registrations_mail_insert AFTER INSERT ON registrations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION admit_mail_notify();
CREATE CONSTRAINT TRIGGER registrations_mail_update AFTER UPDATE OF status, reissue ON registrations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.reissue IS DISTINCT FROM NEW.reissue)
    EXECUTE FUNCTION admit_mail_notify();

-- "+0100", "-0330": a UTC offset as iCalendar writes it.
CREATE FUNCTION admit_utc_offset(p_offset interval) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_offset < interval '0' THEN '-' ELSE '+' END
        || to_char(abs(extract(epoch FROM p_offset))::integer / 3600, 'FM00')
        || to_char(abs(extract(epoch FROM p_offset))::integer % 3600 / 60, 'FM00')
$$;

-- The observances of time zone p_tz from the start of the year p_starts falls in (local time)
-- to the end of the year of p_ends, as iCalendar's VTIMEZONE needs them, read off PostgreSQL's
-- own time zone data: the offset at the start of that span, then one entry per change of UTC
-- offset. Each entry: starts (local wall time before the change, "YYYYMMDDTHHMMSS"),
-- offset_from, offset_to, daylight (the offset is above the lowest of the span) and name (the
-- abbreviation, "CEST", when the zone has a real one). Changes are found by the hour, then
-- pinned to the minute; no zone changes offset twice within an hour.
CREATE FUNCTION admit_tz_observances(p_tz text, p_starts timestamptz, p_ends timestamptz)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz := date_trunc('year', p_starts AT TIME ZONE p_tz) AT TIME ZONE p_tz;
    v_to timestamptz := (date_trunc('year', p_ends AT TIME ZONE p_tz) + interval '1 year')
                        AT TIME ZONE p_tz;
    v_saved text := current_setting('TimeZone');
    v_result json;
BEGIN
    -- to_char's TZ (the abbreviation) follows the session's time zone.
    PERFORM set_config('TimeZone', p_tz, true);
    WITH hours AS (
        SELECT t, (t AT TIME ZONE p_tz) - (t AT TIME ZONE 'UTC') AS off
        FROM generate_series(v_from, v_to, interval '1 hour') AS t),
    steps AS (
        SELECT t, off, lag(off) OVER (ORDER BY t) AS prev FROM hours),
    changes AS (
        SELECT (SELECT m FROM generate_series(s.t - interval '59 minutes', s.t,
                                              interval '1 minute') AS m
                WHERE (m AT TIME ZONE p_tz) - (m AT TIME ZONE 'UTC') = s.off
                ORDER BY m LIMIT 1) AS at,
               s.prev, s.off
        FROM steps s WHERE s.prev IS NOT NULL AND s.off <> s.prev),
    observances AS (
        SELECT v_from AS at, h.off AS prev, h.off FROM hours h WHERE h.t = v_from
        UNION ALL
        SELECT at, prev, off FROM changes)
    SELECT json_agg(json_build_object(
               'starts', to_char((o.at AT TIME ZONE 'UTC') + o.prev, 'YYYYMMDD"T"HH24MISS'),
               'offset_from', admit_utc_offset(o.prev),
               'offset_to', admit_utc_offset(o.off),
               'daylight', o.off > (SELECT min(h.off) FROM hours h),
               'name', CASE WHEN to_char(o.at, 'TZ') ~ '^[A-Za-z]{2,}$' THEN to_char(o.at, 'TZ') END)
           ORDER BY o.at)
    INTO v_result FROM observances o;
    PERFORM set_config('TimeZone', v_saved, true);
    RETURN v_result;
END $$;

-- Everything the mailer needs to render one message, as JSON: the message (kind, recipient,
-- message_uuid, date as Unix time, revision), and for the registration kinds the registration
-- as it is now, its event (admit_event_json, plus the calendar fields) and the cached PNG of
-- its ticket's current version (hex, NULL when not rendered yet); for 'resend', the live
-- registrations of the address for events that have not ended.
CREATE FUNCTION admit_mail_payload(o mail_outbox) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_reg registrations%ROWTYPE;
    v_event events%ROWTYPE;
BEGIN
    IF o.kind = 'resend' THEN
        RETURN json_build_object(
            'kind', o.kind, 'recipient', o.recipient, 'message_uuid', o.message_uuid,
            'date', extract(epoch FROM o.first_attempt_at)::bigint, 'revision', o.revision,
            'registrations', coalesce((
                SELECT json_agg(json_build_object(
                           'token', r.token, 'status', r.status,
                           'is_confirmed', r.status = 'confirmed',
                           'is_waitlisted', r.status = 'waitlisted',
                           'given_name', r.given_name, 'family_name', r.family_name,
                           'event', json_build_object(
                               'name', e.name, 'venue', e.venue,
                               'dates', admit_date_range(e.starts_at, e.ends_at, e.time_zone)))
                       ORDER BY e.starts_at, r.id)
                FROM registrations r JOIN events e ON e.id = r.event_id
                WHERE r.event_id IN (SELECT id FROM events WHERE ends_at > now())
                  AND lower(r.email) = lower(o.recipient) AND r.status <> 'cancelled'),
                '[]'::json));
    END IF;
    SELECT * INTO v_reg FROM registrations WHERE id = o.registration_id;
    SELECT * INTO v_event FROM events WHERE id = v_reg.event_id;
    RETURN json_build_object(
        'kind', o.kind, 'recipient', o.recipient, 'message_uuid', o.message_uuid,
        'date', extract(epoch FROM o.first_attempt_at)::bigint, 'revision', o.revision,
        'previous_status', o.previous_status,
        'was_confirmed', o.previous_status = 'confirmed',
        'was_waitlisted', o.previous_status = 'waitlisted',
        'registration', json_build_object(
            'id', v_reg.id, 'event_id', v_reg.event_id, 'token', v_reg.token,
            'status', v_reg.status, 'reissue', v_reg.reissue,
            'given_name', v_reg.given_name, 'family_name', v_reg.family_name,
            'organisation', v_reg.organisation,
            'waitlist_position', CASE WHEN v_reg.status = 'waitlisted' THEN
                (SELECT count(*) FROM registrations w WHERE w.event_id = v_reg.event_id
                 AND w.status = 'waitlisted' AND w.id <= v_reg.id) END,
            'lists', coalesce((SELECT json_agg(json_build_object(
                                          'name', l.name,
                                          'day', to_char(l.day, 'FMDay FMDD FMMonth'))
                                      ORDER BY l.position)
                               FROM registration_lists rl
                               JOIN checkin_lists l ON l.id = rl.list_id
                               WHERE rl.registration_id = v_reg.id), '[]'::json)),
        'event', admit_event_json(v_event),
        'calendar', json_build_object(
            'starts', to_char(v_event.starts_at AT TIME ZONE v_event.time_zone,
                              'YYYYMMDD"T"HH24MISS'),
            'ends', to_char(v_event.ends_at AT TIME ZONE v_event.time_zone, 'YYYYMMDD"T"HH24MISS'),
            'stamp', to_char(o.first_attempt_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"'),
            'observances', admit_tz_observances(v_event.time_zone, v_event.starts_at,
                                                v_event.ends_at)),
        'png', (SELECT encode(t.png, 'hex') FROM ticket_images t
                WHERE t.registration_id = v_reg.id AND t.reissue = v_reg.reissue));
END $$;

-- Claims the next message to send: a pending one that is due, else one whose sender's lease ran
-- out (that mailer died: the message goes out again, with the same Message-ID). Several mailers
-- may claim at once (SKIP LOCKED). Marks it 'sending' until now() + p_lease_seconds and counts
-- the attempt; the caller's statement commits this before any SMTP traffic. Returns a row of
-- NULLs when nothing is due.
CREATE FUNCTION admit_mail_claim(p_lease_seconds integer, OUT message_id bigint,
                                 OUT attempt integer, OUT payload text)
LANGUAGE plpgsql AS $$
DECLARE
    v mail_outbox%ROWTYPE;
BEGIN
    SELECT * INTO v FROM mail_outbox o
    WHERE o.state = 'pending' AND o.next_attempt_at <= now()
    ORDER BY o.next_attempt_at, o.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        SELECT * INTO v FROM mail_outbox o
        WHERE o.state = 'sending' AND o.lease_until < now()
        ORDER BY o.lease_until LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    UPDATE mail_outbox o
    SET state = 'sending', attempts = o.attempts + 1,
        lease_until = now() + make_interval(secs => p_lease_seconds),
        first_attempt_at = coalesce(o.first_attempt_at, now())
    WHERE o.id = v.id
    RETURNING * INTO v;
    message_id := v.id;
    attempt := v.attempts;
    payload := admit_mail_payload(v)::text;
END $$;

-- Records how attempt p_attempt of message p_id ended. p_outcome:
--   'sent'        delivered (recorded even if the lease ran out meanwhile: it was delivered)
--   'failed'      refused for good (5xx); p_error holds the server's reply
--   'superseded'  not sent: the registration changed again and a later message tells it
--   'retry'       back to pending, due again after p_retry_min * 2^(attempt - 1) seconds
--                 (at most p_retry_max), with +-25% jitter so that mailers do not align
-- Returns false when the message was no longer this attempt's (another mailer took it over).
CREATE FUNCTION admit_mail_finish(p_id bigint, p_attempt integer, p_outcome text, p_error text,
                                  p_retry_min integer, p_retry_max integer)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF p_outcome = 'sent' THEN
        UPDATE mail_outbox SET state = 'sent', finished_at = now(), lease_until = NULL,
                               last_error = ''
        WHERE id = p_id AND state IN ('sending', 'pending');
    ELSIF p_outcome IN ('failed', 'superseded') THEN
        UPDATE mail_outbox SET state = p_outcome::mail_state, finished_at = now(),
                               lease_until = NULL, last_error = left(p_error, 1000)
        WHERE id = p_id AND state = 'sending' AND attempts = p_attempt;
    ELSIF p_outcome = 'retry' THEN
        UPDATE mail_outbox
        SET state = 'pending', lease_until = NULL, last_error = left(p_error, 1000),
            next_attempt_at = now() + make_interval(secs =>
                least(p_retry_max::double precision,
                      p_retry_min * power(2, least(attempts - 1, 30)))
                * (0.75 + random() * 0.5))
        WHERE id = p_id AND state = 'sending' AND attempts = p_attempt;
    ELSE
        RAISE EXCEPTION 'unknown outcome "%"', p_outcome USING ERRCODE = '22023';
    END IF;
    RETURN FOUND;
END $$;

-- "Send my ticket again": requests of the last hour, kept as hashes (the address of someone who
-- is not registered is not stored), for throttling per address and per client address.
CREATE TABLE resend_requests (
    address_hash bytea NOT NULL,
    client_hash bytea NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resend_requests_address ON resend_requests (address_hash, requested_at);
CREATE INDEX resend_requests_client ON resend_requests (client_hash, requested_at);

-- Queues one message listing the live registrations of p_email for events that have not ended,
-- unless the address or the client asked too often within the hour. outcome: 'queued', 'none'
-- (no such registration: nothing is sent) or 'throttled'. The caller answers the same in every
-- case; the work done here is the same too, but for the one INSERT of a queued message.
CREATE FUNCTION admit_resend_request(p_email text, p_client text, p_per_address integer,
                                     p_per_client integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_address bytea := sha256(convert_to(lower(p_email), 'UTF8'));
    v_client bytea := sha256(convert_to(p_client, 'UTF8'));
    v_recipient text;
BEGIN
    -- Serialises requests for one address, so that the count below is exact. The two-key form
    -- of advisory locks does not collide with the events' one-key locks.
    PERFORM pg_advisory_xact_lock(4, hashtext(lower(p_email)));
    DELETE FROM resend_requests WHERE requested_at < now() - interval '1 hour';
    IF (SELECT count(*) FROM resend_requests WHERE address_hash = v_address) >= p_per_address
       OR (SELECT count(*) FROM resend_requests WHERE client_hash = v_client) >= p_per_client THEN
        RETURN 'throttled';
    END IF;
    INSERT INTO resend_requests (address_hash, client_hash) VALUES (v_address, v_client);
    SELECT r.email INTO v_recipient FROM registrations r
    WHERE r.event_id IN (SELECT id FROM events WHERE ends_at > now())
      AND lower(r.email) = lower(p_email) AND r.status <> 'cancelled'
    ORDER BY r.created_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN 'none';
    END IF;
    INSERT INTO mail_outbox (kind, recipient) VALUES ('resend', v_recipient);
    RETURN 'queued';
END $$;
