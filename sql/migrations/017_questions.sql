-- Issue 17, questions: each event's own questions, in order, and the answers of each
-- registration. Safe live: two new tables, new functions, and functions of earlier migrations
-- wrapped under their own names with the same signatures; the running release ignores answers.
-- A removed question is hidden from the form but keeps its answers (exports still show them).
-- A consent answer keeps the exact wording agreed to and when, and its withdrawal time.

CREATE TABLE event_questions (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id integer NOT NULL REFERENCES events ON DELETE CASCADE,
    position integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('short_text', 'long_text', 'radio', 'select', 'multi',
                                       'yes_no', 'number', 'date', 'consent')),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 500),
    help text NOT NULL DEFAULT '' CHECK (length(help) <= 1000),
    required boolean NOT NULL DEFAULT false,
    options text[] NOT NULL DEFAULT '{}' CHECK (cardinality(options) <= 50),
    at_door boolean NOT NULL DEFAULT false,
    removed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_questions_event ON event_questions (event_id, position);

CREATE TABLE registration_answers (
    registration_id integer NOT NULL REFERENCES registrations ON DELETE CASCADE,
    question_id integer NOT NULL REFERENCES event_questions ON DELETE CASCADE,
    value text NOT NULL CHECK (length(value) <= 5000),
    wording text,                 -- consent: the exact text the person agreed to
    answered_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,     -- consent withdrawn from the ticket page
    PRIMARY KEY (registration_id, question_id)
);
CREATE INDEX registration_answers_question ON registration_answers (question_id);

-- The limits (README, "Questions and consent").
CREATE FUNCTION admit_question_limits() RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('questions', 50, 'options', 50, 'label', 500, 'help', 1000,
                             'option', 200, 'at_door', 2, 'answer', 2000)
$$;

-- The questions people answer, in order, as the form shows them: [{id, kind, label, help,
-- required, options, at_door}]. p_removed: include removed ones (exports).
CREATE FUNCTION admit_questions_of(p_event integer, p_removed boolean) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'id', q.id, 'kind', q.kind, 'label', q.label, 'help', q.help,
               'required', q.required, 'options', to_json(q.options), 'at_door', q.at_door,
               'removed', q.removed_at IS NOT NULL)
               ORDER BY q.removed_at IS NOT NULL, q.position, q.id), '[]'::json)
    FROM event_questions q
    WHERE q.event_id = p_event AND (p_removed OR q.removed_at IS NULL)
$$;

