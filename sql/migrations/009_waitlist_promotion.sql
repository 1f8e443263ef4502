-- Migration 9: the waiting list is served whenever seats appear (issue 16).
--
-- Until now only a cancellation gave its seat to the first person waiting; raising an event's
-- capacity put the new seats in the pool, where the next person to register took one ahead of
-- everyone waiting. admit_waitlist_promote is now the one way seats reach the waiting list: a
-- cancellation calls it for its seat (admit_seat_release), a capacity change for every seat it
-- adds (admit_seats_resize), both under the event's advisory lock and in the caller's
-- transaction, so that the seats are promoted before anyone else can see them: a registration
-- running at the same time finds them taken (its seat check waits for the lock) and joins the
-- waiting list behind the people promoted. Each promotion is a status change to 'confirmed',
-- which the outbox trigger of migration 4 turns into the "you have a seat" email at commit.

-- Confirms up to p_seats people of the event's waiting list, first come first served; returns
-- their registration ids in that order. The caller holds the event's advisory lock.
CREATE FUNCTION admit_waitlist_promote(p_event_id integer, p_seats integer)
RETURNS integer[] LANGUAGE sql AS $$
    WITH next AS (
        SELECT id FROM registrations
        WHERE event_id = p_event_id AND status = 'waitlisted'
        ORDER BY id LIMIT greatest(p_seats, 0) FOR UPDATE
    ), promoted AS (
        UPDATE registrations r SET status = 'confirmed', confirmed_at = now()
        FROM next WHERE r.id = next.id
        RETURNING r.id
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM promoted
$$;

-- As in migration 1: a freed seat goes to the first person waiting, else back to the pool.
CREATE OR REPLACE FUNCTION admit_seat_release(p_event_id integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_promoted integer[] := admit_waitlist_promote(p_event_id, 1);
    -- Drawn once: random() in the WHERE clause would be drawn again for every row.
    v_shard integer := floor(random() * admit_seat_shards());
BEGIN
    IF cardinality(v_promoted) = 1 THEN
        RETURN v_promoted[1];
    END IF;
    UPDATE event_seats SET free = free + 1 WHERE event_id = p_event_id AND shard = v_shard;
    RETURN NULL;
END $$;

-- As in migration 1, and the seats a larger capacity adds go to the waiting list first.
CREATE OR REPLACE FUNCTION admit_seats_resize(p_event_id integer, p_capacity integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_free integer;
    v_shards integer := admit_seat_shards();
BEGIN
    PERFORM pg_advisory_xact_lock(p_event_id);
    PERFORM 1 FROM event_seats WHERE event_id = p_event_id FOR UPDATE;
    SELECT p_capacity - count(*) INTO v_free
    FROM registrations WHERE event_id = p_event_id AND status = 'confirmed';
    IF v_free < 0 THEN
        RAISE EXCEPTION 'capacity % is below the % confirmed registrations',
            p_capacity, p_capacity - v_free USING ERRCODE = '22023';
    END IF;
    v_free := v_free - cardinality(admit_waitlist_promote(p_event_id, v_free));
    DELETE FROM event_seats WHERE event_id = p_event_id;
    INSERT INTO event_seats (event_id, shard, free)
    SELECT p_event_id, s, v_free / v_shards + CASE WHEN s < v_free % v_shards THEN 1 ELSE 0 END
    FROM generate_series(0, v_shards - 1) AS s;
    UPDATE events SET capacity = p_capacity WHERE id = p_event_id;
END $$;
