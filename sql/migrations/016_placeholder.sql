-- PLACEHOLDER on branch issue20-rest only, so that 018 applies (no gaps): drop at merge; the
-- real 016 comes from another helper (issue 17).
SELECT 1;
