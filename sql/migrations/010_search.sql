-- Migration 10: finding people as organisers type their names (issue 16).
--
-- The attendee search ignores accents and case ("muller" finds "Müller", "universite" finds
-- "Université"), in either order of the names, and stays fast at 100,000 registrations: a
-- trigram index (pg_trgm) on the folded text of each registration serves LIKE '%...%'
-- (bench/search.sh measures it). Names sort as people expect across languages with ICU's root
-- collation ("und-x-icu"), in sql/queries/admin_attendees.sql.
--
-- unaccent and pg_trgm come with PostgreSQL (Debian's postgresql-15) and are trusted
-- extensions: the database's owner (the role that runs admit migrate) may create them.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Text folded for searching: accents off (unaccent's own dictionary, named, so that the result
-- depends on nothing but the text: IMMUTABLE, and usable in an index), lower case.
-- The names in these bodies are schema-qualified: pg_restore builds the index below with an
-- empty search_path (tests/integration/test_backup_restore.py restores one).
CREATE FUNCTION admit_fold(p_text text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(public.unaccent('public.unaccent'::regdictionary, coalesce(p_text, '')))
$$;

-- What the attendee search looks in: both orders of the names, the email, the organisation.
CREATE FUNCTION admit_registration_search_text(p_given text, p_family text, p_email text,
                                               p_organisation text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT public.admit_fold(p_given || ' ' || p_family || ' | ' || p_family || ' ' || p_given
                      || ' | ' || p_email || ' | ' || p_organisation)
$$;

CREATE INDEX registrations_search ON registrations
    USING gin (admit_registration_search_text(given_name, family_name, email, organisation)
               gin_trgm_ops);