-- The organisers' questions page: {event, questions, limits}; NULL when there is no such event or
-- the admin may not manage it.
CREATE FUNCTION admit_question_page_json(p_admin integer, p_slug text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('event', json_build_object('slug', e.slug, 'name', e.name),
                             'questions', admit_questions_of(e.id, false),
                             'limits', admit_question_limits())
    FROM events e
    WHERE e.slug = p_slug AND (p_admin IS NULL OR admit_admin_may(p_admin, e.id))
$$;

-- Adds (p_id NULL) or changes a question. Outcomes: saved, not_found, too_many (50 questions),
-- too_many_door (2 shown at the door). The event row is locked so two organisers adding at once
-- cannot pass the limit together. Values are checked by the caller; the table's CHECKs back it.
CREATE FUNCTION admit_question_save(p_admin integer, p_slug text, p_id integer, p_kind text,
                                    p_label text, p_help text, p_required boolean,
                                    p_options text[], p_at_door boolean)
RETURNS TABLE (outcome text, question_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_event integer;
    v_id integer;
BEGIN
    SELECT e.id INTO v_event FROM events e
    WHERE e.slug = p_slug AND (p_admin IS NULL OR admit_admin_may(p_admin, e.id))
    FOR UPDATE;
    IF v_event IS NULL THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::integer; RETURN;
    END IF;
    IF p_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM event_questions q WHERE q.id = p_id
            AND q.event_id = v_event AND q.removed_at IS NULL) THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::integer; RETURN;
    END IF;
    IF p_id IS NULL AND (SELECT count(*) FROM event_questions q WHERE q.event_id = v_event
                         AND q.removed_at IS NULL) >= 50 THEN
        RETURN QUERY SELECT 'too_many'::text, NULL::integer; RETURN;
    END IF;
    IF p_at_door AND (SELECT count(*) FROM event_questions q WHERE q.event_id = v_event
                      AND q.removed_at IS NULL AND q.at_door
                      AND q.id IS DISTINCT FROM p_id) >= 2 THEN
        RETURN QUERY SELECT 'too_many_door'::text, NULL::integer; RETURN;
    END IF;
    IF p_id IS NULL THEN
        INSERT INTO event_questions (event_id, position, kind, label, help, required, options,
                                     at_door)
        VALUES (v_event, coalesce((SELECT max(q.position) FROM event_questions q
                                   WHERE q.event_id = v_event), 0) + 1,
                p_kind, p_label, p_help, p_required, p_options, p_at_door)
        RETURNING id INTO v_id;
    ELSE
        UPDATE event_questions q SET kind = p_kind, label = p_label, help = p_help,
               required = p_required, options = p_options, at_door = p_at_door
        WHERE q.id = p_id RETURNING q.id INTO v_id;
    END IF;
    RETURN QUERY SELECT 'saved'::text, v_id;
END;
$$;

-- Removes (soft: its answers stay in the exports) or moves a question one place (p_action
-- 'remove', 'up', 'down'). Returns false when there is no such question of an event the admin
-- manages.
CREATE FUNCTION admit_question_act(p_admin integer, p_slug text, p_id integer, p_action text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_event integer;
    v_pos integer;
    v_other integer;
    v_other_pos integer;
BEGIN
    SELECT e.id INTO v_event FROM events e
    WHERE e.slug = p_slug AND (p_admin IS NULL OR admit_admin_may(p_admin, e.id))
    FOR UPDATE;
    SELECT q.position INTO v_pos FROM event_questions q
    WHERE q.id = p_id AND q.event_id = v_event AND q.removed_at IS NULL;
    IF v_pos IS NULL THEN
        RETURN false;
    END IF;
    IF p_action = 'remove' THEN
        UPDATE event_questions SET removed_at = now(), at_door = false WHERE id = p_id;
        RETURN true;
    END IF;
    SELECT q.id, q.position INTO v_other, v_other_pos FROM event_questions q
    WHERE q.event_id = v_event AND q.removed_at IS NULL AND q.id <> p_id
      AND CASE WHEN p_action = 'up' THEN q.position < v_pos ELSE q.position > v_pos END
    ORDER BY CASE WHEN p_action = 'up' THEN -q.position ELSE q.position END
    LIMIT 1;
    IF v_other IS NOT NULL THEN
        UPDATE event_questions SET position = v_other_pos WHERE id = p_id;
        UPDATE event_questions SET position = v_pos WHERE id = v_other;
    END IF;
    RETURN true;
END;
$$;

-- Stores the answers of a registration just made, in the registration's own statement (see
-- sql/queries/register.sql): p_answers {"question id": "value"} as checked by the form. Nothing
-- is stored for another outcome (a duplicate submission keeps the first answers). Questions not
-- of the registration's event or removed meanwhile are ignored; a consent keeps its wording.
CREATE FUNCTION admit_answers_save(p_registration integer, p_outcome text, p_answers jsonb)
RETURNS integer
LANGUAGE sql AS $$
    WITH saved AS (
        INSERT INTO registration_answers (registration_id, question_id, value, wording)
        SELECT r.id, q.id, a.value,
               CASE WHEN q.kind = 'consent'
                    THEN q.label || CASE WHEN q.help <> '' THEN E'\n' || q.help ELSE '' END END
        FROM registrations r
        JOIN jsonb_each_text(coalesce(p_answers, '{}'::jsonb)) a ON true
        JOIN event_questions q ON q.id::text = a.key AND q.event_id = r.event_id
                              AND q.removed_at IS NULL
        WHERE r.id = p_registration AND p_outcome = 'created' AND a.value <> ''
        RETURNING 1)
    SELECT count(*)::integer FROM saved
$$;

-- The answers of one registration, every question of its event (removed ones too) in order:
-- [{question, kind, value, wording, answered_at, withdrawn_at, at_door}].
CREATE FUNCTION admit_answers_json(p_registration integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'question', q.label, 'kind', q.kind, 'question_id', q.id,
               'value', a.value, 'wording', a.wording,
               'answered_at', admit_api_time(a.answered_at),
               'withdrawn_at', admit_api_time(a.withdrawn_at), 'at_door', q.at_door,
               'optional', NOT q.required)
               ORDER BY q.removed_at IS NOT NULL, q.position, q.id), '[]'::json)
    FROM registration_answers a JOIN event_questions q ON q.id = a.question_id
    WHERE a.registration_id = p_registration
