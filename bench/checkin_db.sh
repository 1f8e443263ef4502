# shellcheck shell=bash
# Sourced by bench/checkin_online.sh and bench/checkin_statement.sh: the door benchmarks'
# database. checkin_db_setup ADMIT WORK TOTAL starts a private PostgreSQL in WORK/pg (scripts/pg:
# durable commits, as the tests run it) and creates in it the database "bench", migrated, with
# an event "bench" of one check-in list ("Day 1"), TOTAL confirmed registrations on that list
# (bulk-inserted), the device "SQL door" whose token hashes to sha256('bench-sql') (it never goes
# over HTTP), and checkin_baseline, the bare check-in's table (the primary key of admissions).
# ADMIT is the admit CLI to migrate and create the event with. Sets dsn, event_id, list_id and
# first_id (the lowest registration id) for the caller.
# shellcheck disable=SC2034 # the variables it sets are its results
checkin_db_setup() {
    local admit=$1 work=$2 total=$3
    local top
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    "$top/scripts/pg" start "$work/pg" >/dev/null
    psql -XqAt -d "host=$work/pg/run dbname=admit user=admit" -c "CREATE DATABASE bench" >/dev/null
    dsn="host=$work/pg/run dbname=bench user=admit"
    "$admit" migrate --db "$dsn" >/dev/null
    "$admit" event create --db "$dsn" --slug bench --name "Benchmark" --starts "2099-10-29 09:00" \
        --ends "2099-10-30 18:00" --capacity 1000000 --list "Day 1" >/dev/null
    event_id=$(psql -XqAt -d "$dsn" -c "SELECT id FROM events WHERE slug = 'bench'")
    list_id=$(psql -XqAt -d "$dsn" -c "SELECT id FROM checkin_lists WHERE event_id = $event_id")
    psql -XqAt -d "$dsn" -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
INSERT INTO registrations (event_id, token, form_nonce, status, given_name, family_name, email,
                           organisation, organisation_type, country, consent_at, confirmed_at)
SELECT $event_id, left(md5('t' || g), 21) || 'A', 'nonce-' || md5('n' || g), 'confirmed',
       'Guest', 'Number ' || g, 'guest' || g || '@example.org', 'Org ' || g, 'research', 'BE',
       now(), now()
FROM generate_series(1, $total) AS g;
INSERT INTO registration_lists (registration_id, list_id)
SELECT id, $list_id FROM registrations WHERE event_id = $event_id;
COMMIT;
CREATE TABLE checkin_baseline (registration_id integer NOT NULL, list_id integer NOT NULL,
                               first_at timestamptz NOT NULL, first_gate text NOT NULL,
                               PRIMARY KEY (registration_id, list_id));
SELECT admit_device_add('bench', 'SQL door', sha256('bench-sql'));
VACUUM ANALYZE;
-- Write the bulk load's pages now: a checkpoint spreading them over the first minutes would
-- compete with the measured commits' flushes (the first rounds came out twice as slow).
CHECKPOINT;
SQL
    first_id=$(psql -XqAt -d "$dsn" -c "SELECT min(id) FROM registrations")
}
