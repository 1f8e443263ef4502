-- PLACEHOLDER: migration 014 belongs to another helper; drop this file at merge.
SELECT 1;