$$;

-- Withdraws an optional consent given with the registration whose access token is p_token.
-- Returns false when there is no such consent or it is already withdrawn.
CREATE FUNCTION admit_consent_withdraw(p_token text, p_question integer) RETURNS boolean
LANGUAGE sql AS $$
    WITH w AS (
        UPDATE registration_answers a SET withdrawn_at = now()
        FROM registrations r, event_questions q
        WHERE r.token = p_token AND a.registration_id = r.id AND a.question_id = p_question
          AND q.id = a.question_id AND q.kind = 'consent' AND NOT q.required
          AND a.withdrawn_at IS NULL
        RETURNING a.registration_id),
    -- The door's delta sync must carry the change: the registration is touched (change_xid).
    t AS (
        UPDATE registrations r SET change_xid = pg_current_xact_id()
        WHERE r.id IN (SELECT registration_id FROM w)
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM w)
$$;

-- One answer as the exports show it: the value; a consent as "yes (agreed YYYY-MM-DD HH:MM:SS)"
-- or "withdrawn YYYY-MM-DD HH:MM:SS (agreed ...)", in the event's time zone. '' when unanswered.
CREATE FUNCTION admit_answer_export(p_kind text, p_value text, p_answered timestamptz,
                                    p_withdrawn timestamptz, p_zone text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_value IS NULL THEN ''
        WHEN p_kind <> 'consent' THEN p_value
        WHEN p_withdrawn IS NOT NULL THEN
            'withdrawn ' || (p_withdrawn AT TIME ZONE p_zone)::timestamp(0)::text
            || ' (agreed ' || (p_answered AT TIME ZONE p_zone)::timestamp(0)::text || ')'
        ELSE 'yes (agreed ' || (p_answered AT TIME ZONE p_zone)::timestamp(0)::text || ')'
    END
$$;

-- The answers of registration p_registration as a JSON array of strings, one per question of
-- event p_event (removed ones last), in the order of admit_export_questions: the registrations
-- export's last columns.
CREATE FUNCTION admit_answers_row(p_event integer, p_registration integer, p_zone text)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(admit_answer_export(q.kind, a.value, a.answered_at, a.withdrawn_at,
                                                 p_zone)
                             ORDER BY q.removed_at IS NOT NULL, q.position, q.id), '[]'::json)::text
    FROM event_questions q
    LEFT JOIN registration_answers a ON a.question_id = q.id
                                    AND a.registration_id = p_registration
    WHERE q.event_id = p_event
$$;

-- The export's question columns: one header per question, removed ones last and marked.
CREATE FUNCTION admit_export_questions(p_event integer) RETURNS TABLE (header text)
LANGUAGE sql STABLE AS $$
    SELECT q.label || CASE WHEN q.removed_at IS NOT NULL THEN ' (removed)' ELSE '' END
    FROM event_questions q WHERE q.event_id = p_event
    ORDER BY q.removed_at IS NOT NULL, q.position, q.id
$$;

