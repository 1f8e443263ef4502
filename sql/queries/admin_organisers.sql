-- The organisers' page: every organiser and every event as JSON; NULL unless the admin manages
-- organisers.
-- $1 admin id.
SELECT admit_admin_list_json($1::integer)::text
