-- admit purge: the retention work due now, as a JSON object of counts (see admit_purge).
-- $1 dry run ('true': count only, change nothing).
SELECT admit_purge($1::boolean)::text