-- The answers of a registration as messages and pages show them: [{question, value}] in the
-- form's order (removed questions left out), consents with their time (admit_answer_export).
CREATE FUNCTION admit_answers_shown(p_registration integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'question', q.label,
               'value', admit_answer_export(q.kind, a.value, a.answered_at, a.withdrawn_at,
                                            e.time_zone))
               ORDER BY q.position, q.id), '[]'::json)
    FROM registration_answers a
    JOIN event_questions q ON q.id = a.question_id AND q.removed_at IS NULL
    JOIN events e ON e.id = q.event_id
    WHERE a.registration_id = p_registration
$$;

-- The mail payload, plus the answers to the event's questions (the confirmation email lists
-- them), wrapped under its own name as migration 13 did.
ALTER FUNCTION admit_mail_payload(mail_outbox) RENAME TO admit_mail_payload_before_017;
CREATE FUNCTION admit_mail_payload(o mail_outbox) RETURNS json LANGUAGE sql AS $$
    SELECT (admit_mail_payload_before_017(o)::jsonb
            || jsonb_build_object('answers', admit_answers_shown(o.registration_id)))::json
$$;

-- The answers of a registration on the organisers' attendee page: every answer, removed
-- questions' too (marked), consents with the exact wording agreed to.
CREATE FUNCTION admit_answers_admin(p_registration integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'question', q.label || CASE WHEN q.removed_at IS NOT NULL THEN ' (removed)'
                                           ELSE '' END,
               'value', admit_answer_export(q.kind, a.value, a.answered_at, a.withdrawn_at,
                                            e.time_zone),
               'wording', a.wording)
               ORDER BY q.removed_at IS NOT NULL, q.position, q.id), '[]'::json)
    FROM registration_answers a
    JOIN event_questions q ON q.id = a.question_id
    JOIN events e ON e.id = q.event_id
    WHERE a.registration_id = p_registration
$$;

-- The door: the answers the organiser picked (at_door, two at most) as one short line shown next
-- to the name, e.g. "Wheelchair: yes · Photos of me may be published: no". A consent not given
-- or withdrawn shows "no". Bounded (each label and value cut to 40 characters; control
-- characters, which validation already refuses, replaced) so that the offline snapshot stays
-- small. NULL when the event shows nothing at the door.
-- PL/pgSQL, not SQL: a SQL function that cannot be inlined is planned again at every call, on
-- the door's path (every check-in); PL/pgSQL keeps its plan. Measured with this and the wrapper
-- below as SQL functions, then as PL/pgSQL (bench/checkin_online.sh build-bench 8 2 8 10, same
-- machine, same hour): 3,301 and 3,273 scans/s, then 4,412 (5,067 and 5,234 before migration 17).
CREATE FUNCTION admit_door_note(p_registration integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT string_agg(
               regexp_replace(left(q.label, 40), '[[:cntrl:]]', ' ', 'g') || ': '
               || regexp_replace(left(CASE
                      WHEN q.kind = 'consent' THEN
                          CASE WHEN a.value = 'yes' AND a.withdrawn_at IS NULL THEN 'yes'
                               ELSE 'no' END
                      ELSE coalesce(nullif(a.value, ''), '—') END, 40), '[[:cntrl:]]', ' ', 'g'),
               ' · ' ORDER BY q.position, q.id)
    FROM registrations r
    JOIN event_questions q ON q.event_id = r.event_id AND q.at_door AND q.removed_at IS NULL
    LEFT JOIN registration_answers a ON a.question_id = q.id AND a.registration_id = r.id
    WHERE r.id = p_registration);
END $$;

-- The check-in API's answers with the door note ("door") of each ticket's registration.
ALTER FUNCTION admit_checkin(bytea, jsonb) RENAME TO admit_checkin_before_017;
CREATE FUNCTION admit_checkin(p_token_hash bytea, p_scans jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_answers jsonb := admit_checkin_before_017(p_token_hash, p_scans);
BEGIN
    IF v_answers IS NULL OR jsonb_typeof(v_answers) <> 'array' THEN
        RETURN v_answers;
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(CASE WHEN d.note IS NOT NULL
                                           THEN x || jsonb_build_object('door', d.note)
                                           ELSE x END ORDER BY o), '[]'::jsonb)
            FROM jsonb_array_elements(v_answers) WITH ORDINALITY AS t(x, o)
            CROSS JOIN LATERAL (SELECT CASE WHEN x ? 'registration_id' AND x ? 'name'
                                            THEN admit_door_note((x ->> 'registration_id')::integer)
                                       END AS note) d);
