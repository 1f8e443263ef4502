-- PLACEHOLDER on branch issue20-print only, so that 016 applies (no gaps): drop at merge.
SELECT 1;
