-- PLACEHOLDER for migration 013, owned by another helper of issue 16: drop at merge.
SELECT 1;