END $$;

-- The offline snapshot's registrations with their door note ("door", only when there is one).
-- A withdrawal of consent touches the registration (change_xid), so a delta sync carries it.
ALTER FUNCTION admit_sync(bytea, text, text, json) RENAME TO admit_sync_before_017;
CREATE FUNCTION admit_sync(p_token_hash bytea, p_slug text, p_since text, p_keys json,
                           OUT outcome text, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT s.outcome,
           CASE WHEN s.body IS NULL THEN NULL
           ELSE (s.body::jsonb || jsonb_build_object('registrations', (
                    SELECT coalesce(jsonb_agg(CASE
                               WHEN admit_door_note((x ->> 'id')::integer) IS NOT NULL
                               THEN x || jsonb_build_object('door',
                                             admit_door_note((x ->> 'id')::integer))
                               ELSE x END ORDER BY o), '[]'::jsonb)
                    FROM json_array_elements(s.body -> 'registrations')
                         WITH ORDINALITY AS t(xj, o), LATERAL (SELECT xj::jsonb AS x) j)))::json
           END
    FROM admit_sync_before_017(p_token_hash, p_slug, p_since, p_keys) s
$$;

-- The consents of a registration on its ticket page: the wording agreed to, when, and whether
-- withdrawn (an optional one may be, from there: admit_consent_withdraw).
CREATE FUNCTION admit_ticket_consents(p_registration integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'question_id', q.id, 'wording', a.wording,
               'agreed', to_char(a.answered_at AT TIME ZONE e.time_zone,
                                 'FMDD FMMonth YYYY, HH24:MI'),
               'withdrawn', to_char(a.withdrawn_at AT TIME ZONE e.time_zone,
                                    'FMDD FMMonth YYYY, HH24:MI'),
               'may_withdraw', NOT q.required AND a.withdrawn_at IS NULL)
               ORDER BY q.position, q.id), '[]'::json)
    FROM registration_answers a
    JOIN event_questions q ON q.id = a.question_id AND q.kind = 'consent'
    JOIN events e ON e.id = q.event_id
    WHERE a.registration_id = p_registration
$$;

-- Personal data (README, "Personal data"): anonymising a registration erases its answers
-- (consents included); wrapped under its own name as migration 13 did.
ALTER FUNCTION admit_anonymise(integer[]) RENAME TO admit_anonymise_before_017;
CREATE FUNCTION admit_anonymise(p_ids integer[]) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM registration_answers a
    USING registrations r
    WHERE a.registration_id = r.id AND r.id = ANY (p_ids) AND r.anonymised_at IS NULL;
    RETURN admit_anonymise_before_017(p_ids);
END $$;

-- Everything held about a person (admit_access_json) includes their answers, consents with
-- their wording and times: "answers" beside each registration.
ALTER FUNCTION admit_access_json(integer[]) RENAME TO admit_access_json_before_017;
CREATE FUNCTION admit_access_json(p_ids integer[]) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN a.doc IS NULL THEN NULL
           ELSE (a.doc::jsonb || jsonb_build_object('registrations', (
                    SELECT coalesce(jsonb_agg(x || jsonb_build_object('answers',
                               admit_answers_json(((x -> 'registration') ->> 'id')::integer)::jsonb)
                               ORDER BY o), '[]'::jsonb)
                    FROM jsonb_array_elements(a.doc::jsonb -> 'registrations')
                         WITH ORDINALITY AS t(x, o))))::json END
    FROM (SELECT admit_access_json_before_017(p_ids) AS doc) a
$$;
