-- Migration 5: an admission's link to its registration is kept by its scan, not by a foreign key
-- of its own.
--
-- Every admission is written in the same transaction as a scan of the same registration, the
-- scan that admitted it (admit_checkin_scan, admit_admin_checkin and the door's group statement,
-- sql/queries/checkin_group.sql, are the only writers of admissions, and each writes one only
-- with that scan), and scans keep their foreign key to registrations. That key's check locks the registration's row (FOR KEY SHARE) until the
-- transaction ends, so an erasure (DELETE FROM registrations) either
--   - comes first: the check-in's scan then fails its foreign key check, and the admission goes
--     with the rolled-back transaction; or
--   - comes after: the DELETE waits for the check-in's commit, and the trigger below, which runs
--     after the DELETE with a snapshot of its own, sees and erases the admission.
-- So an admission never outlives its registration, and the foreign key of admissions only did a
-- second time what the scan's already does: a second lookup of the same row in every check-in
-- (about 5% of the door's throughput: bench/README.md, "Check-ins vs pgbench").
-- ON DELETE CASCADE becomes the trigger. TRUNCATE registrations needs CASCADE (scans and other
-- tables keep their keys), and the TRUNCATE trigger empties admissions with it.
ALTER TABLE admissions DROP CONSTRAINT admissions_registration_id_fkey;

CREATE FUNCTION admit_admissions_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE admissions;
    ELSE
        DELETE FROM admissions a USING erased e WHERE a.registration_id = e.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER registrations_erase_admissions AFTER DELETE ON registrations
    REFERENCING OLD TABLE AS erased
    FOR EACH STATEMENT EXECUTE FUNCTION admit_admissions_erase();
CREATE TRIGGER registrations_truncate_admissions AFTER TRUNCATE ON registrations
    FOR EACH STATEMENT EXECUTE FUNCTION admit_admissions_erase();
